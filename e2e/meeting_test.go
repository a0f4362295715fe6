package e2e_test

import (
	"context"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/meeting"
)

// The meeting answer flow on each platform: the office convenes a work
// meeting → the card names the invited bodies and carries 参加 / 请假 →
// the case office's member, not invited to a work meeting, is told so and
// the card stays as it was → an invited room member's 参加 and a stationed
// group member's 请假 replace the card with the answers counted apart.
func TestMeetingInviteesFlow(t *testing.T) {
	forEachPlatform(t, func(t *testing.T, p platform) {
		env := p.env()
		const id = "HY-2026-0001"
		answer := p.command("wangming", "会议 新建 工作例会 12-15 15:00 地点:三楼会议室")
		bottest.MustContain(t, "meeting new answer", answer, id)
		cards := p.groupCards()
		if len(cards) != 1 {
			t.Fatalf("want one card in the coordination group, got %d", len(cards))
		}
		posted := cards[0]
		bottest.MustContain(t, "meeting card", posted.text, "受邀单位", "区纪委监委第二监督检查室", "城关镇派出监察员办公室")
		bottest.MustNotContain(t, "meeting card", posted.text, "案件监督管理室", "河西街道派出监察员办公室")
		attend, leave := posted.find(t, meeting.ActionAttend), posted.find(t, meeting.ActionAbsent)

		r := p.click("sunli", posted, attend)
		bottest.MustContain(t, "outsider's answer", r.text, "未受邀参加会议 "+id)
		if r.card != nil {
			t.Errorf("the refused click replaced the card:\n%s", r.card.text)
		}
		r = p.click("zhaoqiang", posted, attend)
		if r.card == nil {
			t.Fatal("参加 did not replace the card")
		}
		r = p.click("chenjing", posted, leave)
		if r.card == nil {
			t.Fatal("请假 did not replace the card")
		}
		bottest.MustContain(t, "answered card", r.card.text, "参加（1人）", "赵强", "请假（1人）", "陈静")
		mt, err := bot.Records[meeting.Meeting](env.Store, meeting.CollMeetings).Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if mt.AnswerOf("sunli") != "" || mt.AnswerOf("zhaoqiang") != meeting.AnswerAttend || mt.AnswerOf("chenjing") != meeting.AnswerLeave {
			t.Errorf("answers %+v", mt.Answers)
		}
		es, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool {
			return e.Record == id && e.Result == bot.ResultRefused && e.Detail == "not_invited"
		})
		if err != nil || len(es) != 1 {
			t.Errorf("refused answer audited %d times (%v), want 1", len(es), err)
		}
	})
}
