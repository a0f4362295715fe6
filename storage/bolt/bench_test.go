package bolt

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/xunji-bot/xunji/bot"
)

// benchInbox runs op(i) from 16 goroutines per CPU, as concurrent
// acknowledgements would: ns/op is the inverse of the store's throughput
// for that operation, and commits/op how many bbolt commits (each one
// fsynced) it took per operation.
func benchInbox(b *testing.B, op func(s *Store, i int) error) {
	s, _ := openTemp(b)
	commits0 := txid(b, s)
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
	b.ReportMetric(float64(txid(b, s)-commits0)/float64(b.N), "commits/op")
}

// txid is the id of the last committed write transaction: one more per
// commit.
func txid(b *testing.B, s *Store) int {
	var id int
	if err := s.db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		b.Fatal(err)
	}
	return id
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
