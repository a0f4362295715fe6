// Package outbox is the durable outbox: every outgoing message, card
// update and direct message is stored before it is sent and removed only
// when the platform accepted it. A platform that is down, rate-limiting
// or flaky loses nothing: entries wait for the Retry-After the platform
// gave or back off exponentially with jitter, and go out in order per
// chat within the platform's per-chat rate.
//
// Delivery is at least once: a process killed between the platform's
// acceptance and the entry's removal sends it again after restart. Lark
// drops the repeat by the message uuid (Outgoing.Key); Slack has no such
// key, so a repeat is possible there in that narrow window.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Collections used in the store.
const (
	Coll     = "outbox"
	CollDead = "outbox_dead" // entries given up on, kept for the record
	// CollSent maps an entry that was not delivered when it was sent, and
	// so was handed out as a pending MessageRef, to the message the
	// platform later accepted, so that updates of it find it. Only such
	// entries are recorded (a platform was down), and records keep their
	// card references for as long as they live, so these are kept too.
	CollSent = "outbox_sent"
)

// Entry is one stored message.
type Entry struct {
	ID       string       `json:"id"`
	Msg      bot.Outgoing `json:"msg"`
	Created  time.Time    `json:"created"`
	Attempts int          `json:"attempts"`
	NextAt   time.Time    `json:"next_at"`
	LastErr  string       `json:"last_err,omitempty"`
	// Handed out: a pending MessageRef names this entry, so its delivery
	// is recorded in CollSent.
	Handed bool `json:"handed,omitempty"`
	// Reserved: an answer its adapter is delivering itself (bot.Reserver).
	// It holds no chat back: it is sent only if its adapter failed or died,
	// and is then late whatever its place.
	Reserved bool `json:"reserved,omitempty"`
}

func (e *Entry) chat() string {
	target := e.Msg.ChatID
	if target == "" {
		target = "user:" + e.Msg.UserID
	}
	return string(e.Msg.Platform) + ":" + target
}

// Options tunes the outbox.
type Options struct {
	// Pace is the minimum gap between two messages to one chat, per
	// platform. Defaults: Slack 1s (chat.postMessage allows about one a
	// second per channel), Lark 200ms (5 a second per chat).
	Pace map[bot.Platform]time.Duration
	// MaxAge is how long an entry is retried before it is moved to the
	// dead-letter collection and reported. Default 72h.
	MaxAge time.Duration
	// Tick is how often Run looks for due entries. Default 1s.
	Tick time.Duration
	// Lease is how long a process holds an entry's delivery attempt before
	// another replica may retry it. Default 30s.
	Lease time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

// Outbox implements bot.Sender.
type Outbox struct {
	store    bot.Store
	adapters func(bot.Platform) (bot.Adapter, bool)
	o        Options

	mu   sync.Mutex
	last map[string]time.Time // chat → last send, for pacing
	wake chan struct{}
}

var _ bot.Sender = (*Outbox)(nil)

// New returns an outbox that stores entries in s and delivers them with
// the adapters of b.
func New(b *bot.Bot, o Options) *Outbox {
	if o.Pace == nil {
		o.Pace = map[bot.Platform]time.Duration{bot.Slack: time.Second, bot.Lark: 200 * time.Millisecond}
	}
	if o.MaxAge == 0 {
		o.MaxAge = 72 * time.Hour
	}
	if o.Tick == 0 {
		o.Tick = time.Second
	}
	if o.Lease == 0 {
		o.Lease = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = b.Now
	}
	if o.Log == nil {
		o.Log = b.Log
	}
	return &Outbox{store: b.Store, adapters: b.Adapter, o: o, last: map[string]time.Time{}, wake: make(chan struct{}, 1)}
}

// Send stores m, then delivers it at once when nothing older for the same
// chat is waiting. It returns bot.ErrQueued when the message will go out
// later, and an error only when it could not even be stored.
func (x *Outbox) Send(ctx context.Context, m bot.Outgoing) (bot.MessageRef, error) {
	seq, err := x.store.NextSeq(ctx, Coll)
	if err != nil {
		return bot.MessageRef{}, err
	}
	now := x.o.Now()
	e := &Entry{ID: fmt.Sprintf("%012d", seq), Msg: m, Created: now, NextAt: now, Handed: m.Update == nil}
	if err := x.put(ctx, e, true); err != nil {
		return bot.MessageRef{}, err
	}
	// Queued: a new message is handed out as a pending reference, so that
	// it can be updated before and after it is delivered.
	queued := bot.MessageRef{}
	if e.Handed {
		queued = bot.MessageRef{Platform: m.Platform, ChatID: m.ChatID, Pending: e.ID}
	}
	if bot.InUnit(ctx) {
		// Part of a unit of work: the entry exists once the unit commits,
		// and only then may the message leave.
		bot.AfterCommit(ctx, func(ctx context.Context) { _, _ = x.deliver(ctx, e, queued) })
		return queued, bot.ErrQueued
	}
	return x.deliver(ctx, e, queued)
}

// deliver sends the stored entry e at once when nothing older for the
// same chat is waiting, and otherwise leaves it to Run. queued is the
// reference to hand out when it does not go now.
func (x *Outbox) deliver(ctx context.Context, e *Entry, queued bot.MessageRef) (bot.MessageRef, error) {
	m, now := e.Msg, x.o.Now()
	pending, err := x.pending(ctx)
	if err != nil {
		return queued, bot.ErrQueued
	}
	for _, p := range pending {
		if p.ID < e.ID && p.chat() == e.chat() && !p.Reserved {
			x.poke()
			return queued, bot.ErrQueued // keep the chat's order
		}
	}
	if wait := x.paceWait(e.chat(), m.Platform, now); wait > 2*time.Second {
		x.poke()
		return queued, bot.ErrQueued
	} else if wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return queued, bot.ErrQueued
		}
	}
	ref, ok := x.attempt(ctx, e)
	if !ok {
		x.poke()
		return queued, bot.ErrQueued
	}
	return ref, nil
}

// errNotYet delays an update of a message the outbox has not delivered
// yet; it is not counted as a failure of the platform.
var errNotYet = errors.New("the message to update is still waiting in the outbox")

// resolve replaces a pending reference in e's update by the message the
// platform accepted. It returns errNotYet while that message waits in the
// outbox, and a permanent error when it was given up on.
func (x *Outbox) resolve(ctx context.Context, e *Entry) error {
	if e.Msg.Update == nil || e.Msg.Update.Pending == "" {
		return nil
	}
	doc, err := x.store.Get(ctx, CollSent, e.Msg.Update.Pending)
	if err == nil {
		var ref bot.MessageRef
		if err := json.Unmarshal(doc, &ref); err != nil {
			return permanent{fmt.Errorf("outbox: unreadable delivery record %s: %w", e.Msg.Update.Pending, err)}
		}
		e.Msg.Update = &ref
		e.Msg.ChatID = ref.ChatID
		return nil
	}
	if !bot.IsNotFound(err) {
		return err
	}
	if _, err := x.store.Get(ctx, Coll, e.Msg.Update.Pending); err == nil {
		return errNotYet
	} else if !bot.IsNotFound(err) {
		return err
	}
	return permanent{fmt.Errorf("outbox: the message to update (%s) was given up on", e.Msg.Update.Pending)}
}

type permanent struct{ error }

func (permanent) Permanent() bool { return true }

// attempt delivers e once under a lease and records the outcome.
func (x *Outbox) attempt(ctx context.Context, e *Entry) (bot.MessageRef, bool) {
	lease := fmt.Sprintf("outbox:%s:%d", e.ID, e.Attempts)
	if got, err := x.store.Claim(ctx, lease, x.o.Lease); err != nil || !got {
		return bot.MessageRef{}, false // another process is on it
	}
	a, ok := x.adapters(e.Msg.Platform)
	var ref bot.MessageRef
	err := x.resolve(ctx, e)
	switch {
	case errors.Is(err, errNotYet):
		e.Attempts++ // the next look takes a new lease
		e.NextAt = x.o.Now().Add(x.o.Tick)
		if perr := x.put(context.WithoutCancel(ctx), e, false); perr != nil {
			x.o.Log.Error("outbox: cannot record the wait", "id", e.ID, "err", perr)
		}
		return bot.MessageRef{}, false
	case err != nil:
	case !ok:
		err = fmt.Errorf("no adapter for platform %q", e.Msg.Platform)
	default:
		ref, err = a.Send(ctx, e.Msg)
	}
	now := x.o.Now()
	x.mu.Lock()
	x.last[e.chat()] = now
	x.mu.Unlock()
	if err == nil {
		if e.Handed {
			// Recorded before the entry goes, so that an update finds the
			// message in one place or the other.
			if doc, merr := json.Marshal(ref); merr == nil {
				if perr := x.store.Put(context.WithoutCancel(ctx), CollSent, e.ID, doc); perr != nil {
					x.o.Log.Error("outbox: delivery not recorded; updates of it will not find it", "id", e.ID, "err", perr)
				}
			}
		}
		if derr := x.store.Delete(context.WithoutCancel(ctx), Coll, e.ID); derr != nil {
			x.o.Log.Error("outbox: sent but not removed; it may be sent again", "id", e.ID, "err", derr)
		}
		return ref, true
	}
	e.Attempts++
	e.LastErr = err.Error()
	var perm bot.Permanent
	if errors.As(err, &perm) && perm.Permanent() || now.Sub(e.Created) > x.o.MaxAge {
		x.o.Log.Error("outbox: giving up on a message", "id", e.ID, "platform", e.Msg.Platform, "attempts", e.Attempts, "err", err)
		x.bury(context.WithoutCancel(ctx), e)
		return bot.MessageRef{}, false
	}
	e.NextAt = now.Add(backoff(err, e.Attempts))
	x.o.Log.Warn("outbox: delivery failed, will retry", "id", e.ID, "platform", e.Msg.Platform, "attempts", e.Attempts, "next", e.NextAt, "err", err)
	if perr := x.put(context.WithoutCancel(ctx), e, false); perr != nil {
		x.o.Log.Error("outbox: cannot record the retry", "id", e.ID, "err", perr)
	}
	return bot.MessageRef{}, false
}

// backoff honours a platform's Retry-After, else doubles from 1s up to
// 5 minutes with ±20% jitter, so replicas and chats don't retry in step.
func backoff(err error, attempts int) time.Duration {
	var ra bot.RetryAfter
	if errors.As(err, &ra) && ra.RetryAfter() > 0 {
		return ra.RetryAfter()
	}
	d := time.Second << min(attempts-1, 9)
	d = min(d, 5*time.Minute)
	j := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * j)
}

func (x *Outbox) bury(ctx context.Context, e *Entry) {
	doc, _ := json.Marshal(e)
	if err := x.store.Put(ctx, CollDead, e.ID, doc); err != nil {
		x.o.Log.Error("outbox: cannot keep the dead letter", "id", e.ID, "err", err)
		return
	}
	_ = x.store.Delete(ctx, Coll, e.ID)
}

func (x *Outbox) put(ctx context.Context, e *Entry, create bool) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if create {
		return x.store.Create(ctx, Coll, e.ID, doc)
	}
	return x.store.Put(ctx, Coll, e.ID, doc)
}

func (x *Outbox) pending(ctx context.Context) ([]*Entry, error) {
	docs, err := x.store.List(ctx, Coll)
	if err != nil {
		return nil, err
	}
	out := make([]*Entry, 0, len(docs))
	for _, d := range docs {
		var e Entry
		if err := json.Unmarshal(d.Data, &e); err != nil {
			x.o.Log.Error("outbox: unreadable entry", "id", d.ID, "err", err)
			continue
		}
		out = append(out, &e)
	}
	return out, nil
}

func (x *Outbox) paceWait(chat string, p bot.Platform, now time.Time) time.Duration {
	x.mu.Lock()
	defer x.mu.Unlock()
	last, ok := x.last[chat]
	if !ok {
		return 0
	}
	return max(0, last.Add(x.o.Pace[p]).Sub(now))
}

func (x *Outbox) poke() {
	select {
	case x.wake <- struct{}{}:
	default:
	}
}

// Flush tries every due entry once, oldest first and in order per chat:
// a chat whose oldest entry is not due or fails waits, so its later
// messages never overtake it. It returns how many were delivered.
func (x *Outbox) Flush(ctx context.Context) (int, error) {
	pending, err := x.pending(ctx)
	if err != nil {
		return 0, err
	}
	blocked := map[string]bool{}
	sent := 0
	for _, e := range pending { // ascending id: oldest first
		c := e.chat()
		if blocked[c] {
			continue
		}
		now := x.o.Now()
		if e.NextAt.After(now) {
			blocked[c] = blocked[c] || !e.Reserved
			continue
		}
		if wait := x.paceWait(c, e.Msg.Platform, now); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return sent, ctx.Err()
			}
		}
		if _, ok := x.attempt(ctx, e); !ok {
			blocked[c] = blocked[c] || !e.Reserved
			continue
		}
		sent++
	}
	return sent, nil
}

// Run flushes due entries every Tick, and at once when Send queued one,
// until ctx is done. Each replica may run it: leases keep two replicas
// from sending one entry at once.
func (x *Outbox) Run(ctx context.Context) error {
	t := time.NewTicker(x.o.Tick)
	defer t.Stop()
	for {
		if _, err := x.Flush(ctx); err != nil && ctx.Err() == nil {
			x.o.Log.Warn("outbox: flush failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-x.wake:
		}
	}
}

// Stats reports the outbox depth and the age of its oldest entry, for
// /metrics and /healthz.
func (x *Outbox) Stats(ctx context.Context) (depth int, oldest time.Duration, err error) {
	pending, err := x.pending(ctx)
	if err != nil {
		return 0, 0, err
	}
	if len(pending) == 0 {
		return 0, 0, nil
	}
	first := slices.MinFunc(pending, func(a, b *Entry) int { return a.Created.Compare(b.Created) })
	return len(pending), x.o.Now().Sub(first.Created), nil
}

var _ bot.Reserver = (*Outbox)(nil)

// Reserve implements bot.Reserver: m is stored (in the unit of work of
// ctx, when there is one) but not due before until. Its place in its
// chat's order is taken now.
func (x *Outbox) Reserve(ctx context.Context, m bot.Outgoing, until time.Time) (string, error) {
	seq, err := x.store.NextSeq(ctx, Coll)
	if err != nil {
		return "", err
	}
	e := &Entry{ID: fmt.Sprintf("%012d", seq), Msg: m, Created: x.o.Now(), NextAt: until, Reserved: true}
	if err := x.put(ctx, e, true); err != nil {
		return "", err
	}
	return e.ID, nil
}

// Release implements bot.Reserver: the reserved entry goes, and the
// messages queued behind it in its chat may leave.
func (x *Outbox) Release(ctx context.Context, id string) error {
	if err := x.store.Delete(ctx, Coll, id); err != nil {
		return err
	}
	x.poke()
	return nil
}

// Expedite implements bot.Reserver: the reserved entry is due now, and
// goes at once when nothing older for its chat waits, like a message
// just sent.
func (x *Outbox) Expedite(ctx context.Context, id string) error {
	var e Entry
	err := x.store.Update(ctx, Coll, id, func(cur []byte) ([]byte, error) {
		if err := json.Unmarshal(cur, &e); err != nil {
			return nil, err
		}
		e.NextAt, e.Reserved = x.o.Now(), false
		return json.Marshal(&e)
	})
	if err != nil {
		return err
	}
	if _, err := x.deliver(ctx, &e, bot.MessageRef{}); err != nil && !errors.Is(err, bot.ErrQueued) {
		return err
	}
	return nil
}

var _ bot.RefResolver = (*Outbox)(nil)

// Resolve implements bot.RefResolver from the delivery records.
func (x *Outbox) Resolve(ctx context.Context, ref bot.MessageRef) (bot.MessageRef, bool, error) {
	doc, err := x.store.Get(ctx, CollSent, ref.Pending)
	if bot.IsNotFound(err) {
		return bot.MessageRef{}, false, nil
	}
	if err != nil {
		return bot.MessageRef{}, false, err
	}
	var out bot.MessageRef
	if err := json.Unmarshal(doc, &out); err != nil {
		return bot.MessageRef{}, false, err
	}
	return out, true, nil
}
