package config

import (
	"strings"
	"testing"
	"time"
)

// The office's holiday table loads from the YAML and answers; a table
// with overlapping holidays is refused with where and why.
func TestHolidayTableFromYAML(t *testing.T) {
	base := string(DemoYAML())
	good := base + `
holidays:
  table:
    - year: 2028
      holidays:
        - {name: 国庆节, from: 2028-10-01, to: 2028-10-07}
      workdays: [2028-10-08]
`
	c, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	cal := c.Calendar()
	loc := c.Location()
	if cal.IsWorkday(time.Date(2028, 10, 3, 10, 0, 0, 0, loc)) || !cal.IsWorkday(time.Date(2028, 10, 8, 10, 0, 0, 0, loc)) || !cal.Covers(2028) {
		t.Errorf("the 2028 table is not applied")
	}
	bad := base + `
holidays:
  table:
    - year: 2028
      holidays:
        - {name: 中秋节, from: 2028-10-01, to: 2028-10-03}
        - {name: 国庆节, from: 2028-10-02, to: 2028-10-07}
`
	_, err = Parse([]byte(bad))
	if err == nil || !strings.Contains(err.Error(), "holidays.table[0] (2028).holidays[1] 国庆节 (2028-10-02 to 2028-10-07) overlaps") {
		t.Errorf("Parse with overlapping holidays = %v", err)
	}
}
