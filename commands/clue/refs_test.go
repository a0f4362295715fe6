package clue

import (
	"context"
	"errors"
	"testing"

	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
)

// A posted card's reference is the outbox's pending one (the card left
// after the transfer committed): a press matches it only on the very
// message the outbox delivered, not on any message in its chat, and a
// card still waiting in the outbox matches nothing.
func TestHasRefMatchesTheDeliveredMessage(t *testing.T) {
	env := newEnv(t)
	h := &handler{b: env.Bot}
	ctx := context.Background()
	id := transfer(t, env, transferZH)
	card := loadClue(t, env, id).Cards[0]
	if card.Pending == "" {
		t.Fatalf("the card's reference is not the outbox's: %+v", card)
	}
	got := env.Delivered(card)
	for _, c := range []struct {
		m    bot.MessageRef
		want bool
	}{
		{got, true},
		{bot.MessageRef{Platform: got.Platform, ChatID: got.ChatID, ID: got.ID + "0"}, false},
		{bot.MessageRef{Platform: slack.Name, ChatID: got.ChatID, ID: got.ID}, false},
		{bot.MessageRef{Platform: got.Platform, ChatID: "dm:赵强", ID: got.ID}, false},
	} {
		if ok := h.hasRef(ctx, []bot.MessageRef{card}, c.m); ok != c.want {
			t.Errorf("hasRef(%+v) = %v, want %v", c.m, ok, c.want)
		}
	}

	// A card the platform has not taken yet.
	env.Adapter.Fail = errors.New("platform down")
	id2 := transfer(t, env, transferZH)
	env.Adapter.Fail = nil
	waiting := loadClue(t, env, id2).Cards[0]
	if _, ok := env.Bot.Out.Delivered(ctx, waiting); ok {
		t.Fatal("a card waiting in the outbox counts as delivered")
	}
	if h.hasRef(ctx, []bot.MessageRef{waiting}, bot.MessageRef{Platform: got.Platform, ChatID: got.ChatID, ID: "1"}) {
		t.Error("a card waiting in the outbox matched a message of its chat")
	}
}
