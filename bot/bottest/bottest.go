// Package bottest starts a real bot for tests in two lines: the demo
// roster, the catalog, an in-memory (or given) store, a fake clock and a
// recording adapter.
package bottest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/i18n"
	"github.com/xunji-bot/xunji/bot/outbox"
)

// Clock is a fake clock; safe for concurrent use. Goroutines that wait
// on it (SleepUntil) wake when Set or Advance reaches their time.
type Clock struct {
	mu      sync.Mutex
	t       time.Time
	waiters map[*waiter]struct{}
}

type waiter struct {
	at   time.Time
	wake chan struct{}
}

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
	c.fire()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.fire()
}

// fire wakes the waiters whose time has come; c.mu is held.
func (c *Clock) fire() {
	for w := range c.waiters {
		if !w.at.After(c.t) {
			close(w.wake)
			delete(c.waiters, w)
		}
	}
}

// SleepUntil waits until the clock reads t or later, or ctx is done (it
// returns ctx's error then). It is bot.Options.SleepUntil for a bot on
// this clock.
func (c *Clock) SleepUntil(ctx context.Context, t time.Time) error {
	c.mu.Lock()
	if !t.After(c.t) {
		c.mu.Unlock()
		return ctx.Err()
	}
	w := &waiter{at: t, wake: make(chan struct{})}
	if c.waiters == nil {
		c.waiters = map[*waiter]struct{}{}
	}
	c.waiters[w] = struct{}{}
	c.mu.Unlock()
	select {
	case <-w.wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.waiters, w)
		c.mu.Unlock()
		return ctx.Err()
	}
}

// Sleepers returns how many goroutines wait in SleepUntil.
func (c *Clock) Sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// WaitSleepers waits (on the real clock, up to 10 seconds) until exactly
// n goroutines wait in SleepUntil: after Advance, the background work it
// woke has done its step and gone back to sleep.
func (c *Clock) WaitSleepers(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Sleepers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines wait on the fake clock, want %d", c.Sleepers(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Shanghai is Asia/Shanghai, the deployments' time zone.
var Shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// Start is the fake clock's default start: Tuesday 2026-12-01 09:00 in
// Shanghai, the first working day of December 2026.
var Start = time.Date(2026, 12, 1, 9, 0, 0, 0, Shanghai)

// Recorder is an adapter that records what the bot sends.
type Recorder struct {
	P  bot.Platform
	mu sync.Mutex
	// Sent holds every message in send order.
	sent []bot.Outgoing
	seq  int
	// Fail, when set, makes Send fail.
	Fail error
}

var _ bot.Adapter = (*Recorder)(nil)

// Platform implements bot.Adapter.
func (r *Recorder) Platform() bot.Platform { return r.P }

// Run implements bot.Adapter; it blocks until ctx is done.
func (r *Recorder) Run(ctx context.Context, _ bot.Handler) error {
	<-ctx.Done()
	return nil
}

// Send implements bot.Adapter.
func (r *Recorder) Send(_ context.Context, m bot.Outgoing) (bot.MessageRef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return bot.MessageRef{}, r.Fail
	}
	r.sent = append(r.sent, m)
	if m.Update != nil {
		return *m.Update, nil
	}
	r.seq++
	chat := m.ChatID
	if chat == "" {
		chat = "dm:" + m.UserID
	}
	return bot.MessageRef{Platform: r.P, ChatID: chat, ID: fmt.Sprint(r.seq)}, nil
}

// Mention implements bot.Adapter.
func (r *Recorder) Mention(userID, _ string) string { return "@" + userID }

// Sent returns a copy of the recorded messages.
func (r *Recorder) Sent() []bot.Outgoing {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.Outgoing(nil), r.sent...)
}

// Reset forgets the recorded messages.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = nil
}

// Env is a running test bot.
type Env struct {
	T       testing.TB
	Bot     *bot.Bot
	Store   bot.Store
	Clock   *Clock
	Adapter *Recorder
	Outbox  *outbox.Outbox // the bot's sender; nothing runs it: Flush delivers what waits
	Config  *config.Config
	Catalog *i18n.Catalog
}

// Option changes how New builds the environment.
type Option func(*envOptions)

type envOptions struct {
	store  bot.Store
	config *config.Config
	clock  *Clock
	grace  time.Duration
	specs  []bot.PlatformSpec
}

// WithPlatforms adds platforms besides the console (the adapters' own
// specs, e.g. slack.Platform()), for tests of what the core or a command
// asks a platform: id forms, hints, pacing. A spec named as the console
// replaces the console's own.
func WithPlatforms(specs ...bot.PlatformSpec) Option {
	return func(o *envOptions) { o.specs = append(o.specs, specs...) }
}

// WithInboxGrace sets the bot's inbox grace (bot.Options.InboxGrace):
// with a real store, whose claims expire in real time, recovery tests
// need a short one.
func WithInboxGrace(d time.Duration) Option { return func(o *envOptions) { o.grace = d } }

// WithClock uses c instead of a new clock at Start, so that several
// environments (replicas) share one time.
func WithClock(c *Clock) Option { return func(o *envOptions) { o.clock = c } }

// WithStore uses s instead of an in-memory store.
func WithStore(s bot.Store) Option { return func(o *envOptions) { o.store = s } }

// WithConfig uses c instead of the demo configuration.
func WithConfig(c *config.Config) Option { return func(o *envOptions) { o.config = c } }

// New returns a bot on the demo roster with a console recorder adapter.
// Register the commands under test with e.Bot.Router.Register.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	o := envOptions{}
	for _, f := range opts {
		f(&o)
	}
	if o.config == nil {
		o.config = config.Demo()
	}
	clock := o.clock
	if clock == nil {
		clock = NewClock(Start)
	}
	if o.store == nil {
		m := NewMem()
		m.Now = clock.Now
		o.store = m
	}
	cat := i18n.MustLoad()
	specs := slices.Clone(o.specs)
	if !slices.ContainsFunc(specs, func(s bot.PlatformSpec) bool { return s.Name == console.Name }) {
		specs = append(specs, console.Platform())
	}
	ps := bot.NewPlatforms(specs...)
	b, err := bot.New(bot.Options{
		Store: o.store, Translator: cat, Roster: o.config.Roster(ps), Groups: o.config.ChatGroups(ps),
		Location: o.config.Location(), Lang: o.config.Lang, Now: clock.Now, SleepUntil: clock.SleepUntil,
		Calendar: o.config.Calendar(), Logger: slog.New(slog.NewTextHandler(testLog(t), nil)), InboxGrace: o.grace,
		Platforms: ps,
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{P: console.Name}
	b.Out.AddAdapter(rec)
	// Messages go through the durable outbox, as in the program: a
	// command's messages leave once its unit of work has committed.
	ob := outbox.New(b, outbox.Options{Now: clock.Now})
	b.Out.SetSender(ob)
	return &Env{T: t, Bot: b, Store: o.store, Clock: clock, Adapter: rec, Outbox: ob, Config: o.config, Catalog: cat}
}

// Must registers commands or fails the test.
func (e *Env) Must(cmds ...*bot.Command) *Env {
	e.T.Helper()
	if err := e.Bot.Router.Register(cmds...); err != nil {
		e.T.Fatal(err)
	}
	return e
}

// Person returns the demo person with roster id (or name), failing the test
// when there is none.
func (e *Env) Person(id string) *bot.Person {
	e.T.Helper()
	r, err := e.Bot.People.Roster(context.Background())
	if err != nil {
		r = e.Bot.People.BaseRoster() // the store is down (an outage test)
	}
	p, ok := r.Person(id)
	if !ok {
		p, ok = r.FindPerson(id)
	}
	if !ok {
		e.T.Fatalf("no person %q in the roster", id)
	}
	return p
}

// Command runs a command line as person (a roster id or name) on the
// console platform.
func (e *Env) Command(person, line string) *bot.Response {
	e.T.Helper()
	p := e.Person(person)
	return e.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: p.IDs[console.Name], UserName: p.Name, ChatID: "巡纪协作群", Text: line})
}

// Direct runs a command line as person in a one-to-one chat with the bot.
func (e *Env) Direct(person, line string) *bot.Response {
	e.T.Helper()
	p := e.Person(person)
	return e.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: p.IDs[console.Name], UserName: p.Name, Direct: true, Text: line})
}

// Click presses a button as person.
func (e *Env) Click(person string, b bot.Button) *bot.Response {
	e.T.Helper()
	p := e.Person(person)
	return e.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindAction, Platform: console.Name, UserID: p.IDs[console.Name], UserName: p.Name, ChatID: "巡纪协作群", Action: b.Action, Value: b.Value})
}

// TZ renders a catalog message in Chinese.
func (e *Env) TZ(key string, args ...any) string { return e.Catalog.T(i18n.ZH, key, args...) }

// Text joins every reply's text and card of resp, for assertions.
func Text(resp *bot.Response) string {
	if resp == nil {
		return ""
	}
	var s []string
	for _, r := range resp.Replies {
		if r.Text != "" {
			s = append(s, r.Text)
		}
		if r.Card != nil {
			s = append(s, CardText(r.Card))
		}
	}
	if resp.Toast != "" && !slices.Contains(s, resp.Toast) {
		s = append(s, resp.Toast)
	}
	return strings.Join(s, "\n")
}

// CardText flattens a card for assertions.
func CardText(c *bot.Card) string {
	if c == nil {
		return ""
	}
	s := []string{c.Title, c.Text}
	for _, f := range c.Fields {
		s = append(s, f.Label+": "+f.Value)
	}
	for _, b := range c.Buttons {
		s = append(s, "["+b.Label+"]")
	}
	s = append(s, c.Note)
	return strings.Join(s, "\n")
}

// FindButton returns the button with action on card, failing the test
// when there is none.
func FindButton(t testing.TB, c *bot.Card, action string) bot.Button {
	t.Helper()
	if c == nil {
		t.Fatalf("no card, looking for button %q", action)
	}
	for _, b := range c.Buttons {
		if b.Action == action {
			return b
		}
	}
	t.Fatalf("card %q has no button %q", c.Title, action)
	return bot.Button{}
}

// MustContain fails the test (without stopping it) for each of wants not
// in got; what names the text in the failure.
func MustContain(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: want %q in:\n%s", what, w, got)
		}
	}
}

// MustNotContain fails the test for each of bad found in got.
func MustNotContain(t testing.TB, what, got string, bad ...string) {
	t.Helper()
	for _, w := range bad {
		if strings.Contains(got, w) {
			t.Errorf("%s: must not contain %q:\n%s", what, w, got)
		}
	}
}

// Delivered returns the message a stored reference names: ref itself, or
// for a reference handed out before its message left the outbox (every
// message a command sends is, since it leaves after the command's unit of
// work commits), the message the outbox later delivered.
func (e *Env) Delivered(ref bot.MessageRef) bot.MessageRef {
	e.T.Helper()
	if ref.Pending == "" {
		return ref
	}
	doc, err := e.Store.Get(context.Background(), outbox.CollSent, ref.Pending)
	if err != nil {
		e.T.Fatalf("message %s not delivered: %v", ref.Pending, err)
	}
	var out bot.MessageRef
	if err := json.Unmarshal(doc, &out); err != nil {
		e.T.Fatal(err)
	}
	return out
}

// testLog is t's output until the test ends, then nothing: background
// work that a test left to stop by itself (a lease renewal whose process
// "died") may log once more, and testing panics on output after a test.
func testLog(t testing.TB) io.Writer {
	w := &endingWriter{w: t.Output()}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

type endingWriter struct {
	mu   sync.Mutex
	w    io.Writer
	done bool
}

func (e *endingWriter) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return len(p), nil
	}
	return e.w.Write(p)
}

// RunOutbox runs the outbox's delivery loop until the test ends, as the
// program does: messages that wait their turn (behind another request's
// answer still being delivered, say) go out by themselves. Tests that
// count what a Flush sends do not call it.
func (e *Env) RunOutbox() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.Outbox.Run(ctx)
	}()
	e.T.Cleanup(func() {
		cancel()
		<-done
	})
}

// Eventually reports whether cond became true within timeout, checking
// it every 20 ms on the real clock: a bounded wait on a condition (a
// server starting, a client reconnecting), never a sleep that guesses.
func Eventually(timeout time.Duration, cond func() bool) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(timeout)
	for !cond() {
		select {
		case <-tick.C:
		case <-limit:
			return cond()
		}
	}
	return true
}
