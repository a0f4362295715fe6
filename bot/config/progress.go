package config

// ProgressConfig holds the rectification-progress settings (整改进度).
type ProgressConfig struct {
	// EscalateMonths: a unit overdue or unreported this many months in a
	// row is reported to the leader in charge.
	EscalateMonths int `yaml:"escalate_months"`
}

func (c *ProgressConfig) defaults() {
	if c.EscalateMonths == 0 {
		c.EscalateMonths = 2
	}
}

func (c *ProgressConfig) validate() []error {
	if c.EscalateMonths < 1 {
		return []error{fieldErr("progress.escalate_months", "must be at least 1")}
	}
	return nil
}
