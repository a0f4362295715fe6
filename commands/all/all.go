// Package all is the one list of the bot's domains (Modules) that
// cmd/xunji and the scale benchmark share, wiring the domains that ask
// each other questions (admin's open-work counts, round's immediate-fix
// makers) through their query APIs and makers. Adding a domain is its
// folder under commands/, one line in Modules and its section in the
// example configuration.
package all

import (
	"context"
	"errors"
	"fmt"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/admin"
	"github.com/xunji-bot/xunji/commands/assess"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/consult"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/meeting"
	"github.com/xunji-bot/xunji/commands/progress"
	"github.com/xunji-bot/xunji/commands/round"
)

// Modules returns every domain, in the order they are set up.
func Modules() []config.Module {
	return []config.Module{
		admin.Module(openWork),
		clue.Module(),
		cosign.Module(),
		progress.Module(),
		round.Module(fixMakers),
		consult.Module(),
		assess.Module(),
		meeting.Module(),
	}
}

// Check validates the domains' settings in c (every module's Check) and
// refuses top-level keys no domain claims, joining every error; each
// names its key. cmd/xunji runs it as soon as the configuration is
// loaded, and Register runs it again.
func Check(c *config.Config) error {
	mods := Modules()
	errs := []error{config.CheckSections(c, mods)}
	for _, m := range mods {
		if m.Check != nil {
			errs = append(errs, m.Check(c))
		}
	}
	return errors.Join(errs...)
}

// Load reads the configuration file at path and validates it whole: the
// core (config.Load) and every domain's settings (Check).
func Load(path string) (*config.Config, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	if err := Check(c); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Register checks c (Check) and sets up every domain with b, wired to
// each other as cmd/xunji runs them.
func Register(b *bot.Bot, c *config.Config) error {
	if err := Check(c); err != nil {
		return err
	}
	for _, m := range Modules() {
		if err := m.Setup(b, c); err != nil {
			return err
		}
	}
	return nil
}

// openWork returns each domain's count of the open work waiting on a
// body, in the order the roster warning names them.
func openWork(b *bot.Bot) []admin.OpenWork {
	clues, items := clue.NewQueries(b.Store, b.Loc), progress.NewQueries(b.Store, b.Loc)
	cosigns, consults := cosign.NewQueries(b.Store), consult.NewQueries(b.Store)
	return []admin.OpenWork{
		{Kind: "clue", Count: count(clues.OpenReceivedBy)},
		{Kind: "item", Count: count(items.OpenItemsOf)},
		{Kind: "cosign", Count: count(cosigns.AwaitingSignatureOf)},
		{Kind: "consult", Count: count(consults.UnansweredBy)},
	}
}

// count turns a query of the records waiting on a body into a count.
func count[T any](query func(context.Context, string) ([]T, error)) func(context.Context, string) (int, error) {
	return func(ctx context.Context, body string) (int, error) {
		recs, err := query(ctx, body)
		return len(recs), err
	}
}

// fixMakers are the progress and cosign domains' makers behind the
// round's immediate-fix button.
func fixMakers(b *bot.Bot, c *config.Config) (round.Fix, error) {
	items, err := progress.NewMaker(b, c)
	if err != nil {
		return round.Fix{}, err
	}
	cosigns, err := cosign.NewMaker(b, c)
	if err != nil {
		return round.Fix{}, err
	}
	return round.Fix{Items: items, Cosigns: cosigns}, nil
}
