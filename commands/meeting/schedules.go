package meeting

import (
	"context"
	"fmt"
	"strings"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/schedule"
)

// listRuns is how many next runs the schedule listing shows.
const listRuns = 3

func (m *handler) scheduleCommand() *bot.Command {
	return &bot.Command{Name: "schedule", Aliases: []string{"日程", "计划", "schedules"}, Allow: bot.AdminOnly, Run: m.schedules}
}

// schedules handles "schedule [name]" (administrators): every schedule
// with its rule, task, target, its next runs and its last run, so people
// can check the rules before they fire.
func (m *handler) schedules(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	lang := req.Lang
	t := func(key string, args ...any) string { return m.b.T(lang, key, args...) }
	only := strings.ToLower(req.Command.Arg(0))
	var blocks []string
	for _, s := range m.scheds {
		if only != "" && s.Name != only && !strings.EqualFold(s.Title, only) {
			continue
		}
		blocks = append(blocks, m.describe(ctx, req, s))
	}
	switch {
	case only != "" && len(blocks) == 0:
		var names []string
		for _, s := range m.scheds {
			names = append(names, s.Name)
		}
		return nil, bot.UsageError(req, "schedule.err.unknown", "name", only, "names", strings.Join(names, ", "))
	case len(blocks) == 0:
		return bot.Text(t("schedule.list.empty")), nil
	}
	head := t("schedule.list.header", "count", len(blocks), "zone", m.b.Loc.String(), "now", m.when(lang, req.Time))
	return bot.Text(head + "\n\n" + strings.Join(blocks, "\n\n")), nil
}

// describe is one schedule's block in the listing.
func (m *handler) describe(ctx context.Context, req *bot.Request, s *schedule.Schedule) string {
	lang := req.Lang
	t := func(key string, args ...any) string { return m.b.T(lang, key, args...) }
	group := t("schedule.item.default_group")
	switch {
	case s.Group != "":
		group = m.groupName(s.Group)
	case s.Task == TaskNotice:
		group = m.groupName(m.cfg.NoticeGroup("meeting"))
	}
	lines := []string{
		t("schedule.item.title", "title", s.Label(), "name", s.Name),
		t("schedule.item.rule", "rule", s.Rule.Describe(t)),
		t("schedule.item.task", "task", s.Task, "group", group),
	}
	if _, ok := m.b.Jobs.Task(s.Task); !ok {
		lines = append(lines, t("schedule.item.no_task", "task", s.Task))
	}
	lead := t("schedule.lead.none")
	if !s.Lead.IsZero() {
		lead = s.Lead.Describe(t)
	}
	catchUp := t("schedule.catch_up.none")
	switch {
	case s.SameDay:
		catchUp = t("schedule.catch_up.same_day")
	case s.CatchUp > 0:
		catchUp = schedule.DescribeDuration(s.CatchUp, t)
	}
	lines = append(lines, t("schedule.item.policy", "lead", lead, "holiday", t("schedule.holiday."+s.OnHoliday), "catch_up", catchUp))
	next := s.NextN(req.Time, listRuns)
	if len(next) == 0 {
		lines = append(lines, t("schedule.item.never"))
	}
	for i, o := range next {
		line := fmt.Sprintf("  %d. %s", i+1, m.when(lang, o.At))
		if !s.Lead.IsZero() {
			line += t("schedule.item.fire", "time", m.when(lang, o.Fire))
		}
		if o.Moved() {
			why := t("schedule.item.dayoff")
			if o.Holiday != "" {
				why = m.holiday(lang, o.Holiday)
			}
			line += t("schedule.item.moved", "planned", bot.FormatDate(o.Planned, m.b.Loc), "why", why)
		}
		lines = append(lines, line)
	}
	st, err := schedule.LoadState(ctx, m.b.Store, s.Name)
	switch {
	case err != nil:
		m.b.Log.Error("schedule state", "schedule", s.Name, "err", err)
		lines = append(lines, t("schedule.item.last_unknown"))
	case st.LastAt.IsZero() && st.LastStatus == "":
		lines = append(lines, t("schedule.item.last_never"))
	default:
		by := st.RanBy
		if by == "" {
			by = "-"
		}
		last := t("schedule.item.last", "time", m.when(lang, st.LastAt), "status", t("schedule.status."+st.LastStatus), "by", by)
		if st.LastAt.IsZero() {
			last = t("schedule.item.last_never")
		}
		lines = append(lines, last)
		if st.LastStatus == schedule.StatusFailed && !st.Pending.IsZero() {
			lines = append(lines, t("schedule.item.failing", "time", m.when(lang, st.Pending), "count", st.Failures))
		}
	}
	return strings.Join(lines, "\n")
}
