package consult

import (
	"context"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// clickWithInput presses b as person with the text typed in the form the
// button's Prompt opened (a Slack modal).
func clickWithInput(env *bottest.Env, person string, b bot.Button, input string) *bot.Response {
	env.T.Helper()
	p := env.Person(person)
	return env.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindAction, Platform: console.Name, UserID: p.IDs[console.Name],
		UserName: p.Name, Direct: true, Action: b.Action, Value: b.Value, Input: input})
}

// requestCard is the request card sent to the department contact uid.
func requestCard(t *testing.T, env *bottest.Env, uid string) *bot.Card {
	t.Helper()
	for _, o := range sentTo(env, uid) {
		if o.Card != nil {
			return o.Card
		}
	}
	t.Fatalf("%s got no request card", uid)
	return nil
}

func TestReplyButtonWithInputRecordsTheAnswer(t *testing.T) {
	env := newEnv(t)
	id := start(t, env)
	b := bottest.FindButton(t, requestCard(t, env, "何军"), ActionReply)
	if b.Prompt == "" {
		t.Fatal("the reply button has no prompt")
	}

	resp := clickWithInput(env, "hejun", b, " "+answerText+"\n")
	bottest.MustContain(t, "toast", resp.Toast, "已记录区委组织部对征询 ZX-2026-0001 的回复")
	if len(resp.Replies) != 1 || !resp.Replies[0].Replace || resp.Replies[0].Card == nil {
		t.Fatalf("the answer should replace the clicked card: %+v", resp.Replies)
	}
	card := resp.Replies[0].Card
	bottest.MustContain(t, "card", bottest.CardText(card), "何军")
	bottest.MustNotContain(t, "card", bottest.CardText(card), answerText)
	if s := bottest.FindButton(t, card, ActionReply); s.Prompt == "" {
		t.Error("the supplement button has no prompt")
	}

	c := load(t, env, id)
	a, ok := c.Depts[c.Dept("org_dept")].Latest()
	if !ok || a.Text != answerText || a.None || a.By != "hejun" {
		t.Fatalf("recorded answer %+v, want %q by hejun", a, answerText)
	}
	if n := len(audits(t, env, "consult.answer", bot.ResultOK)); n != 1 {
		t.Errorf("%d answer audit entries, want 1", n)
	}
	told := sentTo(env, "王明")
	if len(told) == 0 {
		t.Fatal("the requester was not told")
	}
	bottest.MustContain(t, "requester", outText(told[len(told)-1]), "区委组织部已回复征询 ZX-2026-0001")

	// "无相关情况" typed in the form counts as none, like the command.
	resp = clickWithInput(env, "maping", bottest.FindButton(t, requestCard(t, env, "马萍"), ActionReply), "无相关情况")
	bottest.MustContain(t, "none typed", resp.Toast, "无相关情况")
	if a, _ := load(t, env, id).Depts[c.Dept("audit")].Latest(); !a.None {
		t.Errorf("typed none not recorded as none: %+v", a)
	}
}

func TestReplyButtonWithInputRefusesAnotherDepartment(t *testing.T) {
	env := newEnv(t)
	id := start(t, env)
	b := bottest.FindButton(t, requestCard(t, env, "何军"), ActionReply)
	resp := clickWithInput(env, "maping", b, answerText)
	bottest.MustContain(t, "refusal", bottest.Text(resp), "不能代其回复征询", "已记录")
	c := load(t, env, id)
	if c.Depts[c.Dept("org_dept")].Answered() {
		t.Fatal("a refused click recorded an answer")
	}
	if n := len(audits(t, env, "consult.answer", bot.ResultRefused)); n != 1 {
		t.Errorf("%d refused audit entries, want 1", n)
	}
}
