package consult

import (
	"context"
	"slices"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// Queries answers other domains' questions about information requests.
// Each question is one method with its filter as parameters, answered
// from the requests' index (CollConsultIndex).
type Queries struct {
	store    bot.Store
	consults bot.Collection[Consultation]
}

// NewQueries returns the consultation queries over s.
func NewQueries(s bot.Store) Queries {
	return Queries{store: s, consults: bot.Records[Consultation](s, CollConsults)}
}

// UnansweredBy returns the requests that ask body and that it has not
// answered, in id order.
func (q Queries) UnansweredBy(ctx context.Context, body string) ([]*Consultation, error) {
	ids, _, err := index.Page(ctx, q.store, CollConsultIndex, idxOpen+body+index.Sep, "", 0, false)
	if err != nil {
		return nil, err
	}
	return q.load(ctx, ids, func(c *Consultation) bool {
		i := c.Dept(body)
		return i >= 0 && !c.Depts[i].Answered()
	})
}

// ofRound returns the requests of round, in id order.
func (q Queries) ofRound(ctx context.Context, round string) ([]*Consultation, error) {
	ids, _, err := index.Page(ctx, q.store, CollConsultIndex, idxRound+round+index.Sep, "", 0, false)
	if err != nil {
		return nil, err
	}
	return q.load(ctx, ids, func(c *Consultation) bool { return c.Round == round })
}

// load reads the requests the index ids name (their last part), in
// order, keeping those keep accepts.
func (q Queries) load(ctx context.Context, ids []string, keep func(*Consultation) bool) ([]*Consultation, error) {
	out := make([]*Consultation, 0, len(ids))
	for _, id := range index.Unique(ids) {
		c, err := q.consults.Get(ctx, id)
		if bot.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if keep(c) {
			out = append(out, c)
		}
	}
	return slices.Clip(out), nil
}
