package round

import (
	"github.com/xunji-bot/xunji/bot/config"
)

// SettingsSection is the key of the round settings in the configuration.
const SettingsSection = "round"

// Settings holds the inspection-round settings (巡察轮次), the round
// section of the configuration.
type Settings struct {
	// ImmediateDeadlineDays is the deadline of an immediate-fix item made
	// from a situation report, in calendar days (default 7).
	ImmediateDeadlineDays int `yaml:"immediate_deadline_days"`
}

// SettingsOf returns the round settings of c, with defaults filled and
// checked.
func SettingsOf(c *config.Config) (Settings, error) {
	var s Settings
	if err := c.Section(SettingsSection, &s); err != nil {
		return s, err
	}
	if s.ImmediateDeadlineDays < 0 {
		return s, config.FieldErr("round.immediate_deadline_days", "must be a number of calendar days (0 or left out: 7), not %d", s.ImmediateDeadlineDays)
	}
	if s.ImmediateDeadlineDays == 0 {
		s.ImmediateDeadlineDays = 7
	}
	return s, nil
}

func check(c *config.Config) error {
	_, err := SettingsOf(c)
	return err
}
