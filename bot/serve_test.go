package bot_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/outbox"
)

// served is the bot as an adapter mounts it, with every step of the
// inbox protocol recorded in order.
type served struct {
	*bot.Inbox
	mu    sync.Mutex
	steps []string
	dones atomic.Int32
}

func (s *served) step(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, fmt.Sprintf(format, args...))
}

func (s *served) Steps() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.steps)
}

func (s *served) Done(ctx context.Context, ticket string, req *bot.Request) {
	s.dones.Add(1)
	s.step("done")
	s.Inbox.Done(ctx, ticket, req)
}

func (s *served) DeliverLate(ctx context.Context, req *bot.Request, i int, r bot.Reply) error {
	err := s.Inbox.DeliverLate(ctx, req, i, r)
	s.step("handed over %d", i)
	return err
}

// adapter is a fake adapter's side of Serve: its background work tracked
// by a WaitGroup, each acknowledgement and direct delivery recorded;
// refuse makes the platform refuse reply i.
type adapter struct {
	s      *served
	wg     sync.WaitGroup
	closed bool
	refuse map[int]bool
	acks   []bot.Early
}

func (a *adapter) delivery() bot.Delivery {
	return bot.Delivery{
		Go: func(work func()) bool {
			if a.closed {
				return false
			}
			a.wg.Go(work)
			return true
		},
		AcceptTimeout: time.Second,
		Timeout:       time.Minute,
		Ack: func(_ context.Context, e bot.Early) []bot.Reply {
			a.acks = append(a.acks, e)
			a.s.step("ack")
			return nil
		},
		Deliver: func(_ context.Context, i int, r bot.Reply) (bot.Reply, error) {
			if a.refuse[i] {
				a.s.step("refused %d", i)
				return r, errors.New("platform refused")
			}
			a.s.step("delivered %d %s", i, r.Text)
			return bot.Reply{}, nil
		},
	}
}

// acked checks that steps acknowledge before Done (if any) and returns
// them without the acknowledgement, which, with no Sync, may come before
// or after the work's first steps.
func acked(t *testing.T, steps []string) []string {
	t.Helper()
	ack, done := slices.Index(steps, "ack"), slices.Index(steps, "done")
	if ack < 0 || (done >= 0 && done < ack) {
		t.Fatalf("steps %q: want the acknowledgement before Done", steps)
	}
	return slices.Delete(slices.Clone(steps), ack, ack+1)
}

func newServed(t *testing.T, n *atomic.Int32) (*bottest.Env, *served, *adapter) {
	env := countingEnv(t, n)
	s := &served{Inbox: env.Bot.Inbox}
	return env, s, &adapter{s: s}
}

func outboxLen(t *testing.T, env *bottest.Env) int {
	t.Helper()
	docs, err := env.Store.List(context.Background(), outbox.Coll)
	if err != nil {
		t.Fatal(err)
	}
	return len(docs)
}

func inboxLen(t *testing.T, env *bottest.Env) int {
	t.Helper()
	docs, err := env.Store.List(context.Background(), bot.CollInbox)
	if err != nil {
		t.Fatal(err)
	}
	return len(docs)
}

// A platform retry of an event already accepted is acknowledged (showing
// nothing) and goes no further: not processed, not answered, no Done.
func TestServeAcknowledgesADuplicateAndDropsIt(t *testing.T) {
	var n atomic.Int32
	env, s, a := newServed(t, &n)
	ctx := context.Background()
	if err := bot.Serve(ctx, s, slackReq("EvDup"), a.delivery()); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()
	if err := bot.Serve(ctx, s, slackReq("EvDup"), a.delivery()); err != nil {
		t.Fatalf("a retry: %v, want acknowledged", err)
	}
	a.wg.Wait()
	if n.Load() != 1 || s.dones.Load() != 1 {
		t.Fatalf("handled %d times, done %d times; want once each", n.Load(), s.dones.Load())
	}
	if len(a.acks) != 2 || a.acks[1].Response != nil || a.acks[1].Later {
		t.Fatalf("acknowledgements %+v: want the retry's empty, with nothing to follow", a.acks)
	}
	want := []string{"delivered 0 counted", "delivered 1 just for you", "done", "ack"}
	if got := acked(t, s.Steps()); !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
	if inboxLen(t, env) != 0 || outboxLen(t, env) != 0 {
		t.Errorf("left behind: inbox %d, outbox %d", inboxLen(t, env), outboxLen(t, env))
	}
}

// Done comes once, after every reply was delivered, and releases the
// answers kept in the outbox: nothing is sent again later.
func TestServeIsDoneAfterDelivery(t *testing.T) {
	var n atomic.Int32
	env, s, a := newServed(t, &n)
	ctx := context.Background()
	if err := bot.Serve(ctx, s, slackReq("EvDone"), a.delivery()); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()
	want := []string{"delivered 0 counted", "delivered 1 just for you", "done"}
	if got := acked(t, s.Steps()); !slices.Equal(got, want) {
		t.Fatalf("steps %q, want %q", got, want)
	}
	if inboxLen(t, env) != 0 || outboxLen(t, env) != 0 {
		t.Fatalf("left behind: inbox %d, outbox %d", inboxLen(t, env), outboxLen(t, env))
	}
	env.Clock.Advance(time.Hour)
	if sent, _ := env.Outbox.Flush(ctx); sent != 0 || len(env.Adapter.Sent()) != 0 {
		t.Errorf("delivered answers sent again: %d, %+v", sent, env.Adapter.Sent())
	}
}

// A reply the platform refuses is handed over to the outbox, and the
// rest queue behind it; Done comes only after that, so the answer kept
// for it is sent (once), not released.
func TestServeIsDoneAfterARefusedReplyWasHandedOver(t *testing.T) {
	var n atomic.Int32
	env, s, a := newServed(t, &n)
	a.refuse = map[int]bool{0: true}
	ctx := context.Background()
	if err := bot.Serve(ctx, s, slackReq("EvRefused"), a.delivery()); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()
	want := []string{"refused 0", "handed over 0", "handed over 1", "done"}
	if got := acked(t, s.Steps()); !slices.Equal(got, want) {
		t.Fatalf("steps %q, want %q", got, want)
	}
	env.Clock.Advance(time.Hour)
	if _, err := env.Outbox.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	sent := env.Adapter.Sent()
	if len(sent) != 2 || sent[0].Text != "counted" || sent[0].ChatID != "C1" || sent[1].Text != "just for you" || sent[1].UserID != "李娜" {
		t.Fatalf("sent %+v: want both answers once, in order", sent)
	}
	if outboxLen(t, env) != 0 || inboxLen(t, env) != 0 {
		t.Errorf("left behind: inbox %d, outbox %d", inboxLen(t, env), outboxLen(t, env))
	}
}

// A card callback answers in its acknowledgement (Sync): the answer
// ready in time is offered to Ack, which shows part of it; the rest is
// delivered afterwards, and Done comes after the acknowledgement was
// written and Serve returned.
func TestServeWritesASynchronousAnswerBeforeDone(t *testing.T) {
	var n atomic.Int32
	env, s, a := newServed(t, &n)
	ctx := context.Background()
	d := a.delivery()
	d.Sync = time.Minute // the answer is ready long before
	written := make(chan struct{})
	d.Ack = func(_ context.Context, e bot.Early) []bot.Reply {
		a.acks = append(a.acks, e)
		if e.Response == nil || len(e.Replies) != 2 {
			t.Errorf("acknowledged without the answer: %+v", e)
			return nil
		}
		s.step("ack with %s", e.Replies[0].Text)
		left := slices.Clone(e.Replies)
		left[0] = bot.Reply{} // shown in the callback's answer
		return left
	}
	go func() {
		defer close(written)
		if err := bot.Serve(ctx, s, slackReq("EvCard"), d); err != nil {
			t.Error(err)
		}
		s.step("written")
	}()
	<-written
	a.wg.Wait()
	got := s.Steps()
	if len(got) != 4 || got[0] != "ack with counted" || got[3] != "done" || !slices.Contains(got, "written") || !slices.Contains(got, "delivered 1 just for you") {
		t.Fatalf("steps %q: want the acknowledgement with reply 0, reply 1 delivered, Serve returned, then done", got)
	}
	if outboxLen(t, env) != 0 {
		t.Errorf("%d answers left in the outbox", outboxLen(t, env))
	}
	env.Clock.Advance(time.Hour)
	if sent, _ := env.Outbox.Flush(ctx); sent != 0 {
		t.Errorf("%d answers sent again", sent)
	}
}

// An answer not ready within Sync: the acknowledgement goes without it,
// saying it follows, and every reply is delivered afterwards.
func TestServeAcknowledgesASlowAnswerWithoutIt(t *testing.T) {
	var n atomic.Int32
	env := countingEnv(t, &n)
	release := make(chan struct{})
	env.Must(&bot.Command{Name: "slow", Run: func(ctx context.Context, _ *bot.Request) (*bot.Response, error) {
		<-release
		return &bot.Response{Replies: []bot.Reply{{Text: "finally", Public: true}}}, nil
	}})
	s := &served{Inbox: env.Bot.Inbox}
	a := &adapter{s: s}
	d := a.delivery()
	d.Sync = time.Millisecond
	req := slackReq("EvSlow")
	req.Text = "slow"
	if err := bot.Serve(context.Background(), s, req, d); err != nil {
		t.Fatal(err)
	}
	close(release)
	a.wg.Wait()
	if len(a.acks) != 1 || a.acks[0].Response != nil || !a.acks[0].Later {
		t.Fatalf("acknowledgements %+v: want one without the answer, which follows", a.acks)
	}
	want := []string{"delivered 0 finally", "done"}
	if got := acked(t, s.Steps()); !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
}

// A request whose work runs out of time before it is processed is left
// in the inbox, untouched: no command ran, no Done; recovery handles it
// once its lease is over and delivers its answers as messages.
func TestServeLeavesARequestOutOfTimeToRecovery(t *testing.T) {
	var n atomic.Int32
	env, s, a := newServed(t, &n)
	d := a.delivery()
	d.Timeout = time.Millisecond
	d.Prepare = func(ctx context.Context) { <-ctx.Done() } // an attachment that never comes
	ctx := context.Background()
	if err := bot.Serve(ctx, s, slackReq("EvLate"), d); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()
	if n.Load() != 0 || s.dones.Load() != 0 {
		t.Fatalf("handled %d times, done %d times; want neither", n.Load(), s.dones.Load())
	}
	if inboxLen(t, env) != 1 {
		t.Fatalf("%d inbox entries, want the request left there", inboxLen(t, env))
	}
	env.Clock.Advance(bot.InboxGrace + time.Second)
	got, err := env.Bot.Inbox.Recover(ctx, bot.InboxGrace)
	if err != nil || got != 1 || n.Load() != 1 {
		t.Fatalf("recovered %d (%v), handled %d times", got, err, n.Load())
	}
	if _, err := env.Outbox.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if sent := env.Adapter.Sent(); len(sent) != 2 {
		t.Errorf("recovered answers sent: %+v", sent)
	}
}

// A request that cannot be stored is not acknowledged, so that the
// platform delivers it again; one stored while the adapter shuts down is
// left to recovery, and the adapter may acknowledge it.
func TestServeRefusesWhatItCannotKeep(t *testing.T) {
	var n atomic.Int32
	env, s, a := newServed(t, &n)
	ctx := context.Background()
	mem := env.Store.(*bottest.Mem)
	mem.Fail = errors.New("store down")
	err := bot.Serve(ctx, s, slackReq("EvDown"), a.delivery())
	mem.Fail = nil
	if !errors.Is(err, bot.ErrNotAccepted) || !strings.Contains(err.Error(), "store down") || len(a.acks) != 0 {
		t.Fatalf("store down: %v, %d acknowledgements; want not accepted, none", err, len(a.acks))
	}
	a.closed = true
	if err := bot.Serve(ctx, s, slackReq("EvClosing"), a.delivery()); !errors.Is(err, bot.ErrInInbox) || len(a.acks) != 0 {
		t.Fatalf("shutting down: %v, %d acknowledgements; want left in the inbox, none", err, len(a.acks))
	}
	if inboxLen(t, env) != 1 || n.Load() != 0 {
		t.Fatalf("inbox %d, handled %d", inboxLen(t, env), n.Load())
	}
	plain := &adapter{s: s, closed: true}
	if err := bot.Serve(ctx, handlerFunc(env.Bot.Handle), slackReq("EvPlain"), plain.delivery()); !errors.Is(err, bot.ErrShuttingDown) {
		t.Fatalf("without an inbox, shutting down: %v", err)
	}
}

type handlerFunc func(ctx context.Context, req *bot.Request) *bot.Response

func (f handlerFunc) Handle(ctx context.Context, req *bot.Request) *bot.Response { return f(ctx, req) }

// A plain Handler, without an inbox (tests, the console), is served
// the same way: acknowledged, handled, its replies delivered.
func TestServeWorksWithAPlainHandler(t *testing.T) {
	var n atomic.Int32
	env, s, a := newServed(t, &n)
	if err := bot.Serve(context.Background(), handlerFunc(env.Bot.Handle), slackReq("EvPlain"), a.delivery()); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()
	want := []string{"delivered 0 counted", "delivered 1 just for you"}
	if got := acked(t, s.Steps()); !slices.Equal(got, want) || n.Load() != 1 {
		t.Fatalf("steps %q (handled %d), want %q", got, n.Load(), want)
	}
}

// A reply whose hand-over the store refuses (expediting its reserved
// outbox entry failed) is not lost: Done leaves it reserved instead of
// releasing it, and the outbox sends it once the request's lease is gone.
func TestAHandOverTheStoreRefusesLeavesTheAnswerReserved(t *testing.T) {
	var n atomic.Int32
	env := countingEnv(t, &n)
	ctx := context.Background()
	req := slackReq("EvStoreDown")
	ticket, _, err := env.Bot.Inbox.Accept(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	resp := env.Bot.Inbox.Process(ctx, ticket, req)
	// Reply 0 was delivered directly; the platform refused reply 1, and
	// the store is down when it is handed over.
	mem := env.Store.(*bottest.Mem)
	mem.Fail = errors.New("store down")
	herr := env.Bot.Inbox.DeliverLate(ctx, req, 1, resp.Replies[1])
	mem.Fail = nil
	if herr != nil {
		t.Fatalf("hand-over: %v; want it kept in the outbox", herr)
	}
	env.Bot.Inbox.Done(ctx, ticket, req)
	// Done drops the lease (a store without InboxStore, as here, lets it
	// run out).
	env.Clock.Advance(bot.InboxGrace + time.Second)
	if _, err := env.Outbox.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if sent := env.Adapter.Sent(); len(sent) != 1 || sent[0].Text != "just for you" || sent[0].UserID != "李娜" {
		t.Fatalf("sent %+v: want the refused reply alone, once", sent)
	}
	env.Clock.Advance(time.Hour)
	if sent, _ := env.Outbox.Flush(ctx); sent != 0 || outboxLen(t, env) != 0 {
		t.Errorf("%d sent again, %d left", sent, outboxLen(t, env))
	}
}

// slowDone is served whose first Done waits until release is closed: a
// request whose completion lags behind its delivered answers (a busy
// machine).
type slowDone struct {
	*served
	first   atomic.Bool
	waiting chan struct{} // closed when the first Done has begun
	release chan struct{}
}

func (s *slowDone) Done(ctx context.Context, ticket string, req *bot.Request) {
	if s.first.CompareAndSwap(false, true) {
		close(s.waiting)
		<-s.release
	}
	s.served.Done(ctx, ticket, req)
}

// A request to a chat that comes while the previous one's answers are
// delivered but its Done has not yet run (a second click right after the
// first was answered) finds no backlog: the previous request's reserved
// answers are released before it lets the chat's turn go, so the new
// request's answers are shown directly, not queued in the outbox (where
// they would go out later, and as direct messages).
func TestTheNextRequestToAChatDoesNotQueueBehindTheLastOnesDeliveredAnswers(t *testing.T) {
	var n atomic.Int32
	env, s, a := newServed(t, &n)
	slow := &slowDone{served: s, waiting: make(chan struct{}), release: make(chan struct{})}
	ctx := context.Background()
	if err := bot.Serve(ctx, slow, slackReq("EvFirst"), a.delivery()); err != nil {
		t.Fatal(err)
	}
	<-slow.waiting // the first request's answers are delivered; its Done waits
	second := make(chan error, 1)
	go func() { second <- bot.Serve(ctx, slow, slackReq("EvSecond"), a.delivery()) }()
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	// The second request's work is under way (or waiting for the chat's
	// turn); let the first finish.
	close(slow.release)
	a.wg.Wait()
	steps := s.Steps()
	delivered, handed := 0, 0
	for _, st := range steps {
		switch {
		case strings.HasPrefix(st, "delivered"):
			delivered++
		case strings.HasPrefix(st, "handed over"):
			handed++
		}
	}
	if delivered != 4 || handed != 0 || n.Load() != 2 {
		t.Fatalf("steps %q: want both requests' two answers delivered directly, none handed over", steps)
	}
	if inboxLen(t, env) != 0 || outboxLen(t, env) != 0 {
		t.Errorf("left behind: inbox %d, outbox %d", inboxLen(t, env), outboxLen(t, env))
	}
}
