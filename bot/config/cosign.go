package config

import (
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// CosignConfig holds the co-signature settings (三方共同签字).
type CosignConfig struct {
	// Reminder is how long a party may leave a request unsigned before its
	// members are reminded.
	Reminder time.Duration `yaml:"reminder"`
	// Templates add co-signature forms beyond the built-in three-party
	// (three) and six-party (six) ones; checked at start-up.
	Templates []bot.CosignTemplate `yaml:"templates"`
}

func (c *CosignConfig) defaults() {
	if c.Reminder == 0 {
		c.Reminder = 48 * time.Hour
	}
}

func (c *CosignConfig) validate() []error {
	if c.Reminder < time.Hour {
		return []error{fieldErr("cosign.reminder", "must be at least 1h, not %s", c.Reminder)}
	}
	return nil
}
