// Package redistest opens Redis stores for tests: on the test server
// (REDIS_URL, default DB 15 of 127.0.0.1:6379), each under a key prefix
// of its own whose keys are deleted when the test ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/storage/redis"
)

// URL is the test server's address: REDIS_URL, or DB 15 of 127.0.0.1:6379.
func URL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// Open opens a store on the test server under a new prefix beginning
// with name ("xunjitest:<name>:<random>:") and deletes the prefix's keys
// at cleanup. Without a server the test fails rather than skips.
func Open(t testing.TB, name string) *redis.Store {
	t.Helper()
	var raw [6]byte
	_, _ = rand.Read(raw[:])
	prefix := "xunjitest:" + name + ":" + hex.EncodeToString(raw[:]) + ":"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := redis.Open(ctx, URL(), redis.WithPrefix(prefix))
	if err != nil {
		t.Fatalf("cannot reach Redis at %s: %v (start redis-server or set REDIS_URL)", URL(), err)
	}
	t.Cleanup(func() {
		// A minute: under load, deleting a large test's keys takes a while,
		// and keys left behind pile up in the shared test database.
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
			if err := c.Unlink(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("cleanup: %v", err)
				break
			}
			keys = keys[n:]
		}
		_ = s.Close()
	})
	return s
}
