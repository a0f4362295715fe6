package clue

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// SettingsSection is the key of the clue settings in the configuration.
const SettingsSection = "clue"

// Settings holds the clue-transfer settings (问题线索移送), the clue
// section of the configuration.
type Settings struct {
	// Group is the discipline-only group for clue announcements (its key
	// under groups). It must list the bodies that sit in it, and none of
	// their members may belong to a responsible unit: validation refuses
	// it otherwise. Without it (and without the older notices.clue), no
	// group card is posted; the receiving body still gets its DMs.
	Group string `yaml:"group"`
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
	// DeadlineReminderDays: a clue being handled (acknowledged or under
	// verification) is reminded to its receiving body once when this many
	// working days or fewer are left before its handling deadline.
	DeadlineReminderDays int `yaml:"deadline_reminder_days"`
}

// SettingsOf returns the clue settings of c, with defaults filled and
// checked (Check's errors).
func SettingsOf(c *config.Config) (Settings, error) {
	var s Settings
	if err := c.Section(SettingsSection, &s); err != nil {
		return s, err
	}
	s.defaults()
	errs := s.validate()
	errs = append(errs, validateGroup(c, s)...)
	return s, errors.Join(errs...)
}

func check(c *config.Config) error {
	_, err := SettingsOf(c)
	return err
}

func (c *Settings) defaults() {
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
	if c.DeadlineReminderDays == 0 {
		c.DeadlineReminderDays = 3
	}
}

func (c *Settings) validate() []error {
	var errs []error
	if c.DeadlineDays < 1 || c.DeadlineDays > 365 {
		errs = append(errs, config.FieldErr("clue.deadline_days", "must be between 1 and 365, not %d", c.DeadlineDays))
	}
	if c.AckReminder < time.Hour {
		errs = append(errs, config.FieldErr("clue.ack_reminder", "must be at least 1h, not %s", c.AckReminder))
	}
	if c.AckEscalate < c.AckReminder {
		errs = append(errs, config.FieldErr("clue.ack_escalate", "must not be shorter than clue.ack_reminder"))
	}
	if c.PriorityFactor < 1 {
		errs = append(errs, config.FieldErr("clue.priority_factor", "must be at least 1"))
	}
	if c.DeadlineReminderDays < 1 || c.DeadlineReminderDays > 30 {
		errs = append(errs, config.FieldErr("clue.deadline_reminder_days", "must be between 1 and 30, not %d", c.DeadlineReminderDays))
	}
	return errs
}

// GroupOf returns the discipline-only group that receives clue
// announcements: clue.group, else the older notices.clue; "" when
// neither is set, and then no group card is posted at all. key names
// the setting it came from.
func (s Settings) GroupOf(c *config.Config) (group, key string) {
	if s.Group != "" {
		return s.Group, "clue.group"
	}
	if g := c.Notices["clue"]; g != "" {
		return g, "notices.clue"
	}
	return "", ""
}

// GroupBodies returns the bodies that sit in the clue group: those it
// lists and those whose own group it is, in configuration order.
func (s Settings) GroupBodies(c *config.Config) []string {
	g, _ := s.GroupOf(c)
	return c.GroupBodies(g)
}

// validateGroup refuses a clue group that is not discipline-only: it
// must say which bodies sit in it, and no member of any of them may be a
// member of a responsible (inspected) unit, which would learn from the
// cards that clues about it exist.
func validateGroup(c *config.Config, s Settings) []error {
	g, key := s.GroupOf(c)
	if g == "" {
		return nil
	}
	gc, ok := c.Groups[g]
	if !ok {
		if key == "clue.group" { // notices.* is checked with the others
			return []error{config.FieldErr(key, "unknown group %q", g)}
		}
		return nil
	}
	kinds := map[string]config.BodyConfig{}
	for _, b := range c.Bodies {
		kinds[b.ID] = b
	}
	var errs []error
	for i, id := range gc.Bodies {
		if _, ok := kinds[id]; !ok {
			errs = append(errs, config.FieldErr(fmt.Sprintf("groups.%s.bodies[%d]", g, i), "unknown body %q", id))
		}
	}
	sitting := s.GroupBodies(c)
	if len(sitting) == 0 {
		return append(errs, config.FieldErr(key, "the clue group %q must list the bodies that sit in it (groups.%s.bodies), so that it can be checked to be discipline-only", g, g))
	}
	unit := func(id string) string {
		b := kinds[id]
		return fmt.Sprintf("%s (%s)", b.Name, b.ID)
	}
	for _, id := range sitting {
		if bot.PartyKind(kinds[id].Kind) == bot.ResponsibleUnit {
			errs = append(errs, config.FieldErr(key, "the clue group %q is not discipline-only: the responsible unit %s sits in it; clue notices must never reach an inspected unit", g, unit(id)))
		}
	}
	for _, p := range c.People {
		var in, resp string
		for _, b := range p.Bodies {
			if slices.Contains(sitting, b) && in == "" {
				in = b
			}
			if bot.PartyKind(kinds[b].Kind) == bot.ResponsibleUnit && resp == "" {
				resp = b
			}
		}
		if in != "" && resp != "" && in != resp {
			errs = append(errs, config.FieldErr(key, "the clue group %q is not discipline-only: %s (%s) sits in it as a member of %s and is a member of the responsible unit %s; clue notices must never reach an inspected unit", g, p.Name, p.ID, unit(in), unit(resp)))
		}
	}
	return errs
}
