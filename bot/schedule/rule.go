package schedule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/xunji-bot/xunji/bot"
)

// Rule is a parsed schedule rule: a readable calendar rule over working
// days ("monthly: first working day 09:00") or a cron expression. Rules
// carry no zone: times are computed in the location passed to Next.
type Rule struct {
	text string

	cronExpr string // cron rules only
	cron     gocron.Cron

	period  periodKind
	months  int // perMonths: 1, 2, 3, 6 or 12
	month   int // 1-based month within the period (annual: the calendar month); 0: the whole period
	sel     selKind
	n       int // ordinal; negative counts from the end (-1 = last)
	weekday time.Weekday
	hour    int
	minute  int
}

type periodKind int

const (
	perDay    periodKind = iota + 1 // every working day
	perWeek                         // Monday to Sunday
	perMonths                       // N months aligned to January
)

type selKind int

const (
	selWorkday selKind = iota + 1 // n-th working day of the range
	selWeekday                    // n-th <weekday> of the range
	selDay                        // n-th day of the range
)

// String returns the rule as written.
func (r *Rule) String() string { return r.text }

// IsCron reports whether the rule is a cron expression.
func (r *Rule) IsCron() bool { return r.cron != nil }

// Next returns the first time after after that the rule names, computed
// in loc with cal's working days; false if there is none within a
// reasonable horizon (a rule that never matches).
func (r *Rule) Next(after time.Time, loc *time.Location, cal bot.Calendar) (time.Time, bool) {
	after = after.In(loc)
	if r.cron != nil {
		t := r.cron.Next(after)
		if t.IsZero() {
			return time.Time{}, false
		}
		return t.In(loc), true
	}
	p := r.periodStart(after)
	for i := 0; i < 800; i++ {
		start, end := r.rangeOf(p)
		if d, ok := r.pick(start, end, cal); ok {
			t := time.Date(d.Year(), d.Month(), d.Day(), r.hour, r.minute, 0, 0, loc)
			if t.After(after) {
				return t, true
			}
		}
		p = r.nextPeriod(p)
	}
	return time.Time{}, false
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// periodStart returns the first day of the period containing t.
func (r *Rule) periodStart(t time.Time) time.Time {
	d := midnight(t)
	switch r.period {
	case perWeek:
		back := (int(d.Weekday()) + 6) % 7 // days since Monday
		return d.AddDate(0, 0, -back)
	case perMonths:
		m := (int(d.Month())-1)/r.months*r.months + 1
		return time.Date(d.Year(), time.Month(m), 1, 0, 0, 0, 0, d.Location())
	}
	return d
}

func (r *Rule) nextPeriod(p time.Time) time.Time {
	switch r.period {
	case perWeek:
		return p.AddDate(0, 0, 7)
	case perMonths:
		return p.AddDate(0, r.months, 0)
	}
	return p.AddDate(0, 0, 1)
}

// rangeOf returns the first and last day the selector looks at in the
// period starting at p.
func (r *Rule) rangeOf(p time.Time) (time.Time, time.Time) {
	switch r.period {
	case perWeek:
		return p, p.AddDate(0, 0, 6)
	case perMonths:
		if r.month > 0 {
			start := p.AddDate(0, r.month-1, 0)
			if r.months == 12 {
				start = time.Date(p.Year(), time.Month(r.month), 1, 0, 0, 0, 0, p.Location())
			}
			return start, start.AddDate(0, 1, -1)
		}
		return p, p.AddDate(0, r.months, -1)
	}
	return p, p
}

// pick applies the selector to the days start..end.
func (r *Rule) pick(start, end time.Time, cal bot.Calendar) (time.Time, bool) {
	switch r.sel {
	case selWorkday:
		if r.n > 0 {
			k := 0
			for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
				if cal.IsWorkday(d) {
					if k++; k == r.n {
						return d, true
					}
				}
			}
			return time.Time{}, false
		}
		k := 0
		for d := end; !d.Before(start); d = d.AddDate(0, 0, -1) {
			if cal.IsWorkday(d) {
				if k--; k == r.n {
					return d, true
				}
			}
		}
		return time.Time{}, false
	case selWeekday:
		if r.n > 0 {
			d := start.AddDate(0, 0, (int(r.weekday)-int(start.Weekday())+7)%7+7*(r.n-1))
			return d, !d.After(end)
		}
		d := end.AddDate(0, 0, -((int(end.Weekday())-int(r.weekday)+7)%7)-7*(-r.n-1))
		return d, !d.Before(start)
	case selDay:
		if r.n > 0 {
			d := start.AddDate(0, 0, r.n-1)
			if d.After(end) {
				d = end // day 31 of a 30-day month is its last day
			}
			return d, true
		}
		d := end.AddDate(0, 0, r.n+1)
		if d.Before(start) {
			d = start
		}
		return d, true
	}
	return time.Time{}, false
}

// Rule examples, shown in parse errors.
const ruleExamples = `"monthly: first working day 09:00", "quarterly: 2nd week Tuesday 14:30", "annually: December 20", "every 2 months: last working day 15:00", "weekly: Monday 09:00", "every working day 17:30", "每月 第一个工作日 09:00", "每季度 第二周 周二 14:30", "每年 12月20日", or "cron: 0 9 1 * *"`

var (
	reSpaces   = regexp.MustCompile(`\s+`)
	reCronWord = regexp.MustCompile(`^([0-9*?][0-9*?/,\-#lw]*|[a-z]{3}([,\-][a-z]{3})*(/\d+)?)$`)
	reTime     = regexp.MustCompile(`(?:^|\s|[^0-9])(\d{1,2}):(\d{2})(?:$|\s)`)
	reTimeZh   = regexp.MustCompile(`(上午|下午|晚上)?(\d{1,2})[点时](半|(\d{1,2})分?)?`)
	reFiller   = regexp.MustCompile(`\b(at|on|in|of (the|each|every) (month|quarter|year|week|period)|of|the)\b`)
	reMonthNum = regexp.MustCompile(`(?:^|\s)(?:month (\d{1,2})|(\d{1,2})(?:st|nd|rd|th) month)(?:$|\s)`)
	reMonthZh  = regexp.MustCompile(`第([0-9一二两三四五六七八九十]+)个?月`)
	reMDZh     = regexp.MustCompile(`(\d{1,2})月(?:(\d{1,2})[日号]?)?`)
	reMDNum    = regexp.MustCompile(`^(\d{1,2})-(\d{1,2})$`)
	reMonthEn  = regexp.MustCompile(`\b(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b`)

	ordEn  = `(first|second|third|fourth|fifth|last|\d{1,2}(?:st|nd|rd|th)?)`
	dayEn  = `(monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)`
	numZh  = `([0-9一二两三四五六七八九十]+)`
	dayZh  = `(?:周|星期|礼拜)([一二三四五六日天])`
	reWdEn = []*regexp.Regexp{
		regexp.MustCompile(`^` + ordEn + ` (?:working day|workday|business day)$`),
		regexp.MustCompile(`^(?:working day|workday|business day) (\d{1,2})$`),
		regexp.MustCompile(`^(second|2nd|third|3rd) (?:to )?last (?:working day|workday|business day)$`),
	}
	reWdZh = []*regexp.Regexp{
		regexp.MustCompile(`^(?:第` + numZh + `|(首))个?工作日$`),
		regexp.MustCompile(`^(最后|末)一?个?工作日$`),
		regexp.MustCompile(`^倒数第` + numZh + `个?工作日$`),
	}
	reWeekdayEn   = regexp.MustCompile(`^(?:` + ordEn + ` (?:week )?)?` + dayEn + `$`)
	reWeekdayZh   = regexp.MustCompile(`^(?:第` + numZh + `(?:周|个星期|个)?\s*)?` + dayZh + `$`)
	reLastWdayZh  = regexp.MustCompile(`^最后一?(?:个|周)?\s*` + dayZh + `$`)
	reDayEn       = regexp.MustCompile(`^(?:day (\d{1,2})|(\d{1,2})(?:st|nd|rd|th)?)$`)
	reDayZh       = regexp.MustCompile(`^(\d{1,2})[日号]$`)
	reLastDay     = regexp.MustCompile(`^(last day|最后一天|月末)$`)
	reCronPrefix  = regexp.MustCompile(`^cron\s*:?\s*`)
	weekdayByName = map[string]time.Weekday{
		"monday": time.Monday, "mon": time.Monday, "tuesday": time.Tuesday, "tue": time.Tuesday, "tues": time.Tuesday,
		"wednesday": time.Wednesday, "wed": time.Wednesday, "thursday": time.Thursday, "thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday,
		"friday": time.Friday, "fri": time.Friday, "saturday": time.Saturday, "sat": time.Saturday, "sunday": time.Sunday, "sun": time.Sunday,
		"一": time.Monday, "二": time.Tuesday, "三": time.Wednesday, "四": time.Thursday, "五": time.Friday, "六": time.Saturday, "日": time.Sunday, "天": time.Sunday,
	}
	monthByName = map[string]int{
		"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6,
		"july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
	}
)

// periodPrefixes are the words that start a readable rule, longest first
// where one is a prefix of another.
var periodPrefixes = []struct {
	words  []string
	period periodKind
	months int
}{
	{[]string{"every working day", "every workday", "each working day", "every business day", "workdays", "每个工作日", "每工作日", "工作日"}, perDay, 0},
	{[]string{"weekly", "every week", "每周", "每星期", "每个星期"}, perWeek, 0},
	{[]string{"bimonthly", "bi-monthly", "every two months", "every 2 months", "每两个月", "每2个月", "每二个月", "双月"}, perMonths, 2},
	{[]string{"quarterly", "every quarter", "every three months", "every 3 months", "每季度", "每个季度", "每季", "每三个月", "每3个月"}, perMonths, 3},
	{[]string{"half-yearly", "half yearly", "semiannually", "semi-annually", "every six months", "every 6 months", "每半年", "每六个月", "每6个月"}, perMonths, 6},
	{[]string{"annually", "yearly", "every year", "每年"}, perMonths, 12},
	{[]string{"monthly", "every month", "每月", "每个月"}, perMonths, 1},
}

// ParseRule parses a rule as written in the configuration. loc is used
// to validate cron expressions; Next takes the zone again.
func ParseRule(text string, loc *time.Location) (*Rule, error) {
	s := normalize(text)
	if s == "" {
		return nil, fmt.Errorf("is empty; write e.g. %s", ruleExamples)
	}
	if strings.Contains(s, "tz=") {
		return nil, fmt.Errorf("%q: a rule may not set its own time zone; schedules run in the deployment's zone (timezone:)", text)
	}
	if cronText, ok := cronPart(s); ok {
		return parseCron(text, cronText, loc)
	}
	r := &Rule{text: strings.TrimSpace(text), hour: 9}
	s = strings.TrimSpace(reSpaces.ReplaceAllString(strings.ReplaceAll(s, ",", " "), " "))
	rest, ok := r.takePeriod(s)
	if !ok {
		return nil, fmt.Errorf("%q: start with how often (monthly, quarterly, annually, every 2 months, weekly, every working day, 每月, 每季度, 每年 …); write e.g. %s", text, ruleExamples)
	}
	rest, err := r.takeTime(rest)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", text, err)
	}
	rest = strings.TrimSpace(reSpaces.ReplaceAllString(reFiller.ReplaceAllString(rest, " "), " "))
	rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(rest, "的"), "的"))
	rest, err = r.takeMonth(rest)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", text, err)
	}
	if err := r.takeSelector(rest); err != nil {
		return nil, fmt.Errorf("%q: %w; write e.g. %s", text, err, ruleExamples)
	}
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("%q: %w", text, err)
	}
	return r, nil
}

func normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("：", ":", "，", " ", "、", " ", "　", " ").Replace(s)
	return strings.TrimSpace(reSpaces.ReplaceAllString(s, " "))
}

// cronPart returns the cron expression of s when s is one.
func cronPart(s string) (string, bool) {
	if m := reCronPrefix.FindString(s); m != "" && strings.HasPrefix(s, "cron") {
		return strings.TrimSpace(s[len(m):]), true
	}
	if strings.HasPrefix(s, "@") {
		return s, true
	}
	f := strings.Fields(s)
	if len(f) < 5 || len(f) > 6 {
		return "", false
	}
	for _, w := range f {
		if !reCronWord.MatchString(w) {
			return "", false
		}
	}
	return s, true
}

func parseCron(text, expr string, loc *time.Location) (*Rule, error) {
	// gocron's own cron implementation (robfig/cron, seconds optional), so
	// a rule means what it would mean to gocron's CronJob. The reference
	// time only checks that the expression matches some day at all.
	c := gocron.NewDefaultCron(true)
	if err := c.IsValid(expr, loc, time.Now()); err != nil {
		return nil, fmt.Errorf("%q: not a valid cron expression (minute hour day-of-month month day-of-week, an optional seconds field first): %v", text, err)
	}
	return &Rule{text: strings.TrimSpace(text), cronExpr: expr, cron: c}, nil
}

func (r *Rule) takePeriod(s string) (string, bool) {
	best, bestLen := -1, 0
	for i, p := range periodPrefixes {
		for _, w := range p.words {
			if strings.HasPrefix(s, w) && len(w) > bestLen {
				best, bestLen = i, len(w)
			}
		}
	}
	if best < 0 {
		return "", false
	}
	r.period, r.months = periodPrefixes[best].period, periodPrefixes[best].months
	rest := strings.TrimSpace(s[bestLen:])
	rest = strings.TrimSpace(strings.TrimPrefix(rest, ":"))
	return rest, true
}

func (r *Rule) takeTime(s string) (string, error) {
	if m := reTime.FindStringSubmatchIndex(s); m != nil {
		h, _ := strconv.Atoi(s[m[2]:m[3]])
		mi, _ := strconv.Atoi(s[m[4]:m[5]])
		if h > 23 || mi > 59 {
			return "", fmt.Errorf("%s:%s is not a time of day", s[m[2]:m[3]], s[m[4]:m[5]])
		}
		r.hour, r.minute = h, mi
		return strings.TrimSpace(s[:m[2]] + " " + s[m[5]:]), nil
	}
	if m := reTimeZh.FindStringSubmatch(s); m != nil {
		h, _ := strconv.Atoi(m[2])
		mi := 0
		switch {
		case m[3] == "半":
			mi = 30
		case m[4] != "":
			mi, _ = strconv.Atoi(m[4])
		}
		if (m[1] == "下午" || m[1] == "晚上") && h < 12 {
			h += 12
		}
		if h > 23 || mi > 59 {
			return "", fmt.Errorf("%s is not a time of day", m[0])
		}
		r.hour, r.minute = h, mi
		return strings.TrimSpace(strings.Replace(s, m[0], " ", 1)), nil
	}
	return s, nil
}

// takeMonth finds a month qualifier ("month 3", "第3个月", "December",
// "12月20日", "12-20") and returns the rest; an annual month-day sets the
// selector too.
func (r *Rule) takeMonth(s string) (string, error) {
	annualOnly := func(what string) error {
		if r.period != perMonths || r.months != 12 {
			return fmt.Errorf("%q names a calendar month, which only annual rules can (use \"month N\" / 第N个月 for the month within the period)", what)
		}
		return nil
	}
	if m := reMonthZh.FindStringSubmatch(s); m != nil {
		n, ok := zhNumber(m[1])
		if !ok {
			return "", fmt.Errorf("%q is not a month number", m[0])
		}
		r.month = n
		return strings.TrimSpace(strings.Replace(s, m[0], " ", 1)), nil
	}
	if m := reMonthNum.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1] + m[2])
		r.month = n
		return strings.TrimSpace(strings.Replace(s, strings.TrimSpace(m[0]), " ", 1)), nil
	}
	if m := reMDZh.FindStringSubmatch(s); m != nil {
		if err := annualOnly(m[0]); err != nil {
			return "", err
		}
		r.month, _ = strconv.Atoi(m[1])
		rest := strings.TrimSpace(strings.Replace(s, m[0], " ", 1))
		if m[2] != "" {
			if rest != "" {
				return "", fmt.Errorf("%q: a date and %q together", m[0], rest)
			}
			r.sel, r.n = selDay, atoi(m[2])
		}
		return rest, nil
	}
	if m := reMDNum.FindStringSubmatch(s); m != nil {
		if err := annualOnly(m[0]); err != nil {
			return "", err
		}
		r.month, r.sel, r.n = atoi(m[1]), selDay, atoi(m[2])
		return "", nil
	}
	if m := reMonthEn.FindStringSubmatch(s); m != nil {
		if err := annualOnly(m[0]); err != nil {
			return "", err
		}
		r.month = monthByName[m[1]]
		return strings.TrimSpace(reSpaces.ReplaceAllString(strings.Replace(s, m[0], " ", 1), " ")), nil
	}
	return s, nil
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func (r *Rule) takeSelector(s string) error {
	if r.sel != 0 {
		if s != "" {
			return fmt.Errorf("cannot read %q", s)
		}
		return nil
	}
	if s == "" {
		if r.period == perDay {
			r.sel, r.n = selWorkday, 1
			return nil
		}
		return fmt.Errorf("say which day of the period")
	}
	if r.period == perDay {
		return fmt.Errorf("cannot read %q after \"every working day\" (only a time may follow)", s)
	}
	for _, take := range []func(string) (bool, error){r.takeWorkday, r.takeWeekday, r.takeDay} {
		if ok, err := take(s); ok || err != nil {
			return err
		}
	}
	return fmt.Errorf("cannot read %q as a day (first working day, 2nd Tuesday, day 15 …)", s)
}

// takeWorkday reads s as a working day of the period (first working day,
// 倒数第二个工作日 …); ok is false when s is no such selector.
func (r *Rule) takeWorkday(s string) (ok bool, err error) {
	for i, re := range reWdEn {
		if m := re.FindStringSubmatch(s); m != nil {
			n, ok := ordinal(m[1])
			switch {
			case !ok:
				return true, fmt.Errorf("%q is not an ordinal", m[1])
			case i == 2:
				n = -n // second to last
			}
			r.sel, r.n = selWorkday, n
			return true, nil
		}
	}
	for i, re := range reWdZh {
		if m := re.FindStringSubmatch(s); m != nil {
			switch i {
			case 0:
				n := 1
				if m[2] == "" {
					var ok bool
					if n, ok = zhNumber(m[1]); !ok {
						return true, fmt.Errorf("%q is not an ordinal", m[1])
					}
				}
				r.sel, r.n = selWorkday, n
			case 1:
				r.sel, r.n = selWorkday, -1
			case 2:
				n, ok := zhNumber(m[1])
				if !ok {
					return true, fmt.Errorf("%q is not an ordinal", m[1])
				}
				r.sel, r.n = selWorkday, -n
			}
			return true, nil
		}
	}
	return false, nil
}

// takeWeekday reads s as a weekday of the period (2nd Tuesday, 第二个周二,
// 最后一个周五 …); ok is false when s is no such selector.
func (r *Rule) takeWeekday(s string) (ok bool, err error) {
	if m := reWeekdayEn.FindStringSubmatch(s); m != nil {
		n := 1
		if m[1] != "" {
			var ok bool
			if n, ok = ordinal(m[1]); !ok {
				return true, fmt.Errorf("%q is not an ordinal", m[1])
			}
		}
		r.sel, r.n, r.weekday = selWeekday, n, weekdayByName[m[2]]
		return true, nil
	}
	if m := reWeekdayZh.FindStringSubmatch(s); m != nil {
		n := 1
		if m[1] != "" {
			var ok bool
			if n, ok = zhNumber(m[1]); !ok {
				return true, fmt.Errorf("%q is not an ordinal", m[1])
			}
		}
		r.sel, r.n, r.weekday = selWeekday, n, weekdayByName[m[2]]
		return true, nil
	}
	if m := reLastWdayZh.FindStringSubmatch(s); m != nil {
		r.sel, r.n, r.weekday = selWeekday, -1, weekdayByName[m[1]]
		return true, nil
	}
	return false, nil
}

// takeDay reads s as a calendar day of the period (day 15, 15日, the
// last day); ok is false when s is no such selector.
func (r *Rule) takeDay(s string) (ok bool, err error) {
	if reLastDay.MatchString(s) {
		r.sel, r.n = selDay, -1
		return true, nil
	}
	if m := reDayEn.FindStringSubmatch(s); m != nil {
		r.sel, r.n = selDay, atoi(m[1]+m[2])
		return true, nil
	}
	if m := reDayZh.FindStringSubmatch(s); m != nil {
		r.sel, r.n = selDay, atoi(m[1])
		return true, nil
	}
	return false, nil
}

// check rejects combinations that name no day.
func (r *Rule) check() error {
	if r.period == perMonths && r.month != 0 {
		limit := r.months
		if r.months == 12 {
			limit = 12
		}
		if r.month < 1 || r.month > limit {
			return fmt.Errorf("month %d is outside the period of %d month(s)", r.month, r.months)
		}
		if r.months == 1 {
			return fmt.Errorf("a monthly rule cannot name a month")
		}
	}
	switch r.sel {
	case selDay:
		if r.period == perWeek {
			return fmt.Errorf("name a weekday for a weekly rule (weekly: Monday 09:00)")
		}
		if r.n == 0 || r.n > 31 {
			return fmt.Errorf("day %d does not exist", r.n)
		}
	case selWorkday:
		if r.n == 0 || r.n > 31 || r.n < -31 {
			return fmt.Errorf("working day %d does not exist", r.n)
		}
	case selWeekday:
		if r.n == 0 || r.n > 5 {
			return fmt.Errorf("there is no %d. weekday of that kind in a month", r.n)
		}
		if r.period == perWeek && r.n != 1 {
			return fmt.Errorf("a week has one of each weekday")
		}
	}
	return nil
}

// ordinal reads first, 2nd, 3, last.
func ordinal(s string) (int, bool) {
	switch s {
	case "first":
		return 1, true
	case "second":
		return 2, true
	case "third":
		return 3, true
	case "fourth":
		return 4, true
	case "fifth":
		return 5, true
	case "last":
		return -1, true
	}
	s = strings.TrimRight(s, "stndrh")
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

// zhNumber reads 1–99 written as digits or Chinese numerals (三, 十二,
// 二十一).
func zhNumber(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, n > 0
	}
	digits := map[rune]int{'一': 1, '二': 2, '两': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9}
	rs := []rune(s)
	switch {
	case len(rs) == 1 && rs[0] == '十':
		return 10, true
	case len(rs) == 1:
		n, ok := digits[rs[0]]
		return n, ok
	case len(rs) == 2 && rs[0] == '十':
		n, ok := digits[rs[1]]
		return 10 + n, ok
	case len(rs) == 2 && rs[1] == '十':
		n, ok := digits[rs[0]]
		return n * 10, ok
	case len(rs) == 3 && rs[1] == '十':
		a, ok1 := digits[rs[0]]
		b, ok2 := digits[rs[2]]
		return a*10 + b, ok1 && ok2
	}
	return 0, false
}
