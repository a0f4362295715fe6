// Package outbox is the durable outbox: every outgoing message, card
// update and direct message is stored before it is sent and removed only
// when the platform accepted it. A platform that is down, rate-limiting
// or flaky loses nothing: entries wait for the Retry-After the platform
// gave or back off exponentially with jitter, and go out in order per
// chat within the platform's per-chat rate.
//
// Order: every message to a chat leaves in the order it was stored, and
// after any older one still waiting. Within a process a chat's sends
// take turns (Turn, for the adapters' direct answers too); across
// processes an entry is sent only when no older entry for its chat waits.
//
// Delivery is at least once: a process killed between the platform's
// acceptance and the entry's removal sends it again after restart. An
// entry carries an in-flight mark while it is being sent; one found
// with the mark and no live lease was cut off mid-send, and is counted
// (Options.Uncertain, xunji_outbox_possible_duplicates_total) before it
// is sent again. Lark drops the repeat by the message uuid, derived from
// Outgoing.Key or else from the entry; Slack has no such key, so a
// repeat is possible there, in that window only.
package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Collections used in the store.
const (
	Coll     = "outbox"
	CollDead = "outbox_dead" // entries given up on, kept for the record
	// CollSent maps a card whose pending MessageRef was handed out to the
	// message the platform later accepted, so that an update of the card
	// (bot.UpdateCards) or a click on it (bot.Names) finds it. A pending
	// reference is handed out for every new message stored in a unit of
	// work (it may leave only once the unit commits: most notices and
	// cards) and for one Send could not deliver at once; a message Send
	// delivered at once returns the platform's reference and leaves no
	// record, nor does a message without a card (nothing updates or
	// clicks it). The delivery records are expiring documents
	// (bot.PutExpiring), not records of a unit of work: each is kept for
	// Options.SentTTL of its platform (cmd/xunji sets it from
	// XUNJI_OUTBOX_SENT_TTL), as long as the platform lets the card be
	// updated (Lark: 14 days), and then disappears by itself. Only a
	// store without bot.DocExpirer keeps them.
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
	// Handed: a new message (no update), whose pending MessageRef names
	// this entry. Its delivery is recorded in CollSent when it is a card
	// and Send did not deliver it at once (returning the platform's
	// reference instead).
	Handed bool `json:"handed,omitempty"`
	// Sending is the in-flight mark: set (and stored) before an attempt,
	// cleared with its outcome. Found set on an entry nobody holds, it
	// says an attempt ended without a record, perhaps after the platform
	// took the message.
	Sending *time.Time `json:"sending,omitempty"`
	// Reserved: an answer its adapter is delivering itself (bot.Reserver),
	// not sent while the claim HeldBy (the request's inbox lease) is held.
	// It keeps its place in the conversation Order, where the adapter
	// shows it (its message, sent only if the adapter failed or died, may
	// go elsewhere: a private answer in a group goes to the person
	// directly): later messages there wait for it.
	Reserved bool   `json:"reserved,omitempty"`
	HeldBy   string `json:"held_by,omitempty"`
	Order    string `json:"order,omitempty"`
}

// dest is the conversation e's message goes to when the outbox sends it.
func (e *Entry) dest() string { return chatKey(e.Msg.Platform, e.Msg.ChatID, e.Msg.UserID) }

// chats are the conversations e keeps its place in: where its message
// goes and, for a reserved answer, where its adapter shows it (Order).
// It waits behind older entries of each, and newer entries of each wait
// behind it: a private answer in a group that the outbox sends to the
// person directly must not overtake, nor be overtaken by, the person's
// other direct messages.
func (e *Entry) chats() []string {
	d := e.dest()
	if e.Order == "" || e.Order == d {
		return []string{d}
	}
	return []string{e.Order, d}
}

// shownElsewhere reports whether e is a reserved answer that its adapter
// shows in another conversation (Order) than the one the outbox would
// send it to. While the adapter holds it, it keeps its place only there:
// shown, it never reaches the other conversation, whose own messages
// need not wait for its release.
func (e *Entry) shownElsewhere() bool {
	return e.Reserved && e.Order != "" && e.Order != e.dest()
}

// placesOf are the conversations e holds a place in now (see chats and
// shownElsewhere).
func (x *Outbox) placesOf(ctx context.Context, e *Entry) []string {
	if e.shownElsewhere() && x.heldBy(ctx, e) {
		return []string{e.Order}
	}
	return e.chats()
}

// chatKey names the conversation a message goes to: its chat, or the
// direct messages with its user.
func chatKey(p bot.Platform, chat, user string) string {
	if chat == "" {
		return string(p) + ":user:" + user
	}
	return string(p) + ":" + chat
}

// Options tunes the outbox.
type Options struct {
	// Pace is the minimum gap between two messages to one chat, per
	// platform. Default: each platform's own (bot.PlatformSpec.Pace).
	Pace map[bot.Platform]time.Duration
	// MaxAge is how long an entry is retried before it is moved to the
	// dead-letter collection and reported. Default 72h.
	MaxAge time.Duration
	// Tick is how often Run looks for due entries. Default 1s.
	Tick time.Duration
	// Lease is how long a process holds an entry's delivery attempt before
	// another replica may retry it. Default 30s.
	// The lease is renewed while the attempt lasts (a platform may keep
	// a send waiting for its Retry-After), so no replica sends it again
	// meanwhile.
	Lease time.Duration
	Now   func() time.Time
	Log   *slog.Logger
	// Uncertain, when set, is told of each entry found cut off mid-send:
	// its platform may show it twice (metrics.PossibleDuplicate).
	Uncertain func(bot.Platform)
	// Failed, when set, is told of each failed delivery attempt
	// (metrics: platform API errors by code, auth failures).
	Failed func(p bot.Platform, err error)
	// Delivered, when set, is told of each message delivered.
	Delivered func(p bot.Platform)
	// Buried, when set, is told of each entry given up on and why: the
	// platform's error code (bot.APICode) or "expired" (MaxAge).
	Buried func(p bot.Platform, reason string)
	// SentTTL is how long a delivery record (CollSent) is kept, per
	// platform: as long as the platform lets a message be updated. An
	// update of a card whose record expired is dropped (logged). Defaults:
	// the platform's own limit (bot.PlatformSpec.SentTTL, Lark 15 days),
	// else DefaultSentTTL.
	SentTTL map[bot.Platform]time.Duration
}

// DefaultSentTTL is the delivery record lifetime (Options.SentTTL) on a
// platform that sets none: a platform that lets a message be updated
// however old it is (Slack's chat.update) keeps the record for a quarter,
// the assessment period, the longest cycle a card follows.
const DefaultSentTTL = 92 * 24 * time.Hour

// sentTTL is how long a delivery record on p is kept.
func (o *Options) sentTTL(p bot.Platform) time.Duration {
	if d, ok := o.SentTTL[p]; ok && d > 0 {
		return d
	}
	return DefaultSentTTL
}

// platformDefaults fills Pace and SentTTL from the platforms' specs where
// the options leave them unset.
func (o *Options) platformDefaults(ps *bot.Platforms) {
	if o.Pace == nil {
		o.Pace = map[bot.Platform]time.Duration{}
		for _, s := range ps.All() {
			if s.Pace > 0 {
				o.Pace[s.Name] = s.Pace
			}
		}
	}
	ttl := maps.Clone(o.SentTTL)
	if ttl == nil {
		ttl = map[bot.Platform]time.Duration{}
	}
	for _, s := range ps.All() {
		if d, set := ttl[s.Name]; s.SentTTL > 0 && (!set || d <= 0) {
			ttl[s.Name] = s.SentTTL
		}
	}
	o.SentTTL = ttl
}

// sendTimeout bounds one platform send that has begun; a shutdown waits
// for it (within the program's shutdown bound, 25 s by default).
const sendTimeout = 15 * time.Second

// Outbox implements bot.Sender.
type Outbox struct {
	b        *bot.Bot
	store    bot.Store
	adapters func(bot.Platform) (bot.Adapter, bool)
	o        Options

	mu    sync.Mutex
	last  map[string]time.Time // chat → last send, for pacing
	gates map[string]*gate     // chat → its turn, while anyone waits for it
	wake  chan struct{}
}

var (
	_ bot.Sender    = (*Outbox)(nil)
	_ bot.ChatOrder = (*Outbox)(nil)
)

// New returns an outbox that stores entries in s and delivers them with
// the adapters of b.
func New(b *bot.Bot, o Options) *Outbox {
	o.platformDefaults(b.Platforms())
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
	return &Outbox{b: b, store: b.Store, adapters: b.Out.Adapter, o: o, last: map[string]time.Time{}, gates: map[string]*gate{}, wake: make(chan struct{}, 1)}
}

// Send stores m, then delivers it at once when nothing older for the same
// chat is waiting. It returns bot.ErrQueued when the message will go out
// later, and an error only when it could not even be stored. It waits
// for the chat's turn (see Turn) unless ctx holds it.
func (x *Outbox) Send(ctx context.Context, m bot.Outgoing) (bot.MessageRef, error) {
	if bot.InUnit(ctx) {
		return x.sendInUnit(ctx, m)
	}
	key := chatKey(m.Platform, m.ChatID, m.UserID)
	direct := true
	if release, err := x.enter(ctx, key); err != nil {
		direct = false // stored, and left to Flush
	} else {
		defer release()
	}
	seq, err := x.store.NextSeq(ctx, Coll)
	if err != nil {
		return bot.MessageRef{}, err
	}
	now := x.o.Now()
	e := &Entry{ID: fmt.Sprintf("%012d", seq), Msg: m, Created: now, NextAt: now, Handed: m.Update == nil}
	// Queued: a new message is handed out as a pending reference, so that
	// it can be updated before and after it is delivered.
	queued := bot.MessageRef{}
	if e.Handed {
		queued = bot.MessageRef{Platform: m.Platform, ChatID: m.ChatID, Pending: e.ID}
	}
	if direct {
		backlog, err := x.backlog(ctx, e.ID, key)
		direct = err == nil && !backlog // keep the chat's order
	}
	wait := x.paceWait(key, m.Platform, now)
	if direct && wait <= 2*time.Second {
		e.Sending = &now // sent at once: stored with its in-flight mark
	}
	if err := x.put(ctx, e, true); err != nil {
		return bot.MessageRef{}, err
	}
	if e.Sending == nil {
		x.poke()
		return queued, bot.ErrQueued
	}
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			x.poke()
			return queued, bot.ErrQueued
		}
	}
	ref, ok := x.attempt(ctx, e, true)
	if !ok {
		x.poke()
		return queued, bot.ErrQueued
	}
	return ref, nil // the platform's reference: no pending one went out
}

// sendInUnit stores m as part of the unit of work of ctx: the entry
// exists once the unit commits, and only then may the message leave.
func (x *Outbox) sendInUnit(ctx context.Context, m bot.Outgoing) (bot.MessageRef, error) {
	seq, err := x.store.NextSeq(ctx, Coll)
	if err != nil {
		return bot.MessageRef{}, err
	}
	now := x.o.Now()
	e := &Entry{ID: fmt.Sprintf("%012d", seq), Msg: m, Created: now, NextAt: now, Handed: m.Update == nil}
	queued := bot.MessageRef{}
	if e.Handed {
		queued = bot.MessageRef{Platform: m.Platform, ChatID: m.ChatID, Pending: e.ID}
	}
	if err := x.put(ctx, e, true); err != nil {
		return bot.MessageRef{}, err
	}
	bot.AfterCommit(ctx, func(ctx context.Context) { x.deliverCommitted(ctx, e) })
	return queued, bot.ErrQueued
}

// deliverCommitted sends an entry a unit of work stored, as Send sends a
// new one: at once, in its chat's turn, when nothing older for the chat
// waits; otherwise Run sends it.
func (x *Outbox) deliverCommitted(ctx context.Context, e *Entry) {
	keys := e.chats()
	release, err := x.enter(ctx, keys...)
	if err != nil {
		x.poke()
		return
	}
	defer release()
	if backlog, err := x.backlog(ctx, e.ID, keys...); err != nil || backlog {
		x.poke()
		return
	}
	wait := x.paceWait(e.dest(), e.Msg.Platform, x.o.Now())
	if wait > 2*time.Second {
		x.poke()
		return
	}
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			x.poke()
			return
		}
	}
	if _, ok := x.attempt(ctx, e, false); !ok {
		x.poke()
	}
}

// backlog reports whether an entry older than id (any, when id is empty)
// waits for one of the chats; reserved answers count where their adapter
// shows them (see Entry.Order).
func (x *Outbox) backlog(ctx context.Context, id string, chats ...string) (bool, error) {
	pending, err := x.pending(ctx)
	if err != nil {
		return false, err
	}
	for _, p := range pending {
		if id != "" && p.ID >= id {
			continue
		}
		cs := p.chats()
		if !slices.ContainsFunc(cs, func(c string) bool { return slices.Contains(chats, c) }) {
			continue
		}
		for _, c := range x.placesOf(ctx, p) {
			if slices.Contains(chats, c) {
				return true, nil
			}
		}
	}
	return false, nil
}

// Turn implements bot.ChatOrder. It waits until no other message to
// the chat (or to user directly, when user is set) is being sent by this
// process, and reports whether older messages to either still wait in
// the outbox. Until release, the chats' messages leave only through the
// caller, which sends them directly when there is no backlog and
// through Send with the returned context (which holds the turn)
// otherwise. A store that cannot be read reports no backlog: the direct
// way is then the only one left.
func (x *Outbox) Turn(ctx context.Context, p bot.Platform, chat, user, before string) (context.Context, bool, func()) {
	var keys []string
	if chat != "" {
		keys = append(keys, chatKey(p, chat, ""))
	}
	if user != "" {
		keys = append(keys, chatKey(p, "", user))
	}
	release, err := x.enter(ctx, keys...)
	if err != nil {
		return ctx, false, func() {}
	}
	backlog, err := x.backlog(ctx, before, keys...)
	switch {
	case err != nil && before != "":
		// The answers are reserved in the outbox: they keep their place
		// there rather than overtake what may wait.
		bot.Log(ctx, x.o.Log).Warn("outbox: backlog unknown; the answers keep their place in the outbox", "chats", keys, "err", err)
		backlog = true
	case err != nil:
		bot.Log(ctx, x.o.Log).Warn("outbox: backlog unknown; answering directly", "chats", keys, "err", err)
	}
	return context.WithValue(ctx, turnKey{x}, heldTurn(keys)), backlog, release
}

// gate is one chat's turn: a token passed from sender to sender.
type gate struct {
	token chan struct{}
	refs  int
}

type turnKey struct{ x *Outbox }

// heldTurn lists the chats whose turn a context holds.
type heldTurn []string

// enter waits for the turn of each chat that ctx does not already hold,
// in a fixed order (no two callers wait for each other).
func (x *Outbox) enter(ctx context.Context, chats ...string) (release func(), err error) {
	held, _ := ctx.Value(turnKey{x}).(heldTurn)
	chats = slices.Clone(chats)
	slices.Sort(chats)
	chats = slices.Compact(chats)
	var got []string
	release = func() {
		for _, c := range got {
			x.leave(c)
		}
	}
	for _, c := range chats {
		if slices.Contains(held, c) {
			continue
		}
		g := x.gate(c)
		select {
		case g.token <- struct{}{}:
			got = append(got, c)
		case <-ctx.Done():
			x.unref(c)
			release()
			return nil, ctx.Err()
		}
	}
	return release, nil
}

// tryEnterAll takes the turn of every chat in chats if nobody has any,
// and returns how to leave them.
func (x *Outbox) tryEnterAll(chats []string) (leave func(), ok bool) {
	var got []string
	leave = func() {
		for _, c := range got {
			x.leave(c)
		}
	}
	for _, c := range chats {
		if !x.tryEnter(c) {
			leave()
			return nil, false
		}
		got = append(got, c)
	}
	return leave, true
}

// tryEnter takes chat's turn if nobody has it.
func (x *Outbox) tryEnter(chat string) bool {
	g := x.gate(chat)
	select {
	case g.token <- struct{}{}:
		return true
	default:
		x.unref(chat)
		return false
	}
}

func (x *Outbox) gate(chat string) *gate {
	x.mu.Lock()
	defer x.mu.Unlock()
	g := x.gates[chat]
	if g == nil {
		g = &gate{token: make(chan struct{}, 1)}
		x.gates[chat] = g
	}
	g.refs++
	return g
}

func (x *Outbox) leave(chat string) {
	x.mu.Lock()
	g := x.gates[chat]
	x.mu.Unlock()
	<-g.token
	x.unref(chat)
}

func (x *Outbox) unref(chat string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if g := x.gates[chat]; g != nil {
		if g.refs--; g.refs == 0 {
			delete(x.gates, chat)
		}
	}
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
	doc, err := x.b.GetExpiring(ctx, CollSent, e.Msg.Update.Pending)
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
	if _, err := x.store.Get(ctx, CollDead, e.Msg.Update.Pending); err == nil {
		return permanent{fmt.Errorf("outbox: the message to update (%s) was given up on", e.Msg.Update.Pending)}
	} else if !bot.IsNotFound(err) {
		return err
	}
	return errRecordExpired
}

// errRecordExpired is an update of a message delivered so long ago that
// its delivery record expired (Options.SentTTL): the platform would not
// update it any more, or the record's owner outlived the card's time.
var errRecordExpired = errors.New("outbox: the message to update was delivered too long ago; its delivery record expired")

type permanent struct{ error }

func (permanent) Permanent() bool { return true }

// attempt delivers e once under a lease, renewed while the attempt
// lasts, and records the outcome. The caller has the chat's turn. fresh
// is an entry Send just stored with its in-flight mark.
func (x *Outbox) attempt(ctx context.Context, e *Entry, fresh bool) (bot.MessageRef, bool) {
	log := bot.Log(ctx, x.o.Log) // a request's own lines name it
	lease := fmt.Sprintf("outbox:%s:%d", e.ID, e.Attempts)
	if got, err := x.store.Claim(ctx, lease, x.o.Lease); err != nil || !got {
		return bot.MessageRef{}, false // another process is on it
	}
	stop := x.b.KeepClaim(ctx, lease, x.o.Lease, nil)
	defer stop()
	if !fresh && !x.begin(ctx, log, e) {
		return bot.MessageRef{}, false // or sent meanwhile
	}
	a, ok := x.adapters(e.Msg.Platform)
	var ref bot.MessageRef
	err := x.resolve(ctx, e)
	switch {
	case errors.Is(err, errNotYet):
		e.Attempts++ // the next look takes a new lease
		e.NextAt = x.o.Now().Add(x.o.Tick)
		e.Sending = nil
		if perr := x.put(context.WithoutCancel(ctx), e, false); perr != nil {
			log.Error("outbox: cannot record the wait", "id", e.ID, "err", perr)
		}
		return bot.MessageRef{}, false
	case errors.Is(err, errRecordExpired):
		// Nothing to update any more: dropped, not a failure to report.
		log.Warn("outbox: update dropped", "id", e.ID, "pending", e.Msg.Update.Pending, "platform", e.Msg.Platform, "err", err)
		if derr := x.store.Delete(context.WithoutCancel(ctx), Coll, e.ID); derr != nil {
			log.Error("outbox: cannot remove a dropped update", "id", e.ID, "err", derr)
			return bot.MessageRef{}, false
		}
		return bot.MessageRef{}, true
	case err != nil:
	case !ok:
		err = fmt.Errorf("no adapter for platform %q", e.Msg.Platform)
	default:
		m := e.Msg
		if m.Key == "" {
			// The same on every attempt: a platform that dedupes (Lark's
			// uuid) shows a message an attempt cut off mid-way once.
			m.Key = "outbox:" + e.ID + ":" + strconv.FormatInt(e.Created.UnixNano(), 36)
		}
		// A send that has begun runs to its end even when ctx ends (a
		// shutdown): abandoned, the platform may still take the message
		// while the entry stays, and it would be sent again.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendTimeout)
		ref, err = a.Send(sctx, m)
		cancel()
	}
	now := x.o.Now()
	x.mu.Lock()
	x.last[e.dest()] = now
	x.mu.Unlock()
	e.Sending = nil
	if err == nil {
		x.delivered(ctx, log, e, ref, fresh)
		return ref, true
	}
	x.failed(ctx, log, e, err, now)
	return bot.MessageRef{}, false
}

// begin stores the in-flight mark of an entry read from the store (mark)
// and reports whether the attempt may go on: not when the entry is gone
// (sent) or moved on meanwhile, or the mark could not be stored. An
// earlier attempt found cut off is logged and counted (Uncertain).
func (x *Outbox) begin(ctx context.Context, log *slog.Logger, e *Entry) bool {
	cut, err := x.mark(ctx, e)
	if err != nil {
		if !bot.IsNotFound(err) && !errors.Is(err, errMoved) {
			log.Warn("outbox: cannot mark an attempt; trying later", "id", e.ID, "err", err)
		}
		return false
	}
	if cut != nil {
		// An attempt began and left no outcome: its process died, perhaps
		// after the platform took the message.
		log.Warn("outbox: an earlier attempt ended unrecorded; the message may show twice", "id", e.ID, "platform", e.Msg.Platform, "since", *cut)
		if x.o.Uncertain != nil {
			x.o.Uncertain(e.Msg.Platform)
		}
	}
	return true
}

// delivered records that the platform took e as ref: the delivery record
// of a card whose pending reference was handed out, then the entry's
// removal.
func (x *Outbox) delivered(ctx context.Context, log *slog.Logger, e *Entry, ref bot.MessageRef, fresh bool) {
	// A fresh entry's sender gets ref itself: its pending reference was
	// never handed out, and nobody will look it up.
	// Only a card is looked up later: updated (bot.UpdateCards) or
	// clicked (bot.Names, bot.Delivered); a text has neither.
	if e.Handed && !fresh && e.Msg.Card != nil {
		// Recorded before the entry goes, so that an update finds the
		// message in one place or the other.
		if doc, merr := json.Marshal(ref); merr == nil {
			if perr := x.b.PutExpiring(context.WithoutCancel(ctx), CollSent, e.ID, doc, x.o.sentTTL(e.Msg.Platform)); perr != nil {
				log.Error("outbox: delivery not recorded; updates of it will not find it", "id", e.ID, "err", perr)
			}
		}
	}
	if derr := x.store.Delete(context.WithoutCancel(ctx), Coll, e.ID); derr != nil {
		log.Error("outbox: sent but not removed; it may be sent again", "id", e.ID, "err", derr)
	}
	if x.o.Delivered != nil {
		x.o.Delivered(e.Msg.Platform)
	}
}

// failed records a failed attempt at now: e is given up on (buried) when
// the error is permanent or e too old, and otherwise tried again after a
// backoff.
func (x *Outbox) failed(ctx context.Context, log *slog.Logger, e *Entry, err error, now time.Time) {
	e.Attempts++
	e.LastErr = err.Error()
	if x.o.Failed != nil {
		x.o.Failed(e.Msg.Platform, err)
	}
	// A refusal of the app's credentials or scopes is fixed by fixing the
	// app, not the message: it stays queued, however the platform words it.
	auth := bot.IsAuthFailure(err)
	var perm bot.Permanent
	expired := now.Sub(e.Created) > x.o.MaxAge
	if !auth && errors.As(err, &perm) && perm.Permanent() || expired {
		log.Error("outbox: giving up on a message", "id", e.ID, "platform", e.Msg.Platform, "attempts", e.Attempts, "err", err)
		if x.bury(context.WithoutCancel(ctx), e) && x.o.Buried != nil {
			reason := bot.APICode(err)
			if expired {
				reason = "expired"
			}
			x.o.Buried(e.Msg.Platform, reason)
		}
		return
	}
	e.NextAt = now.Add(backoff(err, e.Attempts))
	if auth {
		log.Error("outbox: the platform refused the app's credentials; the message stays queued until they are fixed",
			"id", e.ID, "platform", e.Msg.Platform, "attempts", e.Attempts, "next", e.NextAt, "err", err)
	} else {
		log.Warn("outbox: delivery failed, will retry", "id", e.ID, "platform", e.Msg.Platform, "attempts", e.Attempts, "next", e.NextAt, "err", err)
	}
	if perr := x.put(context.WithoutCancel(ctx), e, false); perr != nil {
		log.Error("outbox: cannot record the retry", "id", e.ID, "err", perr)
	}
}

// errMoved is an entry another attempt changed since it was read.
var errMoved = errors.New("outbox: entry changed meanwhile")

// mark stores e's in-flight mark and reloads e, unless e is gone (sent)
// or another attempt moved it on since it was read. It returns the mark
// an earlier attempt left, if any; a reserved answer whose adapter never
// released it counts as such an attempt (since its creation).
func (x *Outbox) mark(ctx context.Context, e *Entry) (cut *time.Time, err error) {
	var cur Entry
	err = x.store.Update(ctx, Coll, e.ID, func(doc []byte) ([]byte, error) {
		cur = Entry{}
		if err := json.Unmarshal(doc, &cur); err != nil {
			return nil, err
		}
		if cur.Attempts != e.Attempts {
			return nil, errMoved
		}
		cut = cur.Sending
		if cur.Reserved {
			// Its adapter was to show it, and its lease is over: the
			// adapter's process died (or the answer took longer than the
			// lease), perhaps after the platform took the message. From now
			// on it is the outbox's to send.
			if cut == nil {
				created := cur.Created
				cut = &created
			}
			cur.Reserved, cur.HeldBy = false, ""
		}
		now := x.o.Now()
		cur.Sending = &now
		return json.Marshal(&cur)
	})
	if err != nil {
		return nil, err
	}
	*e = cur
	return cut, nil
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

// bury moves e to the dead letters and reports whether it did.
func (x *Outbox) bury(ctx context.Context, e *Entry) bool {
	doc, _ := json.Marshal(e)
	if err := x.store.Put(ctx, CollDead, e.ID, doc); err != nil {
		bot.Log(ctx, x.o.Log).Error("outbox: cannot keep the dead letter", "id", e.ID, "err", err)
		return false
	}
	_ = x.store.Delete(ctx, Coll, e.ID)
	return true
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
// messages never overtake it. It returns how many were delivered (an
// update dropped because its card's delivery record expired counts).
func (x *Outbox) Flush(ctx context.Context) (int, error) {
	pending, err := x.pending(ctx)
	if err != nil {
		return 0, err
	}
	blocked := map[string]bool{}
	sent := 0
	for _, e := range pending { // ascending id: oldest first
		cs := e.chats()
		block := func() {
			for _, c := range cs {
				blocked[c] = true
			}
		}
		if slices.ContainsFunc(cs, func(c string) bool { return blocked[c] }) {
			block() // what follows it in its other conversation waits too
			continue
		}
		now := x.o.Now()
		if e.Reserved {
			// Its adapter may still deliver it: it and what follows wait —
			// where the adapter shows it only, while the adapter holds it.
			if x.heldBy(ctx, e) {
				if e.shownElsewhere() {
					blocked[e.Order] = true
				} else {
					block()
				}
				continue
			}
			if e.NextAt.After(now) {
				block()
				continue
			}
		} else if e.NextAt.After(now) {
			block()
			continue
		}
		leave, ok := x.tryEnterAll(cs)
		if !ok {
			block() // this process is sending to one of its chats now
			continue
		}
		if wait := x.paceWait(e.dest(), e.Msg.Platform, now); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				leave()
				return sent, ctx.Err()
			}
		}
		_, ok = x.attempt(ctx, e, false)
		leave()
		if !ok {
			block()
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

var (
	_ bot.Reserver    = (*Outbox)(nil)
	_ bot.RefResolver = (*Outbox)(nil)
)

// Reserve implements bot.Reserver: m is stored (in the unit of work of
// ctx, when there is one) and not sent while the claim lease is held, nor
// before until.
func (x *Outbox) Reserve(ctx context.Context, m bot.Outgoing, chat, user, lease string, until time.Time) (string, error) {
	seq, err := x.store.NextSeq(ctx, Coll)
	if err != nil {
		return "", err
	}
	e := &Entry{ID: fmt.Sprintf("%012d", seq), Msg: m, Created: x.o.Now(), NextAt: until, Reserved: true, HeldBy: lease,
		Order: chatKey(m.Platform, chat, user)}
	if err := x.put(ctx, e, true); err != nil {
		return "", err
	}
	return e.ID, nil
}

// heldBy reports whether reserved entry e's adapter may still deliver it
// (its claim is held). A store that cannot tell says no: the entry then
// waits for its NextAt only.
func (x *Outbox) heldBy(ctx context.Context, e *Entry) bool {
	if e.HeldBy == "" {
		return false
	}
	held, err := x.b.ClaimHeld(ctx, e.HeldBy)
	if err != nil {
		bot.Log(ctx, x.o.Log).Warn("outbox: cannot tell whether a reserved answer is still being delivered; waiting", "id", e.ID, "err", err)
		return true
	}
	return held
}

// Release implements bot.Reserver: the reserved entry goes, and what
// waited behind it may leave.
func (x *Outbox) Release(ctx context.Context, id string) error {
	if err := x.store.Delete(ctx, Coll, id); err != nil {
		return err
	}
	x.poke()
	return nil
}

// Expedite implements bot.Reserver: the reserved entry becomes a message
// like any other, due now, and goes at once when nothing older for its
// chat waits.
func (x *Outbox) Expedite(ctx context.Context, id string) error {
	var e Entry
	err := x.store.Update(ctx, Coll, id, func(cur []byte) ([]byte, error) {
		if err := json.Unmarshal(cur, &e); err != nil {
			return nil, err
		}
		e.NextAt, e.Reserved, e.HeldBy = x.o.Now(), false, ""
		return json.Marshal(&e)
	})
	if err != nil {
		return err
	}
	x.deliverCommitted(ctx, &e)
	return nil
}

// Resolve implements bot.RefResolver from the delivery records.
func (x *Outbox) Resolve(ctx context.Context, ref bot.MessageRef) (bot.MessageRef, bool, error) {
	doc, err := x.b.GetExpiring(ctx, CollSent, ref.Pending)
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
