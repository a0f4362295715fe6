package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// runExpire is the bot.DocExpirer part of the suite. Expiry is tested on
// the real clock, as for claims; backends with an injectable clock test
// the exact boundary and the clean-up in their own tests.
func runExpire(t *testing.T, open func(t *testing.T) bot.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, x bot.DocExpirer, st bot.Store)
	}{
		{"GetUntilExpiry", testExpiringGet},
		{"NotListed", testExpiringNotListed},
		{"Delete", testExpiringDelete},
		{"PutAgainExtends", testExpiringPutAgain},
	}
	for _, tc := range tests {
		t.Run("Expiring/"+tc.name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			tc.fn(t, st.(bot.DocExpirer), st)
		})
	}
}

func mustPutExpiring(t *testing.T, x bot.DocExpirer, coll, id, doc string, ttl time.Duration) {
	t.Helper()
	if err := x.PutExpiring(ctx(t), coll, id, []byte(doc), ttl); err != nil {
		t.Fatalf("PutExpiring %s/%s: %v", coll, id, err)
	}
}

// waitGone polls until coll/id is no longer found, failing after 10 s.
func waitGone(t *testing.T, st bot.Store, coll, id string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		_, err := st.Get(ctx(t), coll, id)
		if bot.IsNotFound(err) {
			return time.Since(start)
		}
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s/%s still found after %v", coll, id, time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testExpiringGet(t *testing.T, x bot.DocExpirer, st bot.Store) {
	const ttl = 100 * time.Millisecond
	coll := unique("xdocs")
	start := time.Now()
	mustPutExpiring(t, x, coll, "a", `{"v":1}`, ttl)
	if got := mustGet(t, st, coll, "a"); string(got) != `{"v":1}` {
		t.Fatalf("Get = %s", got)
	}
	waitGone(t, st, coll, "a")
	if el := time.Since(start); el < ttl/2 {
		t.Fatalf("document with ttl %v gone after %v", ttl, el)
	}
	// Long-lived ones stay.
	mustPutExpiring(t, x, coll, "b", `{}`, time.Hour)
	mustGet(t, st, coll, "b")
	t.Cleanup(func() { _ = st.Delete(ctx(t), coll, "b") })
}

func testExpiringNotListed(t *testing.T, x bot.DocExpirer, st bot.Store) {
	coll := unique("xdocs")
	mustPutExpiring(t, x, coll, "x", `{}`, time.Hour)
	if err := st.Put(ctx(t), coll, "listed", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = st.Delete(ctx(t), coll, "x")
		_ = st.Delete(ctx(t), coll, "listed")
	})
	docs, err := st.List(ctx(t), coll)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{"listed"}) {
		t.Fatalf("List = %v, want only the listed document", ids)
	}
}

func testExpiringDelete(t *testing.T, x bot.DocExpirer, st bot.Store) {
	coll := unique("xdocs")
	mustPutExpiring(t, x, coll, "a", `{}`, time.Hour)
	if err := st.Delete(ctx(t), coll, "a"); err != nil {
		t.Fatal(err)
	}
	_, err := st.Get(ctx(t), coll, "a")
	wantCode(t, "Get after Delete", err, bot.ENOTFOUND)
}

func testExpiringPutAgain(t *testing.T, x bot.DocExpirer, st bot.Store) {
	coll := unique("xdocs")
	mustPutExpiring(t, x, coll, "a", `{"v":1}`, 50*time.Millisecond)
	mustPutExpiring(t, x, coll, "a", `{"v":2}`, time.Hour) // replaces value and ttl
	t.Cleanup(func() { _ = st.Delete(ctx(t), coll, "a") })
	waitOut(time.Now(), 150*time.Millisecond)
	if got := mustGet(t, st, coll, "a"); string(got) != `{"v":2}` {
		t.Fatalf("Get = %s, want the second value", got)
	}
}
