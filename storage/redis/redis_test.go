package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/storage/storetest"
)

// These tests need a real server. They fail rather than skip without one,
// so a missing Redis is never mistaken for a passing suite.
func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

func testPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "xunjitest:" + hex.EncodeToString(b[:]) + ":"
}

// openTest opens a store on a fresh prefix and, at cleanup, deletes every
// key under the prefix and closes the store.
func openTest(t testing.TB, prefix string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := Open(ctx, redisURL(), WithPrefix(prefix))
	if err != nil {
		t.Fatalf("cannot reach Redis at %s: %v\nstart a server (e.g. `redis-server` or `docker run -p 6379:6379 redis`) or set REDIS_URL", redisURL(), err)
	}
	t.Cleanup(func() {
		cleanup(t, s.Client(), prefix)
		_ = s.Close()
	})
	return s
}

func cleanup(t testing.TB, c *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The prefix is hex and ':' only, so it needs no glob escaping.
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup scan of %s*: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(500, len(keys))
		if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
			t.Errorf("cleanup del: %v", err)
			return
		}
		keys = keys[n:]
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bot.Store {
		return openTest(t, testPrefix())
	})
}

func TestKeyLayout(t *testing.T) {
	ctx := t.Context()
	prefix := testPrefix()
	s := openTest(t, prefix)
	if err := s.Create(ctx, "things", "a", []byte("doc")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextSeq(ctx, "ids"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, "evt", time.Hour); err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	if got, err := c.Get(ctx, prefix+"doc:things:a").Result(); err != nil || got != "doc" {
		t.Errorf("doc key = %q, %v", got, err)
	}
	if got, err := c.ZRange(ctx, prefix+"idx:things", 0, -1).Result(); err != nil || !slices.Equal(got, []string{"a"}) {
		t.Errorf("index = %v, %v", got, err)
	}
	if got, err := c.Get(ctx, prefix+"seq:ids").Result(); err != nil || got != "1" {
		t.Errorf("seq key = %q, %v", got, err)
	}
	if ttl, err := c.PTTL(ctx, prefix+"claim:evt").Result(); err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("claim key ttl = %v, %v; want (0, 1h]", ttl, err)
	}
	if got, err := c.Get(ctx, prefix+"gen").Result(); err != nil || got != "1" {
		t.Errorf("write generation = %q, %v; want 1 after one record written", got, err)
	}
	// Nothing escapes the prefix.
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) != 5 {
		t.Errorf("keys under prefix = %v, %v; want 5", keys, err)
	}
}

func TestInvalidCollection(t *testing.T) {
	s := openTest(t, testPrefix())
	for _, coll := range []string{"", "a:b"} {
		err := s.Put(t.Context(), coll, "x", []byte("doc"))
		if bot.ErrorCode(err) != bot.EINTERNAL {
			t.Errorf("Put into collection %q = %v, want EINTERNAL", coll, err)
		}
	}
}

// Two Stores with separate connection pools on one prefix behave like two
// xunji processes sharing the server: no lost updates, no repeated ids.
func TestTwoStoresShareState(t *testing.T) {
	prefix := testPrefix()
	a, b := openTest(t, prefix), openTest(t, prefix)
	ctx := t.Context()
	if err := a.Create(ctx, "things", "c", []byte(`{"n":0}`)); err != nil {
		t.Fatal(err)
	}
	const workers, perWorker = 20, 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seqs []int64
		errs []error
	)
	for w := range workers {
		s := a
		if w%2 == 1 {
			s = b
		}
		wg.Go(func() {
			for range perWorker {
				err := s.Update(ctx, "things", "c", func(cur []byte) ([]byte, error) {
					var v struct{ N int }
					if err := json.Unmarshal(cur, &v); err != nil {
						return nil, err
					}
					v.N++
					return json.Marshal(v)
				})
				n, err2 := s.NextSeq(ctx, "ids")
				mu.Lock()
				if err = errors.Join(err, err2); err != nil {
					errs = append(errs, err)
				}
				seqs = append(seqs, n)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, first: %v", len(errs), errs[0])
	}
	doc, err := b.Get(ctx, "things", "c")
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ N int }
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	if v.N != workers*perWorker {
		t.Fatalf("counter = %d, want %d (lost updates across stores)", v.N, workers*perWorker)
	}
	slices.Sort(seqs)
	for i, n := range seqs {
		if n != int64(i+1) {
			t.Fatalf("NextSeq values across stores: index %d is %d, want %d", i, n, i+1)
		}
	}
}

// unreachable shortens every timeout and retry so a dead server is
// reported in well under a second.
func unreachable(o *redis.Options) {
	o.DialTimeout = 200 * time.Millisecond
	o.ReadTimeout = 200 * time.Millisecond
	o.WriteTimeout = 200 * time.Millisecond
	o.PoolTimeout = 200 * time.Millisecond
	o.MaxRetries = -1
	o.DialerRetries = 1
}

func TestUnreachable(t *testing.T) {
	const url = "redis://127.0.0.1:1/0" // port 1: connection refused
	const quick = 3 * time.Second
	ctx := t.Context()

	start := time.Now()
	s, err := Open(ctx, url, WithClientOptions(unreachable))
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
	if bot.ErrorCode(err) != bot.EUNAVAILABLE {
		t.Fatalf("Open: %v (code %q), want EUNAVAILABLE", err, bot.ErrorCode(err))
	}
	if el := time.Since(start); el > quick {
		t.Fatalf("Open took %v", el)
	}

	// A store whose server went away after startup (New does not dial).
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	unreachable(opt)
	s, err = New(redis.NewClient(opt))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ops := map[string]func() error{
		"Ping": func() error { return s.Ping(ctx) },
		"Get": func() error {
			_, err := s.Get(ctx, "things", "a")
			return err
		},
		"Update": func() error {
			return s.Update(ctx, "things", "a", func(b []byte) ([]byte, error) { return b, nil })
		},
		"Claim": func() error {
			_, err := s.Claim(ctx, "k", time.Minute)
			return err
		},
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		if bot.ErrorCode(err) != bot.EUNAVAILABLE {
			t.Errorf("%s: %v (code %q), want EUNAVAILABLE", name, err, bot.ErrorCode(err))
		}
		if el := time.Since(start); el > quick {
			t.Errorf("%s took %v", name, el)
		}
	}
}

func TestClosedStoreUnavailable(t *testing.T) {
	s := openTest(t, testPrefix())
	// A second handle on the same server, closed at once.
	c := redis.NewClient(s.Client().Options())
	closed, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	_ = closed.Close()
	err = closed.Ping(t.Context())
	if bot.ErrorCode(err) != bot.EUNAVAILABLE || !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Ping on a closed store: %v, want EUNAVAILABLE wrapping redis.ErrClosed", err)
	}
	// The pipelined commands too.
	_, err = closed.Get(t.Context(), "things", "a")
	if bot.ErrorCode(err) != bot.EUNAVAILABLE || !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Get on a closed store: %v, want EUNAVAILABLE wrapping redis.ErrClosed", err)
	}
	_, err = closed.Enqueue(t.Context(), bot.InboxOp{Coll: "inbox", ID: "t1", Doc: []byte("{}")})
	if bot.ErrorCode(err) != bot.EUNAVAILABLE || !errors.Is(err, redis.ErrClosed) {
		t.Fatalf("Enqueue on a closed store: %v, want EUNAVAILABLE wrapping redis.ErrClosed", err)
	}
}

func TestCanceledContext(t *testing.T) {
	s := openTest(t, testPrefix())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Get(ctx, "things", "a")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with canceled context: %v, want context.Canceled in the chain", err)
	}
	if !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("error %q does not mention cancellation", err)
	}
}

// Record ids (XS-2026-0001) must be sequential and unique across several
// processes sharing one Redis: two store handles stand for two processes.
func TestRecordIDsUniqueAcrossProcesses(t *testing.T) {
	prefix := testPrefix()
	a, b := openTest(t, prefix), openTest(t, prefix)
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(s bot.Store) {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				id, err := bot.NewID(ctx, s, "XS", 2026)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[id] {
					t.Errorf("id %s issued twice", id)
				}
				seen[id] = true
				mu.Unlock()
			}
		}([]bot.Store{a, b}[i%2])
	}
	wg.Wait()
	for n := 1; n <= 200; n++ {
		if id := fmt.Sprintf("XS-2026-%04d", n); !seen[id] {
			t.Errorf("id %s missing: ids are not sequential", id)
		}
	}
	// Another year and another prefix start at 1.
	if id, _ := bot.NewID(ctx, a, "XS", 2027); id != "XS-2027-0001" {
		t.Errorf("first id of 2027 = %s", id)
	}
	if id, _ := bot.NewID(ctx, a, "ZG", 2026); id != "ZG-2026-0001" {
		t.Errorf("first rectification id = %s", id)
	}
}

// A restarted server has no scripts cached: the store's pipelined
// EVALSHA falls back to EVAL, and every scripted operation still works.
func TestScriptsWorkAfterTheServerForgetsThem(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, testPrefix())
	for round := range 2 {
		if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		id := fmt.Sprintf("t%d", round)
		if err := s.Create(ctx, "things", id, []byte("doc")); err != nil {
			t.Fatalf("Create after SCRIPT FLUSH: %v", err)
		}
		if err := s.Put(ctx, "things", id, []byte("doc2")); err != nil {
			t.Fatalf("Put after SCRIPT FLUSH: %v", err)
		}
		if err := s.Delete(ctx, "things", id); err != nil {
			t.Fatalf("Delete after SCRIPT FLUSH: %v", err)
		}
		op := bot.InboxOp{Coll: "inbox", ID: id, Doc: []byte("{}"), Claim: "ev-" + id, ClaimTTL: time.Hour, Lease: "lease-" + id, LeaseTTL: time.Hour}
		if ok, err := s.Enqueue(ctx, op); err != nil || !ok {
			t.Fatalf("Enqueue after SCRIPT FLUSH: %v, %v", ok, err)
		}
		if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.Dequeue(ctx, op); err != nil {
			t.Fatalf("Dequeue after SCRIPT FLUSH: %v", err)
		}
		if docs, err := s.List(ctx, "inbox"); err != nil || len(docs) != 0 {
			t.Fatalf("inbox after Dequeue: %v, %v", docs, err)
		}
	}
}

// The inbox keys follow the documented layout: an event's entry, named
// by its claim, is kept at the claim's key without expiry and is
// replaced there by the claim, with its time to live, once handled; no
// lease is taken at acceptance. An entry with a claim and a lease of
// other names (an earlier version's) takes its three keys.
func TestInboxKeyLayout(t *testing.T) {
	ctx := t.Context()
	prefix := testPrefix()
	s := openTest(t, prefix)
	c := s.Client()
	op := bot.InboxOp{Coll: "inbox", ID: "event:slack:E1", Doc: []byte("{}"), Claim: "event:slack:E1", ClaimTTL: time.Hour}
	if ok, err := s.Enqueue(ctx, op); err != nil || !ok {
		t.Fatalf("Enqueue: %v, %v", ok, err)
	}
	key := prefix + "claim:event:slack:E1"
	if got, err := c.Get(ctx, key).Result(); err != nil || got != "{}" {
		t.Errorf("entry key = %q, %v", got, err)
	}
	if ttl, err := c.PTTL(ctx, key).Result(); err != nil || ttl != -1 {
		t.Errorf("a waiting entry expires in %v (%v), want never", ttl, err)
	}
	if ids, err := c.ZRange(ctx, prefix+"idx:inbox", 0, -1).Result(); err != nil || !slices.Equal(ids, []string{"event:slack:E1"}) {
		t.Errorf("index = %v, %v", ids, err)
	}
	if n, err := c.Exists(ctx, prefix+"doc:inbox:event:slack:E1", prefix+"claim:inbox:event:slack:E1").Result(); err != nil || n != 0 {
		t.Errorf("%d other keys written (%v), want none", n, err)
	}
	if err := s.Dequeue(ctx, op); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, key).Result(); err != nil || got != claimValue {
		t.Errorf("handled entry's key = %q, %v, want the claim", got, err)
	}
	if ttl, err := c.PTTL(ctx, key).Result(); err != nil || ttl <= time.Hour-5*time.Second || ttl > time.Hour {
		t.Errorf("the claim expires in %v (%v), want about an hour", ttl, err)
	}
	if n, err := c.ZCard(ctx, prefix+"idx:inbox").Result(); err != nil || n != 0 {
		t.Errorf("index holds %d after Dequeue (%v)", n, err)
	}

	old := bot.InboxOp{Coll: "inbox", ID: "ev:slack:E2", Doc: []byte("{}"), Claim: "event:slack:E2", ClaimTTL: time.Hour,
		Lease: "inbox:ev:slack:E2", LeaseTTL: time.Minute}
	if ok, err := s.Enqueue(ctx, old); err != nil || !ok {
		t.Fatalf("Enqueue: %v, %v", ok, err)
	}
	if got, err := c.Get(ctx, prefix+"claim:ev:slack:E2").Result(); err != nil || got != "{}" {
		t.Errorf("entry key = %q, %v", got, err)
	}
	for key, ttl := range map[string]time.Duration{prefix + "claim:event:slack:E2": time.Hour, prefix + "claim:inbox:ev:slack:E2": time.Minute} {
		got, err := c.PTTL(ctx, key).Result()
		if err != nil || got <= ttl-5*time.Second || got > ttl {
			t.Errorf("%s expires in %v (%v), want about %v", key, got, err, ttl)
		}
	}
}

// A platform's late retry of a handled event is refused; the id it puts
// back into the index (Enqueue adds it whether or not the entry is new)
// is not listed, and the listing takes it out of the index.
func TestARetryOfAHandledEventLeavesNoEntry(t *testing.T) {
	ctx := t.Context()
	prefix := testPrefix()
	s := openTest(t, prefix)
	op := bot.InboxOp{Coll: "inbox", ID: "event:lark:E1", Doc: []byte(`{"req":1}`), Claim: "event:lark:E1", ClaimTTL: time.Hour}
	if ok, err := s.Enqueue(ctx, op); err != nil || !ok {
		t.Fatalf("Enqueue: %v, %v", ok, err)
	}
	if err := s.Dequeue(ctx, op); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Enqueue(ctx, op); err != nil || ok {
		t.Fatalf("a retry after the event was handled: %v, %v, want refused", ok, err)
	}
	c := s.Client()
	if n, _ := c.ZCard(ctx, prefix+"idx:inbox").Result(); n != 1 {
		t.Fatalf("index holds %d after the retry, want the id put back", n)
	}
	if docs, err := s.List(ctx, "inbox"); err != nil || len(docs) != 0 {
		t.Fatalf("List = %v, %v, want nothing", docs, err)
	}
	if n, _ := c.ZCard(ctx, prefix+"idx:inbox").Result(); n != 0 {
		t.Errorf("index holds %d after the listing, want 0", n)
	}
	if got, err := c.Get(ctx, prefix+"claim:event:lark:E1").Result(); err != nil || got != claimValue {
		t.Errorf("the claim = %q, %v after the listing, want it kept", got, err)
	}
}

// Inbox entries an earlier version kept as documents are moved to
// their claims' keys when a store opens, so a request accepted before an
// upgrade is handled after it.
func TestInboxEntriesOfAnEarlierVersionMoveAtOpen(t *testing.T) {
	ctx := t.Context()
	prefix := testPrefix()
	s := openTest(t, prefix)
	c := s.Client()
	if err := c.Set(ctx, prefix+"doc:inbox:ev:slack:E7", `{"req":7}`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ZAdd(ctx, prefix+"idx:inbox", redis.Z{Member: "ev:slack:E7"}).Err(); err != nil {
		t.Fatal(err)
	}
	again := openTest(t, prefix)
	if got, err := again.Get(ctx, "inbox", "ev:slack:E7"); err != nil || string(got) != `{"req":7}` {
		t.Fatalf("Get after the move = %s, %v", got, err)
	}
	if docs, err := again.List(ctx, "inbox"); err != nil || len(docs) != 1 {
		t.Fatalf("List after the move = %v, %v", docs, err)
	}
	if n, _ := c.Exists(ctx, prefix+"doc:inbox:ev:slack:E7").Result(); n != 0 {
		t.Error("the earlier key is still there")
	}
}

// With replicas to wait for and none to confirm, the inbox's plain
// acceptance and completion report the write unconfirmed (EUNAVAILABLE,
// ErrNotReplicated), and so does a duplicate, whose WAIT also covers the
// earlier write that made it one.
func TestPlainInboxStepsWaitForReplicas(t *testing.T) {
	ctx := t.Context()
	prefix := testPrefix()
	plain := openTest(t, prefix) // for the cleanup
	s, err := Open(ctx, redisURL(), WithPrefix(prefix), WithReplicas(1, 50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	op := bot.InboxOp{Coll: "inbox", ID: "event:slack:R1", Doc: []byte(`{"req":1}`), Claim: "event:slack:R1", ClaimTTL: time.Hour}
	for i, what := range []string{"Enqueue", "a duplicate Enqueue"} {
		_, err := s.Enqueue(ctx, op)
		if bot.ErrorCode(err) != bot.EUNAVAILABLE || !errors.Is(err, ErrNotReplicated) {
			t.Fatalf("%s (%d) without a replica: %v, want EUNAVAILABLE wrapping ErrNotReplicated", what, i, err)
		}
	}
	if got, err := plain.Get(ctx, "inbox", op.ID); err != nil || string(got) != `{"req":1}` {
		t.Fatalf("the unconfirmed entry on the primary: %s, %v", got, err)
	}
	if err := s.Dequeue(ctx, op); bot.ErrorCode(err) != bot.EUNAVAILABLE || !errors.Is(err, ErrNotReplicated) {
		t.Fatalf("Dequeue without a replica: %v, want EUNAVAILABLE wrapping ErrNotReplicated", err)
	}
}
