package clue

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Queries answers other domains' (and cmd's) questions about clues. Each
// question is one method with its filter as parameters, answered from the
// clue index (CollIndex) at the cost of what it returns. The clues the
// index answers with are rows: without their substance, history, card
// and message references (Get reads a whole clue).
type Queries struct {
	s     bot.Store
	clues bot.Collection[Clue]
	loc   *time.Location
}

// NewQueries returns the clue queries over s; loc is the deployment's
// zone, in which deadlines are days.
func NewQueries(s bot.Store, loc *time.Location) Queries {
	return Queries{s: s, clues: bot.Records[Clue](s, CollClues), loc: loc}
}

// All returns every clue in id order: for the fault suite's observer,
// which checks everything a run stored.
func (q Queries) All(ctx context.Context) ([]*Clue, error) { return q.clues.List(ctx) }

// OpenReceivedBy returns the clues body received that are still being
// handled (neither concluded nor returned), in number order, as rows.
func (q Queries) OpenReceivedBy(ctx context.Context, body string) ([]*Clue, error) {
	src, err := openSource(ctx, q.s)
	if err != nil {
		return nil, err
	}
	return src.rows(ctx, "o\x00"+whoReceiver+body+"\x00", "", nil)
}

// OverdueAt returns the open clues whose deadline day is before the day
// of now (Clue.OverdueAt), in number order, as rows, for meeting agendas.
// It reads the open clues by deadline up to today.
func (q Queries) OverdueAt(ctx context.Context, now time.Time) ([]*Clue, error) {
	src, err := openSource(ctx, q.s)
	if err != nil {
		return nil, err
	}
	return overdue(ctx, src, now, q.loc)
}

func overdue(ctx context.Context, src *source, now time.Time, loc *time.Location) ([]*Clue, error) {
	// A deadline's day is before today's when the deadline is before
	// today's midnight.
	end := "d\x00" + timeKey(bot.Midnight(now, loc))
	rows, err := src.rows(ctx, "d\x00", "", func(id string) bool { return id >= end })
	if err != nil {
		return nil, err
	}
	rows = slices.DeleteFunc(rows, func(c *Clue) bool { return !c.OverdueAt(now, loc) })
	sortByNumber(rows)
	return rows, nil
}

// ActiveDuring returns, as rows in number order, the clues created at or
// before to that are open now or were closed at or after from (or at a
// time not recorded): every clue a report of the period [from, to) may
// count, read from the open clues and those closed since from — not the
// whole history. Callers apply their own period rule to what it returns
// (InPeriod, the notice's and the assessment's).
func (q Queries) ActiveDuring(ctx context.Context, from, to time.Time) ([]*Clue, error) {
	src, err := openSource(ctx, q.s)
	if err != nil {
		return nil, err
	}
	return activeDuring(ctx, src, from, to)
}

func activeDuring(ctx context.Context, src *source, from, to time.Time) ([]*Clue, error) {
	open, err := src.rows(ctx, "o\x00"+whoAll+"\x00", "", nil)
	if err != nil {
		return nil, err
	}
	closed, err := src.rows(ctx, "c\x00", "c\x00"+timeKey(from), nil)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(append(open, closed...), func(c *Clue) bool { return c.CreatedAt.After(to) })
	sortByNumber(out)
	return out, nil
}

// CreatedUntil returns the clues created at or before t, in id order: the
// clues a report as of t can show. It reads the whole collection; reports
// of a period use ActiveDuring.
func (q Queries) CreatedUntil(ctx context.Context, t time.Time) ([]*Clue, error) {
	all, err := q.clues.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(c *Clue) bool { return c.CreatedAt.After(t) }), nil
}

func sortByNumber(cs []*Clue) {
	slices.SortFunc(cs, func(a, b *Clue) int { return strings.Compare(sortKey(a.ID), sortKey(b.ID)) })
}
