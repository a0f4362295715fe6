package clue

import (
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// 共同核实: the receiving room records that a supervisor office verifies
// with it; the office's member alone gets the substance, by DM, and may
// then see the clue and its history; the others still may not.
func TestJointVerificationRoutesTheSubstanceToTheJointBodyOnly(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	env.Command("zhaoqiang", "线索 签收 "+id)
	before := len(env.Adapter.Sent())

	// Neither a stranger nor an inspected unit may arrange it.
	bottest.MustContain(t, "stationed group arranging", bottest.Text(env.Command("chenjing", "线索 共同核实 "+id+" 城关镇派出监察员办公室")), "只有巡察办或区纪委监委第二监督检查室的成员")
	bottest.MustContain(t, "not a joint kind", bottest.Text(env.Command("zhaoqiang", "线索 共同核实 "+id+" 第一监督检查室")), "不能参与共同核实", "线索 共同核实 XS-2026-0001 城关镇派出监察员办公室")

	resp := bottest.Text(env.Command("zhaoqiang", "线索 共同核实 "+id+" 城关镇派出监察员办公室"))
	bottest.MustContain(t, "joint", resp, "城关镇派出监察员办公室", "共同核实线索 "+id, "1 人")
	bottest.MustNotContain(t, "joint answer", resp, substance, title)

	// The substance went to 刘洋 only, recorded as a DM.
	for _, o := range env.Adapter.Sent()[before:] {
		if strings.Contains(outText(o), substance) && o.UserID != "刘洋" {
			t.Errorf("substance sent to %+v", o)
		}
	}
	dms := sentTo(env, "刘洋")
	if len(dms) != 1 {
		t.Fatalf("want one DM to 刘洋, got %d", len(dms))
	}
	bottest.MustContain(t, "DM to the joint body", outText(dms[0]), substance, "共同核实", id)
	c := loadClue(t, env, id)
	if len(c.Joint) != 1 || c.Joint[0] != "sup_chengguan" {
		t.Fatalf("joint bodies %v", c.Joint)
	}
	var recorded bool
	for _, d := range c.DMs {
		recorded = recorded || d.Person == "liuyang"
	}
	if !recorded {
		t.Error("the DM to 刘洋 was not recorded")
	}
	// 刘洋 is now entitled: view and history; 陈静 (another body) is not.
	bottest.MustContain(t, "刘洋 views", bottest.Text(direct(env, "liuyang", "线索 查看 "+id)), substance, "共同核实")
	bottest.MustContain(t, "刘洋's history", bottest.Text(direct(env, "liuyang", "线索 记录 "+id)), "共同核实")
	bottest.MustNotContain(t, "陈静 views", bottest.Text(direct(env, "chenjing", "线索 查看 "+id)), substance)
	// Feedback reaches the joint body too.
	env.Command("zhaoqiang", "线索 反馈 "+id+" 已与城关镇派出监察员办公室联合约谈")
	bottest.MustContain(t, "feedback to 刘洋", outText(sentTo(env, "刘洋")[len(sentTo(env, "刘洋"))-1]), "联合约谈")
	// Again: nothing new.
	bottest.MustContain(t, "again", bottest.Text(env.Command("wangming", "线索 共同核实 "+id+" 城关镇派出监察员办公室")), "已在共同核实")
	if n := len(sentTo(env, "刘洋")); n != 2 {
		t.Errorf("刘洋 got %d messages, want 2", n)
	}
}

// 改派: a returned clue goes to another body without retyping; the new
// body gets the substance and the card, the old one loses the clue.
func TestReassignAReturnedClue(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	env.Command("zhaoqiang", "线索 签收 "+id)

	// Only a returned clue, only by the office.
	bottest.MustContain(t, "open clue", bottest.Text(env.Command("wangming", "线索 改派 "+id+" 第一监督检查室")), "只有被退回的线索可以改派")
	bottest.MustContain(t, "team reassigning", bottest.Text(env.Command("lina", "线索 改派 "+id+" 第一监督检查室")), "没有权限")
	env.Command("zhaoqiang", "线索 退回 "+id+" 不属于本室联系范围")
	cardsBefore := len(postedIn(env, clueChat))
	env.Clock.Advance(time.Hour)

	resp := bottest.Text(env.Command("wangming", "线索 改派 "+id+" 第一监督检查室 期限:2027-01-31"))
	bottest.MustContain(t, "reassign", resp, "改派至区纪委监委第一监督检查室", "2027-01-31", "1 人", "不再接收")
	c := loadClue(t, env, id)
	if c.Body != "room1" || c.Status != ClueTransferred || c.AckBy != "" || len(c.PrevBodies) != 1 || c.PrevBodies[0] != "room2" {
		t.Fatalf("after reassign: %+v", c)
	}
	if c.Substance != substance || c.Title != title {
		t.Error("the substance was not kept")
	}
	// 何军 (room1) got the substance with a 签收 button; a new card went
	// to the clue group; the history is kept.
	dm := sentTo(env, "何军")
	if len(dm) != 1 {
		t.Fatalf("want one DM to 何军, got %d", len(dm))
	}
	bottest.MustContain(t, "DM to 何军", outText(dm[0]), substance, "签收")
	if n := len(postedIn(env, clueChat)); n != cardsBefore+1 {
		t.Errorf("want a new card in the clue group, got %d new", n-cardsBefore)
	}
	bottest.MustContain(t, "history", bottest.Text(direct(env, "hejun", "线索 查看 "+id)), "退回：不属于本室联系范围", "改派")
	// 赵强 lost the clue: no view, no acknowledgement.
	bottest.MustNotContain(t, "赵强 views", bottest.Text(direct(env, "zhaoqiang", "线索 查看 "+id)), substance)
	bottest.MustContain(t, "赵强 acks", bottest.Text(env.Command("zhaoqiang", "线索 签收 "+id)), "只有区纪委监委第一监督检查室的成员")
	bottest.MustContain(t, "何军 acks", bottest.Text(env.Command("hejun", "线索 签收 "+id)), "已签收线索 "+id, "2027-01-31")
	// Reminders count from the reassignment.
	if !c.TransferredAt().Equal(c.ReassignedAt) || c.ReassignedAt.Equal(c.CreatedAt) {
		t.Errorf("transferred at %s, created %s", c.TransferredAt(), c.CreatedAt)
	}
}

// 延期: the office extends the deadline with a reason; audited; the
// receiving body is told; an earlier date is refused with an example.
func TestExtendTheHandlingDeadline(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	env.Command("zhaoqiang", "线索 签收 "+id)
	bottest.MustContain(t, "room extending", bottest.Text(env.Command("zhaoqiang", "线索 延期 "+id+" 2027-01-31 需要")), "没有权限")
	bottest.MustContain(t, "earlier", bottest.Text(env.Command("wangming", "线索 延期 "+id+" 12-20 需要")), "须晚于当前期限 2026-12-31", "线索 延期 XS-2026-0001 01-31")
	bottest.MustContain(t, "no reason", bottest.Text(env.Command("wangming", "线索 延期 "+id+" 2027-01-31")), "说明")

	resp := bottest.Text(env.Command("wangming", "线索 延期 "+id+" 2027-01-31 涉及多个年度账目"))
	bottest.MustContain(t, "extend", resp, "由 2026-12-31 延至 2027-01-31")
	if c := loadClue(t, env, id); bot.FormatDate(c.Deadline, env.Bot.Loc) != "2027-01-31" {
		t.Fatalf("deadline %s", c.Deadline)
	}
	dms := sentTo(env, "赵强")
	bottest.MustContain(t, "receiver told", outText(dms[len(dms)-1]), "延至 2027-01-31", "涉及多个年度账目")
	if n := len(audits(t, env, func(e bot.AuditEntry) bool {
		return e.Action == "clue.extend" && e.Record == id && e.Result != bot.ResultRefused && strings.Contains(e.Detail, "to=2027-01-31")
	})); n != 1 {
		t.Errorf("want the extension audited once, got %d", n)
	}
	ups := updatesIn(env, clueChat)
	if len(ups) == 0 || !strings.Contains(bottest.CardText(ups[len(ups)-1].Card), "2027-01-31") {
		t.Error("the group card does not show the new deadline")
	}
}
