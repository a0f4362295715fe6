package bot_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/storage/redis"
)

// allStores runs f as stores does and also on Redis (DB 15 of the test
// server, under a prefix of its own whose keys are deleted afterwards).
// It fails rather than skips without a server.
func allStores(t *testing.T, f func(t *testing.T, env *bottest.Env)) {
	stores(t, f)
	t.Run("redis", func(t *testing.T) {
		url := os.Getenv("REDIS_URL")
		if url == "" {
			url = "redis://127.0.0.1:6379/15"
		}
		var b [6]byte
		_, _ = rand.Read(b[:])
		prefix := "bottest:" + hex.EncodeToString(b[:]) + ":"
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := redis.Open(ctx, url, redis.WithPrefix(prefix))
		if err != nil {
			t.Fatalf("cannot reach Redis at %s: %v (start redis-server or set REDIS_URL)", url, err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c := s.Client()
			var keys []string
			iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
			for iter.Next(ctx) {
				keys = append(keys, iter.Val())
			}
			if err := iter.Err(); err != nil {
				t.Errorf("cleanup: %v", err)
			}
			for len(keys) > 0 {
				n := min(500, len(keys))
				if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
					t.Errorf("cleanup: %v", err)
					break
				}
				keys = keys[n:]
			}
			_ = s.Close()
		})
		f(t, bottest.New(t, bottest.WithStore(s)))
	})
}
