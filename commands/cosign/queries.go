package cosign

import (
	"context"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Queries answers other domains' questions about co-signature requests.
// Each question is one method with its filter as parameters, so that an
// index can answer it later without a change to the callers. For now
// each reads the whole collection.
type Queries struct{ cosigns bot.Collection[Cosign] }

// NewQueries returns the co-signature queries over s.
func NewQueries(s bot.Store) Queries { return Queries{cosigns: bot.Records[Cosign](s, CollCosigns)} }

// Get returns the request with id, e.g. for a rectification item that
// reads its hand-over; a not-found error when there is none.
func (q Queries) Get(ctx context.Context, id string) (*Cosign, error) { return q.cosigns.Get(ctx, id) }

// AwaitingSignatureOf returns the requests in progress (open, or declined
// and back with the creator) where body is a party that has not
// confirmed, in id order.
func (q Queries) AwaitingSignatureOf(ctx context.Context, body string) ([]*Cosign, error) {
	return q.filter(ctx, func(c *Cosign) bool {
		if c.State != CosignOpen && c.State != CosignDeclined {
			return false
		}
		i := c.PartyOf(body)
		return i >= 0 && c.Parties[i].State != PartyConfirmed
	})
}

// UnsignedAt returns the open requests with a party that may sign now
// and has not, past its reminder time at now, in id order: the input of
// meeting agendas. Each request's Overdue(now) names the parties.
func (q Queries) UnsignedAt(ctx context.Context, now time.Time) ([]*Cosign, error) {
	return q.filter(ctx, func(c *Cosign) bool { return len(c.Overdue(now)) > 0 })
}

// RemindedBetween returns the requests with a party whose reminder time
// falls in [from, to), in id order: the input of the assessment.
func (q Queries) RemindedBetween(ctx context.Context, from, to time.Time) ([]*Cosign, error) {
	return q.filter(ctx, func(c *Cosign) bool {
		return slices.ContainsFunc(c.Parties, func(p CosignParty) bool {
			return !p.RemindAt.IsZero() && !p.RemindAt.Before(from) && p.RemindAt.Before(to)
		})
	})
}

func (q Queries) filter(ctx context.Context, keep func(*Cosign) bool) ([]*Cosign, error) {
	all, err := q.cosigns.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(c *Cosign) bool { return !keep(c) }), nil
}
