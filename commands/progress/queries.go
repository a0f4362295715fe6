package progress

import (
	"context"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Queries answers other domains' questions about rectification items,
// monthly collections and relay checks. Each question is one method with
// its filter as parameters, so that an index can answer it later without
// a change to the callers. For now each reads the whole collection.
type Queries struct {
	items  bot.Collection[Item]
	months bot.Collection[ProgressMonth]
	checks bot.Collection[Check]
	loc    *time.Location
}

// NewQueries returns the progress queries over s; loc is the
// deployment's zone, in which month ids are read.
func NewQueries(s bot.Store, loc *time.Location) Queries {
	return Queries{
		items:  bot.Records[Item](s, CollItems),
		months: bot.Records[ProgressMonth](s, CollProgressMonths),
		checks: bot.Records[Check](s, CollProgressChecks),
		loc:    loc,
	}
}

// Item returns the item with id; a not-found error when there is none.
func (q Queries) Item(ctx context.Context, id string) (*Item, error) { return q.items.Get(ctx, id) }

// OpenItemsOf returns the items being rectified (整改中) that body is the
// responsible unit of or supervises, in id order.
func (q Queries) OpenItemsOf(ctx context.Context, body string) ([]*Item, error) {
	all, err := q.items.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(it *Item) bool {
		return !it.Open() || (it.Unit != body && !it.SupervisedBy(body))
	}), nil
}

// LatestClosedCollection returns the month whose collection closed last
// by now (the greatest month id among those closed at or before now), or
// nil when none has.
func (q Queries) LatestClosedCollection(ctx context.Context, now time.Time) (*ProgressMonth, error) {
	months, err := q.months.List(ctx)
	if err != nil {
		return nil, err
	}
	var last *ProgressMonth
	for _, pm := range months {
		if pm.Closed() && !pm.ClosedAt.After(now) && (last == nil || pm.ID > last.ID) {
			last = pm
		}
	}
	return last, nil
}

// ClosedCollections returns the months starting in [from, to) whose
// collection closed at or before asOf, in month order.
func (q Queries) ClosedCollections(ctx context.Context, from, to, asOf time.Time) ([]*ProgressMonth, error) {
	months, err := q.months.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(months, func(m *ProgressMonth) bool {
		start, err := time.ParseInLocation("2006-01", m.ID, q.loc)
		return err != nil || start.Before(from) || !start.Before(to) || !m.Closed() || m.ClosedAt.After(asOf)
	}), nil
}

// ChecksPromptedBefore returns the relay checks whose period (the month
// of the prompt) starts before t, in id order.
func (q Queries) ChecksPromptedBefore(ctx context.Context, t time.Time) ([]*Check, error) {
	checks, err := q.checks.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(checks, func(c *Check) bool {
		start, err := time.ParseInLocation("2006-01", c.Period, q.loc)
		return err != nil || !start.Before(t)
	}), nil
}

// Unreported returns the responsible units (body ids) marked "not
// reported" (未报送) in the collection of month ("2026-12"): empty while
// the collection is open or when the month had none.
func (q Queries) Unreported(ctx context.Context, month string) ([]string, error) {
	m, err := q.months.Get(ctx, month)
	if bot.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return m.Unreported(), nil
}
