package e2e_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/progress"
)

// The 销号 flow on each platform: a rectification item's card in the
// coordination group → the responsible unit presses 已完成整改 and the
// card turns to 待销号 with 确认销号 only → the unit's own click on
// 确认销号 is refused and the card stays → the stationed group's member
// confirms and the card shows the item closed, with no button left; the
// group is told, and the confirmation is audited once.
func TestProgressClosingFlow(t *testing.T) {
	forEachPlatform(t, func(t *testing.T, p platform) {
		env := p.env()
		answer := p.command("lina", `进度 新建 区财政局党组 "公务用车登记不规范" 期限:2027-03-31 监督:派驻第三纪检监察组`)
		id := regexp.MustCompile(`ZG-\d{4}-\d{4}`).FindString(answer)
		if id == "" {
			t.Fatalf("no item created: %s", answer)
		}
		cards := p.groupCards()
		if len(cards) != 1 {
			t.Fatalf("want the item's card in the coordination group, got %d cards", len(cards))
		}
		posted := cards[0]

		r := p.click("zhoutao", posted, posted.find(t, "progress.done"))
		if r.card == nil {
			t.Fatal("已完成整改 did not replace the card")
		}
		bottest.MustContain(t, "card awaiting", r.card.text, "100% · 待销号", "派驻第三纪检监察组")
		if len(r.card.buttons) != 1 {
			t.Fatalf("buttons on an item awaiting closing: %+v", r.card.buttons)
		}
		closeBtn := r.card.find(t, progress.ActionClose)
		awaiting := *r.card

		r = p.click("zhoutao", awaiting, closeBtn)
		bottest.MustContain(t, "the unit's own 确认销号", r.text, "只有 "+id+" 的监督单位")
		if r.card != nil {
			t.Errorf("the refused click replaced the card:\n%s", r.card.text)
		}
		get := func() *progress.Item {
			t.Helper()
			it, err := bot.Records[progress.Item](env.Store, progress.CollItems).Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			return it
		}
		if it := get(); it.Status != progress.ItemAwaiting {
			t.Fatalf("after the refused click: %s", it.Status)
		}

		r = p.click("chenjing", awaiting, closeBtn)
		bottest.MustContain(t, "confirmation", r.text, id+"（区财政局党组）已确认销号")
		if r.card == nil {
			t.Fatal("确认销号 did not replace the card")
		}
		bottest.MustContain(t, "closed card", r.card.text, "100% · 已销号")
		if len(r.card.buttons) != 0 {
			t.Errorf("a closed item's card offers %+v", r.card.buttons)
		}
		if it := get(); it.Status != progress.ItemDone || it.ClosedBy != "chenjing" {
			t.Fatalf("after 确认销号: %+v", it)
		}
		told := regexp.MustCompile(id + `.*已由陈静确认销号`)
		if !bottest.Eventually(5*time.Second, func() bool {
			for _, s := range p.groupTexts() {
				if told.MatchString(s) {
					return true
				}
			}
			return false
		}) {
			t.Errorf("the group was not told of the closing:\n%v", p.groupTexts())
		}
		es, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool { return e.Record == id && e.Action == "progress.close" })
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, e := range es {
			count[e.Result]++
		}
		if count[bot.ResultOK] != 1 || count[bot.ResultRefused] != 1 {
			t.Errorf("close audit %v, want one ok and one refused", count)
		}
	})
}
