// Package indextest runs a domain's index tests on every store: the
// tests' memory store, a bolt file and Redis.
package indextest

import (
	"path/filepath"
	"testing"

	"github.com/xunji-bot/xunji/storage/redis/redistest"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	boltstore "github.com/xunji-bot/xunji/storage/bolt"
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
// the prefix's keys at cleanup (redistest.Open).
func Redis(t *testing.T) bot.Store { return redistest.Open(t, "index") }
