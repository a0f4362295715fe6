package main

import (
	"context"
	"fmt"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/round"
)

// seedDemo fills the demo district (shared/DEMO.md) the first time the
// demo starts: the round, a priority clue, three rectification items (one
// immediate-fix awaiting the three-party signature) and its
// co-signature. Everything after the round is created through the
// commands, as the people would, so it is audited like any other record.
// Later starts keep what users changed.
func seedDemo(ctx context.Context, b *bot.Bot) error {
	const id = "XC-2026-0001"
	if _, err := round.NewQueries(b.Store).Get(ctx, id); err == nil {
		return nil
	} else if !bot.IsNotFound(err) {
		return err
	}
	d := func(y, m, day int) time.Time { return time.Date(y, time.Month(m), day, 0, 0, 0, 0, b.Loc) }
	r := &round.Round{
		ID: id, Name: "区委第一巡察组巡察区财政局党组", Team: "team1", Organisation: "finance",
		Attached: []string{"room2", "group3"},
		Start:    d(2026, 9, 1), End: d(2026, 10, 31), Feedback: d(2026, 11, 20),
		CreatedBy: "wangming", CreatedAt: b.Now(),
	}
	// The round and its index documents in one unit of work.
	err := b.RunUnit(ctx, func(ctx context.Context) error { return round.Seed(ctx, b.Store, r) })
	if err != nil && bot.ErrorCode(err) != bot.ECONFLICT {
		return err
	}
	// The round is written directly, not through "round new": take its
	// number from the counter too, so the first round a user creates is
	// XC-2026-0002 and not a clash with the seeded one.
	if err := advanceCounter(ctx, b.Store, round.PrefixRound, 2026, 1); err != nil {
		return err
	}
	now := b.Now().In(b.Loc)
	deadline := now.AddDate(0, 3, 0).Format("2006-01-02")
	// The monthly work meeting on the first working day of next month.
	meetingDay := b.Cal.OnOrAfter(time.Date(now.Year(), now.Month()+1, 1, 9, 0, 0, 0, b.Loc)).Format("2006-01-02")
	for _, step := range []struct{ as, line string }{
		{"李娜", `线索 移送 第二监督检查室 区财政局党组 "违规发放补贴" "2025年以来以加班费名义违规发放补贴约50万元" 期限:+30d 轮次:XC-2026-0001 优先`},
		{"李娜", `进度 新建 区财政局党组 "专项资金管理制度不健全" 期限:` + deadline + ` 监督:第二监督检查室,派驻第三纪检监察组`},
		{"李娜", `进度 新建 区财政局党组 "政府采购程序执行不严格" 期限:` + deadline + ` 监督:第二监督检查室`},
		{"李娜", `进度 新建 区财政局党组 "公务用车登记不规范" 期限:+15d 监督:派驻第三纪检监察组 即知即改`},
		{"李娜", `会签 新建 "公务用车登记不规范" 轮次:XC-2026-0001 item:ZG-` + fmt.Sprint(now.Year()) + `-0003`},
		{"王明", `会议 新建 工作例会 ` + meetingDay + ` 09:00 地点:区委巡察办三楼会议室 议程:"通报上月整改和线索办理情况；研究部署本月重点工作"`},
	} {
		resp := b.Handle(ctx, &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: step.as, Text: step.line})
		if resp == nil || len(resp.Replies) == 0 {
			b.Log.Warn("demo: a seed step gave no answer", "line", step.line)
		}
	}
	return nil
}

// advanceCounter takes numbers from the id counter of prefix and year
// until it has handed out n, so a record written with a fixed id is never
// numbered again.
func advanceCounter(ctx context.Context, s bot.Store, prefix string, year int, n int64) error {
	name := fmt.Sprintf("id:%s:%d", prefix, year)
	for {
		got, err := s.NextSeq(ctx, name)
		if err != nil {
			return err
		}
		if got >= n {
			return nil
		}
	}
}
