package main

import (
	"context"
	"crypto/rand"
	"os"
	"testing"

	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/progress"

	goredis "github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/bot"
)

func testRedisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// TestTinySizeOnBothBackends generates 1/20 of S on each backend, checks
// that the store holds what the generator says it made and that the
// counters follow on from it, and that every timed operation answers
// without an error (its time is not checked).
func TestTinySizeOnBothBackends(t *testing.T) {
	for _, backend := range []string{"bolt", "redis"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			tg := target{Backend: backend, Size: "T", Dir: t.TempDir(), RedisURL: testRedisURL(),
				Prefix: "xunjiscaletest:" + rand.Text() + ":"}
			if backend == "redis" {
				opt, err := goredis.ParseURL(tg.RedisURL)
				if err != nil {
					t.Fatal(err)
				}
				c := goredis.NewClient(opt)
				t.Cleanup(func() {
					if err := deletePrefix(context.Background(), c, tg.Prefix); err != nil {
						t.Error(err)
					}
					if n, err := c.Keys(context.Background(), tg.Prefix+"*").Result(); err != nil || len(n) > 0 {
						t.Errorf("keys left behind: %v %v", n, err)
					}
					_ = c.Close()
				})
			}

			st, made, err := generate(ctx, tg, false, 100)
			if err != nil {
				t.Fatal(err)
			}
			if !made {
				t.Fatal("a new store was not generated")
			}
			want := map[string]int{clue.CollClues: 10, progress.CollItems: 25, cosign.CollCosigns: 3, bot.CollAudit: 1000}
			for coll, n := range want {
				if st.Counts[coll] != n {
					t.Errorf("generator says %d %s, the size is %d", st.Counts[coll], coll, n)
				}
			}
			store, err := tg.open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for coll, n := range st.Counts {
				docs, err := store.List(ctx, coll)
				if err != nil {
					t.Fatal(err)
				}
				if len(docs) != n || n == 0 {
					t.Errorf("%s: the store holds %d, the generator says %d", coll, len(docs), n)
				}
			}
			// The audit sequence continues after the generated entries.
			seq, err := store.NextSeq(ctx, "audit")
			if err != nil {
				t.Fatal(err)
			}
			if seq != int64(st.Counts[bot.CollAudit])+1 {
				t.Errorf("next audit number %d after %d entries", seq, st.Counts[bot.CollAudit])
			}
			if _, err := store.Get(ctx, clue.CollClues, st.Clue); err != nil {
				t.Errorf("sample clue %q: %v", st.Clue, err)
			}
			if _, err := store.Get(ctx, cosign.CollCosigns, st.Cosign); err != nil {
				t.Errorf("sample co-signature %q: %v", st.Cosign, err)
			}
			store.Close()

			// Kept data is reused, not generated again.
			if _, made, err := generate(ctx, tg, false, 100); err != nil || made {
				t.Fatalf("second generate: made %v, err %v", made, err)
			}

			res, err := measure(ctx, tg, 1, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Ops) != 8 {
				t.Errorf("%d operations timed, want 8", len(res.Ops))
			}
			for _, o := range res.Ops {
				if o.Err != "" {
					t.Errorf("%s: %s", o.Name, o.Err)
				}
				if len(o.Runs) != 1 {
					t.Errorf("%s: %d runs, want 1", o.Name, len(o.Runs))
				}
			}
		})
	}
}
