// Package schedule runs the named tasks (bot.Task) of the configured
// cadences — the monthly work meeting, the quarterly joint meeting, the
// annual review, the monthly progress notice and collection, the
// stationed groups' monthly check, the supervisor offices' check every
// two months, the case office's quarterly clue summary — on gocron, in
// the deployment's time zone and on Chinese working days.
//
// The when is a pure function: Schedule.Next(after) gives the next
// occurrence of a rule (moved off holidays, minus the notice lead time)
// from the working-day calendar alone, so listings and tests need no
// scheduler. The Runner decides what is due from the clock and the run
// history in the store, which makes every run happen once across
// replicas and restarts, catches up a run missed while no process was up
// (within the schedule's window) and reports older misses to the
// inspection office instead of sending stale notices. gocron only wakes
// the Runner: at each occurrence exactly, and every few minutes in
// between so a failed or interrupted run is retried.
package schedule

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// Holiday policies (ScheduleConfig.OnHoliday).
const (
	HolidayMove = "move" // to the next working day, same time (default)
	HolidayKeep = "keep" // run on the day off anyway
	HolidaySkip = "skip" // no run that time
)

// catchUpTolerance is how late a run still counts as on time whatever the
// window: the scheduler's wake-up jitter.
const catchUpTolerance = 2 * time.Minute

// Schedule is one compiled cadence from the configuration.
type Schedule struct {
	Name      string
	Title     string // as configured; see Label
	Rule      *Rule
	Task      string
	Group     string
	Template  string
	Lead      Lead // the task runs this long before the rule's time
	Remind    time.Duration
	OnHoliday string
	// CatchUp is how long after its planned time a missed run may still
	// happen; SameDay allows it until the end of that day as well.
	CatchUp time.Duration
	SameDay bool
	Meeting config.MeetingScheduleConfig
	// Index is the position in the configuration, for error messages.
	Index int

	loc *time.Location
	cal bot.Calendar
}

// Occurrence is one time a schedule comes due.
type Occurrence struct {
	// At is when the event happens (the meeting, the notice date): the
	// rule's time, moved to the next working day if it fell on a day off.
	At time.Time
	// Planned is the rule's time before any move.
	Planned time.Time
	// Fire is when the task runs: At minus the notice lead time.
	Fire time.Time
	// Holiday names the official holiday Planned fell in, when it was
	// moved off one ("" for a weekend or no move).
	Holiday string
}

// Moved reports whether the occurrence was moved off a day off.
func (o Occurrence) Moved() bool { return !o.At.Equal(o.Planned) }

// Key is the occurrence's identity in the run history.
func (o Occurrence) Key() string { return o.At.Format(time.RFC3339) }

// Lead is a lead time: a duration, calendar days or working days.
type Lead struct {
	D        time.Duration
	Days     int
	Workdays int
	text     string
}

// String returns the lead time as written.
func (l Lead) String() string { return l.text }

// IsZero reports whether there is no lead time.
func (l Lead) IsZero() bool { return l.D == 0 && l.Days == 0 && l.Workdays == 0 }

// before returns t minus the lead; leads in days land on a working day
// (stepping back), at the same time of day.
func (l Lead) before(t time.Time, cal bot.Calendar) time.Time {
	switch {
	case l.Workdays > 0:
		for n := l.Workdays; n > 0; {
			t = t.AddDate(0, 0, -1)
			if cal.IsWorkday(t) {
				n--
			}
		}
		return t
	case l.Days > 0:
		t = t.AddDate(0, 0, -l.Days)
		for i := 0; i < 60 && !cal.IsWorkday(t); i++ {
			t = t.AddDate(0, 0, -1)
		}
		return t
	}
	return t.Add(-l.D)
}

// bound is an upper bound of how far before an event the lead may reach.
func (l Lead) bound() time.Duration {
	return l.D + time.Duration(l.Days*24+(l.Workdays*3+20)*24)*time.Hour
}

var (
	reWorkdays = regexp.MustCompile(`^(\d{1,3})\s*(wd|working days?|workdays?|business days?|个?工作日)$`)
	reDays     = regexp.MustCompile(`^(\d{1,3})\s*(d|days?|天|日)$`)
	reHours    = regexp.MustCompile(`^(\d{1,4})\s*(h|hours?|小时|个小时)$`)
	reMinutes  = regexp.MustCompile(`^(\d{1,5})\s*(m|min|mins|minutes?|分钟)$`)
	reName     = regexp.MustCompile(`^[a-z0-9][a-z0-9_.\-]{0,63}$`)
)

// ParseLead reads "3d", "3 days", "3天", "3wd", "3 working days",
// "3个工作日", "2h", "1小时", "30m", "1h30m"; "" and "0" are no lead.
func ParseLead(s string) (Lead, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	l := Lead{text: s}
	if s == "" || s == "0" {
		return l, nil
	}
	num := func(m []string) int { n, _ := strconv.Atoi(m[1]); return n }
	switch {
	case reWorkdays.MatchString(s):
		l.Workdays = num(reWorkdays.FindStringSubmatch(s))
	case reDays.MatchString(s):
		l.Days = num(reDays.FindStringSubmatch(s))
	case reHours.MatchString(s):
		l.D = time.Duration(num(reHours.FindStringSubmatch(s))) * time.Hour
	case reMinutes.MatchString(s):
		l.D = time.Duration(num(reMinutes.FindStringSubmatch(s))) * time.Minute
	default:
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return l, fmt.Errorf("%q is not a lead time (3d, 3wd for working days, 2h, 30m)", s)
		}
		l.D = d
	}
	if l.Days > 366 || l.Workdays > 250 || l.D > 366*24*time.Hour {
		return l, fmt.Errorf("%q is longer than a year", s)
	}
	return l, nil
}

// Compile validates and compiles the configured schedules; every error
// names its key (schedules[2].rule). Disabled schedules are left out.
func Compile(scs []config.ScheduleConfig, loc *time.Location, cal bot.Calendar, groups map[string]config.GroupConfig) ([]*Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	var errs []error
	var out []*Schedule
	names := map[string]bool{}
	for i, sc := range scs {
		key := fmt.Sprintf("schedules[%d]", i)
		fail := func(field, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s.%s: %s", key, field, fmt.Sprintf(format, args...)))
		}
		s := &Schedule{Name: sc.Name, Title: sc.Title, Task: sc.Job, Group: sc.Group, Template: sc.Template, Meeting: sc.Meeting, Index: i, loc: loc, cal: cal}
		switch {
		case !reName.MatchString(sc.Name):
			fail("name", "%q must be lower-case letters, digits, '_', '-' or '.' (e.g. work_meeting)", sc.Name)
		case names[sc.Name]:
			fail("name", "%q is used twice", sc.Name)
		}
		names[sc.Name] = true
		if sc.Job == "" {
			fail("job", "is required: the task to run, e.g. meeting.notice")
		}
		if sc.Group != "" && groups != nil {
			if _, ok := groups[sc.Group]; !ok {
				fail("group", "unknown group %q", sc.Group)
			}
		}
		r, err := ParseRule(sc.Rule, loc)
		if err != nil {
			fail("rule", "%v", err)
		}
		s.Rule = r
		if s.Lead, err = ParseLead(sc.Notice); err != nil {
			fail("notice", "%v", err)
		}
		rl, err := ParseLead(sc.Remind)
		switch {
		case err != nil:
			fail("remind", "%v", err)
		case rl.Workdays > 0:
			fail("remind", "%q: give the reminder in hours or days (1h, 1d)", sc.Remind)
		default:
			s.Remind = rl.D + time.Duration(rl.Days)*24*time.Hour
		}
		switch strings.ToLower(strings.TrimSpace(sc.OnHoliday)) {
		case "", HolidayMove:
			s.OnHoliday = HolidayMove
		case HolidayKeep:
			s.OnHoliday = HolidayKeep
		case HolidaySkip:
			s.OnHoliday = HolidaySkip
		default:
			fail("on_holiday", "must be move, keep or skip, not %q", sc.OnHoliday)
		}
		if s.CatchUp, s.SameDay, err = parseCatchUp(sc.CatchUp); err != nil {
			fail("catch_up", "%v", err)
		}
		if r != nil && err == nil {
			if _, ok := s.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, loc)); !ok {
				fail("rule", "%q never comes due", sc.Rule)
			}
		}
		if !sc.Disabled {
			out = append(out, s)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func parseCatchUp(s string) (time.Duration, bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "same_day", "same day", "same_working_day", "当天", "当日":
		return 0, true, nil
	case "none", "never", "0", "不补发":
		return 0, false, nil
	}
	l, err := ParseLead(s)
	if err != nil || l.Workdays > 0 {
		return 0, false, fmt.Errorf("%q: write same_day, none or a duration such as 4h", s)
	}
	return l.D + time.Duration(l.Days)*24*time.Hour, false, nil
}

// Label is the title, or the name when the schedule has no title.
func (s *Schedule) Label() string {
	if s.Title != "" {
		return s.Title
	}
	return s.Name
}

// Location returns the zone the schedule runs in.
func (s *Schedule) Location() *time.Location { return s.loc }

// occurrence turns a rule time into an occurrence; false when the
// holiday policy drops it.
func (s *Schedule) occurrence(raw time.Time) (Occurrence, bool) {
	o := Occurrence{At: raw, Planned: raw}
	if !s.cal.IsWorkday(raw) {
		switch s.OnHoliday {
		case HolidaySkip:
			return o, false
		case HolidayMove:
			o.At = s.cal.OnOrAfter(raw)
			if h, ok := s.cal.(interface {
				Holiday(time.Time) (string, bool)
			}); ok {
				o.Holiday, _ = h.Holiday(raw)
			}
		}
	}
	o.Fire = s.Lead.before(o.At, s.cal)
	return o, true
}

// each calls fn with the occurrences whose rule time is after from, in
// order, until fn returns false. Rule times that a holiday move collapses
// onto one occurrence yield it once (with the earliest rule time).
func (s *Schedule) each(from time.Time, fn func(Occurrence) bool) {
	cursor := from.In(s.loc)
	var prev time.Time
	for i := 0; i < 100000; i++ {
		raw, ok := s.Rule.Next(cursor, s.loc, s.cal)
		if !ok {
			return
		}
		cursor = raw
		o, ok := s.occurrence(raw)
		if !ok || (!prev.IsZero() && !o.Fire.After(prev)) {
			continue
		}
		prev = o.Fire
		if !fn(o) {
			return
		}
	}
}

// lookBack is how far before a time to start looking for occurrences
// whose Fire time is after it: a holiday move and the lead time push an
// occurrence past its rule time.
func (s *Schedule) lookBack() time.Duration { return s.Lead.bound() + 45*24*time.Hour }

// Next returns the first occurrence whose Fire time is after after.
func (s *Schedule) Next(after time.Time) (Occurrence, bool) {
	var found Occurrence
	ok := false
	s.each(after.Add(-s.lookBack()), func(o Occurrence) bool {
		if o.Fire.After(after) {
			found, ok = o, true
			return false
		}
		return true
	})
	return found, ok
}

// NextN returns the next n occurrences after after.
func (s *Schedule) NextN(after time.Time, n int) []Occurrence {
	var out []Occurrence
	if n <= 0 {
		return out
	}
	s.each(after.Add(-s.lookBack()), func(o Occurrence) bool {
		if o.Fire.After(after) {
			out = append(out, o)
		}
		return len(out) < n
	})
	return out
}

// Last returns the latest occurrence whose Fire time is at or before now.
func (s *Schedule) Last(now time.Time) (Occurrence, bool) {
	for _, back := range []time.Duration{45 * 24 * time.Hour, 400 * 24 * time.Hour, 800 * 24 * time.Hour} {
		var last Occurrence
		found := false
		s.each(now.Add(-back-s.Lead.bound()), func(o Occurrence) bool {
			if o.Fire.After(now) {
				return false
			}
			last, found = o, true
			return true
		})
		if found {
			return last, true
		}
	}
	return Occurrence{}, false
}

// Between returns the occurrences whose event is after since and whose
// Fire time is at or before now, oldest first, at most limit of them (the
// latest ones).
func (s *Schedule) Between(since, now time.Time, limit int) []Occurrence {
	from := now.Add(-800*24*time.Hour - s.Lead.bound())
	if f := since.Add(-s.lookBack()); !since.IsZero() && f.After(from) {
		from = f
	}
	var out []Occurrence
	s.each(from, func(o Occurrence) bool {
		if o.Fire.After(now) {
			return false
		}
		if o.At.After(since) {
			out = append(out, o)
			if len(out) > limit {
				out = out[1:]
			}
		}
		return true
	})
	return out
}

// InWindow reports whether o, due but not yet run, may still run at now:
// within the catch-up window after its Fire time (or on the same day,
// for same_day), and never after the event itself when the task runs
// ahead of it (a notice for a meeting already held is stale).
func (s *Schedule) InWindow(o Occurrence, now time.Time) bool {
	now = now.In(s.loc)
	if now.Before(o.Fire) {
		return false
	}
	late := now.Sub(o.Fire)
	if late <= catchUpTolerance {
		return true
	}
	if !s.Lead.IsZero() && now.After(o.At) {
		return false
	}
	if late <= s.CatchUp {
		return true
	}
	if s.SameDay {
		f := o.Fire.In(s.loc)
		return f.Year() == now.Year() && f.YearDay() == now.YearDay()
	}
	return false
}
