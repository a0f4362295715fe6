package bot_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// nextMonthDay is the first day on or after today that is month m, day
// d: this year's, else the next year that has it (2-29: a leap year).
func nextMonthDay(today time.Time, m time.Month, d int) time.Time {
	for y := today.Year(); ; y++ {
		t := bottest.Day(y, m, d)
		if t.Month() == m && !t.Before(today) {
			return t
		}
	}
}

// Deadlines typed as +30d, 12-31, 12月31日 or 2026-12-31 are read
// relative to the day before, of and after each test instant, in the
// configured zone (Asia/Shanghai) whatever zone the clock reads in.
func TestParseDateAroundEachInstant(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	bottest.ForEachInstant(t, func(t *testing.T, instant time.Time) {
		for k := -1; k <= 1; k++ {
			now := instant.AddDate(0, 0, k)
			today := bottest.Today(now)
			y, m, d := today.Date()
			// +1 month keeps the day, or the next month's last day.
			plusMonths := func(n int) time.Time {
				last := bottest.Day(y, m+time.Month(n)+1, 0)
				return bottest.Day(y, m+time.Month(n), min(d, last.Day()))
			}
			yesterday, tomorrow := today.AddDate(0, 0, -1), today.AddDate(0, 0, 1)
			cases := []struct {
				in   string
				want time.Time
			}{
				{"+30d", bottest.Day(y, m, d+30)},
				{"+30", bottest.Day(y, m, d+30)},
				{"+30天", bottest.Day(y, m, d+30)},
				{"+0d", today},
				{"+2w", bottest.Day(y, m, d+14)},
				{"+2周", bottest.Day(y, m, d+14)},
				{"+1m", plusMonths(1)},
				{"+1个月", plusMonths(1)},
				{"+13m", plusMonths(13)},
				{"今天", today},
				{"today", today},
				{"明天", tomorrow},
				{"后天", bottest.Day(y, m, d+2)},
				{"12-31", nextMonthDay(today, 12, 31)},
				{"12/31", nextMonthDay(today, 12, 31)},
				{"12月31日", nextMonthDay(today, 12, 31)},
				{"12月31号", nextMonthDay(today, 12, 31)},
				{"1-1", nextMonthDay(today, 1, 1)},
				{"01-01", nextMonthDay(today, 1, 1)},
				{"1月1日", nextMonthDay(today, 1, 1)},
				{"2-28", nextMonthDay(today, 2, 28)},
				{"2-29", nextMonthDay(today, 2, 29)},
				{"2月29日", nextMonthDay(today, 2, 29)},
				{"3-1", nextMonthDay(today, 3, 1)},
				{fmt.Sprintf("%d-%d", m, d), today},
				{fmt.Sprintf("%d月%d日", m, d), today},
				{fmt.Sprintf("%d-%d", yesterday.Month(), yesterday.Day()), nextMonthDay(tomorrow, yesterday.Month(), yesterday.Day())},
				{fmt.Sprintf("%d-%d", tomorrow.Month(), tomorrow.Day()), tomorrow},
				{"2026-12-31", bottest.Day(2026, 12, 31)},
				{"2026年12月31日", bottest.Day(2026, 12, 31)},
				{"20261231", bottest.Day(2026, 12, 31)},
				{"2027/1/1", bottest.Day(2027, 1, 1)},
				{today.Format("2006-01-02"), today},
				{yesterday.Format("2006-01-02"), yesterday}, // a year given is taken as given
			}
			for _, clock := range []time.Time{now, now.UTC(), now.In(la)} {
				for _, tc := range cases {
					got, err := bot.ParseDate(tc.in, clock, bottest.Shanghai)
					if err != nil {
						t.Errorf("now %s: ParseDate(%q): %v", clock.Format(time.RFC3339), tc.in, err)
						continue
					}
					if !got.Equal(tc.want) || got.Location() != bottest.Shanghai {
						t.Errorf("now %s: ParseDate(%q) = %s, want %s", clock.Format(time.RFC3339), tc.in, got, tc.want)
					}
				}
				for _, bad := range []string{"2-30", "13-1", "12-32", fmt.Sprintf("%d-02-30", y), "+99999d"} {
					if _, err := bot.ParseDate(bad, clock, bottest.Shanghai); bot.ErrorCode(err) != bot.EINVALID {
						t.Errorf("now %s: ParseDate(%q) error %v, want EINVALID", clock.Format(time.RFC3339), bad, err)
					}
				}
			}
		}
	})
}
