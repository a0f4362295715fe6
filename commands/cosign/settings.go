package cosign

import (
	"errors"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// SettingsSection is the key of the co-signature settings in the
// configuration.
const SettingsSection = "cosign"

// Settings holds the co-signature settings (三方共同签字), the cosign
// section of the configuration.
type Settings struct {
	// Reminder is how long a party may leave a request unsigned before its
	// members are reminded.
	Reminder time.Duration `yaml:"reminder"`
	// Templates add co-signature forms beyond the built-in three-party
	// (three) and six-party (six) ones; checked at start-up.
	Templates []Template `yaml:"templates"`
}

// SettingsOf returns the co-signature settings of c, with defaults
// filled and checked: the reminder, and the configured templates with
// the built-in ones (ValidateTemplates).
func SettingsOf(c *config.Config) (Settings, error) {
	var s Settings
	if err := c.Section(SettingsSection, &s); err != nil {
		return s, err
	}
	s.defaults()
	errs := s.validate()
	if err := ValidateTemplates(s.AllTemplates()); err != nil {
		errs = append(errs, err)
	}
	return s, errors.Join(errs...)
}

// SetSettings replaces the co-signature settings of c (tests, tools).
func SetSettings(c *config.Config, s Settings) { c.SetSection(SettingsSection, s) }

// AllTemplates are the built-in templates and those of the settings; the
// first is the default.
func (c Settings) AllTemplates() []Template {
	return append(Builtin(), c.Templates...)
}

func check(c *config.Config) error {
	_, err := SettingsOf(c)
	return err
}

func (c *Settings) defaults() {
	if c.Reminder == 0 {
		c.Reminder = 48 * time.Hour
	}
}

func (c *Settings) validate() []error {
	if c.Reminder < time.Hour {
		return []error{config.FieldErr("cosign.reminder", "must be at least 1h, not %s", c.Reminder)}
	}
	return nil
}

// Template describes one kind of co-signature as data: the three-
// party signature of an immediate-fix item (三方共同签字), the six-party
// joint evaluation (六方联评), or any other a deployment configures.
type Template struct {
	Name    string   `json:"name" yaml:"name"`       // e.g. "three"
	Aliases []string `json:"aliases" yaml:"aliases"` // names users type, e.g. "三方"
	// Title and TitleEn name the template on cards; built-in templates
	// leave them empty and use the catalog (cosign.template.<name>).
	Title    string   `json:"title,omitempty" yaml:"title"`
	TitleEn  string   `json:"title_en,omitempty" yaml:"title_en"`
	Roles    []Role   `json:"roles" yaml:"roles"`
	Order    string   `json:"order" yaml:"order"`       // cosign.OrderFree or cosign.OrderSequential
	Subjects []string `json:"subjects" yaml:"subjects"` // allowed subject kinds, the first is the default
	// HandoverTo names the role whose body takes over supervision of the
	// rectification when every party has confirmed (监督整改责任移交); empty
	// when completion hands nothing over.
	HandoverTo string `json:"handover_to,omitempty" yaml:"handover_to"`
}

// Role is one party of a template.
type Role struct {
	Key     string          `json:"key" yaml:"key"`         // e.g. "inspection_team"
	Kinds   []bot.PartyKind `json:"kinds" yaml:"kinds"`     // bodies of these kinds may fill the role
	Options []string        `json:"options" yaml:"options"` // command-line option names, e.g. "team", "巡察组"
	// Label and LabelEn name the role; built-in roles use the catalog
	// (cosign.role.<key>).
	Label   string `json:"label,omitempty" yaml:"label"`
	LabelEn string `json:"label_en,omitempty" yaml:"label_en"`
}
