package progress

import (
	"context"
	"slices"
	"strings"

	"github.com/xunji-bot/xunji/bot"
)

// Words of the office's manual runs.
var (
	previewWords    = []string{"preview", "预览", "查看"}
	startWords      = []string{"start", "发起", "开始", "启动"}
	stationedWords  = []string{"stationed", "派驻", "派驻组", "派驻督查"}
	supervisorWords = []string{"supervisor", "派出", "监察员", "派出监察员", "监督检查"}
)

// collectCmd: progress collect preview|start (进度 征集 预览|发起). The
// inspection office previews which units and items this month's
// collection asks about, as of now, or starts it now instead of waiting
// for the schedule; the scheduled run then finds it started and does
// nothing. A started collection is never started twice.
func (h *handler) collectCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	start, err := previewOrStart(req)
	if err != nil {
		return nil, err
	}
	if len(req.Command.Args) > 1 {
		return nil, bot.UsageError(req, "progress.error.bad_filter", "input", req.Command.Arg(1))
	}
	lang, r, now := req.Lang, req.Roster, h.b.Now().In(h.b.Loc)
	month := MonthID(now, h.b.Loc)
	m, err := h.months.Get(ctx, month)
	switch {
	case err == nil && !m.StartedAt.IsZero():
		return bot.Text(h.t(lang, "progress.collect.already", "month", h.monthLabel(lang, month), "time", bot.FormatTime(m.StartedAt, h.b.Loc),
			"deadline", bot.FormatDate(m.Deadline, h.b.Loc), "units", len(m.Units))), nil
	case err != nil && !bot.IsNotFound(err):
		return nil, err
	}
	plan, err := h.planCollection(ctx, r, now)
	if err != nil {
		return nil, err
	}
	if len(plan.units) == 0 {
		return bot.Text(h.t(lang, "progress.collect.nothing", "month", h.monthLabel(lang, month))), nil
	}
	nItems := 0
	var lines []string
	for _, u := range plan.units {
		nItems += len(u.Items)
		lines = append(lines, "• "+h.t(lang, "progress.collect.unit", "unit", r.BodyName(u.Unit, lang), "count", len(u.Items), "items", strings.Join(u.Items, h.t(lang, "list.sep"))))
	}
	args := []any{"month", h.monthLabel(lang, month), "units", len(plan.units), "items", nItems, "deadline", bot.FormatDate(plan.deadline, h.b.Loc)}
	if !start {
		return bot.Text(h.t(lang, "progress.collect.preview", args...) + "\n" + strings.Join(lines, "\n") + "\n" + h.t(lang, "progress.collect.preview_hint")), nil
	}
	started, err := h.startCollection(ctx, req, now)
	if err != nil {
		return nil, err
	}
	if started == nil { // started meanwhile by the schedule or another click
		return bot.Text(h.t(lang, "progress.collect.already", "month", h.monthLabel(lang, month), "time", bot.FormatTime(now, h.b.Loc),
			"deadline", bot.FormatDate(plan.deadline, h.b.Loc), "units", len(plan.units))), nil
	}
	return bot.Text(h.t(lang, "progress.collect.started", args...) + "\n" + strings.Join(lines, "\n")), nil
}

// checksCmd: progress checks preview|start [stationed|supervisor] (进度
// 督查通知 预览|发起 [派驻|派出]). The office previews, as of now, which
// stationed groups and supervisor offices this month's relay check
// prompts go to and with which items, or sends them now; a body already
// prompted this month is not prompted again.
func (h *handler) checksCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	start, err := previewOrStart(req)
	if err != nil {
		return nil, err
	}
	kinds := []CheckKind{CheckStationed, CheckSupervisor}
	switch w := req.Command.Arg(1); {
	case w == "":
	case hasWord(stationedWords, w):
		kinds = kinds[:1]
	case hasWord(supervisorWords, w):
		kinds = kinds[1:]
	default:
		return nil, bot.UsageError(req, "progress.error.check_kind", "input", w)
	}
	lang, r, now := req.Lang, req.Roster, h.b.Now().In(h.b.Loc)
	month := MonthID(now, h.b.Loc)
	var lines []string
	for _, kind := range kinds {
		plans, err := h.planChecks(ctx, r, kind, now)
		if err != nil {
			return nil, err
		}
		var prompted []string
		if start {
			if prompted, err = h.startChecks(ctx, req, kind, now); err != nil {
				return nil, err
			}
		}
		lines = append(lines, h.t(lang, "progress.checks.kind."+string(kind)))
		if len(plans) == 0 {
			lines = append(lines, "• "+h.t(lang, "progress.checks.none"))
		}
		for _, pl := range plans {
			ids := make([]string, 0, len(pl.list))
			for _, it := range pl.list {
				ids = append(ids, it.ID)
			}
			state := "progress.checks.state.pending"
			switch _, err := h.checks.Get(ctx, CheckID(kind, pl.body.ID, month)); {
			case start && slices.Contains(prompted, pl.body.ID):
				state = "progress.checks.state.sent"
			case err == nil:
				state = "progress.checks.state.already"
			case !bot.IsNotFound(err):
				return nil, err
			}
			lines = append(lines, "• "+h.t(lang, "progress.checks.body", "body", pl.body.DisplayName(lang), "count", len(ids),
				"items", strings.Join(ids, h.t(lang, "list.sep")), "state", h.t(lang, state)))
		}
	}
	head := "progress.checks.preview"
	if start {
		head = "progress.checks.started"
	}
	return bot.Text(h.t(lang, head, "month", h.monthLabel(lang, month)) + "\n" + strings.Join(lines, "\n")), nil
}

// previewOrStart reads the first argument: preview (false) or start
// (true).
func previewOrStart(req *bot.Request) (bool, error) {
	switch w := req.Command.Arg(0); {
	case hasWord(previewWords, w):
		return false, nil
	case hasWord(startWords, w):
		return true, nil
	case w == "":
		return false, bot.UsageError(req, "progress.error.preview_or_start")
	default:
		return false, bot.UsageError(req, "progress.error.preview_or_start_word", "input", w)
	}
}
