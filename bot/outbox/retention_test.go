package outbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/outbox"
)

func newOutboxTTL(t *testing.T, ttl time.Duration) (*bottest.Env, *outbox.Outbox, *bottest.Mem) {
	t.Helper()
	env := bottest.New(t)
	x := outbox.New(env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}, SentTTL: map[bot.Platform]time.Duration{console.Name: ttl}})
	env.Bot.Out.SetSender(x)
	mem, ok := env.Store.(*bottest.Mem)
	if !ok {
		t.Fatalf("store %T, want the memory store", env.Store)
	}
	return env, x, mem
}

// A message delivered at once hands its sender the platform's reference:
// no delivery record is kept for it.
func TestSentAtOnceLeavesNoDeliveryRecord(t *testing.T) {
	env, x, mem := newOutboxTTL(t, time.Hour)
	ctx := context.Background()
	for _, m := range []bot.Outgoing{msg("g1", "hello"), {Platform: console.Name, ChatID: "g1", Card: &bot.Card{Title: "v1"}}} {
		ref, err := x.Send(ctx, m)
		if err != nil || ref.ID == "" || ref.Pending != "" {
			t.Fatalf("send: %+v %v; want the platform's reference", ref, err)
		}
	}
	if n := len(env.Adapter.Sent()); n != 2 {
		t.Fatalf("sent %d, want 2", n)
	}
	if n := mem.Expiring(outbox.CollSent); n != 0 {
		t.Errorf("%d delivery records kept, want none", n)
	}
	if n := pendingCount(t, env.Store, outbox.CollSent); n != 0 {
		t.Errorf("%d listed delivery records, want none", n)
	}
}

// A card queued during an outage is recorded when delivered; updates find
// it by the record until it expires, and an update after that is dropped
// (not sent, not a dead letter).
func TestQueuedDeliveryRecordExpires(t *testing.T) {
	const ttl = 2 * time.Hour
	env, x, mem := newOutboxTTL(t, ttl)
	ctx := context.Background()
	env.Adapter.Fail = errors.New("503")
	refs, err := env.Bot.Out.Notify(ctx, bot.Notice{Group: "coordination", Card: &bot.Card{Title: "v1"}})
	if err != nil || len(refs) != 1 || refs[0].Pending == "" {
		t.Fatalf("notify: %v %v", refs, err)
	}
	env.Adapter.Fail = nil
	env.Clock.Advance(time.Minute)
	if _, err := x.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(env.Adapter.Sent()); n != 1 {
		t.Fatalf("sent %d, want the card", n)
	}
	if _, err := env.Store.Get(ctx, outbox.CollSent, refs[0].Pending); err != nil {
		t.Fatalf("delivery record of the queued card: %v", err)
	}
	if n := pendingCount(t, env.Store, outbox.CollSent); n != 0 {
		t.Errorf("%d listed delivery records, want none (they are expiring documents)", n)
	}

	// Within its lifetime an update finds the card.
	env.Clock.Advance(ttl - 2*time.Minute)
	env.Adapter.Reset()
	if err := env.Bot.Out.UpdateCards(ctx, refs, &bot.Card{Title: "v2"}); err != nil {
		t.Fatal(err)
	}
	if sent := env.Adapter.Sent(); len(sent) != 1 || sent[0].Update == nil || sent[0].Update.ID != "1" || sent[0].Card.Title != "v2" {
		t.Fatalf("update within the record's lifetime: %+v", sent)
	}
	if got, ok := env.Bot.Out.Delivered(ctx, refs[0]); !ok || got.ID != "1" {
		t.Errorf("Delivered = %+v, %v; want message 1", got, ok)
	}

	// After it, the record is gone and an update is dropped.
	env.Clock.Advance(2 * time.Minute)
	if _, err := env.Store.Get(ctx, outbox.CollSent, refs[0].Pending); !bot.IsNotFound(err) {
		t.Fatalf("delivery record after its ttl: %v, want not found", err)
	}
	if _, ok := env.Bot.Out.Delivered(ctx, refs[0]); ok {
		t.Error("Delivered still resolves an expired record")
	}
	env.Adapter.Reset()
	if err := env.Bot.Out.UpdateCards(ctx, refs, &bot.Card{Title: "v3"}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := x.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		env.Clock.Advance(time.Minute)
	}
	if sent := env.Adapter.Sent(); len(sent) != 0 {
		t.Errorf("an update of an expired record was sent: %+v", sent)
	}
	if n, d := pendingCount(t, env.Store, outbox.Coll), pendingCount(t, env.Store, outbox.CollDead); n != 0 || d != 0 {
		t.Errorf("outbox %d, dead %d; want the update dropped", n, d)
	}
	// The next record written sweeps what expired.
	env.Adapter.Fail = errors.New("503")
	later, err := env.Bot.Out.Notify(ctx, bot.Notice{Group: "coordination", Card: &bot.Card{Title: "later"}})
	if err != nil || len(later) != 1 || later[0].Pending == "" {
		t.Fatalf("notify: %v %v", later, err)
	}
	env.Adapter.Fail = nil
	env.Clock.Advance(time.Minute)
	if _, err := x.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Get(ctx, outbox.CollSent, later[0].Pending); err != nil {
		t.Fatalf("delivery record of the later card: %v", err)
	}
	if n := mem.Expiring(outbox.CollSent); n != 1 {
		t.Errorf("%d delivery records kept, want only the new one", n)
	}
}

// A text has no delivery record even when it was queued: only cards are
// updated and clicked.
func TestQueuedTextLeavesNoDeliveryRecord(t *testing.T) {
	env, x, mem := newOutboxTTL(t, time.Hour)
	ctx := context.Background()
	env.Adapter.Fail = errors.New("503")
	refs, err := env.Bot.Out.Notify(ctx, bot.Notice{Group: "coordination", Text: "reminder"})
	if err != nil || len(refs) != 1 || refs[0].Pending == "" {
		t.Fatalf("notify: %v %v", refs, err)
	}
	env.Adapter.Fail = nil
	env.Clock.Advance(time.Minute)
	if _, err := x.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(env.Adapter.Sent()); n != 1 {
		t.Fatalf("sent %d, want the text", n)
	}
	if n := mem.Expiring(outbox.CollSent); n != 0 {
		t.Errorf("%d delivery records, want none for a text", n)
	}
}

// A card sent in a unit of work gets a pending reference (it leaves once
// the unit commits), so its delivery is recorded, and the unit that later
// asks which message it became commits (the record is no part of it).
func TestCardSentInAUnitIsRecorded(t *testing.T) {
	env, _, mem := newOutboxTTL(t, time.Hour)
	ctx := context.Background()
	var refs []bot.MessageRef
	err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
		var err error
		refs, err = env.Bot.Out.Notify(ctx, bot.Notice{Group: "coordination", Card: &bot.Card{Title: "v1"}})
		return err
	})
	if err != nil || len(refs) != 1 || refs[0].Pending == "" {
		t.Fatalf("notify in a unit: %v %v", refs, err)
	}
	if n := len(env.Adapter.Sent()); n != 1 {
		t.Fatalf("sent %d, want the card once the unit committed", n)
	}
	if n := mem.Expiring(outbox.CollSent); n != 1 {
		t.Fatalf("%d delivery records, want 1", n)
	}
	var names bool
	err = env.Bot.RunUnit(ctx, func(ctx context.Context) error {
		names = env.Bot.Out.Names(ctx, refs[0], bot.MessageRef{Platform: console.Name, ChatID: env.Adapter.Sent()[0].ChatID, ID: "1"})
		return env.Bot.Store.Put(ctx, "probe", "x", []byte("{}"))
	})
	if err != nil || !names {
		t.Fatalf("unit resolving the card: names %v, err %v", names, err)
	}
}

// Without SentTTL, a delivery record lives as long as its platform's spec
// says (bot.PlatformSpec.SentTTL).
func TestPlatformSpecSetsSentTTL(t *testing.T) {
	const ttl = 3 * time.Hour
	spec := console.Platform()
	spec.SentTTL = ttl
	env := bottest.New(t, bottest.WithPlatforms(spec))
	x := outbox.New(env.Bot, outbox.Options{})
	env.Bot.Out.SetSender(x)
	ctx := context.Background()
	env.Adapter.Fail = errors.New("503")
	refs, err := env.Bot.Out.Notify(ctx, bot.Notice{Group: "coordination", Card: &bot.Card{Title: "v1"}})
	if err != nil || len(refs) != 1 || refs[0].Pending == "" {
		t.Fatalf("notify: %v %v", refs, err)
	}
	env.Adapter.Fail = nil
	env.Clock.Advance(time.Minute)
	if _, err := x.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(ttl - time.Minute)
	if _, err := env.Store.Get(ctx, outbox.CollSent, refs[0].Pending); err != nil {
		t.Fatalf("delivery record within the platform's lifetime: %v", err)
	}
	env.Clock.Advance(2 * time.Minute)
	if _, err := env.Store.Get(ctx, outbox.CollSent, refs[0].Pending); !bot.IsNotFound(err) {
		t.Fatalf("delivery record after the platform's lifetime: %v, want not found", err)
	}
}
