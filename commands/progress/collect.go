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

// collection is a month's collection as planned at a moment: the units
// to ask with their open items, the deadline and the window from which
// updates count.
type collection struct {
	month    string
	at       time.Time
	units    []UnitReport
	deadline time.Time
	window   time.Time
	items    map[string]*Item
}

// runTime is when a run planned for at evaluates the records: a run that
// starts late (a catch-up after a restart) sees the items as they are
// when it runs, so an item created between the planned time and the run
// is not left out.
func (h *handler) runTime(at time.Time) time.Time {
	if now := h.b.Now(); now.After(at) {
		at = now
	}
	return at.In(h.b.Loc)
}

// planCollection works out the collection of at's month as of at.
func (h *handler) planCollection(ctx context.Context, r *bot.Roster, at time.Time) (*collection, error) {
	month := MonthID(at, h.b.Loc)
	// The items open at at: open now, or closed or awaiting since.
	all, err := current(ctx, h.b.Store, at)
	if err != nil {
		return nil, err
	}
	c := &collection{month: month, at: at, items: map[string]*Item{}}
	byUnit := map[string][]string{}
	for _, it := range all {
		c.items[it.ID] = it
		if it.OpenAt(at) {
			byUnit[it.Unit] = append(byUnit[it.Unit], it.ID)
		}
	}
	for _, u := range unitBodies(r) {
		if ids := byUnit[u.ID]; len(ids) > 0 {
			c.units = append(c.units, UnitReport{Unit: u.ID, Items: ids})
		}
	}
	c.deadline = dayStart(h.b.Cal.AddWorkdays(at, h.cfg.CollectDays), h.b.Loc)
	c.window = time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, h.b.Loc)
	if prev, err := h.months.Get(ctx, PrevMonthID(month)); err == nil && !prev.Deadline.IsZero() {
		// Updates up to the previous collection's deadline counted for it.
		if end := prev.Deadline.AddDate(0, 0, 1); end.After(c.window) {
			c.window = end
		}
	} else if err != nil && !bot.IsNotFound(err) {
		return nil, err
	}
	return c, nil
}

// collect is the task progress.collect: on the configured working day it
// asks each responsible unit with open items for this month's update of
// each, in the unit's group or by direct message to its contacts. The
// deadline is CollectDays working days later. Items are taken as of the
// moment the run actually starts (a catch-up after the planned time
// included). Running it again for the same month does nothing. The task
// runs in one unit of work with the record that it ran, so the month is
// marked started only when the prompts are committed with it.
func (h *handler) collect(ctx context.Context, at time.Time) error {
	_, err := h.startCollection(ctx, nil, h.runTime(at))
	return err
}

// startCollection starts the collection of at's month as of at, for req
// (nil for the scheduler). It returns nil, nil when the month's
// collection had already started.
func (h *handler) startCollection(ctx context.Context, req *bot.Request, at time.Time) (*ProgressMonth, error) {
	r, err := h.b.People.Roster(ctx)
	if err != nil {
		return nil, err
	}
	plan, err := h.planCollection(ctx, r, at)
	if err != nil {
		return nil, err
	}
	month, units, window, deadline := plan.month, plan.units, plan.window, plan.deadline
	set := func(m *ProgressMonth) error {
		if !m.StartedAt.IsZero() {
			return errStop
		}
		m.ID, m.StartedAt, m.WindowStart, m.Deadline, m.Units = month, at, window, deadline, units
		return nil
	}
	m, err := h.months.Update(ctx, month, set)
	if bot.IsNotFound(err) {
		m = &ProgressMonth{}
		_ = set(m)
		err = h.months.Create(ctx, month, m)
		if bot.ErrorCode(err) == bot.ECONFLICT {
			m, err = h.months.Update(ctx, month, set)
		}
	}
	switch {
	case errors.Is(err, errStop):
		return nil, nil // already started by an earlier run
	case err != nil:
		return nil, err
	}
	nItems := 0
	for _, u := range units {
		nItems += len(u.Items)
	}
	if err := h.b.Audit.Record(ctx, req, "progress.collect", month, fmt.Sprintf("units=%d items=%d deadline=%s", len(units), nItems, bot.FormatDate(deadline, h.b.Loc))); err != nil {
		return nil, err
	}
	var errs []error
	for _, u := range m.Units {
		refs, err := h.promptUnit(ctx, r, m, u, plan.items, "prompt", at)
		if err != nil {
			errs = append(errs, fmt.Errorf("unit %s: %w", u.Unit, err))
		}
		if len(refs) > 0 {
			if _, err := h.months.Update(ctx, month, func(v *ProgressMonth) error {
				if ur := v.Unit(u.Unit); ur != nil {
					ur.Prompts = append(ur.Prompts, refs...)
				}
				return nil
			}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return m, errors.Join(errs...)
}

// unitTargets returns where a unit is asked: its group, or else its
// configured contacts (else every member) by direct message.
func (h *handler) unitTargets(r *bot.Roster, unit string) (group string, people []*bot.Person) {
	if b, ok := r.Body(unit); ok && b.Group != "" {
		return b.Group, nil
	}
	if ids, ok := h.cfg.Contacts[unit]; ok {
		for _, id := range ids {
			if p, ok := r.Person(id); ok {
				people = append(people, p)
			}
		}
		return "", people
	}
	return "", r.Members(unit)
}

// promptUnit sends a unit the collection prompt (kind "prompt") or a
// reminder (kind "remind") listing the items still to report (for a
// reminder, only those).
func (h *handler) promptUnit(ctx context.Context, r *bot.Roster, m *ProgressMonth, u UnitReport, items map[string]*Item, kind string, now time.Time) ([]bot.MessageRef, error) {
	group, people := h.unitTargets(r, u.Unit)
	ids := u.Items
	if kind == "remind" {
		ids = h.pending(m, u, items, now)
	}
	key := "progress:" + m.ID + ":" + kind + ":" + u.Unit
	if group != "" {
		return h.b.Out.Notify(ctx, bot.Notice{Group: group, Card: h.promptCard(r, m, u.Unit, ids, items, h.b.Lang, kind), Key: key})
	}
	var refs []bot.MessageRef
	var errs []error
	for _, p := range people {
		lang := h.b.People.LangOf(ctx, p)
		card := h.promptCard(r, m, u.Unit, ids, items, lang, kind)
		card.Text = bot.MentionTag(p) + " " + card.Text
		rs, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: p.ID, Card: card, Key: key})
		refs = append(refs, rs...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(people) == 0 {
		h.b.Log.Warn("progress: responsible unit has nobody to ask", "unit", u.Unit, "month", m.ID)
	}
	return refs, errors.Join(errs...)
}

func (h *handler) promptCard(r *bot.Roster, m *ProgressMonth, unit string, ids []string, items map[string]*Item, lang, kind string) *bot.Card {
	c := &bot.Card{
		Title: h.t(lang, "progress."+kind+".title", "month", h.monthLabel(lang, m.ID), "unit", r.BodyName(unit, lang)),
		Text:  h.t(lang, "progress."+kind+".text", "deadline", bot.FormatDate(m.Deadline, h.b.Loc), "count", len(ids)),
		Color: bot.Blue,
		Note:  h.t(lang, "progress.prompt.note", "example", h.exampleID(ids)),
	}
	if kind == "remind" {
		c.Color = bot.Orange
	}
	for i, id := range ids {
		it := items[id]
		if it == nil {
			continue
		}
		c.Fields = append(c.Fields, bot.Field{
			Label: it.ID + " " + it.Title,
			Value: h.t(lang, "progress.prompt.item", "percent", it.Percent, "deadline", bot.FormatDate(it.Deadline, h.b.Loc)),
		})
		if i < maxButtons {
			c.Buttons = append(c.Buttons, bot.Button{Label: h.t(lang, "progress.button.same_id", "id", it.ID), Action: "progress.same", Value: it.ID + "@" + m.ID})
		}
	}
	return c
}

func (h *handler) exampleID(ids []string) string {
	if len(ids) > 0 {
		return ids[0]
	}
	return "ZG-2026-0001"
}

// pending returns the unit's asked items that have no update in the
// month's window up to now and are still open.
func (h *handler) pending(m *ProgressMonth, u UnitReport, items map[string]*Item, now time.Time) []string {
	var out []string
	for _, id := range u.Items {
		it := items[id]
		if it == nil {
			continue
		}
		if !it.UpdatedBetween(m.WindowStart, now.Add(time.Nanosecond)) {
			out = append(out, id)
		}
	}
	return out
}

// workdaysBefore returns the day n working days before day (n = 0: day).
func (h *handler) workdaysBefore(day time.Time, n int) time.Time {
	for i := 0; i < 366 && n > 0; i++ {
		day = day.AddDate(0, 0, -1)
		if h.b.Cal.IsWorkday(day) {
			n--
		}
	}
	return day
}

// ReminderTimes returns when the units that have not reported for m are
// reminded: each configured reminder counted back in working days from
// the deadline day, at its time of day.
func (h *handler) reminderTimes(m *ProgressMonth) []time.Time {
	out := make([]time.Time, len(h.cfg.Reminders))
	for i, rc := range h.cfg.Reminders {
		out[i] = h.workdaysBefore(dayStart(m.Deadline, h.b.Loc), rc.BeforeDays).Add(h.cfg.ReminderOffset(i))
	}
	return out
}

// remindJob is the periodic job progress.reminders: it closes the
// collections whose deadline day has passed (marking units "not
// reported"), and, on working days within office hours only, reminds the
// units that have not reported yet when a configured reminder time has
// come. Each reminder is sent at most once per unit; a reminder whose
// day passed while the bot was down is sent at the next office hour
// before the deadline, once.
func (h *handler) remindJob(ctx context.Context, now time.Time) error {
	months, err := h.unclosedMonths(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range months {
		if dayStart(now, h.b.Loc).After(dayStart(m.Deadline, h.b.Loc)) {
			// Closing a month and each month's reminders are units of work.
			if err := h.b.RunUnit(ctx, func(ctx context.Context) error { return h.close(ctx, m.ID, now) }); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if !h.officeHours(now) {
			continue
		}
		if err := h.b.RunUnit(ctx, func(ctx context.Context) error { return h.remindMonth(ctx, m, now) }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (h *handler) remindMonth(ctx context.Context, m *ProgressMonth, now time.Time) error {
	var due []int
	for i, t := range h.reminderTimes(m) {
		if !now.Before(t) && t.After(m.StartedAt) {
			due = append(due, i)
		}
	}
	if len(due) == 0 {
		return nil
	}
	items, err := h.asked(ctx, m)
	if err != nil {
		return err
	}
	r, err := h.b.People.Roster(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range m.Units {
		if len(h.pending(m, u, items, now)) == 0 {
			continue
		}
		var newly []int
		for _, i := range due {
			if !slices.Contains(u.Reminded, i) {
				newly = append(newly, i)
			}
		}
		if len(newly) == 0 {
			continue
		}
		// Claim the reminder in the record first, so a concurrent or
		// repeated run does not send it again.
		_, err := h.months.Update(ctx, m.ID, func(v *ProgressMonth) error {
			ur := v.Unit(u.Unit)
			if ur == nil || v.Closed() {
				return errStop
			}
			claimed := false
			for _, i := range newly {
				if !slices.Contains(ur.Reminded, i) {
					ur.Reminded = append(ur.Reminded, i)
					claimed = true
				}
			}
			if !claimed {
				return errStop
			}
			return nil
		})
		if errors.Is(err, errStop) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pend := h.pending(m, u, items, now)
		if err := h.b.Audit.Record(ctx, nil, "progress.remind", m.ID, fmt.Sprintf("unit=%s items=%s", u.Unit, strings.Join(pend, ","))); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, err := h.promptUnit(ctx, r, m, u, items, "remind", now); err != nil {
			errs = append(errs, fmt.Errorf("remind %s: %w", u.Unit, err))
		}
	}
	return errors.Join(errs...)
}

// close marks the collection of month closed: each unit's asked items
// without an update by the end of the deadline day are "not reported"
// (未报送) for the month, on the month record and on each item.
func (h *handler) close(ctx context.Context, month string, now time.Time) error {
	pm, err := h.months.Get(ctx, month)
	if err != nil {
		return err
	}
	if pm.Closed() || pm.StartedAt.IsZero() {
		return nil
	}
	items, err := h.asked(ctx, pm)
	if err != nil {
		return err
	}
	m, err := h.months.Update(ctx, month, func(v *ProgressMonth) error {
		if v.Closed() || v.StartedAt.IsZero() {
			return errStop
		}
		end := dayStart(v.Deadline, h.b.Loc).AddDate(0, 0, 1)
		for i := range v.Units {
			u := &v.Units[i]
			u.Missing = nil
			for _, id := range u.Items {
				if it := items[id]; it != nil && !it.UpdatedBetween(v.WindowStart, end) {
					u.Missing = append(u.Missing, id)
				}
			}
		}
		v.ClosedAt = now
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, u := range m.Units {
		if !u.Unreported() {
			continue
		}
		for _, id := range u.Missing {
			if _, err := update(ctx, h.b.Store, id, func(v *Item) error {
				if slices.Contains(v.Unreported, month) {
					return errStop
				}
				v.Unreported = append(v.Unreported, month)
				return nil
			}); err != nil && !errors.Is(err, errStop) {
				errs = append(errs, err)
			}
		}
		if err := h.b.Audit.Record(ctx, nil, "progress.unreported", month, fmt.Sprintf("unit=%s items=%s", u.Unit, strings.Join(u.Missing, ","))); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// closeDue closes every collection whose deadline day is before now's.
func (h *handler) closeDue(ctx context.Context, now time.Time) error {
	months, err := h.unclosedMonths(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range months {
		if dayStart(now, h.b.Loc).After(dayStart(m.Deadline, h.b.Loc)) {
			errs = append(errs, h.close(ctx, m.ID, now))
		}
	}
	return errors.Join(errs...)
}

// asked returns the summaries of the items m's collection can have asked
// about, by id: those open when it started are open now, awaiting
// confirmation, or closed since.
func (h *handler) asked(ctx context.Context, m *ProgressMonth) (map[string]*Item, error) {
	all, err := current(ctx, h.b.Store, m.StartedAt)
	if err != nil {
		return nil, err
	}
	items := make(map[string]*Item, len(all))
	for _, it := range all {
		items[it.ID] = it
	}
	return items, nil
}

// unclosedMonths returns the months whose collection started and has not
// closed, oldest first. It reads the months newest first, a year at a
// time, and stops after the year in which it met a closed collection:
// the collections before it closed earlier (closeDue closes the oldest
// first), a year is slack for one whose close failed.
func (h *handler) unclosedMonths(ctx context.Context) ([]*ProgressMonth, error) {
	var out []*ProgressMonth
	r := bot.Range{Reverse: true, Limit: 12}
	for {
		ms, ids, err := h.months.Scan(ctx, r)
		if err != nil {
			return nil, err
		}
		closed := false
		for _, m := range ms {
			switch {
			case m.Closed():
				closed = true
			case !m.StartedAt.IsZero():
				out = append(out, m)
			}
		}
		if closed || len(ms) < r.Limit {
			slices.Reverse(out)
			return out, nil
		}
		r.After = ids[len(ids)-1]
	}
}
