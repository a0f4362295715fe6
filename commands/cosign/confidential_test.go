package cosign_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/cosign"
)

// signersChat is the console chat of the group "signers" (withSigners).
const signersChat = "签字方群"

// withSigners is the demo configuration with co-signature notices in a
// group "signers" where bodies sit.
func withSigners(bodies ...string) bottest.Option {
	cfg := config.Demo()
	cfg.Groups["signers"] = config.GroupConfig{Name: "签字方群", IDs: map[string]string{string(console.Name): signersChat}, Bodies: bodies}
	cfg.Notices["cosign"] = "signers"
	return bottest.WithConfig(cfg)
}

// inChat reports whether anything sent to chat names id.
func inChat(env *bottest.Env, chat, id string) bool {
	for _, o := range env.Adapter.Sent() {
		if o.ChatID == chat && (strings.Contains(o.Text, id) || o.Card != nil && strings.Contains(bottest.CardText(o.Card), id)) {
			return true
		}
	}
	return false
}

// clickDM presses b on the card request id sent person directly, in the
// direct chat where it was delivered.
func clickDM(t *testing.T, env *bottest.Env, id, person string, b bot.Button) *bot.Response {
	t.Helper()
	var ref bot.MessageRef
	for _, d := range get(t, env, id).DMs {
		if d.Person == person {
			ref = env.Delivered(d.Message)
		}
	}
	if ref.ID == "" {
		t.Fatalf("no direct card of %s to %s recorded", id, person)
	}
	p := env.Person(person)
	return env.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindAction, Platform: console.Name, UserID: p.IDs[console.Name],
		UserName: p.Name, ChatID: ref.ChatID, Direct: true, Action: b.Action, Value: b.Value, Message: ref})
}

// The demo's co-signature group is the coordination group, where people
// of several inspected organisations sit and which lists no bodies: a
// co-signature of the finance bureau is not shown there at all — no
// card, no line naming the bureau. Each member of each party gets the
// card by direct message; its buttons work there, the clicked card is
// replaced and the others' are updated; an inspected organisation that
// is no party (吴芳, 马萍) gets nothing.
func TestCosignOfOneOrganisationIsNotShownWhereAnotherSits(t *testing.T) {
	env := newEnv(t)
	id := open(t, env, "lina", newThree)
	noneInGroup(t, env, id)
	for _, o := range env.Adapter.Sent() {
		if o.ChatID == coordination {
			t.Errorf("the coordination group got a message about the request: %q %q", o.Text, bottest.CardText(o.Card))
		}
	}
	c := get(t, env, id)
	if len(c.Cards) != 0 || len(c.DMs) != 4 {
		t.Fatalf("group cards %v, direct cards %v; want none and one to each of the 4 party members", c.Cards, c.DMs)
	}
	for _, p := range []string{"lina", "zhangwei", "chenjing", "zhoutao"} {
		card := partyCard(t, env, p)
		mustContain(t, bottest.CardText(card), "三方共同签字 "+id, "区财政局党组", "[确认签字]", "[退回]")
	}
	for _, outsider := range []string{"wufang", "maping", "zhaoqiang", "wangming"} {
		for _, o := range env.Adapter.Sent() {
			if toPerson(env, outsider)(o) {
				t.Errorf("%s, no party, was sent %q %q", outsider, o.Text, bottest.CardText(o.Card))
			}
		}
	}

	resp := clickDM(t, env, id, "zhoutao", signButton(id))
	mustContain(t, resp.Toast, "已签 1/3")
	if len(resp.Replies) != 1 || !resp.Replies[0].Replace || resp.Replies[0].Card == nil {
		t.Fatalf("the clicked direct card is not replaced: %+v", resp)
	}
	mustContain(t, bottest.CardText(resp.Replies[0].Card), "责任单位：区财政局党组: 已确认（周涛")
	mustContain(t, bottest.CardText(partyCard(t, env, "chenjing")), "责任单位：区财政局党组: 已确认（周涛")
	clickDM(t, env, id, "chenjing", signButton(id))
	resp = clickDM(t, env, id, "zhangwei", signButton(id))
	mustContain(t, resp.Toast, "已签 3/3")
	if c := get(t, env, id); c.State != cosign.CosignComplete {
		t.Fatalf("state %s", c.State)
	}
	for _, p := range []string{"lina", "zhangwei", "chenjing", "zhoutao"} {
		if n := completions(env, id, p); n != 1 {
			t.Errorf("%s told of the completion %d times, want 1", p, n)
		}
		if card := partyCard(t, env, p); len(card.Buttons) != 0 || card.Color != bot.Green {
			t.Errorf("%s's card after completion: buttons %v colour %s", p, card.Buttons, card.Color)
		}
	}
	noneInGroup(t, env, id)
}

// A direct card is written in its reader's language and updated in it.
func TestDirectCardsInTheReadersLanguage(t *testing.T) {
	env := newEnv(t)
	if err := env.Bot.People.SetPrefs(context.Background(), "chenjing", bot.Prefs{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	id := open(t, env, "lina", newThree)
	mustContain(t, bottest.CardText(partyCard(t, env, "chenjing")), "Confirm")
	mustContain(t, bottest.CardText(partyCard(t, env, "zhoutao")), "确认签字")
	clickDM(t, env, id, "zhoutao", signButton(id))
	mustContain(t, bottest.CardText(partyCard(t, env, "chenjing")), "Confirm", "Zhou Tao")
}

// A group where only people entitled to the request sit — the office
// and the parties' bodies — still gets the card, and the completion;
// nobody gets it directly. Once a member of another inspected
// organisation sits there, the group gets nothing and the parties get
// their cards directly.
func TestGroupOfEntitledMembersGetsTheCard(t *testing.T) {
	env := newEnv(t, withSigners("office", "team1", "group3", "finance"))
	id := open(t, env, "lina", newThree)
	card := chatCard(env, signersChat)
	if card == nil {
		t.Fatal("no card in the signers' group")
	}
	mustContain(t, bottest.CardText(card), "三方共同签字 "+id, "区财政局党组", "[确认签字]")
	if c := get(t, env, id); len(c.Cards) != 1 || len(c.DMs) != 0 {
		t.Fatalf("group cards %v, direct cards %v; want one group card", c.Cards, c.DMs)
	}
	sign := bottest.FindButton(t, card, cosign.ActionSign)
	for _, p := range []string{"lina", "chenjing", "zhoutao"} {
		env.Click(p, sign)
	}
	complete := 0
	for _, s := range texts(env, toChat(signersChat)) {
		if strings.Contains(s, id) && strings.Contains(s, "各方均已确认签字") {
			complete++
		}
	}
	if complete != 1 {
		t.Errorf("completion told %d times in the group, want 1", complete)
	}
	if completions(env, id, "zhoutao") != 0 {
		t.Error("the completion went by direct message although the group may see it")
	}

	env = newEnv(t, withSigners("office", "team1", "group3", "finance", "housing"))
	id = open(t, env, "lina", newThree)
	if inChat(env, signersChat, id) || chatCard(env, signersChat) != nil {
		t.Error("the group where 马萍 of the housing bureau sits was shown the finance bureau's request")
	}
	if c := get(t, env, id); len(c.Cards) != 0 || len(c.DMs) != 4 {
		t.Errorf("group cards %v, direct cards %v; want the 4 party members' cards", c.Cards, c.DMs)
	}
}

// A command typed in a chat where not everyone may know of the request
// is answered there with a line that names nothing; the answer goes to
// the typist directly.
func TestCommandInTheGroupAnswersDirectly(t *testing.T) {
	env := newEnv(t)
	resp := env.Command("lina", newThree)
	text := bottest.Text(resp)
	mustContain(t, text, "回复已通过私信发送给您")
	bottest.MustNotContain(t, "answer in the group", text, "QZ-2026-0001", "区财政局党组", "公务用车")
	mustContain(t, strings.Join(texts(env, toPerson(env, "lina")), "\n"), "已发起三方共同签字 QZ-2026-0001", "区财政局党组")

	resp = env.Command("zhoutao", "会签 查看 QZ-2026-0001")
	bottest.MustNotContain(t, "show in the group", bottest.Text(resp), "QZ-2026-0001", "区财政局党组")
	mustContain(t, strings.Join(texts(env, toPerson(env, "zhoutao")), "\n"), "【三方共同签字】QZ-2026-0001")

	resp = env.Command("zhoutao", "会签 列表")
	bottest.MustNotContain(t, "list in the group", bottest.Text(resp), "QZ-2026-0001")

	// In the direct chat the answer is given there.
	mustContain(t, bottest.Text(env.Direct("zhoutao", "会签 查看 QZ-2026-0001")), "【三方共同签字】QZ-2026-0001")
}

// When the group may not see the request, a reminder brings the card
// with its buttons, which is kept and updated like the others; an
// escalation group where not everyone may know of it is replaced by
// direct messages to the inspection office.
func TestRemindersCarryTheCardAndEscalationStaysWithTheOffice(t *testing.T) {
	cfg := config.Demo()
	cfg.Notices["cosign_escalation"] = "coordination"
	env := newEnv(t, bottest.WithConfig(cfg))
	ctx := context.Background()
	id := open(t, env, "lina", newThree) // Tue 2026-12-01 09:00
	run := func(at time.Time) {
		t.Helper()
		env.Clock.Set(at)
		if err := env.Bot.Jobs.Run(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	run(time.Date(2026, 12, 3, 9, 0, 0, 0, bottest.Shanghai))
	var reminder *bot.Outgoing
	for _, o := range env.Adapter.Sent() {
		if toPerson(env, "zhoutao")(o) && strings.Contains(o.Text, "提醒") {
			reminder = &o
		}
	}
	if reminder == nil || reminder.Card == nil {
		t.Fatalf("the reminder to 周涛 carries no card: %+v", reminder)
	}
	mustContain(t, reminder.Text, "请在下方卡片上点「确认签字」")
	bottest.FindButton(t, reminder.Card, cosign.ActionSign)
	before := len(get(t, env, id).DMs)
	if before != 4+4 {
		t.Errorf("%d direct cards kept, want the 4 first cards and the 4 reminders'", before)
	}

	run(time.Date(2026, 12, 7, 9, 0, 0, 0, bottest.Shanghai))
	noneInGroup(t, env, id)
	mustContain(t, strings.Join(texts(env, toPerson(env, "wangming")), "\n"), id, "逾期未签字")
}
