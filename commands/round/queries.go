package round

import (
	"context"

	"github.com/xunji-bot/xunji/bot"
)

// Queries answers other domains' questions about rounds. Each question is
// one method, so an index can answer it without touching the callers.
type Queries struct{ rounds bot.Collection[Round] }

// NewQueries returns the round queries over s.
func NewQueries(s bot.Store) Queries { return Queries{rounds: bot.Records[Round](s, CollRounds)} }

// Get returns the round with id (upper case, XC-2026-0001); a not-found
// error when there is none.
func (q Queries) Get(ctx context.Context, id string) (*Round, error) { return q.rounds.Get(ctx, id) }

// Seed stores a round made outside the round command (the demo
// district's); ECONFLICT when one with its id exists. The caller takes
// its number from the id counter. It writes the round's index documents
// as the round command does.
func Seed(ctx context.Context, s bot.Store, r *Round) error { return createRound(ctx, s, r) }

// SeedSituation stores a situation report made outside the round command
// (the scale benchmark's) with its index document, as the command does;
// ECONFLICT when one with its id exists.
func SeedSituation(ctx context.Context, s bot.Store, sit *Situation) error {
	return createSituation(ctx, s, sit)
}
