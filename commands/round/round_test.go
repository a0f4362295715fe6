package round

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/progress"
)

const (
	roundID   = "XC-2026-0001"
	situation = "公务用车登记不规范，已当场督促整改"
)

func newEnv(t *testing.T) *bottest.Env {
	t.Helper()
	env := bottest.New(t)
	if err := Register(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	if err := cosign.Register(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	d := func(m, day int) time.Time { return time.Date(2026, time.Month(m), day, 0, 0, 0, 0, env.Bot.Loc) }
	r := &bot.Round{ID: roundID, Name: "区委第一巡察组巡察区财政局党组", Team: "team1", Organisation: "finance",
		Attached: []string{"room2", "group3"}, Start: d(9, 1), End: d(10, 31), Feedback: d(11, 20), CreatedBy: "wangming"}
	if err := bot.Records[bot.Round](env.Store, bot.CollRounds).Create(context.Background(), roundID, r); err != nil {
		t.Fatal(err)
	}
	return env
}

func outText(o bot.Outgoing) string { return o.Text + "\n" + bottest.CardText(o.Card) }

func audits(t *testing.T, env *bottest.Env, action, result string) []bot.AuditEntry {
	t.Helper()
	es, err := env.Bot.AuditLog(context.Background(), func(e bot.AuditEntry) bool { return e.Action == action && e.Result == result })
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestCreateListShowAndFeedback(t *testing.T) {
	env := newEnv(t)
	resp := env.Command("wangming", "轮次 新建 第二巡察组 区住建局党组 开始:2027-03-01 结束:2027-04-30 协同:第一监督检查室,河西街道派出监察员办公室")
	bottest.MustContain(t, "create", bottest.Text(resp), "XC-2027-0001", "区委第二巡察组巡察区住建局党组", "区纪委监委第一监督检查室", "河西街道派出监察员办公室", "巡前")
	rd, err := Get(context.Background(), env.Bot, "XC-2027-0001")
	if err != nil {
		t.Fatal(err)
	}
	if rd.Team != "team2" || rd.Organisation != "housing" || strings.Join(rd.Attached, ",") != "room1,sup_hexi" || !rd.Feedback.IsZero() {
		t.Errorf("stored round: %+v", rd)
	}
	if n := len(audits(t, env, "round.create", bot.ResultOK)); n != 1 {
		t.Errorf("want the creation audited, got %d", n)
	}
	// Only the inspection office creates rounds.
	bottest.MustContain(t, "team creates", bottest.Text(env.Command("lina", "轮次 新建 第一巡察组 城关镇党委 开始:2027-03-01 结束:2027-04-30 协同:第二监督检查室")), "没有权限")

	list := bottest.Text(env.Command("zhaoqiang", "轮次 列表"))
	bottest.MustContain(t, "list", list, "XC-2027-0001", roundID, "日常监督")

	// Setting the feedback day tells the attached bodies only.
	env.Adapter.Reset()
	resp = env.Command("gaofeng", "轮次 反馈 XC-2027-0001 2027-05-20")
	bottest.MustContain(t, "feedback", bottest.Text(resp), "2027-05-20", "区纪委监委第一监督检查室")
	got := map[string]string{}
	for _, o := range env.Adapter.Sent() {
		got[o.UserID+o.ChatID] = outText(o)
	}
	if len(got) != 2 {
		t.Errorf("want notices to 何军 (room1) and 罗霞 (sup_hexi) only, got %v", got)
	}
	bottest.MustContain(t, "room1", got["何军"], "巡后监督", "2027-05-20", "区纪委监委第一监督检查室")
	bottest.MustContain(t, "sup_hexi", got["罗霞"], "河西街道派出监察员办公室")
	// Another round's team may not set it.
	bottest.MustContain(t, "foreign team", bottest.Text(env.Command("lina", "轮次 反馈 XC-2027-0001 2027-05-21")), "只有轮次")
	if n := len(audits(t, env, "round.feedback", bot.ResultRefused)); n != 1 {
		t.Errorf("want the refusal audited, got %d", n)
	}
}

func TestSituationReportReachesOnlyTheAttachedBodies(t *testing.T) {
	env := newEnv(t)
	resp := env.Command("lina", `轮次 通报 XC-2026-0001 "`+situation+`" 立行立改`)
	text := bottest.Text(resp)
	bottest.MustContain(t, "report", text, "QK-2026-0001", "区纪委监委第二监督检查室", "转为即知即改事项")

	// Exactly the members of room2 and group3, by direct message; no chat.
	recipients := map[string]*bot.Card{}
	for _, o := range env.Adapter.Sent() {
		if o.ChatID != "" {
			t.Errorf("the report reached chat %q", o.ChatID)
		}
		recipients[o.UserID] = o.Card
	}
	if len(recipients) != 2 || recipients["赵强"] == nil || recipients["陈静"] == nil {
		t.Fatalf("want the report sent to 赵强 and 陈静 only, got %v", recipients)
	}
	bottest.MustContain(t, "card", bottest.CardText(recipients["赵强"]), situation, "已知悉")

	// An outsider's click is refused and audited; a recipient's counts once.
	bottest.MustContain(t, "outsider", bottest.Text(env.Click("wufang", bottest.FindButton(t, recipients["赵强"], ActionAck))), "不是发给您所在单位")
	if n := len(audits(t, env, "round.ack", bot.ResultRefused)); n != 1 {
		t.Errorf("want the refused click audited, got %d", n)
	}
	bottest.MustContain(t, "ack", bottest.Text(env.Click("chenjing", bottest.FindButton(t, recipients["陈静"], ActionAck))), "已确认知悉")
	bottest.MustContain(t, "ack again", bottest.Text(env.Click("chenjing", bottest.FindButton(t, recipients["陈静"], ActionAck))), "已由贵单位确认知悉")
	s, err := bot.Records[bot.Situation](env.Store, bot.CollSituations).Get(context.Background(), "QK-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	if s.Acknowledged() != 1 || s.To[1].By != "chenjing" || s.To[0].By != "" {
		t.Errorf("acknowledgements: %+v", s.To)
	}
	// The reporter is told.
	var told bool
	for _, o := range env.Adapter.Sent() {
		if o.UserID == "李娜" && strings.Contains(o.Text, "陈静") {
			told = true
		}
	}
	if !told {
		t.Error("the reporter was not told of the acknowledgement")
	}
	// The round's page shows the report to the team, not to the unit.
	bottest.MustContain(t, "team page", bottest.Text(env.Direct("zhangwei", "轮次 查看 XC-2026-0001")), situation, "已知悉 1/2")
	page := bottest.Text(env.Direct("zhoutao", "轮次 查看 XC-2026-0001"))
	if strings.Contains(page, situation) {
		t.Errorf("the inspected unit read the situation:\n%s", page)
	}
	bottest.MustContain(t, "unit page", page, "无权查看")
}

func TestImmediateFixBecomesACoSignatureOnce(t *testing.T) {
	env := newEnv(t)
	resp := env.Command("lina", `轮次 通报 XC-2026-0001 "`+situation+`" 立行立改`)
	fix := bottest.FindButton(t, resp.Replies[0].Card, ActionFix)
	// Only the round's side may press it.
	bottest.MustContain(t, "room presses", bottest.Text(env.Click("zhaoqiang", fix)), "没有权限")

	resp = env.Click("zhangwei", fix)
	bottest.MustContain(t, "fix", bottest.Text(resp), "QZ-2026-0001")
	again := bottest.Text(env.Click("lina", fix))
	bottest.MustContain(t, "double click", again, "已转为即知即改事项", "QZ-2026-0001")

	c, err := cosign.Get(context.Background(), env.Bot, "QZ-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	var parties []string
	for _, p := range c.Parties {
		parties = append(parties, p.Body)
	}
	if c.Subject != bot.SubjectImmediateFix || c.Round != roundID || c.Description != situation || strings.Join(parties, ",") != "team1,group3,finance" || c.CreatedBy != "zhangwei" {
		t.Errorf("co-signature: %+v", c)
	}
	all, _ := bot.Records[bot.Cosign](env.Store, bot.CollCosigns).List(context.Background())
	if len(all) != 1 {
		t.Errorf("want one co-signature, got %d", len(all))
	}
	if n := len(audits(t, env, "round.fix", bot.ResultOK)); n != 1 {
		t.Errorf("want one audited fix, got %d", n)
	}
	// A report that was not fixed on the spot has no button and refuses.
	resp = env.Command("lina", `轮次 通报 XC-2026-0001 "班子成员谈话中反映的问题待核实"`)
	if len(resp.Replies[0].Card.Buttons) != 0 {
		t.Error("a plain report offers the immediate-fix button")
	}
	bottest.MustContain(t, "not immediate", bottest.Text(env.Click("lina", bot.Button{Action: ActionFix, Value: "QK-2026-0002"})), "不是立行立改")
}

func TestBadInputAnswersWithAnExample(t *testing.T) {
	env := newEnv(t)
	tests := []struct{ person, line, want string }{
		{"wangming", "轮次 新建", "缺少参数"},
		{"wangming", "轮次 新建 第九组 区财政局党组 开始:2027-01-01 结束:2027-02-01 协同:第二监督检查室", "找不到巡察组"},
		{"wangming", "轮次 新建 第一巡察组 区审计局 开始:2027-01-01 结束:2027-02-01 协同:第二监督检查室", "找不到被巡察单位"},
		{"wangming", "轮次 新建 第一巡察组 区财政局党组 结束:2027-02-01 协同:第二监督检查室", "缺少日期"},
		{"wangming", "轮次 新建 第一巡察组 区财政局党组 开始:2027-03-01 结束:2027-02-01 协同:第二监督检查室", "结束日期早于"},
		{"wangming", "轮次 新建 第一巡察组 区财政局党组 开始:2027-01-01 结束:2027-02-01", "协同"},
		{"wangming", "轮次 新建 第一巡察组 区财政局党组 开始:2027-01-01 结束:2027-02-01 协同:区审计局", "不是可联系"},
		{"wangming", "轮次 新建 第一巡察组 区财政局党组 开始:2026-09-01 结束:2026-10-31 协同:第二监督检查室", "已存在"},
		{"wangming", "轮次 查看", "请给出轮次编号"},
		{"wangming", "轮次 查看 XC-2026-0404", "找不到巡察轮次"},
		{"wangming", "轮次 反馈 XC-2026-0001", "缺少参数"},
		{"wangming", "轮次 反馈 XC-2026-0001 某天", "无法识别日期"},
		{"lina", "轮次 通报 XC-2026-0001", "缺少参数"},
		{"zhaoqiang", "轮次 通报 XC-2026-0001 情况", "没有权限"},
		{"gaofeng", "轮次 通报 XC-2026-0001 情况", "只有轮次"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			bottest.MustContain(t, tc.line, bottest.Text(env.Command(tc.person, tc.line)), tc.want)
		})
	}
	bottest.MustContain(t, "example", bottest.Text(env.Command("wangming", "轮次 新建")), "示例")
	for _, v := range []string{"", "QK", "QK-2026-0404", "x|y"} {
		env.Click("chenjing", bot.Button{Action: ActionAck, Value: v})
		env.Click("lina", bot.Button{Action: ActionFix, Value: v})
	}
}

func TestHelpTextsExistForEverySubcommand(t *testing.T) {
	env := newEnv(t)
	c := env.Bot.FindCommand("round")
	for _, lang := range []string{"zh-CN", "en"} {
		for _, s := range c.Subs {
			for _, k := range []string{"summary", "usage", "example"} {
				if key := "cmd.round." + s.Name + "." + k; !env.Catalog.Has(lang, key) {
					t.Errorf("%s: missing %s", lang, key)
				}
			}
		}
	}
}

func TestImmediateFixMakesTheRectificationItemWhenProgressIsOn(t *testing.T) {
	env := newEnv(t)
	if err := progress.Register(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	resp := env.Command("lina", `轮次 通报 XC-2026-0001 "`+situation+`" 立行立改`)
	text := bottest.Text(env.Click("lina", bottest.FindButton(t, resp.Replies[0].Card, ActionFix)))
	bottest.MustContain(t, "fix", text, "ZG-2026-0001", "QZ-2026-0001")
	it, err := bot.Records[bot.Item](env.Store, bot.CollItems).Get(context.Background(), "ZG-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	if !it.Immediate || it.Unit != "finance" || it.Round != roundID || it.Title != situation || strings.Join(it.Supervisors, ",") != "room2,group3" ||
		bot.FormatDate(it.Deadline, env.Bot.Loc) != "2026-12-08" {
		t.Errorf("item: %+v", it)
	}
	c, err := cosign.Get(context.Background(), env.Bot, "QZ-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	if c.Item != "ZG-2026-0001" {
		t.Errorf("co-signature item %q", c.Item)
	}
	s, _ := bot.Records[bot.Situation](env.Store, bot.CollSituations).Get(context.Background(), "QK-2026-0001")
	if s.Item != "ZG-2026-0001" || s.Cosign != "QZ-2026-0001" || s.FixBy != "lina" {
		t.Errorf("situation: %+v", s)
	}
}
