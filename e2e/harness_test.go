package e2e_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/admin"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/meeting"
	"github.com/xunji-bot/xunji/commands/progress"
	"github.com/xunji-bot/xunji/commands/round"
)

// platform is one chat platform with the bot's adapter on it, seen from
// the people using it. Every method waits until the bot's answer has
// reached the platform's fake server.
type platform interface {
	name() string
	env() *bottest.Env
	// userID is person's id on the platform (a roster person id).
	userID(person string) string
	// command runs line as person in the coordination group and returns
	// what the person was shown in answer.
	command(person, line string) string
	// direct runs line as person in the person's one-to-one chat with
	// the bot and returns the answer.
	direct(person, line string) string
	// groupCards returns the cards posted to the coordination group.
	groupCards() []card
	// clueCards returns the cards posted to the discipline-only clue
	// group.
	clueCards() []card
	// groupTexts returns the texts of the messages posted to the
	// coordination group (cards included).
	groupTexts() []string
	// dms returns the texts of the direct messages person received.
	dms(person string) []string
	// dmCards returns the cards sent to person directly (a co-signature's
	// when its group may not see it), to click and to follow updates.
	dmCards(person string) []card
	// click presses the button on posted card c as person.
	click(person string, c card, b button) clicked
	// updates returns the texts of the later versions of posted card c,
	// replaced by the bot (not by a click's answer).
	updates(c card) []string
	// shown returns everything the bot showed anyone on the platform.
	shown() []seen
}

// card is a card as posted on the platform.
type card struct {
	ref     string // Slack ts, Lark message id
	chat    string // where it was posted; "" for the coordination group
	text    string
	buttons []button
}

type button struct{ action, value string }

// find returns the button with action, failing the test when missing.
func (c card) find(t *testing.T, action string) button {
	t.Helper()
	for _, b := range c.buttons {
		if b.action == action {
			return b
		}
	}
	t.Fatalf("no %s button on the card:\n%s", action, c.text)
	return button{}
}

// clicked is the answer to a click: what the clicker read (toast or
// private text) and, when the card was replaced in place, its new form.
type clicked struct {
	text string
	card *card
}

// seen is one thing the bot showed: audience says who could read it.
type seen struct {
	audience string // "group" (coordination), "clue-group", "dm:<person>", "private:<person>"
	text     string
}

// newEnv is a bot on the demo roster, knowing the program's platforms,
// with the admin, clue, co-signature, meeting and progress commands, and
// the first inspection round stored.
func newEnv(t *testing.T) *bottest.Env {
	t.Helper()
	env := bottest.New(t, bottest.WithPlatforms(slack.Platform(), lark.Platform()))
	env.RunOutbox() // as the program: queued messages go out by themselves
	for _, reg := range []func() error{
		func() error { return admin.Module(nil).Setup(env.Bot, env.Config) },
		func() error { return clue.Module().Setup(env.Bot, env.Config) },
		func() error { return cosign.Module().Setup(env.Bot, env.Config) },
		func() error { return meeting.Module().Setup(env.Bot, env.Config) },
		func() error { return progress.Module().Setup(env.Bot, env.Config) },
	} {
		if err := reg(); err != nil {
			t.Fatal(err)
		}
	}
	rd := &round.Round{
		ID: "XC-2026-0001", Name: "区委第一巡察组巡察区财政局党组", Team: "team1", Organisation: "finance",
		Attached: []string{"room2", "group3"}, CreatedBy: "wangming", CreatedAt: env.Clock.Now(),
	}
	if err := round.Seed(context.Background(), env.Store, rd); err != nil {
		t.Fatal(err)
	}
	return env
}

// serve mounts an adapter on a test server and runs it until the test
// ends, waiting for its background work then.
func serve(t *testing.T, env *bottest.Env, a bot.HTTPAdapter) string {
	t.Helper()
	env.Bot.Out.AddAdapter(a)
	mux := http.NewServeMux()
	a.Mount(mux, env.Bot.Inbox)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, env.Bot.Inbox) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s Run: %v", a.Platform(), err)
		}
	})
	return srv.URL
}

func logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// seq numbers events, triggers and nonces within a test.
type seq struct {
	mu sync.Mutex
	n  int
}

func (s *seq) next(prefix string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return fmt.Sprintf("%s-%d", prefix, s.n)
}

// personOf maps a platform user id back to the roster person id.
func personOf(env *bottest.Env, p bot.Platform, userID string) string {
	r, err := env.Bot.People.Roster(context.Background())
	if err != nil {
		return userID
	}
	if person, ok := r.ByPlatformID(p, userID); ok {
		return person.ID
	}
	return userID
}

// forEachPlatform runs flow on Slack, on Lark with plain callbacks and
// on Lark with an Encrypt Key.
func forEachPlatform(t *testing.T, flow func(t *testing.T, p platform)) {
	platforms := []struct {
		name string
		mk   func(t *testing.T) platform
	}{
		{"slack", func(t *testing.T) platform { return newSlack(t) }},
		{"lark", func(t *testing.T) platform { return newLark(t, "") }},
		{"lark_encrypted", func(t *testing.T) platform { return newLark(t, "flow encrypt key") }},
	}
	for _, pl := range platforms {
		t.Run(pl.name, func(t *testing.T) { flow(t, pl.mk(t)) })
	}
}
