package consult

import (
	"errors"
	"fmt"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// SettingsSection is the key of the consult settings in the
// configuration.
const SettingsSection = "consult"

// Settings holds the pre-inspection information requests (巡前征询), the
// consult section of the configuration.
type Settings struct {
	// Departments are the body ids asked by default; empty means every
	// consulted_dept body.
	Departments []string `yaml:"departments"`
	// DeadlineDays is the working days a department has to answer
	// (default 5).
	DeadlineDays int `yaml:"deadline_days"`
	// EscalateDays is the working days after the reminder before the
	// inspection office is told (default 2).
	EscalateDays int `yaml:"escalate_days"`
}

// SettingsOf returns the consult settings of c, with defaults filled and
// checked against the roster: every department must be a consulted_dept
// body.
func SettingsOf(c *config.Config) (Settings, error) {
	var s Settings
	if err := c.Section(SettingsSection, &s); err != nil {
		return s, err
	}
	var errs []error
	if s.DeadlineDays < 0 {
		errs = append(errs, config.FieldErr("consult.deadline_days", "must be a number of working days (0 or left out: 5), not %d", s.DeadlineDays))
	}
	if s.EscalateDays < 0 {
		errs = append(errs, config.FieldErr("consult.escalate_days", "must be a number of working days (0 or left out: 2), not %d", s.EscalateDays))
	}
	if s.DeadlineDays <= 0 {
		s.DeadlineDays = 5
	}
	if s.EscalateDays <= 0 {
		s.EscalateDays = 2
	}
	r := c.Roster(nil) // bodies and memberships only: no platform ids needed
	for i, d := range s.Departments {
		if bd, ok := r.Body(d); !ok || bd.Kind != bot.ConsultedDept {
			errs = append(errs, config.FieldErr(fmt.Sprintf("consult.departments[%d]", i), "%q is not a consulted_dept body", d))
		}
	}
	return s, errors.Join(errs...)
}

func check(c *config.Config) error {
	_, err := SettingsOf(c)
	return err
}
