package progress

import (
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot/config"
)

func TestProgressConfigValidation(t *testing.T) {
	c, err := config.Parse([]byte("progress: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := SettingsOf(c)
	if err != nil {
		t.Fatal(err)
	}
	if p.CollectDays != 5 || p.EscalateMonths != 2 || len(p.Reminders) != 2 || p.OfficeHours != "09:00-18:00" || p.SpecialCount != 2 {
		t.Errorf("defaults %+v", p)
	}
	for yaml, key := range map[string]string{
		"progress: {reminders: [{before_days: 0, at: '20:00'}]}": "progress.reminders[0].at",
		"progress: {reminders: [{before_days: 0, at: 'noon'}]}":  "progress.reminders[0].at",
		"progress: {reminders: [{before_days: 5, at: '10:00'}]}": "progress.reminders[0].before_days",
		"progress: {office_hours: '18:00-09:00'}":                "progress.office_hours",
		"progress: {collect_days: 40}":                           "progress.collect_days",
		"progress: {escalate_months: -1}":                        "progress.escalate_months",
		"progress: {chart_width: 10}":                            "progress.chart_width",
		"progress: {special_count: 99}":                          "progress.special_count",
	} {
		c, err := config.Parse([]byte(yaml + "\n"))
		if err == nil {
			_, err = SettingsOf(c)
		}
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v, want an error naming %s", yaml, err, key)
		}
	}
}

func TestMonthIDs(t *testing.T) {
	for in, want := range map[string]string{"2027-01": "2026-12", "2026-12": "2026-11", "bad": ""} {
		if got := PrevMonthID(in); got != want {
			t.Errorf("PrevMonthID(%s) = %s, want %s", in, got, want)
		}
	}
}
