package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/outbox"
)

type rateLimited struct{ after time.Duration }

func (e rateLimited) Error() string             { return "rate limited" }
func (e rateLimited) RetryAfter() time.Duration { return e.after }

type gone struct{}

func (gone) Error() string   { return "channel_not_found" }
func (gone) Permanent() bool { return true }

func newOutbox(t *testing.T) (*bottest.Env, *outbox.Outbox) {
	t.Helper()
	env := bottest.New(t)
	x := outbox.New(env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}})
	env.Bot.Out.SetSender(x)
	return env, x
}

func pendingCount(t *testing.T, s bot.Store, coll string) int {
	t.Helper()
	docs, err := s.List(context.Background(), coll)
	if err != nil {
		t.Fatal(err)
	}
	return len(docs)
}

func msg(chat, text string) bot.Outgoing {
	return bot.Outgoing{Platform: console.Name, ChatID: chat, Text: text}
}

func TestDeliveredAtOnceWhenThePlatformIsUp(t *testing.T) {
	env, x := newOutbox(t)
	ref, err := x.Send(context.Background(), msg("g1", "hello"))
	if err != nil || ref.ID == "" {
		t.Fatalf("send: %v %+v", err, ref)
	}
	if n := len(env.Adapter.Sent()); n != 1 {
		t.Errorf("sent %d messages, want 1", n)
	}
	if n := pendingCount(t, env.Store, outbox.Coll); n != 0 {
		t.Errorf("%d entries left in the outbox", n)
	}
}

// A platform down for ten minutes loses nothing, and when it returns
// each chat's messages go out in the order they were written.
func TestPlatformOutageLosesNothingAndKeepsOrder(t *testing.T) {
	env, x := newOutbox(t)
	ctx := context.Background()
	env.Adapter.Fail = errors.New("503 service unavailable")
	var want []string
	for i := 0; i < 20; i++ {
		chat := fmt.Sprintf("g%d", i%2)
		text := fmt.Sprintf("%s-%02d", chat, i)
		if _, err := x.Send(ctx, msg(chat, text)); !errors.Is(err, bot.ErrQueued) {
			t.Fatalf("send %d during the outage: %v, want ErrQueued", i, err)
		}
		want = append(want, text)
		env.Clock.Advance(30 * time.Second) // 20 messages over 10 minutes
		if _, err := x.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(env.Adapter.Sent()); n != 0 {
		t.Fatalf("%d messages went out while the platform was down", n)
	}
	if n := pendingCount(t, env.Store, outbox.Coll); n != 20 {
		t.Fatalf("outbox holds %d entries, want 20", n)
	}
	env.Adapter.Fail = nil
	env.Clock.Advance(10 * time.Minute)
	sent, err := x.Flush(ctx)
	if err != nil || sent != 20 {
		t.Fatalf("flush after recovery: sent %d, err %v", sent, err)
	}
	got := map[string][]string{}
	for _, m := range env.Adapter.Sent() {
		got[m.ChatID] = append(got[m.ChatID], m.Text)
	}
	for _, chat := range []string{"g0", "g1"} {
		var w []string
		for _, s := range want {
			if s[:2] == chat {
				w = append(w, s)
			}
		}
		if fmt.Sprint(got[chat]) != fmt.Sprint(w) {
			t.Errorf("chat %s order:\n got %v\nwant %v", chat, got[chat], w)
		}
	}
	if n := pendingCount(t, env.Store, outbox.Coll); n != 0 {
		t.Errorf("%d entries left after recovery", n)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	env, x := newOutbox(t)
	ctx := context.Background()
	env.Adapter.Fail = rateLimited{after: 30 * time.Second}
	if _, err := x.Send(ctx, msg("g", "a")); !errors.Is(err, bot.ErrQueued) {
		t.Fatal(err)
	}
	env.Adapter.Fail = nil
	env.Clock.Advance(29 * time.Second)
	if n, _ := x.Flush(ctx); n != 0 {
		t.Errorf("sent %d before Retry-After elapsed", n)
	}
	env.Clock.Advance(2 * time.Second)
	if n, _ := x.Flush(ctx); n != 1 {
		t.Errorf("sent %d after Retry-After, want 1", n)
	}
}

func TestPermanentFailureIsKeptAsDeadLetter(t *testing.T) {
	env, x := newOutbox(t)
	ctx := context.Background()
	env.Adapter.Fail = gone{}
	_, _ = x.Send(ctx, msg("g", "a"))
	if pendingCount(t, env.Store, outbox.Coll) != 0 || pendingCount(t, env.Store, outbox.CollDead) != 1 {
		t.Error("a permanent failure should move the entry to the dead letters")
	}
}

// Entries written by a process that died are sent by the next one.
func TestEntriesSurviveARestart(t *testing.T) {
	env, x := newOutbox(t)
	ctx := context.Background()
	env.Adapter.Fail = errors.New("connection reset")
	_, _ = x.Send(ctx, msg("g", "before the crash"))
	env.Adapter.Fail = nil
	env.Clock.Advance(time.Minute)
	restarted := outbox.New(env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}})
	if n, err := restarted.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("restarted outbox sent %d, err %v", n, err)
	}
	if got := env.Adapter.Sent(); len(got) != 1 || got[0].Text != "before the crash" {
		t.Errorf("sent after restart: %+v", got)
	}
}

// Two replicas flushing the same outbox send each entry once.
func TestReplicasSendEachEntryOnce(t *testing.T) {
	env, x := newOutbox(t)
	ctx := context.Background()
	env.Adapter.Fail = errors.New("down")
	for i := 0; i < 30; i++ {
		_, _ = x.Send(ctx, msg(fmt.Sprintf("g%d", i%5), fmt.Sprint(i)))
	}
	env.Adapter.Fail = nil
	env.Clock.Advance(time.Hour)
	y := outbox.New(env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}})
	var wg sync.WaitGroup
	for _, o := range []*outbox.Outbox{x, y} {
		wg.Add(1)
		go func(o *outbox.Outbox) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				_, _ = o.Flush(ctx)
			}
		}(o)
	}
	wg.Wait()
	seen := map[string]int{}
	for _, m := range env.Adapter.Sent() {
		seen[m.Text]++
	}
	if len(seen) != 30 {
		t.Errorf("%d distinct messages sent, want 30", len(seen))
	}
	for text, n := range seen {
		if n != 1 {
			t.Errorf("message %s sent %d times", text, n)
		}
	}
}

func TestNotifyThroughTheOutboxDuringAnOutage(t *testing.T) {
	env, x := newOutbox(t)
	ctx := context.Background()
	env.Adapter.Fail = errors.New("down")
	refs, err := env.Bot.Out.Notify(ctx, bot.Notice{Group: "coordination", Text: "通知"})
	if err != nil || len(refs) != 1 || refs[0].Pending == "" || refs[0].ID != "" {
		t.Fatalf("notify during an outage: refs %v, err %v (want one pending reference, no error)", refs, err)
	}
	depth, oldest, err := x.Stats(ctx)
	if err != nil || depth != 1 {
		t.Fatalf("stats: %d %v %v", depth, oldest, err)
	}
	env.Clock.Advance(90 * time.Second)
	if _, oldest, _ := x.Stats(ctx); oldest != 90*time.Second {
		t.Errorf("oldest entry age = %v, want 90s", oldest)
	}
}

func TestPacingSpacesMessagesToOneChat(t *testing.T) {
	env := bottest.New(t)
	pace := 30 * time.Millisecond
	x := outbox.New(env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{console.Name: pace}, Now: time.Now})
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < 4; i++ {
		if _, err := x.Send(ctx, msg("g", fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	// Three gaps of at least the pace: a lower bound, not a timing assertion
	// on speed.
	if el := time.Since(start); el < 3*pace {
		t.Errorf("4 messages to one chat took %v, want at least %v", el, 3*pace)
	}
}

// A card posted while its platform was down has a pending reference;
// an update of it waits until the card is out, then edits that message.
func TestUpdateOfAQueuedCardWaitsForIt(t *testing.T) {
	env, x := newOutbox(t)
	ctx := context.Background()
	env.Adapter.Fail = errors.New("503")
	refs, err := env.Bot.Out.Notify(ctx, bot.Notice{Group: "coordination", Card: &bot.Card{Title: "v1"}})
	if err != nil || len(refs) != 1 || refs[0].Pending == "" {
		t.Fatalf("notify: %v %v", refs, err)
	}
	// Updated twice while the platform is still down.
	for _, title := range []string{"v2", "v3"} {
		if err := env.Bot.Out.UpdateCards(ctx, refs, &bot.Card{Title: title}); err != nil {
			t.Fatalf("update %s: %v", title, err)
		}
	}
	env.Adapter.Fail = nil
	env.Clock.Advance(10 * time.Minute)
	for range 3 { // until the card and both updates are out
		if _, err := x.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(time.Minute)
	}
	sent := env.Adapter.Sent()
	if len(sent) != 3 {
		t.Fatalf("sent %d messages, want the card and two updates: %+v", len(sent), sent)
	}
	if sent[0].Update != nil || sent[0].Card.Title != "v1" {
		t.Fatalf("first sent %+v, want the card v1", sent[0])
	}
	for i, title := range []string{"v2", "v3"} {
		u := sent[i+1]
		if u.Update == nil || u.Update.ID != "1" || u.Update.Pending != "" || u.Card.Title != title {
			t.Errorf("update %d: %+v, want card %s on message 1", i+1, u, title)
		}
	}
	if n := pendingCount(t, env.Store, outbox.Coll); n != 0 {
		t.Errorf("%d entries left", n)
	}

	// Later updates find the delivered message at once.
	env.Adapter.Reset()
	if err := env.Bot.Out.UpdateCards(ctx, refs, &bot.Card{Title: "v4"}); err != nil {
		t.Fatal(err)
	}
	if sent := env.Adapter.Sent(); len(sent) != 1 || sent[0].Update == nil || sent[0].Update.ID != "1" || sent[0].Card.Title != "v4" {
		t.Errorf("update after delivery: %+v", sent)
	}
}

// A direct message that was queued: its update resolves by the delivery
// record, since the chat of a direct message is known only then.
func TestUpdateOfAQueuedDirectMessage(t *testing.T) {
	env, x := newOutbox(t)
	ctx := context.Background()
	env.Adapter.Fail = errors.New("503")
	ref, err := x.Send(ctx, bot.Outgoing{Platform: console.Name, UserID: "lina", Card: &bot.Card{Title: "v1"}})
	if !errors.Is(err, bot.ErrQueued) || ref.Pending == "" {
		t.Fatalf("send: %+v %v", ref, err)
	}
	if _, err := x.Send(ctx, bot.Outgoing{Platform: console.Name, ChatID: ref.ChatID, Card: &bot.Card{Title: "v2"}, Update: &ref}); !errors.Is(err, bot.ErrQueued) {
		t.Fatalf("update before delivery: %v, want ErrQueued", err)
	}
	env.Adapter.Fail = nil
	env.Clock.Advance(time.Minute)
	for range 3 {
		if _, err := x.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(time.Minute)
	}
	sent := env.Adapter.Sent()
	if len(sent) != 2 || sent[1].Update == nil || sent[1].Update.ChatID != "dm:lina" || sent[1].Update.ID != "1" || sent[1].Card.Title != "v2" {
		t.Fatalf("sent %+v", sent)
	}
}

// An update of a message given up on is given up on too.
func TestUpdateOfADeadMessageIsDead(t *testing.T) {
	env, x := newOutbox(t)
	ctx := context.Background()
	env.Adapter.Fail = errors.New("503")
	ref, err := x.Send(ctx, msg("g", "a"))
	if !errors.Is(err, bot.ErrQueued) {
		t.Fatal(err)
	}
	if _, err := x.Send(ctx, bot.Outgoing{Platform: console.Name, ChatID: "g", Text: "b", Update: &ref}); !errors.Is(err, bot.ErrQueued) {
		t.Fatal(err)
	}
	env.Adapter.Fail = gone{}
	env.Clock.Advance(time.Hour)
	for range 3 {
		if _, err := x.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(time.Hour)
	}
	if pendingCount(t, env.Store, outbox.Coll) != 0 || pendingCount(t, env.Store, outbox.CollDead) != 2 {
		t.Errorf("outbox %d, dead %d; want both entries dead", pendingCount(t, env.Store, outbox.Coll), pendingCount(t, env.Store, outbox.CollDead))
	}
}
