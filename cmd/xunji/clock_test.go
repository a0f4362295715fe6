package main

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/xunji-bot/xunji/bot/bottest"
)

// testClock is the clock the program runs on in these tests. It starts
// at a chosen instant and then runs at the real pace: the scheduler, the
// outbox and the inbox recovery wait real durations and still work,
// while every date the program sees comes from the instant, never from
// the machine's date.
type testClock struct {
	clockwork.Clock
	offset time.Duration
}

var _ clockwork.Clock = (*testClock)(nil)

func clockAt(at time.Time) *testClock {
	real := clockwork.NewRealClock()
	return &testClock{Clock: real, offset: at.Sub(real.Now())}
}

func (c *testClock) Now() time.Time                  { return c.Clock.Now().Add(c.offset) }
func (c *testClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *testClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }

// testMain is NewMain on a clock started at bottest.Start.
func testMain() *Main {
	m := NewMain()
	m.Clock = clockAt(bottest.Start)
	return m
}

// The environment variable that hands a child process the parent's
// clock, as the offset of its instant from the machine's clock, so that
// every process of a test sees the same time.
const clockEnv = "XUNJI_TEST_CLOCK_OFFSET"

func (c *testClock) env() string { return clockEnv + "=" + strconv.FormatInt(int64(c.offset), 10) }

// childMain is NewMain in a child process, on the clock its parent
// handed over (bottest.Start when none).
func childMain(t *testing.T) *Main {
	m := NewMain()
	m.Clock = clockAt(bottest.Start)
	if v := os.Getenv(clockEnv); v != "" {
		off, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", clockEnv, err)
		}
		m.Clock = &testClock{Clock: clockwork.NewRealClock(), offset: time.Duration(off)}
	}
	return m
}
