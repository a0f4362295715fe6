// Package workday is the Chinese working-day calendar: weekends, the
// official public holidays and the make-up working days (调休) published
// by the State Council, from the table maintained in
// github.com/6tail/lunar-go, plus local overrides from the configuration.
package workday

import (
	"fmt"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// Calendar answers working-day questions in one time zone.
type Calendar struct {
	loc   *time.Location
	off   map[string]bool // local extra days off
	extra map[string]bool // local extra working days
}

// New returns a calendar for loc. off and work are local overrides as
// 2006-01-02 dates: extra days off and extra working days.
func New(loc *time.Location, off, work []string) (*Calendar, error) {
	c := &Calendar{loc: loc, off: map[string]bool{}, extra: map[string]bool{}}
	for i, d := range off {
		if _, err := time.ParseInLocation("2006-01-02", d, loc); err != nil {
			return nil, fmt.Errorf("holidays.extra[%d]: %q is not a date like 2026-12-31", i, d)
		}
		c.off[d] = true
	}
	for i, d := range work {
		if _, err := time.ParseInLocation("2006-01-02", d, loc); err != nil {
			return nil, fmt.Errorf("holidays.workday[%d]: %q is not a date like 2026-12-31", i, d)
		}
		c.extra[d] = true
	}
	return c, nil
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsWorkday reports whether the day of t (in the calendar's zone) is a
// working day.
func (c *Calendar) IsWorkday(t time.Time) bool {
	d := t.In(c.loc).Format("2006-01-02")
	switch {
	case c.extra[d]:
		return true
	case c.off[d]:
		return false
	}
	if h := HolidayUtil.GetHoliday(d); h != nil {
		return h.IsWork() // a holiday (false) or a make-up working day (true)
	}
	wd := t.In(c.loc).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Holiday returns the name of the official holiday that t falls in, if
// it is a day off for one.
func (c *Calendar) Holiday(t time.Time) (string, bool) {
	d := t.In(c.loc).Format("2006-01-02")
	if h := HolidayUtil.GetHoliday(d); h != nil && !h.IsWork() {
		return h.GetName(), true
	}
	return "", false
}

// OnOrAfter returns t if its day is a working day, else the same time of
// day on the next working day.
func (c *Calendar) OnOrAfter(t time.Time) time.Time {
	t = t.In(c.loc)
	for i := 0; i < 60 && !c.IsWorkday(t); i++ {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// AddWorkdays returns the same time of day n working days after t (n ≥ 0).
// "2 working days after Friday 10:00" is Tuesday 10:00.
func (c *Calendar) AddWorkdays(t time.Time, n int) time.Time {
	t = t.In(c.loc)
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if c.IsWorkday(t) {
			n--
		}
	}
	return t
}

// WorkdaysBetween counts working days d with from < d ≤ to, by calendar
// day in the calendar's zone.
func (c *Calendar) WorkdaysBetween(from, to time.Time) int {
	from, to = from.In(c.loc), to.In(c.loc)
	a := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, c.loc)
	b := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, c.loc)
	n := 0
	for d := a.AddDate(0, 0, 1); !d.After(b); d = d.AddDate(0, 0, 1) {
		if c.IsWorkday(d) {
			n++
		}
	}
	return n
}

// FirstWorkday returns the first working day of the month of t, at
// midnight.
func (c *Calendar) FirstWorkday(year int, month time.Month) time.Time {
	return c.OnOrAfter(time.Date(year, month, 1, 0, 0, 0, 0, c.loc))
}
