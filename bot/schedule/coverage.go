package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/workday"
)

// CoverageDays is how far ahead the holiday calendar must know the
// official holidays: a schedule's next runs and a working-day deadline
// fall within it.
const CoverageDays = 90

// CollCalendarWarnings records, one document per year, that the office
// was told the calendar does not know that year: the message goes once,
// across replicas and restarts.
const CollCalendarWarnings = "calendar_warnings"

// Coverage is what the holiday calendar knows of the next CoverageDays
// days.
type Coverage struct {
	Through   string `json:"through"`                   // the last day looked at, 2006-01-02
	Uncovered []int  `json:"uncovered_years,omitempty"` // years of those days it does not know
}

// OK reports whether every day is covered.
func (c Coverage) OK() bool { return len(c.Uncovered) == 0 }

// CalendarCoverage returns the coverage of the CoverageDays days after now.
func CalendarCoverage(cal *workday.Calendar, now time.Time) Coverage {
	return Coverage{
		Through:   now.In(cal.Location()).AddDate(0, 0, CoverageDays).Format(time.DateOnly),
		Uncovered: cal.Uncovered(now, CoverageDays),
	}
}

// CalendarWatch warns loudly when the holiday calendar does not cover
// the next CoverageDays days (lunar-go's table stops at 2027; the office
// loads later years in holidays.table): an error log line at most once a
// day in each process, and one message per missing year to the
// inspection office's work group (ReportGroup), recorded in the store so
// that replicas and restarts send it once.
type CalendarWatch struct {
	b     *bot.Bot
	cal   *workday.Calendar
	group string

	mu     sync.Mutex
	logged string // the local day last logged
}

// NewCalendarWatch returns the watch of cfg's calendar.
func NewCalendarWatch(b *bot.Bot, cfg *config.Config) *CalendarWatch {
	return &CalendarWatch{b: b, cal: cfg.Calendar(), group: ReportGroup(cfg)}
}

// Coverage returns the calendar's coverage at now.
func (w *CalendarWatch) Coverage(now time.Time) Coverage { return CalendarCoverage(w.cal, now) }

// Job checks every hour; it logs once a day and tells the office once
// per missing year.
func (w *CalendarWatch) Job() bot.Job {
	return bot.Job{Name: "calendar.coverage", Every: time.Hour, Run: func(ctx context.Context, now time.Time) error {
		_, err := w.Check(ctx, now)
		return err
	}}
}

// errTold is a year the office was told about already.
var errTold = errors.New("calendar gap already reported")

// Check looks at the coverage at now, logs a gap (once per local day)
// and tells the office of each missing year not told before.
func (w *CalendarWatch) Check(ctx context.Context, now time.Time) (Coverage, error) {
	cov := w.Coverage(now)
	if cov.OK() {
		return cov, nil
	}
	day := now.In(w.cal.Location()).Format(time.DateOnly)
	w.mu.Lock()
	logNow := w.logged != day
	w.logged = day
	w.mu.Unlock()
	if logNow {
		w.b.Log.Error("the holiday calendar does not know the official holidays of the coming days: load the State Council's table in holidays.table",
			"uncovered_years", cov.Uncovered, "through", cov.Through, "days", CoverageDays)
	}
	var errs []error
	for _, y := range cov.Uncovered {
		err := w.b.RunUnit(ctx, func(ctx context.Context) error {
			doc, _ := json.Marshal(map[string]string{"told": now.UTC().Format(time.RFC3339), "through": cov.Through})
			if err := w.b.Store.Create(ctx, CollCalendarWarnings, strconv.Itoa(y), doc); err != nil {
				if bot.ErrorCode(err) == bot.ECONFLICT {
					return errTold
				}
				return err
			}
			text := w.b.T(w.b.Lang, "schedule.calendar.uncovered", "year", y, "through", cov.Through)
			_, err := w.b.Out.Notify(ctx, bot.Notice{Group: w.group, Text: text, Key: "calendar-gap:" + strconv.Itoa(y)})
			return err
		})
		if err != nil && !errors.Is(err, errTold) {
			errs = append(errs, err)
		}
	}
	return cov, errors.Join(errs...)
}
