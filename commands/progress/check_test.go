package progress

import (
	"slices"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
)

func TestStationedGroupMonthlyCheck(t *testing.T) {
	env := newEnv(t)
	fin := create(t, env, financeItem)   // room2, group3
	fin2 := create(t, env, financeItem2) // group3
	create(t, env, chengguanItem)        // sup_chengguan
	env.Adapter.Reset()
	runTask(t, env, TaskStationedCheck)

	c, err := bot.Records[Check](env.Store, CollProgressChecks).Get(ctx, CheckID(CheckStationed, "group3", "2026-12"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Items, []string{fin, fin2}) {
		t.Errorf("check lists %v", c.Items)
	}
	dm := sentTo(env, "陈静")
	if len(dm) != 1 {
		t.Fatalf("stationed group prompts %d", len(dm))
	}
	text := outText(dm[0])
	contains(t, text, env.TZ("progress.check.stationed.title", "month", "2026年12月", "body", "区纪委监委派驻第三纪检监察组"))
	contains(t, text, fin2)
	if len(sentTo(env, "刘洋")) != 0 {
		t.Error("the supervisor office was prompted by the stationed groups' task")
	}
	runTask(t, env, TaskStationedCheck)
	if len(sentTo(env, "陈静")) != 1 {
		t.Error("a repeated run prompted again")
	}

	// A finding on an item, then the overall result.
	got := bottest.Text(env.Command("chenjing", "进度 检查 "+fin+" 整改台账不完整"))
	contains(t, got, env.TZ("progress.check.saved", "body", "区纪委监委派驻第三纪检监察组", "month", "2026年12月", "result", env.TZ("progress.check.result.issues")))
	env.Command("chenjing", "进度 检查 通过 其余事项正常")
	c, _ = bot.Records[Check](env.Store, CollProgressChecks).Get(ctx, c.ID)
	if c.Result != CheckIssues || len(c.Findings) != 1 || c.Findings[0].Item != fin || c.RecordedBy != "chenjing" || c.Note != "其余事项正常" {
		t.Errorf("check %+v", c)
	}
	contains(t, bottest.Text(env.Command("lina", "进度 查看 "+fin)), "整改台账不完整")
	if a := audits(t, env, "progress.check"); len(a) != 2 {
		t.Errorf("check audits %+v", a)
	}
	// Not listed, and not a member.
	contains(t, bottest.Text(env.Command("chenjing", "进度 检查 ZG-2026-0003 问题")), env.TZ("progress.check.not_listed", "id", "ZG-2026-0003", "check", c.ID))
	got = bottest.Text(env.Command("liuyang", "进度 检查 通过 单位:派驻第三纪检监察组"))
	contains(t, got, env.TZ("progress.check.not_member", "body", "区纪委监委派驻第三纪检监察组"))
	contains(t, bottest.Text(env.Command("zhoutao", "进度 检查 通过")), env.TZ("error.forbidden"))
}

func TestSupervisorOfficeCheckWithButton(t *testing.T) {
	env := newEnv(t)
	create(t, env, financeItem)
	cg := create(t, env, chengguanItem)
	at(env, 2027, 2, 1, 9, 0)
	env.Adapter.Reset()
	runTask(t, env, TaskSupervisorCheck)
	dm := sentTo(env, "刘洋")
	if len(dm) != 1 || len(sentTo(env, "罗霞")) != 0 {
		t.Fatalf("supervisor office prompts: 刘洋 %d, 罗霞 %d (Hexi supervises nothing)", len(dm), len(sentTo(env, "罗霞")))
	}
	contains(t, outText(dm[0]), cg)
	contains(t, outText(dm[0]), env.TZ("progress.overdue_mark"))
	btn := bottest.FindButton(t, dm[0].Card, "progress.check_ok")
	contains(t, bottest.Text(env.Click("chenjing", btn)), env.TZ("progress.check.not_member", "body", "城关镇派出监察员办公室"))
	if c, _ := bot.Records[Check](env.Store, CollProgressChecks).Get(ctx, btn.Value); c.Result != CheckPending {
		t.Error("a member of another body recorded the check")
	}
	resp := env.Click("liuyang", btn)
	if !resp.Replies[0].Replace || len(resp.Replies[0].Card.Buttons) != 0 {
		t.Errorf("button answer %+v", resp.Replies[0])
	}
	c, _ := bot.Records[Check](env.Store, CollProgressChecks).Get(ctx, btn.Value)
	if c.Result != CheckPassed || c.RecordedBy != "liuyang" || c.Period != "2027-02" {
		t.Errorf("check %+v", c)
	}
}

// The check card shows what was found on items, also after a later
// overall result: the finding's text is never replaced by "-" (both
// languages; the card is rendered in the deployment's).
func TestCheckCardShowsItemFindings(t *testing.T) {
	for _, tc := range []struct{ lang, finding, pass, want string }{
		{"zh-CN", "整改台账不完整", "进度 检查 通过", "发现问题：整改台账不完整"},
		{"en", "ledger incomplete", "progress check passed", "finding: ledger incomplete"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			env := newEnv(t, withConfig(func(c *config.Config) { c.Lang = tc.lang }))
			fin := create(t, env, financeItem) // room2, group3
			runTask(t, env, TaskStationedCheck)
			env.Adapter.Reset()
			env.Command("chenjing", "进度 检查 "+fin+" "+tc.finding)
			env.Command("chenjing", tc.pass)
			var last string
			for _, o := range env.Adapter.Sent() {
				if o.Update != nil && o.Card != nil {
					last = bottest.CardText(o.Card)
				}
			}
			contains(t, last, fin+" "+tc.want)
			notContains(t, last, ") -")
			notContains(t, last, "）-")
		})
	}
}
