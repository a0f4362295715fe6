package config

import (
	"time"
)

// ClueConfig holds the clue-transfer settings (问题线索移送).
type ClueConfig struct {
	// DeadlineDays is the default handling deadline, in calendar days.
	DeadlineDays int `yaml:"deadline_days"`
	// AckReminder is how long an unacknowledged clue waits before the
	// receiving body is reminded, e.g. "48h". It is counted in working
	// time: only time on working days counts, so 48h is 2 working days.
	// Reminders go out only 09:00–18:00 on working days.
	AckReminder time.Duration `yaml:"ack_reminder"`
	// AckEscalate is how long before the inspection office is told.
	AckEscalate time.Duration `yaml:"ack_escalate"`
	// PriorityFactor divides the reminder times for priority clues.
	PriorityFactor int `yaml:"priority_factor"`
}

func (c *ClueConfig) defaults() {
	if c.DeadlineDays == 0 {
		c.DeadlineDays = 30
	}
	if c.AckReminder == 0 {
		c.AckReminder = 48 * time.Hour
	}
	if c.AckEscalate == 0 {
		c.AckEscalate = 96 * time.Hour
	}
	if c.PriorityFactor == 0 {
		c.PriorityFactor = 2
	}
}

func (c *ClueConfig) validate() []error {
	var errs []error
	if c.DeadlineDays < 1 || c.DeadlineDays > 365 {
		errs = append(errs, fieldErr("clue.deadline_days", "must be between 1 and 365, not %d", c.DeadlineDays))
	}
	if c.AckReminder < time.Hour {
		errs = append(errs, fieldErr("clue.ack_reminder", "must be at least 1h, not %s", c.AckReminder))
	}
	if c.AckEscalate < c.AckReminder {
		errs = append(errs, fieldErr("clue.ack_escalate", "must not be shorter than clue.ack_reminder"))
	}
	if c.PriorityFactor < 1 {
		errs = append(errs, fieldErr("clue.priority_factor", "must be at least 1"))
	}
	return errs
}
