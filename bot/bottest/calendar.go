package bottest

import (
	"strings"
	"time"
)

// The expected calendar of the date-sensitive tests, written out by hand
// so that a test checks the code's calendar against something other than
// itself: the official days off and make-up working days (调休) of 2026
// and 2027 as the State Council announced them (and as the lunar-go
// holiday table has them); every other year is Monday to Friday, the
// calendar's fallback for a year the table does not know.
var (
	holidayNames = map[string]string{} // day off → holiday name
	makeUpDays   = map[string]bool{}
)

func init() {
	for _, h := range []struct{ name, days, makeUp string }{
		{"元旦节", "2026-01-01..2026-01-03", "2026-01-04"},
		{"春节", "2026-02-15..2026-02-23", "2026-02-14 2026-02-28"},
		{"清明节", "2026-04-04..2026-04-06", ""},
		{"劳动节", "2026-05-01..2026-05-05", "2026-05-09"},
		{"端午节", "2026-06-19..2026-06-21", ""},
		{"中秋节", "2026-09-25..2026-09-27", ""},
		{"国庆节", "2026-10-01..2026-10-07", "2026-09-20 2026-10-10"},
		{"元旦节", "2027-01-01..2027-01-03", ""},
		{"春节", "2027-02-05..2027-02-13", "2027-01-31 2027-02-14"},
		{"清明节", "2027-04-03..2027-04-05", ""},
		{"劳动节", "2027-05-01..2027-05-05", "2027-05-08"},
		{"端午节", "2027-06-09..2027-06-09", ""},
		{"中秋节", "2027-09-15..2027-09-15", ""},
		{"国庆节", "2027-10-01..2027-10-07", "2027-09-26 2027-10-09"},
	} {
		from, to, _ := strings.Cut(h.days, "..")
		for d := mustDay(from); !d.After(mustDay(to)); d = d.AddDate(0, 0, 1) {
			holidayNames[d.Format(time.DateOnly)] = h.name
		}
		for _, d := range strings.Fields(h.makeUp) {
			makeUpDays[d] = true
		}
	}
}

func mustDay(s string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, s, Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// IsWorkday is the expected answer to "is t's day (in Shanghai) a
// working day".
func IsWorkday(t time.Time) bool {
	d := t.In(Shanghai).Format(time.DateOnly)
	switch {
	case makeUpDays[d]:
		return true
	case holidayNames[d] != "":
		return false
	}
	wd := t.In(Shanghai).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// HolidayName is the expected name of the official holiday t's day is
// in; "" on other days (weekends included).
func HolidayName(t time.Time) string {
	return holidayNames[t.In(Shanghai).Format(time.DateOnly)]
}

// Day is midnight of y-m-d in Shanghai (time.Date's normalisation
// applies: Day(2026, 12, 32) is 2027-01-01).
func Day(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, Shanghai)
}

// Today is midnight of t's day in Shanghai.
func Today(t time.Time) time.Time {
	y, m, d := t.In(Shanghai).Date()
	return Day(y, m, d)
}

// NextWorkday is the first working day on or after t's day, at t's time
// of day (in Shanghai).
func NextWorkday(t time.Time) time.Time {
	t = t.In(Shanghai)
	for !IsWorkday(t) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// NthWorkday is midnight of the n-th working day of the month (n < 0
// counts from the month's end: -1 is the last).
func NthWorkday(y int, m time.Month, n int) time.Time {
	first, last := Day(y, m, 1), Day(y, m+1, 0)
	d, step := first, 1
	if n < 0 {
		d, step, n = last, -1, -n
	}
	for ; !d.Before(first) && !d.After(last); d = d.AddDate(0, 0, step) {
		if IsWorkday(d) {
			if n--; n == 0 {
				return d
			}
		}
	}
	panic("bottest.NthWorkday: no such working day")
}

// WorkdaysBefore is t stepped back n working days (same time of day).
func WorkdaysBefore(t time.Time, n int) time.Time {
	t = t.In(Shanghai)
	for n > 0 {
		t = t.AddDate(0, 0, -1)
		if IsWorkday(t) {
			n--
		}
	}
	return t
}

// WorkdaysAfter is t moved forward n working days (same time of day).
func WorkdaysAfter(t time.Time, n int) time.Time {
	t = t.In(Shanghai)
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if IsWorkday(t) {
			n--
		}
	}
	return t
}

// QuarterStart is midnight of the first day of t's quarter (Shanghai).
func QuarterStart(t time.Time) time.Time {
	t = t.In(Shanghai)
	return Day(t.Year(), t.Month()-(t.Month()-1)%3, 1)
}
