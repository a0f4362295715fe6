package round

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// The feedback-day job: a round whose feedback date was given when it
// was created (round new … feedback:2026-12-20), or that was put in the
// store directly (the demo round), tells its attached bodies on the
// feedback day that their day-to-day supervision starts — the notice the
// feedback command sends — once per round and feedback date.
//
// It sends on the feedback day or, when that is not a working day, on the
// next working day, between 09:00 and 18:00 (b.Loc, b.Cal). A feedback
// date that passed while the bot was down is still notified once, the
// notice naming the date, unless it is more than FeedbackGraceDays past
// when the job first sees it in office hours: a new deployment does not
// flood the bodies with old rounds. A feedback date that the feedback
// command has notified is not notified again.
//
// Which dates have been notified is recorded in CollFeedbackNotices, one
// record per round: the first notice creates it with Store.Create, a new
// date updates it atomically, so of two replicas running the job at once
// only the one whose write succeeds sends.
const (
	// FeedbackJobName is the feedback-day job; it runs every FeedbackJobEvery.
	FeedbackJobName  = "round.feedback_notices"
	FeedbackJobEvery = 15 * time.Minute
	// FeedbackGraceDays is how many days after its feedback date a round
	// is still notified by the job.
	FeedbackGraceDays = 30
	// CollFeedbackNotices holds one feedbackNotice per round id.
	CollFeedbackNotices = "round_feedback_notices"
)

// feedbackNotice records the last feedback date of a round whose
// attached bodies were told.
type feedbackNotice struct {
	Round string    `json:"round"`
	Date  string    `json:"date"`         // feedback date told, YYYY-MM-DD in b.Loc
	By    string    `json:"by,omitempty"` // person who ran the feedback command; "" for the job
	At    time.Time `json:"at"`
}

var errAlreadyNotified = errors.New("round: feedback already notified")

// claimFeedbackNotice records that the bodies of round id are being told
// of feedback date. It reports whether this caller made the record, that
// is whether date had not been recorded before; only then may the job
// send.
func (h *handler) claimFeedbackNotice(ctx context.Context, id, date, by string) (bool, error) {
	n := &feedbackNotice{Round: id, Date: date, By: by, At: h.b.Now()}
	err := h.notices.Create(ctx, id, n)
	if err == nil {
		return true, nil
	}
	if bot.ErrorCode(err) != bot.ECONFLICT {
		return false, err
	}
	_, err = h.notices.Update(ctx, id, func(v *feedbackNotice) error {
		if v.Date == date {
			return errAlreadyNotified
		}
		*v = *n
		return nil
	})
	switch {
	case errors.Is(err, errAlreadyNotified):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// feedbackJob tells the attached bodies of each round whose feedback day
// has come and that nobody has told yet.
func (h *handler) feedbackJob(ctx context.Context, now time.Time) error {
	l := now.In(h.b.Loc)
	if !bot.OfficeHours(h.b.Cal, h.b.Loc, l) {
		return nil
	}
	today := dayStart(l, h.b.Loc)
	// The rounds whose feedback day is within the grace days up to
	// today, from the index by feedback time.
	ids, err := index.Between(ctx, h.b.Store, CollRoundIndex, idxFeedback, today.AddDate(0, 0, -FeedbackGraceDays-1), today.AddDate(0, 0, 2))
	if err != nil {
		return err
	}
	var all []*Round
	for _, id := range index.Unique(ids) {
		rd, err := h.rounds.Get(ctx, id)
		if bot.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		all = append(all, rd)
	}
	var r *bot.Roster
	var errs []error
	for _, rd := range all {
		if rd.Feedback.IsZero() || len(rd.Attached) == 0 {
			continue
		}
		day := dayStart(rd.Feedback, h.b.Loc)
		if today.Before(day) || today.After(day.AddDate(0, 0, FeedbackGraceDays)) {
			continue
		}
		if r == nil {
			if r, err = h.b.People.Roster(ctx); err != nil {
				return err
			}
		}
		// The claim, the audit entry and the notices are one unit of work.
		errs = append(errs, h.b.RunUnit(ctx, func(ctx context.Context) error { return h.feedbackDue(ctx, r, rd, today) }))
	}
	return errors.Join(errs...)
}

// feedbackDue sends rd's feedback notice unless it was sent before.
func (h *handler) feedbackDue(ctx context.Context, r *bot.Roster, rd *Round, today time.Time) error {
	date := bot.FormatDate(rd.Feedback, h.b.Loc)
	mine, err := h.claimFeedbackNotice(ctx, rd.ID, date, "")
	if err != nil || !mine {
		return err
	}
	late := h.b.Cal.OnOrAfter(dayStart(rd.Feedback, h.b.Loc)).Before(today)
	if err := h.b.Audit.Record(ctx, nil, "round.feedback_notice", rd.ID,
		fmt.Sprintf("date=%s to=%s late=%t", date, strings.Join(rd.Attached, ","), late)); err != nil {
		return err
	}
	if failed := h.tellFeedback(ctx, r, rd, rd.Attached, h.b.Lang); len(failed) > 0 {
		return fmt.Errorf("round: feedback notice of %s not delivered to %v", rd.ID, failed)
	}
	return nil
}
