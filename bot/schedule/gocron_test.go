package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
)

// woken is a gocron process under a fake clock: each wake of its one
// schedule job (run, or lock refused) is signalled on woke.
type woken struct {
	*proc
	fc   *clockwork.FakeClock
	s    gocron.Scheduler
	woke chan string
}

// startGocron runs p's schedules on gocron with clock fc in Shanghai,
// with extra job options.
func startGocron(t *testing.T, p *proc, fc *clockwork.FakeClock, opts ...gocron.JobOption) *woken {
	t.Helper()
	w := &woken{proc: p, fc: fc, woke: make(chan string, 64)}
	s, err := gocron.NewScheduler(gocron.WithClock(fc), gocron.WithLocation(sh))
	if err != nil {
		t.Fatal(err)
	}
	signal := func(_ uuid.UUID, name string) { w.woke <- name }
	opts = append(opts, gocron.WithEventListeners(
		gocron.AfterJobRuns(signal),
		gocron.AfterJobRunsWithError(func(id uuid.UUID, name string, _ error) { signal(id, name) }),
		gocron.AfterLockError(func(id uuid.UUID, name string, _ error) { signal(id, name) }),
	))
	if _, err := p.runner.AddJobs(context.Background(), s, opts...); err != nil {
		t.Fatal(err)
	}
	w.s = s
	s.Start()
	t.Cleanup(func() { _ = s.Shutdown() })
	w.wait(t) // the check at start
	return w
}

// wait blocks until the job has woken once.
func (w *woken) wait(t *testing.T) {
	t.Helper()
	select {
	case <-w.woke:
	case <-time.After(10 * time.Second):
		t.Fatal("the schedule job did not wake")
	}
}

// advanceTo moves the fake clock to to once the job's next wake is armed;
// to must be at or after that wake (every recheck period at the latest).
func (w *woken) advanceTo(t *testing.T, to time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.fc.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal("the schedule job's next wake was never armed")
	}
	w.fc.Advance(to.Sub(w.fc.Now()))
}

func TestGocronRunsTheScheduleAtShanghaiTimesOnAUTCServer(t *testing.T) {
	if time.Local != time.UTC {
		t.Fatal("TestMain did not set the server zone to UTC")
	}
	start := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC) // 2026-12-01 00:00 in Shanghai
	fc := clockwork.NewFakeClockAt(start)
	store := bottest.NewMem()
	store.Now = fc.Now
	w := startGocron(t, newProc(t, store, fc.Now, monthly), fc)

	// 08:59 Shanghai is 00:59 UTC: nothing is due yet (a recheck wakes it).
	w.advanceTo(t, time.Date(2026, 12, 1, 0, 59, 0, 0, time.UTC))
	w.wait(t)
	if n := len(w.Runs()); n != 0 {
		t.Fatalf("ran %d times before 09:00 Shanghai", n)
	}
	// The job's next wake is exactly 09:00 Shanghai = 01:00 UTC.
	w.advanceTo(t, time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC))
	w.wait(t)
	runs := w.Runs()
	if len(runs) != 1 || !runs[0].At.Equal(at("2026-12-01 09:00")) || runs[0].Late {
		t.Fatalf("runs %+v, want one on time at 2026-12-01 09:00 Shanghai", runs)
	}
	if got := runs[0].At.Format("15:04 MST"); got != "09:00 CST" {
		t.Errorf("the task got %s, want the time in Shanghai", got)
	}

	// Across the year end: New Year's Day 2027 is a Friday holiday, so the
	// next run is Monday 2027-01-04 09:00, not 2027-01-01.
	w.advanceTo(t, at("2027-01-04 08:58"))
	w.wait(t)
	w.advanceTo(t, at("2027-01-04 09:00"))
	w.wait(t)
	runs = w.Runs()
	if len(runs) != 2 || !runs[1].At.Equal(at("2027-01-04 09:00")) {
		t.Fatalf("runs %+v, want the second at 2027-01-04 09:00", runs)
	}
}

func TestGocronFiresOnTheMakeUpSundayOfSpringFestival(t *testing.T) {
	fc := clockwork.NewFakeClockAt(at("2027-02-05 18:00")) // the first day of the holiday
	store := bottest.NewMem()
	store.Now = fc.Now
	weekly := config.ScheduleConfig{Name: "weekly_check", Rule: "weekly: last working day 17:00", Job: "test.notice", Group: "coordination"}
	w := startGocron(t, newProc(t, store, fc.Now, weekly), fc)

	// No working day from Friday 2027-02-05 to Saturday 02-13; the week's
	// last working day is the make-up Sunday 2027-02-14.
	w.advanceTo(t, at("2027-02-14 16:58"))
	w.wait(t)
	if n := len(w.Runs()); n != 0 {
		t.Fatalf("ran %d times in the holiday", n)
	}
	w.advanceTo(t, at("2027-02-14 17:00"))
	w.wait(t)
	runs := w.Runs()
	if len(runs) != 1 || !runs[0].At.Equal(at("2027-02-14 17:00")) {
		t.Fatalf("runs %+v, want one on Sunday 2027-02-14 17:00", runs)
	}
	if len(sent(w.proc, "巡纪协作群")) != 1 {
		t.Errorf("group got %v", w.env.Adapter.Sent())
	}
}

var _ bot.Store = (*bottest.Mem)(nil)
