package schedule

import (
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/i18n"
)

// A rule reads in the reader's language whatever language it was
// configured in: Chinese answers carry no English rule words, English
// ones no Chinese; a cron expression is shown as written.
func TestRuleDescribedInTheReadersLanguage(t *testing.T) {
	cat := i18n.MustLoad()
	for _, tc := range []struct{ rule, zh, en string }{
		{"monthly: first working day 09:00", "每月第一个工作日 09:00", "monthly: first working day at 09:00"},
		{"每月 第一个工作日 09:00", "每月第一个工作日 09:00", "monthly: first working day at 09:00"},
		{"quarterly: 2nd week Tuesday 14:30", "每季度第二个周二 14:30", "quarterly: second Tuesday at 14:30"},
		{"annually: December 20 09:30", "每年12月20日 09:30", "annually: December 20 at 09:30"},
		{"every 2 months: last working day 15:00", "每两个月最后一个工作日 15:00", "every 2 months: last working day at 15:00"},
		{"每月 倒数第二个工作日 17:00", "每月倒数第2个工作日 17:00", "monthly: working day 2 from the end at 17:00"},
		{"weekly: Monday 09:00", "每周周一 09:00", "weekly: Monday at 09:00"},
		{"every working day 17:30", "每个工作日 17:30", "every working day at 17:30"},
		{"monthly: 7th working day 15:00", "每月第7个工作日 15:00", "monthly: working day 7 at 15:00"},
		{"每月 15日", "每月15日 09:00", "monthly: day 15 at 09:00"},
		{"cron: 0 9 1 * *", "cron: 0 9 1 * *", "cron: 0 9 1 * *"},
	} {
		r, err := ParseRule(tc.rule, time.UTC)
		if err != nil {
			t.Fatalf("%q: %v", tc.rule, err)
		}
		zh := r.Describe(func(k string, a ...any) string { return cat.T(i18n.ZH, k, a...) })
		en := r.Describe(func(k string, a ...any) string { return cat.T(i18n.EN, k, a...) })
		if zh != tc.zh || en != tc.en {
			t.Errorf("%q: zh %q en %q, want %q and %q", tc.rule, zh, en, tc.zh, tc.en)
		}
	}
	for _, tc := range []struct{ lead, zh, en string }{
		{"3wd", "3 个工作日", "3 working days"}, {"1个工作日", "1 个工作日", "1 working day"},
		{"2d", "2 天", "2 days"}, {"90m", "1 小时 30 分钟", "1 hour 30 minutes"}, {"1h", "1 小时", "1 hour"},
	} {
		l, err := ParseLead(tc.lead)
		if err != nil {
			t.Fatal(err)
		}
		zh := l.Describe(func(k string, a ...any) string { return cat.T(i18n.ZH, k, a...) })
		en := l.Describe(func(k string, a ...any) string { return cat.T(i18n.EN, k, a...) })
		if zh != tc.zh || en != tc.en {
			t.Errorf("lead %q: zh %q en %q, want %q and %q", tc.lead, zh, en, tc.zh, tc.en)
		}
	}
}
