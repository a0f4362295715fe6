package workday_test

import (
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/workday"
)

// The calendar's answers around each of the test instants agree with the
// hand-written calendar of bottest, whether the time is given in
// Shanghai or in the zone of a server elsewhere (UTC, New York).
func TestCalendarAroundEachInstant(t *testing.T) {
	c, err := workday.New(bottest.Shanghai, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		today := bottest.Today(now)
		// Every day from 10 days before to 40 days after, at now's time of day.
		for i := -10; i <= 40; i++ {
			d := now.AddDate(0, 0, i)
			want := bottest.IsWorkday(d)
			for _, in := range []time.Time{d, d.UTC(), d.In(ny)} {
				if got := c.IsWorkday(in); got != want {
					t.Errorf("IsWorkday(%s given as %s) = %v, want %v", d.Format("2006-01-02 15:04 Mon"), in.Format(time.RFC3339), got, want)
				}
			}
			name, ok := c.Holiday(d)
			if wantName := bottest.HolidayName(d); name != wantName || ok != (wantName != "") {
				t.Errorf("Holiday(%s) = %q, %v; want %q", d.Format(time.DateOnly), name, ok, wantName)
			}
		}

		// OnOrAfter: now itself on a working day, else the next working
		// day at the same time of day.
		want := now
		for !bottest.IsWorkday(want) {
			want = want.AddDate(0, 0, 1)
		}
		for _, in := range []time.Time{now, now.UTC(), now.In(ny)} {
			if got := c.OnOrAfter(in); !got.Equal(want) || got.Location() != bottest.Shanghai {
				t.Errorf("OnOrAfter(%s) = %s, want %s in Shanghai", in.Format(time.RFC3339), got, want)
			}
		}

		// AddWorkdays counts working days after now's day, keeping the time.
		d, n := now, 0
		for k := 1; k <= 12; k++ {
			for {
				d = d.AddDate(0, 0, 1)
				if bottest.IsWorkday(d) {
					n++
					break
				}
			}
			if got := c.AddWorkdays(now.UTC(), k); !got.Equal(d) {
				t.Errorf("AddWorkdays(%s, %d) = %s, want %s", now.Format("2006-01-02 15:04"), k, got.Format("2006-01-02 15:04 Mon"), d.Format("2006-01-02 15:04 Mon"))
			}
			if got := c.WorkdaysBetween(now, d); got != n {
				t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", now.Format(time.DateOnly), d.Format(time.DateOnly), got, n)
			}
		}
		if got := c.AddWorkdays(now, 0); !got.Equal(now) {
			t.Errorf("AddWorkdays(now, 0) = %s, want now", got)
		}

		// FirstWorkday of this month, the next two and the next year's
		// January (month and year rollover).
		y, m, _ := today.Date()
		for _, ym := range []struct {
			y int
			m time.Month
		}{{y, m}, {y, m + 1}, {y, m + 2}, {y + 1, time.January}} {
			first := bottest.Day(ym.y, ym.m, 1) // normalised: month 13 is next January
			want := first
			for !bottest.IsWorkday(want) {
				want = want.AddDate(0, 0, 1)
			}
			if got := c.FirstWorkday(first.Year(), first.Month()); !got.Equal(want) {
				t.Errorf("FirstWorkday(%d, %s) = %s, want %s", first.Year(), first.Month(), got.Format("2006-01-02 Mon"), want.Format("2006-01-02 Mon"))
			}
		}
	})
}

// Years the holiday table does not know fall back to weekends: no
// holiday names, Saturdays and Sundays off, weekdays working.
func TestUnknownYearsFallBackToWeekends(t *testing.T) {
	c, _ := workday.New(bottest.Shanghai, nil, nil)
	for _, in := range bottest.Instants {
		if in.T.Year() < 2028 {
			continue
		}
		for i := range 7 {
			d := in.T.AddDate(0, 0, i)
			wd := d.Weekday()
			if got, want := c.IsWorkday(d), wd != time.Saturday && wd != time.Sunday; got != want {
				t.Errorf("%s (%s): IsWorkday = %v, want %v", in.Name, d.Format("2006-01-02 Mon"), got, want)
			}
			if name, ok := c.Holiday(d); ok {
				t.Errorf("%s: %s is holiday %q in a year the table does not know", in.Name, d.Format(time.DateOnly), name)
			}
		}
	}
}
