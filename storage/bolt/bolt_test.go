package bolt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/storage/storetest"
)

func openTemp(t testing.TB, opts ...Option) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "xunji.db") // sub/ checks MkdirAll
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bot.Store {
		s, _ := openTemp(t)
		return s
	})
}

func TestFileMode(t *testing.T) {
	_, path := openTemp(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Fatalf("file mode = %v, want 0600", mode)
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	if err := s.Create(ctx, "things", "a", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextSeq(ctx, "ids"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); bot.ErrorCode(err) != bot.EUNAVAILABLE {
		t.Fatalf("Ping after Close = %v, want EUNAVAILABLE", err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if got, err := s.Get(ctx, "things", "a"); err != nil || string(got) != "kept" {
		t.Fatalf("Get after reopen = %q, %v; want kept", got, err)
	}
	if n, err := s.NextSeq(ctx, "ids"); err != nil || n != 2 {
		t.Fatalf("NextSeq after reopen = %d, %v; want 2", n, err)
	}
}

// A second opener must get a clear error within about a second, not hang.
// flock locks are per open file, so this works within one process too.
func TestLockedByOther(t *testing.T) {
	_, path := openTemp(t)
	start := time.Now()
	s2, err := Open(path)
	if err == nil {
		_ = s2.Close()
		t.Fatal("second Open of a locked file succeeded")
	}
	if bot.ErrorCode(err) != bot.EUNAVAILABLE || !errors.Is(err, bbolt.ErrTimeout) {
		t.Fatalf("second Open: %v, want EUNAVAILABLE wrapping bbolt.ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("error %q does not say the file is locked", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("second Open took %v", el)
	}
}

// fakeClock is an adjustable clock safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestClaimExpiryClock(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s, _ := openTemp(t, WithNow(clock.Now))

	claim := func(key string, want bool) {
		t.Helper()
		got, err := s.Claim(ctx, key, time.Minute)
		if err != nil {
			t.Fatalf("Claim(%s): %v", key, err)
		}
		if got != want {
			t.Fatalf("Claim(%s) at %v = %v, want %v", key, clock.Now().Format(time.TimeOnly), got, want)
		}
	}
	claim("k", true)
	clock.Advance(time.Minute - time.Nanosecond)
	claim("k", false) // still held one nanosecond before expiry
	clock.Advance(time.Nanosecond)
	claim("k", true) // free exactly at expiry, and claimed anew
	clock.Advance(time.Second)
	claim("k", false) // the new claim runs from the re-claim time
}

// Expired claims are deleted by later claims, not kept forever.
func TestClaimSweep(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s, _ := openTemp(t, WithNow(clock.Now))
	const n = 3 * sweepLimit
	for i := range n {
		if ok, err := s.Claim(ctx, fmt.Sprintf("old%03d", i), time.Second); err != nil || !ok {
			t.Fatalf("Claim: %v, %v", ok, err)
		}
	}
	clock.Advance(time.Hour)
	for i := range 3 { // each call sweeps up to sweepLimit
		if ok, err := s.Claim(ctx, fmt.Sprintf("new%d", i), time.Hour); err != nil || !ok {
			t.Fatalf("Claim: %v, %v", ok, err)
		}
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{claimsBucket, claimExpBucket} {
			if got := tx.Bucket(b).Stats().KeyN; got != 3 {
				return fmt.Errorf("bucket %s has %d keys after sweeping, want 3", b, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An expired-but-unswept claim of the same key is replaced cleanly.
	clock.Advance(2 * time.Hour)
	if ok, err := s.Claim(ctx, "new0", time.Hour); err != nil || !ok {
		t.Fatalf("re-Claim after expiry = %v, %v; want true", ok, err)
	}
}

// Expiring documents: found until their expiry on the store's clock, not
// after, and swept from the file in bounded batches by later writes.
func TestPutExpiringExpiresAndIsSwept(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s, _ := openTemp(t, WithNow(clock.Now))
	const n = 3 * sweepLimit
	for i := range n {
		if err := s.PutExpiring(ctx, "sent", fmt.Sprintf("old%03d", i), []byte("{}"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Hour - time.Nanosecond)
	if _, err := s.Get(ctx, "sent", "old000"); err != nil {
		t.Fatalf("Get just before expiry: %v", err)
	}
	clock.Advance(time.Nanosecond)
	if _, err := s.Get(ctx, "sent", "old000"); !bot.IsNotFound(err) {
		t.Fatalf("Get at expiry: %v, want not found", err)
	}
	for i := range 3 { // each write sweeps up to sweepLimit
		if err := s.PutExpiring(ctx, "sent", fmt.Sprintf("new%d", i), []byte("{}"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{xdocsBucket, xdocExpBucket} {
			if got := tx.Bucket(b).Stats().KeyN; got != 3 {
				return fmt.Errorf("bucket %s has %d keys after sweeping, want 3", b, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Dedupe claims expire however they were taken: by a unit of work's
// commit (the inbox completion renews the event's claim), by Dequeue and
// by Enqueue; later writes sweep them from the file.
func TestDedupeClaimsExpireAndAreSwept(t *testing.T) {
	ctx := t.Context()
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s, _ := openTemp(t, WithNow(clock.Now))
	if err := s.Commit(ctx, &bot.Commit{Writes: []bot.Write{{Kind: bot.WriteClaim, Name: "event:lark:E1", TTL: bot.DedupeTTL}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Dequeue(ctx, bot.InboxOp{Coll: "inbox", ID: "ev:slack:E2", Claim: "event:slack:E2", ClaimTTL: bot.DedupeTTL}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Enqueue(ctx, bot.InboxOp{Coll: "inbox", ID: "ev:slack:E3", Doc: []byte("{}"), Claim: "event:slack:E3", ClaimTTL: bot.DedupeTTL}); err != nil || !ok {
		t.Fatalf("Enqueue: %v, %v", ok, err)
	}
	keys := []string{"event:lark:E1", "event:slack:E2", "event:slack:E3"}
	clock.Advance(bot.DedupeTTL - time.Nanosecond)
	for _, k := range keys {
		if held, err := s.ClaimHeld(ctx, k); err != nil || !held {
			t.Fatalf("%s held just before its ttl = %v, %v", k, held, err)
		}
	}
	clock.Advance(time.Nanosecond)
	for _, k := range keys {
		if held, err := s.ClaimHeld(ctx, k); err != nil || held {
			t.Fatalf("%s held at its ttl = %v, %v", k, held, err)
		}
	}
	if ok, err := s.Claim(ctx, "other", time.Hour); err != nil || !ok { // sweeps
		t.Fatalf("Claim: %v, %v", ok, err)
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{claimsBucket, claimExpBucket} {
			if got := tx.Bucket(b).Stats().KeyN; got != 1 {
				return fmt.Errorf("bucket %s has %d keys after sweeping, want 1", b, got)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEmptyDocument(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	if err := s.Create(ctx, "things", "empty", nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "things", "empty")
	if err != nil || len(got) != 0 {
		t.Fatalf("Get of an empty document = %q, %v; want empty, nil", got, err)
	}
}

const (
	helperEnv = "XUNJI_BOLT_HELPER_PATH"
	helperDoc = "survivor"
)

// TestHelperProcess is the child of TestKill9Durability, not a test on its
// own: it writes a document, reports "ok" and then waits to be killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		return // only meaningful as the child of TestKill9Durability
	}
	s, err := Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper open:", err)
		os.Exit(2)
	}
	if err := s.Create(context.Background(), "things", helperDoc, []byte(`{"alive":true}`)); err != nil {
		fmt.Fprintln(os.Stderr, "helper create:", err)
		os.Exit(2)
	}
	fmt.Println("ok")
	// Block until killed. If the parent dies first our stdin pipe closes,
	// so no orphan is left behind.
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// An acknowledged write survives SIGKILL: nothing is buffered in the
// process, and a killed writer leaves neither a corrupt file nor a stale
// lock.
func TestKill9Durability(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xunji.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()

	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ok" {
				ready <- nil
				_, _ = io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- fmt.Errorf("helper exited before ok: %v", sc.Err())
	}()
	select {
	case err := <-ready:
		if err != nil {
			_ = cmd.Wait()
			t.Fatalf("%v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("helper did not report ok within 30s; stderr:\n%s", stderr.String())
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed = true
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper was not killed by SIGKILL: %v", err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	got, err := s.Get(t.Context(), "things", helperDoc)
	if err != nil || string(got) != `{"alive":true}` {
		t.Fatalf("document after SIGKILL = %q, %v; want it intact", got, err)
	}
}

// Concurrent acknowledgements share commits; each one's outcome is still
// its own, and all of it is on disk: it survives closing and reopening.
func TestConcurrentEnqueueSurvivesReopen(t *testing.T) {
	s, path := openTemp(t)
	commits0 := lastTxID(t, s)
	left := storetest.EnqueueMany(t, s)
	commits := lastTxID(t, s) - commits0
	// 1,000 Enqueues and 250 Dequeues: far fewer commits when they share
	// them. Logged, not asserted: how many share one depends on timing.
	t.Logf("%d commits for 1,250 concurrent inbox operations", commits)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	left.Check(t, s)
}

// holdCommitter keeps the group commit busy with a write of its own
// until release is called, so that the calls made meanwhile all wait for
// the next commit; queued reports how many do.
func holdCommitter(t *testing.T, s *Store) (queued func() int, release func()) {
	t.Helper()
	entered, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.batch(func(*bbolt.Tx) error {
			entered <- struct{}{}
			<-unblock
			return nil
		})
	}()
	<-entered
	queued = func() int {
		s.group.mu.Lock()
		defer s.group.mu.Unlock()
		return len(s.group.queue)
	}
	return queued, func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Errorf("holding write: %v", err)
		}
	}
}

// waitQueued waits until n calls wait for the next commit.
func waitQueued(t *testing.T, queued func() int, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for queued() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", queued(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A call whose writes fail does not fail the calls that shared its
// transaction: it gets its error, and the others run again without it
// and commit, so each call's outcome must come from its last run: of
// concurrent Creates of one id exactly one succeeds, of concurrent
// Enqueues of one event exactly one is accepted.
func TestFailedCallLeavesItsGroupIntact(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	queued, release := holdCommitter(t, s)
	commits0 := lastTxID(t, s)
	const n = 30
	var wg sync.WaitGroup
	errs := make([]error, n)
	accepted := make([]bool, n)
	for i := range n {
		wg.Go(func() {
			switch {
			case i == 7:
				errs[i] = s.Put(ctx, "things", "", []byte("x")) // bbolt refuses an empty key
			case i%3 == 0:
				errs[i] = s.Create(ctx, "things", "same", fmt.Appendf(nil, "%d", i))
				accepted[i] = errs[i] == nil
			case i%3 == 1:
				accepted[i], errs[i] = s.Enqueue(ctx, bot.InboxOp{Coll: bot.CollInbox, ID: fmt.Sprintf("t%02d", i), Doc: []byte("{}"),
					Claim: "event:same", ClaimTTL: time.Hour, Lease: fmt.Sprintf("lease:%02d", i), LeaseTTL: time.Hour})
			default:
				errs[i] = s.Put(ctx, "things", fmt.Sprintf("doc%02d", i), []byte("x"))
			}
		})
	}
	waitQueued(t, queued, n)
	release()
	wg.Wait()
	creates, enqueues := 0, 0
	for i, err := range errs {
		switch {
		case i == 7:
			if err == nil {
				t.Errorf("Put with an empty id succeeded")
			}
		case i%3 == 0:
			if err != nil && bot.ErrorCode(err) != bot.ECONFLICT {
				t.Errorf("Create %d: %v", i, err)
			}
			if accepted[i] {
				creates++
			}
		case i%3 == 1:
			if err != nil {
				t.Errorf("Enqueue %d: %v", i, err)
			}
			if accepted[i] {
				enqueues++
			}
		default:
			if err != nil {
				t.Errorf("Put doc%02d: %v", i, err)
			}
		}
	}
	if creates != 1 || enqueues != 1 {
		t.Errorf("%d Creates of one id and %d Enqueues of one event succeeded, want 1 and 1", creates, enqueues)
	}
	docs, err := s.List(ctx, "things")
	if err != nil || len(docs) != 1+10 { // "same" and the ten Puts
		t.Fatalf("List = %d documents, %v; want 11", len(docs), err)
	}
	if docs, _ := s.List(ctx, bot.CollInbox); len(docs) != 1 {
		t.Fatalf("%d inbox entries, want 1", len(docs))
	}
	// The holding write's commit, then one for the 29 calls.
	if got := lastTxID(t, s) - commits0; got != 2 {
		t.Errorf("%d commits, want 2", got)
	}
}

// Create's "exists" is a refusal, not a failed transaction: the calls in
// its group commit together, once.
func TestCreateConflictInAGroup(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	if err := s.Create(ctx, "things", "taken", []byte("first")); err != nil {
		t.Fatal(err)
	}
	queued, release := holdCommitter(t, s)
	commits0 := lastTxID(t, s)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			id := fmt.Sprintf("new%d", i)
			if i%2 == 0 {
				id = "taken"
			}
			errs[i] = s.Create(ctx, "things", id, []byte("second"))
		})
	}
	waitQueued(t, queued, len(errs))
	release()
	wg.Wait()
	for i, err := range errs {
		want := ""
		if i%2 == 0 {
			want = bot.ECONFLICT
		}
		if bot.ErrorCode(err) != want {
			t.Errorf("Create %d: %v, want code %q", i, err, want)
		}
	}
	if got, _ := s.Get(ctx, "things", "taken"); string(got) != "first" {
		t.Errorf("taken = %q, want first", got)
	}
	if got := lastTxID(t, s) - commits0; got != 2 {
		t.Errorf("%d commits, want 2 (the holding write's and the group's)", got)
	}
}

// Close commits what is queued; a write after Close fails as the store
// being unavailable.
func TestCloseCommitsQueuedWrites(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	queued, release := holdCommitter(t, s)
	errs := make(chan error, 5)
	for i := range 5 {
		go func() { errs <- s.Put(ctx, "things", fmt.Sprintf("doc%d", i), []byte("x")) }()
	}
	waitQueued(t, queued, 5)
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	release()
	for range 5 {
		if err := <-errs; err != nil {
			t.Errorf("queued Put: %v", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Put(ctx, "things", "late", []byte("x")); bot.ErrorCode(err) != bot.EUNAVAILABLE {
		t.Errorf("Put after Close: %v, want EUNAVAILABLE", err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if docs, err := s.List(ctx, "things"); err != nil || len(docs) != 5 {
		t.Fatalf("after reopening: %d documents, %v; want 5", len(docs), err)
	}
}

func lastTxID(t testing.TB, s *Store) int {
	t.Helper()
	var id int
	if err := s.db.View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}
