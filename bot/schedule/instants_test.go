package schedule_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/schedule"
)

// The schedules of configs/xunji.example.yaml.
var exampleSchedules = []config.ScheduleConfig{
	{Name: "work_meeting", Rule: "每月 第一个工作日 09:00", Job: "meeting.notice", Notice: "3wd"},
	{Name: "joint_meeting", Rule: "quarterly: 2nd week Tuesday 14:30", Job: "meeting.notice", Notice: "5wd"},
	{Name: "annual_review", Rule: "annually: December 20 09:30", Job: "meeting.notice", Notice: "5wd"},
	{Name: "progress_collect", Rule: "monthly: first working day 09:00", Job: "progress.collect"},
	{Name: "progress_notice", Rule: "monthly: 7th working day 15:00", Job: "progress.monthly_notice"},
	{Name: "stationed_check", Rule: "每月 第10个工作日 09:00", Job: "progress.stationed_check"},
	{Name: "supervisor_check", Rule: "every 2 months: 2nd week Wednesday 09:00", Job: "progress.supervisor_check"},
	{Name: "case_summary", Rule: "quarterly: 3rd working day 10:00", Job: "clue.quarterly_summary"},
}

// nthWeekday is midnight of the n-th wd of the month.
func nthWeekday(y int, m time.Month, wd time.Weekday, n int) time.Time {
	first := bottest.Day(y, m, 1)
	return first.AddDate(0, 0, (int(wd)-int(first.Weekday())+7)%7+7*(n-1))
}

func clock(d time.Time, h, m int) time.Time {
	return d.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

// expectedPlanned is what each example rule names in month m of year y
// (zero when the rule names nothing that month), by plain calendar
// arithmetic over the hand-written calendar.
var expectedPlanned = map[string]func(y int, m time.Month) time.Time{
	"work_meeting": func(y int, m time.Month) time.Time { return clock(bottest.NthWorkday(y, m, 1), 9, 0) },
	"joint_meeting": func(y int, m time.Month) time.Time {
		if (m-1)%3 != 0 {
			return time.Time{}
		}
		return clock(nthWeekday(y, m, time.Tuesday, 2), 14, 30)
	},
	"annual_review": func(y int, m time.Month) time.Time {
		if m != time.December {
			return time.Time{}
		}
		return clock(bottest.Day(y, m, 20), 9, 30)
	},
	"progress_collect": func(y int, m time.Month) time.Time { return clock(bottest.NthWorkday(y, m, 1), 9, 0) },
	"progress_notice":  func(y int, m time.Month) time.Time { return clock(bottest.NthWorkday(y, m, 7), 15, 0) },
	"stationed_check":  func(y int, m time.Month) time.Time { return clock(bottest.NthWorkday(y, m, 10), 9, 0) },
	"supervisor_check": func(y int, m time.Month) time.Time {
		if m%2 == 0 {
			return time.Time{}
		}
		return clock(nthWeekday(y, m, time.Wednesday, 2), 9, 0)
	},
	"case_summary": func(y int, m time.Month) time.Time {
		if (m-1)%3 != 0 {
			return time.Time{}
		}
		return clock(bottest.NthWorkday(y, m, 3), 10, 0)
	},
}

// expectedOccurrences are the occurrences of the example schedule sc in
// the months from 14 months before now to 40 after: moved off days off
// to the next working day, fired the notice's working days before.
func expectedOccurrences(sc config.ScheduleConfig, now time.Time) []schedule.Occurrence {
	lead := 0
	if sc.Notice != "" {
		lead = int(sc.Notice[0] - '0')
	}
	y, m, _ := now.In(bottest.Shanghai).Date()
	var out []schedule.Occurrence
	for i := -14; i <= 40; i++ {
		first := bottest.Day(y, m+time.Month(i), 1)
		planned := expectedPlanned[sc.Name](first.Year(), first.Month())
		if planned.IsZero() {
			continue
		}
		o := schedule.Occurrence{Planned: planned, At: bottest.NextWorkday(planned)}
		if o.Moved() {
			o.Holiday = bottest.HolidayName(planned)
		}
		o.Fire = bottest.WorkdaysBefore(o.At, lead)
		out = append(out, o)
	}
	return out
}

func fmtOcc(o schedule.Occurrence) string {
	return "at " + o.At.In(sh).Format("2006-01-02 15:04 Mon") + " planned " + o.Planned.In(sh).Format("2006-01-02 15:04") +
		" fire " + o.Fire.In(sh).Format("2006-01-02 15:04") + " holiday " + o.Holiday
}

// From each instant, every example schedule's next three occurrences,
// its last one and its occurrences of the past year are the expected
// ones: month, quarter and year rollover, moves off holidays onto the
// next working day (make-up days included), notice lead times in working
// days — also when the clock is read in another zone.
func TestExampleSchedulesFromEachInstant(t *testing.T) {
	scheds := compile(t, exampleSchedules...)
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		for i, s := range scheds {
			all := expectedOccurrences(exampleSchedules[i], now)
			var want []string
			var last string
			var past []string
			for _, o := range all {
				switch {
				case o.Fire.After(now):
					if len(want) < 3 {
						want = append(want, fmtOcc(o))
					}
				default:
					last = fmtOcc(o)
					if o.At.After(now.AddDate(-1, 0, 0)) {
						past = append(past, fmtOcc(o))
					}
				}
			}
			var got []string
			for _, o := range s.NextN(now.UTC(), 3) {
				got = append(got, fmtOcc(o))
			}
			if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
				t.Errorf("%s: next three\n got %s\nwant %s", s.Name, g, w)
			}
			if o, ok := s.Next(now); !ok || len(want) == 0 || fmtOcc(o) != want[0] {
				t.Errorf("%s: Next = %s (%v), want %s", s.Name, fmtOcc(o), ok, want[0])
			}
			if o, ok := s.Last(now.UTC()); !ok || fmtOcc(o) != last {
				t.Errorf("%s: Last = %s (%v), want %s", s.Name, fmtOcc(o), ok, last)
			}
			got = nil
			for _, o := range s.Between(now.AddDate(-1, 0, 0), now, 50) {
				got = append(got, fmtOcc(o))
			}
			if !slices.Equal(got, past) {
				t.Errorf("%s: Between a year ago and now\n got %s\nwant %s", s.Name, strings.Join(got, "\n"), strings.Join(past, "\n"))
			}
		}
	})
}

// firstWorkdays are the monthly notice's occurrences (first working day
// 09:00) from the month before now's to ten months after.
func firstWorkdays(now time.Time) []time.Time {
	y, m, _ := now.In(bottest.Shanghai).Date()
	var out []time.Time
	for i := -1; i <= 10; i++ {
		first := bottest.Day(y, m+time.Month(i), 1)
		out = append(out, clock(bottest.NthWorkday(first.Year(), first.Month(), 1), 9, 0))
	}
	return out
}

// From each instant, on a server in UTC: a new schedule owes nothing from
// before (or runs today's occurrence if it is still today), the next
// occurrence runs once on time, one missed while down is caught up the
// same day, and two missed beyond the window are reported, not sent.
func TestRunnerFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		occ := firstWorkdays(now)
		k := 0 // occ[k] is the latest occurrence at or before now
		for k+1 < len(occ) && !occ[k+1].After(now) {
			k++
		}
		latest, next := occ[k], occ[k+1:]
		if latest.After(now) {
			t.Fatalf("no occurrence before %s", now)
		}
		clk := bottest.NewClock(now.UTC())
		tick := func(p *proc, at time.Time) {
			t.Helper()
			clk.Set(at.UTC())
			if err := p.runner.Tick(context.Background(), clk.Now()); err != nil {
				t.Fatalf("tick at %s: %v", at, err)
			}
		}
		store := newMem(clk)
		p := newProc(t, store, clk.Now, monthly)

		// 1. First sight.
		tick(p, now)
		sameDay := bottest.Today(latest).Equal(bottest.Today(now))
		runs := p.Runs()
		st, _ := p.runner.State(context.Background(), "monthly_notice")
		switch {
		case sameDay:
			if len(runs) != 1 || !runs[0].At.Equal(latest) || runs[0].Late != (now.Sub(latest) > 2*time.Minute) {
				t.Errorf("first sight on the occurrence's day: runs %+v, want one for %s", runs, latest)
			}
		case len(runs) != 0 || st.LastStatus != schedule.StatusBaseline || !st.LastAt.Equal(latest):
			t.Errorf("first sight: runs %+v, state %+v; want the baseline %s and no run", runs, st, latest)
		}
		before := len(runs)

		// 2. The next occurrence runs once, on time, in Shanghai.
		tick(p, next[0].Add(-time.Minute))
		tick(p, next[0])
		tick(p, next[0].Add(5*time.Minute))
		runs = p.Runs()[before:]
		if len(runs) != 1 || !runs[0].At.Equal(next[0]) || runs[0].Late || runs[0].Key != "monthly_notice@"+next[0].Format(time.RFC3339) {
			t.Fatalf("next occurrence: runs %+v, want one on time for %s", runs, next[0])
		}

		// 3. Down over the one after; back 90 minutes later the same day.
		back := newProc(t, store, clk.Now, monthly)
		tick(back, next[1].Add(90*time.Minute))
		runs = back.Runs()
		if len(runs) != 1 || !runs[0].At.Equal(next[1]) || !runs[0].Late {
			t.Fatalf("catch-up: runs %+v, want one late run for %s", runs, next[1])
		}

		// 4. Down over two more; back the day after the second.
		again := newProc(t, store, clk.Now, monthly)
		tick(again, next[3].AddDate(0, 0, 1))
		if runs := again.Runs(); len(runs) != 0 {
			t.Errorf("sent %d stale notices", len(runs))
		}
		reports := sent(again, "巡察办工作群")
		if len(reports) != 1 {
			t.Fatalf("reports %v, want one", reports)
		}
		bottest.MustContain(t, "missed-run report", reports[0], "月度通报", "2 次",
			next[2].Format("2006-01-02 15:04"), next[3].Format("2006-01-02 15:04"))
		st, _ = again.runner.State(context.Background(), "monthly_notice")
		if st.LastStatus != schedule.StatusMissed || !st.LastAt.Equal(next[3]) || st.Missed != 2 {
			t.Errorf("state after the report %+v", st)
		}

		// 5. The next one runs normally again.
		tick(again, next[4])
		if runs := again.Runs(); len(runs) != 1 || !runs[0].At.Equal(next[4]) || runs[0].Late {
			t.Errorf("after the report: runs %+v, want one for %s", runs, next[4])
		}
	})
}
