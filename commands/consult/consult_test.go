package consult

import (
	"context"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/round"
)

const (
	officeChat = "巡察办工作群"
	roundID    = "XC-2026-0001"
	answerText = "2025年审计发现该局专项资金管理不规范问题2个"
)

func newEnv(t *testing.T) *bottest.Env {
	t.Helper()
	env := bottest.New(t)
	if err := Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	seedRound(t, env)
	return env
}

// seedRound stores the demo round (cmd/xunji/demo.go).
func seedRound(t *testing.T, env *bottest.Env) {
	t.Helper()
	d := func(m, day int) time.Time { return time.Date(2026, time.Month(m), day, 0, 0, 0, 0, env.Bot.Loc) }
	r := &round.Round{ID: roundID, Name: "区委第一巡察组巡察区财政局党组", Team: "team1", Organisation: "finance",
		Attached: []string{"room2", "group3"}, Start: d(9, 1), End: d(10, 31), Feedback: d(11, 20), CreatedBy: "wangming"}
	if err := round.Seed(context.Background(), env.Store, r); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, env *bottest.Env, id string) *Consultation {
	t.Helper()
	c, err := bot.Records[Consultation](env.Store, CollConsults).Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func outText(o bot.Outgoing) string { return o.Text + "\n" + bottest.CardText(o.Card) }

// sentTo returns new messages sent directly to the console user uid.
func sentTo(env *bottest.Env, uid string) []bot.Outgoing {
	var out []bot.Outgoing
	for _, o := range env.Adapter.Sent() {
		if o.UserID == uid && o.Update == nil {
			out = append(out, o)
		}
	}
	return out
}

func audits(t *testing.T, env *bottest.Env, action, result string) []bot.AuditEntry {
	t.Helper()
	es, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool { return e.Action == action && e.Result == result })
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// start sends the standard request to three departments, due Thursday
// 2026-12-03, and returns its id.
func start(t *testing.T, env *bottest.Env) string {
	t.Helper()
	resp := env.Command("wangming", `征询 新建 XC-2026-0001 区委组织部 区审计局 区信访局 期限:2026-12-03`)
	text := bottest.Text(resp)
	bottest.MustContain(t, "create", text, "ZX-2026-0001", "区委组织部", "区审计局", "区信访局", "2026-12-03")
	return "ZX-2026-0001"
}

func TestConsultationAnsweredNoneAndRemindedThenLate(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	id := start(t, env)

	// Each department's contacts got the card by direct message (the demo
	// departments have no group of their own), with both buttons.
	var cards = map[string]*bot.Card{}
	for _, who := range []string{"何军", "马萍", "罗霞"} {
		got := sentTo(env, who)
		if len(got) != 1 || got[0].Card == nil {
			t.Fatalf("%s: want one request card, got %d messages", who, len(got))
		}
		bottest.MustContain(t, who, bottest.CardText(got[0].Card), id, "区财政局党组", "2026-12-03", "已回复", "无相关情况")
		cards[who] = got[0].Card
	}
	if n := len(sentTo(env, "高峰")); n != 0 {
		t.Errorf("the staffing office was not consulted but got %d messages", n)
	}

	// Organisation department: "已回复" answers privately with the exact
	// command, and the command records the answer.
	resp := env.Click("hejun", bottest.FindButton(t, cards["何军"], ActionReply))
	bottest.MustContain(t, "reply button", bottest.Text(resp), `征询 回复 ZX-2026-0001 "回复内容"`)
	if resp.Replies[0].Public {
		t.Error("the reply instructions must be private")
	}
	env.Clock.Advance(time.Hour)
	resp = env.Direct("hejun", `征询 回复 ZX-2026-0001 "`+answerText+`"`)
	bottest.MustContain(t, "answer", bottest.Text(resp), "已记录区委组织部")

	// Audit bureau: one click on "无相关情况".
	resp = env.Click("maping", bottest.FindButton(t, cards["马萍"], ActionNone))
	bottest.MustContain(t, "none button", bottest.Text(resp), "无相关情况")
	if !resp.Replies[0].Replace {
		t.Error("the none button should replace the card")
	}
	resp = env.Click("maping", bottest.FindButton(t, cards["马萍"], ActionNone))
	bottest.MustContain(t, "second click", bottest.Text(resp), "已回复")

	// Petitions bureau stays silent: nothing before the deadline passes.
	env.Clock.Set(time.Date(2026, 12, 3, 17, 0, 0, 0, env.Bot.Loc))
	if err := env.Bot.Jobs.Run(ctx, env.Bot.Now()); err != nil {
		t.Fatal(err)
	}
	if n := len(sentTo(env, "罗霞")); n != 1 {
		t.Fatalf("reminded before the deadline passed: %d messages", n)
	}
	// Friday 09:30, the first working day after the deadline: reminded once.
	env.Clock.Set(time.Date(2026, 12, 4, 9, 30, 0, 0, env.Bot.Loc))
	for range 2 {
		if err := env.Bot.Jobs.Run(ctx, env.Bot.Now()); err != nil {
			t.Fatal(err)
		}
	}
	got := sentTo(env, "罗霞")
	if len(got) != 2 {
		t.Fatalf("want exactly one reminder, got %d messages", len(got)-1)
	}
	bottest.MustContain(t, "reminder", outText(got[1]), "征询提醒", id, "2026-12-03")
	for _, who := range []string{"何军", "马萍"} {
		if n := len(sentTo(env, who)); n != 1 {
			t.Errorf("%s answered but got %d messages", who, n)
		}
	}
	// Not at night, not at the weekend; the office is told on Tuesday
	// 2026-12-08, two working days after the reminder, once.
	for _, at := range []time.Time{
		time.Date(2026, 12, 7, 20, 0, 0, 0, env.Bot.Loc),
		time.Date(2026, 12, 5, 10, 0, 0, 0, env.Bot.Loc),
	} {
		if err := env.Bot.Jobs.Run(ctx, at); err != nil {
			t.Fatal(err)
		}
	}
	if c := load(t, env, id); !c.Depts[2].EscalatedAt.IsZero() {
		t.Fatal("escalated too early")
	}
	env.Clock.Set(time.Date(2026, 12, 8, 9, 15, 0, 0, env.Bot.Loc))
	for range 2 {
		if err := env.Bot.Jobs.Run(ctx, env.Bot.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var office []bot.Outgoing
	for _, o := range env.Adapter.Sent() {
		if o.ChatID == officeChat {
			office = append(office, o)
		}
	}
	if len(office) != 1 {
		t.Fatalf("want one escalation to the office group, got %d", len(office))
	}
	bottest.MustContain(t, "escalation", outText(office[0]), "区信访局", id)
	bottest.MustNotContain(t, "escalation", outText(office[0]), answerText)

	// The petitions bureau answers late.
	env.Clock.Set(time.Date(2026, 12, 8, 11, 0, 0, 0, env.Bot.Loc))
	resp = env.Direct("luoxia", `征询 回复 ZX-2026-0001 "2026年收到反映该局信访件1件，已转办"`)
	bottest.MustContain(t, "late answer", bottest.Text(resp), "逾期")

	c := load(t, env, id)
	tests := []struct {
		dept     string
		none     bool
		late     bool
		reminded bool
		by       string
	}{
		{"org_dept", false, false, false, "hejun"},
		{"audit", true, false, false, "maping"},
		{"petitions", false, true, true, "luoxia"},
	}
	for _, tc := range tests {
		i := c.Dept(tc.dept)
		a, ok := c.Depts[i].First()
		if !ok {
			t.Fatalf("%s: no answer", tc.dept)
		}
		if a.None != tc.none || a.By != tc.by || c.LateAt(i, env.Bot.Now(), env.Bot.Loc) != tc.late || c.Depts[i].RemindedAt.IsZero() == tc.reminded {
			t.Errorf("%s: none=%v by=%s late=%v reminded=%v, want %+v", tc.dept, a.None, a.By, c.LateAt(i, env.Bot.Now(), env.Bot.Loc), !c.Depts[i].RemindedAt.IsZero(), tc)
		}
	}
	if n := len(audits(t, env, "consult.answer", bot.ResultOK)); n != 3 {
		t.Errorf("want 3 audited answers, got %d", n)
	}
	if n := len(audits(t, env, "consult.remind", bot.ResultOK)); n != 1 {
		t.Errorf("want 1 audited reminder, got %d", n)
	}

	// The round's page lists every answer, who gave it and when.
	page := bottest.Text(env.Direct("wangming", "征询 查看 XC-2026-0001"))
	bottest.MustContain(t, "page", page, answerText, "何军", "2026-12-01 10:00", "无相关情况（马萍", "罗霞", "2026-12-08 11:00", "逾期", "已回复 3/3")
}

func TestAnswersAreConfidential(t *testing.T) {
	env := newEnv(t)
	id := start(t, env)
	env.Direct("hejun", `征询 回复 ZX-2026-0001 "`+answerText+`"`)
	env.Direct("maping", `征询 回复 ZX-2026-0001 无相关情况`)

	tests := []struct {
		name    string
		person  string
		see     []string
		notSee  []string
		refused bool
	}{
		{"office sees every answer", "wangming", []string{answerText, "无相关情况"}, nil, false},
		{"round team sees every answer", "zhangwei", []string{answerText}, nil, false},
		// Not even that other departments answered: no "已回复" line of
		// another department, no "已回复 2/N" progress, no other name.
		{"a department sees its own answer only", "maping", []string{"无相关情况（马萍"}, []string{answerText, "何军", "区委组织部", "已回复 "}, false},
		{"another team's member in an unconsulted department is refused", "gaofeng", nil, []string{answerText}, true},
		{"a supervision room cannot use the command", "zhaoqiang", nil, []string{answerText}, true},
		{"the committee cannot use the command", "zhenghua", nil, []string{answerText}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(audits(t, env, "consult.show", bot.ResultRefused)) + len(audits(t, env, "consult", bot.ResultRefused))
			text := bottest.Text(env.Direct(tc.person, "征询 查看 "+id))
			bottest.MustContain(t, tc.person, text, tc.see...)
			bottest.MustNotContain(t, tc.person, text, tc.notSee...)
			after := len(audits(t, env, "consult.show", bot.ResultRefused)) + len(audits(t, env, "consult", bot.ResultRefused))
			if tc.refused != (after == before+1) {
				t.Errorf("refused=%v but refusals went %d → %d", tc.refused, before, after)
			}
		})
	}

	// Asked in a group, the page goes by direct message, never to the chat.
	resp := env.Command("lina", "征询 查看 "+id)
	bottest.MustContain(t, "group ask", bottest.Text(resp), "私信")
	bottest.MustNotContain(t, "group ask", bottest.Text(resp), answerText)
	// No message to any chat or any person outside the office and the
	// team ever carries an answer.
	for _, o := range env.Adapter.Sent() {
		if o.ChatID != "" || (o.UserID != "王明" && o.UserID != "李娜" && o.UserID != "张伟") {
			bottest.MustNotContain(t, "message to "+o.ChatID+o.UserID, outText(o), answerText)
		}
	}
	// A department cannot answer for another, nor a stranger at all.
	card := sentTo(env, "何军")[0].Card
	resp = env.Click("maping", bottest.FindButton(t, card, ActionNone))
	bottest.MustContain(t, "foreign click", bottest.Text(resp), "不是区委组织部的联系人")
	if n := len(audits(t, env, "consult.answer", bot.ResultRefused)); n != 1 {
		t.Errorf("want the foreign click audited as refused, got %d", n)
	}
	if c := load(t, env, id); len(c.Depts[0].Answers) != 1 {
		t.Errorf("a foreign click changed the answers: %+v", c.Depts[0].Answers)
	}
}

func TestBadInputAnswersWithAnExample(t *testing.T) {
	env := newEnv(t)
	start(t, env)
	tests := []struct {
		person, line, want string
	}{
		{"wangming", "征询 新建", "缺少参数"},
		{"wangming", "征询 新建 XC-9", "不是轮次编号"},
		{"wangming", "征询 新建 XC-2026-0099", "找不到巡察轮次"},
		{"wangming", "征询 新建 XC-2026-0001 区住建局", "不是被征询部门"},
		{"wangming", "征询 新建 XC-2026-0001 期限:明年", "无法识别日期"},
		{"wangming", "征询 新建 XC-2026-0001 期限:2026-11-01", "已经过去"},
		{"wangming", "征询 新建 XC-2026-0001 颜色:红", "不认识的选项"},
		{"hejun", "征询 回复", "请给出征询编号"},
		{"hejun", "征询 回复 ZX-2026-0001", "缺少参数"},
		{"hejun", "征询 回复 ZX-2026-0404 有", "找不到征询"},
		{"gaofeng", "征询 回复 ZX-2026-0001 有", "没有征询您所在的部门"},
		{"lina", "征询 新建 XC-2026-0001", "没有权限"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			text := bottest.Text(env.Direct(tc.person, tc.line))
			bottest.MustContain(t, tc.line, text, tc.want)
		})
	}
	for _, line := range []string{"征询 新建 XC-2026-0001 期限:x", "征询 回复 ZX-2026-0001"} {
		bottest.MustContain(t, line, bottest.Text(env.Direct("wangming", line)), "示例")
	}
	// Garbage button values do not panic.
	for _, v := range []string{"", "|", "ZX-2026-0001", "ZX-2026-0001|nobody", "x|y"} {
		env.Click("hejun", bot.Button{Action: ActionNone, Value: v})
		env.Click("hejun", bot.Button{Action: ActionReply, Value: v})
	}
}

func TestHelpTextsExistForEverySubcommand(t *testing.T) {
	env := newEnv(t)
	c := env.Bot.Router.Find("consult")
	for _, lang := range []string{"zh-CN", "en"} {
		for _, s := range c.Subs {
			for _, k := range []string{"summary", "usage", "example"} {
				key := "cmd.consult." + s.Name + "." + k
				if !env.Catalog.Has(lang, key) {
					t.Errorf("%s: missing %s", lang, key)
				}
			}
		}
	}
}
