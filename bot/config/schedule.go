package config

// ScheduleConfig is one cadence (the scheduling issue fills in the rules).
type ScheduleConfig struct {
	Name  string `yaml:"name"`
	Rule  string `yaml:"rule"`
	Group string `yaml:"group"`
	Job   string `yaml:"job"`
}
