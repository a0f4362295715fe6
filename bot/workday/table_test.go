package workday_test

import (
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/workday"
)

// A 2028 table as the office would type it from the State Council's
// notice (the dates here are illustrative).
var table2028 = workday.Year{
	Year: 2028,
	Holidays: []workday.Period{
		{Name: "元旦", From: "2028-01-01", To: "2028-01-03"},
		{Name: "劳动节", From: "2028-05-01", To: "2028-05-05"},
		{Name: "国庆节", From: "2028-10-01", To: "2028-10-07"},
	},
	Workdays: []string{"2028-04-29", "2028-10-08"},
}

// The years the built-in table knows are covered; from 2028 on they are
// not, until the office loads the year's table. At each test instant the
// next 90 days are uncovered exactly in the years past 2027 that they
// reach.
func TestCoverageOfTheNext90Days(t *testing.T) {
	builtin, err := workday.New(bottest.Shanghai, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := workday.New(bottest.Shanghai, nil, nil, table2028)
	if err != nil {
		t.Fatal(err)
	}
	if !builtin.Covers(2026) || !builtin.Covers(2027) || builtin.Covers(2028) || builtin.Covers(2029) {
		t.Fatalf("built-in coverage 2026..2029: %v %v %v %v, want true true false false",
			builtin.Covers(2026), builtin.Covers(2027), builtin.Covers(2028), builtin.Covers(2029))
	}
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		var want, wantLoaded []int
		end := now.AddDate(0, 0, 90)
		for y := now.Year(); y <= end.Year(); y++ {
			if y >= 2028 {
				want = append(want, y)
				if y != 2028 {
					wantLoaded = append(wantLoaded, y)
				}
			}
		}
		if got := builtin.Uncovered(now, 90); !equal(got, want) {
			t.Errorf("Uncovered(%s, 90) = %v, want %v", now.Format(time.DateOnly), got, want)
		}
		if got := loaded.Uncovered(now, 90); !equal(got, wantLoaded) {
			t.Errorf("with the 2028 table, Uncovered(%s, 90) = %v, want %v", now.Format(time.DateOnly), got, wantLoaded)
		}
	})
	// December 2027: the next 90 days reach into 2028.
	dec := time.Date(2027, 12, 1, 9, 0, 0, 0, bottest.Shanghai)
	if got := builtin.Uncovered(dec, 90); !equal(got, []int{2028}) {
		t.Errorf("Uncovered(2027-12-01, 90) = %v, want [2028]", got)
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A loaded year answers from the office's table: its holidays are days
// off with their names, its make-up days are working days, and its other
// weekdays are working days.
func TestConfiguredYearAnswers(t *testing.T) {
	c, err := workday.New(bottest.Shanghai, nil, nil, table2028)
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time {
		d, err := time.ParseInLocation(time.DateOnly+" 15:04", s+" 10:00", bottest.Shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		date string
		work bool
		name string
	}{
		{"2028-05-02", false, "劳动节"}, // a Tuesday off
		{"2028-10-05", false, "国庆节"},
		{"2028-04-29", true, ""},  // a make-up Saturday
		{"2028-10-08", true, ""},  // a make-up Sunday
		{"2028-10-09", true, ""},  // an ordinary Monday
		{"2028-10-14", false, ""}, // an ordinary Saturday
	} {
		if got := c.IsWorkday(day(tc.date)); got != tc.work {
			t.Errorf("IsWorkday(%s) = %v, want %v", tc.date, got, tc.work)
		}
		if name, _ := c.Holiday(day(tc.date)); name != tc.name {
			t.Errorf("Holiday(%s) = %q, want %q", tc.date, name, tc.name)
		}
	}
	// The first working day after National Day 2028 is the make-up Sunday.
	if got := c.OnOrAfter(day("2028-10-01")); got.Format(time.DateOnly) != "2028-10-08" {
		t.Errorf("OnOrAfter(2028-10-01) = %s, want 2028-10-08", got.Format(time.DateOnly))
	}
}

// A malformed table is refused with an error saying where and what.
func TestTableIsValidated(t *testing.T) {
	for _, tc := range []struct {
		name string
		year workday.Year
		want string
	}{
		{"malformed date", workday.Year{Year: 2028, Holidays: []workday.Period{{Name: "国庆节", From: "2028-10-1"}}},
			`holidays.table[0] (2028).holidays[0] 国庆节: from "2028-10-1" is not a date like 2028-10-01`},
		{"end before start", workday.Year{Year: 2028, Holidays: []workday.Period{{Name: "国庆节", From: "2028-10-07", To: "2028-10-01"}}},
			"to 2028-10-01 is before from 2028-10-07"},
		{"overlapping holidays", workday.Year{Year: 2028, Holidays: []workday.Period{
			{Name: "中秋节", From: "2028-10-01", To: "2028-10-03"}, {Name: "国庆节", From: "2028-10-03", To: "2028-10-08"}}},
			"holidays.table[0] (2028).holidays[1] 国庆节 (2028-10-03 to 2028-10-08) overlaps holidays.table[0] (2028).holidays[0] 中秋节"},
		{"make-up day inside a holiday", workday.Year{Year: 2028, Holidays: []workday.Period{{Name: "国庆节", From: "2028-10-01", To: "2028-10-07"}},
			Workdays: []string{"2028-10-03"}},
			"holidays.table[0] (2028).workdays[0]: 2028-10-03 is a working day inside holidays.table[0] (2028).holidays[0] 国庆节"},
		{"holiday in another year", workday.Year{Year: 2028, Holidays: []workday.Period{{Name: "国庆节", From: "2029-10-01", To: "2029-10-07"}}},
			"2029-10-01 to 2029-10-07 is not in 2028"},
		{"no year", workday.Year{Holidays: []workday.Period{{From: "2028-10-01"}}},
			"holidays.table[0]: year 0 is not a year like 2028"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := workday.New(bottest.Shanghai, nil, nil, tc.year)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if _, err := workday.New(bottest.Shanghai, nil, nil, table2028, table2028); err == nil || !strings.Contains(err.Error(), "already in holidays.table[0]") {
		t.Errorf("a year given twice: %v", err)
	}
}
