package round_test

import (
	"context"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/round"
)

// 巡中互通 the other way: a member of an attached body (room2) reports
// back to the team; it reaches the team's members directly and the
// inspection office's group, and no one else (not the coordination
// group, not the other attached body, not the inspected unit); the team
// acknowledges it; it is audited; 轮次 查看 shows it to the team, the
// office and room2, not to the other attached body or the unit; others
// cannot report back.
func TestAttachedBodiesReportBackToTheTeamOnly(t *testing.T) {
	env := newEnv(t)
	const back = "经核查：该局2025年公务用车台账缺失3个月"
	text := bottest.Text(env.Command("zhaoqiang", `轮次 互通 XC-2026-0001 "`+back+`"`))
	bottest.MustContain(t, "reply", text, "QK-2026-0001", "区委第一巡察组", "区委巡察办", "未发全群")

	recipients := map[string]*bot.Card{}
	for _, o := range env.Adapter.Sent() {
		key := o.UserID
		if o.ChatID != "" {
			key = "chat:" + o.ChatID
		}
		recipients[key] = o.Card
	}
	if len(recipients) != 3 || recipients["李娜"] == nil || recipients["张伟"] == nil || recipients["chat:巡察办工作群"] == nil {
		t.Fatalf("want the report back sent to 李娜, 张伟 and the office's group only, got %v", recipients)
	}
	card := bottest.CardText(recipients["李娜"])
	bottest.MustContain(t, "card", card, "巡中互通反馈 QK-2026-0001", back, "反馈单位", "区纪委监委第二监督检查室")
	if a := audits(t, env, "round.reply", bot.ResultOK); len(a) != 1 || a[0].Person != "zhaoqiang" || !strings.Contains(a[0].Detail, "from=room2 to=team1,office") {
		t.Errorf("reply audit %+v", a)
	}

	bottest.MustContain(t, "ack", bottest.Text(env.Click("zhangwei", bottest.FindButton(t, recipients["张伟"], round.ActionAck))), "已确认知悉")
	s, err := bot.Records[round.Situation](env.Store, round.CollSituations).Get(context.Background(), "QK-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	if s.From != "room2" || s.Acknowledged() != 1 || s.To[0].Body != "team1" || s.To[0].By != "zhangwei" {
		t.Errorf("stored report back %+v", s)
	}

	for _, who := range []string{"lina", "wangming", "zhaoqiang"} {
		bottest.MustContain(t, who+"'s page", bottest.Text(env.Direct(who, "轮次 查看 XC-2026-0001")), "区纪委监委第二监督检查室反馈："+back, "已知悉 1/2")
	}
	for _, who := range []string{"chenjing", "zhoutao"} {
		if page := bottest.Text(env.Direct(who, "轮次 查看 XC-2026-0001")); strings.Contains(page, back) || strings.Contains(page, "QK-2026-0001") || strings.Contains(page, "无权查看") {
			t.Errorf("%s learnt of the report back:\n%s", who, page)
		}
	}

	for _, who := range []string{"zhoutao", "lina", "liuyang"} {
		bottest.MustContain(t, who+" refused", bottest.Text(env.Command(who, `轮次 互通 XC-2026-0001 情况`)), "只有轮次 XC-2026-0001 联系的监督单位成员")
	}
	if n := len(audits(t, env, "round.reply", bot.ResultRefused)); n != 3 {
		t.Errorf("refused reports back audited %d times, want 3", n)
	}
	bottest.MustContain(t, "empty", bottest.Text(env.Command("chenjing", "轮次 互通 XC-2026-0001")), "缺少参数", "轮次 互通 XC-2026-0001")
}
