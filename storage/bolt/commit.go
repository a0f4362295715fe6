package bolt

import (
	"fmt"
	"sync"

	bbolt "go.etcd.io/bbolt"
)

// maxGroup bounds how many calls share one commit (bbolt's
// DefaultMaxBatchSize), so a burst does not build one huge transaction.
const maxGroup = 1000

// committer is a group commit: one goroutine commits the store's batched
// writes, and every call that arrives while a commit is in flight goes
// into the next one. Calls share a write transaction and so one commit
// and one fsync; each returns only after that commit.
//
// It does what bbolt's DB.Batch does, without Batch's fixed delay: Batch
// closes a batch MaxBatchDelay after its first call whether or not the
// writer is free. A long delay is added to every acknowledgement that
// comes alone; a delay shorter than a commit (an fsync on a busy disk
// takes milliseconds) forms batches faster than they can commit, and
// they queue behind each other without bound. Here a batch is whatever
// waited during the previous commit: nothing is added when the store is
// idle, and the batches grow with the commit time under load.
//
// Like Batch, a call's function may run more than once: when one fails,
// the transaction is rolled back, the failing call gets its error (it
// ran on the writes of the calls before it, which are committed
// unchanged), and the others run again without it.
type committer struct {
	db      *bbolt.DB
	mu      sync.Mutex
	queue   []*call
	closed  bool
	wake    chan struct{} // a token: the queue has calls
	stopped chan struct{}
}

type call struct {
	fn  func(*bbolt.Tx) error
	err chan error
}

func newCommitter(db *bbolt.DB) *committer {
	c := &committer{db: db, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go c.run()
	return c
}

// do runs fn in a write transaction shared with concurrent calls and
// returns once it is committed (or failed).
func (c *committer) do(fn func(*bbolt.Tx) error) error {
	k := &call{fn: fn, err: make(chan error, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return bbolt.ErrDatabaseNotOpen
	}
	c.queue = append(c.queue, k)
	select {
	case c.wake <- struct{}{}:
	default: // a token is pending: the committer has yet to take the queue
	}
	c.mu.Unlock()
	return <-k.err
}

func (c *committer) run() {
	defer close(c.stopped)
	for range c.wake {
		for {
			c.mu.Lock()
			n := min(len(c.queue), maxGroup)
			calls := c.queue[:n:n]
			c.queue = c.queue[n:]
			if len(c.queue) == 0 {
				c.queue = nil
			}
			c.mu.Unlock()
			if n == 0 {
				break
			}
			c.commit(calls)
		}
	}
}

func (c *committer) commit(calls []*call) {
	for len(calls) > 0 {
		failed := -1
		var ferr error
		err := c.db.Update(func(tx *bbolt.Tx) error {
			for i, k := range calls {
				if err := safely(k.fn, tx); err != nil {
					failed, ferr = i, err
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, k := range calls {
				k.err <- err // nil, or the commit's failure for all
			}
			return
		}
		calls[failed].err <- ferr
		calls = append(calls[:failed:failed], calls[failed+1:]...)
	}
}

// close commits what is queued and stops the committer; later calls fail
// with bbolt.ErrDatabaseNotOpen.
func (c *committer) close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.wake)
	}
	c.mu.Unlock()
	<-c.stopped
}

// safely runs fn, turning a panic into an error so that one call cannot
// take the committer (and every other caller) down.
func safely(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("bolt: panic in a batched write: %v", p)
		}
	}()
	return fn(tx)
}
