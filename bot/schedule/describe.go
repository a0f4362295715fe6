package schedule

import "fmt"

// Describe renders the rule in the reader's language with t, a catalog
// lookup (keys schedule.rule.*), so a rule configured in English reads
// in Chinese and the other way round. A cron rule is shown as written:
// it has no words to translate.
func (r *Rule) Describe(t func(key string, args ...any) string) string {
	if r.cron != nil {
		return r.text
	}
	at := fmt.Sprintf("%02d:%02d", r.hour, r.minute)
	if r.period == perDay {
		return t("schedule.rule.every_workday", "time", at)
	}
	period := t("schedule.rule.weekly")
	if r.period == perMonths {
		period = t(fmt.Sprintf("schedule.rule.months.%d", r.months))
	}
	where := ""
	switch {
	case r.month > 0 && r.months == 12:
		where = t(fmt.Sprintf("schedule.rule.month_of_year.%d", r.month))
	case r.month > 0:
		where = t("schedule.rule.month_of_period", "n", r.month)
	}
	return t("schedule.rule.line", "period", period, "month", where, "day", r.describeDay(t), "time", at)
}

// describeDay renders the selector: which day of the period.
func (r *Rule) describeDay(t func(key string, args ...any) string) string {
	switch r.sel {
	case selWorkday:
		switch {
		case r.n == 1:
			return t("schedule.rule.workday.first")
		case r.n == -1:
			return t("schedule.rule.workday.last")
		case r.n < 0:
			return t("schedule.rule.workday.from_end", "n", -r.n)
		}
		return t("schedule.rule.workday.nth", "n", r.n)
	case selWeekday:
		day := t(fmt.Sprintf("schedule.rule.weekday.%d", int(r.weekday)))
		switch {
		case r.period == perWeek && r.n == 1:
			return day
		case r.n < 0:
			return t("schedule.rule.weekday.last", "weekday", day)
		}
		if r.n <= 5 {
			return t("schedule.rule.weekday.nth", "ord", t(fmt.Sprintf("schedule.rule.ord.%d", r.n)), "weekday", day)
		}
		return t("schedule.rule.weekday.nth", "ord", r.n, "weekday", day)
	case selDay:
		switch {
		case r.n < 0:
			return t("schedule.rule.day.last")
		case r.month > 0 && r.months == 12:
			return t("schedule.rule.day.of_month", "n", r.n)
		}
		return t("schedule.rule.day.nth", "n", r.n)
	}
	return ""
}

// Describe renders the lead time in the reader's language.
func (l Lead) Describe(t func(key string, args ...any) string) string {
	switch {
	case l.Workdays > 0:
		return t("schedule.span.workdays", "n", l.Workdays)
	case l.Days > 0:
		return t("schedule.span.days", "n", l.Days)
	}
	return DescribeDuration(l.D, t)
}

// DescribeDuration renders d as hours and minutes in the reader's
// language ("2 小时 30 分钟", "1 hour").
func DescribeDuration(d interface{ Minutes() float64 }, t func(key string, args ...any) string) string {
	m := int(d.Minutes())
	h, m := m/60, m%60
	switch {
	case h > 0 && m > 0:
		return t("schedule.span.hours", "n", h) + " " + t("schedule.span.minutes", "n", m)
	case h > 0:
		return t("schedule.span.hours", "n", h)
	}
	return t("schedule.span.minutes", "n", m)
}
