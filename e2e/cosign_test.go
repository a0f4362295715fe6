package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/cosign"
)

// The three-party co-signature flow of the issue, on each platform:
// opened for round XC-2026-0001 (its team, stationed group and
// organisation are the parties). The coordination group, where other
// inspected organisations' people sit, is not shown it at all: each
// member of each party gets the card with 确认签字 and 退回 by direct
// message → an outsider's click is refused and changes nothing → each
// party's member signs on their own card, and the others' cards follow
// → the completion is told to each party member exactly once, even when
// a member clicks again.
func TestCosignFlow(t *testing.T) {
	forEachPlatform(t, func(t *testing.T, p platform) {
		env := p.env()
		const id = "QZ-2026-0001"

		// Typed in the coordination group: the answer there names
		// nothing; the request's number and parties reach 李娜 directly.
		answer := p.command("lina", `cosign new "公务用车登记不规范" round:XC-2026-0001`)
		bottest.MustContain(t, "cosign new answer", answer, "私信")
		bottest.MustNotContain(t, "cosign new answer", answer, id, "区财政局党组")
		bottest.MustContain(t, "cosign new answer by direct message", awaitDMs(p, "lina", id), id, "区财政局党组")

		if cards := p.groupCards(); len(cards) != 0 {
			t.Fatalf("the coordination group got %d cards; another organisation sits there", len(cards))
		}
		members := []string{"lina", "zhangwei", "chenjing", "zhoutao"}
		mine := map[string]card{}
		for _, person := range members {
			cards := p.dmCards(person)
			if len(cards) != 1 {
				t.Fatalf("%s got %d direct cards, want 1", person, len(cards))
			}
			mine[person] = cards[0]
			bottest.MustContain(t, person+"'s card", cards[0].text, "三方共同签字 "+id, "公务用车登记不规范", "巡察轮次：XC-2026-0001",
				"区委第一巡察组", "区纪委监委派驻第三纪检监察组", "区财政局党组", "待签字")
			if b := cards[0].find(t, cosign.ActionSign); b.value != id {
				t.Fatalf("确认签字 carries %q, want %s", b.value, id)
			}
			cards[0].find(t, cosign.ActionDecline)
		}
		for _, outsider := range []string{"zhaoqiang", "wangming", "wufang"} {
			if n := len(p.dmCards(outsider)); n != 0 {
				t.Errorf("%s, in none of the parties, got %d cards", outsider, n)
			}
		}
		sign := mine["zhoutao"].find(t, cosign.ActionSign)

		// 赵强 is in none of the parties: a button pressed anyway (a
		// forwarded card) is refused.
		r := p.click("zhaoqiang", mine["zhoutao"], sign)
		bottest.MustContain(t, "outsider's answer", r.text, "您不是 "+id+" 的签字方成员")
		if r.card != nil {
			t.Errorf("the refused click replaced the card:\n%s", r.card.text)
		}
		get := func() *cosign.Cosign {
			t.Helper()
			c, err := cosign.NewQueries(env.Store).Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		if c := get(); c.Confirmed() != 0 || c.State != cosign.CosignOpen {
			t.Fatalf("the refused click changed the request: %d confirmed, %s", c.Confirmed(), c.State)
		}

		steps := []struct{ person, party, toast string }{
			{"lina", "已确认（李娜，2026-12-01 09:00）", "已签 1/3"},
			{"chenjing", "已确认（陈静，2026-12-01 09:10）", "已签 2/3"},
			{"zhoutao", "已确认（周涛，2026-12-01 09:20）", "已签 3/3"},
		}
		for i, s := range steps {
			r := p.click(s.person, mine[s.person], sign)
			bottest.MustContain(t, s.person+"'s toast", r.text, s.toast)
			if r.card == nil {
				t.Fatalf("%s: the card was not replaced", s.person)
			}
			bottest.MustContain(t, s.person+"'s card", r.card.text, s.party)
			if c := get(); c.Confirmed() != i+1 {
				t.Fatalf("after %s: %d confirmed, want %d", s.person, c.Confirmed(), i+1)
			}
			// 张伟's card, which nobody clicked, follows every signature.
			ups := p.updates(mine["zhangwei"])
			if len(ups) == 0 {
				t.Fatalf("after %s: 张伟's card was not updated", s.person)
			}
			bottest.MustContain(t, "张伟's card after "+s.person, ups[len(ups)-1], s.party)
			if i < len(steps)-1 && completions(p, id, "zhangwei") != 0 {
				t.Fatalf("completion announced after %d of 3", i+1)
			}
			env.Clock.Advance(10 * time.Minute)
		}
		c := get()
		if c.State != cosign.CosignComplete || c.Handover == nil || c.Handover.To != "group3" {
			t.Fatalf("state %s handover %+v; want complete, handed over to group3", c.State, c.Handover)
		}

		// A second click after completion changes nothing.
		r = p.click("zhangwei", mine["zhangwei"], sign)
		if strings.TrimSpace(r.text) == "" {
			t.Error("a click on a complete request was not answered")
		}
		for _, person := range members {
			awaitDMs(p, person, "各方均已确认签字")
			if n := completions(p, id, person); n != 1 {
				t.Errorf("completion told %s %d times, want 1", person, n)
			}
		}
		// Nothing about the request reached the coordination group.
		for _, s := range p.groupTexts() {
			bottest.MustNotContain(t, "coordination group", s, id, "公务用车登记不规范")
		}
		for _, s := range p.shown() {
			if s.audience == "group" && (strings.Contains(s.text, id) || strings.Contains(s.text, "公务用车登记不规范")) {
				t.Errorf("shown to the group: %s", s.text)
			}
		}
		es, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool { return e.Record == id })
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, e := range es {
			count[e.Action+"/"+e.Result]++
		}
		want := map[string]int{"cosign.create/ok": 1, "cosign.confirm/ok": 3, "cosign.complete/ok": 1, "cosign.sign/refused": 2}
		for k, n := range want {
			if count[k] != n {
				t.Errorf("audit %s: %d, want %d (all: %v)", k, count[k], n, count)
			}
		}
	})
}

// completions counts the announcements of the completion of id sent to
// person directly.
func completions(p platform, id, person string) int {
	n := 0
	for _, s := range p.dms(person) {
		if strings.Contains(s, id) && strings.Contains(s, "各方均已确认签字") {
			n++
		}
	}
	return n
}

// awaitDMs waits (a few seconds at most) until the direct messages
// person received contain want, which the outbox may deliver after the
// answer, and returns them joined.
func awaitDMs(p platform, person, want string) string {
	var got string
	for range 50 {
		if got = strings.Join(p.dms(person), "\n"); strings.Contains(got, want) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return got
}
