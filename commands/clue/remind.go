package clue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// errNotDue aborts a reminder update that another run already made or
// that the clue's new status makes pointless.
var errNotDue = errors.New("clue: reminder no longer due")

// ReminderTimes returns when an unacknowledged clue's receiving body is
// reminded and when the inspection office is told. The configured
// durations count working time only: 48h is two working days, and a
// weekend or holiday in between does not count. Priority clues divide
// both by the priority factor.
func ReminderTimes(cal bot.Calendar, loc *time.Location, c *Clue, reminder, escalate time.Duration, factor int) (remind, esc time.Time) {
	if c.Priority && factor > 1 {
		reminder /= time.Duration(factor)
		escalate /= time.Duration(factor)
	}
	return addWorkingTime(cal, loc, c.TransferredAt(), reminder), addWorkingTime(cal, loc, c.TransferredAt(), escalate)
}

// addWorkingTime returns the moment d of working-day time after t: time
// on days off does not count.
func addWorkingTime(cal bot.Calendar, loc *time.Location, t time.Time, d time.Duration) time.Time {
	t = t.In(loc)
	for i := 0; i < 3660 && d > 0; i++ { // bounded: ten years of days
		next := dayStart(t, loc).AddDate(0, 0, 1)
		if !cal.IsWorkday(t) {
			t = next
			continue
		}
		rem := next.Sub(t)
		if d <= rem {
			return t.Add(d)
		}
		d -= rem
		t = next
	}
	return t
}

// remind is the reminder job: for each clue still unacknowledged, it
// reminds the receiving body once when the reminder time has passed, and
// tells the inspection office once when the escalation time has passed;
// for each clue being handled (acknowledged or under verification), it
// reminds the receiving body once per handling deadline when at most
// clue.deadline_reminder_days working days are left.
// The clue records that each was sent, so re-runs and concurrent runs
// do not repeat them.
func (h *handler) remind(ctx context.Context, now time.Time) error {
	if !bot.OfficeHours(h.b.Cal, h.b.Loc, now) {
		return nil
	}
	src, err := openSource(ctx, h.b.Store)
	if err != nil {
		return err
	}
	// During handling: the open clues whose deadline is at most
	// DeadlineReminderDays working days away, once per deadline, before
	// it passes — read by deadline from today to the last such day.
	today := dayStart(now, h.b.Loc)
	end := "d\x00" + timeKey(h.deadlineHorizon(now))
	near, err := src.rows(ctx, "d\x00", "d\x00"+timeKey(today.AddDate(0, 0, -1)), func(id string) bool { return id >= end })
	if err != nil {
		return err
	}
	// Awaiting acknowledgement with a reminder or an escalation to come.
	waiting, err := src.rows(ctx, "k\x00", "", nil)
	if err != nil {
		return err
	}
	r, err := h.b.People.Roster(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range near {
		if h.deadlineDue(c, now) {
			if err := h.b.RunUnit(ctx, func(ctx context.Context) error { return h.sendDeadlineReminder(ctx, r, c.ID, now) }); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, c := range waiting {
		if c.Status != ClueTransferred {
			continue
		}
		remindAt, escAt := ReminderTimes(h.b.Cal, h.b.Loc, c, h.cfg.AckReminder, h.cfg.AckEscalate, h.cfg.PriorityFactor)
		if c.RemindedAt.IsZero() && !now.Before(remindAt) {
			// Each step (mark, audit, notices) is one unit of work.
			if err := h.b.RunUnit(ctx, func(ctx context.Context) error { return h.sendReminder(ctx, r, c.ID, now) }); err != nil {
				errs = append(errs, err)
			}
		}
		if c.EscalatedAt.IsZero() && !now.Before(escAt) {
			if err := h.b.RunUnit(ctx, func(ctx context.Context) error { return h.sendEscalation(ctx, r, c.ID, now) }); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// deadlineHorizon is the midnight after the last day whose deadline is
// due a reminder at now: the day before the one with more than
// DeadlineReminderDays working days left (workdaysLeft).
func (h *handler) deadlineHorizon(now time.Time) time.Time {
	d := dayStart(now, h.b.Loc)
	n := 0
	for range 3660 {
		next := d.AddDate(0, 0, 1)
		if h.b.Cal.IsWorkday(next) {
			n++
		}
		if n > h.cfg.DeadlineReminderDays {
			break
		}
		d = next
	}
	return d.AddDate(0, 0, 1)
}

// mark records atomically that a reminder or escalation was sent; it
// returns errNotDue when another run got there first or the clue was
// acknowledged meanwhile.
func (h *handler) mark(ctx context.Context, id, action string, now time.Time, field func(*Clue) *time.Time) (*Clue, error) {
	return update(ctx, h.b, id, func(v *Clue) error {
		if v.Status != ClueTransferred || !field(v).IsZero() {
			return errNotDue
		}
		*field(v) = now
		v.History = append(v.History, bot.History{Time: now, Action: action})
		return nil
	})
}

func (h *handler) sendReminder(ctx context.Context, r *bot.Roster, id string, now time.Time) error {
	c, err := h.mark(ctx, id, "remind", now, func(v *Clue) *time.Time { return &v.RemindedAt })
	if errors.Is(err, errNotDue) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := h.b.Audit.Record(ctx, nil, "clue.remind", id, "body="+c.Body); err != nil {
		return err
	}
	var errs []error
	members := r.Members(c.Body)
	for _, m := range members {
		lang := h.b.People.LangOf(ctx, m)
		text := h.t(lang, "clue.remind.body", "mention", bot.MentionTag(m), "id", c.ID, "organisation", orgName(r, c, lang),
			"time", bot.FormatTime(c.CreatedAt, h.b.Loc), "deadline", bot.FormatDate(c.Deadline, h.b.Loc))
		if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: m.ID, Text: text, Key: "clue:" + id + ":remind"}); err != nil {
			errs = append(errs, fmt.Errorf("clue %s reminder to %s: %w", id, m.ID, err))
		}
	}
	if len(members) == 0 {
		// Nobody to remind: the office must know at once.
		h.b.Log.Warn("clue: receiving body has no members", "clue", id, "body", c.Body)
	}
	return errors.Join(errs...)
}

func (h *handler) sendEscalation(ctx context.Context, r *bot.Roster, id string, now time.Time) error {
	c, err := h.mark(ctx, id, "escalate", now, func(v *Clue) *time.Time { return &v.EscalatedAt })
	if errors.Is(err, errNotDue) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := h.b.Audit.Record(ctx, nil, "clue.escalate", id, "body="+c.Body); err != nil {
		return err
	}
	lang := h.b.Lang
	days := workdaysSince(h.b.Cal, h.b.Loc, c.CreatedAt, now)
	text := h.t(lang, "clue.escalate.office", "id", c.ID, "organisation", orgName(r, c, lang), "body", r.BodyName(c.Body, lang),
		"time", bot.FormatTime(c.CreatedAt, h.b.Loc), "days", days, "deadline", bot.FormatDate(c.Deadline, h.b.Loc))
	if g := officeGroup(r); g != "" {
		_, err := h.b.Out.Notify(ctx, bot.Notice{Group: g, Text: text, Key: "clue:" + id + ":escalate"})
		return err
	}
	var errs []error
	for _, b := range r.BodiesOf(bot.InspectionOffice) {
		for _, m := range r.Members(b.ID) {
			ml := h.b.People.LangOf(ctx, m)
			t := h.t(ml, "clue.escalate.office", "id", c.ID, "organisation", orgName(r, c, ml), "body", r.BodyName(c.Body, ml),
				"time", bot.FormatTime(c.CreatedAt, h.b.Loc), "days", days, "deadline", bot.FormatDate(c.Deadline, h.b.Loc))
			if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: m.ID, Text: t, Key: "clue:" + id + ":escalate"}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// deadlineDue reports whether the clue is being handled, its deadline
// not yet reminded, and at most DeadlineReminderDays working days left
// (none when the deadline day is today; overdue clues are the monthly
// notice's business).
func (h *handler) deadlineDue(c *Clue, now time.Time) bool {
	if (c.Status != ClueAcknowledged && c.Status != ClueVerifying) || c.Deadline.IsZero() {
		return false
	}
	if !c.DeadlineRemindedAt.IsZero() && c.DeadlineReminded.Equal(c.Deadline) {
		return false
	}
	if dayStart(now, h.b.Loc).After(dayStart(c.Deadline, h.b.Loc)) {
		return false
	}
	return workdaysLeft(h.b.Cal, h.b.Loc, now, c.Deadline) <= h.cfg.DeadlineReminderDays
}

// workdaysLeft counts the working days after now's day up to and
// including the deadline's day.
func workdaysLeft(cal bot.Calendar, loc *time.Location, now, deadline time.Time) int {
	n := 0
	end := dayStart(deadline, loc)
	for d := dayStart(now, loc).AddDate(0, 0, 1); !d.After(end) && n <= 3660; d = d.AddDate(0, 0, 1) {
		if cal.IsWorkday(d) {
			n++
		}
	}
	return n
}

// sendDeadlineReminder marks the clue reminded for its current deadline,
// audits it and tells the receiving body's members (and those verifying
// jointly) by DM, in one unit of work.
func (h *handler) sendDeadlineReminder(ctx context.Context, r *bot.Roster, id string, now time.Time) error {
	c, err := update(ctx, h.b, id, func(v *Clue) error {
		if !h.deadlineDue(v, now) {
			return errNotDue
		}
		v.DeadlineRemindedAt, v.DeadlineReminded = now, v.Deadline
		v.History = append(v.History, bot.History{Time: now, Action: "remind_deadline"})
		return nil
	})
	if errors.Is(err, errNotDue) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := h.b.Audit.Record(ctx, nil, "clue.remind_deadline", id, "body="+c.Body+" deadline="+bot.FormatDate(c.Deadline, h.b.Loc)); err != nil {
		return err
	}
	days := workdaysLeft(h.b.Cal, h.b.Loc, now, c.Deadline)
	var errs []error
	for _, m := range handlers(r, c) {
		lang := h.b.People.LangOf(ctx, m)
		text := h.t(lang, "clue.remind.deadline", "mention", bot.MentionTag(m), "id", c.ID, "deadline", bot.FormatDate(c.Deadline, h.b.Loc), "days", days)
		if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: m.ID, Text: text, Key: "clue:" + id + ":remind-deadline:" + bot.FormatDate(c.Deadline, h.b.Loc)}); err != nil {
			errs = append(errs, fmt.Errorf("clue %s deadline reminder to %s: %w", id, m.ID, err))
		}
	}
	return errors.Join(errs...)
}

// officeGroup is the chat group of the inspection office body, if any.
func officeGroup(r *bot.Roster) string {
	for _, b := range r.BodiesOf(bot.InspectionOffice) {
		if b.Group != "" {
			return b.Group
		}
	}
	return ""
}

// workdaysSince counts the working days from t's day (exclusive) to
// now's day (inclusive).
func workdaysSince(cal bot.Calendar, loc *time.Location, t, now time.Time) int {
	n := 0
	for d := dayStart(t, loc).AddDate(0, 0, 1); !d.After(now); d = d.AddDate(0, 0, 1) {
		if cal.IsWorkday(d) {
			n++
		}
		if n > 3660 {
			break
		}
	}
	return n
}
