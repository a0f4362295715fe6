package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/outbox"
)

// platform is a fake chat platform: while down it refuses every send;
// while slow each send waits, as Slack's client waits out a 429's
// Retry-After, until the fake clock reaches the time set.
type platform struct {
	clock *bottest.Clock
	mu    sync.Mutex
	down  bool
	slow  time.Time
	sent  []bot.Outgoing
	calls atomic.Int32
}

func (p *platform) Platform() bot.Platform                       { return console.Name }
func (p *platform) Run(ctx context.Context, _ bot.Handler) error { <-ctx.Done(); return nil }
func (p *platform) Mention(id, _ string) string                  { return "@" + id }

func (p *platform) Send(ctx context.Context, m bot.Outgoing) (bot.MessageRef, error) {
	p.calls.Add(1)
	p.mu.Lock()
	down, slow := p.down, p.slow
	p.mu.Unlock()
	if down {
		return bot.MessageRef{}, errors.New("503 service unavailable")
	}
	if err := p.clock.SleepUntil(ctx, slow); err != nil {
		return bot.MessageRef{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, m)
	return bot.MessageRef{Platform: console.Name, ChatID: m.ChatID, ID: fmt.Sprint(len(p.sent))}, nil
}

func (p *platform) set(down bool, slow time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.slow = down, slow
}

func (p *platform) Sent() []bot.Outgoing {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]bot.Outgoing(nil), p.sent...)
}

func withPlatform(t *testing.T) (*bottest.Env, *outbox.Outbox, *platform) {
	env := bottest.New(t)
	p := &platform{clock: env.Clock}
	env.Bot.Out.AddAdapter(p) // replaces the recorder
	x := outbox.New(env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}})
	env.Bot.Out.SetSender(x)
	return env, x, p
}

// fixed answers every request with its replies, through the bot's
// durable sending path (bot.Orderer, bot.LateDeliverer).
type fixed struct {
	b       *bot.Bot
	replies []bot.Reply
}

func (f fixed) Handle(context.Context, *bot.Request) *bot.Response {
	return &bot.Response{Replies: f.replies}
}

func (f fixed) TakeTurn(ctx context.Context, req *bot.Request) (context.Context, bool, func()) {
	return f.b.Inbox.TakeTurn(ctx, req)
}

func (f fixed) DeliverLate(ctx context.Context, req *bot.Request, i int, r bot.Reply) error {
	return f.b.Inbox.DeliverLate(ctx, req, i, r)
}

// answer is what an adapter does with a command's replies (bot.Serve):
// send them itself, in order behind the chat's backlog.
func answer(env *bottest.Env, p *platform, req *bot.Request, texts ...string) {
	var replies []bot.Reply
	for _, s := range texts {
		replies = append(replies, bot.Reply{Text: s, Public: true})
	}
	var wg sync.WaitGroup
	err := bot.Serve(context.Background(), fixed{env.Bot, replies}, req, bot.Delivery{
		Go: func(work func()) bool { wg.Go(work); return true },
		Deliver: func(ctx context.Context, _ int, r bot.Reply) (bot.Reply, error) {
			_, err := p.Send(ctx, bot.Outgoing{Platform: console.Name, ChatID: req.ChatID, Text: r.Text})
			return r, err
		},
		Log: env.Bot.Log,
	})
	if err != nil {
		panic(err)
	}
	wg.Wait()
}

// A platform outage, a backlog, then fresh answers and notices: every
// chat receives its messages in the order they were written, fresh ones
// behind the backlog, and each once.
func TestFreshAnswersQueueBehindABacklog(t *testing.T) {
	env, x, p := withPlatform(t)
	ctx := context.Background()
	var want []string
	written := func(s string) { want = append(want, s) }
	req := func(chat string, i int) *bot.Request {
		return &bot.Request{Kind: bot.KindCommand, Platform: console.Name, ChatID: chat, UserID: "u", EventID: fmt.Sprint(chat, i)}
	}
	p.set(true, time.Time{}) // the outage
	for i := range 6 {
		chat := fmt.Sprintf("g%d", i%3)
		a, b := fmt.Sprintf("%s-%02d-a", chat, i), fmt.Sprintf("%s-%02d-b", chat, i)
		answer(env, p, req(chat, i), a, b)
		written(a)
		written(b)
		env.Clock.Advance(10 * time.Second)
	}
	if n := pendingCount(t, env.Store, outbox.Coll); n != 12 {
		t.Fatalf("%d answers wait in the outbox, want 12", n)
	}
	p.set(false, time.Time{}) // back, but the backlog waits for its retry time
	for i := 6; i < 12; i++ {
		chat := fmt.Sprintf("g%d", i%3)
		a, b := fmt.Sprintf("%s-%02d-a", chat, i), fmt.Sprintf("%s-%02d-b", chat, i)
		answer(env, p, req(chat, i), a, b)
		written(a)
		written(b)
		n := fmt.Sprintf("%s-%02d-notice", chat, i)
		if _, err := env.Bot.Out.Send(ctx, bot.Outgoing{Platform: console.Name, ChatID: chat, Text: n}); err != nil && !errors.Is(err, bot.ErrQueued) {
			t.Fatal(err)
		}
		written(n)
	}
	if got := p.Sent(); len(got) != 0 {
		t.Fatalf("sent ahead of the backlog: %+v", got)
	}
	// A chat without a backlog is answered at once.
	answer(env, p, req("g9", 0), "g9-00-a")
	written("g9-00-a")
	if got := p.Sent(); len(got) != 1 || got[0].Text != "g9-00-a" {
		t.Fatalf("a chat without backlog: sent %+v", got)
	}
	env.Clock.Advance(10 * time.Minute)
	if _, err := x.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := pendingCount(t, env.Store, outbox.Coll); n != 0 {
		t.Fatalf("%d entries left", n)
	}
	got := map[string][]string{}
	for _, m := range p.Sent() {
		got[m.ChatID] = append(got[m.ChatID], m.Text)
	}
	wantBy := map[string][]string{}
	for _, s := range want {
		wantBy[s[:2]] = append(wantBy[s[:2]], s)
	}
	for chat, w := range wantBy {
		if fmt.Sprint(got[chat]) != fmt.Sprint(w) {
			t.Errorf("chat %s:\n got %v\nwant %v", chat, got[chat], w)
		}
	}
}

// While a chat's backlog is being flushed, answers to it written
// meanwhile wait for their turn and go out after it.
func TestAnswersDuringAFlushWaitTheirTurn(t *testing.T) {
	env, x, p := withPlatform(t)
	ctx := context.Background()
	p.set(true, time.Time{})
	for i := range 3 {
		if _, err := env.Bot.Out.Send(ctx, bot.Outgoing{Platform: console.Name, ChatID: "g", Text: fmt.Sprint("old-", i)}); !errors.Is(err, bot.ErrQueued) {
			t.Fatal(err)
		}
	}
	env.Clock.Advance(time.Minute)
	slowUntil := env.Clock.Now().Add(time.Minute)
	p.set(false, slowUntil) // each send now takes a minute
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		_, _ = x.Flush(ctx)
	}()
	env.Clock.WaitSleepers(t, 2) // the first old message in flight, its lease renewed
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		answer(env, p, &bot.Request{Platform: console.Name, ChatID: "g", UserID: "u"}, "fresh")
	}()
	env.Clock.Advance(time.Minute)
	<-flushed
	<-answered
	for range 5 { // the rest of the backlog, then the answer, in later rounds
		if _, err := x.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var texts []string
	for _, m := range p.Sent() {
		texts = append(texts, m.Text)
	}
	if fmt.Sprint(texts) != "[old-0 old-1 old-2 fresh]" {
		t.Errorf("sent %v, want the backlog first", texts)
	}
}

// A send that waits on the platform (a long Retry-After) for longer than
// the delivery lease keeps its lease: another replica flushing meanwhile
// does not send the message again.
func TestSlowSendKeepsItsLease(t *testing.T) {
	env, x, p := withPlatform(t)
	ctx := context.Background()
	y := outbox.New(env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}})
	p.set(false, env.Clock.Now().Add(3*time.Minute))
	sent := make(chan error, 1)
	go func() {
		_, err := x.Send(ctx, bot.Outgoing{Platform: console.Name, ChatID: "g", Text: "once"})
		sent <- err
	}()
	env.Clock.WaitSleepers(t, 2) // the send and its lease's renewal
	for range 17 {
		env.Clock.Advance(10 * time.Second)
		env.Clock.WaitSleepers(t, 2)
		if n, err := y.Flush(ctx); n != 0 || err != nil {
			t.Fatalf("another replica sent %d (err %v) while the first attempt still ran", n, err)
		}
	}
	env.Clock.Advance(10 * time.Second)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Hour)
	if n, _ := y.Flush(ctx); n != 0 {
		t.Errorf("flushed %d after delivery", n)
	}
	if got := p.Sent(); len(got) != 1 || p.calls.Load() != 1 {
		t.Errorf("sent %+v in %d calls, want once", got, p.calls.Load())
	}
}

// cutOff is a store a process can be cut off from (it fails every
// call while cut), as good as dead for recording an outcome.
type cutOff struct {
	*bottest.Mem
	cut atomic.Bool
}

var errCut = errors.New("the process is gone")

func (c *cutOff) Put(ctx context.Context, coll, id string, doc []byte) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Mem.Put(ctx, coll, id, doc)
}

func (c *cutOff) Delete(ctx context.Context, coll, id string) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Mem.Delete(ctx, coll, id)
}

func (c *cutOff) Renew(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if c.cut.Load() {
		return false, errCut
	}
	return c.Mem.Renew(ctx, key, ttl)
}

// An attempt cut off between the platform's acceptance and its record
// (the process died) leaves its in-flight mark: the entry is sent again
// and counted as a possible duplicate; ordinary retries are not.
func TestAttemptCutOffIsCountedAsAPossibleDuplicate(t *testing.T) {
	clock := bottest.NewClock(bottest.Start)
	mem := bottest.NewMem()
	mem.Now = clock.Now
	store := &cutOff{Mem: mem}
	env := bottest.New(t, bottest.WithStore(store), bottest.WithClock(clock))
	p := &platform{clock: env.Clock}
	env.Bot.Out.AddAdapter(p)
	var uncertain []bot.Platform
	var mu sync.Mutex
	opts := outbox.Options{Pace: map[bot.Platform]time.Duration{}, Uncertain: func(pl bot.Platform) {
		mu.Lock()
		defer mu.Unlock()
		uncertain = append(uncertain, pl)
	}}
	x := outbox.New(env.Bot, opts)
	ctx := context.Background()
	// An ordinary failure and retry: the outcome was recorded.
	p.set(true, time.Time{})
	if _, err := x.Send(ctx, bot.Outgoing{Platform: console.Name, ChatID: "g", Text: "retried"}); !errors.Is(err, bot.ErrQueued) {
		t.Fatal(err)
	}
	p.set(false, time.Time{})
	env.Clock.Advance(time.Minute)
	if n, _ := x.Flush(ctx); n != 1 {
		t.Fatalf("retry sent %d", n)
	}
	// The platform takes its time; the entry is marked in flight meanwhile.
	p.set(false, env.Clock.Now().Add(20*time.Second))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = x.Send(ctx, bot.Outgoing{Platform: console.Name, ChatID: "h", Text: "cut off"})
	}()
	env.Clock.WaitSleepers(t, 2)
	docs, err := store.List(ctx, outbox.Coll)
	if err != nil || len(docs) != 1 || !strings.Contains(string(docs[0].Data), `"sending"`) {
		t.Fatalf("entry in flight: %s (err %v), want its in-flight mark", docs, err)
	}
	// The process is cut off; the platform accepts the message.
	store.cut.Store(true)
	env.Clock.Advance(20 * time.Second)
	<-done
	store.cut.Store(false)
	env.Clock.Advance(time.Minute) // the lease runs out
	restarted := outbox.New(env.Bot, opts)
	if n, err := restarted.Flush(ctx); n != 1 || err != nil {
		t.Fatalf("restarted outbox sent %d, err %v", n, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(uncertain) != 1 || uncertain[0] != console.Name {
		t.Errorf("possible duplicates reported: %v, want one", uncertain)
	}
	if got := p.Sent(); len(got) != 3 || got[1].Text != "cut off" || got[2].Text != "cut off" {
		t.Errorf("sent %+v: the cut-off message twice, as counted", got)
	}
}

// A private answer reserved where its adapter shows it (a group) goes,
// when the outbox sends it instead, to the person directly: it keeps its
// place in both conversations, so the person's later direct messages
// neither overtake it nor are overtaken by it.
func TestReservedAnswerKeepsItsPlaceWhereItIsSent(t *testing.T) {
	env, x, p := withPlatform(t)
	ctx := context.Background()
	dm := bot.Outgoing{Platform: console.Name, UserID: "u", Text: "reserved answer"}
	if _, err := x.Reserve(ctx, dm, "g", "", "", env.Clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A later direct message to the same person, while the reserved
	// answer waits for its adapter.
	_, err := env.Bot.Out.Send(ctx, bot.Outgoing{Platform: console.Name, UserID: "u", Text: "later"})
	if !errors.Is(err, bot.ErrQueued) {
		t.Fatalf("a later direct message was not queued behind the reserved answer: %v", err)
	}
	if got := p.Sent(); len(got) != 0 {
		t.Fatalf("sent ahead of the reserved answer: %+v", got)
	}
	// Nor does it leave in a flush while the reserved answer is not due.
	if _, err := x.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := p.Sent(); len(got) != 0 {
		t.Fatalf("flushed ahead of the reserved answer: %+v", got)
	}
	env.Clock.Advance(2 * time.Minute) // the adapter never delivered it
	for range 3 {
		if _, err := x.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var texts []string
	for _, m := range p.Sent() {
		texts = append(texts, m.Text)
	}
	if fmt.Sprint(texts) != "[reserved answer later]" {
		t.Errorf("sent %v, want the reserved answer first", texts)
	}
}

// A reserved answer whose adapter never released it nor handed it back
// (its process was killed, perhaps after the platform showed it) is sent
// by the outbox once the reservation is over, and counted once as a
// possible duplicate; an answer its adapter handed back (Expedite) is
// not.
func TestAbandonedReservationIsCountedAsAPossibleDuplicate(t *testing.T) {
	env := bottest.New(t)
	p := &platform{clock: env.Clock}
	env.Bot.Out.AddAdapter(p)
	var uncertain atomic.Int32
	x := outbox.New(env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}, Uncertain: func(bot.Platform) { uncertain.Add(1) }})
	ctx := context.Background()
	until := env.Clock.Now().Add(time.Minute)
	if _, err := x.Reserve(ctx, bot.Outgoing{Platform: console.Name, ChatID: "g", Text: "abandoned"}, "g", "", "", until); err != nil {
		t.Fatal(err)
	}
	handed, err := x.Reserve(ctx, bot.Outgoing{Platform: console.Name, ChatID: "h", Text: "handed back"}, "h", "", "", until)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Expedite(ctx, handed); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(2 * time.Minute)
	p.set(true, time.Time{}) // the first attempt fails: still counted once
	if _, err := x.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	p.set(false, time.Time{})
	env.Clock.Advance(time.Hour)
	for range 2 {
		if _, err := x.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var texts []string
	for _, m := range p.Sent() {
		texts = append(texts, m.Text)
	}
	if fmt.Sprint(texts) != "[handed back abandoned]" {
		t.Errorf("sent %v", texts)
	}
	if n := uncertain.Load(); n != 1 {
		t.Errorf("%d possible duplicates counted, want 1 (the abandoned reservation)", n)
	}
}

// While its adapter holds a private answer it shows in a group, the
// answer keeps its place in the group only: the person's next direct
// conversation with the bot is answered at once, not after the group
// request's release (the answer, shown, never reaches the direct chat).
func TestHeldReservationShownInAGroupDoesNotHoldUpDirectMessages(t *testing.T) {
	env, x, p := withPlatform(t)
	ctx := context.Background()
	if _, err := env.Bot.Store.Claim(ctx, "inbox:held", time.Hour); err != nil {
		t.Fatal(err)
	}
	dm := bot.Outgoing{Platform: console.Name, UserID: "u", Text: "shown in the group"}
	if _, err := x.Reserve(ctx, dm, "g", "", "inbox:held", env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Bot.Out.Send(ctx, bot.Outgoing{Platform: console.Name, UserID: "u", Text: "direct"}); err != nil {
		t.Fatalf("a direct message waited for a reservation shown elsewhere: %v", err)
	}
	// The group's own later messages still wait for it.
	if _, err := env.Bot.Out.Send(ctx, bot.Outgoing{Platform: console.Name, ChatID: "g", Text: "group later"}); !errors.Is(err, bot.ErrQueued) {
		t.Fatalf("a later group message did not wait for the reserved answer: %v", err)
	}
	if _, err := x.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, m := range p.Sent() {
		texts = append(texts, m.Text)
	}
	if fmt.Sprint(texts) != "[direct]" {
		t.Errorf("sent %v, want only the direct message while the reservation is held", texts)
	}
}
