package clue

import (
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/round"
)

// The whole life of a clue on the console: transfer → group card without
// substance → DM with substance → unauthorised acknowledge refused →
// authorised acknowledge by button → verify → feedback → conclude.
func TestClueFlowOnConsole(t *testing.T) {
	env := newEnv(t)

	// Transfer, typed in Chinese.
	resp := env.Command("lina", transferZH)
	text := bottest.Text(resp)
	bottest.MustContain(t, "transfer reply", text, "XS-2026-0001", "区纪委监委第二监督检查室", "2026-12-31", "1 人")
	id := "XS-2026-0001"

	// The discipline-only clue group gets a card with id, body, deadline
	// and status: never the title, the substance, the inspected unit or
	// the priority flag; the coordination group, where the inspected unit
	// sits, gets nothing.
	if p := postedIn(env, coordChat); len(p) != 0 {
		t.Fatalf("clue posted where the inspected unit sits: %+v", p)
	}
	posts := postedIn(env, clueChat)
	if len(posts) != 1 || posts[0].Card == nil {
		t.Fatalf("want one card in the clue group, got %+v", posts)
	}
	card := posts[0].Card
	cardText := bottest.CardText(card)
	bottest.MustContain(t, "group card", cardText, id, "区纪委监委第二监督检查室", "2026-12-31", "已移送")
	bottest.MustNotContain(t, "group card", cardText, title, substance, "区财政局党组", "优先")
	if card.Color == bot.Red {
		t.Error("the group card's colour tells the priority")
	}
	ack := bottest.FindButton(t, card, "clue.ack")
	if ack.Value != id {
		t.Fatalf("ack button carries %q", ack.Value)
	}

	// Only the member of the receiving body gets the substance, directly.
	dms := sentTo(env, "赵强")
	if len(dms) != 1 {
		t.Fatalf("want one DM to 赵强, got %d", len(dms))
	}
	bottest.MustContain(t, "DM to receiving body", outText(dms[0]), substance, title, id)
	for _, o := range env.Adapter.Sent() {
		if strings.Contains(outText(o), substance) && o.UserID != "赵强" {
			t.Errorf("substance sent to %+v", o)
		}
	}

	// A member of another receiving body cannot acknowledge; the refusal is
	// audited. An inspection-team member is refused by the router's rule.
	for _, who := range []string{"chenjing", "lina"} {
		r := env.Click(who, ack)
		bottest.MustContain(t, who+" acknowledging", bottest.Text(r), "记录")
	}
	if c := loadClue(t, env, id); c.Status != ClueTransferred {
		t.Fatalf("refused acknowledgement changed status to %s", c.Status)
	}
	refused := audits(t, env, func(e bot.AuditEntry) bool {
		return e.Record == id && e.Action == "clue.ack" && e.Result == bot.ResultRefused
	})
	if len(refused) != 2 || refused[0].Person != "chenjing" || refused[1].Person != "lina" {
		t.Fatalf("refusals not audited: %+v", refused)
	}

	// The member acknowledges by button; the card shows who and when.
	env.Clock.Advance(90 * time.Minute)
	r := env.Click("zhaoqiang", ack)
	if len(r.Replies) != 1 || !r.Replies[0].Replace || r.Replies[0].Card == nil {
		t.Fatalf("want the card replaced, got %+v", r)
	}
	bottest.MustContain(t, "acknowledged card", bottest.CardText(r.Replies[0].Card), "@赵强 于 2026-12-01 10:30 签收", "已签收")
	bottest.MustNotContain(t, "acknowledged card", bottest.CardText(r.Replies[0].Card), substance, title)
	if len(r.Replies[0].Card.Buttons) != 0 {
		t.Errorf("acknowledged card still has buttons: %+v", r.Replies[0].Card.Buttons)
	}
	bottest.MustContain(t, "toast", r.Toast, "已签收线索 "+id)
	c := loadClue(t, env, id)
	if c.Status != ClueAcknowledged || c.AckBy != "zhaoqiang" || !c.AckAt.Equal(bottest.Start.Add(90*time.Minute)) {
		t.Fatalf("clue after ack: %+v", c)
	}

	// Verification, feedback, conclusion by command, each with a note.
	steps := []struct{ line, want string }{
		{"线索 核查 " + id + " 已成立核查组", "已进入核查"},
		{"线索 反馈 " + id + " 已调取补贴发放凭证", "已记录"},
		{"线索 处置 " + id + " 立案审查调查 经核查问题属实，已立案审查", "已处置办结（初步核实后立案审查调查）"},
	}
	for _, s := range steps {
		env.Clock.Advance(24 * time.Hour)
		bottest.MustContain(t, s.line, bottest.Text(env.Command("zhaoqiang", s.line)), s.want)
	}
	c = loadClue(t, env, id)
	if c.Status != ClueConcluded || c.Conclusion != DisposalVerify || !c.CaseOpened || c.ClosedBy != "zhaoqiang" {
		t.Fatalf("clue after conclude: %+v", c)
	}

	// The group card was updated by command too, still without substance.
	ups := updatesIn(env, clueChat)
	if len(ups) == 0 {
		t.Fatal("group card never updated")
	}
	last := bottest.CardText(ups[len(ups)-1].Card)
	bottest.MustContain(t, "final group card", last, "已办结（初步核实后立案审查调查）", "@赵强 于 2026-12-04 10:30 处置办结")
	bottest.MustNotContain(t, "final group card", last, substance, title, "已立案审查")

	// The transferring team hears of feedback and conclusion by DM.
	for _, uid := range []string{"李娜", "张伟"} {
		got := ""
		for _, o := range sentTo(env, uid) {
			got += outText(o)
		}
		bottest.MustContain(t, "DMs to "+uid, got, "已调取补贴发放凭证", "经核查问题属实")
	}

	// show keeps the whole history for the entitled.
	r = direct(env, "lina", "线索 查看 "+id)
	shown := bottest.Text(r)
	bottest.MustContain(t, "show", shown, substance, title, "移送", "签收", "开始核查：已成立核查组", "反馈：已调取补贴发放凭证", "处置（办结）：经核查问题属实")

	// Every state change is in the audit log, in order.
	var actions []string
	for _, e := range audits(t, env, func(e bot.AuditEntry) bool { return e.Record == id && e.Result == bot.ResultOK }) {
		actions = append(actions, e.Action)
	}
	want := "clue.transfer clue.ack clue.verify clue.feedback clue.conclude clue.show"
	if strings.Join(actions, " ") != want {
		t.Errorf("audit actions %v, want %s", actions, want)
	}
	r = direct(env, "wangming", "线索 记录 "+id)
	bottest.MustContain(t, "history", bottest.Text(r), "移送", "签收", "——已拒绝", "陈静", "办结")
}

// Acknowledging by command updates every posted card, and the button on
// the direct message replaces that message with the full card.
func TestAcknowledgeByCommandAndByDirectMessageButton(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	bottest.MustContain(t, "ack", bottest.Text(env.Command("zhaoqiang", "线索 签收 "+strings.ToLower(id))), "已签收")
	ups := updatesIn(env, clueChat)
	if len(ups) != 1 || ups[0].Update.ID != env.Delivered(loadClue(t, env, id).Cards[0]).ID {
		t.Fatalf("want the posted card updated once, got %+v", ups)
	}
	bottest.MustContain(t, "updated card", bottest.CardText(ups[0].Card), "签收")

	id2 := transfer(t, env, transferZH)
	dm := sentTo(env, "赵强")
	last := dm[len(dm)-1]
	btn := bottest.FindButton(t, last.Card, "clue.ack")
	p := env.Person("zhaoqiang")
	r := env.Bot.Handle(t.Context(), &bot.Request{Kind: bot.KindAction, Platform: console.Name, UserID: p.IDs[console.Name], Direct: true,
		Action: btn.Action, Value: btn.Value, Message: dmRef(t, env, id2, "zhaoqiang")})
	if len(r.Replies) != 1 || !r.Replies[0].Replace {
		t.Fatalf("want the DM card replaced: %+v", r)
	}
	bottest.MustContain(t, "replaced DM card", bottest.CardText(r.Replies[0].Card), id2, substance, "签收")
}

// Illegal transitions are refused with the current status and the
// possible next steps, and change nothing.
func TestIllegalTransitionsAreRefused(t *testing.T) {
	tests := []struct {
		name  string
		setup []string // lines run by zhaoqiang before
		line  string
		want  []string
	}{
		{"verify before acknowledging", nil, "线索 核查 %s", []string{"当前状态为「已移送（待签收）」", "不能「开始核查」", "签收（线索 签收", "退回"}},
		{"case opened without a preliminary verification", []string{"线索 签收 %s"}, "线索 处置 %s 立案审查调查 无", []string{"当前状态为「已签收」", "立案审查调查须在初步核实之后", "线索 核查"}},
		{"feedback before acknowledging", nil, "线索 反馈 %s 进展", []string{"不能「反馈」"}},
		{"acknowledge twice", []string{"线索 签收 %s"}, "线索 签收 %s", []string{"不能「签收」"}},
		{"anything after conclusion", []string{"线索 签收 %s", "线索 核查 %s", "线索 办结 %s 谈话函询 已函询本人"}, "线索 退回 %s 理由", []string{"已办结（谈话函询）", "不能再变更"}},
		{"anything after return", []string{"线索 退回 %s 不属本室"}, "线索 签收 %s", []string{"已退回", "不能再变更"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			id := transfer(t, env, transferZH)
			for _, l := range tc.setup {
				env.Command("zhaoqiang", strings.ReplaceAll(l, "%s", id))
			}
			before := loadClue(t, env, id)
			got := bottest.Text(env.Command("zhaoqiang", strings.ReplaceAll(tc.line, "%s", id)))
			bottest.MustContain(t, tc.name, got, tc.want...)
			after := loadClue(t, env, id)
			if after.Status != before.Status || len(after.History) != len(before.History) {
				t.Errorf("refused move changed the clue: %s → %s", before.Status, after.Status)
			}
		})
	}
}

// Bad input answers what was wrong and shows an example; nothing is
// created.
func TestTransferBadInput(t *testing.T) {
	tests := []struct {
		name, line string
		want       []string
	}{
		{"no arguments", "线索 移送", []string{"缺少参数：承办单位", "正确格式示例：线索 移送"}},
		{"no substance", "线索 移送 第二监督检查室 区财政局党组 标题", []string{"缺少参数：线索内容"}},
		{"unknown body", "线索 移送 第九室 区财政局党组 标题 内容", []string{"找不到承办单位「第九室」", "第二监督检查室"}},
		{"ambiguous body", "线索 移送 监督检查室 区财政局党组 标题 内容", []string{"对应多个承办单位", "第一监督检查室"}},
		{"body that cannot receive", "线索 移送 区审计局 区财政局党组 标题 内容", []string{"区审计局不能承办线索"}},
		{"past deadline", "线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:2026-11-01", []string{"2026-11-01 已经过去"}},
		{"bad date", "线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:明年", []string{"无法识别日期「明年」", "正确格式示例"}},
		{"impossible date", "线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:2027-02-30", []string{"无法识别日期"}},
		{"unquoted colon in substance", "线索 移送 第二监督检查室 区财政局党组 标题 金额:50万", []string{"不支持选项「金额」", "加引号"}},
		{"unknown round", "线索 移送 第二监督检查室 区财政局党组 标题 内容 轮次:XC-2026-0099", []string{"找不到巡察轮次 XC-2026-0099"}},
		{"title too long", "线索 移送 第二监督检查室 区财政局党组 " + strings.Repeat("长", 101) + " 内容", []string{"线索标题过长"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			got := bottest.Text(env.Command("lina", tc.line))
			bottest.MustContain(t, tc.name, got, tc.want...)
			if n := len(env.Adapter.Sent()); n != 0 {
				t.Errorf("%d messages sent for a refused transfer", n)
			}
		})
	}
}

func TestTransferForms(t *testing.T) {
	env := newEnv(t)
	// English, default deadline (30 days), no priority, organisation not in
	// the roster kept by name.
	id := transfer(t, env, `clue transfer room2 "District Education Bureau" "late tenders" "details here"`)
	c := loadClue(t, env, id)
	if c.Priority || c.Organisation != "" || c.OrganisationName != "District Education Bureau" {
		t.Errorf("english transfer: %+v", c)
	}
	if want := time.Date(2026, 12, 31, 0, 0, 0, 0, bottest.Shanghai); !c.Deadline.Equal(want) {
		t.Errorf("default deadline %v, want %v", c.Deadline, want)
	}
	if c.FromBody != "team1" || c.Body != "room2" {
		t.Errorf("bodies: from %s to %s", c.FromBody, c.Body)
	}
	// Priority as the last word, relative deadline, an office member.
	id = transfer(t, env, `clue transfer 派驻第三 城关镇 "t" "s s s" deadline:+10d priority`)
	c = loadClue(t, env, id)
	if !c.Priority || c.Organisation != "chengguan" || c.Body != "group3" || c.Substance != "s s s" {
		t.Errorf("second transfer: %+v", c)
	}
	if want := time.Date(2026, 12, 11, 0, 0, 0, 0, bottest.Shanghai); !c.Deadline.Equal(want) {
		t.Errorf("relative deadline %v, want %v", c.Deadline, want)
	}
	// The office may transfer; responsible units may not use clues at all.
	if got := bottest.Text(env.Command("wangming", transferZH)); !strings.Contains(got, "XS-2026-0003") {
		t.Errorf("office transfer: %s", got)
	}
	if c := loadClue(t, env, "XS-2026-0003"); c.FromBody != "office" {
		t.Errorf("office transfer from %q", c.FromBody)
	}
	for _, who := range []string{"zhaoqiang", "zhoutao"} {
		bottest.MustContain(t, who+" transferring", bottest.Text(env.Command(who, transferZH)), "没有权限")
	}
}

// A transfer tied to an inspection round takes the round's team and
// refuses an organisation the round did not inspect.
func TestTransferWithRound(t *testing.T) {
	env := newEnv(t)
	rounds := bot.Records[round.Round](env.Store, round.CollRounds)
	if err := rounds.Create(t.Context(), "XC-2026-0001", &round.Round{ID: "XC-2026-0001", Team: "team1", Organisation: "finance"}); err != nil {
		t.Fatal(err)
	}
	id := transfer(t, env, transferZH+" 轮次:xc-2026-0001")
	if c := loadClue(t, env, id); c.Round != "XC-2026-0001" {
		t.Errorf("round %q", c.Round)
	}
	got := bottest.Text(env.Command("lina", `线索 移送 第二监督检查室 城关镇党委 t s 轮次:XC-2026-0001`))
	bottest.MustContain(t, "round mismatch", got, "被巡察单位是区财政局党组")
}

func TestListFilters(t *testing.T) {
	env := newEnv(t)
	a := transfer(t, env, transferZH)                               // room2, priority, due 12-31
	b := transfer(t, env, `线索 移送 派驻第三纪检监察组 城关镇党委 标题乙 内容乙 期限:12-02`) // group3, due 12-02
	c := transfer(t, env, `线索 移送 第一监督检查室 区住建局党组 标题丙 内容丙 期限:12-20`)  // room1
	env.Command("zhaoqiang", "线索 签收 "+a)
	env.Clock.Set(time.Date(2026, 12, 3, 10, 0, 0, 0, bottest.Shanghai)) // b is overdue from today
	tests := []struct {
		who, line string
		want, not []string
	}{
		{"lina", "线索 列表", []string{"3 条线索", a, b, c}, nil},
		{"lina", "线索 列表 逾期", []string{"1 条线索", b, "【逾期】"}, []string{a, c}},
		{"lina", "线索 列表 优先", []string{a, "【优先】"}, []string{b, c}},
		{"lina", "线索 列表 已签收", []string{a}, []string{b, c}},
		{"lina", "线索 列表 状态:已移送", []string{b, c}, []string{a}},
		{"lina", "线索 列表 单位:第一监督检查室", []string{c}, []string{a, b}},
		{"zhaoqiang", "线索 列表 我的", []string{a}, []string{b, c}},
		{"chenjing", "clue list mine", []string{b}, []string{a, c}},
		{"hejun", "线索 列表 我的 逾期", []string{"没有符合条件的线索"}, nil},
		{"lina", "线索 列表 随便", []string{"无法识别筛选条件「随便」", "正确格式示例"}, nil},
	}
	for _, tc := range tests {
		got := bottest.Text(env.Command(tc.who, tc.line))
		bottest.MustContain(t, tc.line, got, tc.want...)
		bottest.MustNotContain(t, tc.line, got, tc.not...)
	}
}

// Every sub-command has help texts in both languages, and the router's
// help lists them.
func TestHelpTextsComplete(t *testing.T) {
	env := newEnv(t)
	cmd := env.Bot.Router.Find("线索")
	if cmd == nil {
		t.Fatal("线索 not registered")
	}
	for _, lang := range []string{"zh-CN", "en"} {
		if !env.Catalog.Has(lang, "cmd.clue.summary") {
			t.Errorf("%s: cmd.clue.summary missing", lang)
		}
		for _, s := range cmd.Subs {
			for _, k := range []string{"summary", "usage", "example"} {
				if key := "cmd.clue." + s.Name + "." + k; !env.Catalog.Has(lang, key) {
					t.Errorf("%s: %s missing", lang, key)
				}
			}
			if !hasChinese(s.Aliases) {
				t.Errorf("sub-command %s has no Chinese alias", s.Name)
			}
		}
	}
	// The Chinese examples use Chinese verbs.
	for _, s := range cmd.Subs {
		if ex := env.TZ("cmd.clue." + s.Name + ".example"); !strings.HasPrefix(ex, "线索 "+s.Aliases[0]) {
			t.Errorf("Chinese example of %s: %q", s.Name, ex)
		}
	}
}

func hasChinese(ss []string) bool {
	for _, s := range ss {
		for _, r := range s {
			if r >= 0x4e00 && r <= 0x9fff {
				return true
			}
		}
	}
	return false
}
