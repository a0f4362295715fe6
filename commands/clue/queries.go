package clue

import (
	"context"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Queries answers other domains' (and cmd's) questions about clues. Each
// question is one method with its filter as parameters, so that an index
// can answer it later without a change to the callers. For now each
// reads the whole collection.
type Queries struct {
	clues bot.Collection[Clue]
	loc   *time.Location
}

// NewQueries returns the clue queries over s; loc is the deployment's
// zone, in which deadlines are days.
func NewQueries(s bot.Store, loc *time.Location) Queries {
	return Queries{clues: bot.Records[Clue](s, CollClues), loc: loc}
}

// Get returns the clue with id; a not-found error when there is none.
func (q Queries) Get(ctx context.Context, id string) (*Clue, error) { return q.clues.Get(ctx, id) }

// All returns every clue in id order: for the fault suite's observer,
// which checks everything a run stored.
func (q Queries) All(ctx context.Context) ([]*Clue, error) { return q.clues.List(ctx) }

// OpenReceivedBy returns the clues body received that are still being
// handled (neither concluded nor returned), in id order.
func (q Queries) OpenReceivedBy(ctx context.Context, body string) ([]*Clue, error) {
	return q.filter(ctx, func(c *Clue) bool { return c.Open() && c.Body == body })
}

// OverdueAt returns the open clues whose deadline day is before the day
// of now (Clue.OverdueAt), in id order, for meeting agendas.
func (q Queries) OverdueAt(ctx context.Context, now time.Time) ([]*Clue, error) {
	return q.filter(ctx, func(c *Clue) bool { return c.OverdueAt(now, q.loc) })
}

// CreatedUntil returns the clues created at or before t, in id order: the
// clues a report as of t can show.
func (q Queries) CreatedUntil(ctx context.Context, t time.Time) ([]*Clue, error) {
	return q.filter(ctx, func(c *Clue) bool { return !c.CreatedAt.After(t) })
}

func (q Queries) filter(ctx context.Context, keep func(*Clue) bool) ([]*Clue, error) {
	all, err := q.clues.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(c *Clue) bool { return !keep(c) }), nil
}
