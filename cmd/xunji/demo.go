package main

import (
	"context"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// seedDemo stores the demo district's inspection round (shared/DEMO.md)
// the first time the demo starts; later starts keep what users changed.
func seedDemo(ctx context.Context, b *bot.Bot) error {
	rounds := bot.Records[bot.Round](b.Store, bot.CollRounds)
	const id = "XC-2026-0001"
	if _, err := rounds.Get(ctx, id); err == nil {
		return nil
	} else if !bot.IsNotFound(err) {
		return err
	}
	d := func(y, m, day int) time.Time { return time.Date(y, time.Month(m), day, 0, 0, 0, 0, b.Loc) }
	r := &bot.Round{
		ID: id, Name: "区委第一巡察组巡察区财政局党组", Team: "team1", Organisation: "finance",
		Attached: []string{"room2", "group3"},
		Start:    d(2026, 9, 1), End: d(2026, 10, 31), Feedback: d(2026, 11, 20),
		CreatedBy: "wangming", CreatedAt: b.Now(),
	}
	if err := rounds.Create(ctx, id, r); err != nil && bot.ErrorCode(err) != bot.ECONFLICT {
		return err
	}
	return nil
}
