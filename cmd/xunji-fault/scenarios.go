package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
)

// scenario is one fault, applied once the first messages of the
// transfers have been shown (mid-flight).
type scenario struct {
	Name, Doc string
	Redis     bool // needs the Redis store
	Replicas  int  // xunji processes behind the front (1 when 0)
	// Wait bounds how long the transfers may take to complete once the
	// fault is over.
	Wait  time.Duration
	Fault func(r *run) error
}

// outage is how long Redis stays stopped or frozen, and how long the
// platforms answer 500.
const outage = 10 * time.Second

// retryAfter is the Retry-After of the platforms' 429s.
const retryAfter = 40 * time.Second

func scenarios() []scenario {
	return []scenario{
		{Name: "baseline", Doc: "no fault: the reference the other scenarios compare with", Wait: 90 * time.Second,
			Fault: func(*run) error { return nil }},
		{Name: "kill9", Doc: "xunji killed with SIGKILL mid-flight, restarted a second later", Wait: 90 * time.Second,
			Fault: func(r *run) error {
				rep := r.reps[0]
				rep.kill()
				time.Sleep(time.Second)
				return r.startReplica(rep)
			}},
		{Name: "sigterm", Doc: "xunji stopped with SIGTERM mid-flight (graceful), restarted", Wait: 90 * time.Second,
			Fault: func(r *run) error {
				rep := r.reps[0]
				start := time.Now()
				if !rep.term(30 * time.Second) {
					r.note("SIGTERM: did not stop within 30 s, killed")
				} else {
					r.note("SIGTERM: stopped in %.1f s", time.Since(start).Seconds())
				}
				return r.startReplica(rep)
			}},
		{Name: "redis-stop", Doc: fmt.Sprintf("Redis killed with SIGKILL mid-flight, restarted %s later (append-only file, fsync always)", outage),
			Redis: true, Wait: 90 * time.Second,
			Fault: func(r *run) error {
				r.redis.proc.kill()
				time.Sleep(outage)
				return r.redis.start()
			}},
		{Name: "redis-freeze", Doc: fmt.Sprintf("Redis frozen with SIGSTOP mid-flight, SIGCONT %s later", outage),
			Redis: true, Wait: 90 * time.Second,
			Fault: func(r *run) error {
				if err := r.redis.proc.signal(syscall.SIGSTOP); err != nil {
					return err
				}
				time.Sleep(outage)
				return r.redis.proc.signal(syscall.SIGCONT)
			}},
		{Name: "platform", Doc: fmt.Sprintf("the platform answers every send 500 for %s, then 429 with Retry-After %s (at least two), then recovers", outage, retryAfter),
			Wait: 150 * time.Second, Fault: platformOutage},
		{Name: "replicas", Doc: "three xunji processes behind a round-robin front, one killed with SIGKILL mid-flight (not restarted)",
			Redis: true, Replicas: 3, Wait: 90 * time.Second,
			Fault: func(r *run) error {
				r.reps[1].kill()
				return nil
			}},
	}
}

// platformOutage makes the fakes answer 500, then 429 with a long
// Retry-After until at least two 429s went out (or 15 s passed), then
// recover.
func platformOutage(r *run) error {
	if r.slack != nil {
		r.slack.SetRetryAfter(retryAfter)
		r.slack.FailAll(500)
	}
	if r.lark != nil {
		r.lark.FailAll(&larktest.Failure{Status: 500, Code: 1})
	}
	time.Sleep(outage)
	before := r.failedSends()
	if r.slack != nil {
		r.slack.FailAll(429)
	}
	if r.lark != nil {
		r.lark.FailAll(&larktest.Failure{Status: 429, Code: 99991400, RetryAfter: retryAfter})
	}
	until(15*time.Second, func() bool { return r.failedSends()-before >= 2 })
	r.note("platform: %d sends refused with 500 or 429, %d of them 429 with Retry-After %s", r.failedSends(), r.failedSends()-before, retryAfter)
	if r.slack != nil {
		r.slack.FailAll(0)
	}
	if r.lark != nil {
		r.lark.FailAll(nil)
	}
	return nil
}

// failedSends counts the message calls the fakes refused.
func (r *run) failedSends() int {
	n := 0
	if r.slack != nil {
		for _, m := range []string{"chat.postMessage", "chat.postEphemeral", "chat.update", "conversations.open"} {
			n += r.slack.Attempts(m) - len(r.slack.CallsOf(m))
		}
	}
	if r.lark != nil {
		for _, c := range r.lark.Calls() {
			if c.MessageID == "" {
				n++
			}
		}
	}
	return n
}

// execute runs the scenario from start to end and measures it.
func (r *run) execute() ([]result, error) {
	defer r.close()
	if err := r.setup(); err != nil {
		return nil, err
	}
	runID := strconv.FormatInt(time.Now().UnixNano()%(1<<40), 36)
	var wg sync.WaitGroup
	for _, p := range r.o.Platforms {
		wg.Add(1)
		go func() { defer wg.Done(); r.send(p, runID) }()
	}
	// Mid-flight: once a few of the transfers' messages have been shown.
	trigger := max(2, r.o.N/3)
	if !until(60*time.Second, func() bool { return r.transferMessages() >= trigger }) {
		r.note("no message shown within 60 s before the fault")
	}
	r.logf("fault after %d messages shown: %s", r.transferMessages(), r.sc.Doc)
	if err := r.sc.Fault(r); err != nil {
		return nil, fmt.Errorf("fault: %w", err)
	}
	r.logf("fault over")
	wg.Wait()
	start := time.Now()
	if !until(r.sc.Wait, r.complete) {
		r.note("not every transfer complete %s after the fault", r.sc.Wait)
	} else {
		r.note("complete %.1f s after the fault ended", time.Since(start).Seconds())
	}
	r.settle()

	// What the live processes counted, then a graceful stop.
	possible := map[string]int{}
	for _, rep := range r.reps {
		if !rep.alive.Load() {
			continue
		}
		m, err := rep.metrics("xunji_outbox_possible_duplicates_total")
		if err != nil {
			continue
		}
		for k, v := range m {
			for _, p := range r.o.Platforms {
				if strings.Contains(k, `"`+p+`"`) {
					possible[p] += int(v)
				}
			}
		}
	}
	for _, rep := range r.reps {
		if rep.alive.Load() && !rep.term(30*time.Second) {
			r.note("%s did not stop within 30 s of SIGTERM", rep.name)
		}
	}
	recovered := 0
	for _, rep := range r.reps {
		recovered += countLines(rep.log, "inbox: recovered a request")
	}
	r.note("inbox recoveries logged: %d", recovered)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := r.openStore(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the store: %w", err)
	}
	defer s.Close()
	st, err := readStored(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("reading the store: %w", err)
	}
	if st.inbox+st.outbx > 0 {
		r.note("left in the store: %d inbox and %d outbox entries", st.inbox, st.outbx)
	}
	var out []result
	for _, p := range r.o.Platforms {
		out = append(out, r.measure(p, st, possible[p]))
	}
	return out, nil
}

// settle waits until the live processes' outboxes are empty (and, on
// Redis, the inbox) and the fakes have had no call for 4 s — longer than
// the inbox grace, so a request taken over twice would show — for at
// most a minute.
func (r *run) settle() {
	var s interface {
		Close() error
	}
	inboxEmpty := func() bool { return true }
	if r.redis != nil {
		ctx := context.Background()
		st, err := r.openStore(ctx)
		if err == nil {
			s = st
			inboxEmpty = func() bool {
				docs, err := st.List(ctx, "inbox")
				return err == nil && len(docs) == 0
			}
		}
	}
	if s != nil {
		defer s.Close()
	}
	last, quiet := r.activity(), time.Now()
	ok := until(time.Minute, func() bool {
		if a := r.activity(); a != last {
			last, quiet = a, time.Now()
		}
		if time.Since(quiet) < 4*time.Second {
			return false
		}
		return r.liveDepth() == 0 && inboxEmpty()
	})
	if !ok {
		r.note("did not settle within a minute (outbox depth %d)", r.liveDepth())
	}
}

// selectScenarios returns the scenarios named in list ("all": every one).
func selectScenarios(list string) ([]scenario, error) {
	all := scenarios()
	if list == "" || list == "all" {
		return all, nil
	}
	var out []scenario
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(all, func(s scenario) bool { return s.Name == name })
		if i < 0 {
			var names []string
			for _, s := range all {
				names = append(names, s.Name)
			}
			return nil, fmt.Errorf("unknown scenario %q (%s)", name, strings.Join(names, ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// runScenario runs sc in a directory of its own under o.Dir.
func runScenario(o options, sc scenario) ([]result, []string, error) {
	dir, err := os.MkdirTemp(o.Dir, sc.Name+"-")
	if err != nil {
		return nil, nil, err
	}
	r := &run{o: o, sc: sc, dir: dir}
	res, err := r.execute()
	return res, r.notes, err
}
