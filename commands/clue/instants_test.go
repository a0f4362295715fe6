package clue

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
)

// afterWorkingTime is t plus d counting only time on working days.
func afterWorkingTime(t time.Time, d time.Duration) time.Time {
	t = t.In(bottest.Shanghai)
	for d > 0 {
		midnight := bottest.Today(t).AddDate(0, 0, 1)
		switch left := midnight.Sub(t); {
		case !bottest.IsWorkday(t):
		case d <= left:
			return t.Add(d)
		default:
			d -= left
		}
		t = midnight
	}
	return t
}

// officeMoment is the first moment at or after t within office hours
// (09:00–18:00 on a working day).
func officeMoment(t time.Time) time.Time {
	t = t.In(bottest.Shanghai)
	for {
		day := bottest.Today(t)
		if bottest.IsWorkday(t) && t.Hour() < 18 {
			if t.Hour() < 9 {
				return day.Add(9 * time.Hour)
			}
			return t
		}
		t = day.AddDate(0, 0, 1)
	}
}

// From each instant, on a clock read in UTC: a clue's id has the year of
// its transfer day in Shanghai; deadlines +30d, 12-31, none (30 days) are
// counted from that day and a past day is refused; the receiving body is
// reminded after two working days and the inspection office told after
// four, at the first office hour; a clue is overdue from the day after
// its deadline day; the summary covers the current quarter so far, the
// scheduled summary the previous quarter.
func TestClueDatesFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		env := newEnv(t)
		env.Clock.Set(now.UTC())
		today := bottest.Today(now)
		y, m, d := today.Date()
		line := `线索 移送 第二监督检查室 区财政局党组 "` + title + `" "` + substance + `"`

		deadlines := []struct {
			opt  string
			want time.Time
		}{
			{" 期限:+30d", bottest.Day(y, m, d+30)},
			{" 期限:12-31", bottest.Day(y, 12, 31)}, // this year's: never past
			{"", bottest.Day(y, m, d+30)},
			{" 期限:" + today.Format("2006-01-02"), today},
		}
		var ids []string
		for i, dl := range deadlines {
			id := fmt.Sprintf("XS-%d-%04d", y, i+1)
			text := bottest.Text(env.Command("lina", line+dl.opt))
			first, _, _ := strings.Cut(env.TZ("clue.transferred", "id", id, "body", "区纪委监委第二监督检查室", "deadline", dl.want.Format(time.DateOnly), "members", 0), "。")
			bottest.MustContain(t, "transfer"+dl.opt, text, first)
			if c := loadClue(t, env, id); !c.Deadline.Equal(dl.want) || !c.CreatedAt.Equal(now) {
				t.Errorf("%s: deadline %s created %s, want %s, %s", id, c.Deadline, c.CreatedAt, dl.want, now)
			}
			ids = append(ids, id)
		}
		yesterday := today.AddDate(0, 0, -1).Format("2006-01-02")
		bottest.MustContain(t, "past deadline", bottest.Text(env.Command("lina", line+" 期限:"+yesterday)), env.TZ("clue.error.deadline_past", "date", yesterday))

		// Summaries: the quarter so far, and the previous quarter by the
		// scheduled task.
		qStart := bottest.QuarterStart(now)
		text := bottest.Text(direct(env, "sunli", "线索 汇总"))
		bottest.MustContain(t, "summary", text, env.TZ("clue.summary.title", "from", qStart.Format(time.DateOnly), "to", today.Format(time.DateOnly)),
			fmt.Sprintf("共 %d 条（本期新移送 %d）", len(ids), len(ids)))
		task, _ := env.Bot.Jobs.Task(SummaryTask)
		if err := task.Run(t.Context(), now); err != nil {
			t.Fatal(err)
		}
		posted := summaryDMs(env, "王明")
		if len(posted) != 1 {
			t.Fatalf("scheduled summary: %d sent to the office", len(posted))
		}
		prevQ := bottest.QuarterStart(qStart.AddDate(0, 0, -1))
		bottest.MustContain(t, "scheduled summary", posted[0],
			env.TZ("clue.summary.title", "from", prevQ.Format(time.DateOnly), "to", qStart.AddDate(0, 0, -1).Format(time.DateOnly)), env.TZ("clue.summary.empty"))

		// Reminders.
		env.Adapter.Reset()
		remind := officeMoment(afterWorkingTime(now, 48*time.Hour))
		escalate := officeMoment(afterWorkingTime(now, 96*time.Hour))
		runAt(t, env, remind.Add(-time.Minute))
		if n := len(env.Adapter.Sent()); n != 0 {
			t.Fatalf("%d messages before the reminder at %s", n, remind)
		}
		runAt(t, env, remind)
		if n := len(sentTo(env, "赵强")); n != len(ids) {
			t.Errorf("at %s: %d reminders to 赵强, want %d", remind.Format("2006-01-02 15:04"), n, len(ids))
		}
		if !escalate.Equal(remind) {
			runAt(t, env, escalate.Add(-time.Minute))
			if n := len(postedIn(env, officeChat)); n != 0 {
				t.Errorf("escalated before %s", escalate)
			}
		}
		runAt(t, env, escalate)
		if n := len(postedIn(env, officeChat)); n != len(ids) {
			t.Errorf("at %s: %d escalations, want %d", escalate.Format("2006-01-02 15:04"), n, len(ids))
		}
		for _, id := range ids {
			if c := loadClue(t, env, id); !c.RemindedAt.Equal(remind) || !c.EscalatedAt.Equal(escalate) {
				t.Errorf("%s reminded %s escalated %s, want %s %s", id, c.RemindedAt, c.EscalatedAt, remind, escalate)
			}
		}

		// Overdue from the day after the deadline day, read in Shanghai.
		for i, dl := range deadlines {
			for _, tc := range []struct {
				at      time.Time
				overdue bool
			}{
				{dl.want.Add(23*time.Hour + 59*time.Minute), false},
				{dl.want.AddDate(0, 0, 1), true},
			} {
				got, err := NewQueries(env.Store, env.Bot.Loc).OverdueAt(t.Context(), tc.at.UTC())
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, c := range got {
					found = found || c.ID == ids[i]
				}
				if found != tc.overdue {
					t.Errorf("%s (deadline %s) at %s: overdue %v, want %v", ids[i], dl.want.Format(time.DateOnly), tc.at.Format("2006-01-02 15:04"), found, tc.overdue)
				}
			}
		}
	})
}

// prevMonthDay is the latest day on or before today that is month m, day d.
func prevMonthDay(today time.Time, m time.Month, d int) time.Time {
	for y := today.Year(); ; y-- {
		if t := bottest.Day(y, m, d); t.Month() == m && !t.After(today) {
			return t
		}
	}
}

// The bounds of a summary period typed without a year ("从:10-01") are
// the most recent such day, from each instant and the days around it.
func TestSummaryPeriodDatesAroundEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, instant time.Time) {
		for k := -1; k <= 1; k++ {
			now := instant.AddDate(0, 0, k)
			today := bottest.Today(now)
			tomorrow := today.AddDate(0, 0, 1)
			cases := []struct {
				in   string
				want time.Time
			}{
				{"10-01", prevMonthDay(today, 10, 1)},
				{"1-1", prevMonthDay(today, 1, 1)},
				{"12月31日", prevMonthDay(today, 12, 31)},
				{"2-29", prevMonthDay(today, 2, 29)},
				{"3-1", prevMonthDay(today, 3, 1)},
				{fmt.Sprintf("%d-%d", today.Month(), today.Day()), today},
				{fmt.Sprintf("%d-%d", tomorrow.Month(), tomorrow.Day()), prevMonthDay(today, tomorrow.Month(), tomorrow.Day())},
				{"2026-10-01", bottest.Day(2026, 10, 1)},
				{"+1d", tomorrow}, // relative dates are taken as given
			}
			for _, clock := range []time.Time{now, now.UTC()} {
				for _, tc := range cases {
					got, err := pastDate(tc.in, clock, bottest.Shanghai)
					if err != nil || !got.Equal(tc.want) {
						t.Errorf("now %s: pastDate(%q) = %s, %v; want %s", clock.Format(time.RFC3339), tc.in, got, err, tc.want)
					}
				}
			}
		}
	})
}
