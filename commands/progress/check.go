package progress

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// checkKinds maps each relay check to the party kind that runs it.
var checkKinds = map[CheckKind]bot.PartyKind{
	CheckStationed:  bot.StationedGroup,
	CheckSupervisor: bot.SupervisorOffice,
}

// checkPlan is one body's relay check as planned at a moment: the items
// it supervises to list.
type checkPlan struct {
	body bot.Body
	list []*Item
}

// planChecks works out, as of at, which bodies of kind's party get a
// check prompt and with which items: the items each supervises that
// are in progress, awaiting closing, or closed within two months.
func (h *handler) planChecks(ctx context.Context, r *bot.Roster, kind CheckKind, at time.Time) ([]checkPlan, error) {
	// Closed within two months or not closed: read from the index of
	// the open, awaiting and lately closed items, not every item.
	all, err := current(ctx, h.b.Store, at.AddDate(0, -2, 0))
	if err != nil {
		return nil, err
	}
	sortItems(r, all)
	var out []checkPlan
	for _, body := range r.BodiesOf(checkKinds[kind]) {
		var list []*Item
		for _, it := range all {
			if it.SupervisedBy(body.ID) && !it.CreatedAt.After(at) && (it.OpenAt(at) || it.AwaitingAt(at) || it.DoneAt.After(at.AddDate(0, -2, 0))) {
				list = append(list, it)
			}
		}
		if len(list) > 0 {
			out = append(out, checkPlan{body: body, list: list})
		}
	}
	return out, nil
}

// promptChecks is the task progress.stationed_check (every month) or
// progress.supervisor_check (every two months; the cadence is the
// schedule's): each body of the kind that supervises items is asked to
// run its check, with the list of the items it supervises and their
// state as of the moment the run starts, and to record the result with
// "progress check". One check per body and month; a repeated run does
// nothing.
func (h *handler) promptChecks(ctx context.Context, kind CheckKind, at time.Time) error {
	_, err := h.startChecks(ctx, nil, kind, h.runTime(at))
	return err
}

// startChecks prompts the checks of kind for at's month as of at, for
// req (nil for the scheduler), and returns the bodies prompted now.
func (h *handler) startChecks(ctx context.Context, req *bot.Request, kind CheckKind, at time.Time) ([]string, error) {
	period := MonthID(at, h.b.Loc)
	r, err := h.b.People.Roster(ctx)
	if err != nil {
		return nil, err
	}
	plans, err := h.planChecks(ctx, r, kind, at)
	if err != nil {
		return nil, err
	}
	var prompted []string
	var errs []error
	for _, pl := range plans {
		body, list := pl.body, pl.list
		c := &Check{ID: CheckID(kind, body.ID, period), Kind: kind, Body: body.ID, Period: period, PromptedAt: at}
		for _, it := range list {
			c.Items = append(c.Items, it.ID)
		}
		if err := createCheck(ctx, h.b.Store, c); err != nil {
			if bot.ErrorCode(err) != bot.ECONFLICT {
				errs = append(errs, err)
			}
			continue
		}
		if err := h.b.Audit.Record(ctx, req, "progress.check.prompt", c.ID, fmt.Sprintf("items=%s", strings.Join(c.Items, ","))); err != nil {
			errs = append(errs, err)
			continue
		}
		prompted = append(prompted, body.ID)
		refs, err := h.sendCheck(ctx, r, c, body, list, at)
		if err != nil {
			errs = append(errs, err)
		}
		if len(refs) > 0 {
			if _, err := h.checks.Update(ctx, c.ID, func(v *Check) error { v.Cards = append(v.Cards, refs...); return nil }); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return prompted, errors.Join(errs...)
}

func (h *handler) sendCheck(ctx context.Context, r *bot.Roster, c *Check, body bot.Body, list []*Item, at time.Time) ([]bot.MessageRef, error) {
	key := "progress:" + c.ID + ":prompt"
	if body.Group != "" {
		return h.b.Out.Notify(ctx, bot.Notice{Group: body.Group, Card: h.checkCard(r, c, list, h.b.Lang, at), Key: key})
	}
	var refs []bot.MessageRef
	var errs []error
	for _, p := range r.Members(body.ID) {
		rs, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: p.ID, Card: h.checkCard(r, c, list, h.b.People.LangOf(ctx, p), at), Key: key})
		refs = append(refs, rs...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return refs, errors.Join(errs...)
}

func (h *handler) checkCard(r *bot.Roster, c *Check, list []*Item, lang string, at time.Time) *bot.Card {
	card := &bot.Card{
		Title: h.t(lang, "progress.check."+string(c.Kind)+".title", "month", h.monthLabel(lang, c.Period), "body", r.BodyName(c.Body, lang)),
		Text:  h.t(lang, "progress.check.text", "count", len(list)),
		Color: bot.Blue,
		Note:  h.t(lang, "progress.check.note"),
	}
	for _, it := range list {
		card.Fields = append(card.Fields, bot.Field{
			Label: it.ID + " " + r.BodyName(it.Unit, lang),
			Value: h.t(lang, "progress.check.item", "title", it.Title, "status", h.statusLabel(lang, it, at), "deadline", bot.FormatDate(it.Deadline, h.b.Loc)),
		})
	}
	if c.Result != CheckPending {
		card.Color = bot.Green
		if c.Result == CheckIssues {
			card.Color = bot.Orange
		}
		who := c.RecordedBy
		if p, ok := r.Person(c.RecordedBy); ok {
			who = p.DisplayName(lang)
		}
		note := orDash(c.Note)
		if c.Note == "" && len(c.Findings) > 0 {
			note = "" // the findings below say it
		}
		card.Note = strings.TrimSpace(h.t(lang, "progress.check.recorded", "result", h.t(lang, "progress.check.result."+string(c.Result)),
			"person", who, "time", bot.FormatTime(c.RecordedAt, h.b.Loc), "note", note))
		// The findings on items are what the check found: the card
		// shows them, a later overall result does not hide them.
		for _, f := range c.Findings {
			card.Note += "\n" + h.t(lang, "progress.check.finding", "item", f.Item, "note", f.Note)
		}
	} else {
		card.Buttons = []bot.Button{{Label: h.t(lang, "progress.button.check_ok"), Action: "progress.check_ok", Value: c.ID, Style: "primary"}}
	}
	return card
}

var (
	passedWords = []string{"passed", "ok", "pass", "通过", "无问题", "合格"}
	issuesWords = []string{"issues", "issue", "problem", "发现问题", "有问题", "问题"}
)

// checkCmd: progress check <通过|发现问题> [note…] | progress check ZG-… <finding…>
// [body:…] [period:2026-12]. Records the result of the person's body's
// latest check (or the named one); a finding on an item is kept on the
// check and in the item's history and marks the check "issues found".
func (h *handler) checkCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	p := req.Command
	lang := req.Lang
	for k := range p.Options {
		if !slices.Contains([]string{"body", "单位", "period", "月份"}, k) {
			return nil, bot.UsageError(req, "progress.error.unknown_option", "option", k)
		}
	}
	first := p.Arg(0)
	if first == "" {
		return nil, bot.UsageError(req, "progress.check.need_result")
	}
	var result CheckResult
	var item string
	switch {
	case reItemID.MatchString(first):
		item, result = strings.ToUpper(first), CheckIssues
	case hasWord(passedWords, first):
		result = CheckPassed
	case hasWord(issuesWords, first):
		result = CheckIssues
	default:
		return nil, bot.UsageError(req, "progress.check.bad_result", "input", first)
	}
	note := strings.TrimSpace(p.Rest(1))
	if (result == CheckIssues || item != "") && note == "" {
		return nil, bot.UsageError(req, "progress.check.need_note")
	}
	if tooLong(note, maxNote) {
		return nil, bot.UsageError(req, "progress.error.too_long", "what", h.t(lang, "progress.arg.note"), "max", maxNote)
	}
	c, err := h.findCheck(ctx, req, p.Opt("body", "单位"), p.Opt("period", "月份"))
	if err != nil {
		return nil, err
	}
	if item != "" && !slices.Contains(c.Items, item) {
		return nil, bot.UsageError(req, "progress.check.not_listed", "id", item, "check", c.ID)
	}
	c, err = h.recordCheck(ctx, req, c.ID, result, item, note)
	if err != nil {
		return nil, err
	}
	return bot.Text(h.t(lang, "progress.check.saved", "body", req.Roster.BodyName(c.Body, lang), "month", h.monthLabel(lang, c.Period),
		"result", h.t(lang, "progress.check.result."+string(c.Result)))), nil
}

// findCheck returns the check the person means: of the named body (or
// the person's only checking body) for the named period (or the latest).
func (h *handler) findCheck(ctx context.Context, req *bot.Request, bodyArg, period string) (*Check, error) {
	r := req.Roster
	var bodies []string
	for _, id := range req.Person.Bodies {
		if b, ok := r.Body(id); ok && (b.Kind == bot.StationedGroup || b.Kind == bot.SupervisorOffice) {
			bodies = append(bodies, id)
		}
	}
	if bodyArg != "" {
		b, ok := r.FindBody(bodyArg, bot.StationedGroup, bot.SupervisorOffice)
		if !ok {
			return nil, bot.UsageError(req, "progress.error.unknown_supervisor", "input", bodyArg)
		}
		if !slices.Contains(bodies, b.ID) {
			return nil, h.b.Refuse(ctx, req, "progress.check", b.ID, "progress.check.not_member", "body", b.DisplayName(req.Lang))
		}
		bodies = []string{b.ID}
	}
	// Each body's latest check of each kind (or its check of period): a
	// Get or a one-document scan of its checks, whose ids end in the
	// period.
	var best *Check
	var err error
	for _, body := range bodies {
		for _, kind := range []CheckKind{CheckStationed, CheckSupervisor} {
			var c *Check
			if period != "" {
				c, err = h.checks.Get(ctx, CheckID(kind, body, period))
				if bot.IsNotFound(err) {
					continue
				}
				if err != nil {
					return nil, err
				}
			} else {
				cs, _, err := h.checks.Scan(ctx, bot.Range{Prefix: CheckID(kind, body, ""), Reverse: true, Limit: 1})
				if err != nil {
					return nil, err
				}
				if len(cs) == 0 {
					continue
				}
				c = cs[0]
			}
			if best == nil || c.PromptedAt.After(best.PromptedAt) {
				best = c
			}
		}
	}
	if best == nil {
		return nil, bot.UsageError(req, "progress.check.none")
	}
	return best, nil
}

// recordCheck stores a result (and an item finding) on check id, after
// checking that the person belongs to the checking body.
func (h *handler) recordCheck(ctx context.Context, req *bot.Request, id string, result CheckResult, item, note string) (*Check, error) {
	cur, err := h.checks.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !req.Person.InBody(cur.Body) {
		return nil, h.b.Refuse(ctx, req, "progress.check", id, "progress.check.not_member", "body", req.Roster.BodyName(cur.Body, req.Lang))
	}
	now := h.b.Now()
	c, err := h.checks.Update(ctx, id, func(v *Check) error {
		// A finding never turns into a pass: "issues" sticks once recorded.
		if v.Result != CheckIssues {
			v.Result = result
		}
		if item != "" {
			v.Findings = append(v.Findings, CheckFinding{Item: item, Note: note, Person: req.Person.ID, Time: now})
		} else {
			v.Log = append(v.Log, CheckFinding{Note: note, Person: req.Person.ID, Time: now, Result: result})
			if note != "" {
				v.Note = note // a later result without a note keeps the earlier text
			}
		}
		v.RecordedBy, v.RecordedAt, v.Platform = req.Person.ID, now, req.Platform
		return nil
	})
	if err != nil {
		return nil, err
	}
	if item != "" {
		if _, err := update(ctx, h.b.Store, item, func(v *Item) error {
			v.History = append(v.History, bot.History{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "check", Note: note})
			return nil
		}); err != nil && !bot.IsNotFound(err) {
			return nil, err
		}
	}
	detail := "result=" + string(c.Result)
	if item != "" {
		detail += " item=" + item
	}
	if err := h.b.Audit.Record(ctx, req, "progress.check", id, detail); err != nil {
		return nil, err
	}
	if len(c.Cards) > 0 {
		if r, err := h.b.People.Roster(ctx); err == nil {
			if err := h.b.Out.UpdateCards(ctx, c.Cards, h.checkCard(r, c, h.checkItems(ctx, c), h.b.Lang, c.PromptedAt)); err != nil {
				h.b.Log.Warn("progress: check card update failed", "check", id, "err", err)
			}
		}
	}
	return c, nil
}

func (h *handler) checkItems(ctx context.Context, c *Check) []*Item {
	var out []*Item
	for _, id := range c.Items {
		if it, err := h.items.Get(ctx, id); err == nil {
			out = append(out, it)
		}
	}
	return out
}

// checkOKButton records "no issues" from the check's card.
func (h *handler) checkOKButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	c, err := h.checks.Get(ctx, req.Value)
	if bot.IsNotFound(err) {
		return nil, bot.Coded(bot.ENOTFOUND, "progress.check.none")
	}
	if err != nil {
		return nil, err
	}
	c, err = h.recordCheck(ctx, req, c.ID, CheckPassed, "", "")
	if err != nil {
		return nil, err
	}
	toast := h.t(req.Lang, "progress.check.saved", "body", req.Roster.BodyName(c.Body, req.Lang), "month", h.monthLabel(req.Lang, c.Period),
		"result", h.t(req.Lang, "progress.check.result."+string(c.Result)))
	return &bot.Response{Toast: toast, Replies: []bot.Reply{{Card: h.checkCard(req.Roster, c, h.checkItems(ctx, c), req.Lang, c.PromptedAt), Replace: true}}}, nil
}

// checkCycle is how many months a body has to record a check of kind.
func checkCycle(kind CheckKind) int {
	if kind == CheckSupervisor {
		return 2
	}
	return 1
}

// checkEscalations returns the stationed groups and supervisor offices
// to report to the leader in charge (约谈提醒) at at: those whose relay
// checks, prompted and with their cycle over, went unrecorded (no result
// by the cycle's end) for EscalateMonths months in a row — two monthly
// checks of a stationed group, one two-month check of a supervisor
// office with the default of two — and the check ids behind them. The
// checks are read by id, month by month back from at, never the whole
// collection; months without a prompt are skipped.
func (h *handler) checkEscalations(ctx context.Context, r *bot.Roster, at time.Time) ([]string, []string, error) {
	var bodies, ids []string
	month := MonthID(at, h.b.Loc)
	for _, kind := range []CheckKind{CheckStationed, CheckSupervisor} {
		cycle := checkCycle(kind)
		for _, body := range r.BodiesOf(checkKinds[kind]) {
			missed, months := []string(nil), 0
			period := month
			for range h.cfg.EscalateMonths*cycle + 2 {
				c, err := h.checks.Get(ctx, CheckID(kind, body.ID, period))
				period = PrevMonthID(period)
				if bot.IsNotFound(err) {
					continue
				}
				if err != nil {
					return nil, nil, err
				}
				start, err := time.ParseInLocation("2006-01", c.Period, h.b.Loc)
				if err != nil {
					continue
				}
				due := start.AddDate(0, cycle, 0)
				if due.After(at) {
					continue // its cycle is not over yet
				}
				if c.Result != CheckPending && !c.RecordedAt.IsZero() && c.RecordedAt.Before(due) {
					break // recorded in time: the run of missed checks ends here
				}
				missed, months = append(missed, c.ID), months+cycle
				if months >= h.cfg.EscalateMonths {
					break
				}
			}
			if months >= h.cfg.EscalateMonths {
				bodies = append(bodies, body.ID)
				ids = append(ids, missed...)
			}
		}
	}
	return bodies, ids, nil
}

// escalateChecks reports a supervising body whose checks are missing to
// the leader in charge, and audits it.
func (h *handler) escalateChecks(ctx context.Context, r *bot.Roster, rep *Report, body string) error {
	var missed []string
	for _, id := range rep.MissedChecks {
		if _, b, ok := strings.Cut(id, ":"); ok && strings.HasPrefix(b, body+":") {
			missed = append(missed, id)
		}
	}
	if err := h.b.Audit.Record(ctx, nil, "progress.check.escalate", body, fmt.Sprintf("month=%s months=%d checks=%s", rep.Month, h.cfg.EscalateMonths, strings.Join(missed, ","))); err != nil {
		return err
	}
	text := func(lang string) string {
		var periods []string
		for _, id := range missed {
			periods = append(periods, h.monthLabel(lang, id[strings.LastIndex(id, ":")+1:]))
		}
		return h.t(lang, "progress.escalate.checks_text", "body", r.BodyName(body, lang), "months", h.cfg.EscalateMonths,
			"periods", strings.Join(periods, h.t(lang, "list.sep")))
	}
	return h.toLeader(ctx, r, "progress:"+rep.Month+":escalate_checks:"+body, text)
}
