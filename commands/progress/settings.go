package progress

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// SettingsSection is the key of the progress settings in the
// configuration.
const SettingsSection = "progress"

// Settings holds the rectification-progress settings (整改进度), the
// progress section of the configuration.
type Settings struct {
	// EscalateMonths: a unit overdue or unreported this many months in a
	// row is reported to the leader in charge (约谈提醒).
	EscalateMonths int `yaml:"escalate_months"`
	// CollectDays is how many working days after the monthly collection
	// prompt the units have to report; the last of them is the deadline
	// day (the prompt's own day does not count).
	CollectDays int `yaml:"collect_days"`
	// Reminders say when units that have not reported are reminded,
	// relative to the deadline day, counted in working days.
	Reminders []Reminder `yaml:"reminders"`
	// OfficeHours bound every reminder: "09:00-18:00". Reminders are sent
	// on working days within them only, never at night or on holidays.
	OfficeHours string `yaml:"office_hours"`
	// SpecialCount is how many of the weakest organisations the monthly
	// notice names as candidates for special inspection (专项督查).
	SpecialCount int `yaml:"special_count"`
	// Contacts name, per responsible unit (body id), the people who get
	// the collection prompt by direct message when the unit has no group.
	// Without an entry every member of the unit is asked.
	Contacts map[string][]string `yaml:"contacts"`
	// NoticeTo names the collaborating bodies that also receive the
	// monthly notice, each only what it is entitled to: body ids or party
	// kinds (supervision_room, stationed_group, supervisor_office,
	// grassroots_commission, case_office). Left out, the bodies the
	// speech names as the office's partners in the relay follow-up get
	// it; an empty list sends it to the inspection office's group only.
	NoticeTo []string `yaml:"notice_to"`
	// ChartWidth and ChartHeight are the notice chart's size in pixels.
	ChartWidth  int `yaml:"chart_width"`
	ChartHeight int `yaml:"chart_height"`
}

// Reminder is one reminder of the monthly collection.
type Reminder struct {
	// BeforeDays is the number of working days before the deadline day;
	// 0 is the deadline day itself.
	BeforeDays int `yaml:"before_days"`
	// At is the time of day, "10:00", within the office hours.
	At string `yaml:"at"`
}

// SettingsOf returns the progress settings of c, with defaults filled
// and checked, also against the roster: the contacts must be people of
// responsible units, notice_to bodies or kinds.
func SettingsOf(c *config.Config) (Settings, error) {
	var s Settings
	if err := c.Section(SettingsSection, &s); err != nil {
		return s, err
	}
	s.defaults()
	errs := s.validate()
	if len(errs) == 0 {
		errs = s.validateRoster(c.Roster(nil)) // bodies and memberships only
	}
	return s, errors.Join(errs...)
}

// SetSettings replaces the progress settings of c (tests, tools).
func SetSettings(c *config.Config, s Settings) { c.SetSection(SettingsSection, s) }

func check(c *config.Config) error {
	_, err := SettingsOf(c)
	return err
}

// validateRoster checks the settings that name bodies and people.
func (c *Settings) validateRoster(r *bot.Roster) []error {
	for unit, people := range c.Contacts {
		if u, ok := r.Body(unit); !ok || u.Kind != bot.ResponsibleUnit {
			return []error{fmt.Errorf("progress.contacts: %q is not a responsible unit", unit)}
		}
		for _, p := range people {
			if _, ok := r.Person(p); !ok {
				return []error{fmt.Errorf("progress.contacts.%s: unknown person %q", unit, p)}
			}
		}
	}
	if _, err := noticeBodies(r, c.NoticeTo); err != nil {
		return []error{err}
	}
	return nil
}

func (c *Settings) defaults() {
	if c.EscalateMonths == 0 {
		c.EscalateMonths = 2
	}
	if c.CollectDays == 0 {
		c.CollectDays = 5
	}
	if c.Reminders == nil {
		c.Reminders = []Reminder{{BeforeDays: 1, At: "10:00"}, {BeforeDays: 0, At: "15:00"}}
	}
	if c.OfficeHours == "" {
		c.OfficeHours = "09:00-18:00"
	}
	if c.SpecialCount == 0 {
		c.SpecialCount = 2
	}
	if c.NoticeTo == nil {
		c.NoticeTo = []string{"supervision_room", "stationed_group", "supervisor_office", "grassroots_commission", "case_office"}
	}
	if c.ChartWidth == 0 {
		c.ChartWidth = 1200
	}
	if c.ChartHeight == 0 {
		c.ChartHeight = 700
	}
}

func (c *Settings) validate() []error {
	var errs []error
	if c.EscalateMonths < 1 {
		errs = append(errs, config.FieldErr("progress.escalate_months", "must be at least 1"))
	}
	if c.CollectDays < 1 || c.CollectDays > 20 {
		errs = append(errs, config.FieldErr("progress.collect_days", "must be between 1 and 20 working days, not %d", c.CollectDays))
	}
	open, closing, err := c.Hours()
	if err != nil {
		errs = append(errs, config.FieldErr("progress.office_hours", "%v", err))
	}
	for i, r := range c.Reminders {
		key := fmt.Sprintf("progress.reminders[%d]", i)
		if r.BeforeDays < 0 || r.BeforeDays >= c.CollectDays {
			errs = append(errs, config.FieldErr(key+".before_days", "must be between 0 and collect_days-1 (%d), not %d", c.CollectDays-1, r.BeforeDays))
		}
		at, err := clock(r.At)
		switch {
		case err != nil:
			errs = append(errs, config.FieldErr(key+".at", "%v", err))
		case open > 0 || closing > 0:
			if at < open || at >= closing {
				errs = append(errs, config.FieldErr(key+".at", "%s is outside the office hours %s", r.At, c.OfficeHours))
			}
		}
	}
	if c.SpecialCount < 0 || c.SpecialCount > 20 {
		errs = append(errs, config.FieldErr("progress.special_count", "must be between 0 and 20, not %d", c.SpecialCount))
	}
	if c.ChartWidth < 300 || c.ChartWidth > 4000 {
		errs = append(errs, config.FieldErr("progress.chart_width", "must be between 300 and 4000 pixels, not %d", c.ChartWidth))
	}
	if c.ChartHeight < 200 || c.ChartHeight > 4000 {
		errs = append(errs, config.FieldErr("progress.chart_height", "must be between 200 and 4000 pixels, not %d", c.ChartHeight))
	}
	return errs
}

// Hours returns the office hours as offsets from midnight.
func (c *Settings) Hours() (open, closing time.Duration, err error) {
	a, b, ok := strings.Cut(c.OfficeHours, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a range like 09:00-18:00", c.OfficeHours)
	}
	if open, err = clock(strings.TrimSpace(a)); err != nil {
		return 0, 0, err
	}
	if closing, err = clock(strings.TrimSpace(b)); err != nil {
		return 0, 0, err
	}
	if closing <= open {
		return 0, 0, fmt.Errorf("%q ends before it starts", c.OfficeHours)
	}
	return open, closing, nil
}

// ReminderOffset returns reminder i's time of day as an offset from
// midnight.
func (c *Settings) ReminderOffset(i int) time.Duration {
	d, _ := clock(c.Reminders[i].At)
	return d
}

// clock parses "10:00" into an offset from midnight.
func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time like 10:00", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}
