package round_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/progress"
	"github.com/xunji-bot/xunji/commands/round"
)

const (
	roundID   = "XC-2026-0001"
	situation = "公务用车登记不规范，已当场督促整改"
)

func newEnv(t *testing.T) *bottest.Env { return newEnvWith(t, false) }

// newEnvWith registers rounds and co-signatures, and rectification items
// too when withItems, with their makers behind the immediate-fix button
// as cmd/xunji passes them.
func newEnvWith(t *testing.T, withItems bool) *bottest.Env {
	t.Helper()
	env := bottest.New(t)
	cosigns, err := cosign.NewMaker(env.Bot, env.Config)
	if err != nil {
		t.Fatal(err)
	}
	fix := round.Fix{Cosigns: cosigns}
	if withItems {
		if err := progress.Module().Setup(env.Bot, env.Config); err != nil {
			t.Fatal(err)
		}
		if fix.Items, err = progress.NewMaker(env.Bot, env.Config); err != nil {
			t.Fatal(err)
		}
	}
	given := func(*bot.Bot, *config.Config) (round.Fix, error) { return fix, nil }
	if err := round.Module(given).Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	if err := cosign.Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	d := func(m, day int) time.Time { return time.Date(2026, time.Month(m), day, 0, 0, 0, 0, env.Bot.Loc) }
	r := &round.Round{ID: roundID, Name: "区委第一巡察组巡察区财政局党组", Team: "team1", Organisation: "finance",
		Attached: []string{"room2", "group3"}, Start: d(9, 1), End: d(10, 31), Feedback: d(11, 20), CreatedBy: "wangming"}
	if err := round.Seed(context.Background(), env.Store, r); err != nil {
		t.Fatal(err)
	}
	return env
}

func outText(o bot.Outgoing) string { return o.Text + "\n" + bottest.CardText(o.Card) }

func audits(t *testing.T, env *bottest.Env, action, result string) []bot.AuditEntry {
	t.Helper()
	es, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool { return e.Action == action && e.Result == result })
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestCreateListShowAndFeedback(t *testing.T) {
	env := newEnv(t)
	resp := env.Command("wangming", "轮次 新建 第二巡察组 区住建局党组 开始:2027-03-01 结束:2027-04-30 协同:第一监督检查室,河西街道派出监察员办公室")
	bottest.MustContain(t, "create", bottest.Text(resp), "XC-2027-0001", "区委第二巡察组巡察区住建局党组", "区纪委监委第一监督检查室", "河西街道派出监察员办公室", "巡前")
	rd, err := round.NewQueries(env.Store).Get(context.Background(), "XC-2027-0001")
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
	bottest.MustContain(t, "outsider", bottest.Text(env.Click("wufang", bottest.FindButton(t, recipients["赵强"], round.ActionAck))), "不是发给您所在单位")
	if n := len(audits(t, env, "round.ack", bot.ResultRefused)); n != 1 {
		t.Errorf("want the refused click audited, got %d", n)
	}
	bottest.MustContain(t, "ack", bottest.Text(env.Click("chenjing", bottest.FindButton(t, recipients["陈静"], round.ActionAck))), "已确认知悉")
	bottest.MustContain(t, "ack again", bottest.Text(env.Click("chenjing", bottest.FindButton(t, recipients["陈静"], round.ActionAck))), "已由贵单位确认知悉")
	s, err := bot.Records[round.Situation](env.Store, round.CollSituations).Get(context.Background(), "QK-2026-0001")
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
	// Nor does it learn that reports exist: no count, no "N more".
	for _, leak := range []string{"无权查看", "另有", "情况通报", "1 条"} {
		if strings.Contains(page, leak) {
			t.Errorf("the inspected unit's page hints at hidden reports (%q):\n%s", leak, page)
		}
	}
	env.Direct("zhoutao", "language en")
	en := bottest.Text(env.Direct("zhoutao", "round show XC-2026-0001"))
	bottest.MustContain(t, "unit page in English", en, "XC-2026-0001")
	for _, leak := range []string{"may not read", "more", "situation report"} {
		if strings.Contains(en, leak) {
			t.Errorf("the inspected unit's English page hints at hidden reports (%q):\n%s", leak, en)
		}
	}
}

func TestImmediateFixBecomesACoSignatureOnce(t *testing.T) {
	env := newEnv(t)
	resp := env.Command("lina", `轮次 通报 XC-2026-0001 "`+situation+`" 立行立改`)
	fix := bottest.FindButton(t, resp.Replies[0].Card, round.ActionFix)
	// Only the round's side may press it.
	bottest.MustContain(t, "room presses", bottest.Text(env.Click("zhaoqiang", fix)), "没有权限")

	resp = env.Click("zhangwei", fix)
	bottest.MustContain(t, "fix", bottest.Text(resp), "QZ-2026-0001")
	again := bottest.Text(env.Click("lina", fix))
	bottest.MustContain(t, "double click", again, "已转为即知即改事项", "QZ-2026-0001")

	c, err := cosign.NewQueries(env.Store).Get(context.Background(), "QZ-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	var parties []string
	for _, p := range c.Parties {
		parties = append(parties, p.Body)
	}
	if c.Subject != cosign.SubjectImmediateFix || c.Round != roundID || c.Description != situation || strings.Join(parties, ",") != "team1,group3,finance" || c.CreatedBy != "zhangwei" {
		t.Errorf("co-signature: %+v", c)
	}
	all, _ := bot.Records[cosign.Cosign](env.Store, cosign.CollCosigns).List(context.Background())
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
	bottest.MustContain(t, "not immediate", bottest.Text(env.Click("lina", bot.Button{Action: round.ActionFix, Value: "QK-2026-0002"})), "不是立行立改")
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
		// Feedback comes after the inspection.
		{"wangming", "轮次 新建 第二巡察组 区住建局党组 开始:2027-03-01 结束:2027-04-30 反馈:2027-04-15 协同:第一监督检查室", "反馈日期早于巡察结束日期 2027-04-30"},
		{"wangming", "轮次 反馈 XC-2026-0001 2026-10-15", "反馈日期早于巡察结束日期 2026-10-31"},
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
		env.Click("chenjing", bot.Button{Action: round.ActionAck, Value: v})
		env.Click("lina", bot.Button{Action: round.ActionFix, Value: v})
	}
}

func TestHelpTextsExistForEverySubcommand(t *testing.T) {
	env := newEnv(t)
	c := env.Bot.Router.Find("round")
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
	env := newEnvWith(t, true)
	resp := env.Command("lina", `轮次 通报 XC-2026-0001 "`+situation+`" 立行立改`)
	text := bottest.Text(env.Click("lina", bottest.FindButton(t, resp.Replies[0].Card, round.ActionFix)))
	bottest.MustContain(t, "fix", text, "ZG-2026-0001", "QZ-2026-0001")
	it, err := bot.Records[progress.Item](env.Store, progress.CollItems).Get(context.Background(), "ZG-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	if !it.Immediate || it.Unit != "finance" || it.Round != roundID || it.Title != situation || strings.Join(it.Supervisors, ",") != "room2,group3" ||
		bot.FormatDate(it.Deadline, env.Bot.Loc) != "2026-12-08" {
		t.Errorf("item: %+v", it)
	}
	c, err := cosign.NewQueries(env.Store).Get(context.Background(), "QZ-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	if c.Item != "ZG-2026-0001" {
		t.Errorf("co-signature item %q", c.Item)
	}
	s, _ := bot.Records[round.Situation](env.Store, round.CollSituations).Get(context.Background(), "QK-2026-0001")
	if s.Item != "ZG-2026-0001" || s.Cosign != "QZ-2026-0001" || s.FixBy != "lina" {
		t.Errorf("situation: %+v", s)
	}
}

const coordChat = "巡纪协作群" // the demo's coordination group, where round notices go

// groupNotices returns the texts posted to the coordination group.
func groupNotices(env *bottest.Env) []string {
	var out []string
	for _, o := range env.Adapter.Sent() {
		if o.ChatID == coordChat {
			out = append(out, outText(o))
		}
	}
	return out
}

func getRound(t *testing.T, env *bottest.Env, id string) *round.Round {
	t.Helper()
	rd, err := round.NewQueries(env.Store).Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func TestEditExtendsTheRound(t *testing.T) {
	env := newEnv(t)
	text := bottest.Text(env.Command("wangming", "轮次 修改 XC-2026-0001 结束:2026-11-15"))
	change := env.TZ("round.edit.change", "field", env.TZ("round.field.end"), "old", "2026-10-31", "new", "2026-11-15")
	bottest.MustContain(t, "answer", text, env.TZ("round.edited", "id", roundID), change,
		env.TZ("round.card.title", "id", roundID, "name", "区委第一巡察组巡察区财政局党组"), "2026-09-01 至 2026-11-15")
	bottest.MustNotContain(t, "answer", text, env.TZ("round.field.start")+"：", env.TZ("round.field.name")+"：")

	rd := getRound(t, env, roundID)
	if got := bot.FormatDate(rd.End, env.Bot.Loc); got != "2026-11-15" {
		t.Errorf("end %s, want 2026-11-15", got)
	}
	if bot.FormatDate(rd.Start, env.Bot.Loc) != "2026-09-01" || bot.FormatDate(rd.Feedback, env.Bot.Loc) != "2026-11-20" ||
		rd.Name != "区委第一巡察组巡察区财政局党组" || strings.Join(rd.Attached, ",") != "room2,group3" || rd.Team != "team1" || rd.Organisation != "finance" {
		t.Errorf("other fields changed: %+v", rd)
	}
	es := audits(t, env, "round.edit", bot.ResultOK)
	if len(es) != 1 || es[0].Record != roundID || es[0].Person != "wangming" || es[0].Detail != "end=2026-10-31→2026-11-15" {
		t.Errorf("audit: %+v", es)
	}
	// The coordination group is told, in the deployment's language; the
	// attached bodies are not told one by one.
	notices := groupNotices(env)
	if len(notices) != 1 || len(env.Adapter.Sent()) != 1 {
		t.Fatalf("want one notice to the group, got %d of %d messages", len(notices), len(env.Adapter.Sent()))
	}
	bottest.MustContain(t, "notice", notices[0], env.TZ("round.edit.notice", "id", roundID, "name", "区委第一巡察组巡察区财政局党组", "person", "王明"), change)
}

func TestEditNameAndAttachedBodies(t *testing.T) {
	env := newEnv(t)
	const name = "区委第一巡察组对区财政局党组开展常规巡察"
	text := bottest.Text(env.Command("wangming", "轮次 编辑 xc-2026-0001 名称:"+name))
	bottest.MustContain(t, "name", text, env.TZ("round.edit.change", "field", env.TZ("round.field.name"), "old", "区委第一巡察组巡察区财政局党组", "new", name),
		env.TZ("round.card.title", "id", roundID, "name", name))
	if rd := getRound(t, env, roundID); rd.Name != name {
		t.Errorf("name %q", rd.Name)
	}

	// Attached bodies by their Chinese names, with Chinese separators.
	text = bottest.Text(env.Command("wangming", "轮次 修改 XC-2026-0001 协同:第一监督检查室，城关镇派出监察员办公室"))
	bottest.MustContain(t, "attached", text, env.TZ("round.edit.change", "field", env.TZ("round.field.attached"),
		"old", "区纪委监委第二监督检查室、区纪委监委派驻第三纪检监察组", "new", "区纪委监委第一监督检查室、城关镇派出监察员办公室"))
	if rd := getRound(t, env, roundID); strings.Join(rd.Attached, ",") != "room1,sup_chengguan" || rd.Name != name {
		t.Errorf("stored round: %+v", rd)
	}
	var details []string
	for _, e := range audits(t, env, "round.edit", bot.ResultOK) {
		details = append(details, e.Detail)
	}
	if want := []string{"name=区委第一巡察组巡察区财政局党组→" + name, "attached=room2,group3→room1,sup_chengguan"}; strings.Join(details, "|") != strings.Join(want, "|") {
		t.Errorf("audit details %q, want %q", details, want)
	}
	notices := groupNotices(env)
	if len(notices) != 2 {
		t.Fatalf("want two notices, got %d", len(notices))
	}
	bottest.MustContain(t, "attached notice", notices[1], "区纪委监委第一监督检查室、城关镇派出监察员办公室", name)
}

func TestEditSeveralFieldsAtOnce(t *testing.T) {
	env := newEnv(t)
	resp := env.Command("wangming", `round edit XC-2026-0001 start:2026-09-08 end:2026-11-10 name:"区委第一巡察组常规巡察区财政局党组" attached:room2,group3,sup_hexi`)
	text := bottest.Text(resp)
	bottest.MustContain(t, "several", text,
		env.TZ("round.edit.change", "field", env.TZ("round.field.start"), "old", "2026-09-01", "new", "2026-09-08"),
		env.TZ("round.edit.change", "field", env.TZ("round.field.end"), "old", "2026-10-31", "new", "2026-11-10"),
		env.TZ("round.edit.change", "field", env.TZ("round.field.name"), "old", "区委第一巡察组巡察区财政局党组", "new", "区委第一巡察组常规巡察区财政局党组"),
		"河西街道派出监察员办公室")
	if len(resp.Replies) != 1 || resp.Replies[0].Card == nil {
		t.Fatalf("want one reply with the round's card: %+v", resp.Replies)
	}
	rd := getRound(t, env, roundID)
	if bot.FormatDate(rd.Start, env.Bot.Loc) != "2026-09-08" || bot.FormatDate(rd.End, env.Bot.Loc) != "2026-11-10" ||
		rd.Name != "区委第一巡察组常规巡察区财政局党组" || strings.Join(rd.Attached, ",") != "room2,group3,sup_hexi" {
		t.Errorf("stored round: %+v", rd)
	}
	es := audits(t, env, "round.edit", bot.ResultOK)
	want := "name=区委第一巡察组巡察区财政局党组→区委第一巡察组常规巡察区财政局党组 start=2026-09-01→2026-09-08 end=2026-10-31→2026-11-10 attached=room2,group3→room2,group3,sup_hexi"
	if len(es) != 1 || es[0].Detail != want {
		t.Errorf("audit: %+v\nwant detail %q", es, want)
	}
	if n := len(groupNotices(env)); n != 1 {
		t.Errorf("want one notice, got %d", n)
	}
}

func TestEditAnswersInThePersonsLanguage(t *testing.T) {
	env := newEnv(t)
	if err := env.Store.Put(t.Context(), bot.CollPrefs, "wangming", []byte(`{"lang":"en"}`)); err != nil {
		t.Fatal(err)
	}
	text := bottest.Text(env.Command("wangming", "round edit XC-2026-0001 end:2026-11-15"))
	bottest.MustContain(t, "English answer", text, env.Catalog.T("en", "round.edited", "id", roundID), "End date: 2026-10-31 → 2026-11-15", "2026-09-01 to 2026-11-15")
	// The group notice stays in the deployment's language.
	notices := groupNotices(env)
	if len(notices) != 1 {
		t.Fatalf("want one notice, got %d", len(notices))
	}
	bottest.MustContain(t, "group notice", notices[0], "【轮次变更】", "结束日期：2026-10-31 → 2026-11-15")
	bottest.MustContain(t, "English error", bottest.Text(env.Command("wangming", "round edit XC-2026-0001")), env.Catalog.T("en", "round.edit.need_option"), env.Catalog.T("en", "cmd.round.edit.example"))
}

func TestEditRefusesBadInput(t *testing.T) {
	env := newEnv(t)
	// Another round of the same team on the same organisation.
	d := func(m, day int) time.Time { return time.Date(2026, time.Month(m), day, 0, 0, 0, 0, env.Bot.Loc) }
	other := &round.Round{ID: "XC-2026-0002", Name: "区委第一巡察组巡察区财政局党组（上半年）", Team: "team1", Organisation: "finance",
		Attached: []string{"room2"}, Start: d(3, 2), End: d(4, 30), CreatedBy: "wangming"}
	if err := round.Seed(context.Background(), env.Store, other); err != nil {
		t.Fatal(err)
	}
	tooLongName := strings.Repeat("巡", round.MaxName+1)
	attachedChoices := "区纪委监委第一监督检查室、区纪委监委第二监督检查室、区纪委监委派驻第三纪检监察组、城关镇派出监察员办公室、河西街道派出监察员办公室"
	tests := []struct {
		person, line string
		want         []string
	}{
		{"wangming", "轮次 修改 XC-2026-0001", []string{env.TZ("round.edit.need_option"), env.TZ("error.example", "example", env.TZ("cmd.round.edit.example"))}},
		{"wangming", "轮次 修改", []string{env.TZ("round.error.need_id")}},
		{"wangming", "轮次 修改 XC-26 结束:2026-11-15", []string{env.TZ("round.error.bad_id", "input", "XC-26")}},
		{"wangming", "轮次 修改 XC-2026-0001 多余 结束:2026-11-15", []string{env.TZ("round.error.extra_args", "input", "多余")}},
		{"wangming", "轮次 修改 XC-2026-0001 期限:2026-11-15", []string{env.TZ("round.error.unknown_option", "option", "期限")}},
		{"wangming", "轮次 修改 XC-2026-0001 巡察组:第二巡察组", []string{env.TZ("round.error.unknown_option", "option", "巡察组")}},
		{"wangming", "轮次 修改 XC-2026-0001 反馈:2026-12-20", []string{env.TZ("round.edit.use_feedback"), env.TZ("error.example", "example", env.TZ("cmd.round.feedback.example"))}},
		{"wangming", "轮次 修改 XC-2026-0001 结束:2026-11-15 feedback:2026-12-20", []string{env.TZ("round.edit.use_feedback")}},
		{"wangming", "轮次 修改 XC-2026-0001 结束:某天", []string{env.TZ("error.bad_date", "input", "某天", "examples", "2026-09-01, 9月1日")}},
		{"wangming", "轮次 修改 XC-2026-0001 开始:下周", []string{env.TZ("error.bad_date", "input", "下周", "examples", "2026-09-01, 9月1日")}},
		{"wangming", "轮次 修改 XC-2026-0001 开始:2026-10-01 结束:2026-09-30", []string{env.TZ("round.error.end_before_start")}},
		// Checked against the round as it would be: a new end before the current start.
		{"wangming", "轮次 修改 XC-2026-0001 结束:2026-08-31", []string{env.TZ("round.error.end_before_start")}},
		// New dates after the current feedback day (2026-11-20).
		{"wangming", "轮次 修改 XC-2026-0001 开始:2026-11-25 结束:2026-11-30", []string{env.TZ("round.error.feedback_before_end", "end", "2026-11-30")}},
		// An extension past the feedback day (2026-11-20).
		{"wangming", "轮次 修改 XC-2026-0001 结束:2026-11-25", []string{env.TZ("round.error.feedback_before_end", "end", "2026-11-25")}},
		{"wangming", "轮次 修改 XC-2026-0001 协同:区审计局", []string{env.TZ("round.error.unknown_attached", "input", "区审计局", "choices", attachedChoices)}},
		{"wangming", "轮次 修改 XC-2026-0001 协同:第二巡察组", []string{env.TZ("round.error.unknown_attached", "input", "第二巡察组", "choices", attachedChoices)}},
		{"wangming", "轮次 修改 XC-2026-0001 协同:，", []string{env.TZ("round.error.need_attached", "choices", attachedChoices)}},
		{"wangming", "轮次 修改 XC-2026-0001 名称:" + tooLongName, []string{env.TZ("round.error.too_long", "what", env.TZ("round.arg.name"), "max", round.MaxName)}},
		{"wangming", "轮次 修改 XC-2026-0001 名称:", []string{env.TZ("round.edit.empty_option", "option", "name / 名称")}},
		{"wangming", "轮次 修改 XC-2026-0001 开始:2026-03-02", []string{env.TZ("round.error.duplicate", "id", "XC-2026-0002")}},
		{"wangming", "轮次 修改 XC-2026-0404 结束:2026-11-15", []string{env.TZ("round.error.not_found", "id", "XC-2026-0404")}},
		{"lina", "轮次 修改 XC-2026-0001 结束:2026-11-15", []string{env.TZ("error.forbidden")}},
		{"zhaoqiang", "轮次 修改 XC-2026-0001 结束:2026-11-15", []string{env.TZ("error.forbidden")}},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			text := bottest.Text(env.Command(tc.person, tc.line))
			bottest.MustContain(t, tc.line, text, tc.want...)
			bottest.MustNotContain(t, tc.line, text, env.TZ("round.edited", "id", roundID))
		})
	}
	if n := len(audits(t, env, "round.edit", bot.ResultOK)); n != 0 {
		t.Errorf("%d edits audited", n)
	}
	if n := len(audits(t, env, "round.edit", bot.ResultRefused)); n != 2 {
		t.Errorf("want the two refusals audited, got %d", n)
	}
	if sent := env.Adapter.Sent(); len(sent) != 0 {
		t.Errorf("a refused edit sent %d messages", len(sent))
	}
	rd := getRound(t, env, roundID)
	if bot.FormatDate(rd.Start, env.Bot.Loc) != "2026-09-01" || bot.FormatDate(rd.End, env.Bot.Loc) != "2026-10-31" ||
		rd.Name != "区委第一巡察组巡察区财政局党组" || strings.Join(rd.Attached, ",") != "room2,group3" {
		t.Errorf("the round changed: %+v", rd)
	}
}

func TestEditWithTheCurrentValuesChangesNothing(t *testing.T) {
	env := newEnv(t)
	// The same bodies in another order are the same bodies.
	text := bottest.Text(env.Command("wangming", "轮次 修改 XC-2026-0001 结束:2026-10-31 名称:区委第一巡察组巡察区财政局党组 协同:派驻第三纪检监察组,第二监督检查室"))
	if want := env.TZ("round.edit.nothing", "id", roundID); text != want {
		t.Errorf("answer %q, want %q", text, want)
	}
	if n := len(audits(t, env, "round.edit", bot.ResultOK)); n != 0 {
		t.Errorf("%d edits audited", n)
	}
	if sent := env.Adapter.Sent(); len(sent) != 0 {
		t.Errorf("an edit that changed nothing sent %d messages", len(sent))
	}
	if rd := getRound(t, env, roundID); strings.Join(rd.Attached, ",") != "room2,group3" {
		t.Errorf("attached reordered: %v", rd.Attached)
	}
}

func TestHelpListsEdit(t *testing.T) {
	env := newEnv(t)
	help := bottest.Text(env.Command("lina", "轮次"))
	bottest.MustContain(t, "help", help, "修改（编辑、edit）", env.TZ("cmd.round.edit.summary"), env.TZ("cmd.round.edit.usage"), "巡察组和被巡察单位不能修改")
	bottest.MustContain(t, "help en", env.Bot.Router.HelpFor("en", env.Bot.Router.Find("round")), env.Catalog.T("en", "cmd.round.edit.summary"), "round edit <id>")
}

// A body attached after the feedback day was notified gets that notice
// itself: neither the feedback command nor the job sends it again.
func TestEditTellsABodyAttachedAfterTheFeedbackNotice(t *testing.T) {
	env := newEnv(t)
	env.Command("wangming", "轮次 反馈 XC-2026-0001 2026-11-20")
	env.Adapter.Reset()
	text := bottest.Text(env.Command("wangming", "轮次 修改 XC-2026-0001 协同:第二监督检查室,派驻第三纪检监察组,第一监督检查室"))
	bottest.MustContain(t, "answer", text, env.TZ("round.edit.told_added", "bodies", "区纪委监委第一监督检查室", "date", "2026-11-20"))
	got := map[string]string{}
	for _, o := range env.Adapter.Sent() {
		got[o.UserID+o.ChatID] = outText(o)
	}
	if len(got) != 2 {
		t.Fatalf("want the group notice and 何军 (room1) told, got %v", got)
	}
	bottest.MustContain(t, "room1", got["何军"], "巡后监督", "2026-11-20", "区纪委监委第一监督检查室")
	if _, ok := got[coordChat]; !ok {
		t.Errorf("no notice to the coordination group: %v", got)
	}

	// Dropping a body and attaching none tells nobody directly.
	env.Adapter.Reset()
	text = bottest.Text(env.Command("wangming", "轮次 修改 XC-2026-0001 协同:第二监督检查室,派驻第三纪检监察组"))
	bottest.MustNotContain(t, "answer", text, env.TZ("round.edit.told_added", "bodies", "区纪委监委第一监督检查室", "date", "2026-11-20"))
	if sent := env.Adapter.Sent(); len(sent) != 1 || sent[0].ChatID != coordChat {
		t.Errorf("want only the group notice, got %+v", sent)
	}
}
