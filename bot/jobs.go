package bot

import (
	"context"
	"fmt"
	"slices"
	"time"
)

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

// AddJob registers a periodic job.
func (b *Bot) AddJob(j Job) error {
	if j.Name == "" || j.Every <= 0 || j.Run == nil {
		return fmt.Errorf("bot: job %q needs a name, a period and a function", j.Name)
	}
	for _, o := range b.jobs {
		if o.Name == j.Name {
			return fmt.Errorf("bot: job %q registered twice", j.Name)
		}
	}
	b.jobs = append(b.jobs, j)
	return nil
}

// Jobs returns the registered jobs.
func (b *Bot) Jobs() []Job { return append([]Job(nil), b.jobs...) }

// RunJobs runs every job once at now, in registration order, and returns
// the first error after trying them all. Tests call it after moving the
// fake clock.
func (b *Bot) RunJobs(ctx context.Context, now time.Time) error {
	var first error
	for _, j := range b.jobs {
		if err := j.Run(ctx, now); err != nil {
			b.Log.Error("job failed", "job", j.Name, "err", err)
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
func (b *Bot) AddTask(t Task) error {
	if t.Name == "" || t.Run == nil {
		return fmt.Errorf("bot: task %q needs a name and a function", t.Name)
	}
	if _, dup := b.tasks[t.Name]; dup {
		return fmt.Errorf("bot: task %q registered twice", t.Name)
	}
	if b.tasks == nil {
		b.tasks = map[string]Task{}
	}
	b.tasks[t.Name] = t
	return nil
}

// Task returns the task named name.
func (b *Bot) Task(name string) (Task, bool) {
	t, ok := b.tasks[name]
	return t, ok
}

// TaskNames returns the registered task names, sorted.
func (b *Bot) TaskNames() []string {
	out := make([]string, 0, len(b.tasks))
	for n := range b.tasks {
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
