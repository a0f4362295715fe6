package schedule_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/schedule"
)

// TestMain runs every test of the package with the server's local time
// zone set to UTC: schedules must still run in the deployment's zone,
// Asia/Shanghai. It also fails the tests if goroutines outlive them.
func TestMain(m *testing.M) {
	time.Local = time.UTC
	goleak.VerifyTestMain(m)
}

// proc is one xunji process: a bot, its recording adapter and a Runner,
// with a test task that posts a notice to the schedule's group.
type proc struct {
	env    *bottest.Env
	runner *schedule.Runner

	mu   sync.Mutex
	runs []*schedule.Run
	fail error // returned by the task while set
}

// monthly is the monthly progress notice of the tests.
var monthly = config.ScheduleConfig{Name: "monthly_notice", Title: "月度通报", Rule: "monthly: first working day 09:00", Job: "test.notice", Group: "coordination"}

// newProc starts a process on store s whose clock is now.
func newProc(t *testing.T, s bot.Store, now func() time.Time, scs ...config.ScheduleConfig) *proc {
	return newProcWith(t, s, now, nil, scs...)
}

// newProcWith is newProc with runner options.
func newProcWith(t *testing.T, s bot.Store, now func() time.Time, opts []schedule.Option, scs ...config.ScheduleConfig) *proc {
	t.Helper()
	cfg := config.Demo()
	cfg.Schedules = scs
	env := bottest.New(t, bottest.WithStore(s), bottest.WithConfig(cfg))
	env.Bot.Now = now
	p := &proc{env: env}
	err := env.Bot.Jobs.AddTask(bot.Task{Name: "test.notice", Run: func(ctx context.Context, at time.Time) error {
		run, ok := schedule.RunFrom(ctx)
		if !ok {
			return errors.New("no run in the context")
		}
		if !run.At.Equal(at) {
			return errors.New("at differs from the run's occurrence")
		}
		p.mu.Lock()
		fail := p.fail
		p.mu.Unlock()
		if fail != nil {
			return fail
		}
		if _, err := env.Bot.Out.Notify(ctx, bot.Notice{Group: run.Group, Text: "notice " + run.Key, Key: run.Key}); err != nil {
			return err
		}
		p.mu.Lock()
		p.runs = append(p.runs, run)
		p.mu.Unlock()
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := schedule.New(env.Bot, cfg, append([]schedule.Option{schedule.WithInstance(t.Name())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	p.runner = r
	return p
}

func (p *proc) Runs() []*schedule.Run {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*schedule.Run(nil), p.runs...)
}

func (p *proc) tick(t *testing.T, now string) {
	t.Helper()
	if err := p.runner.Tick(context.Background(), at(now)); err != nil {
		t.Fatalf("tick at %s: %v", now, err)
	}
}

// sent returns the texts sent to the group with console name chat.
func sent(p *proc, chat string) []string {
	var out []string
	for _, m := range p.env.Adapter.Sent() {
		if m.ChatID == chat {
			out = append(out, m.Text)
		}
	}
	return out
}

func newMem(clock *bottest.Clock) *bottest.Mem {
	m := bottest.NewMem()
	m.Now = clock.Now
	return m
}

func TestRunnerRunsEachOccurrenceOnceAndNotAgainAfterRestart(t *testing.T) {
	clock := bottest.NewClock(at("2026-12-01 08:00"))
	store := newMem(clock)
	p := newProc(t, store, clock.Now, monthly)

	p.tick(t, "2026-12-01 08:00") // first sight: November's run is the baseline, not a backlog
	if n := len(p.Runs()); n != 0 {
		t.Fatalf("ran %d times before 09:00", n)
	}
	for _, now := range []string{"2026-12-01 09:00", "2026-12-01 09:00", "2026-12-01 09:05", "2026-12-01 17:00"} {
		clock.Set(at(now))
		p.tick(t, now)
	}
	runs := p.Runs()
	if len(runs) != 1 || runs[0].At.Format("2006-01-02 15:04") != "2026-12-01 09:00" || runs[0].Late {
		t.Fatalf("runs = %+v, want one on-time run for 2026-12-01 09:00", runs)
	}
	if runs[0].Key != "monthly_notice@2026-12-01T09:00:00+08:00" {
		t.Errorf("run key %q", runs[0].Key)
	}

	restarted := newProc(t, store, clock.Now, monthly)
	restarted.tick(t, "2026-12-01 17:00")
	if n := len(restarted.Runs()); n != 0 {
		t.Errorf("a restart sent the notice again (%d runs)", n)
	}
	st, err := restarted.runner.State(context.Background(), "monthly_notice")
	if err != nil {
		t.Fatal(err)
	}
	if st.LastStatus != schedule.StatusOK || st.Runs != 1 || !st.LastAt.Equal(at("2026-12-01 09:00")) {
		t.Errorf("state = %+v", st)
	}
}

func TestRunnerCatchesUpOnceAfterBeingDownOverTheRunTime(t *testing.T) {
	clock := bottest.NewClock(at("2026-12-01 09:00"))
	store := newMem(clock)
	first := newProc(t, store, clock.Now, monthly)
	first.tick(t, "2026-12-01 09:00") // December's notice; then the process goes down

	// Down over 2027-01-04 09:00 (first working day after New Year's Day);
	// back at 10:30 the same day.
	clock.Set(at("2027-01-04 10:30"))
	var observed []string
	back := newProcWith(t, store, clock.Now, []schedule.Option{schedule.WithObserver(func(name, status string) { observed = append(observed, name+":"+status) })}, monthly)
	back.tick(t, "2027-01-04 10:30")
	if fmt.Sprint(observed) != "[monthly_notice:late]" {
		t.Errorf("observed outcomes %v, want one catch-up (late) of monthly_notice", observed)
	}
	runs := back.Runs()
	if len(runs) != 1 || !runs[0].At.Equal(at("2027-01-04 09:00")) || !runs[0].Late {
		t.Fatalf("runs after restart = %+v, want one late run for 2027-01-04 09:00", runs)
	}
	// Restarting again the same day does not send it twice.
	clock.Set(at("2027-01-04 11:00"))
	again := newProc(t, store, clock.Now, monthly)
	again.tick(t, "2027-01-04 11:00")
	if n := len(again.Runs()); n != 0 {
		t.Errorf("second restart ran %d times", n)
	}
	if got := sent(back, "巡纪协作群"); len(got) != 1 {
		t.Errorf("group got %v", got)
	}
	st, _ := again.runner.State(context.Background(), "monthly_notice")
	if st.LastStatus != schedule.StatusLate {
		t.Errorf("status %q, want late", st.LastStatus)
	}
}

func TestRunnerReportsRunsMissedBeyondTheWindowInsteadOfSendingThem(t *testing.T) {
	clock := bottest.NewClock(at("2026-12-01 09:00"))
	store := newMem(clock)
	first := newProc(t, store, clock.Now, monthly)
	first.tick(t, "2026-12-01 09:00")

	// Down over January's and February's runs; back the day after.
	clock.Set(at("2027-02-02 10:00"))
	back := newProc(t, store, clock.Now, monthly)
	back.tick(t, "2027-02-02 10:00")
	if n := len(back.Runs()); n != 0 {
		t.Fatalf("sent %d stale notices", n)
	}
	reports := sent(back, "巡察办工作群")
	if len(reports) != 1 {
		t.Fatalf("reports to the inspection office = %v, want 1", reports)
	}
	for _, want := range []string{"月度通报", "2 次", "2027-01-04 09:00", "2027-02-01 09:00", "没有巡纪服务在运行"} {
		if !strings.Contains(reports[0], want) {
			t.Errorf("report %q lacks %q", reports[0], want)
		}
	}
	if got := sent(back, "巡纪协作群"); len(got) != 0 {
		t.Errorf("group got stale notices %v", got)
	}
	again := newProc(t, store, clock.Now, monthly)
	again.tick(t, "2027-02-02 11:00")
	if got := sent(again, "巡察办工作群"); len(got) != 0 {
		t.Errorf("reported twice: %v", got)
	}
	// The next occurrence runs normally.
	clock.Set(at("2027-03-01 09:00"))
	again.tick(t, "2027-03-01 09:00")
	if n := len(again.Runs()); n != 1 {
		t.Errorf("March ran %d times", n)
	}
}

func TestRunnerNewScheduleOwesNothingFromBefore(t *testing.T) {
	clock := bottest.NewClock(at("2026-12-15 10:00"))
	p := newProc(t, newMem(clock), clock.Now, monthly)
	p.tick(t, "2026-12-15 10:00")
	if len(p.Runs()) != 0 || len(p.env.Adapter.Sent()) != 0 {
		t.Errorf("a new schedule ran or reported: runs %v, sent %v", p.Runs(), p.env.Adapter.Sent())
	}
	st, _ := p.runner.State(context.Background(), "monthly_notice")
	if st.LastStatus != schedule.StatusBaseline || !st.LastAt.Equal(at("2026-12-01 09:00")) {
		t.Errorf("state %+v, want the December run as baseline", st)
	}
}

func TestRunnerRetriesAFailedRunAfterTheLease(t *testing.T) {
	clock := bottest.NewClock(at("2026-12-01 08:00"))
	p := newProc(t, newMem(clock), clock.Now, monthly)
	p.tick(t, "2026-12-01 08:00")
	p.fail = errors.New("platform down")
	clock.Set(at("2026-12-01 09:00"))
	if err := p.runner.Tick(context.Background(), at("2026-12-01 09:00")); err == nil {
		t.Fatal("a failed run reported no error")
	}
	st, _ := p.runner.State(context.Background(), "monthly_notice")
	if st.LastStatus != schedule.StatusFailed || st.Failures != 1 || !st.Pending.Equal(at("2026-12-01 09:00")) {
		t.Fatalf("state after failure %+v", st)
	}
	p.mu.Lock()
	p.fail = nil
	p.mu.Unlock()
	clock.Set(at("2026-12-01 09:05"))
	p.tick(t, "2026-12-01 09:05") // still within the failed attempt's lease
	if n := len(p.Runs()); n != 0 {
		t.Fatalf("retried within the lease: %d runs", n)
	}
	clock.Set(at("2026-12-01 09:11"))
	p.tick(t, "2026-12-01 09:11")
	if n := len(p.Runs()); n != 1 {
		t.Fatalf("after the lease: %d runs, want 1", n)
	}
	st, _ = p.runner.State(context.Background(), "monthly_notice")
	if st.LastStatus != schedule.StatusLate || st.Failures != 0 || !st.Pending.IsZero() {
		t.Errorf("state after the retry %+v", st)
	}
}

func TestRunnerRunClaimedByAProcessThatDiedIsRunAfterTheLease(t *testing.T) {
	clock := bottest.NewClock(at("2026-12-01 08:00"))
	store := newMem(clock)
	p := newProc(t, store, clock.Now, monthly)
	p.tick(t, "2026-12-01 08:00")
	// At 09:00 a process claimed December's run and died before running it.
	clock.Set(at("2026-12-01 09:00"))
	if ok, err := store.Claim(context.Background(), "run:monthly_notice:2026-12-01T09:00:00+08:00", schedule.DefaultLease); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	p.tick(t, "2026-12-01 09:00")
	if n := len(p.Runs()); n != 0 {
		t.Fatalf("ran while another process held the run: %d", n)
	}
	clock.Set(at("2026-12-01 09:10"))
	p.tick(t, "2026-12-01 09:10")
	if n := len(p.Runs()); n != 1 {
		t.Fatalf("after the dead process's lease: %d runs, want 1", n)
	}
}

func TestRunnerReportsAScheduleWhoseTaskNobodyRegistered(t *testing.T) {
	clock := bottest.NewClock(at("2026-12-01 08:00"))
	store := newMem(clock)
	typo := config.ScheduleConfig{Name: "collect", Title: "进度收集", Rule: "monthly: first working day 09:00", Job: "progress.colect"}
	p := newProc(t, store, clock.Now, typo)
	p.tick(t, "2026-12-01 08:00")
	clock.Set(at("2026-12-01 09:00"))
	if err := p.runner.Tick(context.Background(), at("2026-12-01 09:00")); !errors.Is(err, schedule.ErrNoTask) {
		t.Fatalf("err = %v, want ErrNoTask", err)
	}
	clock.Set(at("2026-12-02 09:00")) // past the same-day window
	p.tick(t, "2026-12-02 09:00")
	reports := sent(p, "巡察办工作群")
	if len(reports) != 1 || !strings.Contains(reports[0], "progress.colect") {
		t.Errorf("reports = %v, want one naming the missing task", reports)
	}
}

func TestRunnerPassesTheHolidayMoveToTheTask(t *testing.T) {
	clock := bottest.NewClock(at("2027-01-20 08:00"))
	joint := config.ScheduleConfig{Name: "joint", Rule: "monthly: 2nd Tuesday 14:30", Job: "test.notice", Notice: "2wd", Meeting: config.MeetingScheduleConfig{Kind: "joint", Place: "三楼会议室"}, Remind: "1h"}
	p := newProc(t, newMem(clock), clock.Now, joint)
	p.tick(t, "2027-01-20 08:00")
	clock.Set(at("2027-02-03 14:30"))
	p.tick(t, "2027-02-03 14:30")
	runs := p.Runs()
	if len(runs) != 1 {
		t.Fatalf("runs %v", runs)
	}
	r := runs[0]
	if !r.At.Equal(at("2027-02-14 14:30")) || !r.Planned.Equal(at("2027-02-09 14:30")) || r.Holiday != "春节" || !r.Moved() {
		t.Errorf("run %+v: want the meeting moved from 2027-02-09 (春节) to the make-up Sunday 2027-02-14", r)
	}
	if r.Remind != time.Hour || r.Meeting.Place != "三楼会议室" || !r.Fire.Equal(at("2027-02-03 14:30")) {
		t.Errorf("run settings %+v", r)
	}
}

func TestRunnerWritesTheAuditLog(t *testing.T) {
	clock := bottest.NewClock(at("2026-12-01 08:00"))
	p := newProc(t, newMem(clock), clock.Now, monthly)
	p.tick(t, "2026-12-01 08:00")
	clock.Set(at("2026-12-01 09:00"))
	p.tick(t, "2026-12-01 09:00")
	log, err := bottest.AuditLog(context.Background(), p.env.Bot, func(e bot.AuditEntry) bool { return e.Action == "schedule.run" })
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || !strings.Contains(log[1].Detail, "status=ok") || log[1].Record != "monthly_notice" {
		t.Errorf("audit %+v", log)
	}
}
