package redis

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// slowest is a go-redis hook that keeps the longest time one command took,
// round trip included (an upper bound of the time it held the server).
type slowest struct {
	mu   sync.Mutex
	max  time.Duration
	name string
}

func (h *slowest) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *slowest) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		if d := time.Since(start); d > 0 {
			h.mu.Lock()
			if d > h.max {
				h.max, h.name = d, cmd.Name()
			}
			h.mu.Unlock()
		}
		return err
	}
}
func (h *slowest) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// BenchmarkListAtScale lists a collection of XUNJI_BENCH_DOCS documents
// (default 1,000,000, about 100 MB in Redis, removed afterwards) and
// reports the longest single command List sent (slowest-cmd-ms) besides
// the time of the whole listing.
func BenchmarkListAtScale(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("XUNJI_BENCH_DOCS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	ctx := context.Background()
	prefix := testPrefix()
	s := openTest(b, prefix)
	c := s.Client()
	for i := 0; i < n; i += 10_000 {
		p := c.Pipeline()
		members := make([]redis.Z, 0, 10_000)
		for j := i; j < min(i+10_000, n); j++ {
			id := fmt.Sprintf("%012d", j)
			p.Set(ctx, s.docKey("audit", id), `{"id":"`+id+`","action":"clue.ack","by":"lina"}`, 0)
			members = append(members, redis.Z{Member: id})
		}
		p.ZAdd(ctx, s.idxKey("audit"), members...)
		if _, err := p.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	h := &slowest{}
	c.AddHook(h)
	b.ResetTimer()
	for b.Loop() {
		docs, err := s.List(ctx, "audit")
		if err != nil || len(docs) != n {
			b.Fatalf("List: %d docs, %v", len(docs), err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(h.max.Microseconds())/1000, "slowest-cmd-ms")
	b.Logf("slowest command: %s, %v", h.name, h.max)
}
