package all

import (
	"context"
	"fmt"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/consult"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/meeting"
	"github.com/xunji-bot/xunji/commands/progress"
	"github.com/xunji-bot/xunji/commands/round"
)

// Backfill is one domain's backfill of its index documents (see
// commands/internal/index.Backfill): idempotent, with a stored marker,
// reading its collection a page at a time. It returns how many records
// it read.
type Backfill struct {
	Name string
	Run  func(ctx context.Context, b *bot.Bot) (int, error)
}

// Backfills are the domains' index backfills, run at start-up (after the
// audit index's) so that a store written by a version without an index
// gets it before any command reads it.
var Backfills = []Backfill{
	{"clue", clue.BackfillIndex},
	{"progress", progress.BackfillIndex},
	{"cosign", cosign.BackfillIndex},
	{"meeting", meeting.BackfillIndex},
	{"consult", consult.BackfillIndex},
	{"round", round.BackfillIndex},
}

// BackfillIndexes runs every domain's index backfill and returns how many
// records each read (domains with none left out).
func BackfillIndexes(ctx context.Context, b *bot.Bot) (map[string]int, error) {
	n := map[string]int{}
	for _, f := range Backfills {
		got, err := f.Run(ctx, b)
		if err != nil {
			return n, fmt.Errorf("%s index: %w", f.Name, err)
		}
		if got > 0 {
			n[f.Name] = got
		}
	}
	return n, nil
}
