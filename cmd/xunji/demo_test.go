package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/clue"
)

// The README's walkthrough, followed on a fresh start: 赵强 of the
// receiving room presses button 1, the seeded clue card's 签收, and the
// seeded substance DM is shown to him at start.
func TestReadmeWalkthroughPressesTheSeededClueCard(t *testing.T) {
	cat := fullCatalog(t)
	out := runConsole(t, t.TempDir(), "帮助\n名册\n切换 赵强\n我是谁\n1\n退出\n")
	if strings.Contains(out, cat.T("zh-CN", "console.no_button", "n", 1)) {
		t.Fatalf("button 1 is not the seeded card's:\n%s", out)
	}
	year := bottest.Start.In(bottest.Shanghai).Format("2006")
	bottest.MustContain(t, "console output", out,
		"问题线索移送 XS-"+year+"-0001",  // the group card, shown at start
		"2025年以来以加班费名义违规发放补贴约50万元", // the substance DM to the receiving room
		"[1] "+cat.T("zh-CN", "clue.button.ack"),
		"状态："+cat.T("zh-CN", "clue.status.acknowledged"), // the press acknowledged it
	)
	// The cards are shown before the first prompt.
	if i, j := strings.Index(out, "XS-"+year+"-0001"), strings.Index(out, cat.T("zh-CN", "console.welcome", "name", "王明")); i < 0 || j < 0 || i > j {
		t.Errorf("the seeded card is not shown at start (card at %d, welcome at %d)", i, j)
	}
}

// The demo seed writes round XC-2026-0001 directly; the first round a
// user creates must not collide with it, whatever year the demo starts.
func TestRoundNewAfterDemoSeedTakesTheNextNumber(t *testing.T) {
	cat := fullCatalog(t)
	for _, now := range []time.Time{bottest.Start, time.Date(2027, 3, 2, 2, 0, 0, 0, time.UTC)} {
		out := runConsoleAt(t, now, t.TempDir(), "轮次 新建 第一巡察组 区住建局党组 开始:2026-12-01 结束:2027-01-31 协同:第一监督检查室\n退出\n")
		bottest.MustNotContain(t, "console output", out, cat.T("zh-CN", "error.exists", "id", "XC-2026-0001"))
		// A round is numbered in the year it starts: 2026 here, the
		// seeded round's year.
		bottest.MustContain(t, "console output", out, strings.TrimSuffix(cat.T("zh-CN", "round.created", "id", "XC-2026-0002", "name", ""), "。"))
	}
}

// A demo started with Slack or Lark credentials (and so without the
// console) seeds its records but queues none of their cards for the
// platforms: the demo's channel ids are made up.
func TestDemoWithPlatformsQueuesNoSeededMessages(t *testing.T) {
	m, sfake, _ := platformsMain(t, nil)
	depth, _, err := m.Outbox.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sfake.CallsOf("chat.postMessage")); depth != 0 || n != 0 {
		t.Fatalf("the seed queued %d messages and Slack received %d", depth, n)
	}
	if clues, err := bot.Records[clue.Clue](m.Store, clue.CollClues).List(context.Background()); err != nil || len(clues) != 1 {
		t.Fatalf("the demo was not seeded: %d clues (%v)", len(clues), err)
	}
}
