package bottest

import (
	"fmt"
	"sync"
	"time"
)

// Changes lets a test wait for a condition that other goroutines make
// true (a fake server recording a call), without sleeping: whoever
// changes the state calls Broadcast, and Wait re-checks the condition on
// each broadcast until it holds or the timeout passes. The zero value is
// ready to use.
type Changes struct {
	mu sync.Mutex
	ch chan struct{}
}

func (c *Changes) current() chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch == nil {
		c.ch = make(chan struct{})
	}
	return c.ch
}

// Broadcast wakes every waiter.
func (c *Changes) Broadcast() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ch != nil {
		close(c.ch)
	}
	c.ch = make(chan struct{})
}

// Wait returns nil once cond holds, or an error after timeout.
func (c *Changes) Wait(cond func() bool, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		changed := c.current() // taken before the check, so no broadcast is missed
		if cond() {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return fmt.Errorf("not reached within %v", timeout)
		}
	}
}
