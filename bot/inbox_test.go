package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/outbox"
	"github.com/xunji-bot/xunji/storage/bolt"
)

func countingEnv(t *testing.T, n *atomic.Int32, opts ...bottest.Option) *bottest.Env {
	env := bottest.New(t, opts...)
	env.Must(&bot.Command{Name: "count", Aliases: []string{"计数"}, Run: func(context.Context, *bot.Request) (*bot.Response, error) {
		n.Add(1)
		return &bot.Response{Replies: []bot.Reply{{Text: "counted", Public: true}, {Text: "just for you"}}}, nil
	}})
	return env
}

func slackReq(event string) *bot.Request {
	return &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: "李娜", ChatID: "C1", EventID: event, Text: "count"}
}

func TestAcceptThenProcessHandlesOnceAndEmptiesTheInbox(t *testing.T) {
	var n atomic.Int32
	env := countingEnv(t, &n)
	ctx := context.Background()
	req := slackReq("Ev1")
	ticket, dup, err := env.Bot.Inbox.Accept(ctx, req)
	if err != nil || dup {
		t.Fatalf("accept: %v dup=%v", err, dup)
	}
	// The platform retries before the first delivery was processed.
	if _, dup, _ := env.Bot.Inbox.Accept(ctx, slackReq("Ev1")); !dup {
		t.Error("a retry of an accepted event was accepted again")
	}
	resp := env.Bot.Inbox.Process(ctx, ticket, req)
	if bottest.Text(resp) == "" || n.Load() != 1 {
		t.Fatalf("process: %q, handled %d times", bottest.Text(resp), n.Load())
	}
	// The command, the completion of its entry and its answers (kept in
	// the outbox until the adapter has delivered them) are one unit.
	if docs, _ := env.Store.List(ctx, bot.CollInbox); len(docs) != 0 {
		t.Fatalf("%d requests left in the inbox after the command committed", len(docs))
	}
	if docs, _ := env.Store.List(ctx, outbox.Coll); len(docs) != 2 {
		t.Fatalf("%d answers kept in the outbox while the adapter delivers them, want 2", len(docs))
	}
	env.Bot.Inbox.Done(ctx, ticket, req) // the adapter delivered them
	if docs, _ := env.Store.List(ctx, outbox.Coll); len(docs) != 0 {
		t.Errorf("%d answers still kept after the adapter delivered them", len(docs))
	}
	env.Clock.Advance(time.Hour)
	if sent, _ := env.Outbox.Flush(ctx); sent != 0 || len(env.Adapter.Sent()) != 0 {
		t.Errorf("answers the adapter delivered were sent again: %d", sent)
	}
	if _, err := env.Bot.Inbox.Recover(ctx, 0); err != nil || n.Load() != 1 {
		t.Errorf("recovery re-ran a processed request: %d", n.Load())
	}
	if _, dup, _ := env.Bot.Inbox.Accept(ctx, slackReq("Ev1")); !dup {
		t.Error("a retry after the event was handled was accepted again")
	}
	if docs, _ := env.Store.List(ctx, bot.CollInbox); len(docs) != 0 {
		t.Errorf("a refused retry left %d entries in the inbox", len(docs))
	}
}

// A process killed after the command committed but before its answer
// went out: the command is not run again, and its answers, kept in the
// outbox, go out as messages once the inbox grace is over.
func TestAnswerNotDeliveredIsDeliveredLate(t *testing.T) {
	var n atomic.Int32
	env := countingEnv(t, &n)
	ctx := context.Background()
	req := slackReq("Ev3")
	ticket, _, err := env.Bot.Inbox.Accept(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	_ = env.Bot.Inbox.Process(ctx, ticket, req)
	restarted := countingEnv(t, &n, bottest.WithStore(env.Store), bottest.WithClock(env.Clock))
	env.Clock.Advance(bot.InboxGrace / 2)
	if sent, _ := restarted.Outbox.Flush(ctx); sent != 0 {
		t.Fatalf("%d answers sent while their adapter may still deliver them", sent)
	}
	bot.Die(env.Bot, ticket) // … and the process dies before delivering
	env.Clock.Advance(2 * time.Minute)
	got, err := restarted.Bot.Inbox.Recover(ctx, bot.InboxGrace)
	if err != nil || got != 0 || n.Load() != 1 {
		t.Fatalf("recovered %d, handled %d times, err %v: a committed command ran again", got, n.Load(), err)
	}
	if sent, err := restarted.Outbox.Flush(ctx); err != nil || sent != 2 {
		t.Fatalf("%d late answers sent, err %v", sent, err)
	}
	sent := restarted.Adapter.Sent()
	if len(sent) != 2 || sent[0].ChatID != "C1" || sent[0].Text != "counted" || sent[1].UserID != "李娜" || sent[1].Text != "just for you" {
		t.Errorf("late answers: %+v", sent)
	}
}

// An adapter whose platform refuses an answer hands it over: the answer
// kept in the outbox goes, in its place, and only once (not again when
// its reservation would have fallen due).
func TestAnswerHandedOverGoesOnce(t *testing.T) {
	var n atomic.Int32
	env := countingEnv(t, &n)
	ctx := context.Background()
	req := slackReq("Ev4")
	ticket, _, err := env.Bot.Inbox.Accept(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	resp := env.Bot.Inbox.Process(ctx, ticket, req)
	// The first reply went out directly; the platform refused the second.
	bot.HandOver(ctx, env.Bot.Inbox, req, 1, resp.Replies[1], env.Bot.Log)
	env.Bot.Inbox.Done(ctx, ticket, req)
	// It waited behind the first answer's place (reserved until Done) and
	// goes with the flush that Done's release wakes.
	if _, err := env.Outbox.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if s := env.Adapter.Sent(); len(s) != 1 {
		t.Fatalf("%d handed-over answers sent, want 1", len(s))
	}
	env.Clock.Advance(time.Hour)
	if sent, _ := env.Outbox.Flush(ctx); sent != 0 {
		t.Errorf("%d answers sent again after the grace", sent)
	}
	if s := env.Adapter.Sent(); len(s) != 1 || s[0].Text != "just for you" || s[0].UserID != "李娜" {
		t.Errorf("sent: %+v", s)
	}
}

// A process killed after acknowledging and before processing: the request
// is handled after restart and its answers delivered as messages.
func TestRecoverInboxHandlesAbandonedRequests(t *testing.T) {
	var n atomic.Int32
	env := countingEnv(t, &n)
	ctx := context.Background()
	if _, _, err := env.Bot.Inbox.Accept(ctx, slackReq("Ev2")); err != nil {
		t.Fatal(err)
	}
	// Younger than the grace period: its process may still be at work.
	if got, _ := env.Bot.Inbox.Recover(ctx, bot.InboxGrace); got != 0 {
		t.Fatalf("recovered a request still within its grace period")
	}
	env.Clock.Advance(2 * time.Minute)
	restarted := countingEnv(t, &n, bottest.WithStore(env.Store))
	restarted.Clock.Set(env.Clock.Now())
	got, err := restarted.Bot.Inbox.Recover(ctx, bot.InboxGrace)
	if err != nil || got != 1 || n.Load() != 1 {
		t.Fatalf("recovered %d (handled %d), err %v", got, n.Load(), err)
	}
	sent := restarted.Adapter.Sent()
	if len(sent) != 2 || sent[0].ChatID != "C1" || sent[0].Text != "counted" || sent[1].UserID != "李娜" || sent[1].Text != "just for you" {
		t.Errorf("late answers: %+v", sent)
	}
}

func TestTwoReplicasRecoverARequestOnce(t *testing.T) {
	var n atomic.Int32
	a := countingEnv(t, &n)
	b := countingEnv(t, &n, bottest.WithStore(a.Store))
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		if _, _, err := a.Bot.Inbox.Accept(ctx, slackReq("Ev-r"+string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	a.Clock.Advance(time.Hour)
	b.Clock.Set(a.Clock.Now())
	var wg sync.WaitGroup
	for _, e := range []*bottest.Env{a, b} {
		wg.Add(1)
		go func(e *bottest.Env) {
			defer wg.Done()
			_, _ = e.Bot.Inbox.Recover(ctx, bot.InboxGrace)
		}(e)
	}
	wg.Wait()
	if n.Load() != 10 {
		t.Errorf("10 abandoned requests handled %d times across two replicas", n.Load())
	}
}

// inboxStores runs fn with two replicas' environments on a shared store:
// the in-memory one, which has only the plain Store methods (the inbox
// falls back to them), and bbolt, which does each inbox step in one
// transaction (bot.InboxStore). Both replicas share one clock.
func inboxStores(t *testing.T, fn func(t *testing.T, a, b *bottest.Env, n *atomic.Int32)) {
	t.Run("plain Store", func(t *testing.T) {
		var n atomic.Int32
		a := countingEnv(t, &n)
		b := countingEnv(t, &n, bottest.WithStore(a.Store), bottest.WithClock(a.Clock))
		fn(t, a, b, &n)
	})
	t.Run("InboxStore", func(t *testing.T) {
		clock := bottest.NewClock(bottest.Start)
		s, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), bolt.WithNow(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		var n atomic.Int32
		a := countingEnv(t, &n, bottest.WithStore(s), bottest.WithClock(clock))
		b := countingEnv(t, &n, bottest.WithStore(s), bottest.WithClock(clock))
		fn(t, a, b, &n)
	})
}

// The lease is taken when the request is processed, by whoever claims it
// first: a request that recovery in another replica took over (its
// process was slow) is not handled again by the process that accepted
// it, and a retry after it was handled is a duplicate.
func TestARequestIsHandledOnceByWhoeverTakesItFirst(t *testing.T) {
	inboxStores(t, func(t *testing.T, a, b *bottest.Env, n *atomic.Int32) {
		ctx := context.Background()
		req := slackReq("Ev-own")
		ticket, dup, err := a.Bot.Inbox.Accept(ctx, req)
		if err != nil || dup {
			t.Fatalf("accept: %v dup=%v", err, dup)
		}
		if got, _ := b.Bot.Inbox.Recover(ctx, bot.InboxGrace); got != 0 || n.Load() != 0 {
			t.Fatalf("recovered a request accepted less than the grace ago: %d, handled %d", got, n.Load())
		}
		a.Clock.Advance(bot.InboxGrace)
		if got, err := b.Bot.Inbox.Recover(ctx, bot.InboxGrace); err != nil || got != 1 || n.Load() != 1 {
			t.Fatalf("recovery: %d, %v, handled %d", got, err, n.Load())
		}
		if resp := a.Bot.Inbox.Process(ctx, ticket, req); !resp.Duplicate || n.Load() != 1 {
			t.Fatalf("the accepting process handled a request recovery had handled: %+v, handled %d", resp, n.Load())
		}
		a.Bot.Inbox.Done(ctx, ticket, req)
		if docs, _ := a.Store.List(ctx, bot.CollInbox); len(docs) != 0 {
			t.Fatalf("%d entries left", len(docs))
		}
		if _, dup, _ := b.Bot.Inbox.Accept(ctx, slackReq("Ev-own")); !dup {
			t.Error("a retry after the event was handled was accepted again")
		}
	})
}

// A request processed late (most of the grace gone) is handled by its
// process, under a lease claimed then, and recovery after the grace
// finds nothing to do.
func TestARequestProcessedLateIsHandledOnce(t *testing.T) {
	inboxStores(t, func(t *testing.T, a, b *bottest.Env, n *atomic.Int32) {
		ctx := context.Background()
		req := slackReq("Ev-late")
		ticket, _, err := a.Bot.Inbox.Accept(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		a.Clock.Advance(bot.InboxGrace * 3 / 4)
		if resp := a.Bot.Inbox.Process(ctx, ticket, req); resp.Duplicate || n.Load() != 1 {
			t.Fatalf("not handled by its process: %+v, handled %d", resp, n.Load())
		}
		a.Bot.Inbox.Done(ctx, ticket, req)
		a.Clock.Advance(bot.InboxGrace / 2)
		if got, err := b.Bot.Inbox.Recover(ctx, bot.InboxGrace); err != nil || got != 0 || n.Load() != 1 {
			t.Fatalf("recovered %d, handled %d, err %v", got, n.Load(), err)
		}
		if docs, _ := a.Store.List(ctx, bot.CollInbox); len(docs) != 0 {
			t.Fatalf("%d entries left", len(docs))
		}
	})
}

// claimFails is a store whose Claim fails while fail is set.
type claimFails struct {
	bot.Store
	fail atomic.Bool
}

func (c *claimFails) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if c.fail.Load() {
		return false, bot.Unavailable(errors.New("store down"))
	}
	return c.Store.Claim(ctx, key, ttl)
}

// Recovery that cannot take the lease (the store fails) answers nobody
// and keeps the request for its next round.
func TestRecoveryWithoutALeaseAnswersNobody(t *testing.T) {
	var n atomic.Int32
	clock := bottest.NewClock(bottest.Start)
	mem := bottest.NewMem()
	mem.Now = clock.Now
	store := &claimFails{Store: mem}
	env := countingEnv(t, &n, bottest.WithStore(store), bottest.WithClock(clock))
	ctx := context.Background()
	if _, _, err := env.Bot.Inbox.Accept(ctx, slackReq("Ev-nolease")); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(2 * time.Minute)
	restarted := countingEnv(t, &n, bottest.WithStore(store), bottest.WithClock(env.Clock))
	store.fail.Store(true)
	if got, err := restarted.Bot.Inbox.Recover(ctx, bot.InboxGrace); err == nil || got != 0 {
		t.Fatalf("recovered %d, err %v; want 0 and the store's error", got, err)
	}
	if n.Load() != 0 || len(restarted.Adapter.Sent()) != 0 {
		t.Fatalf("handled %d times, sent %+v", n.Load(), restarted.Adapter.Sent())
	}
	store.fail.Store(false)
	if got, err := restarted.Bot.Inbox.Recover(ctx, bot.InboxGrace); err != nil || got != 1 || n.Load() != 1 {
		t.Fatalf("second round: recovered %d, handled %d, err %v", got, n.Load(), err)
	}
	if docs, _ := store.List(ctx, bot.CollInbox); len(docs) != 0 {
		t.Fatalf("%d entries left", len(docs))
	}
}

// slowPlatform answers 429 until a time and, like Slack's client, waits
// out the Retry-After inside the call: a send takes as long as the
// platform asks.
type slowPlatform struct {
	clock *bottest.Clock
	until time.Time
	mu    sync.Mutex
	sent  []bot.Outgoing
}

func (p *slowPlatform) Send(ctx context.Context, m bot.Outgoing) (bot.MessageRef, error) {
	if err := p.clock.SleepUntil(ctx, p.until); err != nil {
		return bot.MessageRef{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, m)
	return bot.MessageRef{Platform: m.Platform, ChatID: m.ChatID, ID: "m"}, nil
}

func (p *slowPlatform) Sent() []bot.Outgoing {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bot.Outgoing(nil), p.sent...)
}

// A platform asking to retry after five minutes keeps the answer in
// flight for far longer than the inbox lease. The lease is renewed while
// the work goes on, so neither this process's recovery nor another
// replica's takes the request over: one handling, one record, one answer.
func TestLongRetryAfterNeverAnswersTwice(t *testing.T) {
	inboxStores(t, func(t *testing.T, a, b *bottest.Env, n *atomic.Int32) {
		for _, e := range []*bottest.Env{a, b} {
			e.Must(&bot.Command{Name: "record", Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
				seq, err := e.Store.NextSeq(ctx, "test-records")
				if err != nil {
					return nil, err
				}
				if err := e.Store.Create(ctx, "test-records", fmt.Sprint(seq), []byte(`{}`)); err != nil {
					return nil, err
				}
				return &bot.Response{Replies: []bot.Reply{{Text: "recorded", Public: true}, {Text: "the case number"}}}, nil
			}})
		}
		ctx := context.Background()
		platform := &slowPlatform{clock: a.Clock, until: a.Clock.Now().Add(5 * time.Minute)}
		req := slackReq("Ev-429")
		req.Text = "record"
		ticket, _, err := a.Bot.Inbox.Accept(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { // the adapter's background work
			defer close(done)
			resp := a.Bot.Inbox.Process(ctx, ticket, req)
			for _, r := range resp.Replies {
				if _, err := platform.Send(ctx, bot.Outgoing{Platform: console.Name, ChatID: req.ChatID, Text: r.Text}); err != nil {
					t.Error(err)
				}
			}
			a.Bot.Inbox.Done(ctx, ticket, req)
		}()
		a.Clock.WaitSleepers(t, 2) // the lease's renewal and the send
		for a.Clock.Now().Before(platform.until) {
			a.Clock.Advance(10 * time.Second)
			if a.Clock.Now().Before(platform.until) {
				a.Clock.WaitSleepers(t, 2)
			}
			for _, e := range []*bottest.Env{a, b} {
				if got, err := e.Bot.Inbox.Recover(ctx, bot.InboxGrace); got != 0 || err != nil {
					t.Fatalf("at %v a process recovered %d requests (err %v) still being answered",
						a.Clock.Now().Sub(bottest.Start), got, err)
				}
			}
		}
		<-done
		a.Clock.WaitSleepers(t, 0) // Done ended the renewal
		a.Clock.Advance(10 * time.Minute)
		for _, e := range []*bottest.Env{a, b} {
			if got, err := e.Bot.Inbox.Recover(ctx, bot.InboxGrace); got != 0 || err != nil {
				t.Fatalf("recovered %d after the answer went out, err %v", got, err)
			}
		}
		docs, err := a.Store.List(ctx, "test-records")
		if err != nil || len(docs) != 1 {
			t.Errorf("%d records, want 1 (err %v)", len(docs), err)
		}
		if sent := platform.Sent(); len(sent) != 2 || sent[0].Text != "recorded" {
			t.Errorf("sent %+v, want the two replies of one answer", sent)
		}
		if docs, _ := a.Store.List(ctx, bot.CollInbox); len(docs) != 0 {
			t.Errorf("%d entries left in the inbox", len(docs))
		}
	})
}

// failingDeletes is a store whose deletes in the outbox fail while fail
// is set.
type failingDeletes struct {
	*bottest.Mem
	fail atomic.Bool
}

func (f *failingDeletes) Delete(ctx context.Context, coll, id string) error {
	if f.fail.Load() && coll == outbox.Coll {
		return bot.Unavailable(errors.New("store down"))
	}
	return f.Mem.Delete(ctx, coll, id)
}

// The store refuses when Done releases the answers the adapter has just
// delivered: the process keeps the request's lease, so the outbox does
// not send them again however long that lasts, and releases them once
// the store takes it.
func TestDeliveredAnswersReleasedAfterTheStoreRecovers(t *testing.T) {
	var n atomic.Int32
	st := &failingDeletes{Mem: bottest.NewMem()}
	env := countingEnv(t, &n, bottest.WithStore(st))
	st.Mem.Now = env.Clock.Now
	other := countingEnv(t, &n, bottest.WithStore(st), bottest.WithClock(env.Clock))
	ctx := context.Background()
	req := slackReq("Ev-release")
	ticket, _, err := env.Bot.Inbox.Accept(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	_ = env.Bot.Inbox.Process(ctx, ticket, req) // both answers delivered directly
	st.fail.Store(true)
	env.Bot.Inbox.Done(ctx, ticket, req)
	// Five times the inbox grace: the lease is renewed all along, and the
	// release is retried.
	env.Clock.WaitSleepers(t, 2) // the renewal and the retry
	for range 20 {
		env.Clock.Advance(bot.InboxGrace / 4)
		env.Clock.WaitSleepers(t, 2)
		if sent, _ := other.Outbox.Flush(ctx); sent != 0 {
			t.Fatalf("%d delivered answers sent again", sent)
		}
	}
	st.fail.Store(false)
	env.Clock.Advance(30 * time.Second) // the longest pause between tries
	released := func() bool { docs, _ := st.List(ctx, outbox.Coll); return len(docs) == 0 }
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	limit := time.After(5 * time.Second) // bounded wait for the woken retry
	for !released() {
		select {
		case <-tick.C:
		case <-limit:
			t.Fatal("answers still reserved after the store recovered")
		}
	}
	env.Clock.WaitSleepers(t, 0) // and the renewal stopped
	env.Clock.Advance(time.Hour)
	if sent, _ := other.Outbox.Flush(ctx); sent != 0 {
		t.Errorf("%d delivered answers sent again after the release", sent)
	}
}

// A request from a group on a platform that shows private answers in the
// sender's direct chat (Request.PrivateDirect: Lark) has its private
// answer reserved in that direct chat, where it is shown, and its public
// one in the group: a later direct message to the sender waits behind
// the private answer, and a later group message behind the public one.
func TestPrivateDirectAnswersKeepTheirPlaceInTheDirectChat(t *testing.T) {
	var n atomic.Int32
	env := countingEnv(t, &n)
	ctx := context.Background()
	req := slackReq("Ev-direct")
	req.PrivateDirect = true
	ticket, _, err := env.Bot.Inbox.Accept(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	_ = env.Bot.Inbox.Process(ctx, ticket, req) // reserved; the adapter delivers them
	docs, err := env.Store.List(ctx, outbox.Coll)
	if err != nil || len(docs) != 2 {
		t.Fatalf("%d answers reserved, want 2 (err %v)", len(docs), err)
	}
	orders := map[string]string{}
	for _, d := range docs {
		var e outbox.Entry
		if err := json.Unmarshal(d.Data, &e); err != nil {
			t.Fatal(err)
		}
		orders[e.Msg.Text] = e.Order
	}
	if got, want := orders["just for you"], string(console.Name)+":user:李娜"; got != want {
		t.Errorf("the private answer keeps its place in %q, want the direct chat %q", got, want)
	}
	if got, want := orders["counted"], string(console.Name)+":C1"; got != want {
		t.Errorf("the public answer keeps its place in %q, want the group %q", got, want)
	}
	env.Bot.Inbox.Done(ctx, ticket, req)
}
