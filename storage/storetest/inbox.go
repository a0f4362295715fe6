package storetest

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
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
		{"ConcurrentEnqueueMany", testConcurrentEnqueueMany},
		{"AnEntryNamedByItsClaim", testAnEntryNamedByItsClaim},
		{"AnEntryNamedByItsClaimCompletedByACommit", testAnEntryNamedByItsClaimCompletedByACommit},
		{"ConcurrentEnqueueOfAnEntryNamedByItsClaim", testConcurrentEnqueueOfAnEntryNamedByItsClaim},
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

func testConcurrentEnqueueMany(t *testing.T, s bot.InboxStore, st bot.Store) {
	EnqueueMany(t, s).Check(t, st)
}

// Enqueued is what EnqueueMany left in a store, for Check.
type Enqueued struct {
	coll string
	// docs are the documents the winning Enqueue of each kept event
	// stored, by id; done the ids dequeued afterwards.
	docs map[string]string
	done []string
	// claims are the claim names that must be held.
	claims []string
}

// EnqueueMany is many acknowledgements at once: 50 goroutines enqueue
// 500 different events, each delivered twice at the same moment (a
// platform retry racing the first delivery); every Enqueue must succeed
// or be refused as a duplicate, and exactly one of each pair is
// accepted. Then half of the events are dequeued concurrently. A backend
// that commits concurrent calls together (storage/bolt) must keep each
// call's outcome its own. Backends call it directly to check what it
// left after a restart (Check).
func EnqueueMany(t *testing.T, s bot.InboxStore) Enqueued {
	t.Helper()
	e := Enqueued{coll: unique("inbox"), docs: map[string]string{}}
	pre := unique("ev")
	op := func(w, i int) bot.InboxOp {
		ticket := fmt.Sprintf("%s%04d", pre, w/2*perWorker+i) // workers 2k and 2k+1 deliver the same events
		return bot.InboxOp{Coll: e.coll, ID: ticket, Doc: fmt.Appendf(nil, `{"worker":%d}`, w),
			Claim: "event:" + ticket, ClaimTTL: time.Hour, Lease: "lease:" + ticket, LeaseTTL: time.Hour}
	}
	var mu sync.Mutex
	won := map[string][]int{}
	c := ctx(t)
	parallel(t, func(w int) error {
		for i := range perWorker {
			o := op(w, i)
			ok, err := s.Enqueue(c, o)
			if err != nil {
				return fmt.Errorf("Enqueue %s: %w", o.ID, err)
			}
			if ok {
				mu.Lock()
				won[o.ID] = append(won[o.ID], w)
				mu.Unlock()
			}
		}
		return nil
	})
	for n := range workers / 2 * perWorker {
		id := fmt.Sprintf("%s%04d", pre, n)
		ws := won[id]
		if len(ws) != 1 {
			t.Fatalf("event %s accepted by %d Enqueues (workers %v), want exactly 1", id, len(ws), ws)
		}
		e.docs[id] = fmt.Sprintf(`{"worker":%d}`, ws[0])
		e.claims = append(e.claims, "event:"+id)
	}
	// The even-numbered events are handled: dequeued, the lease released,
	// the event claim renewed.
	parallel(t, func(w int) error {
		if w%2 != 0 {
			return nil
		}
		for i := range perWorker {
			o := op(w, i)
			if (w/2*perWorker+i)%2 != 0 {
				continue
			}
			if err := s.Dequeue(c, bot.InboxOp{Coll: o.Coll, ID: o.ID, Claim: o.Claim, ClaimTTL: time.Hour, Lease: o.Lease}); err != nil {
				return fmt.Errorf("Dequeue %s: %w", o.ID, err)
			}
		}
		return nil
	})
	for n := 0; n < workers/2*perWorker; n += 2 {
		id := fmt.Sprintf("%s%04d", pre, n)
		delete(e.docs, id)
		e.done = append(e.done, id)
	}
	for id := range e.docs {
		e.claims = append(e.claims, "lease:"+id)
	}
	return e
}

// Check verifies that st holds what EnqueueMany left: the kept events'
// documents as their winners stored them and nothing else, their event
// claims and leases held, the dequeued events' leases free and their
// event claims still held.
func (e Enqueued) Check(t *testing.T, st bot.Store) {
	t.Helper()
	var want []string
	for id := range e.docs {
		want = append(want, id)
	}
	slices.Sort(want)
	if ids := listIDs(t, st, e.coll); !slices.Equal(ids, want) {
		t.Fatalf("List = %d entries, want %d (%d events accepted, %d dequeued)", len(ids), len(want), len(e.docs)+len(e.done), len(e.done))
	}
	c := ctx(t)
	for id, doc := range e.docs {
		if got := mustGet(t, st, e.coll, id); string(got) != doc {
			t.Fatalf("%s = %s, want the accepted delivery's %s", id, got, doc)
		}
	}
	// Claim takes a free name: the held ones must be refused, the released
	// leases taken. Concurrently, as many lookups would be.
	var free []string
	for _, id := range e.done {
		free = append(free, "lease:"+id)
	}
	check := func(names []string, wantFree bool) {
		parallel(t, func(w int) error {
			for i := w; i < len(names); i += workers {
				got, err := st.Claim(c, names[i], time.Hour)
				if err != nil {
					return fmt.Errorf("Claim %s: %w", names[i], err)
				}
				if got != wantFree {
					return fmt.Errorf("Claim %s = %v, want %v", names[i], got, wantFree)
				}
			}
			return nil
		})
	}
	check(e.claims, false)
	check(free, true)
}

// claimNamed is an inbox entry named by its own claim, as the inbox names
// a platform event's (see bot.InboxOp).
func claimNamed() bot.InboxOp {
	id := unique("event:slack:Ev")
	return bot.InboxOp{Coll: bot.CollInbox, ID: id, Doc: []byte(`{"req":1}`), Claim: id, ClaimTTL: time.Hour}
}

// has reports whether the inbox lists id (other tests share the
// collection).
func has(t *testing.T, st bot.Store, id string) bool {
	t.Helper()
	return slices.Contains(listIDs(t, st, bot.CollInbox), id)
}

// An entry named by its claim: stored, listed and its claim held while
// it waits; once dequeued gone from reads and listings while its claim
// stays held, so a retry is refused.
func testAnEntryNamedByItsClaim(t *testing.T, s bot.InboxStore, st bot.Store) {
	op := claimNamed()
	mustEnqueue(t, s, op, true)
	if got := mustGet(t, st, op.Coll, op.ID); string(got) != string(op.Doc) {
		t.Fatalf("document = %s, want %s", got, op.Doc)
	}
	if !has(t, st, op.ID) {
		t.Fatalf("List does not show %s", op.ID)
	}
	wantClaim(t, st, op.Claim, false)
	again := op
	again.Doc = []byte(`{"req":2}`)
	mustEnqueue(t, s, again, false)
	if got := mustGet(t, st, op.Coll, op.ID); string(got) != string(op.Doc) {
		t.Fatalf("document = %s after a refused Enqueue, want the first %s", got, op.Doc)
	}
	if err := s.Dequeue(ctx(t), bot.InboxOp{Coll: op.Coll, ID: op.ID, Claim: op.Claim, ClaimTTL: time.Hour}); err != nil {
		t.Fatalf("Dequeue: %v", err)
	}
	if _, err := st.Get(ctx(t), op.Coll, op.ID); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("Get after Dequeue: %v, want ENOTFOUND", err)
	}
	if has(t, st, op.ID) {
		t.Fatalf("List shows %s after Dequeue", op.ID)
	}
	wantClaim(t, st, op.Claim, false)
	mustEnqueue(t, s, again, false) // a retry after the event was handled
	if _, err := st.Get(ctx(t), op.Coll, op.ID); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("Get after a refused retry: %v, want ENOTFOUND", err)
	}
	if has(t, st, op.ID) {
		t.Fatalf("List shows %s after a refused retry", op.ID)
	}
}

// The inbox's completion in a unit of work — the entry deleted, its
// claim taken, on the condition that the entry is there — completes an
// entry named by its claim once: a second completion conflicts, a retry
// is refused.
func testAnEntryNamedByItsClaimCompletedByACommit(t *testing.T, s bot.InboxStore, st bot.Store) {
	tx, ok := st.(bot.TxStore)
	if !ok {
		t.Fatal("a store with the inbox's capability must have units of work (bot.TxStore)")
	}
	op := claimNamed()
	mustEnqueue(t, s, op, true)
	complete := &bot.Commit{
		Expects: []bot.Expect{{Kind: bot.ExpectDoc, Coll: op.Coll, ID: op.ID, Exists: true, Any: true}},
		Writes: []bot.Write{
			{Kind: bot.WriteDelete, Coll: op.Coll, ID: op.ID},
			{Kind: bot.WriteClaim, Name: op.Claim, TTL: time.Hour},
		},
	}
	if err := tx.Commit(ctx(t), complete); err != nil {
		t.Fatalf("completion: %v", err)
	}
	if _, err := st.Get(ctx(t), op.Coll, op.ID); bot.ErrorCode(err) != bot.ENOTFOUND {
		t.Fatalf("Get after the completion: %v, want ENOTFOUND", err)
	}
	if err := tx.Commit(ctx(t), complete); bot.ErrorCode(err) != bot.ECONFLICT {
		t.Fatalf("a second completion: %v, want ECONFLICT", err)
	}
	wantClaim(t, st, op.Claim, false)
	mustEnqueue(t, s, op, false)
	if has(t, st, op.ID) {
		t.Fatalf("List shows %s after a refused retry", op.ID)
	}
}

// Concurrent deliveries of one event named by its claim: exactly one is
// stored.
func testConcurrentEnqueueOfAnEntryNamedByItsClaim(t *testing.T, s bot.InboxStore, st bot.Store) {
	op := claimNamed()
	var won atomic.Int32
	c := ctx(t)
	parallel(t, func(w int) error {
		o := op
		o.Doc = fmt.Appendf(nil, `{"worker":%d}`, w)
		ok, err := s.Enqueue(c, o)
		if ok {
			won.Add(1)
		}
		return err
	})
	if won.Load() != 1 {
		t.Fatalf("%d concurrent Enqueues of one event succeeded, want exactly 1", won.Load())
	}
	if !has(t, st, op.ID) {
		t.Fatalf("List does not show %s", op.ID)
	}
}
