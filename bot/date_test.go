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

// thisYears is how ParseDate reads a month and day typed on today: the
// day of this year (of the next year that has it, for 2-29), or, when
// that day is already past, no date but both readings, which
// it refuses as ambiguous.
func thisYears(today time.Time, m time.Month, d int) (want, past, next time.Time) {
	for y := today.Year(); y <= today.Year()+4; y++ {
		t := bottest.Day(y, m, d)
		if t.Month() != m {
			continue
		}
		if t.Before(today) {
			return time.Time{}, t, nextMonthDay(today, m, d)
		}
		return t, time.Time{}, time.Time{}
	}
	panic("no such day")
}

// Deadlines typed as +30d, 12-31, 12月31日 or 2026-12-31 are read
// relative to the day before, of and after each test instant, in the
// configured zone (Asia/Shanghai) whatever zone the clock reads in. A
// month and day already past this year (12-01 typed on 12-06, 1-1 on
// New Year's Eve) is refused with both readings, never moved silently
// to next year.
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
			type tcase struct {
				in   string
				want time.Time
			}
			var ambiguous []struct {
				in         string
				past, next time.Time
			}
			md := func(in string, m time.Month, d int) tcase {
				want, past, next := thisYears(today, m, d)
				if want.IsZero() {
					ambiguous = append(ambiguous, struct {
						in         string
						past, next time.Time
					}{in, past, next})
				}
				return tcase{in, want}
			}
			cases := []tcase{
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
				md("12-31", 12, 31),
				md("12/31", 12, 31),
				md("12月31日", 12, 31),
				md("12月31号", 12, 31),
				md("1-1", 1, 1),
				md("01-01", 1, 1),
				md("1月1日", 1, 1),
				md("2-28", 2, 28),
				md("2-29", 2, 29),
				md("2月29日", 2, 29),
				md("3-1", 3, 1),
				{fmt.Sprintf("%d-%d", m, d), today},
				{fmt.Sprintf("%d月%d日", m, d), today},
				md(fmt.Sprintf("%d-%d", yesterday.Month(), yesterday.Day()), yesterday.Month(), yesterday.Day()),
				md(fmt.Sprintf("%d-%d", tomorrow.Month(), tomorrow.Day()), tomorrow.Month(), tomorrow.Day()), // on New Year's Eve, 1-1 is ambiguous
				{"2026-12-31", bottest.Day(2026, 12, 31)},
				{"2026年12月31日", bottest.Day(2026, 12, 31)},
				{"20261231", bottest.Day(2026, 12, 31)},
				{"2027/1/1", bottest.Day(2027, 1, 1)},
				{today.Format("2006-01-02"), today},
				{yesterday.Format("2006-01-02"), yesterday}, // a year given is taken as given
			}
			for _, clock := range []time.Time{now, now.UTC(), now.In(la)} {
				for _, tc := range cases {
					if tc.want.IsZero() {
						continue // ambiguous, below
					}
					got, err := bot.ParseDate(tc.in, clock, bottest.Shanghai)
					if err != nil {
						t.Errorf("now %s: ParseDate(%q): %v", clock.Format(time.RFC3339), tc.in, err)
						continue
					}
					if !got.Equal(tc.want) || got.Location() != bottest.Shanghai {
						t.Errorf("now %s: ParseDate(%q) = %s, want %s", clock.Format(time.RFC3339), tc.in, got, tc.want)
					}
				}
				for _, a := range ambiguous {
					_, err := bot.ParseDate(a.in, clock, bottest.Shanghai)
					e, ok := bot.AmbiguousDate(err)
					if !ok {
						t.Errorf("now %s: ParseDate(%q) error %v, want the ambiguous-date refusal", clock.Format(time.RFC3339), a.in, err)
						continue
					}
					if fmt.Sprint(e.Args) != fmt.Sprint([]any{"input", a.in, "past", a.past.Format("2006-01-02"), "next", a.next.Format("2006-01-02")}) {
						t.Errorf("now %s: ParseDate(%q) readings %v, want %s and %s", clock.Format(time.RFC3339), a.in, e.Args, a.past.Format("2006-01-02"), a.next.Format("2006-01-02"))
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
