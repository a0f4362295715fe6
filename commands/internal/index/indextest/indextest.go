// Package indextest runs a domain's index tests on every store: the
// tests' memory store, a bolt file and Redis.
package indextest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	boltstore "github.com/xunji-bot/xunji/storage/bolt"
	"github.com/xunji-bot/xunji/storage/redis"
)

// Backends runs fn once per store as a subtest, with the options that
// give bottest.New that store: none (the memory store), a bolt file in a
// temporary directory, and Redis (REDIS_URL, default DB 15 of
// 127.0.0.1:6379) under a prefix of its own whose keys are removed
// afterwards. Without a Redis server the Redis subtest fails rather than
// skips.
func Backends(t *testing.T, fn func(t *testing.T, opts ...bottest.Option)) {
	t.Run("memory", func(t *testing.T) { fn(t) })
	t.Run("bolt", func(t *testing.T) {
		s, err := boltstore.Open(filepath.Join(t.TempDir(), "x.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, bottest.WithStore(s))
	})
	t.Run("redis", func(t *testing.T) { fn(t, bottest.WithStore(Redis(t))) })
}

// Redis opens a store on the test Redis under a new prefix and deletes
// the prefix's keys at cleanup.
func Redis(t *testing.T) bot.Store {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/15"
	}
	var raw [6]byte
	_, _ = rand.Read(raw[:])
	prefix := "xunjitest:" + hex.EncodeToString(raw[:]) + ":"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := redis.Open(ctx, url, redis.WithPrefix(prefix))
	if err != nil {
		t.Fatalf("cannot reach Redis at %s: %v (start redis-server or set REDIS_URL)", url, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := s.Client()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
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
	return s
}
