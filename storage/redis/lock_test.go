package redis

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRedisLockIsExclusiveExpiresAndIsNotReleasedByAnother(t *testing.T) {
	prefix := testPrefix()
	st := openTest(t, prefix)
	ctx := context.Background()
	l := NewLocker(st.Client(), prefix+"lock:", 30*time.Second)
	held, err := l.Lock(ctx, "schedule:x")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(ctx, "schedule:x"); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v, want ErrLocked", err)
	}
	// A holder that dies never unlocks: the key expires by itself.
	ttl, err := st.Client().PTTL(ctx, prefix+"lock:schedule:x").Result()
	if err != nil || ttl <= 0 || ttl > 30*time.Second {
		t.Fatalf("lock TTL = %v (%v), want an expiry of at most 30s", ttl, err)
	}
	// Simulate expiry and another process taking the lock: the first
	// holder's late Unlock must not release the new holder's lock.
	if err := st.Client().Set(ctx, prefix+"lock:schedule:x", "other", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := held.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := st.Client().Get(ctx, prefix+"lock:schedule:x").Result(); v != "other" {
		t.Errorf("a stale holder released another's lock (value %q)", v)
	}
	if err := st.Client().Del(ctx, prefix+"lock:schedule:x").Err(); err != nil {
		t.Fatal(err)
	}
	again, err := l.Lock(ctx, "schedule:x")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	if err := again.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Client().Exists(ctx, prefix+"lock:schedule:x").Result(); n != 0 {
		t.Error("Unlock left the key")
	}
}

func TestStoreLockerUsesThePrefix(t *testing.T) {
	prefix := testPrefix()
	st := openTest(t, prefix)
	ctx := context.Background()
	held, err := st.Locker().Lock(ctx, "schedule:y")
	if err != nil {
		t.Fatal(err)
	}
	ttl, err := st.Client().PTTL(ctx, prefix+"lock:schedule:y").Result()
	if err != nil || ttl <= 0 || ttl > DefaultLockTTL {
		t.Fatalf("lock key %slock:schedule:y TTL = %v (%v), want an expiry of at most %v", prefix, ttl, err, DefaultLockTTL)
	}
	if err := held.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}
