package cosign_test

import (
	"context"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/cosign"
)

// clickWithInput presses b as person with the text typed in the form the
// button's Prompt opened (a Slack modal).
func clickWithInput(env *bottest.Env, person string, b bot.Button, input string) *bot.Response {
	env.T.Helper()
	p := env.Person(person)
	return env.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindAction, Platform: console.Name, UserID: p.IDs[console.Name],
		UserName: p.Name, ChatID: coordination, Action: b.Action, Value: b.Value, Input: input})
}

func TestDeclineButtonAsksForAReason(t *testing.T) {
	env := newEnv(t)
	open(t, env, "lina", newThree)
	b := bottest.FindButton(t, partyCard(t, env, "zhoutao"), cosign.ActionDecline)
	if b.Prompt != "退回理由" {
		t.Errorf("decline button prompt %q, want the reason label", b.Prompt)
	}
}

func TestDeclineButtonWithInputDeclinesAtOnce(t *testing.T) {
	env := newEnv(t)
	id := open(t, env, "lina", newThree)
	env.Click("lina", signButton(id))

	resp := clickWithInput(env, "zhoutao", declineButton(id), "  车辆登记台账尚未补齐 ")
	mustContain(t, resp.Toast, "已退回 QZ-2026-0001，已通知发起人李娜")
	if len(resp.Replies) != 1 || !resp.Replies[0].Replace || resp.Replies[0].Card == nil {
		t.Fatalf("the decline should replace the clicked card: %+v", resp.Replies)
	}
	mustContain(t, bottest.CardText(resp.Replies[0].Card), "理由：车辆登记台账尚未补齐", "[重新发起]")
	c := get(t, env, id)
	if c.State != cosign.CosignDeclined || c.Parties[2].State != cosign.PartyDeclined || c.Parties[2].Reason != "车辆登记台账尚未补齐" {
		t.Fatalf("after decline: %s %+v", c.State, c.Parties[2])
	}
	dms := texts(env, toPerson(env, "lina"))
	if len(dms) != 1 {
		t.Fatalf("creator got %d messages, want 1: %v", len(dms), dms)
	}
	mustContain(t, dms[0], "理由：车辆登记台账尚未补齐")
	if n := countAudit(audit(t, env, id), "cosign.decline", bot.ResultOK); n != 1 {
		t.Errorf("%d decline audit entries, want 1", n)
	}
}

func TestDeclineButtonWithInputChecksLikeTheCommand(t *testing.T) {
	tests := []struct {
		name   string
		person string
		input  string
		want   string
	}{
		{"not a party is refused and recorded", "gaofeng", "不同意", "本次操作已记录"},
		{"a reason too long is refused with its limit", "zhoutao", strings.Repeat("长", 501), "500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			id := open(t, env, "lina", newThree)
			resp := clickWithInput(env, tt.person, declineButton(id), tt.input)
			mustContain(t, bottest.Text(resp), tt.want)
			if c := get(t, env, id); c.State != cosign.CosignOpen {
				t.Fatalf("a refused decline changed the state to %s", c.State)
			}
		})
	}
}
