package schedule_test

// These tests need a real Redis: REDIS_URL, default
// redis://127.0.0.1:6379/15. Each test uses its own key prefix and
// deletes its keys afterwards.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/xunji-bot/xunji/bot/schedule"
	redisstore "github.com/xunji-bot/xunji/storage/redis"
)

func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// testPrefix returns a key prefix of its own for the test and removes
// its keys when the test ends.
func testPrefix(t *testing.T) string {
	t.Helper()
	prefix := fmt.Sprintf("xunjitest:schedule:%s:%d:", t.Name(), time.Now().UnixNano())
	t.Cleanup(func() {
		s, err := redisstore.Open(context.Background(), redisURL())
		if err != nil {
			return
		}
		defer s.Close()
		ctx := context.Background()
		iter := s.Client().Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			s.Client().Del(ctx, iter.Val())
		}
	})
	return prefix
}

func openRedis(t *testing.T, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(context.Background(), redisURL(), redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatalf("cannot reach Redis at %s: %v\nstart a server (redis-server) or set REDIS_URL", redisURL(), err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestThreeProcessesOnOneRedisSendEachNoticeOnce runs three "processes"
// in this test process — each with its own bot, redis.Store handle,
// fake clock and gocron scheduler with the Redis locker, all on one key
// prefix — through three monthly runs, and counts the notices.
func TestThreeProcessesOnOneRedisSendEachNoticeOnce(t *testing.T) {
	prefix := testPrefix(t)
	start := at("2026-11-30 12:00")
	var procs []*woken
	var held sync.WaitGroup // locks taken and not yet released
	for i := 0; i < 3; i++ {
		st := openRedis(t, prefix)
		fc := clockwork.NewFakeClockAt(start)
		p := newProc(t, st, fc.Now, monthly)
		lock := &trackedLocker{Locker: st.Locker(), held: &held}
		procs = append(procs, startGocron(t, p, fc, gocron.WithDistributedJobLocker(lock)))
		held.Wait()
	}
	all := func(f func(w *woken)) {
		var wg sync.WaitGroup
		for _, w := range procs {
			wg.Add(1)
			go func() { defer wg.Done(); f(w) }()
		}
		wg.Wait()
	}
	// step wakes all three at to and waits until they are done and their
	// locks released (gocron releases a lock just after the job's
	// after-run event; fake minutes pass here in microseconds).
	step := func(to time.Time) {
		all(func(w *woken) { w.advanceTo(t, to) })
		for _, w := range procs {
			w.wait(t)
		}
		held.Wait()
	}
	for _, run := range []string{"2026-12-01 09:00", "2027-01-04 09:00", "2027-02-01 09:00"} {
		step(at(run).Add(-2 * time.Minute))
		step(at(run)) // all three wake together; one takes the lock and runs it
		step(at(run).Add(5 * time.Minute))
	}
	counts := map[string]int{}
	for _, w := range procs {
		for _, text := range sent(w.proc, "巡纪协作群") {
			counts[text]++
		}
	}
	want := map[string]int{
		"notice monthly_notice@2026-12-01T09:00:00+08:00": 1,
		"notice monthly_notice@2027-01-04T09:00:00+08:00": 1,
		"notice monthly_notice@2027-02-01T09:00:00+08:00": 1,
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("notices sent across the three processes = %v, want each once: %v", counts, want)
	}
}

// trackedLocker counts the locks held, so a test can wait until they
// are released.
type trackedLocker struct {
	gocron.Locker
	held *sync.WaitGroup
}

func (l *trackedLocker) Lock(ctx context.Context, key string) (gocron.Lock, error) {
	lk, err := l.Locker.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	l.held.Add(1)
	return &trackedLock{lk, l.held}, nil
}

type trackedLock struct {
	gocron.Lock
	held *sync.WaitGroup
}

func (l *trackedLock) Unlock(ctx context.Context) error {
	defer l.held.Done()
	return l.Lock.Unlock(ctx)
}

// The Redis store offers cmd/xunji its locker through LockingStore.
var _ schedule.LockingStore = (*redisstore.Store)(nil)

// Environment of the helper process.
const (
	envHelper = "XUNJI_SCHEDULE_HELPER"
	envPrefix = "XUNJI_SCHEDULE_PREFIX"
	envNow    = "XUNJI_SCHEDULE_NOW"
)

// TestHelperProcess is one xunji process of
// TestRealProcessesOnOneRedisSendEachNoticeOnce: it checks the schedules
// once at XUNJI_SCHEDULE_NOW and prints how many notices it sent.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		return // only as a child process
	}
	now := at(os.Getenv(envNow))
	st := openRedis(t, os.Getenv(envPrefix))
	p := newProc(t, st, func() time.Time { return now }, monthly)
	if err := p.runner.Tick(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("SENT=%d\n", len(sent(p, "巡纪协作群")))
}

// TestRealProcessesOnOneRedisSendEachNoticeOnce starts three real
// processes (this test binary) at the same scheduled time, twice: on
// time, and late after all were down (catching up). One notice each time.
func TestRealProcessesOnOneRedisSendEachNoticeOnce(t *testing.T) {
	if os.Getenv(envHelper) == "1" {
		return
	}
	prefix := testPrefix(t)
	// An earlier process saw the schedule before December's run.
	seed := newProc(t, openRedis(t, prefix), func() time.Time { return at("2026-11-30 12:00") }, monthly)
	if err := seed.runner.Tick(context.Background(), at("2026-11-30 12:00")); err != nil {
		t.Fatal(err)
	}
	for _, now := range []string{"2026-12-01 09:00", "2027-01-04 10:30"} {
		var wg sync.WaitGroup
		counts := make([]int, 3)
		errs := make([]error, 3)
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
				cmd.Env = append(os.Environ(), envHelper+"=1", envPrefix+"="+prefix, envNow+"="+now, "REDIS_URL="+redisURL(), "TZ=UTC")
				out, err := cmd.CombinedOutput()
				if err != nil {
					errs[i] = fmt.Errorf("process %d: %v\n%s", i, err, out)
					return
				}
				sc := bufio.NewScanner(strings.NewReader(string(out)))
				for sc.Scan() {
					if v, ok := strings.CutPrefix(sc.Text(), "SENT="); ok {
						counts[i], _ = strconv.Atoi(v)
					}
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if total := counts[0] + counts[1] + counts[2]; total != 1 {
			t.Errorf("at %s the three processes sent %v notices, want 1 in all", now, counts)
		}
	}
}
