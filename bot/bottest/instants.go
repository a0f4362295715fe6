package bottest

import (
	"testing"
	"time"
)

// Instant is a named "now" for the date-sensitive tests.
type Instant struct {
	Name string
	T    time.Time
}

// Instants are the "now" values every date-sensitive test runs under:
// year and month ends, a make-up working Saturday (调休), the days around
// Spring Festival 2027, a leap day, and a year the official holiday
// table does not know yet (the calendar falls back to weekends there).
// A test derives what it expects from the instant, never from the
// machine's clock, so the suite passes on any date.
var Instants = []Instant{
	{"default start 2026-12-01 09:00 (first working day of December)", Start},
	{"New Year's Eve 2026-12-31 23:59", time.Date(2026, 12, 31, 23, 59, 0, 0, Shanghai)},
	{"New Year's Day 2027-01-01 00:00 (holiday)", time.Date(2027, 1, 1, 0, 0, 0, 0, Shanghai)},
	{"make-up working Saturday 2027-10-09 09:00 (调休)", time.Date(2027, 10, 9, 9, 0, 0, 0, Shanghai)},
	{"last working day before Spring Festival 2027-02-04 17:30", time.Date(2027, 2, 4, 17, 30, 0, 0, Shanghai)},
	{"day before Spring Festival 2027-02-05 09:00 (holiday)", time.Date(2027, 2, 5, 9, 0, 0, 0, Shanghai)},
	{"day after Spring Festival 2027-02-07 09:00 (holiday)", time.Date(2027, 2, 7, 9, 0, 0, 0, Shanghai)},
	{"first working day after Spring Festival, make-up Sunday 2027-02-14 09:00", time.Date(2027, 2, 14, 9, 0, 0, 0, Shanghai)},
	{"quarter end 2027-03-31 23:59", time.Date(2027, 3, 31, 23, 59, 0, 0, Shanghai)},
	{"leap day 2028-02-29 10:00 (year unknown to the holiday table)", time.Date(2028, 2, 29, 10, 0, 0, 0, Shanghai)},
	{"New Year's Eve 2029-12-31 23:59 (year unknown to the holiday table)", time.Date(2029, 12, 31, 23, 59, 0, 0, Shanghai)},
}

// ForEachInstant runs f as a subtest under each of Instants.
func ForEachInstant(t *testing.T, f func(t *testing.T, now time.Time)) {
	t.Helper()
	for _, in := range Instants {
		t.Run(in.Name, func(t *testing.T) { f(t, in.T) })
	}
}
