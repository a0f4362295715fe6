package progress

import (
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/round"
)

// "progress new" refuses a round that does not exist (or is not a round
// number) and a deadline already past, with an example, and creates
// nothing; today's date and an existing round are accepted.
func TestNewRefusesAnUnknownRoundAndAPastDeadline(t *testing.T) {
	env := newEnv(t)
	today := bottest.Today(env.Clock.Now()).Format("2006-01-02")
	yesterday := bottest.Today(env.Clock.Now()).AddDate(0, 0, -1).Format("2006-01-02")
	for _, tc := range []struct{ line, want string }{
		{`进度 新建 区财政局党组 "台账不全" 期限:2027-03-31 监督:第二监督检查室 轮次:XC-2026-0042`, env.TZ("progress.error.unknown_round", "round", "XC-2026-0042")},
		{`进度 新建 区财政局党组 "台账不全" 期限:2027-03-31 监督:第二监督检查室 轮次:2026`, env.TZ("progress.error.bad_round", "input", "2026")},
		{`进度 新建 区财政局党组 "台账不全" 期限:` + yesterday + ` 监督:第二监督检查室`, env.TZ("progress.error.past_deadline", "deadline", yesterday, "today", today)},
	} {
		got := bottest.Text(env.Command("lina", tc.line))
		contains(t, got, tc.want)
		contains(t, got, "正确格式示例")
	}
	items, err := bot.Records[Item](env.Store, CollItems).List(ctx)
	if err != nil || len(items) != 0 {
		t.Fatalf("refused lines created %d items (%v)", len(items), err)
	}
	rd := &round.Round{ID: "XC-2026-0001", Team: "team1", Organisation: "finance"}
	if err := bot.Records[round.Round](env.Store, round.CollRounds).Create(ctx, rd.ID, rd); err != nil {
		t.Fatal(err)
	}
	id := create(t, env, `区财政局党组 "台账不全" 期限:`+today+` 监督:第二监督检查室 轮次:xc-2026-0001`)
	if it, _ := bot.Records[Item](env.Store, CollItems).Get(ctx, id); it.Round != "XC-2026-0001" {
		t.Errorf("round %q", it.Round)
	}
}

// A relay check's later "passed" keeps the earlier finding's text: the
// result stays "issues", the note stays, and every result is in the log.
func TestRelayCheckLaterPassKeepsTheEarlierFinding(t *testing.T) {
	env := newEnv(t)
	create(t, env, financeItem)
	runTask(t, env, TaskStationedCheck)
	id := CheckID(CheckStationed, "group3", "2026-12")
	env.Command("chenjing", "进度 检查 发现问题 台账未按月更新")
	env.Command("chenjing", "进度 检查 通过")
	c, err := bot.Records[Check](env.Store, CollProgressChecks).Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if c.Result != CheckIssues || c.Note != "台账未按月更新" {
		t.Fatalf("after a later pass: result %s note %q", c.Result, c.Note)
	}
	if len(c.Log) != 2 || c.Log[0].Result != CheckIssues || c.Log[0].Note != "台账未按月更新" || c.Log[1].Result != CheckPassed || c.Log[1].Person != "chenjing" {
		t.Fatalf("log %+v", c.Log)
	}
	// A later note is shown, the earlier one stays in the log.
	env.Command("chenjing", "进度 检查 通过 已督促补齐")
	c, _ = bot.Records[Check](env.Store, CollProgressChecks).Get(ctx, id)
	if c.Note != "已督促补齐" || len(c.Log) != 3 || c.Log[0].Note != "台账未按月更新" {
		t.Fatalf("after a later note: %q %+v", c.Note, c.Log)
	}
}
