package cosign

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

// open starts an opening of c at now: in free order every unconfirmed
// party may sign from now; in sequential order only the next one.
func (m *handler) open(c *Cosign, now time.Time) {
	c.OpenedAt = now
	for i := range c.Parties {
		p := &c.Parties[i]
		p.Since, p.RemindAt, p.EscalateAt, p.Reminded, p.Escalated = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	}
	if c.Order == OrderSequential {
		if n := c.Next(); n >= 0 {
			m.activate(c, n, now)
		}
		return
	}
	for i := range c.Parties {
		if c.Parties[i].State != PartyConfirmed {
			m.activate(c, i, now)
		}
	}
}

// activate starts party i's clock: when it is reminded and when the
// inspection office is told.
func (m *handler) activate(c *Cosign, i int, now time.Time) {
	p := &c.Parties[i]
	p.Since = now
	p.RemindAt, p.EscalateAt = m.dueTimes(now)
}

// dueTimes interprets cosign.reminder from since. A reminder of a day or
// more counts working days (48h = two working days, so a request posted on
// Friday afternoon is reminded on Tuesday afternoon, not over the
// weekend); a shorter one counts hours. The escalation follows after a
// second period. Both fall within working hours on working days.
func (m *handler) dueTimes(since time.Time) (remind, escalate time.Time) {
	d := m.settings.Reminder
	if d <= 0 {
		d = 48 * time.Hour
	}
	const day = 24 * time.Hour
	if d >= day {
		n := int((d + day/2) / day)
		return m.workingTime(m.b.Cal.AddWorkdays(since, n)), m.workingTime(m.b.Cal.AddWorkdays(since, 2*n))
	}
	remind = m.workingTime(since.Add(d))
	return remind, m.workingTime(remind.Add(d))
}

// workingTime returns t, or the next moment within working hours
// (09:00–18:00 on a working day).
func (m *handler) workingTime(t time.Time) time.Time {
	t = t.In(m.b.Loc)
	for range 400 {
		y, mo, d := t.Date()
		switch {
		case !m.b.Cal.IsWorkday(t) || t.Hour() >= bot.OfficeClose:
			t = time.Date(y, mo, d+1, bot.OfficeOpen, 0, 0, 0, m.b.Loc)
		case t.Hour() < bot.OfficeOpen:
			return time.Date(y, mo, d, bot.OfficeOpen, 0, 0, 0, m.b.Loc)
		default:
			return t
		}
	}
	return t
}

// inWorkingHours reports whether reminders may be sent at now.
func (m *handler) inWorkingHours(now time.Time) bool {
	now = now.In(m.b.Loc)
	return bot.OfficeHours(m.b.Cal, m.b.Loc, now)
}

// escalationGroup is where unsigned requests are reported to the
// inspection office: notices.cosign_escalation, else notices.summary.
func (m *handler) escalationGroup() string {
	if g, ok := m.cfg.Notices["cosign_escalation"]; ok {
		return g
	}
	return m.cfg.NoticeGroup("summary")
}

// remind is the reminder job: each party that may sign and has not is
// reminded once by direct message to its members after its reminder
// time, and reported once to the inspection office after its escalation
// time; never outside working hours. Claims are made in an atomic update
// first, so processes running the job at once remind only once.
func (m *handler) remind(ctx context.Context, now time.Time) error {
	if !m.inWorkingHours(now) {
		return nil
	}
	// The index holds, for each open request, when the job next has work
	// on it (a reminder or an escalation due): it reads those due by now.
	ids, err := index.Until(ctx, m.b.Store, CollCosignIndex, idxDue, now.Add(time.Nanosecond))
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	r, err := m.b.People.Roster(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range index.Unique(ids) {
		// Each request's reminders are one unit of work.
		errs = append(errs, m.b.RunUnit(ctx, func(ctx context.Context) error { return m.remindOne(ctx, r, id, now) }))
	}
	return errors.Join(errs...)
}

func (m *handler) remindOne(ctx context.Context, r *bot.Roster, id string, now time.Time) error {
	var remind, escalate []int
	c, err := update(ctx, m.b.Store, id, func(c *Cosign) error {
		remind, escalate = nil, nil
		if c.State != CosignOpen {
			return nil
		}
		for _, i := range c.Waiting() {
			p := &c.Parties[i]
			if p.RemindAt.IsZero() {
				continue
			}
			if p.Reminded.IsZero() && !now.Before(p.RemindAt) {
				p.Reminded = now
				remind = append(remind, i)
				c.History = append(c.History, CosignEvent{Time: now, Action: "remind", Body: p.Body})
			}
			if p.Escalated.IsZero() && !now.Before(p.EscalateAt) {
				p.Escalated = now
				escalate = append(escalate, i)
				c.History = append(c.History, CosignEvent{Time: now, Action: "escalate", Body: p.Body})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	// When the group may not see the request, its cards went to the
	// parties directly: a reminder then brings the card along (with its
	// buttons), kept on the record so that it is updated like the others.
	inGroup := m.cardGroup(r, c) != ""
	var dms []CardDM
	for _, i := range remind {
		sent, err := m.remindParty(ctx, r, c, c.Parties[i], inGroup)
		dms = append(dms, sent...)
		errs = append(errs, err)
	}
	m.keepRefs(ctx, c, nil, dms)
	if len(escalate) > 0 {
		errs = append(errs, m.escalate(ctx, r, c, escalate))
	}
	return errors.Join(errs...)
}

// remindParty reminds each member of party p of request c by direct
// message, with the card when the group may not see it (inGroup false),
// and audits the reminder. It returns the direct messages that carry a
// card.
func (m *handler) remindParty(ctx context.Context, r *bot.Roster, c *Cosign, p CosignParty, inGroup bool) ([]CardDM, error) {
	var errs []error
	var dms []CardDM
	var told []string
	for _, person := range r.Members(p.Body) {
		lang := m.b.People.LangOf(ctx, person)
		msg := "cosign.remind.dm_card"
		if inGroup {
			msg = "cosign.remind.dm"
		}
		text := m.b.T(lang, msg, "id", c.ID, "title", m.title(c, lang), "description", m.describe(c, lang),
			"party", m.partyName(r, p, lang), "since", bot.FormatTime(p.Since, m.b.Loc))
		key := fmt.Sprintf("cosign-remind:%s:%d:%s", c.ID, c.Opens, p.Body)
		n := bot.Notice{PersonID: person.ID, Text: text, Key: key}
		if !inGroup {
			n.Card = m.cardIn(r, c, lang)
		}
		refs, err := m.b.Out.Notify(ctx, n)
		if err != nil {
			errs = append(errs, err)
		}
		if !inGroup {
			dms = append(dms, directMessages(person.ID, refs)...)
		}
		told = append(told, person.ID)
	}
	if err := m.b.Audit.Record(ctx, nil, "cosign.remind", c.ID, "body="+p.Body+" members="+strings.Join(told, ",")); err != nil {
		errs = append(errs, err)
	}
	return dms, errors.Join(errs...)
}

// escalate reports the parties of request c at the indexes escalate,
// still unsigned, to the escalation group, or to the inspection office's
// members directly when someone in the group may not know of the
// request, and audits it.
func (m *handler) escalate(ctx context.Context, r *bot.Roster, c *Cosign, escalate []int) error {
	var errs []error
	lang := m.b.Lang
	var parties, bodies []string
	for _, i := range escalate {
		p := c.Parties[i]
		parties = append(parties, m.b.T(lang, "cosign.escalate.party", "party", m.partyName(r, p, lang), "since", bot.FormatTime(p.Since, m.b.Loc)))
		bodies = append(bodies, p.Body)
	}
	text := m.b.T(lang, "cosign.escalate.notice", "id", c.ID, "title", m.title(c, lang), "description", m.describe(c, lang),
		"parties", strings.Join(parties, "\n"), "creator", m.personName(r, c.CreatedBy, lang))
	key := fmt.Sprintf("cosign-escalate:%s:%d:%s", c.ID, c.Opens, strings.Join(bodies, ","))
	group := m.escalationGroup()
	if c.ShownTo(r, m.cfg.GroupBodies(group)) {
		if _, err := m.b.Out.Notify(ctx, bot.Notice{Group: group, Text: text, Key: key}); err != nil {
			errs = append(errs, err)
		}
	} else {
		// Someone sitting in the escalation group may not know of the
		// request: the inspection office's members are told directly.
		group = ""
		for _, person := range officeMembers(r) {
			if _, err := m.b.Out.Notify(ctx, bot.Notice{PersonID: person.ID, Text: text, Key: key}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := m.b.Audit.Record(ctx, nil, "cosign.escalate", c.ID, "bodies="+strings.Join(bodies, ",")+" group="+group); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// officeMembers are the members of the inspection office's bodies.
func officeMembers(r *bot.Roster) []*bot.Person {
	var out []*bot.Person
	for _, b := range r.BodiesOf(bot.InspectionOffice) {
		for _, p := range r.Members(b.ID) {
			if !slices.ContainsFunc(out, func(q *bot.Person) bool { return q.ID == p.ID }) {
				out = append(out, p)
			}
		}
	}
	return out
}
