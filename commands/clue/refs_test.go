package clue

import (
	"testing"

	"github.com/xunji-bot/xunji/bot"
)

// A press on a group card that waited in the outbox (its reference is
// pending, without the message id) is a press on the group card, not on
// a direct message.
func TestHasRefMatchesAPendingGroupCardByChat(t *testing.T) {
	cards := []bot.MessageRef{
		{Platform: bot.Slack, ChatID: "C0DEMOCOORD", ID: "1700000000.000100"},
		{Platform: bot.Lark, ChatID: "oc_coord", Pending: "000000000042"},
		{Platform: bot.Lark, Pending: "000000000043"}, // a direct message: chat unknown
	}
	for _, c := range []struct {
		m    bot.MessageRef
		want bool
	}{
		{bot.MessageRef{Platform: bot.Slack, ChatID: "C0DEMOCOORD", ID: "1700000000.000100"}, true},
		{bot.MessageRef{Platform: bot.Slack, ChatID: "C0DEMOCOORD", ID: "1700000000.000200"}, false},
		{bot.MessageRef{Platform: bot.Lark, ChatID: "oc_coord", ID: "om_1"}, true},
		{bot.MessageRef{Platform: bot.Lark, ChatID: "oc_dm_lina", ID: "om_2"}, false},
		{bot.MessageRef{Platform: bot.Slack, ChatID: "oc_coord", ID: "om_1"}, false},
	} {
		if got := hasRef(cards, c.m); got != c.want {
			t.Errorf("hasRef(%+v) = %v, want %v", c.m, got, c.want)
		}
	}
}
