package consult

import (
	"context"
	"slices"

	"github.com/xunji-bot/xunji/bot"
)

// Queries answers other domains' questions about information requests.
// Each question is one method with its filter as parameters, so that an
// index can answer it later without a change to the callers. For now
// each reads the whole collection.
type Queries struct{ consults bot.Collection[Consultation] }

// NewQueries returns the consultation queries over s.
func NewQueries(s bot.Store) Queries {
	return Queries{consults: bot.Records[Consultation](s, CollConsults)}
}

// UnansweredBy returns the requests that ask body and that it has not
// answered, in id order.
func (q Queries) UnansweredBy(ctx context.Context, body string) ([]*Consultation, error) {
	all, err := q.consults.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(c *Consultation) bool {
		i := c.Dept(body)
		return i < 0 || c.Depts[i].Answered()
	}), nil
}
