package bot

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Jobs is the part of a Bot that holds the periodic jobs and the named
// tasks that command packages register.
type Jobs struct {
	b     *Bot
	jobs  []Job
	tasks map[string]Task
}

// Job is periodic background work a command package needs, such as
// sending reminders for unacknowledged clues. The scheduler (cmd/xunji,
// on gocron) runs each job every Every; jobs must be idempotent, because a
// run can repeat after a crash, and must decide what is due from the
// clock they are given, so tests drive them with a fake clock.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context, now time.Time) error
}

// Add registers a periodic job.
func (js *Jobs) Add(j Job) error {
	if j.Name == "" || j.Every <= 0 || j.Run == nil {
		return fmt.Errorf("bot: job %q needs a name, a period and a function", j.Name)
	}
	for _, o := range js.jobs {
		if o.Name == j.Name {
			return fmt.Errorf("bot: job %q registered twice", j.Name)
		}
	}
	js.jobs = append(js.jobs, j)
	return nil
}

// All returns the registered jobs.
func (js *Jobs) All() []Job { return append([]Job(nil), js.jobs...) }

// Run runs every job once at now, in registration order, and returns
// the first error after trying them all. Tests call it after moving the
// fake clock.
func (js *Jobs) Run(ctx context.Context, now time.Time) error {
	var first error
	for _, j := range js.jobs {
		if err := j.Run(ctx, now); err != nil {
			js.b.Log.Error("job failed", "job", j.Name, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// Task is work that runs on a calendar rule from the configuration
// ("monthly: first working day 09:00"), as opposed to a Job's fixed
// period: the monthly progress notice, the case office's quarterly clue
// summary, meeting notices. Command packages register tasks by name; the
// scheduler (bot/schedule) runs the task a schedule names, once across
// replicas, and passes the scheduled time it is running for.
type Task struct {
	Name string // e.g. "clue.quarterly_summary"
	Run  func(ctx context.Context, at time.Time) error
}

// AddTask registers a scheduled task.
func (js *Jobs) AddTask(t Task) error {
	if t.Name == "" || t.Run == nil {
		return fmt.Errorf("bot: task %q needs a name and a function", t.Name)
	}
	if _, dup := js.tasks[t.Name]; dup {
		return fmt.Errorf("bot: task %q registered twice", t.Name)
	}
	if js.tasks == nil {
		js.tasks = map[string]Task{}
	}
	js.tasks[t.Name] = t
	return nil
}

// Task returns the task named name.
func (js *Jobs) Task(name string) (Task, bool) {
	t, ok := js.tasks[name]
	return t, ok
}

// TaskNames returns the registered task names, sorted.
func (js *Jobs) TaskNames() []string {
	out := make([]string, 0, len(js.tasks))
	for n := range js.tasks {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Office hours: reminders and notices a job sends on its own go out on
// working days between OfficeOpen and OfficeClose (local time); one that
// falls due outside waits for the next run inside.
const (
	OfficeOpen  = 9
	OfficeClose = 18
)

// OfficeHours reports whether t (in loc) is a working day between
// OfficeOpen and OfficeClose.
func OfficeHours(cal Calendar, loc *time.Location, t time.Time) bool {
	t = t.In(loc)
	return cal.IsWorkday(t) && t.Hour() >= OfficeOpen && t.Hour() < OfficeClose
}
