package storetest

import (
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// runRenew runs the bot.ClaimRenewer part of the suite on a store that
// has the capability. Expiry is real time here, as in ClaimExpires.
func runRenew(t *testing.T, open func(t *testing.T) bot.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, r bot.ClaimRenewer, st bot.Store)
	}{
		{"RenewFreeTakesNothing", testRenewFree},
		{"RenewKeepsAClaimPastItsTTL", testRenewKeeps},
		{"RenewAfterExpiry", testRenewAfterExpiry},
		{"RenewSetsTheNewTTL", testRenewSetsTTL},
	}
	for _, tc := range tests {
		t.Run("Renew/"+tc.name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			tc.fn(t, st.(bot.ClaimRenewer), st)
		})
	}
}

func mustRenew(t *testing.T, r bot.ClaimRenewer, key string, ttl time.Duration, want bool) {
	t.Helper()
	got, err := r.Renew(ctx(t), key, ttl)
	if err != nil {
		t.Fatalf("Renew %s: %v", key, err)
	}
	if got != want {
		t.Fatalf("Renew %s = %v, want %v", key, got, want)
	}
}

// waitOut waits until d has passed since start, on the real clock that
// the backends expire claims by.
func waitOut(start time.Time, d time.Duration) {
	for time.Since(start) < d {
		time.Sleep(5 * time.Millisecond)
	}
}

func testRenewFree(t *testing.T, r bot.ClaimRenewer, st bot.Store) {
	key := unique("lease")
	mustRenew(t, r, key, time.Hour, false)
	wantClaim(t, st, key, true) // Renew took nothing
}

func testRenewKeeps(t *testing.T, r bot.ClaimRenewer, st bot.Store) {
	const ttl = 100 * time.Millisecond
	key := unique("lease")
	start := time.Now()
	if got, err := st.Claim(ctx(t), key, ttl); err != nil || !got {
		t.Fatalf("Claim = %v, %v; want true", got, err)
	}
	mustRenew(t, r, key, time.Hour, true)
	waitOut(start, 3*ttl)
	wantClaim(t, st, key, false) // still held long after the first ttl
	mustRenew(t, r, key, time.Hour, true)
}

func testRenewAfterExpiry(t *testing.T, r bot.ClaimRenewer, st bot.Store) {
	const ttl = 50 * time.Millisecond
	key := unique("lease")
	start := time.Now()
	if got, err := st.Claim(ctx(t), key, ttl); err != nil || !got {
		t.Fatalf("Claim = %v, %v; want true", got, err)
	}
	waitOut(start, 4*ttl)
	mustRenew(t, r, key, time.Hour, false) // an expired claim is not revived
	wantClaim(t, st, key, true)
}

func testRenewSetsTTL(t *testing.T, r bot.ClaimRenewer, st bot.Store) {
	const ttl = 50 * time.Millisecond
	key := unique("lease")
	if got, err := st.Claim(ctx(t), key, time.Hour); err != nil || !got {
		t.Fatalf("Claim = %v, %v; want true", got, err)
	}
	start := time.Now()
	mustRenew(t, r, key, ttl, true) // ttl from now, not added to the hour
	deadline := start.Add(10 * time.Second)
	for {
		got, err := st.Claim(ctx(t), key, time.Hour)
		if err != nil {
			t.Fatalf("Claim: %v", err)
		}
		if got {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("claim renewed for %v still held after %v", ttl, time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
}
