package progress

import (
	"context"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Queries answers other domains' questions about rectification items,
// monthly collections and relay checks. Each question is one method with
// its filter as parameters, answered from an index or a page of its
// collection.
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
// responsible unit of or supervises, in id order: their summaries (no
// history or card references), read from the index of body's open items.
func (q Queries) OpenItemsOf(ctx context.Context, body string) ([]*Item, error) {
	return indexedUnder(ctx, q.items.Store, ixOpen+body+"\x00")
}

// LatestClosedCollection returns the month whose collection closed last
// by now (the greatest month id among those closed at or before now), or
// nil when none has. It reads the months newest first.
func (q Queries) LatestClosedCollection(ctx context.Context, now time.Time) (*ProgressMonth, error) {
	r := bot.Range{Reverse: true, Limit: 12}
	for {
		ms, ids, err := q.months.Scan(ctx, r)
		if err != nil {
			return nil, err
		}
		for _, pm := range ms {
			if pm.Closed() && !pm.ClosedAt.After(now) {
				return pm, nil
			}
		}
		if len(ms) < r.Limit {
			return nil, nil
		}
		r.After = ids[len(ids)-1]
	}
}

// ClosedCollections returns the months starting in [from, to) whose
// collection closed at or before asOf, in month order. It reads the
// months of [from, to) only.
func (q Queries) ClosedCollections(ctx context.Context, from, to, asOf time.Time) ([]*ProgressMonth, error) {
	var out []*ProgressMonth
	r := bot.Range{After: PrevMonthID(MonthID(from, q.loc)), Limit: 12}
	for {
		ms, ids, err := q.months.Scan(ctx, r)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			start, err := time.ParseInLocation("2006-01", m.ID, q.loc)
			if err != nil || start.Before(from) {
				continue
			}
			if !start.Before(to) {
				return out, nil
			}
			if m.Closed() && !m.ClosedAt.After(asOf) {
				out = append(out, m)
			}
		}
		if len(ms) < r.Limit {
			return out, nil
		}
		r.After = ids[len(ids)-1]
	}
}

// ChecksPromptedBetween returns the relay checks whose period (the month
// of the prompt) starts in [from, to), in period order, reading the
// index of checks by period for those months only. (An assessment of
// [from, to) wants the checks due in it: those prompted from two months
// before from, the longest cycle.)
func (q Queries) ChecksPromptedBetween(ctx context.Context, from, to time.Time) ([]*Check, error) {
	var out []*Check
	r := bot.Range{After: PrevMonthID(MonthID(from, q.loc)) + "\xff", Limit: indexPage}
	for {
		docs, err := bot.ScanDocs(ctx, q.checks.Store, CollCheckIndex, r)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			period, id, _ := strings.Cut(d.ID, "\x00")
			start, err := time.ParseInLocation("2006-01", period, q.loc)
			if err != nil || start.Before(from) {
				continue
			}
			if !start.Before(to) {
				return out, nil
			}
			c, err := q.checks.Get(ctx, id)
			if bot.IsNotFound(err) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		if len(docs) < r.Limit {
			return out, nil
		}
		r.After = docs[len(docs)-1].ID
	}
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
