package slack

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/outbox"
)

// A bot token Slack refuses is an auth failure at the credentials check,
// naming Slack's code; an accepted one passes and teaches the bot its id.
func TestCheckCredentials(t *testing.T) {
	hs := newHarness(t)
	hs.fake.RefuseAll("invalid_auth")
	err := hs.a.CheckCredentials(context.Background())
	if err == nil || !bot.IsAuthFailure(err) || bot.APICode(err) != "invalid_auth" || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("CheckCredentials with a refused token = %v (auth failure %v, code %q), want an auth failure invalid_auth",
			err, bot.IsAuthFailure(err), bot.APICode(err))
	}
	hs.fake.RefuseAll("")
	if err := hs.a.CheckCredentials(context.Background()); err != nil {
		t.Fatalf("CheckCredentials with a good token = %v", err)
	}
	if got := hs.a.knownBotUser(); got != slacktest.BotUserID {
		t.Errorf("bot user %q, want %q", got, slacktest.BotUserID)
	}
}

// A notice Slack refuses for the app's token or scopes stays queued in
// the outbox, is reported as an auth failure, and goes out once the app
// is fixed; a refusal for the message itself is still given up on.
func TestAuthFailuresKeepNoticesQueued(t *testing.T) {
	for _, code := range []string{"invalid_auth", "token_revoked", "missing_scope"} {
		t.Run(code, func(t *testing.T) {
			hs := newHarness(t, withRetries(0))
			var failed []error
			var buried []string
			x := outbox.New(hs.env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{},
				Failed: func(_ bot.Platform, err error) { failed = append(failed, err) },
				Buried: func(_ bot.Platform, reason string) { buried = append(buried, reason) }})
			hs.env.Bot.Out.SetSender(x)
			ctx := context.Background()
			hs.fake.RefuseAll(code)
			if _, err := hs.env.Bot.Out.Send(ctx, bot.Outgoing{Platform: Name, ChatID: "C0COORD", Text: "通知"}); !errors.Is(err, bot.ErrQueued) {
				t.Fatalf("send: %v, want it queued", err)
			}
			for range 3 {
				hs.env.Clock.Advance(10 * time.Minute)
				if _, err := x.Flush(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if depth, _, err := x.Stats(ctx); err != nil || depth != 1 {
				t.Fatalf("outbox depth %d (%v) after %s, want the notice still queued", depth, err, code)
			}
			if len(buried) != 0 {
				t.Fatalf("dead letters %v, want none", buried)
			}
			if len(failed) == 0 || !bot.IsAuthFailure(failed[0]) || bot.APICode(failed[0]) != code {
				t.Fatalf("failures reported %v, want auth failures %s", failed, code)
			}
			hs.fake.RefuseAll("")
			hs.env.Clock.Advance(10 * time.Minute)
			if n, err := x.Flush(ctx); err != nil || n != 1 {
				t.Fatalf("flush after the fix: %d, %v", n, err)
			}
			if posts := hs.fake.Posts("C0COORD"); len(posts) != 1 {
				t.Fatalf("posts %d, want the notice once", len(posts))
			}
		})
	}
	t.Run("channel_not_found is given up on", func(t *testing.T) {
		hs := newHarness(t, withRetries(0))
		var buried []string
		x := outbox.New(hs.env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{},
			Buried: func(_ bot.Platform, reason string) { buried = append(buried, reason) }})
		hs.env.Bot.Out.SetSender(x)
		hs.fake.RefuseAll("channel_not_found")
		ctx := context.Background()
		_, _ = hs.env.Bot.Out.Send(ctx, bot.Outgoing{Platform: Name, ChatID: "C0GONE", Text: "通知"})
		hs.env.Clock.Advance(time.Minute)
		_, _ = x.Flush(ctx)
		if len(buried) != 1 || buried[0] != "channel_not_found" {
			t.Fatalf("dead letters %v, want one channel_not_found", buried)
		}
	})
}
