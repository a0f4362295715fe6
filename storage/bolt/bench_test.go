package bolt

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// benchInbox runs op(i) from 16 goroutines per CPU, as concurrent
// acknowledgements would: ns/op is the inverse of the store's throughput
// for that operation, and commits/op how many bbolt commits (each one
// fsynced) it took per operation.
func benchInbox(b *testing.B, op func(s *Store, i int) error) {
	for _, d := range []time.Duration{DefaultBatchDelay, 100 * time.Microsecond, 300 * time.Microsecond, 3 * time.Millisecond, 10 * time.Millisecond} {
		name := "delay=" + d.String()
		if d == DefaultBatchDelay {
			name += "(default)"
		}
		b.Run(name, func(b *testing.B) { benchInboxDelay(b, d, op) })
	}
}

func benchInboxDelay(b *testing.B, delay time.Duration, op func(s *Store, i int) error) {
	s, _ := openTemp(b, WithBatchDelay(delay))
	commits0 := lastTxID(b, s)
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(s, int(seq.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	// Each commit gives the next write transaction id.
	b.ReportMetric(float64(lastTxID(b, s)-commits0)/float64(b.N), "commits/op")
}

func inboxBenchOp(i int) bot.InboxOp {
	id := fmt.Sprintf("ev:slack:Ev%09d", i)
	return bot.InboxOp{Coll: bot.CollInbox, ID: id, Doc: []byte(`{"req":{"platform":"slack","event_id":"` + id + `"}}`),
		Claim: "event:" + id, ClaimTTL: time.Hour, Lease: "inbox:" + id, LeaseTTL: time.Minute}
}

// BenchmarkEnqueueParallel: concurrent acknowledgements, each a new event.
func BenchmarkEnqueueParallel(b *testing.B) {
	benchInbox(b, func(s *Store, i int) error {
		ok, err := s.Enqueue(b.Context(), inboxBenchOp(i))
		if err == nil && !ok {
			err = fmt.Errorf("event %d refused", i)
		}
		return err
	})
}

// BenchmarkEnqueueDequeueParallel: each event accepted and then handled.
func BenchmarkEnqueueDequeueParallel(b *testing.B) {
	benchInbox(b, func(s *Store, i int) error {
		op := inboxBenchOp(i)
		if _, err := s.Enqueue(b.Context(), op); err != nil {
			return err
		}
		op.Doc, op.LeaseTTL = nil, 0
		return s.Dequeue(b.Context(), op)
	})
}

// BenchmarkClaimParallel: the plain Store's dedupe claim.
func BenchmarkClaimParallel(b *testing.B) {
	benchInbox(b, func(s *Store, i int) error {
		_, err := s.Claim(b.Context(), fmt.Sprintf("event:%09d", i), time.Hour)
		return err
	})
}

// BenchmarkPutParallel: plain document writes.
func BenchmarkPutParallel(b *testing.B) {
	benchInbox(b, func(s *Store, i int) error {
		return s.Put(b.Context(), "things", fmt.Sprintf("%09d", i), []byte(`{"n":1}`))
	})
}
