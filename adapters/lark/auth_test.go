package lark

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/outbox"
)

// An app secret Lark refuses is an auth failure at the credentials
// check, naming Lark's code; the right one passes.
func TestCheckCredentials(t *testing.T) {
	bad := newHarness(t, "", func(c *Config) { c.AppSecret = "not-the-secret" })
	err := bad.a.CheckCredentials(context.Background())
	if err == nil || !bot.IsAuthFailure(err) || bot.APICode(err) != "10014" {
		t.Fatalf("CheckCredentials with a wrong secret = %v (auth failure %v, code %q), want an auth failure 10014",
			err, bot.IsAuthFailure(err), bot.APICode(err))
	}
	good := newHarness(t, "")
	if err := good.a.CheckCredentials(context.Background()); err != nil {
		t.Fatalf("CheckCredentials with the right secret = %v", err)
	}
}

// A notice Lark refuses for the app's permissions stays queued, is
// reported as an auth failure, and goes out once the app is fixed.
func TestAuthFailuresKeepNoticesQueued(t *testing.T) {
	hs := newHarness(t, "")
	var failed []error
	var buried []string
	x := outbox.New(hs.env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{},
		Failed: func(_ bot.Platform, err error) { failed = append(failed, err) },
		Buried: func(_ bot.Platform, reason string) { buried = append(buried, reason) }})
	hs.env.Bot.Out.SetSender(x)
	ctx := context.Background()
	hs.fake.FailAll(&larktest.Failure{Status: http.StatusBadRequest, Code: 99991672}) // app lacks the scope
	if _, err := hs.env.Bot.Out.Send(ctx, bot.Outgoing{Platform: Name, ChatID: coordChat, Text: "通知"}); !errors.Is(err, bot.ErrQueued) {
		t.Fatalf("send: %v, want it queued", err)
	}
	for range 3 {
		hs.env.Clock.Advance(10 * time.Minute)
		if _, err := x.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if depth, _, err := x.Stats(ctx); err != nil || depth != 1 || len(buried) != 0 {
		t.Fatalf("outbox depth %d (%v), dead letters %v: want the notice still queued", depth, err, buried)
	}
	if len(failed) == 0 || !bot.IsAuthFailure(failed[0]) || bot.APICode(failed[0]) != "99991672" {
		t.Fatalf("failures reported %v, want auth failures 99991672", failed)
	}
	hs.fake.FailAll(nil)
	hs.env.Clock.Advance(10 * time.Minute)
	if n, err := x.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("flush after the fix: %d, %v", n, err)
	}
	if shown := hs.fake.Messages(coordChat); len(shown) != 1 {
		t.Fatalf("shown %d, want the notice once", len(shown))
	}
}
