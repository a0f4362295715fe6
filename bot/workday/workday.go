// Package workday is the Chinese working-day calendar: weekends, the
// official public holidays and the make-up working days (调休) published
// by the State Council, from the table maintained in
// github.com/6tail/lunar-go, merged under the years of the State
// Council's table the office loads in its configuration (Year), plus
// local overrides from the configuration.
package workday

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// Calendar answers working-day questions in one time zone.
type Calendar struct {
	loc      *time.Location
	off      map[string]bool     // local extra days off
	extra    map[string]bool     // local extra working days
	official map[string]official // the configured State Council table
	years    map[int]bool        // the years that table covers
}

type official struct {
	name string
	work bool
}

// Year is one year of the State Council's notice of public holidays
// (国务院办公厅关于…年部分节假日安排的通知), as the office types it into
// the configuration: the holidays, each a run of days off, and the
// make-up working days (调休上班). A configured year replaces the
// built-in table for that year.
type Year struct {
	Year     int      `yaml:"year"`
	Holidays []Period `yaml:"holidays"`
	Workdays []string `yaml:"workdays"` // 2028-01-29
}

// Period is one holiday: From to To inclusive (To empty: one day).
type Period struct {
	Name string `yaml:"name"` // 春节
	From string `yaml:"from"` // 2028-01-26
	To   string `yaml:"to"`   // 2028-02-01
}

// New returns a calendar for loc. off and work are local overrides as
// 2006-01-02 dates: extra days off and extra working days. table is the
// State Council's table for the years the built-in one does not know
// (or gets wrong); it is validated: malformed dates, a holiday outside
// its year, overlapping holidays and a make-up working day inside a
// holiday are refused, each with where it is.
func New(loc *time.Location, off, work []string, table ...Year) (*Calendar, error) {
	c := &Calendar{loc: loc, off: map[string]bool{}, extra: map[string]bool{}, official: map[string]official{}, years: map[int]bool{}}
	if err := c.load(table); err != nil {
		return nil, err
	}
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
	if o, ok := c.official[d]; ok {
		return o.work
	}
	// A configured year replaces the built-in table: past the table's
	// days, a weekday is a working day.
	if !c.years[t.In(c.loc).Year()] {
		if h := HolidayUtil.GetHoliday(d); h != nil {
			return h.IsWork() // a holiday (false) or a make-up working day (true)
		}
	}
	wd := t.In(c.loc).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Holiday returns the name of the official holiday that t falls in, if
// it is a day off for one.
func (c *Calendar) Holiday(t time.Time) (string, bool) {
	d := t.In(c.loc).Format("2006-01-02")
	if o, ok := c.official[d]; ok {
		return o.name, !o.work
	}
	if c.years[t.In(c.loc).Year()] {
		return "", false
	}
	if h := HolidayUtil.GetHoliday(d); h != nil && !h.IsWork() {
		return h.GetName(), true
	}
	return "", false
}

// Covers reports whether the official holidays of year are known: the
// configured table has the year, or the built-in one has any day of it.
func (c *Calendar) Covers(year int) bool {
	if c.years[year] {
		return true
	}
	l := HolidayUtil.GetHolidaysByYear(year)
	return l != nil && l.Len() > 0
}

// Uncovered returns the years, in order, of the days from t through
// days days later whose official holidays are not known (Covers): in
// those the calendar knows weekends only.
func (c *Calendar) Uncovered(t time.Time, days int) []int {
	from := t.In(c.loc)
	to := from.AddDate(0, 0, days)
	var out []int
	for y := from.Year(); y <= to.Year(); y++ {
		if !c.Covers(y) {
			out = append(out, y)
		}
	}
	return out
}

// load validates table and merges it over the built-in one.
func (c *Calendar) load(table []Year) error {
	var errs []error
	type span struct {
		where    string
		from, to time.Time
	}
	var spans []span
	seen := map[int]int{}
	for i, y := range table {
		at := fmt.Sprintf("holidays.table[%d]", i)
		if y.Year < 2000 || y.Year > 2200 {
			errs = append(errs, fmt.Errorf("%s: year %d is not a year like 2028", at, y.Year))
			continue
		}
		at = fmt.Sprintf("%s (%d)", at, y.Year)
		if j, dup := seen[y.Year]; dup {
			errs = append(errs, fmt.Errorf("%s: the year is already in holidays.table[%d]; give each year once", at, j))
			continue
		}
		seen[y.Year] = i
		c.years[y.Year] = true
		for j, p := range y.Holidays {
			where := fmt.Sprintf("%s.holidays[%d]", at, j)
			if p.Name != "" {
				where += " " + p.Name
			}
			from, err := time.ParseInLocation("2006-01-02", p.From, c.loc)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: from %q is not a date like 2028-10-01", where, p.From))
				continue
			}
			to := from
			if p.To != "" {
				if to, err = time.ParseInLocation("2006-01-02", p.To, c.loc); err != nil {
					errs = append(errs, fmt.Errorf("%s: to %q is not a date like 2028-10-07", where, p.To))
					continue
				}
			}
			switch {
			case to.Before(from):
				errs = append(errs, fmt.Errorf("%s: to %s is before from %s", where, p.To, p.From))
				continue
			case from.Year() != y.Year && to.Year() != y.Year:
				errs = append(errs, fmt.Errorf("%s: %s to %s is not in %d", where, p.From, to.Format("2006-01-02"), y.Year))
				continue
			case to.Sub(from) > 31*24*time.Hour:
				errs = append(errs, fmt.Errorf("%s: %s to %s is longer than a month; check the dates", where, p.From, to.Format("2006-01-02")))
				continue
			}
			for _, o := range spans {
				if !from.After(o.to) && !o.from.After(to) {
					errs = append(errs, fmt.Errorf("%s (%s to %s) overlaps %s", where, p.From, to.Format("2006-01-02"), o.where))
				}
			}
			spans = append(spans, span{where, from, to})
			name := p.Name
			for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
				c.official[d.Format("2006-01-02")] = official{name: name}
			}
		}
		for j, w := range y.Workdays {
			where := fmt.Sprintf("%s.workdays[%d]", at, j)
			d, err := time.ParseInLocation("2006-01-02", w, c.loc)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a date like 2028-10-08", where, w))
				continue
			}
			if i := slices.IndexFunc(spans, func(s span) bool { return !d.Before(s.from) && !d.After(s.to) }); i >= 0 {
				errs = append(errs, fmt.Errorf("%s: %s is a working day inside %s", where, w, spans[i].where))
				continue
			}
			if o, ok := c.official[w]; ok && o.work {
				errs = append(errs, fmt.Errorf("%s: %s is given twice", where, w))
				continue
			}
			c.official[w] = official{work: true}
		}
	}
	return errors.Join(errs...)
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
