// Package all registers every command package with the bot, wiring the
// domains that ask each other questions (admin's open-work counts,
// round's immediate-fix makers) through their query APIs and makers. It
// is the one list of the bot's domains that cmd/xunji and the scale
// benchmark share.
package all

import (
	"context"

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

// Register adds every command package to b, wired to each other as
// cmd/xunji runs them: the one list of the bot's domains.
func Register(b *bot.Bot, c *config.Config) error {
	for _, reg := range []func(*bot.Bot, *config.Config) error{
		registerAdmin,
		clue.Register,
		registerCosign,
		progress.Register,
		registerRound,
		consult.Register,
		assess.Register,
		meeting.Register,
	} {
		if err := reg(b, c); err != nil {
			return err
		}
	}
	return nil
}

// registerAdmin adds the administration commands, with each domain's
// count of the open work a body's last member leaves behind.
func registerAdmin(b *bot.Bot, c *config.Config) error {
	return admin.Register(b, c, openWork(b)...)
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

// registerRound adds inspection rounds, with the progress and cosign
// domains' makers behind the immediate-fix button.
func registerRound(b *bot.Bot, c *config.Config) error {
	items, err := progress.NewMaker(b, c)
	if err != nil {
		return err
	}
	cosigns, err := cosign.NewMaker(b, c, cosignTemplates(c))
	if err != nil {
		return err
	}
	return round.Register(b, c, round.Fix{Items: items, Cosigns: cosigns})
}

// cosignTemplates are the built-in co-signature templates and those of
// the configuration.
func cosignTemplates(c *config.Config) []config.CosignTemplate {
	return append(cosign.Builtin(), c.Cosign.Templates...)
}

// registerCosign adds co-signatures with the built-in templates and those
// of the configuration.
func registerCosign(b *bot.Bot, c *config.Config) error {
	return cosign.RegisterWith(b, c, cosignTemplates(c))
}
