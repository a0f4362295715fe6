package schedule_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/schedule"
)

// officeTexts returns the texts sent to the inspection office's work group.
func officeTexts(env *bottest.Env) []string {
	var out []string
	for _, m := range env.Adapter.Sent() {
		if m.ChatID == "巡察办工作群" {
			out = append(out, m.Text)
		}
	}
	return out
}

// At every test instant, and on 2027-12-01: when the next 90 days reach
// a year the holiday table does not know (2028 on), the office's work
// group is told once per missing year, in its language, whoever checks
// again (another replica on the same store, the next day); when they do
// not, nothing is sent.
func TestCalendarGapIsToldToTheOfficeOncePerYear(t *testing.T) {
	instants := append([]bottest.Instant{{Name: "2027-12-01 09:00 (the next 90 days reach 2028)", T: time.Date(2027, 12, 1, 9, 0, 0, 0, bottest.Shanghai)}}, bottest.Instants...)
	for _, in := range instants {
		t.Run(in.Name, func(t *testing.T) {
			now := in.T
			env := bottest.New(t, bottest.WithClock(bottest.NewClock(now)))
			w := schedule.NewCalendarWatch(env.Bot, env.Config)
			ctx := context.Background()
			cov, err := w.Check(ctx, now)
			if err != nil {
				t.Fatal(err)
			}
			var want []int
			for y := now.Year(); y <= now.AddDate(0, 0, 90).Year(); y++ {
				if y >= 2028 {
					want = append(want, y)
				}
			}
			if len(cov.Uncovered) != len(want) {
				t.Fatalf("uncovered %v, want %v", cov.Uncovered, want)
			}
			texts := officeTexts(env)
			if len(texts) != len(want) {
				t.Fatalf("office told %d times, want %d (years %v): %q", len(texts), len(want), want, texts)
			}
			for i, y := range want {
				if !strings.Contains(texts[i], "节假日表尚未包含 "+strconv.Itoa(y)+" 年") || !strings.Contains(texts[i], "holidays.table") {
					t.Errorf("message %d: %q, want it to name %d and holidays.table", i, texts[i], y)
				}
			}
			// Again the next day, and from a second process on the same store.
			if _, err := w.Check(ctx, now.AddDate(0, 0, 1)); err != nil {
				t.Fatal(err)
			}
			other := bottest.New(t, bottest.WithStore(env.Store), bottest.WithClock(bottest.NewClock(now)))
			if _, err := schedule.NewCalendarWatch(other.Bot, other.Config).Check(ctx, now); err != nil {
				t.Fatal(err)
			}
			if n := len(officeTexts(env)) + len(officeTexts(other)); n != len(texts) {
				t.Errorf("office told %d times after checking again, want still %d", n, len(texts))
			}
		})
	}
}

// With the office's 2028 table loaded, the gap closes: December 2027
// sends nothing and the coverage is complete.
func TestLoadedTableClosesTheGap(t *testing.T) {
	cfg, err := config.Parse(append(config.DemoYAML(), []byte(`
holidays:
  table:
    - year: 2028
      holidays:
        - {name: 元旦, from: 2028-01-01, to: 2028-01-01}
`)...))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 12, 1, 9, 0, 0, 0, bottest.Shanghai)
	env := bottest.New(t, bottest.WithConfig(cfg), bottest.WithClock(bottest.NewClock(now)))
	cov, err := schedule.NewCalendarWatch(env.Bot, env.Config).Check(context.Background(), now)
	if err != nil || !cov.OK() {
		t.Fatalf("coverage %+v, %v; want complete", cov, err)
	}
	if texts := officeTexts(env); len(texts) != 0 {
		t.Errorf("office told %q with the table loaded", texts)
	}
}
