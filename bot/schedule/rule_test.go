package schedule_test

import (
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/schedule"
	"github.com/xunji-bot/xunji/bot/workday"
)

var sh = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func cal(t *testing.T) *workday.Calendar {
	t.Helper()
	c, err := workday.New(sh, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// at is a Shanghai time "2006-01-02 15:04".
func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
	if err != nil {
		panic(err)
	}
	return t
}

func fmtTimes(ts []time.Time) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.In(sh).Format("2006-01-02 15:04 Mon"))
	}
	return strings.Join(s, ", ")
}

func TestRuleNextTimes(t *testing.T) {
	c := cal(t)
	tests := []struct {
		name, rule, after string
		want              []string
	}{
		{"first working day across the year end and New Year's Day", "monthly: first working day 09:00", "2026-11-15 00:00",
			[]string{"2026-12-01 09:00 Tue", "2027-01-04 09:00 Mon", "2027-02-01 09:00 Mon"}},
		{"the same in Chinese", "每月 第一个工作日 09:00", "2026-11-15 00:00",
			[]string{"2026-12-01 09:00 Tue", "2027-01-04 09:00 Mon", "2027-02-01 09:00 Mon"}},
		{"after the time on the day itself goes to the next month", "monthly: first working day 09:00", "2026-12-01 09:00",
			[]string{"2027-01-04 09:00 Mon", "2027-02-01 09:00 Mon", "2027-03-01 09:00 Mon"}},
		{"first working day after the National Day holiday", "monthly: first working day 09:00", "2026-09-15 00:00",
			[]string{"2026-10-08 09:00 Thu", "2026-11-02 09:00 Mon", "2026-12-01 09:00 Tue"}},
		{"last working day of February 2026 is the make-up Saturday", "monthly: last working day 16:00", "2026-02-01 00:00",
			[]string{"2026-02-28 16:00 Sat", "2026-03-31 16:00 Tue", "2026-04-30 16:00 Thu"}},
		{"third working day counts the make-up Saturday of Spring Festival 2026", "每月 第3个工作日 10:00", "2026-01-31 00:00",
			[]string{"2026-02-04 10:00 Wed", "2026-03-04 10:00 Wed", "2026-04-03 10:00 Fri"}},
		{"quarterly second week Tuesday", "quarterly: 2nd week Tuesday 14:30", "2026-11-01 00:00",
			[]string{"2027-01-12 14:30 Tue", "2027-04-13 14:30 Tue", "2027-07-13 14:30 Tue"}},
		{"quarterly in Chinese", "每季度 第二周 周二 14:30", "2026-11-01 00:00",
			[]string{"2027-01-12 14:30 Tue", "2027-04-13 14:30 Tue", "2027-07-13 14:30 Tue"}},
		{"quarterly last working day of the quarter", "quarterly: last working day 10:00", "2026-11-01 00:00",
			[]string{"2026-12-31 10:00 Thu", "2027-03-31 10:00 Wed", "2027-06-30 10:00 Wed"}},
		{"quarterly in the third month", "每季度 第3个月 25日 09:30", "2026-11-01 00:00",
			[]string{"2026-12-25 09:30 Fri", "2027-03-25 09:30 Thu", "2027-06-25 09:30 Fri"}},
		{"annually December 20 defaults to 09:00", "annually: December 20", "2026-01-01 00:00",
			[]string{"2026-12-20 09:00 Sun", "2027-12-20 09:00 Mon", "2028-12-20 09:00 Wed"}},
		{"annually in Chinese", "每年 12月20日", "2026-12-20 09:00",
			[]string{"2027-12-20 09:00 Mon", "2028-12-20 09:00 Wed", "2029-12-20 09:00 Thu"}},
		{"annually last working day of December", "annually: December last working day 15:00", "2026-01-01 00:00",
			[]string{"2026-12-31 15:00 Thu", "2027-12-31 15:00 Fri", "2028-12-29 15:00 Fri"}},
		{"every two months from January", "every 2 months: first working day 09:00", "2026-11-20 00:00",
			[]string{"2027-01-04 09:00 Mon", "2027-03-01 09:00 Mon", "2027-05-06 09:00 Thu"}},
		{"every two months in Chinese", "每两个月 第一个工作日 上午9点", "2026-11-20 00:00",
			[]string{"2027-01-04 09:00 Mon", "2027-03-01 09:00 Mon", "2027-05-06 09:00 Thu"}},
		{"weekly last working day in Spring Festival 2027 week is the make-up Sunday", "weekly: last working day 17:00", "2027-02-01 00:00",
			[]string{"2027-02-04 17:00 Thu", "2027-02-14 17:00 Sun", "2027-02-19 17:00 Fri"}},
		{"every working day skips the holiday and keeps make-up days", "every working day 17:30", "2027-02-03 18:00",
			[]string{"2027-02-04 17:30 Thu", "2027-02-14 17:30 Sun", "2027-02-15 17:30 Mon"}},
		{"day 31 in a short month is its last day", "monthly: day 31 12:00", "2027-01-31 12:00",
			[]string{"2027-02-28 12:00 Sun", "2027-03-31 12:00 Wed", "2027-04-30 12:00 Fri"}},
		{"last Friday", "monthly: last Friday 15:00", "2026-12-01 00:00",
			[]string{"2026-12-25 15:00 Fri", "2027-01-29 15:00 Fri", "2027-02-26 15:00 Fri"}},
		{"Chinese last Friday and half past", "每月 最后一个周五 下午3点半", "2026-12-01 00:00",
			[]string{"2026-12-25 15:30 Fri", "2027-01-29 15:30 Fri", "2027-02-26 15:30 Fri"}},
		{"cron expression in the deployment zone", "cron: 0 9 1 * *", "2026-11-15 00:00",
			[]string{"2026-12-01 09:00 Tue", "2027-01-01 09:00 Fri", "2027-02-01 09:00 Mon"}},
		{"bare cron with seconds", "30 0 9 * * mon", "2026-11-30 09:00",
			[]string{"2026-11-30 09:00 Mon", "2026-12-07 09:00 Mon", "2026-12-14 09:00 Mon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := schedule.ParseRule(tt.rule, sh)
			if err != nil {
				t.Fatal(err)
			}
			var got []time.Time
			after := at(tt.after)
			for range 3 {
				n, ok := r.Next(after, sh, c)
				if !ok {
					t.Fatalf("no next after %v", after)
				}
				got = append(got, n)
				after = n
			}
			if g, w := fmtTimes(got), strings.Join(tt.want, ", "); g != w {
				t.Errorf("%s:\n got %s\nwant %s", tt.rule, g, w)
			}
		})
	}
}

func TestParseRuleRejectsWithExample(t *testing.T) {
	for _, rule := range []string{
		"", "sometimes", "monthly", "monthly: 25:00 first working day", "monthly: December 20",
		"weekly: day 3", "quarterly: month 4 day 1", "monthly: 6th Tuesday", "monthly: first banana",
		"CRON_TZ=UTC 0 9 * * *", "cron: 0 9 31 2 *", "cron: 99 9 * * *", "every working day monday",
	} {
		_, err := schedule.ParseRule(rule, sh)
		if err == nil {
			t.Errorf("%q parsed; want an error", rule)
		}
	}
	_, err := schedule.ParseRule("sometimes", sh)
	if err == nil || !strings.Contains(err.Error(), "monthly: first working day 09:00") {
		t.Errorf("error %v does not show an example", err)
	}
}

func TestParseLead(t *testing.T) {
	tests := []struct {
		in   string
		want schedule.Lead
	}{
		{"", schedule.Lead{}},
		{"3d", schedule.Lead{Days: 3}},
		{"3 days", schedule.Lead{Days: 3}},
		{"3天", schedule.Lead{Days: 3}},
		{"3wd", schedule.Lead{Workdays: 3}},
		{"2 working days", schedule.Lead{Workdays: 2}},
		{"3个工作日", schedule.Lead{Workdays: 3}},
		{"1h", schedule.Lead{D: time.Hour}},
		{"2小时", schedule.Lead{D: 2 * time.Hour}},
		{"30m", schedule.Lead{D: 30 * time.Minute}},
		{"1h30m", schedule.Lead{D: 90 * time.Minute}},
	}
	for _, tt := range tests {
		got, err := schedule.ParseLead(tt.in)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got.D != tt.want.D || got.Days != tt.want.Days || got.Workdays != tt.want.Workdays {
			t.Errorf("%q = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"soon", "-1h", "3 weeks ago", "999d"} {
		if _, err := schedule.ParseLead(bad); err == nil {
			t.Errorf("%q parsed; want an error", bad)
		}
	}
}

func compile(t *testing.T, scs ...config.ScheduleConfig) []*schedule.Schedule {
	t.Helper()
	s, err := schedule.Compile(scs, sh, cal(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestScheduleMovesOffHolidaysAndSaysWhich(t *testing.T) {
	s := compile(t,
		config.ScheduleConfig{Name: "review", Rule: "annually: January 1 09:00", Job: "meeting.notice"},
	)[0]
	o, ok := s.Next(at("2026-06-01 00:00"))
	if !ok {
		t.Fatal("no occurrence")
	}
	if got := o.At.Format("2006-01-02 15:04"); got != "2027-01-04 09:00" {
		t.Errorf("At = %s, want 2027-01-04 09:00 (after 元旦)", got)
	}
	if !o.Moved() || o.Planned.Format("2006-01-02") != "2027-01-01" || o.Holiday != "元旦节" {
		t.Errorf("occurrence %+v: want moved from 2027-01-01, holiday 元旦节", o)
	}
}

func TestScheduleMovedMeetingInSpringFestivalLandsOnMakeUpSunday(t *testing.T) {
	s := compile(t, config.ScheduleConfig{Name: "joint", Rule: "monthly: 2nd Tuesday 14:30", Job: "meeting.notice"})[0]
	got := s.NextN(at("2027-01-20 00:00"), 2)
	if len(got) != 2 {
		t.Fatalf("got %d occurrences", len(got))
	}
	// 2027-02-09 is in the Spring Festival holiday; the next working day
	// is the make-up Sunday 2027-02-14.
	if a := got[0].At.Format("2006-01-02 15:04 Mon"); a != "2027-02-14 14:30 Sun" || got[0].Holiday != "春节" {
		t.Errorf("first = %s (%s), want 2027-02-14 14:30 Sun moved off 春节", a, got[0].Holiday)
	}
	if a := got[1].At.Format("2006-01-02 15:04"); a != "2027-03-09 14:30" || got[1].Moved() {
		t.Errorf("second = %s moved=%v, want 2027-03-09 14:30 not moved", a, got[1].Moved())
	}
}

func TestScheduleHolidayPolicies(t *testing.T) {
	keep := compile(t, config.ScheduleConfig{Name: "k", Rule: "annually: December 20 09:00", Job: "x", OnHoliday: "keep"})[0]
	skip := compile(t, config.ScheduleConfig{Name: "s", Rule: "annually: December 20 09:00", Job: "x", OnHoliday: "skip"})[0]
	move := compile(t, config.ScheduleConfig{Name: "m", Rule: "annually: December 20 09:00", Job: "x"})[0]
	from := at("2026-06-01 00:00") // 2026-12-20 is a Sunday
	if o, _ := keep.Next(from); o.At.Format("2006-01-02") != "2026-12-20" {
		t.Errorf("keep: %v", o.At)
	}
	if o, _ := skip.Next(from); o.At.Format("2006-01-02") != "2027-12-20" {
		t.Errorf("skip: %v", o.At)
	}
	if o, _ := move.Next(from); o.At.Format("2006-01-02") != "2026-12-21" || o.Holiday != "" || !o.Moved() {
		t.Errorf("move: %+v (a weekend has no holiday name)", o)
	}
}

func TestScheduleLeadTimes(t *testing.T) {
	tests := []struct {
		name, rule, notice, after, wantFire, wantAt string
	}{
		{"three working days before the first working day of January 2027 skip New Year's Day and the weekend",
			"monthly: first working day 09:00", "3wd", "2026-12-01 12:00", "2026-12-29 09:00", "2027-01-04 09:00"},
		// 2027-01-04 minus 3 days is 2027-01-01, 元旦: one working day earlier.
		{"three calendar days before lands on the previous working day when that is a day off",
			"monthly: first working day 09:00", "3d", "2026-12-01 12:00", "2026-12-31 09:00", "2027-01-04 09:00"},
		{"one hour before", "quarterly: 2nd week Tuesday 14:30", "1h", "2026-12-01 00:00", "2027-01-12 13:30", "2027-01-12 14:30"},
		{"a notice before a meeting moved off Spring Festival is counted from the moved day",
			"monthly: 2nd Tuesday 14:30", "2wd", "2027-01-20 00:00", "2027-02-03 14:30", "2027-02-14 14:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := compile(t, config.ScheduleConfig{Name: "x", Rule: tt.rule, Job: "x", Notice: tt.notice})[0]
			o, ok := s.Next(at(tt.after))
			if !ok {
				t.Fatal("no occurrence")
			}
			if f := o.Fire.Format("2006-01-02 15:04"); f != tt.wantFire {
				t.Errorf("Fire = %s, want %s", f, tt.wantFire)
			}
			if a := o.At.Format("2006-01-02 15:04"); a != tt.wantAt {
				t.Errorf("At = %s, want %s", a, tt.wantAt)
			}
		})
	}
}

func TestCompileNamesTheKey(t *testing.T) {
	_, err := schedule.Compile([]config.ScheduleConfig{
		{Name: "ok", Rule: "monthly: first working day 09:00", Job: "meeting.notice"},
		{Name: "Bad Name", Rule: "monthly: first working day", Job: "x"},
		{Name: "ok", Rule: "whenever", Job: "x", Notice: "soon", OnHoliday: "maybe", CatchUp: "later", Group: "nowhere"},
	}, sh, cal(t), map[string]config.GroupConfig{"coordination": {}})
	if err == nil {
		t.Fatal("no error")
	}
	for _, key := range []string{"schedules[1].name", "schedules[2].name", "schedules[2].rule", "schedules[2].notice", "schedules[2].on_holiday", "schedules[2].catch_up", "schedules[2].group"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error does not name %s:\n%v", key, err)
		}
	}
}

func TestLastAndBetween(t *testing.T) {
	s := compile(t, config.ScheduleConfig{Name: "m", Rule: "monthly: first working day 09:00", Job: "x"})[0]
	o, ok := s.Last(at("2027-01-04 08:59"))
	if !ok || o.At.Format("2006-01-02") != "2026-12-01" {
		t.Errorf("Last before the January run = %v", o.At)
	}
	o, _ = s.Last(at("2027-01-04 09:00"))
	if o.At.Format("2006-01-02") != "2027-01-04" {
		t.Errorf("Last at the January run = %v", o.At)
	}
	b := s.Between(at("2026-11-02 09:00"), at("2027-03-15 00:00"), 50)
	var got []time.Time
	for _, o := range b {
		got = append(got, o.At)
	}
	if g := fmtTimes(got); g != "2026-12-01 09:00 Tue, 2027-01-04 09:00 Mon, 2027-02-01 09:00 Mon, 2027-03-01 09:00 Mon" {
		t.Errorf("Between = %s", g)
	}
}
