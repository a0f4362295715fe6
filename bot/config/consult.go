package config

// ConsultConfig holds the pre-inspection information requests (巡前征询).
type ConsultConfig struct {
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

// WithDefaults returns c with its unset fields filled.
func (c ConsultConfig) WithDefaults() ConsultConfig {
	if c.DeadlineDays <= 0 {
		c.DeadlineDays = 5
	}
	if c.EscalateDays <= 0 {
		c.EscalateDays = 2
	}
	return c
}

// RoundConfig holds the inspection-round settings (巡察轮次).
type RoundConfig struct {
	// ImmediateDeadlineDays is the deadline of an immediate-fix item made
	// from a situation report, in calendar days (default 7).
	ImmediateDeadlineDays int `yaml:"immediate_deadline_days"`
}

// WithDefaults returns c with its unset fields filled.
func (c RoundConfig) WithDefaults() RoundConfig {
	if c.ImmediateDeadlineDays <= 0 {
		c.ImmediateDeadlineDays = 7
	}
	return c
}
