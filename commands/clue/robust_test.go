package clue

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// Odd input never crashes a handler: each answer is a usage message,
// never the internal-error text.
func TestOddInputNeverFailsInternally(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	internal := env.TZ("error.internal")
	lines := []string{
		"线索", "线索 查看", "线索 查看 XS-", "线索 查看 XS-2026-9999", "线索 查看 " + strings.Repeat("X", 500),
		"线索 签收", "线索 签收 abc", "线索 办结 " + id, "线索 办结 " + id + " 初步核实", "线索 办结 " + id + " 也许 说明",
		"线索 退回 " + id, "线索 反馈 " + id, "线索 核查 " + id + " 说明:带冒号", "线索 记录", "线索 记录 XS-2026-0002",
		"线索 列表 状态:", "线索 列表 单位:不存在", "线索 列表 foo:bar", "线索 汇总 从:", "线索 汇总 至:昨天吧", "线索 汇总 2026q9",
		`线索 移送 "" "" "" ""`, `线索 移送 第二监督检查室 区财政局党组 "" 内容`, "线索 移送 第二监督检查室 区财政局党组 标题 优先",
		"线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:", "线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:+99999d",
		"线索 移送 “第二监督检查室” 「区财政局党组」 “标题” “内容", "clue transfer", "clue conclude " + id + " verification",
	}
	for _, l := range lines {
		for _, who := range []string{"lina", "zhaoqiang", "sunli"} {
			got := bottest.Text(env.Command(who, l))
			if got == "" || strings.Contains(got, internal) {
				t.Errorf("%s: %q answered %q", who, l, got)
			}
		}
	}
	got := bottest.Text(env.Click("zhaoqiang", bot.Button{Action: "clue.ack", Value: "garbage"}))
	if got == "" || strings.Contains(got, internal) {
		t.Errorf("garbage button value: %q", got)
	}
}

// When the store is down nothing is sent and the person is told.
func TestStoreOutage(t *testing.T) {
	env := newEnv(t)
	env.Store.(*bottest.Mem).Fail = bot.Unavailable(errors.New("down"))
	got := bottest.Text(env.Command("lina", transferZH))
	bottest.MustContain(t, "outage", got, env.TZ("error.unavailable"))
	if n := len(env.Adapter.Sent()); n != 0 {
		t.Errorf("%d messages sent during an outage", n)
	}
	if err := env.Bot.Jobs.Run(t.Context(), env.Clock.Now()); err == nil {
		t.Error("reminder job hid a store outage")
	}
}

// Two members of the receiving body press 签收 at once: exactly one
// acknowledgement is recorded, the other is told it is already done.
func TestConcurrentAcknowledgement(t *testing.T) {
	env := newEnv(t)
	extra := bot.Person{ID: "qianli", Name: "钱立", Bodies: []string{"room2"}, IDs: map[bot.Platform]string{console.Name: "钱立"}}
	doc, _ := json.Marshal(extra)
	if err := env.Store.Put(t.Context(), bot.CollRoster, extra.ID, doc); err != nil {
		t.Fatal(err)
	}
	id := transfer(t, env, transferZH)
	bottest.MustContain(t, "transfer to two members", bottest.Text(env.Command("lina", transferZH)), "2 人")
	btn := bot.Button{Action: "clue.ack", Value: id}
	var wg sync.WaitGroup
	answers := make([]string, 2)
	for i, who := range []string{"zhaoqiang", "qianli"} {
		wg.Go(func() { answers[i] = bottest.Text(env.Click(who, btn)) })
	}
	wg.Wait()
	ok := 0
	for _, a := range answers {
		if strings.Contains(a, "已签收线索") {
			ok++
		} else {
			bottest.MustContain(t, "second acknowledgement", a, "不能「签收」")
		}
	}
	if ok != 1 {
		t.Fatalf("want exactly one acknowledgement, answers %q", answers)
	}
	n := len(audits(t, env, func(e bot.AuditEntry) bool {
		return e.Record == id && e.Action == "clue.ack" && e.Result == bot.ResultOK
	}))
	if n != 1 {
		t.Errorf("%d acknowledgements audited", n)
	}
}

// Direct messages follow each person's language; the group card the
// deployment's.
func TestLanguages(t *testing.T) {
	env := newEnv(t)
	if err := env.Store.Put(t.Context(), bot.CollPrefs, "zhaoqiang", []byte(`{"lang":"en"}`)); err != nil {
		t.Fatal(err)
	}
	id := transfer(t, env, transferZH)
	dm := sentTo(env, "赵强")
	if len(dm) != 1 {
		t.Fatalf("want one DM, got %d", len(dm))
	}
	bottest.MustContain(t, "English DM", outText(dm[0]), "has received clue "+id, "Substance: "+substance, "Acknowledge", "2nd Supervision & Inspection Room")
	bottest.MustContain(t, "group card", bottest.CardText(postedIn(env, clueChat)[0].Card), "问题线索移送", "签收")
	bottest.MustContain(t, "English reply", bottest.Text(env.Command("zhaoqiang", "clue conclude "+id+" close x")), "cannot be \"disposed of\" now", "acknowledge (clue ack "+id+")")
}
