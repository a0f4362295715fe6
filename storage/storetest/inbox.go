package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// runInbox runs the bot.InboxStore part of the suite on a store that has
// the capability.
func runInbox(t *testing.T, open func(t *testing.T) bot.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s bot.InboxStore, st bot.Store)
	}{
		{"EnqueueStoresAndClaims", testEnqueueStoresAndClaims},
		{"EnqueueRefusesAHeldClaim", testEnqueueRefusesAHeldClaim},
		{"EnqueueRefusesAnExistingDocument", testEnqueueRefusesAnExistingDocument},
		{"EnqueueWithoutClaims", testEnqueueWithoutClaims},
		{"DequeueRemovesReleasesAndClaims", testDequeueRemovesReleasesAndClaims},
		{"DequeueMissing", testDequeueMissing},
		{"ConcurrentEnqueue", testConcurrentEnqueue},
	}
	for _, tc := range tests {
		t.Run("Inbox/"+tc.name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			tc.fn(t, st.(bot.InboxStore), st)
		})
	}
}

func inboxOp(coll string) bot.InboxOp {
	return bot.InboxOp{Coll: coll, ID: unique("ticket"), Doc: []byte(`{"req":1}`),
		Claim: unique("event"), ClaimTTL: time.Hour, Lease: unique("lease"), LeaseTTL: time.Hour}
}

func mustEnqueue(t *testing.T, s bot.InboxStore, op bot.InboxOp, want bool) {
	t.Helper()
	got, err := s.Enqueue(ctx(t), op)
	if err != nil {
		t.Fatalf("Enqueue %s: %v", op.ID, err)
	}
	if got != want {
		t.Fatalf("Enqueue %s = %v, want %v", op.ID, got, want)
	}
}

// wantClaim takes key with Claim and checks whether it was free.
func wantClaim(t *testing.T, st bot.Store, key string, free bool) {
	t.Helper()
	got, err := st.Claim(ctx(t), key, time.Hour)
	if err != nil {
		t.Fatalf("Claim %s: %v", key, err)
	}
	if got != free {
		t.Fatalf("Claim %s = %v, want %v", key, got, free)
	}
}

func listIDs(t *testing.T, st bot.Store, coll string) []string {
	t.Helper()
	docs, err := st.List(ctx(t), coll)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	return ids
}

func testEnqueueStoresAndClaims(t *testing.T, s bot.InboxStore, st bot.Store) {
	op := inboxOp(unique("inbox"))
	mustEnqueue(t, s, op, true)
	if got := mustGet(t, st, op.Coll, op.ID); string(got) != string(op.Doc) {
		t.Fatalf("document = %s, want %s", got, op.Doc)
	}
	if ids := listIDs(t, st, op.Coll); !slices.Equal(ids, []string{op.ID}) {
		t.Fatalf("List = %v, want [%s]", ids, op.ID)
	}
	wantClaim(t, st, op.Claim, false)
	wantClaim(t, st, op.Lease, false)
}

func testEnqueueRefusesAHeldClaim(t *testing.T, s bot.InboxStore, st bot.Store) {
	op := inboxOp(unique("inbox"))
	wantClaim(t, st, op.Claim, true) // handled before, say
	mustEnqueue(t, s, op, false)
	if _, err := st.Get(ctx(t), op.Coll, op.ID); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("Get after a refused Enqueue: %v, want ENOTFOUND", err)
	}
	if ids := listIDs(t, st, op.Coll); len(ids) != 0 {
		t.Fatalf("List after a refused Enqueue = %v, want none", ids)
	}
	wantClaim(t, st, op.Lease, true) // the lease was not taken
}

func testEnqueueRefusesAnExistingDocument(t *testing.T, s bot.InboxStore, st bot.Store) {
	op := inboxOp(unique("inbox"))
	mustEnqueue(t, s, op, true)
	again := op
	again.Doc = []byte(`{"req":2}`)
	again.Claim, again.Lease = unique("event"), unique("lease")
	mustEnqueue(t, s, again, false)
	if got := mustGet(t, st, op.Coll, op.ID); string(got) != string(op.Doc) {
		t.Fatalf("document = %s after a refused Enqueue, want the first %s", got, op.Doc)
	}
	wantClaim(t, st, again.Claim, true)
	wantClaim(t, st, again.Lease, true)
}

func testEnqueueWithoutClaims(t *testing.T, s bot.InboxStore, st bot.Store) {
	coll := unique("inbox")
	a, b := inboxOp(coll), inboxOp(coll)
	a.Claim, a.Lease = "", ""
	b.Claim = ""
	mustEnqueue(t, s, a, true)
	mustEnqueue(t, s, b, true)
	want := []string{a.ID, b.ID}
	slices.Sort(want)
	if ids := listIDs(t, st, coll); !slices.Equal(ids, want) {
		t.Fatalf("List = %v, want %v", ids, want)
	}
	wantClaim(t, st, b.Lease, false)
}

func testDequeueRemovesReleasesAndClaims(t *testing.T, s bot.InboxStore, st bot.Store) {
	op := inboxOp(unique("inbox"))
	mustEnqueue(t, s, op, true)
	other := inboxOp(op.Coll)
	mustEnqueue(t, s, other, true)
	if err := s.Dequeue(ctx(t), bot.InboxOp{Coll: op.Coll, ID: op.ID, Claim: op.Claim, ClaimTTL: time.Hour, Lease: op.Lease}); err != nil {
		t.Fatalf("Dequeue: %v", err)
	}
	if _, err := st.Get(ctx(t), op.Coll, op.ID); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("Get after Dequeue: %v, want ENOTFOUND", err)
	}
	if ids := listIDs(t, st, op.Coll); !slices.Equal(ids, []string{other.ID}) {
		t.Fatalf("List after Dequeue = %v, want only [%s]", ids, other.ID)
	}
	wantClaim(t, st, op.Lease, true)  // released
	wantClaim(t, st, op.Claim, false) // still held: a retry is a duplicate
	wantClaim(t, st, other.Lease, false)

	// A claim nobody held is taken.
	fresh := unique("event")
	if err := s.Dequeue(ctx(t), bot.InboxOp{Coll: other.Coll, ID: other.ID, Claim: fresh, ClaimTTL: time.Hour}); err != nil {
		t.Fatalf("Dequeue: %v", err)
	}
	wantClaim(t, st, fresh, false)
}

func testDequeueMissing(t *testing.T, s bot.InboxStore, _ bot.Store) {
	if err := s.Dequeue(ctx(t), bot.InboxOp{Coll: unique("inbox"), ID: "never-there"}); err != nil {
		t.Fatalf("Dequeue of a missing entry: %v", err)
	}
}

// Concurrent deliveries of one event (a platform retry racing the first,
// or two replicas): exactly one is stored.
func testConcurrentEnqueue(t *testing.T, s bot.InboxStore, st bot.Store) {
	coll, claim := unique("inbox"), unique("event")
	var mu sync.Mutex
	var won []string
	c := ctx(t)
	parallel(t, func(w int) error {
		op := bot.InboxOp{Coll: coll, ID: fmt.Sprintf("t%03d", w), Doc: []byte("{}"), Claim: claim, ClaimTTL: time.Hour,
			Lease: unique("lease"), LeaseTTL: time.Hour}
		ok, err := s.Enqueue(c, op)
		if err != nil {
			return err
		}
		if ok {
			mu.Lock()
			won = append(won, op.ID)
			mu.Unlock()
		}
		return nil
	})
	if len(won) != 1 {
		t.Fatalf("%d concurrent Enqueues with one claim succeeded (%v), want exactly 1", len(won), won)
	}
	if ids := listIDs(t, st, coll); !slices.Equal(ids, won) {
		t.Fatalf("List = %v, want only the winner %v", ids, won)
	}
}
