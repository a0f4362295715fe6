package schedule

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// CollRuns is the store collection of run histories, one document per
// schedule name.
const CollRuns = "schedule_runs"

// Run statuses (RunState.LastStatus).
const (
	StatusOK       = "ok"       // ran on time
	StatusLate     = "late"     // ran late, catching up within the window
	StatusMissed   = "missed"   // not run; reported to the inspection office
	StatusBaseline = "baseline" // first sight of a new schedule: nothing was expected before
	StatusFailed   = "failed"   // the last attempt failed; it is retried within the window
)

// Timings of a Runner.
const (
	// DefaultLease is how long a claimed run is reserved for the process
	// that claimed it. A process that dies mid-run blocks the run this
	// long at most; then another process retries it.
	DefaultLease = 10 * time.Minute
	// DefaultRecheck is how often each schedule is looked at between its
	// occurrences, so a failed or interrupted run is retried.
	DefaultRecheck = 5 * time.Minute
)

// ErrNoTask is returned when a schedule names a task no package registered.
var ErrNoTask = errors.New("schedule: no such task")

// RunState is the run history of one schedule.
type RunState struct {
	Schedule string `json:"schedule"`
	// LastAt is the occurrence (Occurrence.At) last run, reported missed
	// or taken as the baseline; it only moves forward.
	LastAt     time.Time `json:"last_at"`
	LastFire   time.Time `json:"last_fire"`
	LastStatus string    `json:"last_status"`
	RanAt      time.Time `json:"ran_at"`           // clock time of the last run or report
	RanBy      string    `json:"ran_by,omitempty"` // process instance
	Runs       int       `json:"runs"`
	Missed     int       `json:"missed"`
	// Pending is an occurrence whose last attempt failed, with the error.
	Pending   time.Time `json:"pending,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	Failures  int       `json:"failures,omitempty"`
}

// Run describes the scheduled run a task was started for; the task reads
// it from its context with RunFrom.
type Run struct {
	Schedule string // schedule name
	Title    string // the schedule's configured title, "" if none
	Task     string
	Group    string // target group; "" for the task's default
	Template string // message template; "" for the task's default
	// At is the occurrence the task runs for (also its at argument): the
	// meeting time, the notice date. Planned is the rule's time before a
	// move off a day off, Holiday the official holiday it fell in.
	At      time.Time
	Planned time.Time
	Holiday string
	Fire    time.Time     // when the task was due to run
	Late    bool          // catching up after the planned time
	Remind  time.Duration // reminder lead before the event (meetings)
	Meeting config.MeetingScheduleConfig
	// Key identifies the run across processes, for idempotent sends
	// (bot.Notice.Key) and records: "work_meeting@2026-12-01T09:00:00+08:00".
	Key string
}

// Moved reports whether the occurrence was moved off a day off.
func (r *Run) Moved() bool { return !r.At.Equal(r.Planned) }

type runKey struct{}

// WithRun returns ctx carrying run, as the Runner passes it to tasks
// (tests of a task use it directly).
func WithRun(ctx context.Context, run *Run) context.Context {
	return context.WithValue(ctx, runKey{}, run)
}

// RunFrom returns the scheduled run a task was started for; false when
// the task was started otherwise.
func RunFrom(ctx context.Context) (*Run, bool) {
	r, ok := ctx.Value(runKey{}).(*Run)
	return r, ok && r != nil
}

// Runner runs the schedules of one bot.
type Runner struct {
	b        *bot.Bot
	scheds   []*Schedule
	byName   map[string]*Schedule
	report   string
	lease    time.Duration
	recheck  time.Duration
	instance string
	now      func() time.Time
	runs     bot.Collection[RunState]
	observe  func(schedule, status string)

	mu   sync.Mutex
	done map[string]time.Time // last known LastAt per schedule
}

// Option configures a Runner.
type Option func(*Runner)

// WithObserver calls f with each recorded outcome (StatusOK, StatusLate
// for a catch-up, StatusMissed, StatusFailed, StatusBaseline), for metrics.
func WithObserver(f func(schedule, status string)) Option {
	return func(r *Runner) { r.observe = f }
}

// WithInstance names this process in the run history (default host:pid).
func WithInstance(name string) Option { return func(r *Runner) { r.instance = name } }

// New compiles the configured schedules for b. Call it after every
// command package has registered its tasks: a schedule naming an unknown
// task is logged now and reported to the inspection office when it
// comes due.
func New(b *bot.Bot, cfg *config.Config, opts ...Option) (*Runner, error) {
	scheds, err := Compile(cfg.Schedules, b.Loc, b.Cal, cfg.Groups)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	r := &Runner{
		b: b, scheds: scheds, byName: map[string]*Schedule{}, report: ReportGroup(cfg),
		lease: DefaultLease, recheck: DefaultRecheck, instance: fmt.Sprintf("%s:%d", host, os.Getpid()),
		now: b.Now, runs: bot.Records[RunState](b.Store, CollRuns), done: map[string]time.Time{},
	}
	for _, o := range opts {
		o(r)
	}
	for _, s := range scheds {
		r.byName[s.Name] = s
		if _, ok := b.Jobs.Task(s.Task); !ok {
			b.Log.Error("schedule names a task no package registered", "schedule", s.Name, "task", s.Task, "tasks", strings.Join(b.Jobs.TaskNames(), ","))
		}
	}
	return r, nil
}

// ReportGroup returns the group told about missed runs: notices.schedule,
// else the group of the inspection office, else notices.summary.
func ReportGroup(cfg *config.Config) string {
	if g, ok := cfg.Notices["schedule"]; ok {
		return g
	}
	for _, b := range cfg.Bodies {
		if b.Kind == string(bot.InspectionOffice) && b.Group != "" {
			return b.Group
		}
	}
	return cfg.NoticeGroup("summary")
}

// Schedules returns the compiled schedules in configuration order.
func (r *Runner) Schedules() []*Schedule { return slices.Clone(r.scheds) }

// State returns the run history of a schedule (zero before its first run).
func (r *Runner) State(ctx context.Context, name string) (RunState, error) {
	return LoadState(ctx, r.b.Store, name)
}

// LoadState returns the run history of the schedule name in s.
func LoadState(ctx context.Context, s bot.Store, name string) (RunState, error) {
	st, err := bot.Records[RunState](s, CollRuns).Get(ctx, name)
	switch {
	case bot.IsNotFound(err):
		return RunState{Schedule: name}, nil
	case err != nil:
		return RunState{}, err
	}
	return *st, nil
}

// Tick looks at every schedule at now and runs what is due, like
// bot.Bot.Jobs.Run; it returns the first error after trying them all.
func (r *Runner) Tick(ctx context.Context, now time.Time) error {
	var first error
	for _, s := range r.scheds {
		if err := r.CheckAt(ctx, s.Name, now); err != nil {
			r.b.Log.Error("schedule check failed", "schedule", s.Name, "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

func (r *Runner) cached(name string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.done[name]
	return t, ok
}

func (r *Runner) remember(name string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at.After(r.done[name]) {
		r.done[name] = at
	}
}

// CheckAt runs the schedule name if an occurrence is due at now and no
// process has run (or reported) it yet. Exactly one process runs each
// occurrence: it claims the occurrence in the shared store first, and the
// run history moves past it once done. An occurrence missed while no
// process was up runs late within the schedule's catch-up window; older
// ones are reported to the inspection office instead.
func (r *Runner) CheckAt(ctx context.Context, name string, now time.Time) error {
	s := r.byName[name]
	if s == nil {
		return fmt.Errorf("schedule: no schedule %q", name)
	}
	now = now.In(s.loc)
	latest, ok := s.Last(now)
	if !ok {
		return nil
	}
	if d, ok := r.cached(name); ok && !d.Before(latest.At) {
		return nil // done, as far as this process knows; no store round trip
	}
	st, err := r.State(ctx, name)
	if err != nil {
		return err
	}
	if !st.LastAt.Before(latest.At) {
		r.remember(name, st.LastAt)
		return nil
	}
	st, ok, err = r.claim(ctx, name, latest)
	if err != nil || !ok {
		return err
	}
	var missed []Occurrence
	if !st.LastAt.IsZero() {
		if all := s.Between(st.LastAt, now, 50); len(all) > 1 {
			missed = all[:len(all)-1]
		}
	}
	switch {
	case s.InWindow(latest, now):
		if err := r.runDue(ctx, s, latest, now, len(missed)); err != nil {
			return err
		}
	case st.LastAt.IsZero():
		// A schedule seen for the first time owes nothing from before.
		r.b.Log.Info("new schedule: starting after its last occurrence", "schedule", name, "last", latest.Key())
		if err := r.record(ctx, s, latest, StatusBaseline, now, 0, nil); err != nil {
			return err
		}
		return nil
	default:
		missed = append(missed, latest)
		if err := r.record(ctx, s, latest, StatusMissed, now, len(missed), nil); err != nil {
			return err
		}
	}
	if len(missed) > 0 {
		failure := ""
		if st.LastStatus == StatusFailed && !st.Pending.IsZero() {
			failure = st.LastError
		}
		if err := r.reportMissed(ctx, s, missed, failure); err != nil {
			r.b.Log.Error("reporting a missed run", "schedule", name, "err", err)
		}
	}
	return nil
}

// claim takes occurrence latest of schedule name for this process. ok is
// false when another process has it (or had it within the lease), or
// when the run history, read again after the claim, is already past it:
// a process may have completed it before our claim (its own claim having
// expired since). st is that run history.
func (r *Runner) claim(ctx context.Context, name string, latest Occurrence) (st RunState, ok bool, err error) {
	first, err := r.b.Store.Claim(ctx, "run:"+name+":"+latest.Key(), r.lease)
	if err != nil || !first {
		return st, false, err
	}
	if st, err = r.State(ctx, name); err != nil {
		return st, false, err
	}
	if !st.LastAt.Before(latest.At) {
		r.remember(name, st.LastAt)
		return st, false, nil
	}
	return st, true, nil
}

// runDue runs occurrence o of s, due now (late when past the scheduler's
// jitter), and records it with the count of runs missed before it; a
// failure is recorded as such and returned.
func (r *Runner) runDue(ctx context.Context, s *Schedule, o Occurrence, now time.Time, missed int) error {
	status := StatusOK
	if now.Sub(o.Fire) > catchUpTolerance {
		status = StatusLate
	}
	// The task's work and the record that it ran are one unit of work: a
	// process that dies in between has done neither, and the next look
	// runs it once.
	err := r.b.RunUnit(ctx, func(ctx context.Context) error {
		if err := r.run(ctx, s, o, now); err != nil {
			return err
		}
		return r.record(ctx, s, o, status, now, missed, nil)
	})
	if err != nil {
		r.b.Log.Error("scheduled task failed", "schedule", s.Name, "task", s.Task, "at", o.Key(), "err", err)
		if rerr := r.record(ctx, s, o, StatusFailed, now, 0, err); rerr != nil {
			r.b.Log.Error("recording a failed run", "schedule", s.Name, "err", rerr)
		}
		return err
	}
	return nil
}

// run starts the schedule's task for o.
func (r *Runner) run(ctx context.Context, s *Schedule, o Occurrence, now time.Time) (err error) {
	t, ok := r.b.Jobs.Task(s.Task)
	if !ok {
		return fmt.Errorf("%w %q", ErrNoTask, s.Task)
	}
	run := &Run{
		Schedule: s.Name, Title: s.Title, Task: s.Task, Group: s.Group, Template: s.Template,
		At: o.At, Planned: o.Planned, Holiday: o.Holiday, Fire: o.Fire, Late: now.Sub(o.Fire) > catchUpTolerance,
		Remind: s.Remind, Meeting: s.Meeting, Key: s.Name + "@" + o.Key(),
	}
	defer func() {
		if p := recover(); p != nil {
			r.b.Log.Error("scheduled task panicked", "schedule", s.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("task %s panicked: %v", s.Task, p)
		}
	}()
	r.b.Log.Info("running scheduled task", "schedule", s.Name, "task", s.Task, "at", o.Key(), "late", run.Late, "instance", r.instance)
	return t.Run(WithRun(ctx, run), o.At)
}

// record writes the outcome for o to the run history and the audit log.
func (r *Runner) record(ctx context.Context, s *Schedule, o Occurrence, status string, now time.Time, missed int, runErr error) error {
	if r.observe != nil {
		bot.AfterCommit(ctx, func(context.Context) { r.observe(s.Name, status) })
	}
	apply := func(st *RunState) error {
		st.Schedule = s.Name
		if status == StatusFailed {
			if !st.Pending.Equal(o.At) {
				st.Failures = 0
			}
			st.Pending, st.LastError, st.LastStatus = o.At, shortError(runErr), StatusFailed
			st.Failures++
			return nil
		}
		if o.At.After(st.LastAt) {
			st.LastAt, st.LastFire = o.At, o.Fire
		}
		st.LastStatus, st.RanAt, st.RanBy = status, now, r.instance
		st.Pending, st.Failures = time.Time{}, 0
		if status != StatusMissed {
			st.LastError = ""
		}
		if status == StatusOK || status == StatusLate {
			st.Runs++
		}
		st.Missed += missed
		return nil
	}
	if _, err := r.runs.Update(ctx, s.Name, apply); bot.IsNotFound(err) {
		st := RunState{}
		_ = apply(&st)
		if err := r.runs.Create(ctx, s.Name, &st); bot.ErrorCode(err) == bot.ECONFLICT {
			_, err = r.runs.Update(ctx, s.Name, apply)
			return err
		} else if err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if status != StatusFailed {
		bot.AfterCommit(ctx, func(context.Context) { r.remember(s.Name, o.At) })
	}
	detail := fmt.Sprintf("at=%s status=%s by=%s", o.Key(), status, r.instance)
	if runErr != nil {
		detail += " error=" + shortError(runErr)
	}
	return r.b.Audit.Result(ctx, nil, "schedule.run", s.Name, detail, bot.ResultOK)
}

func shortError(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

// reportMissed tells the inspection office which runs of s did not
// happen, so nothing is missed silently.
func (r *Runner) reportMissed(ctx context.Context, s *Schedule, missed []Occurrence, failure string) error {
	lang := r.b.Lang
	var times []string
	for i, o := range missed {
		if i == 5 {
			times = append(times, "…")
			break
		}
		times = append(times, bot.FormatTime(o.Fire, s.loc))
	}
	reason := r.b.T(lang, "schedule.missed.down")
	switch {
	case failure != "" && strings.Contains(failure, ErrNoTask.Error()):
		reason = r.b.T(lang, "schedule.missed.no_task", "task", s.Task)
	case failure != "":
		reason = r.b.T(lang, "schedule.missed.failed")
	}
	text := r.b.T(lang, "schedule.missed", "title", s.Label(), "name", s.Name, "count", len(missed), "times", strings.Join(times, r.b.T(lang, "list.sep")), "reason", reason)
	_, err := r.b.Out.Notify(ctx, bot.Notice{Group: r.report, Text: text, Key: "missed:" + s.Name + "@" + missed[len(missed)-1].Key()})
	return err
}

// wake is the gocron.Cron of a schedule's job: gocron calls Next to
// learn when to wake the Runner next — at the schedule's next occurrence,
// or at the next recheck if that comes first.
type wake struct {
	r *Runner
	s *Schedule
}

func (w wake) IsValid(string, *time.Location, time.Time) error { return nil }

func (w wake) Next(last time.Time) time.Time {
	now := w.r.now().In(w.s.loc)
	if last.Before(now) {
		last = now
	}
	next := last.Truncate(w.r.recheck).Add(w.r.recheck) // aligned, so replicas wake together and one takes the lock
	if o, ok := w.s.Next(last); ok && o.Fire.Before(next) {
		next = o.Fire
	}
	return next.In(w.s.loc)
}

// LockingStore is implemented by a store that several processes share
// (the Redis store): Locker returns a gocron.Locker on it, to pass to
// AddJobs with gocron.WithDistributedJobLocker.
type LockingStore interface {
	Locker() gocron.Locker
}

// JobName is the gocron job name of schedule name (also its lock key).
func JobName(name string) string { return "schedule:" + name }

// AddJobs adds one gocron job per schedule to sched: it wakes the Runner
// at each occurrence, every recheck period in between and once at start
// (to catch up). Pass gocron.WithDistributedJobLocker in opts when
// several processes share the store (see LockingStore), so only one of them looks at a
// schedule at a time; exactly-once does not depend on it. The scheduler
// should run in the deployment's zone (gocron.WithLocation). The jobs
// are not in singleton mode: a wake during a slow run finds the
// occurrence claimed and returns.
func (r *Runner) AddJobs(ctx context.Context, sched gocron.Scheduler, opts ...gocron.JobOption) ([]gocron.Job, error) {
	var jobs []gocron.Job
	for _, s := range r.scheds {
		name := s.Name
		o := append([]gocron.JobOption{
			gocron.WithName(JobName(name)),
			gocron.WithCronImplementation(wake{r, s}),
			gocron.WithStartAt(gocron.WithStartImmediately()),
		}, opts...)
		j, err := sched.NewJob(gocron.CronJob(s.Rule.String(), true), gocron.NewTask(func() {
			if err := r.CheckAt(ctx, name, r.now()); err != nil && ctx.Err() == nil {
				r.b.Log.Error("schedule check failed", "schedule", name, "err", err)
			}
		}), o...)
		if err != nil {
			return nil, fmt.Errorf("schedule %s: %w", name, err)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}
