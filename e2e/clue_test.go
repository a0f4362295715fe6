package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/clue"
)

const (
	clueTitle     = "虚报冒领专项资金"
	clueSubstance = "2025年以来虚报培训项目冒领专项资金约50万元"
	clueNote      = "经核查问题属实，已立案审查"
	transferLine  = `clue transfer 第二监督检查室 区财政局党组 "` + clueTitle + `" "` + clueSubstance + `" deadline:12-31 priority`
)

// entitled are the people who may read the clue: the receiving body
// (赵强), the transferring team (李娜, 张伟) and the inspection office (王明).
var entitled = map[string]bool{"dm:zhaoqiang": true, "dm:lina": true, "dm:zhangwei": true, "dm:wangming": true,
	"private:zhaoqiang": true, "private:lina": true, "private:zhangwei": true, "private:wangming": true}

func loadClue(t *testing.T, env *bottest.Env, id string) *clue.Clue {
	t.Helper()
	c, err := bot.Records[clue.Clue](env.Store, clue.CollClues).Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// confidential checks that whatever carried the clue's title or
// substance reached only the people in allowed.
func confidential(t *testing.T, p platform, allowed map[string]bool) {
	t.Helper()
	for _, s := range p.shown() {
		if (strings.Contains(s.text, clueSubstance) || strings.Contains(s.text, clueTitle)) && !allowed[s.audience] {
			t.Errorf("the clue reached %s:\n%s", s.audience, s.text)
		}
	}
}

// The clue flow of the issue, on each platform through its test server:
// 李娜 transfers a clue (directly) → the discipline-only clue group gets a
// card without the substance, the inspected unit or the priority flag,
// and the coordination group, where the inspected unit sits, gets nothing
// → the substance goes by DM to the receiving body only → an
// outsider's 签收 is refused and changes nothing → 赵强 signs for it and
// the card shows who → verify and conclude by command update the card →
// an outsider asking to see the clue reads nothing of it.
func TestClueFlow(t *testing.T) {
	forEachPlatform(t, func(t *testing.T, p platform) {
		env := p.env()
		const id = "XS-2026-0001"

		answer := p.direct("lina", transferLine)
		bottest.MustContain(t, "transfer answer", answer, id, "区纪委监委第二监督检查室", "2026-12-31", "纪检线索群已发布公告")
		bottest.MustNotContain(t, "transfer answer", answer, clueSubstance)

		// The clue group card: id, receiving body, deadline, status, a
		// 签收 button; never the title, the substance, the inspected unit
		// or the priority flag. Nothing in the coordination group.
		if n := len(p.groupCards()); n != 0 {
			t.Fatalf("%d clue cards in the coordination group, where the inspected unit sits", n)
		}
		cards := p.clueCards()
		if len(cards) != 1 {
			t.Fatalf("want one card in the clue group, got %d", len(cards))
		}
		announced := cards[0]
		bottest.MustContain(t, "group card", announced.text, id, "区纪委监委第二监督检查室", "2026-12-31", "已移送")
		bottest.MustNotContain(t, "group card", announced.text, clueTitle, clueSubstance, "区财政局党组", "优先")
		ack := announced.find(t, "clue.ack")
		if ack.value != id {
			t.Fatalf("签收 carries %q, want %s", ack.value, id)
		}

		// The substance went by DM to 赵强, the receiving body's only
		// member, and to nobody else.
		dms := strings.Join(p.dms("zhaoqiang"), "\n")
		bottest.MustContain(t, "DM to 赵强", dms, id, clueTitle, clueSubstance)
		confidential(t, p, map[string]bool{"dm:zhaoqiang": true})

		// Outsiders cannot sign for it: 周涛 (the inspected organisation,
		// refused by the router) and 陈静 (another receiving body, refused
		// by the clue's own check). Nothing changes.
		for _, who := range []string{"zhoutao", "chenjing"} {
			r := p.click(who, announced, ack)
			if r.card != nil {
				t.Errorf("%s's refused click replaced the card:\n%s", who, r.card.text)
			}
			if strings.TrimSpace(r.text) == "" {
				t.Errorf("%s was told nothing", who)
			}
			bottest.MustNotContain(t, who+"'s answer", r.text, clueTitle, clueSubstance, "已签收线索")
		}
		if c := loadClue(t, env, id); c.Status != clue.ClueTransferred || c.AckBy != "" {
			t.Fatalf("refused clicks changed the clue: %s by %q", c.Status, c.AckBy)
		}
		if n := len(p.updates(announced)); n != 0 {
			t.Errorf("refused clicks updated the card %d times", n)
		}

		// 赵强 signs for it on the card; the card shows who and when.
		env.Clock.Advance(90 * time.Minute)
		r := p.click("zhaoqiang", announced, ack)
		bottest.MustContain(t, "赵强's toast", r.text, "已签收线索 "+id)
		if r.card == nil {
			t.Fatal("the card was not replaced after 签收")
		}
		bottest.MustContain(t, "acknowledged card", r.card.text, "已签收", "于 2026-12-01 10:30 签收", p.userID("zhaoqiang"))
		bottest.MustNotContain(t, "acknowledged card", r.card.text, clueTitle, clueSubstance)
		if len(r.card.buttons) != 0 {
			t.Errorf("the acknowledged card still has buttons: %v", r.card.buttons)
		}
		if c := loadClue(t, env, id); c.Status != clue.ClueAcknowledged || c.AckBy != "zhaoqiang" {
			t.Fatalf("after 签收: %s by %q", c.Status, c.AckBy)
		}
		// The click's answer replaced the card (on Slack with chat.update,
		// on Lark in the callback's answer); the outbox does not update the
		// same message a second time.
		if _, err := env.Outbox.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		byAnswer := 0
		if p.name() == "slack" {
			byAnswer = 1
		}
		if n := len(p.updates(announced)); n != byAnswer {
			t.Errorf("the clicked card was updated %d times, want %d (by the click's answer only)", n, byAnswer)
		}

		// Verification and conclusion by command; each updates the card.
		env.Clock.Advance(24 * time.Hour)
		bottest.MustContain(t, "verify", p.direct("zhaoqiang", "clue verify "+id+" 已成立核查组"), "已进入核查")
		env.Clock.Advance(24 * time.Hour)
		bottest.MustContain(t, "conclude", p.direct("zhaoqiang", "clue dispose "+id+" 立案审查调查 "+clueNote), "已处置办结（初步核实后立案审查调查）")
		// The outbox updates the card in the clue group on its own, beside
		// the answer in the direct chat: wait for it (bounded).
		var ups []string
		bottest.Eventually(10*time.Second, func() bool { ups = p.updates(announced); return len(ups) >= 2 })
		if len(ups) < 2 {
			t.Fatalf("the card was updated %d times by verify and conclude, want 2", len(ups))
		}
		final := ups[len(ups)-1]
		bottest.MustContain(t, "final card", final, "已办结（初步核实后立案审查调查）", "于 2026-12-03 10:30 处置办结")
		bottest.MustNotContain(t, "final card", final, clueTitle, clueSubstance, clueNote)
		if c := loadClue(t, env, id); c.Status != clue.ClueConcluded || c.Conclusion != clue.DisposalVerify || !c.CaseOpened {
			t.Fatalf("after conclude: %s %s", c.Status, c.Conclusion)
		}

		// 周涛 asks to see it, in the group and directly: refused, and
		// nothing he or the group could read carries the clue.
		for _, ask := range []func(string, string) string{p.command, p.direct} {
			got := ask("zhoutao", "clue show "+id)
			bottest.MustContain(t, "周涛's clue show", got, env.TZ("error.forbidden"))
			bottest.MustNotContain(t, "周涛's clue show", got, clueTitle, clueSubstance, clueNote)
		}
		confidential(t, p, entitled)
		refused, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool {
			return e.Person == "zhoutao" && e.Result == bot.ResultRefused && strings.HasPrefix(e.Action, "clue")
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(refused) != 3 { // the click and the two reads
			t.Errorf("%d refusals of 周涛 audited, want 3: %+v", len(refused), refused)
		}
		// The coordination group never heard of the clue.
		for _, txt := range p.groupTexts() {
			bottest.MustNotContain(t, "coordination group", txt, id, "线索")
		}
	})
}

// 改派 on each platform: 赵强 returns the clue, the office reassigns it to
// the 1st room; the clue group gets a new card whose 签收 the former
// receiver cannot press and 何军 (1st room) can; the substance reached
// 何军 by DM and nobody outside the entitled.
func TestReassignedClueIsAcknowledgedByTheNewBody(t *testing.T) {
	forEachPlatform(t, func(t *testing.T, p platform) {
		env := p.env()
		const id = "XS-2026-0001"
		p.direct("lina", transferLine)
		bottest.MustContain(t, "return", p.direct("zhaoqiang", "clue return "+id+" 不属于本室联系范围"), "已退回")
		env.Clock.Advance(time.Hour)
		bottest.MustContain(t, "reassign", p.direct("wangming", "线索 改派 "+id+" 第一监督检查室"), "改派至区纪委监委第一监督检查室")

		cards := p.clueCards()
		if len(cards) != 2 {
			t.Fatalf("want the first and the new card in the clue group, got %d", len(cards))
		}
		fresh := cards[1]
		bottest.MustContain(t, "new card", fresh.text, id, "区纪委监委第一监督检查室", "已移送")
		bottest.MustNotContain(t, "new card", fresh.text, clueTitle, clueSubstance, "区财政局党组", "优先")
		ack := fresh.find(t, "clue.ack")

		r := p.click("zhaoqiang", fresh, ack)
		if r.card != nil {
			t.Errorf("the former receiver's click replaced the card:\n%s", r.card.text)
		}
		bottest.MustNotContain(t, "赵强's answer", r.text, clueSubstance, "已签收线索")
		r = p.click("hejun", fresh, ack)
		bottest.MustContain(t, "何军's toast", r.text, "已签收线索 "+id)
		if c := loadClue(t, env, id); c.Status != clue.ClueAcknowledged || c.AckBy != "hejun" || c.Body != "room1" {
			t.Fatalf("after 签收: %s by %q at %s", c.Status, c.AckBy, c.Body)
		}
		bottest.MustContain(t, "DM to 何军", strings.Join(p.dms("hejun"), "\n"), clueSubstance)
		confidential(t, p, map[string]bool{"dm:zhaoqiang": true, "dm:hejun": true, "dm:lina": true, "private:hejun": true, "private:zhaoqiang": true, "private:lina": true, "dm:zhangwei": true, "dm:wangming": true})
	})
}
