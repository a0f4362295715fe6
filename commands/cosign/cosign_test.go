package cosign_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/round"
)

// The demo group where co-signature cards are posted (notices.cosign) and
// the inspection office's group (notices.summary), as console chat ids.
const (
	coordination = "巡纪协作群"
	officeGroup  = "巡察办工作群"
)

const newThree = `会签 新建 "公务用车登记不规范" 巡察组:第一巡察组 监督:派驻第三纪检监察组 单位:区财政局党组`

func newEnv(t *testing.T, opts ...bottest.Option) *bottest.Env {
	t.Helper()
	env := bottest.New(t, opts...)
	if err := cosign.Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	return env
}

// open runs a "cosign new" line as person and returns the new request id.
func open(t *testing.T, env *bottest.Env, person, line string) string {
	t.Helper()
	before := ids(t, env)
	resp := env.Direct(person, line)
	after := ids(t, env)
	if len(after) != len(before)+1 {
		t.Fatalf("%q did not open a co-signature: %s", line, bottest.Text(resp))
	}
	id := after[len(after)-1]
	if !strings.Contains(bottest.Text(resp), id) {
		t.Errorf("the answer does not name %s: %s", id, bottest.Text(resp))
	}
	return id
}

func ids(t *testing.T, env *bottest.Env) []string {
	t.Helper()
	cs, err := bot.Records[cosign.Cosign](env.Store, cosign.CollCosigns).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func get(t *testing.T, env *bottest.Env, id string) *cosign.Cosign {
	t.Helper()
	c, err := cosign.NewQueries(env.Store).Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// chatCard is the latest card posted or updated in chat, or nil.
func chatCard(env *bottest.Env, chat string) *bot.Card {
	sent := env.Adapter.Sent()
	for i := len(sent) - 1; i >= 0; i-- {
		if sent[i].ChatID == chat && sent[i].Card != nil {
			return sent[i].Card
		}
	}
	return nil
}

// partyCard is the latest co-signature card sent or updated by direct
// message to person: the demo's co-signature group (the coordination
// group) is not known to be free of other organisations, so the cards go
// to the parties' members directly.
func partyCard(t *testing.T, env *bottest.Env, person string) *bot.Card {
	t.Helper()
	sent := env.Adapter.Sent()
	to := toPerson(env, person)
	for i := len(sent) - 1; i >= 0; i-- {
		if to(sent[i]) && sent[i].Card != nil {
			return sent[i].Card
		}
	}
	t.Fatalf("no card sent to %s directly", person)
	return nil
}

// noneInGroup fails when the coordination group got any message naming id.
func noneInGroup(t *testing.T, env *bottest.Env, id string) {
	t.Helper()
	for _, o := range env.Adapter.Sent() {
		if o.ChatID == coordination && (strings.Contains(o.Text, id) || o.Card != nil && strings.Contains(bottest.CardText(o.Card), id)) {
			t.Errorf("the coordination group, where other organisations sit, was shown %s: %q %q", id, o.Text, bottest.CardText(o.Card))
		}
	}
}

// signButton is the "确认签字" button of request id.
func signButton(id string) bot.Button { return bot.Button{Action: cosign.ActionSign, Value: id} }

func declineButton(id string) bot.Button { return bot.Button{Action: cosign.ActionDecline, Value: id} }

// texts returns the texts sent to chat (a group) or to a person directly.
func texts(env *bottest.Env, match func(bot.Outgoing) bool) []string {
	var out []string
	for _, o := range env.Adapter.Sent() {
		if o.Text != "" && match(o) {
			out = append(out, o.Text)
		}
	}
	return out
}

func toChat(chat string) func(bot.Outgoing) bool {
	return func(o bot.Outgoing) bool { return o.ChatID == chat }
}

// toPerson matches what is sent to person directly: a new message to the
// person, or an update of a message in the direct chat with the person.
func toPerson(env *bottest.Env, id string) func(bot.Outgoing) bool {
	p := env.Person(id)
	return func(o bot.Outgoing) bool {
		u := p.IDs[console.Name]
		return u != "" && (o.UserID == u || o.Update != nil && o.ChatID == "dm:"+u)
	}
}

func audit(t *testing.T, env *bottest.Env, id string) []bot.AuditEntry {
	t.Helper()
	es, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool { return e.Record == id })
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func countAudit(es []bot.AuditEntry, action, result string) int {
	n := 0
	for _, e := range es {
		if e.Action == action && e.Result == result {
			n++
		}
	}
	return n
}

// completions counts the completion notices of id sent to person.
func completions(env *bottest.Env, id, person string) int {
	n := 0
	for _, s := range texts(env, toPerson(env, person)) {
		if strings.Contains(s, id) && strings.Contains(s, "各方均已确认签字") {
			n++
		}
	}
	return n
}

func mustContain(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("missing %q in:\n%s", w, got)
		}
	}
}

func TestThreePartyFlowInConsole(t *testing.T) {
	env := newEnv(t)
	id := open(t, env, "lina", newThree)
	if id != "QZ-2026-0001" {
		t.Fatalf("first id = %s, want QZ-2026-0001", id)
	}

	card := partyCard(t, env, "zhangwei")
	mustContain(t, bottest.CardText(card), "三方共同签字 QZ-2026-0001", "公务用车登记不规范",
		"巡察组：区委第一巡察组: 待签字 @李娜 @张伟",
		"监督方：区纪委监委派驻第三纪检监察组: 待签字 @陈静",
		"责任单位：区财政局党组: 待签字 @周涛",
		"[确认签字]", "[退回]")
	if len(card.Fields) != 3 {
		t.Fatalf("card has %d party lines, want 3", len(card.Fields))
	}
	bottest.FindButton(t, card, cosign.ActionDecline)
	sign := bottest.FindButton(t, card, cosign.ActionSign)

	steps := []struct {
		person, party, toast string
	}{
		{"lina", "巡察组：区委第一巡察组: 已确认（李娜，2026-12-01 09:00）", "已签 1/3"},
		{"chenjing", "监督方：区纪委监委派驻第三纪检监察组: 已确认（陈静，2026-12-01 09:10）", "已签 2/3"},
		{"zhoutao", "责任单位：区财政局党组: 已确认（周涛，2026-12-01 09:20）", "已签 3/3"},
	}
	for _, s := range steps {
		resp := env.Click(s.person, sign)
		mustContain(t, resp.Toast, s.toast)
		if len(resp.Replies) != 1 || !resp.Replies[0].Replace || resp.Replies[0].Card == nil {
			t.Fatalf("%s: the clicked card is not replaced: %+v", s.person, resp)
		}
		mustContain(t, bottest.CardText(resp.Replies[0].Card), s.party)
		mustContain(t, bottest.CardText(partyCard(t, env, "zhangwei")), s.party)
		env.Clock.Advance(10 * time.Minute)
	}

	c := get(t, env, id)
	if c.State != cosign.CosignComplete || c.Confirmed() != 3 {
		t.Fatalf("state %s, %d confirmed; want complete, 3", c.State, c.Confirmed())
	}
	if c.Handover == nil || c.Handover.To != "group3" || bot.FormatDate(c.Handover.Date, env.Bot.Loc) != "2026-12-01" {
		t.Fatalf("handover = %+v, want group3 on 2026-12-01", c.Handover)
	}
	for _, p := range []string{"lina", "zhangwei", "chenjing", "zhoutao"} {
		final := partyCard(t, env, p)
		if len(final.Buttons) != 0 || final.Color != bot.Green {
			t.Errorf("%s: complete card still has buttons %v or colour %s", p, final.Buttons, final.Color)
		}
		mustContain(t, bottest.CardText(final), "已完成", "监督整改责任已于 2026-12-01 移交区纪委监委派驻第三纪检监察组")
		if n := completions(env, id, p); n != 1 {
			t.Errorf("completion announced to %s %d times, want 1", p, n)
		}
	}
	noneInGroup(t, env, id)

	es := audit(t, env, id)
	for action, want := range map[string]int{"cosign.create": 1, "cosign.confirm": 3, "cosign.complete": 1, "cosign.handover": 1} {
		if got := countAudit(es, action, bot.ResultOK); got != want {
			t.Errorf("audit %s: %d entries, want %d", action, got, want)
		}
	}
	for _, e := range es {
		if e.Action == "cosign.handover" {
			mustContain(t, e.Detail, "supervision responsibility handed over to group3 on 2026-12-01")
		}
	}

	show := bottest.Text(env.Direct("wangming", "会签 查看 QZ-2026-0001"))
	mustContain(t, show, "【三方共同签字】QZ-2026-0001", "2026-12-01 09:00 李娜 发起",
		"2026-12-01 09:00 李娜 代表 巡察组：区委第一巡察组 确认签字",
		"2026-12-01 09:20 周涛 代表 责任单位：区财政局党组 确认签字",
		"各方均已确认，签字完成", "监督整改责任移交区纪委监委派驻第三纪检监察组")
	if strings.Contains(show, "@") {
		t.Errorf("show mentions people:\n%s", show)
	}
}

func TestOutsiderClickRefusedPrivatelyAndAudited(t *testing.T) {
	env := newEnv(t)
	id := open(t, env, "lina", newThree)
	sentBefore := len(env.Adapter.Sent())

	for _, outsider := range []string{"zhaoqiang", "wangming", "wufang"} {
		resp := env.Click(outsider, signButton(id))
		mustContain(t, bottest.Text(resp), "您不是 QZ-2026-0001 的签字方成员")
		for _, r := range resp.Replies {
			if r.Public || r.Replace || r.Card != nil {
				t.Errorf("%s: refusal is not a private text: %+v", outsider, r)
			}
		}
		resp = env.Click(outsider, declineButton(id))
		mustContain(t, bottest.Text(resp), "您不是 QZ-2026-0001 的签字方成员")
	}
	if n := len(env.Adapter.Sent()); n != sentBefore {
		t.Errorf("refused clicks sent %d messages", n-sentBefore)
	}
	if c := get(t, env, id); c.Confirmed() != 0 || c.State != cosign.CosignOpen {
		t.Errorf("refused clicks changed the request: %d confirmed, %s", c.Confirmed(), c.State)
	}
	es := audit(t, env, id)
	if got := countAudit(es, "cosign.sign", bot.ResultRefused); got != 3 {
		t.Errorf("%d refused signs audited, want 3", got)
	}
	for _, e := range es {
		if e.Result == bot.ResultRefused && e.Person == "" {
			t.Errorf("refusal without the person: %+v", e)
		}
	}
	show := bottest.Text(env.Direct("lina", "会签 查看 "+id))
	mustContain(t, show, "赵强 尝试签字被拒绝（不是签字方成员）")
}

func TestDoubleClickCountedOnce(t *testing.T) {
	env := newEnv(t)
	id := open(t, env, "lina", newThree)
	env.Click("lina", signButton(id))
	second := env.Click("lina", signButton(id))
	mustContain(t, bottest.Text(second), "巡察组：区委第一巡察组 已于 2026-12-01 09:00 由李娜确认 QZ-2026-0001，不能重复签字")
	teammate := env.Click("zhangwei", signButton(id))
	mustContain(t, bottest.Text(teammate), "不能重复签字")
	byCommand := env.Direct("zhangwei", "会签 签字 "+id)
	mustContain(t, bottest.Text(byCommand), "不能重复签字")

	c := get(t, env, id)
	if c.Confirmed() != 1 {
		t.Errorf("%d parties confirmed, want 1", c.Confirmed())
	}
	confirms := 0
	for _, e := range c.History {
		if e.Action == "confirm" {
			confirms++
		}
	}
	if confirms != 1 {
		t.Errorf("%d confirmations in the history, want 1", confirms)
	}
	es := audit(t, env, id)
	if countAudit(es, "cosign.confirm", bot.ResultOK) != 1 || countAudit(es, "cosign.sign", bot.ResultRefused) != 3 {
		t.Errorf("audit: %+v", es)
	}
}

func TestSigningAClosedRequestIsRefusedAndAudited(t *testing.T) {
	tests := []struct {
		name  string
		setup func(env *bottest.Env, id string)
		want  string
	}{
		{"after completion", func(env *bottest.Env, id string) {
			for _, p := range []string{"lina", "chenjing", "zhoutao"} {
				env.Click(p, signButton(id))
			}
		}, "已于 2026-12-01 09:00 完成，不能再签字"},
		{"after withdrawal", func(env *bottest.Env, id string) {
			env.Direct("lina", "会签 撤回 "+id+" 重复发起")
		}, "已撤回，不能再签字"},
		{"while declined", func(env *bottest.Env, id string) {
			env.Direct("zhoutao", "会签 退回 "+id+" 材料不全")
		}, "已被退回，等待发起人李娜修改后重新发起"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			id := open(t, env, "lina", newThree)
			tc.setup(env, id)
			before := get(t, env, id)
			resp := env.Click("chenjing", signButton(id))
			mustContain(t, bottest.Text(resp), tc.want)
			after := get(t, env, id)
			if after.State != before.State || after.Confirmed() != before.Confirmed() || len(after.History) != len(before.History) {
				t.Errorf("refused click changed the request")
			}
			if n := countAudit(audit(t, env, id), "cosign.sign", bot.ResultRefused); n != 1 {
				t.Errorf("%d refusals audited, want 1", n)
			}
		})
	}
}

func TestDeclineNeedsReasonReturnsToCreatorAndReopens(t *testing.T) {
	env := newEnv(t)
	id := open(t, env, "lina", newThree)
	env.Click("lina", signButton(id))

	howto := env.Click("zhoutao", declineButton(id))
	mustContain(t, bottest.Text(howto), "须写明理由", "会签 退回 QZ-2026-0001 理由")
	if c := get(t, env, id); c.State != cosign.CosignOpen {
		t.Fatalf("the decline button alone changed the state to %s", c.State)
	}
	noReason := env.Direct("zhoutao", "会签 退回 "+id)
	mustContain(t, bottest.Text(noReason), "退回必须写明理由", "正确格式示例：会签 退回 QZ-2026-0001")

	resp := env.Direct("zhoutao", "会签 退回 "+id+" 车辆登记台账尚未补齐")
	mustContain(t, bottest.Text(resp), "已退回 QZ-2026-0001，已通知发起人李娜")
	c := get(t, env, id)
	if c.State != cosign.CosignDeclined || c.Parties[2].State != cosign.PartyDeclined || c.Parties[2].Reason != "车辆登记台账尚未补齐" {
		t.Fatalf("after decline: %s %+v", c.State, c.Parties[2])
	}
	dms := texts(env, toPerson(env, "lina"))
	if len(dms) != 1 {
		t.Fatalf("creator got %d messages, want 1: %v", len(dms), dms)
	}
	mustContain(t, dms[0], "被责任单位：区财政局党组（周涛）退回，理由：车辆登记台账尚未补齐", "会签 重新发起 QZ-2026-0001")
	card := partyCard(t, env, "zhangwei")
	mustContain(t, bottest.CardText(card), "已退回（周涛，2026-12-01 09:00），理由：车辆登记台账尚未补齐", "[重新发起]")
	if card.Color != bot.Red {
		t.Errorf("declined card colour %s", card.Color)
	}

	notCreator := env.Direct("zhangwei", "会签 重新发起 "+id)
	mustContain(t, bottest.Text(notCreator), "只有发起人李娜或管理员可以重新发起或撤回")
	env.Clock.Advance(time.Hour)
	cardsBefore := len(get(t, env, id).DMs)
	reopened := env.Direct("lina", "会签 重新发起 "+id+" \"公务用车登记不规范（台账已补齐）\"")
	mustContain(t, bottest.Text(reopened), "已重新发起 QZ-2026-0001")
	c = get(t, env, id)
	if c.State != cosign.CosignOpen || c.Confirmed() != 0 || c.Opens != 2 || c.Description != "公务用车登记不规范（台账已补齐）" {
		t.Fatalf("after re-open: state %s, %d confirmed, opens %d, %q", c.State, c.Confirmed(), c.Opens, c.Description)
	}
	if len(c.DMs) != cardsBefore+4 || len(c.Cards) != 0 {
		t.Errorf("re-open sent %d new direct cards (want 1 to each of the 4 party members) and %d group cards (want 0)", len(c.DMs)-cardsBefore, len(c.Cards))
	}
	mustContain(t, bottest.CardText(partyCard(t, env, "zhangwei")), "台账已补齐", "待签字 @李娜 @张伟", "[确认签字]")

	for _, p := range []string{"lina", "chenjing", "zhoutao"} {
		env.Click(p, signButton(id))
	}
	if c := get(t, env, id); c.State != cosign.CosignComplete {
		t.Fatalf("re-opened request not completed: %s", c.State)
	}
	es := audit(t, env, id)
	for _, a := range []string{"cosign.decline", "cosign.reopen", "cosign.complete"} {
		if countAudit(es, a, bot.ResultOK) != 1 {
			t.Errorf("audit %s missing", a)
		}
	}
	if countAudit(es, "cosign.reopen", bot.ResultRefused) != 1 {
		t.Errorf("refused re-open not audited")
	}
	show := bottest.Text(env.Direct("lina", "会签 查看 "+id))
	mustContain(t, show, "周涛 代表 责任单位：区财政局党组 退回：车辆登记台账尚未补齐", "李娜 修改后重新发起：公务用车登记不规范（台账已补齐）", "张伟 尝试重新发起被拒绝（不是发起人）")
}

func TestReopenButtonOnlyForCreator(t *testing.T) {
	env := newEnv(t)
	id := open(t, env, "lina", newThree)
	env.Direct("chenjing", "会签 退回 "+id+" 请补充整改照片")
	reopen := bottest.FindButton(t, partyCard(t, env, "lina"), cosign.ActionReopen)
	mustContain(t, bottest.Text(env.Click("chenjing", reopen)), "只有发起人李娜或管理员")
	resp := env.Click("lina", reopen)
	mustContain(t, resp.Toast, "已重新发起")
	if c := get(t, env, id); c.State != cosign.CosignOpen {
		t.Errorf("state %s after re-open button", c.State)
	}
}

func TestWithdrawByCreatorOnly(t *testing.T) {
	env := newEnv(t)
	id := open(t, env, "lina", newThree)
	mustContain(t, bottest.Text(env.Direct("zhoutao", "会签 撤回 "+id)), "只有发起人李娜或管理员")
	mustContain(t, bottest.Text(env.Direct("lina", "会签 撤回 "+id+" 重复发起")), "已撤回 QZ-2026-0001")
	c := get(t, env, id)
	if c.State != cosign.CosignWithdrawn {
		t.Fatalf("state %s", c.State)
	}
	card := partyCard(t, env, "zhoutao")
	if len(card.Buttons) != 0 || card.Color != bot.Grey {
		t.Errorf("withdrawn card: buttons %v colour %s", card.Buttons, card.Color)
	}
	mustContain(t, bottest.Text(env.Direct("lina", "会签 撤回 "+id)), "已撤回，不能再签字")
	es := audit(t, env, id)
	if countAudit(es, "cosign.withdraw", bot.ResultOK) != 1 || countAudit(es, "cosign.withdraw", bot.ResultRefused) != 2 {
		t.Errorf("withdraw audit: %+v", es)
	}
}

// withMembership returns the demo configuration with person added to body.
func withMembership(person, body string) *config.Config {
	cfg := config.Demo()
	for i := range cfg.People {
		if cfg.People[i].ID == person {
			cfg.People[i].Bodies = append(cfg.People[i].Bodies, body)
		}
	}
	return cfg
}

func TestPersonInTwoPartiesChoosesWhichOne(t *testing.T) {
	env := newEnv(t, bottest.WithConfig(withMembership("chenjing", "finance")))
	id := open(t, env, "lina", newThree)

	resp := env.Click("chenjing", signButton(id))
	if len(resp.Replies) != 1 || resp.Replies[0].Card == nil || resp.Replies[0].Public {
		t.Fatalf("no private choice: %+v", resp)
	}
	choice := resp.Replies[0].Card
	if len(choice.Buttons) != 2 {
		t.Fatalf("choice has %d buttons, want 2", len(choice.Buttons))
	}
	if c := get(t, env, id); c.Confirmed() != 0 {
		t.Fatal("asking which party signed one")
	}
	mustContain(t, choice.Buttons[0].Label, "代表 监督方：区纪委监委派驻第三纪检监察组 签字")
	if choice.Buttons[0].Action != cosign.ActionSignAs || choice.Buttons[0].Value != id+"|group3" {
		t.Errorf("choice button %+v", choice.Buttons[0])
	}

	env.Click("chenjing", choice.Buttons[0])
	c := get(t, env, id)
	if c.Parties[1].State != cosign.PartyConfirmed || c.Parties[2].State != cosign.PartyWaiting {
		t.Fatalf("sign_as signed %+v", c.Parties)
	}
	again := env.Click("chenjing", choice.Buttons[0])
	mustContain(t, bottest.Text(again), "不能重复签字")

	// One party left for her: the button signs it directly.
	env.Click("chenjing", signButton(id))
	if c := get(t, env, id); c.Parties[2].State != cosign.PartyConfirmed || c.Parties[2].By != "chenjing" {
		t.Fatalf("second party not signed: %+v", c.Parties[2])
	}
	// Someone outside both parties cannot use the choice button.
	forged := bot.Button{Action: cosign.ActionSignAs, Value: id + "|team1"}
	mustContain(t, bottest.Text(env.Click("zhaoqiang", forged)), "签字方成员")
	if c := get(t, env, id); c.Parties[0].State != cosign.PartyWaiting {
		t.Fatal("forged sign_as signed for team1")
	}

	// A decline by a person in two unsigned parties names the party.
	id2 := open(t, env, "lina", newThree)
	mustContain(t, bottest.Text(env.Direct("chenjing", "会签 退回 "+id2+" 理由")), "请用 代表:单位 指明", "代表:group3", "代表:finance")
	env.Direct("chenjing", "会签 退回 "+id2+" 代表:finance 台账未补")
	if c := get(t, env, id2); c.Parties[2].State != cosign.PartyDeclined || c.Parties[1].State != cosign.PartyWaiting {
		t.Fatalf("decline as finance: %+v", c.Parties)
	}
}

func TestRemindersWithFakeClock(t *testing.T) {
	env := newEnv(t) // cosign.reminder defaults to 48h: two working days
	ctx := context.Background()
	id := open(t, env, "lina", newThree) // Tue 2026-12-01 09:00
	env.Click("lina", signButton(id))

	dmsTo := func(person string) int { return len(texts(env, toPerson(env, person))) }
	run := func(at time.Time) {
		t.Helper()
		env.Clock.Set(at)
		if err := env.Bot.Jobs.Run(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	day := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, bottest.Shanghai) }

	run(day(2, 10, 0))
	run(day(3, 8, 59))
	if dmsTo("chenjing")+dmsTo("zhoutao") != 0 {
		t.Fatal("reminded before two working days")
	}
	if us, _ := cosign.NewQueries(env.Store).UnsignedAt(ctx, day(3, 8, 59)); len(us) != 0 {
		t.Errorf("unsigned before the reminder time: %d", len(us))
	}

	run(day(3, 9, 0))
	if dmsTo("chenjing") != 1 || dmsTo("zhoutao") != 1 {
		t.Fatalf("reminders: chenjing %d, zhoutao %d; want 1 each", dmsTo("chenjing"), dmsTo("zhoutao"))
	}
	if dmsTo("lina")+dmsTo("zhangwei") != 0 {
		t.Error("the party that signed was reminded")
	}
	mustContain(t, texts(env, toPerson(env, "zhoutao"))[0], "提醒：三方共同签字 QZ-2026-0001「公务用车登记不规范」自 2026-12-01 09:00 起等待责任单位：区财政局党组签字")
	us, err := cosign.NewQueries(env.Store).UnsignedAt(ctx, day(3, 9, 0))
	if err != nil || len(us) != 1 || len(us[0].Overdue(day(3, 9, 0))) != 2 {
		t.Fatalf("Unsigned = %v, %v", us, err)
	}

	run(day(3, 15, 0))
	run(day(4, 10, 0))
	if dmsTo("chenjing") != 1 || dmsTo("zhoutao") != 1 {
		t.Fatal("reminded twice")
	}
	if len(texts(env, toChat(officeGroup))) != 0 {
		t.Fatal("office told before the second period")
	}

	env.Click("chenjing", signButton(id)) // Fri: one party left

	// Four working days after Tue 09:00 is Mon 12-07 09:00; not at night,
	// not on the weekend.
	run(day(5, 10, 0))
	run(day(6, 10, 0))
	run(day(7, 8, 30))
	if len(texts(env, toChat(officeGroup))) != 0 {
		t.Fatal("office told on the weekend or before working hours")
	}
	run(day(7, 9, 0))
	office := texts(env, toChat(officeGroup))
	if len(office) != 1 {
		t.Fatalf("office told %d times, want 1", len(office))
	}
	mustContain(t, office[0], "QZ-2026-0001", "逾期未签字", "责任单位：区财政局党组（自 2026-12-01 09:00 起待签）")
	if strings.Contains(office[0], "监督方") {
		t.Error("the party that signed meanwhile is reported")
	}
	run(day(7, 10, 0))
	if len(texts(env, toChat(officeGroup))) != 1 {
		t.Fatal("office told twice")
	}

	es := audit(t, env, id)
	if countAudit(es, "cosign.remind", bot.ResultOK) != 2 || countAudit(es, "cosign.escalate", bot.ResultOK) != 1 {
		t.Errorf("reminder audit: %+v", es)
	}
	for _, e := range es {
		if (e.Action == "cosign.remind" || e.Action == "cosign.escalate") && e.Person != "" {
			t.Errorf("job entry with a person: %+v", e)
		}
	}
	mustContain(t, bottest.Text(env.Direct("lina", "会签 查看 "+id)), "系统 提醒 责任单位：区财政局党组 成员签字", "系统 将 责任单位：区财政局党组 逾期未签情况报巡察办")

	env.Click("zhoutao", signButton(id))
	if us, _ := cosign.NewQueries(env.Store).UnsignedAt(ctx, day(8, 9, 0)); len(us) != 0 {
		t.Errorf("a complete request is still unsigned")
	}
}

func TestRemindersSkipHolidaysAndNights(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	at := func(mo time.Month, d, h int) time.Time { return time.Date(2026, mo, d, h, 0, 0, 0, bottest.Shanghai) }
	env.Clock.Set(at(9, 30, 10)) // Wed before the National Day holiday (10-01 … 10-07)
	id := open(t, env, "lina", newThree)
	if c := get(t, env, id); !c.Parties[0].RemindAt.Equal(at(10, 9, 10)) {
		// 09-30 10:00 + two working days: 10-08, 10-09.
		t.Fatalf("remind at %v, want 2026-10-09 10:00", c.Parties[0].RemindAt)
	}
	for _, tm := range []time.Time{at(10, 2, 10), at(10, 5, 11), at(10, 8, 17), at(10, 9, 9), at(10, 9, 20)} {
		if err := env.Bot.Jobs.Run(ctx, tm); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(texts(env, toPerson(env, "chenjing"))); n != 0 {
		t.Fatalf("%d reminders during the holiday, early or at night", n)
	}
	if err := env.Bot.Jobs.Run(ctx, at(10, 10, 9)); err != nil { // Saturday 10-10 is a make-up working day
		t.Fatal(err)
	}
	if n := len(texts(env, toPerson(env, "chenjing"))); n != 1 {
		t.Fatalf("%d reminders on the make-up working day, want 1", n)
	}
}

func TestReminderTimeIsConfigurable(t *testing.T) {
	cfg := config.Demo()
	s, err := cosign.SettingsOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Reminder = 4 * time.Hour
	cosign.SetSettings(cfg, s)
	env := newEnv(t, bottest.WithConfig(cfg))
	env.Clock.Set(time.Date(2026, 12, 1, 16, 0, 0, 0, bottest.Shanghai))
	id := open(t, env, "lina", newThree)
	c := get(t, env, id)
	// 16:00 + 4h is 20:00, after hours: the next morning at 09:00.
	want := time.Date(2026, 12, 2, 9, 0, 0, 0, bottest.Shanghai)
	if !c.Parties[0].RemindAt.Equal(want) || !c.Parties[0].EscalateAt.Equal(want.Add(4*time.Hour)) {
		t.Errorf("remind %v escalate %v", c.Parties[0].RemindAt, c.Parties[0].EscalateAt)
	}
}

func TestSixPartyJointEvaluation(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	rd := &round.Round{ID: "XC-2026-0001", Name: "区委第一巡察组巡察区财政局党组", Team: "team1", Organisation: "finance", Attached: []string{"room2", "group3"}}
	if err := round.Seed(ctx, env.Store, rd); err != nil {
		t.Fatal(err)
	}
	id := open(t, env, "wangming", `会签 新建 模板:六方 类别:方案 "区财政局党组巡察整改方案" 轮次:XC-2026-0001 监督:城关镇`)
	c := get(t, env, id)
	var bodies []string
	for _, p := range c.Parties {
		bodies = append(bodies, p.Role+"="+p.Body)
	}
	want := []string{"inspection_office=office", "inspection_team=team1", "supervision_room=room2", "stationed_group=group3", "supervisor_office=sup_chengguan", "responsible_unit=finance"}
	if !slices.Equal(bodies, want) || c.Subject != cosign.SubjectPlan || c.Template != "six" || c.Round != "XC-2026-0001" {
		t.Fatalf("parties %v subject %s template %s", bodies, c.Subject, c.Template)
	}
	card := partyCard(t, env, "zhangwei")
	if len(card.Fields) != 6 {
		t.Fatalf("%d party lines, want 6", len(card.Fields))
	}
	mustContain(t, bottest.CardText(card), "六方联评 QZ-2026-0001", "整改方案：区财政局党组巡察整改方案", "巡察轮次：XC-2026-0001")

	for i, p := range []string{"wangming", "lina", "zhaoqiang", "chenjing", "liuyang", "zhoutao"} {
		resp := env.Click(p, signButton(id))
		if c := get(t, env, id); c.Confirmed() != i+1 {
			t.Fatalf("%s: %d confirmed, want %d: %s", p, c.Confirmed(), i+1, bottest.Text(resp))
		}
	}
	c = get(t, env, id)
	if c.State != cosign.CosignComplete || c.Handover != nil {
		t.Fatalf("state %s handover %+v; a joint evaluation hands nothing over", c.State, c.Handover)
	}
	if completions(env, id, "zhangwei") != 1 || completions(env, id, "zhoutao") != 1 {
		t.Error("completion not announced once to each party member")
	}
	noneInGroup(t, env, id)

	bad := env.Direct("wangming", `会签 新建 模板:六方 类别:即知即改 "x" 轮次:XC-2026-0001 监督:城关镇`)
	mustContain(t, bottest.Text(bad), "「即知即改」不是这个模板可评价的类别", "整改方案、整改成效、整改报告")
}

// addTemplates configures ts (cosign.templates) besides the built-in ones.
func addTemplates(t *testing.T, env *bottest.Env, ts ...cosign.Template) {
	t.Helper()
	s, err := cosign.SettingsOf(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	s.Templates = append(s.Templates, ts...)
	cosign.SetSettings(env.Config, s)
}

func TestSequentialTemplateIsConfigurationOnly(t *testing.T) {
	env := bottest.New(t)
	seq := cosign.Builtin()[0]
	seq.Name, seq.Aliases, seq.Order = "three_seq", []string{"依次三方"}, cosign.OrderSequential
	seq.Title, seq.TitleEn = "三方依次签字", "Three-party signature in order"
	addTemplates(t, env, seq)
	if err := cosign.Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	id := open(t, env, "lina", newThree+" 模板:依次三方")
	mustContain(t, bottest.CardText(partyCard(t, env, "zhangwei")), "三方依次签字 "+id, "签字顺序：按下列顺序依次签字", "排队中")

	out := env.Click("zhoutao", signButton(id))
	mustContain(t, bottest.Text(out), "按顺序签字，现在轮到巡察组：区委第一巡察组")
	for _, p := range []string{"lina", "chenjing", "zhoutao"} {
		before := get(t, env, id).Confirmed()
		env.Click(p, signButton(id))
		if get(t, env, id).Confirmed() != before+1 {
			t.Fatalf("%s could not sign in turn", p)
		}
	}
	if c := get(t, env, id); c.State != cosign.CosignComplete {
		t.Fatalf("state %s", c.State)
	}
	if n := countAudit(audit(t, env, id), "cosign.sign", bot.ResultRefused); n != 1 {
		t.Errorf("%d out-of-turn refusals audited, want 1", n)
	}
}

func TestSequentialReminderStartsWhenItIsThePartysTurn(t *testing.T) {
	env := bottest.New(t)
	seq := cosign.Builtin()[0]
	seq.Name, seq.Aliases, seq.Order = "three_seq", nil, cosign.OrderSequential
	addTemplates(t, env, seq)
	if err := cosign.Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	id := open(t, env, "lina", `会签 新建 模板:three_seq "x" 巡察组:第一巡察组 监督:派驻第三纪检监察组 单位:区财政局党组`)
	c := get(t, env, id)
	if c.Parties[0].RemindAt.IsZero() || !c.Parties[1].RemindAt.IsZero() || !c.Parties[2].RemindAt.IsZero() {
		t.Fatalf("only the first party's clock runs: %+v", c.Parties)
	}
	env.Clock.Set(time.Date(2026, 12, 2, 14, 0, 0, 0, bottest.Shanghai))
	env.Click("lina", signButton(id))
	c = get(t, env, id)
	if !c.Parties[1].Since.Equal(env.Clock.Now()) || !c.Parties[1].RemindAt.Equal(time.Date(2026, 12, 4, 14, 0, 0, 0, bottest.Shanghai)) {
		t.Errorf("second party: since %v remind %v", c.Parties[1].Since, c.Parties[1].RemindAt)
	}
}

func TestNewDefaultsFromRoundAndItem(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	rd := &round.Round{ID: "XC-2026-0001", Team: "team1", Organisation: "finance", Attached: []string{"room2", "group3"}}
	if err := round.Seed(ctx, env.Store, rd); err != nil {
		t.Fatal(err)
	}
	addItem(t, env, "ZG-2026-0001", "公务用车登记不规范", "finance", "group3")
	id := open(t, env, "zhangwei", "会签 新建 事项:zg-2026-0001 轮次:XC-2026-0001")
	c := get(t, env, id)
	if c.Item != "ZG-2026-0001" || c.Parties[0].Body != "team1" || c.Parties[1].Body != "group3" || c.Parties[2].Body != "finance" {
		t.Fatalf("item %s parties %+v", c.Item, c.Parties)
	}
	// The item is named by its title with its id, not by the bare id.
	mustContain(t, bottest.CardText(partyCard(t, env, "zhangwei")), "即知即改事项：公务用车登记不规范（ZG-2026-0001）", "整改事项：公务用车登记不规范（ZG-2026-0001）")

	// A typed party overrides the round's.
	id = open(t, env, "zhangwei", `会签 新建 "公车私用" 轮次:XC-2026-0001 监督:城关镇派出监察员办公室`)
	if c := get(t, env, id); c.Parties[1].Body != "sup_chengguan" {
		t.Errorf("typed supervisor ignored: %+v", c.Parties[1])
	}
	// English works too.
	id = open(t, env, "lina", `cosign new "car register" team:team1 supervisor:group3 unit:finance`)
	if c := get(t, env, id); c.Parties[2].Body != "finance" {
		t.Errorf("english form: %+v", c.Parties)
	}
}

func TestNewRefusesBadInputWithAnExample(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		name, person, line, want string
	}{
		{"no description", "lina", "会签 新建 巡察组:第一巡察组 监督:派驻第三纪检监察组 单位:区财政局党组", "请写明需要共同签字的事项描述"},
		{"bad item", "lina", `会签 新建 "x" 事项:XS-2026-0001 巡察组:第一巡察组 监督:派驻第三纪检监察组 单位:区财政局党组`, "「XS-2026-0001」不是整改事项编号"},
		{"bad round", "lina", `会签 新建 "x" 轮次:2026`, "「2026」不是巡察轮次编号"},
		{"unknown round", "lina", `会签 新建 "x" 轮次:XC-2026-0042`, "找不到巡察轮次 XC-2026-0042"},
		{"unknown body", "lina", `会签 新建 "x" 巡察组:第九巡察组 监督:派驻第三纪检监察组 单位:区财政局党组`, "找不到可作为巡察组的单位「第九巡察组」"},
		{"body of the wrong kind", "lina", `会签 新建 "x" 巡察组:第一巡察组 监督:区财政局党组 单位:区财政局党组`, "找不到可作为监督方的单位「区财政局党组」"},
		{"ambiguous supervisor missing", "lina", `会签 新建 "x" 巡察组:第一巡察组 单位:区财政局党组`, "请指明监督方（监督:单位名称）"},
		{"typo in an option", "lina", `会签 新建 "x" 巡查组:第一巡察组 监督:派驻第三纪检监察组 单位:区财政局党组`, "无法识别的选项：巡查组"},
		{"unknown template", "lina", `会签 新建 "x" 模板:九方`, "没有「九方」这个签字模板"},
		{"too long", "lina", `会签 新建 "` + strings.Repeat("长", 501) + `" 巡察组:第一巡察组 监督:派驻第三纪检监察组 单位:区财政局党组`, "内容过长"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := bottest.Text(env.Direct(tc.person, tc.line))
			mustContain(t, got, tc.want, "正确格式示例：会签 新建")
		})
	}
	if n := len(ids(t, env)); n != 0 {
		t.Errorf("%d requests created by bad input", n)
	}
	forbidden := bottest.Text(env.Direct("zhoutao", newThree))
	mustContain(t, forbidden, "您没有权限")
}

func TestNoInputPanics(t *testing.T) {
	env := newEnv(t)
	id := open(t, env, "lina", newThree)
	lines := []string{"会签", "会签 查看", "会签 查看 QZ-xx", "会签 QZ-2026-0099", "会签 " + id, "会签 签字", "会签 签字 " + id + " 代表:不存在",
		"会签 退回", "会签 重新发起", "会签 撤回 QZ-2026-0099", "会签 列表 某些", "会签 列表 全部", "会签 模板", "cosign templates", "cosign list"}
	for _, l := range lines {
		if got := bottest.Text(env.Direct("lina", l)); strings.Contains(got, "内部错误") || got == "" {
			t.Errorf("%q: %q", l, got)
		}
	}
	buttons := []bot.Button{
		{Action: cosign.ActionSign}, {Action: cosign.ActionSign, Value: "QZ-2026-0099"}, {Action: cosign.ActionSignAs, Value: id},
		{Action: cosign.ActionSignAs, Value: id + "|"}, {Action: cosign.ActionSignAs, Value: "x|y|z"}, {Action: cosign.ActionDecline, Value: "<>"},
		{Action: cosign.ActionReopen, Value: id},
	}
	for _, b := range buttons {
		if got := bottest.Text(env.Click("lina", b)); strings.Contains(got, "内部错误") || got == "" {
			t.Errorf("%+v: %q", b, got)
		}
	}
}

func TestListAndTemplates(t *testing.T) {
	env := newEnv(t)
	a := open(t, env, "lina", newThree)
	b := open(t, env, "lina", `会签 新建 "食堂采购台账缺失" 巡察组:第一巡察组 监督:派驻第三纪检监察组 单位:区财政局党组`)
	for _, p := range []string{"lina", "chenjing", "zhoutao"} {
		env.Click(p, signButton(b))
	}
	list := bottest.Text(env.Direct("wangming", "会签 列表"))
	mustContain(t, list, "共同签字 1 项", a, "待签：区委第一巡察组、区纪委监委派驻第三纪检监察组、区财政局党组")
	if strings.Contains(list, b) {
		t.Error("complete request in the default list")
	}
	mustContain(t, bottest.Text(env.Direct("wangming", "会签 列表 全部")), "共同签字 2 项", b)
	mustContain(t, bottest.Text(env.Direct("wangming", "会签 模板")), "three（三方、三方共同签字、共同签字）", "six（六方、六方联评、联评）：六方联评", "派出监察员办公室（监察员办:）")
}

func TestHelpTextsExistForEverySubcommand(t *testing.T) {
	env := newEnv(t)
	cmd := env.Bot.Router.Find("会签")
	if cmd == nil {
		t.Fatal("会签 is not registered")
	}
	for _, lang := range []string{"zh-CN", "en"} {
		if !env.Catalog.Has(lang, "cmd.cosign.summary") {
			t.Errorf("%s: cmd.cosign.summary", lang)
		}
		for _, s := range cmd.Subs {
			for _, k := range []string{"summary", "usage", "example"} {
				if key := "cmd.cosign." + s.Name + "." + k; !env.Catalog.Has(lang, key) {
					t.Errorf("%s: %s missing", lang, key)
				}
			}
		}
	}
}

func TestValidateTemplates(t *testing.T) {
	good := cosign.Builtin()
	if err := cosign.ValidateTemplates(good); err != nil {
		t.Fatalf("built-in templates invalid: %v", err)
	}
	tests := []struct {
		name   string
		change func(ts []cosign.Template) []cosign.Template
	}{
		{"duplicate name", func(ts []cosign.Template) []cosign.Template {
			ts[1].Aliases = append(ts[1].Aliases, "三方")
			return ts
		}},
		{"bad order", func(ts []cosign.Template) []cosign.Template { ts[0].Order = "random"; return ts }},
		{"unknown kind", func(ts []cosign.Template) []cosign.Template {
			ts[0].Roles[0].Kinds = []bot.PartyKind{"dept"}
			return ts
		}},
		{"unknown subject", func(ts []cosign.Template) []cosign.Template { ts[0].Subjects = []string{"memo"}; return ts }},
		{"handover to no role", func(ts []cosign.Template) []cosign.Template { ts[0].HandoverTo = "nobody"; return ts }},
		{"option clash", func(ts []cosign.Template) []cosign.Template {
			ts[0].Roles[1].Options = []string{"team"}
			return ts
		}},
		{"one party", func(ts []cosign.Template) []cosign.Template {
			ts[0].Roles = ts[0].Roles[:1]
			ts[0].HandoverTo = ""
			return ts
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := cosign.ValidateTemplates(tc.change(cosign.Builtin())); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// "cosign show" of an open request also gives its card, so it can be
// signed from there; a completed one has nothing left to press.
func TestShowGivesTheCardWhileOpen(t *testing.T) {
	env := newEnv(t)
	id := open(t, env, "lina", newThree)
	resp := env.Direct("chenjing", "会签 查看 "+id)
	if len(resp.Replies) != 2 || resp.Replies[1].Card == nil {
		t.Fatalf("show of an open request: %+v", resp.Replies)
	}
	b := bottest.FindButton(t, resp.Replies[1].Card, cosign.ActionSign)
	env.Click("chenjing", b)
	env.Click("lina", signButton(id))
	env.Click("zhoutao", signButton(id))
	if got := get(t, env, id); got.State != cosign.CosignComplete {
		t.Fatalf("state after three signatures from the shown card and the buttons: %s", got.State)
	}
	if resp := env.Direct("chenjing", "会签 查看 "+id); len(resp.Replies) != 1 || resp.Replies[0].Card != nil {
		t.Errorf("show of a completed request still offers a card: %+v", resp.Replies)
	}
}

// A reason labelled as such ("原因：…" with a full-width colon, or
// "reason:…") is read as the reason, without its label.
func TestDeclineReasonMayBeLabelled(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"会签 退回 %s 原因：台账未补齐", "台账未补齐"},
		{"会签 退回 %s 理由:台账 未补齐", "台账 未补齐"},
		{"cosign decline %s reason:ledger incomplete", "ledger incomplete"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			env := newEnv(t)
			id := open(t, env, "lina", newThree)
			resp := env.Direct("zhoutao", fmt.Sprintf(tc.line, id))
			mustContain(t, bottest.Text(resp), id)
			c := get(t, env, id)
			if c.State != cosign.CosignDeclined || c.Parties[2].Reason != tc.want {
				t.Fatalf("after %q: %s, reason %q, want %q", tc.line, c.State, c.Parties[2].Reason, tc.want)
			}
		})
	}
}
