package bolt

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// The ways of committing the batched writes the benchmarks compare: the
// store's group commit, bbolt's DB.Batch with its default delay (10 ms)
// and with 1 ms, and one transaction per call (DB.Update, as before the
// store batched).
var commitModes = []struct {
	name string
	set  func(s *Store)
}{
	{"group", func(*Store) {}},
	{"bbolt.Batch-10ms", func(s *Store) { s.batch = s.db.Batch }},
	{"bbolt.Batch-1ms", func(s *Store) { s.db.MaxBatchDelay = time.Millisecond; s.batch = s.db.Batch }},
	{"Update", func(s *Store) { s.batch = s.db.Update }},
}

// benchParallel runs op(i) from 16 goroutines per CPU, as concurrent
// acknowledgements would, once per commit mode: ns/op is the inverse of
// the store's throughput for that operation, and commits/op how many
// bbolt commits (each one fsynced) it took per operation.
func benchParallel(b *testing.B, op func(s *Store, i int) error) {
	for _, m := range commitModes {
		b.Run(m.name, func(b *testing.B) {
			s, _ := openTemp(b)
			m.set(s)
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
		})
	}
}

// inboxBenchOp is an acknowledgement's Enqueue: a new event, named by
// its dedupe claim as the inbox names it, with a request document of
// about the size the Slack adapter stores.
func inboxBenchOp(i int) bot.InboxOp {
	id := fmt.Sprintf("event:slack:Ev%09d", i)
	doc := fmt.Appendf(nil, `{"req":{"platform":"slack","event_id":%q,"pad":"%0800d"}}`, id, 0)
	return bot.InboxOp{Coll: bot.CollInbox, ID: id, Doc: doc, Claim: id, ClaimTTL: time.Hour}
}

// BenchmarkEnqueueParallel: concurrent acknowledgements, each a new event.
func BenchmarkEnqueueParallel(b *testing.B) {
	benchParallel(b, func(s *Store, i int) error {
		ok, err := s.Enqueue(b.Context(), inboxBenchOp(i))
		if err == nil && !ok {
			err = fmt.Errorf("event %d refused", i)
		}
		return err
	})
}

// BenchmarkEnqueueDequeueParallel: each event accepted and then handled.
func BenchmarkEnqueueDequeueParallel(b *testing.B) {
	benchParallel(b, func(s *Store, i int) error {
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
	benchParallel(b, func(s *Store, i int) error {
		_, err := s.Claim(b.Context(), fmt.Sprintf("event:%09d", i), time.Hour)
		return err
	})
}

// BenchmarkPutParallel: plain document writes.
func BenchmarkPutParallel(b *testing.B) {
	benchParallel(b, func(s *Store, i int) error {
		return s.Put(b.Context(), "things", fmt.Sprintf("%09d", i), []byte(`{"n":1}`))
	})
}

// BenchmarkEnqueueAt1000PerSecond offers one new event every millisecond
// (open loop: each in its own goroutine, whatever the earlier ones take)
// and reports the p50 and p99 time to a committed Enqueue. ns/op is
// about the pacing, a millisecond; use -benchtime 3000x or more.
func BenchmarkEnqueueAt1000PerSecond(b *testing.B) {
	for _, m := range commitModes {
		b.Run(m.name, func(b *testing.B) {
			s, _ := openTemp(b)
			m.set(s)
			commits0 := lastTxID(b, s)
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				if wait := time.Until(start.Add(time.Duration(i) * time.Millisecond)); wait > 0 {
					time.Sleep(wait)
				}
				wg.Go(func() {
					t0 := time.Now()
					if ok, err := s.Enqueue(b.Context(), inboxBenchOp(i)); err != nil || !ok {
						b.Errorf("Enqueue %d: %v, %v", i, ok, err)
					}
					lat[i] = time.Since(t0)
				})
			}
			wg.Wait()
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[b.N/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[min(b.N-1, b.N*99/100)].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lastTxID(b, s)-commits0)/float64(b.N), "commits/op")
		})
	}
}
