package consult

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// show: consult show <ZX id | XC round id> — every department's answer,
// who gave it and when, for the inspection office and the round's team;
// a consulted department sees the states and its own answers only.
func (h *handler) show(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	arg := strings.TrimSpace(req.Command.Arg(0))
	if arg == "" {
		return nil, bot.UsageError(req, "consult.error.need_id")
	}
	var list []*Consultation
	switch {
	case reID.MatchString(arg):
		c, err := h.load(ctx, strings.ToUpper(arg))
		if err != nil {
			return nil, err
		}
		list = append(list, c)
	case reRoundID.MatchString(arg):
		// Only the round's requests the reader may know of: a round
		// whose requests are all hidden reads like one without any.
		var err error
		if list, _, err = NewQueries(h.b.Store).VisibleTo(ctx, req.Roster, req.Person, strings.ToUpper(arg), "", 0); err != nil {
			return nil, err
		}
		slices.Reverse(list) // oldest first, as the round's page always was
		if len(list) == 0 {
			return bot.Text(h.t(req.Lang, "consult.none_for_round", "id", strings.ToUpper(arg))), nil
		}
	default:
		return nil, bot.UsageError(req, "consult.error.bad_id", "input", arg)
	}
	r := req.Roster
	var replies []bot.Reply
	confidential := false
	for _, c := range list {
		entitled := c.Entitled(r, req.Person)
		own := c.OwnDepts(req.Person)
		if !entitled && len(own) == 0 {
			// Audited as refused, answered as if there were no such
			// request: the reader may not learn that it exists.
			return nil, h.b.Refuse(ctx, req, "consult.show", c.ID, "consult.error.not_found", "id", c.ID)
		}
		card, shown := h.pageCard(ctx, r, c, req.Lang, entitled, own)
		if shown > 0 {
			confidential = true
			// Reads of confidential answers leave a trace.
			if err := h.b.Audit.Record(ctx, req, "consult.show", c.ID, fmt.Sprintf("answers=%d", shown)); err != nil {
				return nil, err
			}
		}
		replies = append(replies, bot.Reply{Card: card})
	}
	if confidential && !req.Direct {
		var errs []error
		for _, rp := range replies {
			refs, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: req.Person.ID, Card: rp.Card})
			if err == nil && len(refs) == 0 {
				err = errors.New("no direct chat")
			}
			errs = append(errs, err)
		}
		if errors.Join(errs...) != nil {
			return bot.Text(h.t(req.Lang, "consult.dm_failed")), nil
		}
		return bot.Text(h.t(req.Lang, "consult.sent_privately")), nil
	}
	return &bot.Response{Replies: replies}, nil
}

// pageCard is the round's consultation page. It returns how many answers
// it shows.
func (h *handler) pageCard(ctx context.Context, r *bot.Roster, c *Consultation, lang string, entitled bool, own []int) (*bot.Card, int) {
	rd, _ := h.rounds.Get(ctx, c.Round)
	now := h.b.Now()
	card := &bot.Card{
		Title: h.t(lang, "consult.page.title", "id", c.ID, "organisation", r.BodyName(c.Organisation, lang)),
		Color: bot.Blue,
		Text:  h.t(lang, "consult.card.text", "request", c.Request),
		Fields: []bot.Field{
			{Label: h.t(lang, "consult.field.round"), Value: c.Round + " " + roundName(rd)},
			{Label: h.t(lang, "consult.field.deadline"), Value: bot.FormatDate(c.Deadline, h.b.Loc)},
		},
		Note: h.t(lang, "consult.card.note", "person", r.PersonName(c.CreatedBy, lang), "time", bot.FormatTime(c.CreatedAt, h.b.Loc)),
	}
	if !entitled {
		card.Note += "\n" + h.t(lang, "consult.page.own_only")
	}
	shown, answered := 0, 0
	for i, d := range c.Depts {
		visible := entitled || slices.Contains(own, i)
		if !visible {
			// Another department's answer is not the reader's to know
			// of: not its text, nor that it exists.
			if d.Answered() {
				answered++
			}
			continue
		}
		var lines []string
		for _, a := range d.Answers {
			who := h.t(lang, "consult.page.by", "person", r.PersonName(a.By, lang), "time", bot.FormatTime(a.At, h.b.Loc))
			switch {
			case a.None:
				lines = append(lines, h.t(lang, "consult.page.none", "by", who))
				shown++
			default:
				lines = append(lines, h.t(lang, "consult.page.answer", "by", who, "text", a.Text))
				shown++
			}
		}
		if d.Answered() {
			answered++
		} else {
			lines = append(lines, h.t(lang, "consult.state.waiting"))
		}
		if c.LateAt(i, now, h.b.Loc) {
			lines = append(lines, h.t(lang, "consult.page.late"))
		}
		if !d.RemindedAt.IsZero() {
			lines = append(lines, h.t(lang, "consult.page.reminded", "time", bot.FormatTime(d.RemindedAt, h.b.Loc)))
		}
		if !d.EscalatedAt.IsZero() {
			lines = append(lines, h.t(lang, "consult.page.escalated", "time", bot.FormatTime(d.EscalatedAt, h.b.Loc)))
		}
		card.Fields = append(card.Fields, bot.Field{Label: r.BodyName(d.Body, lang), Value: strings.Join(lines, "\n")})
	}
	if entitled {
		card.Fields = append(card.Fields, bot.Field{Label: h.t(lang, "consult.field.progress"), Value: h.t(lang, "consult.page.progress", "answered", answered, "total", len(c.Depts))})
	}
	if answered == len(c.Depts) {
		card.Color = bot.Green
	} else if !dayStart(now, h.b.Loc).Before(dayStart(c.Deadline, h.b.Loc).AddDate(0, 0, 1)) {
		card.Color = bot.Orange
	}
	return card, shown
}

// list: consult list [XC-…] [from:ZX-…] — the requests the reader may
// know of and how many answered, no answers; newest first, maxListed at
// a time, the option from continuing after the last request of the page
// before. The inspection office sees every request, the round's team
// its round's, a consulted department those it was consulted on, with
// its own state only (not how many others answered); nobody learns of a
// request it may not see, nor how many there are (see VisibleTo).
func (h *handler) list(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	filter := strings.ToUpper(strings.TrimSpace(req.Command.Arg(0)))
	if filter != "" && !reRoundID.MatchString(filter) {
		return nil, bot.UsageError(req, "consult.error.bad_round", "input", filter)
	}
	after := strings.ToUpper(strings.TrimSpace(req.Command.Opt("from", "从")))
	r := req.Roster
	page, next, err := NewQueries(h.b.Store).VisibleTo(ctx, r, req.Person, filter, after, maxListed)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	now := h.b.Now()
	var lines []string
	for _, c := range page {
		if !c.Entitled(r, req.Person) {
			lines = append(lines, h.ownLine(r, c, req.Person, lang, now))
			continue
		}
		answered, late := 0, 0
		for j, d := range c.Depts {
			if d.Answered() {
				answered++
			}
			if c.LateAt(j, now, h.b.Loc) {
				late++
			}
		}
		lines = append(lines, h.t(lang, "consult.list.line", "id", c.ID, "round", c.Round, "organisation", r.BodyName(c.Organisation, lang),
			"deadline", bot.FormatDate(c.Deadline, h.b.Loc), "answered", answered, "total", len(c.Depts), "late", late))
	}
	if len(lines) == 0 && next == "" {
		switch {
		case after != "":
			return bot.Text(h.t(lang, "consult.list.end")), nil
		case r.HasKind(req.Person, bot.InspectionOffice):
			return bot.Text(h.t(lang, "consult.list.empty")), nil
		}
		return bot.Text(h.t(lang, "consult.list.empty_mine")), nil
	}
	text := h.t(lang, "consult.list.header", "count", len(lines))
	if len(lines) > 0 {
		text += "\n• " + strings.Join(lines, "\n• ")
	}
	if next != "" {
		key := "consult.list.more"
		if filter != "" {
			key = "consult.list.more_round"
		}
		text += "\n" + h.t(lang, key, "round", filter, "id", next)
	}
	return bot.Text(text), nil
}

// ownLine is a request as a consulted department that is not entitled to
// the other departments' answers lists it: its own departments' states.
func (h *handler) ownLine(r *bot.Roster, c *Consultation, p *bot.Person, lang string, now time.Time) string {
	var states []string
	for _, i := range c.OwnDepts(p) {
		key := "consult.list.own.waiting"
		switch {
		case c.Depts[i].Answered():
			key = "consult.list.own.answered"
		case c.LateAt(i, now, h.b.Loc):
			key = "consult.list.own.late"
		}
		states = append(states, h.t(lang, key, "dept", r.BodyName(c.Depts[i].Body, lang)))
	}
	return h.t(lang, "consult.list.line_own", "id", c.ID, "round", c.Round, "organisation", r.BodyName(c.Organisation, lang),
		"deadline", bot.FormatDate(c.Deadline, h.b.Loc), "states", strings.Join(states, h.t(lang, "list.sep")))
}

// ReminderTimes returns when an unanswered department of c is reminded
// (09:00 of the first working day after the deadline day) and when the
// inspection office is told (escalateDays working days later).
func ReminderTimes(cal bot.Calendar, loc *time.Location, c *Consultation, escalateDays int) (remind, escalate time.Time) {
	d := dayStart(c.Deadline, loc).AddDate(0, 0, 1)
	remind = cal.OnOrAfter(time.Date(d.Year(), d.Month(), d.Day(), bot.OfficeOpen, 0, 0, 0, loc))
	return remind, cal.AddWorkdays(remind, escalateDays)
}

var errNotDue = errors.New("consult: not due")

// remind is the reminder job: within office hours on working days, each
// department still silent after the deadline is reminded once, and the
// inspection office is told once escalate_days later. Each is marked on
// the record in an atomic update before it is sent.
func (h *handler) remind(ctx context.Context, now time.Time) error {
	l := now.In(h.b.Loc)
	if !bot.OfficeHours(h.b.Cal, h.b.Loc, l) {
		return nil
	}
	// The requests with a silent department not yet reminded or
	// escalated whose deadline day has passed, from the index by
	// deadline: reminders start the day after it.
	ids, err := index.Until(ctx, h.b.Store, CollConsultIndex, idxPending, dayStart(now, h.b.Loc))
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	all, err := NewQueries(h.b.Store).load(ctx, ids, func(*Consultation) bool { return true })
	if err != nil {
		return err
	}
	r, err := h.b.People.Roster(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range all {
		remindAt, escAt := ReminderTimes(h.b.Cal, h.b.Loc, c, h.cc.EscalateDays)
		for _, d := range c.Depts {
			if d.Answered() {
				continue
			}
			if d.RemindedAt.IsZero() && !now.Before(remindAt) {
				// Each step (mark, audit, notices) is one unit of work.
				errs = append(errs, h.b.RunUnit(ctx, func(ctx context.Context) error { return h.sendReminder(ctx, r, c.ID, d.Body, now) }))
			}
			if d.EscalatedAt.IsZero() && !now.Before(escAt) {
				errs = append(errs, h.b.RunUnit(ctx, func(ctx context.Context) error { return h.sendEscalation(ctx, r, c.ID, d.Body, now) }))
			}
		}
	}
	return errors.Join(errs...)
}

func (h *handler) mark(ctx context.Context, id, dept, action string, now time.Time, field func(*ConsultDept) *time.Time) (*Consultation, error) {
	return update(ctx, h.b.Store, id, func(v *Consultation) error {
		i := v.Dept(dept)
		if i < 0 || v.Depts[i].Answered() || !field(&v.Depts[i]).IsZero() {
			return errNotDue
		}
		*field(&v.Depts[i]) = now
		v.History = append(v.History, bot.History{Time: now, Action: action, Note: dept})
		return nil
	})
}

func (h *handler) sendReminder(ctx context.Context, r *bot.Roster, id, dept string, now time.Time) error {
	c, err := h.mark(ctx, id, dept, "remind", now, func(d *ConsultDept) *time.Time { return &d.RemindedAt })
	if errors.Is(err, errNotDue) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := h.b.Audit.Record(ctx, nil, "consult.remind", id, "dept="+dept); err != nil {
		return err
	}
	rd, _ := h.rounds.Get(ctx, c.Round)
	_, err = h.tellDept(ctx, r, dept, "consult:"+id+":"+dept+":remind", func(l string) bot.Notice {
		return bot.Notice{
			Text: h.t(l, "consult.remind.text", "id", id, "dept", r.BodyName(dept, l), "organisation", r.BodyName(c.Organisation, l), "deadline", bot.FormatDate(c.Deadline, h.b.Loc)),
			Card: h.deptCard(r, c, rd, dept, l),
		}
	})
	return err
}

func (h *handler) sendEscalation(ctx context.Context, r *bot.Roster, id, dept string, now time.Time) error {
	c, err := h.mark(ctx, id, dept, "escalate", now, func(d *ConsultDept) *time.Time { return &d.EscalatedAt })
	if errors.Is(err, errNotDue) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := h.b.Audit.Record(ctx, nil, "consult.escalate", id, "dept="+dept); err != nil {
		return err
	}
	text := func(l string) string {
		return h.t(l, "consult.escalate.text", "id", id, "dept", r.BodyName(dept, l), "round", c.Round,
			"organisation", r.BodyName(c.Organisation, l), "deadline", bot.FormatDate(c.Deadline, h.b.Loc))
	}
	key := "consult:" + id + ":" + dept + ":escalate"
	for _, b := range r.BodiesOf(bot.InspectionOffice) {
		if b.Group != "" {
			_, err := h.b.Out.Notify(ctx, bot.Notice{Group: b.Group, Text: text(h.b.Lang), Key: key})
			return err
		}
	}
	var errs []error
	for _, b := range r.BodiesOf(bot.InspectionOffice) {
		for _, m := range r.Members(b.ID) {
			if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: m.ID, Text: text(h.b.People.LangOf(ctx, m)), Key: key}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
