package clue

import (
	"context"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

const (
	coordChat  = "巡纪协作群"  // console chat of the coordination group (demo.yaml), where inspected units sit
	clueChat   = "纪检线索群"  // console chat of the discipline-only clue group (demo.yaml)
	officeChat = "巡察办工作群" // console chat of the inspection office group
	title      = "虚报冒领专项资金"
	substance  = "2025年以来虚报培训项目冒领专项资金约50万元"
	transferZH = `线索 移送 第二监督检查室 区财政局党组 "` + title + `" "` + substance + `" 期限:12-31 优先`
)

// newUnindexedEnv is an environment whose store has not been through
// the index backfill: a store written by a version without the index.
func newUnindexedEnv(t *testing.T) *bottest.Env {
	t.Helper()
	env := bottest.New(t)
	if err := Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	return env
}

func newEnv(t *testing.T) *bottest.Env {
	t.Helper()
	env := bottest.New(t)
	if err := Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	// As at start-up: the (empty) store is indexed, so the commands read
	// the clue index rather than the collection.
	if _, err := BackfillIndex(t.Context(), env.Bot); err != nil {
		t.Fatal(err)
	}
	return env
}

// transfer runs the standard transfer as lina and returns the new id.
func transfer(t *testing.T, env *bottest.Env, line string) string {
	t.Helper()
	resp := env.Command("lina", line)
	text := bottest.Text(resp)
	if !strings.Contains(text, "XS-") {
		t.Fatalf("transfer failed: %s", text)
	}
	i := strings.Index(text, "XS-")
	return text[i : i+len("XS-2026-0001")]
}

func loadClue(t *testing.T, env *bottest.Env, id string) *Clue {
	t.Helper()
	c, err := bot.Records[Clue](env.Store, CollClues).Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// outText flattens an outgoing message.
func outText(o bot.Outgoing) string { return o.Text + "\n" + bottest.CardText(o.Card) }

// sentTo returns the messages sent directly to console user uid.
func sentTo(env *bottest.Env, uid string) []bot.Outgoing {
	var out []bot.Outgoing
	for _, o := range env.Adapter.Sent() {
		if o.UserID == uid {
			out = append(out, o)
		}
	}
	return out
}

// postedIn returns the new (not updated) messages posted to a chat.
func postedIn(env *bottest.Env, chat string) []bot.Outgoing {
	var out []bot.Outgoing
	for _, o := range env.Adapter.Sent() {
		if o.ChatID == chat && o.Update == nil {
			out = append(out, o)
		}
	}
	return out
}

func updatesIn(env *bottest.Env, chat string) []bot.Outgoing {
	var out []bot.Outgoing
	for _, o := range env.Adapter.Sent() {
		if o.ChatID == chat && o.Update != nil {
			out = append(out, o)
		}
	}
	return out
}

func audits(t *testing.T, env *bottest.Env, keep func(bot.AuditEntry) bool) []bot.AuditEntry {
	t.Helper()
	es, err := bottest.AuditLog(context.Background(), env.Bot, keep)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// direct runs a command line as person in a one-to-one chat.
func direct(env *bottest.Env, person, line string) *bot.Response {
	env.T.Helper()
	p := env.Person(person)
	return env.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: p.IDs[console.Name], UserName: p.Name, Direct: true, Text: line})
}
