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
	Templates []CosignTemplate `yaml:"templates"`
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

// CosignTemplate describes one kind of co-signature as data: the three-
// party signature of an immediate-fix item (三方共同签字), the six-party
// joint evaluation (六方联评), or any other a deployment configures.
type CosignTemplate struct {
	Name    string   `json:"name" yaml:"name"`       // e.g. "three"
	Aliases []string `json:"aliases" yaml:"aliases"` // names users type, e.g. "三方"
	// Title and TitleEn name the template on cards; built-in templates
	// leave them empty and use the catalog (cosign.template.<name>).
	Title    string       `json:"title,omitempty" yaml:"title"`
	TitleEn  string       `json:"title_en,omitempty" yaml:"title_en"`
	Roles    []CosignRole `json:"roles" yaml:"roles"`
	Order    string       `json:"order" yaml:"order"`       // cosign.OrderFree or cosign.OrderSequential
	Subjects []string     `json:"subjects" yaml:"subjects"` // allowed subject kinds, the first is the default
	// HandoverTo names the role whose body takes over supervision of the
	// rectification when every party has confirmed (监督整改责任移交); empty
	// when completion hands nothing over.
	HandoverTo string `json:"handover_to,omitempty" yaml:"handover_to"`
}

// CosignRole is one party of a template.
type CosignRole struct {
	Key     string          `json:"key" yaml:"key"`         // e.g. "inspection_team"
	Kinds   []bot.PartyKind `json:"kinds" yaml:"kinds"`     // bodies of these kinds may fill the role
	Options []string        `json:"options" yaml:"options"` // command-line option names, e.g. "team", "巡察组"
	// Label and LabelEn name the role; built-in roles use the catalog
	// (cosign.role.<key>).
	Label   string `json:"label,omitempty" yaml:"label"`
	LabelEn string `json:"label_en,omitempty" yaml:"label_en"`
}
