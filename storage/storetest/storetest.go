// Package storetest is the conformance suite every bot.Store backend must
// pass, so the backends agree on semantics (error codes, ordering,
// atomicity under concurrency) and the core can treat them alike.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Concurrency shape of the race tests: workers goroutines doing perWorker
// operations each.
const (
	workers   = 50
	perWorker = 20
)

// Run runs the conformance suite, and the bot.InboxStore part of it when
// the store has that capability. open must return a fresh, empty store for
// each call and register with t.Cleanup whatever releases it (closing the
// store, deleting its keys); Run never closes the store itself because a
// backend may need it open to clean up. Subtests run in parallel and also
// use unique collection, counter and claim names.
func Run(t *testing.T, open func(t *testing.T) bot.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s bot.Store)
	}{
		{"GetMissing", testGetMissing},
		{"CreateGet", testCreateGet},
		{"CreateTwice", testCreateTwice},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"UpdateMissing", testUpdateMissing},
		{"UpdateApplies", testUpdateApplies},
		{"UpdateFnError", testUpdateFnError},
		{"PutDelete", testPutDelete},
		{"DeleteMissing", testDeleteMissing},
		{"ListOrderAndIsolation", testListOrderAndIsolation},
		{"ListEmpty", testListEmpty},
		{"NextSeq", testNextSeq},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"ConcurrentNextSeq", testConcurrentNextSeq},
		{"ConcurrentCreate", testConcurrentCreate},
		{"Claim", testClaim},
		{"ClaimExpires", testClaimExpires},
		{"ConcurrentClaim", testConcurrentClaim},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
	if _, ok := open(t).(bot.InboxStore); ok {
		runInbox(t, open)
	}
	if _, ok := open(t).(bot.TxStore); ok {
		runCommit(t, open)
	}
	if _, ok := open(t).(bot.ClaimRenewer); ok {
		runRenew(t, open)
	}
	if _, ok := open(t).(bot.Scanner); ok {
		runScan(t, open)
	}
	if _, ok := open(t).(bot.DocExpirer); ok {
		runExpire(t, open)
	}
}

// unique returns a name unique to this run, so subtests sharing a backend
// (or a Redis server shared with other runs) never see each other's data.
func unique(base string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return base + "_" + hex.EncodeToString(b[:])
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func wantCode(t *testing.T, op string, err error, code string) {
	t.Helper()
	if got := bot.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (err %v), want %q", op, got, err, code)
	}
}

func mustGet(t *testing.T, s bot.Store, coll, id string) []byte {
	t.Helper()
	doc, err := s.Get(ctx(t), coll, id)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", coll, id, err)
	}
	return doc
}

func testGetMissing(t *testing.T, s bot.Store) {
	_, err := s.Get(ctx(t), unique("things"), "nope")
	wantCode(t, "Get missing", err, bot.ENOTFOUND)
	if !bot.IsNotFound(err) {
		t.Fatalf("IsNotFound(%v) = false", err)
	}
}

func testCreateGet(t *testing.T, s bot.Store) {
	coll := unique("things")
	if err := s.Create(ctx(t), coll, "a", []byte(`{"x":1}`)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if got := mustGet(t, s, coll, "a"); string(got) != `{"x":1}` {
		t.Fatalf("Get = %s, want {\"x\":1}", got)
	}
}

func testCreateTwice(t *testing.T, s bot.Store) {
	coll := unique("things")
	if err := s.Create(ctx(t), coll, "a", []byte(`1`)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	err := s.Create(ctx(t), coll, "a", []byte(`2`))
	wantCode(t, "second Create", err, bot.ECONFLICT)
	if got := mustGet(t, s, coll, "a"); string(got) != `1` {
		t.Fatalf("failed Create overwrote the document: %s", got)
	}
}

// Callers may scribble on what Get returns without corrupting the store.
func testGetReturnsCopy(t *testing.T, s bot.Store) {
	coll := unique("things")
	if err := s.Put(ctx(t), coll, "a", []byte(`abc`)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got := mustGet(t, s, coll, "a")
	copy(got, "xyz")
	if got := mustGet(t, s, coll, "a"); string(got) != `abc` {
		t.Fatalf("Get = %s after mutating an earlier result, want abc", got)
	}
}

func testUpdateMissing(t *testing.T, s bot.Store) {
	called := false
	err := s.Update(ctx(t), unique("things"), "nope", func(cur []byte) ([]byte, error) {
		called = true
		return cur, nil
	})
	wantCode(t, "Update missing", err, bot.ENOTFOUND)
	if called {
		t.Fatal("Update called fn for a missing document")
	}
}

func testUpdateApplies(t *testing.T, s bot.Store) {
	coll := unique("things")
	if err := s.Create(ctx(t), coll, "a", []byte(`old`)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	err := s.Update(ctx(t), coll, "a", func(cur []byte) ([]byte, error) {
		if string(cur) != "old" {
			return nil, fmt.Errorf("fn got %q, want old", cur)
		}
		return []byte("new"), nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if got := mustGet(t, s, coll, "a"); string(got) != "new" {
		t.Fatalf("Get after Update = %s, want new", got)
	}
}

func testUpdateFnError(t *testing.T, s bot.Store) {
	coll := unique("things")
	if err := s.Create(ctx(t), coll, "a", []byte(`keep`)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	boom := errors.New("boom")
	// A coded error must come back with its code intact too.
	coded := bot.Coded(bot.EINVALID, "error.test")
	for _, want := range []error{boom, coded} {
		err := s.Update(ctx(t), coll, "a", func([]byte) ([]byte, error) {
			return []byte("changed"), want
		})
		if !errors.Is(err, want) {
			t.Fatalf("Update returned %v, want the fn error %v", err, want)
		}
		if got := mustGet(t, s, coll, "a"); string(got) != "keep" {
			t.Fatalf("failed Update changed the document to %s", got)
		}
	}
	wantCode(t, "Update with coded fn error", s.Update(ctx(t), coll, "a", func([]byte) ([]byte, error) {
		return nil, coded
	}), bot.EINVALID)
}

func testPutDelete(t *testing.T, s bot.Store) {
	coll := unique("things")
	for _, v := range []string{"one", "two"} { // insert, then overwrite
		if err := s.Put(ctx(t), coll, "a", []byte(v)); err != nil {
			t.Fatalf("Put %s: %v", v, err)
		}
		if got := mustGet(t, s, coll, "a"); string(got) != v {
			t.Fatalf("Get after Put = %s, want %s", got, v)
		}
	}
	if err := s.Delete(ctx(t), coll, "a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := s.Get(ctx(t), coll, "a")
	wantCode(t, "Get after Delete", err, bot.ENOTFOUND)
	docs, err := s.List(ctx(t), coll)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(docs) != 0 {
		t.Fatalf("List after Delete = %v, want empty", docs)
	}
	// A deleted id can be created again.
	if err := s.Create(ctx(t), coll, "a", []byte("three")); err != nil {
		t.Fatalf("Create after Delete: %v", err)
	}
}

func testDeleteMissing(t *testing.T, s bot.Store) {
	coll := unique("things")
	if err := s.Delete(ctx(t), coll, "nope"); err != nil {
		t.Fatalf("Delete missing (unknown collection): %v", err)
	}
	if err := s.Put(ctx(t), coll, "a", []byte("x")); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if err := s.Delete(ctx(t), coll, "nope"); err != nil {
		t.Fatalf("Delete missing (known collection): %v", err)
	}
}

func testListOrderAndIsolation(t *testing.T, s bot.Store) {
	a, b := unique("list"), unique("list")
	// Ids sort bytewise: "10" < "9", "a" < "ab" < "b".
	for _, id := range []string{"b", "9", "ab", "a", "10"} {
		if err := s.Create(ctx(t), a, id, []byte("doc-"+id)); err != nil {
			t.Fatalf("Create %s: %v", id, err)
		}
	}
	if err := s.Create(ctx(t), b, "other", []byte("doc-other")); err != nil {
		t.Fatalf("Create other: %v", err)
	}
	// A collection whose name extends a's must not leak into a.
	if err := s.Create(ctx(t), a+"x", "zzz", []byte("doc-zzz")); err != nil {
		t.Fatalf("Create zzz: %v", err)
	}
	docs, err := s.List(ctx(t), a)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var ids []string
	for _, d := range docs {
		if string(d.Data) != "doc-"+d.ID {
			t.Errorf("List: doc %s has data %s", d.ID, d.Data)
		}
		ids = append(ids, d.ID)
	}
	if want := []string{"10", "9", "a", "ab", "b"}; !slices.Equal(ids, want) {
		t.Fatalf("List ids = %v, want %v", ids, want)
	}
	docs, err = s.List(ctx(t), b)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(docs) != 1 || docs[0].ID != "other" {
		t.Fatalf("List of second collection = %v, want just other", docs)
	}
}

func testListEmpty(t *testing.T, s bot.Store) {
	docs, err := s.List(ctx(t), unique("empty"))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(docs) != 0 {
		t.Fatalf("List of an unknown collection = %v, want empty", docs)
	}
}

func testNextSeq(t *testing.T, s bot.Store) {
	a, b := unique("seq"), unique("seq")
	for want := int64(1); want <= 3; want++ {
		got, err := s.NextSeq(ctx(t), a)
		if err != nil {
			t.Fatalf("NextSeq: %v", err)
		}
		if got != want {
			t.Fatalf("NextSeq = %d, want %d", got, want)
		}
	}
	if got, err := s.NextSeq(ctx(t), b); err != nil || got != 1 {
		t.Fatalf("NextSeq of a second counter = %d, %v; want 1", got, err)
	}
}

// counter is the document the concurrent Update test increments.
type counter struct {
	N int `json:"n"`
}

func testConcurrentUpdate(t *testing.T, s bot.Store) {
	coll := unique("race")
	if err := s.Create(ctx(t), coll, "c", []byte(`{"n":0}`)); err != nil {
		t.Fatalf("Create: %v", err)
	}
	c := ctx(t)
	parallel(t, func(int) error {
		for range perWorker {
			err := s.Update(c, coll, "c", func(cur []byte) ([]byte, error) {
				var v counter
				if err := json.Unmarshal(cur, &v); err != nil {
					return nil, err
				}
				v.N++
				return json.Marshal(v)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	var v counter
	if err := json.Unmarshal(mustGet(t, s, coll, "c"), &v); err != nil {
		t.Fatal(err)
	}
	if v.N != workers*perWorker {
		t.Fatalf("counter = %d after %d concurrent increments (lost updates)", v.N, workers*perWorker)
	}
}

func testConcurrentNextSeq(t *testing.T, s bot.Store) {
	seq := unique("seq")
	got := make([][]int64, workers)
	c := ctx(t)
	parallel(t, func(w int) error {
		for range perWorker {
			n, err := s.NextSeq(c, seq)
			if err != nil {
				return err
			}
			got[w] = append(got[w], n)
		}
		return nil
	})
	all := slices.Concat(got...)
	slices.Sort(all)
	for i, n := range all {
		if n != int64(i+1) {
			t.Fatalf("sorted NextSeq values start diverging at index %d: got %d, want %d (duplicates or gaps)", i, n, i+1)
		}
	}
	if len(all) != workers*perWorker {
		t.Fatalf("got %d values, want %d", len(all), workers*perWorker)
	}
}

func testConcurrentCreate(t *testing.T, s bot.Store) {
	coll := unique("race")
	var mu sync.Mutex
	var won []int
	c := ctx(t)
	parallel(t, func(w int) error {
		err := s.Create(c, coll, "same", fmt.Appendf(nil, "%d", w))
		if bot.ErrorCode(err) == bot.ECONFLICT {
			return nil
		}
		if err != nil {
			return err
		}
		mu.Lock()
		won = append(won, w)
		mu.Unlock()
		return nil
	})
	if len(won) != 1 {
		t.Fatalf("%d concurrent Creates of one id succeeded (%v), want exactly 1", len(won), won)
	}
	if got := mustGet(t, s, coll, "same"); string(got) != fmt.Sprint(won[0]) {
		t.Fatalf("document = %s, want the winner's %d", got, won[0])
	}
}

func testClaim(t *testing.T, s bot.Store) {
	key := unique("claim")
	for i, want := range []bool{true, false, false} {
		got, err := s.Claim(ctx(t), key, time.Hour)
		if err != nil {
			t.Fatalf("Claim: %v", err)
		}
		if got != want {
			t.Fatalf("Claim #%d = %v, want %v", i+1, got, want)
		}
	}
	if got, err := s.Claim(ctx(t), unique("claim"), time.Hour); err != nil || !got {
		t.Fatalf("Claim of another key = %v, %v; want true", got, err)
	}
}

// testClaimExpires uses the real clock: a short ttl, then bounded polling
// until the claim can be taken again. Backends with an injectable clock
// test exact expiry boundaries in their own tests.
func testClaimExpires(t *testing.T, s bot.Store) {
	const ttl = 100 * time.Millisecond
	key := unique("claim")
	start := time.Now()
	if got, err := s.Claim(ctx(t), key, ttl); err != nil || !got {
		t.Fatalf("first Claim = %v, %v; want true", got, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := s.Claim(ctx(t), key, ttl)
		if err != nil {
			t.Fatalf("Claim: %v", err)
		}
		if got {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("claim with ttl %v still held after %v", ttl, time.Since(start))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Generous slack for clock granularity; this catches claims that were
	// never stored, not millisecond precision.
	if el := time.Since(start); el < ttl/2 {
		t.Fatalf("claim with ttl %v was free again after %v", ttl, el)
	}
}

func testConcurrentClaim(t *testing.T, s bot.Store) {
	key := unique("claim")
	var mu sync.Mutex
	wins := 0
	c := ctx(t)
	parallel(t, func(int) error {
		ok, err := s.Claim(c, key, time.Hour)
		if err != nil {
			return err
		}
		if ok {
			mu.Lock()
			wins++
			mu.Unlock()
		}
		return nil
	})
	if wins != 1 {
		t.Fatalf("%d concurrent Claims of one key returned true, want exactly 1", wins)
	}
}

func testPing(t *testing.T, s bot.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// parallel runs fn in workers goroutines released together, and fails the
// test with every error returned.
func parallel(t *testing.T, fn func(worker int) error) {
	t.Helper()
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []string
	)
	for w := range workers {
		wg.Go(func() {
			<-start
			if err := fn(w); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("worker %d: %v", w, err))
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d workers failed:\n%s", len(errs), strings.Join(errs, "\n"))
	}
}
