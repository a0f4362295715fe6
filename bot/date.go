package bot

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A date argument is a calendar day in the deployment's time zone; its
// time is midnight there. These are the forms people type.
var (
	reISODate   = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$`)
	reMonthDay  = regexp.MustCompile(`^(\d{1,2})[-/.](\d{1,2})$`)
	reZhFull    = regexp.MustCompile(`^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$`)
	reZhMD      = regexp.MustCompile(`^(\d{1,2})月(\d{1,2})[日号]?$`)
	reRelative  = regexp.MustCompile(`^\+(\d{1,4})\s*(d|w|m|天|日|周|个月|月)?$`)
	reCompact   = regexp.MustCompile(`^(\d{4})(\d{2})(\d{2})$`)
	dateExample = "2026-12-31, 12-31, +7d, 12月31日"
)

// ParseDate parses a date argument relative to now in loc:
//
//	2026-12-31, 2026/12/31, 20261231, 2026年12月31日
//	12-31, 12/31, 12月31日 (this year; a day already past this year is
//	refused as ambiguous, naming this year's and next year's)
//	+7d, +2w, +1m, +7天, +2周, +1个月 (from today)
//	today, tomorrow, 今天, 明天, 后天
//
// It returns midnight of that day in loc. An impossible date such as
// 2026-02-30 is an EINVALID error naming the input, with an example.
func ParseDate(s string, now time.Time, loc *time.Location) (time.Time, error) {
	return parseDate(s, now, loc, false)
}

// ParseDatePast is ParseDate for a day of a period gone by (a summary's
// start): a month and day already past this year is this year's, which
// is then the only sensible reading.
func ParseDatePast(s string, now time.Time, loc *time.Location) (time.Time, error) {
	return parseDate(s, now, loc, true)
}

// AmbiguousDate reports whether err is ParseDate's refusal of a month
// and day already past this year, and returns it.
func AmbiguousDate(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) && e.Key == "error.ambiguous_date" {
		return e, true
	}
	return nil, false
}

// DateError is the answer to a date argument ParseDate refused: an
// ambiguous day keeps its two readings, anything else is error.bad_date
// naming the input with examples. Both carry the command's example.
func DateError(req *Request, err error, input, examples string) *Error {
	if e, ok := AmbiguousDate(err); ok {
		return UsageError(req, e.Key, e.Args...)
	}
	return UsageError(req, "error.bad_date", "input", input, "examples", examples)
}

func parseDate(s string, now time.Time, loc *time.Location, past bool) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	now = now.In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	in := strings.ToLower(strings.TrimSpace(s))
	bad := func() (time.Time, error) {
		return time.Time{}, Coded(EINVALID, "error.bad_date", "input", s, "examples", dateExample)
	}
	if in == "" || len(in) > 32 {
		return bad()
	}
	if t, ok, relative := relativeDate(in, today); relative {
		if !ok {
			return bad()
		}
		return t, nil
	}
	y, mo, d, yearGiven, ok := dateFields(in, today)
	if !ok || y < 2000 || y > 2100 {
		return bad()
	}
	t, ok := validDate(y, mo, d, loc)
	for i := 1; !ok && !yearGiven && i <= 4; i++ {
		// 2-29 typed in a non-leap year means the next leap year's.
		t, ok = validDate(y+i, mo, d, loc)
	}
	if !ok {
		return bad()
	}
	if !yearGiven && t.Before(today) && !past {
		// Already past this year: the person may mean the day gone by (a
		// period's start) or next year's (a deadline). Guessing either
		// silently is wrong half of the time, so both readings are named.
		for next := t.Year() + 1; next <= y+8; next++ {
			if t2, ok := validDate(next, mo, d, loc); ok {
				return time.Time{}, Coded(EINVALID, "error.ambiguous_date", "input", s,
					"past", FormatDate(t, loc), "next", FormatDate(t2, loc))
			}
		}
	}
	return t, nil
}

// relativeDate reads in (lower case, trimmed) as a day relative to today:
// a word (today, 明天 ...) or a count of days, weeks or months ahead.
// relative is false when in is none of these; ok is false when it is one
// but lands more than ten years ahead.
func relativeDate(in string, today time.Time) (t time.Time, ok, relative bool) {
	switch in {
	case "today", "今天", "今日":
		return today, true, true
	case "tomorrow", "明天", "明日":
		return today.AddDate(0, 0, 1), true, true
	case "后天":
		return today.AddDate(0, 0, 2), true, true
	}
	m := reRelative.FindStringSubmatch(in)
	if m == nil {
		return time.Time{}, false, false
	}
	n, _ := strconv.Atoi(m[1])
	switch m[2] {
	case "", "d", "天", "日":
		t = today.AddDate(0, 0, n)
	case "w", "周":
		t = today.AddDate(0, 0, 7*n)
	default: // months
		t = addMonthsClamped(today, n)
	}
	if t.Year() > today.Year()+10 {
		return time.Time{}, false, true
	}
	return t, true, true
}

// dateFields reads in (lower case, trimmed) as a written date: year,
// month and day, or month and day of today's year (yearGiven false). ok
// is false when in has none of the accepted forms.
func dateFields(in string, today time.Time) (y, mo, d int, yearGiven, ok bool) {
	switch {
	case reISODate.MatchString(in):
		y, mo, d = atoi3(reISODate.FindStringSubmatch(in))
	case reZhFull.MatchString(in):
		y, mo, d = atoi3(reZhFull.FindStringSubmatch(in))
	case reCompact.MatchString(in):
		y, mo, d = atoi3(reCompact.FindStringSubmatch(in))
	case reMonthDay.MatchString(in):
		m := reMonthDay.FindStringSubmatch(in)
		mo, _ = strconv.Atoi(m[1])
		d, _ = strconv.Atoi(m[2])
		return today.Year(), mo, d, false, true
	case reZhMD.MatchString(in):
		m := reZhMD.FindStringSubmatch(in)
		mo, _ = strconv.Atoi(m[1])
		d, _ = strconv.Atoi(m[2])
		return today.Year(), mo, d, false, true
	default:
		return 0, 0, 0, false, false
	}
	return y, mo, d, true, true
}

func atoi3(m []string) (int, int, int) {
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	c, _ := strconv.Atoi(m[3])
	return a, b, c
}

func validDate(y, m, d int, loc *time.Location) (time.Time, bool) {
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, loc)
	return t, t.Year() == y && int(t.Month()) == m && t.Day() == d
}

// addMonthsClamped adds n months, keeping the day within the target
// month (Jan 31 + 1 month = Feb 28/29, not Mar 3).
func addMonthsClamped(t time.Time, n int) time.Time {
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location()).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	d := t.Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, t.Location())
}

// FormatDate renders a date as 2026-12-31.
func FormatDate(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02")
}

// FormatTime renders a moment as 2026-12-31 09:00.
func FormatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// Midnight returns midnight of t's day in loc (UTC when loc is nil): the
// day a record's date-only fields (deadlines) are compared by.
func Midnight(t time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}
