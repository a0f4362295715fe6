package config

// ScheduleConfig is one cadence: a readable rule, the task it runs and
// how. bot/schedule compiles and validates it at start-up (every error
// names the key, e.g. schedules[2].rule).
//
//   - name: work_meeting
//     title: 月度工作例会
//     rule: "monthly: first working day 09:00"   # or 每月 第一个工作日 09:00, or a cron expression
//     job: meeting.notice
//     group: coordination
//     notice: 3wd          # the task runs 3 working days before the rule's time
//     remind: 1h           # meetings: a reminder 1 hour before
//     meeting: {kind: work, place: 区委巡察办三楼会议室}
type ScheduleConfig struct {
	// Name identifies the schedule (lower-case letters, digits, '_', '-',
	// '.'); its run history is stored under it.
	Name string `yaml:"name"`
	// Title is what people read in listings and reports, e.g. 月度工作例会.
	Title string `yaml:"title"`
	// Rule says when: "monthly: first working day 09:00",
	// "quarterly: 2nd week Tuesday 14:30", "annually: December 20",
	// "every 2 months: last working day 15:00", "weekly: Monday 09:00",
	// "every working day 17:30", their Chinese forms (每月 第一个工作日
	// 09:00), or a cron expression ("cron: 0 9 1 * *", seconds optional),
	// always in the deployment's time zone.
	Rule string `yaml:"rule"`
	// Job names the task to run (bot.Task), e.g. meeting.notice,
	// progress.monthly_notice, clue.quarterly_summary.
	Job string `yaml:"job"`
	// Group is the chat group the task posts to; empty: the task's
	// notice group (notices.<area>).
	Group string `yaml:"group"`
	// Template is the message text, with {placeholders} the task
	// documents; empty: the task's default text from the catalog.
	Template string `yaml:"template"`
	// Notice is the lead time: the task runs this long before the rule's
	// time ("3d" calendar days, "3wd" working days, "2h"); empty: at the
	// rule's time. Lead times in days never land on a day off.
	Notice string `yaml:"notice"`
	// Remind is how long before a meeting its reminder goes out ("1h").
	Remind string `yaml:"remind"`
	// OnHoliday says what happens when the rule's day is not a working
	// day: move (default: to the next working day, and the notice says
	// so), keep, or skip.
	OnHoliday string `yaml:"on_holiday"`
	// CatchUp is how late a run missed while no process was up may still
	// happen: same_day (default: the same day as the planned run), none, or
	// a duration ("4h"). Later than that the missed run is reported to the
	// inspection office instead.
	CatchUp string `yaml:"catch_up"`
	// Meeting describes the meeting a meeting.notice schedule convenes.
	Meeting MeetingScheduleConfig `yaml:"meeting"`
	// Disabled keeps the schedule in the file but never runs it.
	Disabled bool `yaml:"disabled"`
}

// MeetingScheduleConfig is the meeting a schedule convenes.
type MeetingScheduleConfig struct {
	// Kind is work (工作例会), joint (联席会), review (总结点评会) or other.
	Kind  string `yaml:"kind"`
	Place string `yaml:"place"`
	// Agenda lists standing agenda items; open items (overdue clues,
	// unsigned co-signatures, unreported units, the last meeting's
	// decisions) are added automatically.
	Agenda []string `yaml:"agenda"`
}
