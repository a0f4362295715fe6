package workday

import (
	"testing"
	"time"
)

var sh, _ = time.LoadLocation("Asia/Shanghai")

func day(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, sh)
	if err != nil {
		panic(err)
	}
	return t
}

func TestOfficialCalendar(t *testing.T) {
	c, err := New(sh, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		day  string
		work bool
	}{
		{"ordinary Tuesday", "2026-12-01 09:00", true},
		{"ordinary Saturday", "2026-12-05 09:00", false},
		{"Spring Festival day off", "2026-02-17 09:00", false},
		{"Spring Festival make-up Saturday", "2026-02-28 09:00", true},
		{"Spring Festival make-up Saturday before", "2026-02-14 09:00", true},
		{"National Day", "2026-10-01 09:00", false},
		{"New Year 2027", "2027-01-01 09:00", false},
	}
	for _, tc := range cases {
		if got := c.IsWorkday(day(tc.day)); got != tc.work {
			t.Errorf("%s (%s): IsWorkday = %v, want %v", tc.name, tc.day, got, tc.work)
		}
	}
}

func TestServerZoneDoesNotMatter(t *testing.T) {
	c, _ := New(sh, nil, nil)
	// 2026-12-04 20:00 UTC is Saturday 04:00 in Shanghai: not a working day,
	// although it is a Friday in UTC.
	utc := time.Date(2026, 12, 4, 20, 0, 0, 0, time.UTC)
	if c.IsWorkday(utc) {
		t.Error("Friday evening UTC = Saturday in Shanghai counted as a working day")
	}
}

func TestAddWorkdaysSkipsWeekendAndHoliday(t *testing.T) {
	c, _ := New(sh, nil, nil)
	if got := c.AddWorkdays(day("2026-12-04 10:00"), 2); !got.Equal(day("2026-12-08 10:00")) {
		t.Errorf("Friday + 2 working days = %v, want Tuesday 2026-12-08 10:00", got)
	}
	// 2026-09-30 (Wed) + 1 working day: 10-01..10-07 off, 10-08 Thursday works.
	if got := c.AddWorkdays(day("2026-09-30 10:00"), 1); !got.Equal(day("2026-10-08 10:00")) {
		t.Errorf("before National Day + 1 = %v, want 2026-10-08", got)
	}
}

func TestFirstWorkdayAndOverrides(t *testing.T) {
	c, err := New(sh, []string{"2026-12-01"}, []string{"2026-12-05"})
	if err != nil {
		t.Fatal(err)
	}
	if c.IsWorkday(day("2026-12-01 09:00")) {
		t.Error("local day off still a working day")
	}
	if !c.IsWorkday(day("2026-12-05 09:00")) {
		t.Error("local working Saturday not a working day")
	}
	if got := c.FirstWorkday(2026, time.December); !got.Equal(day("2026-12-02 00:00")) {
		t.Errorf("first working day = %v, want 2026-12-02", got)
	}
	c2, _ := New(sh, nil, nil)
	if got := c2.FirstWorkday(2026, time.October); !got.Equal(day("2026-10-08 00:00")) {
		t.Errorf("first working day of October 2026 = %v, want 2026-10-08 (after National Day)", got)
	}
	if _, err := New(sh, []string{"12-31"}, nil); err == nil {
		t.Error("a bad override date was accepted")
	}
	if n := c2.WorkdaysBetween(day("2026-12-04 18:00"), day("2026-12-08 08:00")); n != 2 {
		t.Errorf("working days Fri→Tue = %d, want 2 (Mon, Tue)", n)
	}
}
