package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Inbox is the part of a Bot that keeps requests durable: it is the
// handler adapters serve (DurableHandler), accepting a request into the
// store before it is acknowledged and completing it once answered.
type Inbox struct {
	b          *Bot
	inboxGrace time.Duration
	// held maps the inbox tickets whose lease this process holds to
	// their *hold (see Process).
	held sync.Map
	// reserved maps a request in the works to its answers reserved in the
	// outbox (see reserve).
	reserved    sync.Map
	onDuplicate func(req *Request)
}

// Handle implements Handler: Bot.Handle.
func (ib *Inbox) Handle(ctx context.Context, req *Request) *Response { return ib.b.Handle(ctx, req) }

// WantsFiles implements FileWanter: Router.WantsFiles.
func (ib *Inbox) WantsFiles(text string) bool { return ib.b.Router.WantsFiles(text) }

// What adapters ask of the handler they serve for their own few texts
// (the console's, Lark's), in the acting person's language.

// T is Bot.T.
func (ib *Inbox) T(lang, key string, args ...any) string { return ib.b.T(lang, key, args...) }

// Roster is People.Roster.
func (ib *Inbox) Roster(ctx context.Context) (*Roster, error) { return ib.b.People.Roster(ctx) }

// LangOf is People.LangOf.
func (ib *Inbox) LangOf(ctx context.Context, p *Person) string { return ib.b.People.LangOf(ctx, p) }

// CollInbox holds requests accepted but not yet processed.
const CollInbox = "inbox"

// InboxGrace is how old an inbox entry must be before Inbox.Recover takes
// it over: younger ones are still being processed by the process that
// accepted them.
const InboxGrace = time.Minute

type inboxEntry struct {
	Req      *Request  `json:"req"`
	Accepted time.Time `json:"accepted"`
	// Attempts counts the recoveries whose unit of work could not
	// commit (the store failing, the command failing inside): after
	// maxInboxAttempts the request is answered with an apology and
	// completed rather than tried for ever.
	Attempts int `json:"attempts,omitempty"`
}

// maxInboxAttempts bounds how often recovery runs a request whose unit
// of work keeps failing while the store itself works (a request that
// cannot be carried out, rather than a store that is away: attempts
// are counted only when the store takes the count).
const maxInboxAttempts = 10

var (
	_ DurableHandler = (*Inbox)(nil)
	_ LateDeliverer  = (*Inbox)(nil)
	_ Orderer        = (*Inbox)(nil)
	_ FileWanter     = (*Inbox)(nil)
)

// Accept implements DurableHandler. It stores the request, claims its
// event id (the dedupe of platform retries) and takes the processing
// lease for this process, in one atomic step where the store can
// (InboxStore), so the adapter's Process after the acknowledgement needs
// no further round trip.
func (ib *Inbox) Accept(ctx context.Context, req *Request) (string, bool, error) {
	if req.Time.IsZero() {
		req.Time = ib.b.Now()
	}
	req.Accepted = true
	req.acceptedAt = ib.b.Now()
	// A platform event's entry is named after its dedupe claim, so a retry
	// conflicts with the first delivery while it waits in the inbox and
	// with its claim once handled (a store may keep the two as one, see
	// InboxOp); other requests are numbered.
	ticket := eventKey(req)
	if req.EventID == "" {
		seq, err := ib.b.Store.NextSeq(ctx, CollInbox)
		if err != nil {
			return "", false, err
		}
		ticket = fmt.Sprintf("seq:%012d", seq)
	}
	now := ib.b.Now()
	doc, err := json.Marshal(inboxEntry{Req: req, Accepted: now})
	if err != nil {
		return "", false, &Error{Code: EINTERNAL, Err: err}
	}
	// No lease is taken here: Process claims it, right after the
	// acknowledgement (recovery takes only entries older than the grace).
	// That keeps the acknowledgement to the entry and its claim, which a
	// store may write as one key (see InboxOp).
	op := InboxOp{Coll: CollInbox, ID: ticket, Doc: doc}
	if req.EventID != "" {
		op.Claim, op.ClaimTTL = ticket, DedupeTTL
	}
	first, err := ib.enqueue(ctx, op)
	if err != nil || !first {
		if err == nil && ib.onDuplicate != nil {
			ib.onDuplicate(req)
		}
		return "", !first && err == nil, err
	}
	return ticket, false, nil
}

// hold is this process's lease on an inbox request. From Process (or
// recovery) until Done the lease is renewed (KeepClaim), so however long
// the answer takes — a platform asking to retry after minutes — no
// process takes the request over while this one still works on it.
type hold struct {
	mu      sync.Mutex
	until   time.Time // the lease's end as last taken or renewed
	working bool      // being handled: the lease is renewed until Done
	stop    func()    // ends the renewal
	kept    bool      // not carried out (the store failed): left to recovery
}

func (h *hold) setUntil(t time.Time) {
	h.mu.Lock()
	h.until = t
	h.mu.Unlock()
}

// state returns the lease's end and whether the request is being handled.
func (h *hold) state() (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.until, h.working
}

// work starts renewing the lease on ticket for as long as ctx lasts.
func (ib *Inbox) work(ctx context.Context, ticket string, h *hold) {
	stop := ib.b.KeepClaim(ctx, leaseKey(ticket), ib.inboxGrace, h.setUntil)
	h.mu.Lock()
	h.working, h.stop = true, stop
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		// The work's time is up (and Done not called): the lease runs out
		// unrenewed, after which recovery may take the request.
		h.mu.Lock()
		h.working = false
		h.mu.Unlock()
	})
}

// release ends the renewal of h, if any.
func (h *hold) release() {
	h.mu.Lock()
	stop := h.stop
	h.stop, h.working = nil, false
	h.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// enqueue is InboxStore.Enqueue, or its equivalent in plain Store calls.
// The fallback writes the entry before it claims the event id: a process
// that dies between the two leaves an entry to recover rather than a
// claimed event nobody handles (which the platform's retry, deduplicated
// by the claim, could not repair).
func (ib *Inbox) enqueue(ctx context.Context, op InboxOp) (bool, error) {
	if s, ok := ib.b.base().(InboxStore); ok {
		return s.Enqueue(ctx, op)
	}
	if err := ib.b.Store.Create(ctx, op.Coll, op.ID, op.Doc); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return false, nil // the same event already waits in the inbox
		}
		return false, err
	}
	if op.Claim != "" {
		first, err := ib.b.Store.Claim(ctx, op.Claim, op.ClaimTTL)
		if err != nil || !first {
			// Handled before (or unknown): take the entry back.
			if derr := ib.b.Store.Delete(context.WithoutCancel(ctx), op.Coll, op.ID); derr != nil {
				ib.b.Log.Error("inbox: cannot take back an entry", "ticket", op.ID, "err", derr)
			}
			return false, err
		}
	}
	if op.Lease == "" {
		return true, nil
	}
	if _, err := ib.b.Store.Claim(ctx, op.Lease, op.LeaseTTL); err != nil {
		// Stored and claimed: without the lease the request is simply
		// processed by whoever claims it first, here or in recovery.
		ib.b.Log.Warn("inbox: lease not taken at acceptance", "ticket", op.ID, "err", err)
	}
	return true, nil
}

// dequeue is InboxStore.Dequeue, or its equivalent in plain Store calls
// (which leave the lease to expire).
func (ib *Inbox) dequeue(ctx context.Context, op InboxOp) error {
	if s, ok := ib.b.base().(InboxStore); ok {
		return s.Dequeue(ctx, op)
	}
	var errs []error
	if op.Claim != "" {
		if _, err := ib.b.Store.Claim(ctx, op.Claim, op.ClaimTTL); err != nil {
			errs = append(errs, err)
		}
	}
	if err := ib.b.Store.Delete(ctx, op.Coll, op.ID); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func eventKey(req *Request) string { return "event:" + string(req.Platform) + ":" + req.EventID }

func leaseKey(ticket string) string { return "inbox:" + ticket }

// Process implements DurableHandler. It answers Duplicate when another
// process holds the request.
func (ib *Inbox) Process(ctx context.Context, ticket string, req *Request) *Response {
	p := &processing{ticket: ticket}
	got, err := ib.lease(ctx, ticket)
	if err == nil && got && ib.late(req) {
		// Recovery may have handled it already, and let its lease go.
		if _, gerr := ib.b.Store.Get(ctx, CollInbox, ticket); gerr != nil {
			ib.dropHold(ticket)
			if !IsNotFound(gerr) {
				err = gerr
			}
			got = false
		}
	}
	if err != nil {
		// The request stays in the inbox, for recovery.
		return ib.b.errorResponse(ctx, req, keep(context.WithValue(ctx, ticketKey{}, p), err))
	}
	if !got {
		return &Response{Duplicate: true}
	}
	resp := ib.b.Handle(context.WithValue(ctx, ticketKey{}, p), req)
	if p.kept {
		if v, ok := ib.held.Load(ticket); ok {
			h := v.(*hold)
			h.mu.Lock()
			h.kept = true
			h.mu.Unlock()
		}
	}
	return resp
}

// late reports whether req, accepted here, waited long enough before
// Process for recovery (which takes requests a grace old) to have come
// near it: then Process checks that the entry is still there before it
// handles the request, rather than run it and find at commit that it
// was completed (the commit would conflict, and nothing be applied
// twice; the check spares running it).
func (ib *Inbox) late(req *Request) bool {
	return req.acceptedAt.IsZero() || ib.b.Now().Sub(req.acceptedAt) >= ib.inboxGrace/2
}

// processing is what Process tells the command's unit of work about the
// request (ticketKey): its inbox ticket, and back whether the unit
// could not commit because the store failed, so that the request stays
// in the inbox for recovery instead of being completed unanswered.
type processing struct {
	ticket string
	kept   bool
}

// keep is Handle's answer to err for a request from the inbox (Process)
// whose handling failed because the store (or another dependency) is
// unavailable: nothing was applied, and the request stays in the inbox;
// recovery carries it out once the store is back, and answers then. The
// sender is told so, and not to send it again (which would do it
// twice). Other errors are returned as they are.
func keep(ctx context.Context, err error) error {
	p, _ := ctx.Value(ticketKey{}).(*processing)
	if p == nil || InUnit(ctx) || ErrorCode(err) != EUNAVAILABLE {
		return err
	}
	p.kept = true
	return &Error{Code: EUNAVAILABLE, Key: "error.kept", Err: err}
}

// lease reports whether this process may handle ticket, and if so
// starts renewing its lease until Done (or until ctx ends). The lease is
// claimed now (Accept takes none). A lease this process holds already
// and does not work under serves while at least half of it is left; one
// with less left is left to recovery once it is over, rather than used
// when it may run out before its renewal starts.
func (ib *Inbox) lease(ctx context.Context, ticket string) (bool, error) {
	now := ib.b.Now()
	if v, ok := ib.held.Load(ticket); ok {
		h := v.(*hold)
		h.mu.Lock()
		if h.working {
			h.mu.Unlock()
			return false, nil // already being handled here
		}
		if h.until.Sub(now) > ib.inboxGrace/2 {
			h.mu.Unlock()
			ib.work(ctx, ticket, h)
			return true, nil
		}
		end := h.until
		h.mu.Unlock()
		ib.held.CompareAndDelete(ticket, h)
		if end.After(now) {
			return false, nil
		}
	}
	got, err := ib.b.Store.Claim(ctx, leaseKey(ticket), ib.inboxGrace)
	if err != nil || !got {
		return false, err
	}
	h := &hold{until: now.Add(ib.inboxGrace)}
	if _, loaded := ib.held.LoadOrStore(ticket, h); loaded {
		return false, nil // taken here meanwhile
	}
	ib.work(ctx, ticket, h)
	return true, nil
}

// Done implements DurableHandler. For a request this process handled, it
// claims the event id again (a request recovered after a crash needs it,
// and it renews the dedupe from the time of handling) and removes the
// entry with its lease. It does nothing for a request another process
// holds: that one removes it when its answer is out.
func (ib *Inbox) Done(ctx context.Context, ticket string, req *Request) {
	if left := ib.release(ctx, req); len(left) > 0 {
		// The answers went out, but their reservations could not be
		// removed (the store is unreachable): were the lease to go now,
		// the outbox would send them again. Keep it and try again.
		ib.finishLater(ticket, req, left)
		return
	}
	ib.finish(ctx, ticket, req)
}

// finish is the end of Done: the lease goes, the entry (if a unit of
// work has not removed it) and the dedupe claim is renewed.
func (ib *Inbox) finish(ctx context.Context, ticket string, req *Request) {
	v, ok := ib.held.LoadAndDelete(ticket)
	if !ok {
		return
	}
	h := v.(*hold)
	h.release() // before the lease goes, so no renewal takes it back
	h.mu.Lock()
	kept := h.kept
	h.mu.Unlock()
	if kept {
		// Not carried out: the entry stays for recovery (here or in another
		// process), which may take it as soon as the lease is gone.
		err := ib.b.RunUnit(context.WithoutCancel(ctx), func(ctx context.Context) error {
			unitFrom(ctx).dropClaim(leaseKey(ticket))
			return nil
		})
		if err != nil {
			ib.b.Log.Warn("inbox: lease of a kept request left to expire", "ticket", ticket, "err", err)
		}
		return
	}
	op := InboxOp{Coll: CollInbox, ID: ticket, Lease: leaseKey(ticket)}
	if req != nil && req.EventID != "" {
		op.Claim, op.ClaimTTL = eventKey(req), DedupeTTL
	}
	if err := ib.dequeue(context.WithoutCancel(ctx), op); err != nil {
		ib.b.Log.Error("inbox: handled but not removed", "ticket", ticket, "err", err)
	}
}

// Recover handles requests accepted at least grace ago and never
// processed — their process died after acknowledging — and delivers
// their answers as messages: public replies to the chat, private ones to
// the sender directly. It returns how many it handled.
func (ib *Inbox) Recover(ctx context.Context, grace time.Duration) (int, error) {
	docs, err := ib.b.Store.List(ctx, CollInbox)
	if err != nil {
		return 0, err
	}
	// Forget leases that are over and not renewed: their requests are
	// recovered below like any other.
	now := ib.b.Now()
	ib.held.Range(func(k, v any) bool {
		if until, working := v.(*hold).state(); !working && !until.After(now) {
			ib.held.CompareAndDelete(k, v)
		}
		return true
	})
	n := 0
	var errs []error
	for _, d := range docs {
		var e inboxEntry
		if err := json.Unmarshal(d.Data, &e); err != nil || e.Req == nil {
			ib.b.Log.Error("inbox: unreadable entry dropped", "ticket", d.ID, "err", err)
			_ = ib.b.Store.Delete(ctx, CollInbox, d.ID)
			continue
		}
		if ib.b.Now().Sub(e.Accepted) < grace {
			continue
		}
		if e.Attempts >= maxInboxAttempts {
			if ib.abandon(ctx, d.ID, &e) {
				n++
			}
			continue
		}
		if v, ok := ib.held.Load(d.ID); ok {
			if _, working := v.(*hold).state(); working {
				continue // being handled here, its lease renewed however long its answer takes
			}
		}
		got, err := ib.lease(ctx, d.ID)
		if err != nil {
			// No answer to deliver: the store failing here is not the
			// user's to hear about; the next round tries again.
			errs = append(errs, err)
			continue
		}
		if !got {
			continue // another process has it
		}
		// The command, its answer (as outbox entries) and the entry's
		// completion are one unit of work: a crash before its commit
		// leaves the entry to recover again, after it nothing to repeat.
		ticket := d.ID
		err = ib.b.RunUnit(ctx, func(ctx context.Context) error {
			u := unitFrom(ctx)
			if _, err := u.Get(ctx, CollInbox, ticket); err != nil {
				return err // gone: completed elsewhere meanwhile
			}
			ib.completeInbox(ctx, ticket, e.Req, true)
			return ib.deliverLate(ctx, e.Req, ib.b.Handle(ctx, e.Req))
		})
		if IsNotFound(err) {
			ib.dropHold(ticket)
			continue
		}
		n++
		ib.b.Log.Info("inbox: recovered a request", "ticket", d.ID, "platform", e.Req.Platform, "event", e.Req.EventID)
		if err != nil {
			errs = append(errs, err) // left in the inbox: tried again after the lease
			ib.countAttempt(ctx, ticket, e)
			if v, ok := ib.held.LoadAndDelete(d.ID); ok {
				v.(*hold).release()
			}
			continue
		}
	}
	return n, errors.Join(errs...)
}

// countAttempt records in the inbox entry ticket that a recovery of it
// failed. It counts only while the entry is still there and the store
// takes the count: a store that is away costs a request no attempt.
func (ib *Inbox) countAttempt(ctx context.Context, ticket string, e inboxEntry) {
	e.Attempts++
	doc, err := json.Marshal(e)
	if err != nil {
		return
	}
	err = ib.b.RunUnit(ctx, func(ctx context.Context) error {
		u := unitFrom(ctx)
		if _, err := u.Get(ctx, CollInbox, ticket); err != nil {
			return err
		}
		return u.Put(ctx, CollInbox, ticket, doc)
	})
	if err != nil && !IsNotFound(err) {
		ib.b.Log.Warn("inbox: failed recovery not counted", "ticket", ticket, "err", err)
	}
}

// abandon completes inbox entry ticket, whose recovery failed
// maxInboxAttempts times with the store working, without carrying it
// out: its sender is told that nothing was done. It reports whether it
// did (false when another process holds or completed the entry, or the
// store failed).
func (ib *Inbox) abandon(ctx context.Context, ticket string, e *inboxEntry) bool {
	if v, ok := ib.held.Load(ticket); ok {
		if _, working := v.(*hold).state(); working {
			return false
		}
	}
	got, err := ib.lease(ctx, ticket)
	if err != nil || !got {
		return false
	}
	err = ib.b.RunUnit(ctx, func(ctx context.Context) error {
		u := unitFrom(ctx)
		if _, err := u.Get(ctx, CollInbox, ticket); err != nil {
			return err
		}
		ib.completeInbox(ctx, ticket, e.Req, true)
		lang := e.Req.Lang
		if lang == "" {
			lang = ib.b.Lang
		}
		text := ib.b.T(lang, "error.abandoned", "time", e.Req.Time.In(ib.b.Loc).Format("01-02 15:04"))
		return ib.deliverLate(ctx, e.Req, &Response{Replies: []Reply{{Text: text}}})
	})
	if err != nil {
		ib.b.Log.Error("inbox: could not give up a failing request", "ticket", ticket, "err", err)
		ib.dropHold(ticket)
		return false
	}
	ib.b.Log.Error("inbox: gave up a request that kept failing", "ticket", ticket, "platform", e.Req.Platform, "event", e.Req.EventID, "attempts", e.Attempts)
	return true
}

// TakeTurn implements Orderer: the turn of req's chat (and, in a direct
// chat, of the direct messages with its sender) with the sender when it
// keeps order (ChatOrder).
func (ib *Inbox) TakeTurn(ctx context.Context, req *Request) (context.Context, bool, func()) {
	ib.b.Out.mu.RLock()
	o, ok := ib.b.Out.sender.(ChatOrder)
	ib.b.Out.mu.RUnlock()
	if !ok {
		return ctx, false, func() {}
	}
	chat, user := ib.answerChat(req)
	if req.Direct || req.ChatID == "" {
		chat = req.ChatID
	} else if req.PrivateDirect {
		// Its public answers show in the group, its private ones in the
		// sender's direct chat: both keep their order.
		user = req.UserID
	}
	// The request's own reserved answers are what the caller is about to
	// show: only messages older than they count as a backlog.
	before := ""
	if v, ok := ib.reserved.Load(req); ok {
		res := v.(*reservation)
		res.mu.Lock()
		if len(res.ids) > 0 {
			before = res.ids[0]
		}
		res.mu.Unlock()
	}
	return o.Turn(ctx, req.Platform, chat, user, before)
}

// answerChat is the conversation where the adapter shows the answers to
// req: its chat, or the sender directly for a direct message.
func (ib *Inbox) answerChat(req *Request) (chat, user string) {
	if req.Direct || req.ChatID == "" {
		return "", req.UserID
	}
	return req.ChatID, ""
}

// deliverLate sends the answer to a request whose original reply channel
// is gone.
func (ib *Inbox) deliverLate(ctx context.Context, req *Request, resp *Response) error {
	var errs []error
	for i, r := range resp.Replies {
		if err := ib.DeliverLate(ctx, req, i, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DeliverLate implements LateDeliverer: reply i of the answer to req goes
// through the bot's own sending path (the durable outbox, when there is
// one) as a message — to the chat when public, to the sender directly
// when private (no platform keeps a private answer in a group for
// later), or as an update of the message a click came from. It returns
// nil once the message is sent or queued.
func (ib *Inbox) DeliverLate(ctx context.Context, req *Request, i int, r Reply) error {
	if done, err := ib.expedite(ctx, req, i, r); done || err != nil {
		return err // the reserved answer goes now
	}
	if _, err := ib.b.Out.Send(ctx, ib.lateOutgoing(req, i, r)); err != nil && !errors.Is(err, ErrQueued) {
		return err
	}
	return nil
}

// lateOutgoing is reply i to req as a message of its own.
func (ib *Inbox) lateOutgoing(req *Request, i int, r Reply) Outgoing {
	o := Outgoing{Platform: req.Platform, Text: r.Text, Card: r.Card, Files: r.Files}
	if req.EventID != "" {
		// The key adapters give the first answer to this event, so a
		// platform that dedupes (Lark's uuid) shows an answer the first
		// attempt did deliver only once.
		o.Key = fmt.Sprintf("%s:reply:%d", req.EventID, i)
	}
	switch {
	case r.Replace && req.Message.ID != "":
		ref := req.Message
		o.Update = &ref
		o.ChatID = ref.ChatID
	case req.Direct && req.UserID != "":
		// The direct chat, by its user: where the outbox keeps the order
		// of everything sent to that person.
		o.UserID = req.UserID
	case r.Public && req.ChatID != "":
		o.ChatID = req.ChatID
	default:
		o.UserID = req.UserID
	}
	return o
}

type ticketKey struct{}

// dropHold forgets this process's lease on ticket and stops renewing it.
// LeaveToRecovery gives up this process's hold on the accepted request
// ticket without handling it, as a process that dies after acknowledging
// would: the request stays in the inbox, and inbox recovery (here or in
// another process) handles it once its lease is over. The load
// command's ingest-only mode uses it, so that measuring the
// acknowledgement alone keeps only the holds of requests in flight, as
// a bot that answers does.
func (ib *Inbox) LeaveToRecovery(ticket string) { ib.dropHold(ticket) }

func (ib *Inbox) dropHold(ticket string) {
	if v, ok := ib.held.LoadAndDelete(ticket); ok {
		v.(*hold).release()
	}
}

// completeInbox makes the completion of inbox entry ticket part of the
// unit of work of ctx: the entry goes and the event id's dedupe claim is
// renewed when the unit commits, and the unit commits only while the
// entry is still there, so a request is never completed twice (another
// process that completed it first makes this unit conflict). With
// release the lease goes too; otherwise (an adapter still delivers the
// answers) this process keeps it until Done.
func (ib *Inbox) completeInbox(ctx context.Context, ticket string, req *Request, release bool) {
	u := unitFrom(ctx)
	u.requireDoc(CollInbox, ticket)
	u.set(CollInbox, ticket, nil)
	if req != nil && req.EventID != "" {
		u.setClaim(eventKey(req), DedupeTTL)
	}
	if release {
		u.dropClaim(leaseKey(ticket))
		AfterCommit(ctx, func(context.Context) { ib.dropHold(ticket) })
	}
}

// inUnit runs the command as one unit of work; for a request from the
// inbox (Process), the completion of its entry is part of that unit.
func (ib *Inbox) inUnit(next RunFunc) RunFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		p, _ := ctx.Value(ticketKey{}).(*processing)
		ticket := ""
		if p != nil && !InUnit(ctx) {
			ticket = p.ticket // else the outer unit completes it
		}
		var resp *Response
		attempt := 0
		err := ib.b.RunUnit(ctx, func(ctx context.Context) error {
			attempt++
			resp = nil
			if ticket != "" {
				if attempt > 1 {
					// A conflict: had another process completed the
					// request meanwhile?
					if _, err := unitFrom(ctx).Get(ctx, CollInbox, ticket); IsNotFound(err) {
						resp = &Response{Duplicate: true}
						return nil
					} else if err != nil {
						return err
					}
				}
				ib.completeInbox(ctx, ticket, req, false)
			}
			r, err := next(ctx, req)
			resp = r
			if ticket != "" && committable(err) {
				out := r
				if err != nil {
					out = ib.b.errorResponse(ctx, req, err)
				}
				if rerr := ib.reserve(ctx, ticket, req, out); rerr != nil {
					return rerr
				}
			}
			return err
		})
		if InUnit(ctx) && !committable(err) {
			// The outer unit (recovery's) must not commit what the command
			// wrote before it failed.
			unitFrom(ctx).fail(err)
		}
		return resp, err
	}
}

// Reserver is a Sender (the durable outbox) that keeps the answers an
// adapter delivers itself, so that a process that dies after the command
// committed and before its answer went out loses no answer.
type Reserver interface {
	// Reserve stores m as part of the unit of work of ctx, not to be sent
	// while the claim lease is held (the adapter is at work) nor before
	// until. It keeps its place among the messages to the conversation
	// where the adapter shows it (chat, or user directly when chat is
	// empty): later ones wait for it. It returns the entry's id.
	Reserve(ctx context.Context, m Outgoing, chat, user, lease string, until time.Time) (string, error)
	// Release forgets a reserved message: the adapter delivered it.
	Release(ctx context.Context, id string) error
	// Expedite makes a reserved message due now: the adapter could not
	// deliver it.
	Expedite(ctx context.Context, id string) error
}

// reservation holds the reserved answers to one request, between the
// commit of its unit of work and Done.
type reservation struct {
	mu        sync.Mutex
	ids       []string
	replies   []Reply
	expedited map[int]bool
}

// reserve keeps resp's replies to req in the outbox, in the unit of work
// of ctx, held while this process holds the request's lease (renewed
// until Done): the adapter delivers them and Done releases them; a
// process that dies first leaves them to be delivered late, once its
// lease is over, by whichever process runs the outbox.
func (ib *Inbox) reserve(ctx context.Context, ticket string, req *Request, resp *Response) error {
	ib.b.Out.mu.RLock()
	rs, ok := ib.b.Out.sender.(Reserver)
	ib.b.Out.mu.RUnlock()
	if !ok || resp == nil || resp.Duplicate || len(resp.Replies) == 0 {
		return nil
	}
	res := &reservation{replies: resp.Replies, expedited: map[int]bool{}}
	for i, r := range resp.Replies {
		chat, user := ib.answerChat(req)
		if req.PrivateDirect && !r.Public {
			chat, user = "", req.UserID // shown in the direct chat
		}
		id, err := rs.Reserve(ctx, ib.lateOutgoing(req, i, r), chat, user, leaseKey(ticket), ib.b.Now())
		if err != nil {
			return err
		}
		res.ids = append(res.ids, id)
	}
	AfterCommit(ctx, func(context.Context) { ib.reserved.Store(req, res) })
	return nil
}

// releaseRetry bounds how long a process keeps trying to release the
// reservations of answers it delivered while the store refuses.
const releaseRetry = 30 * time.Minute

// finishLater keeps the request's lease held (its reserved answers with
// it) and retries releasing them, with a growing pause, until the store
// takes it or releaseRetry has passed; then it finishes Done. A process
// that dies meanwhile lets the lease lapse, and the answers are sent
// again: the one window left for a second answer, on Slack.
func (ib *Inbox) finishLater(ticket string, req *Request, ids []string) {
	ctx := context.Background()
	// The request's own renewal ends with its work: renew here instead.
	if v, ok := ib.held.LoadAndDelete(ticket); ok {
		v.(*hold).release()
	}
	h := &hold{until: ib.b.Now().Add(ib.inboxGrace), working: true}
	stop := ib.b.KeepClaim(ctx, leaseKey(ticket), ib.inboxGrace, h.setUntil)
	h.stop = stop
	ib.held.Store(ticket, h) // recovery leaves it alone meanwhile
	go func() {
		ib.b.Out.mu.RLock()
		rs, _ := ib.b.Out.sender.(Reserver)
		ib.b.Out.mu.RUnlock()
		end := ib.b.Now().Add(releaseRetry)
		pause := time.Second
		for len(ids) > 0 && rs != nil {
			if ib.b.SleepUntil(ctx, ib.b.Now().Add(pause)) != nil || ib.b.Now().After(end) {
				ib.b.Log.Error("inbox: delivered answers still reserved; they may be sent again", "ticket", ticket, "entries", ids)
				break
			}
			var left []string
			for _, id := range ids {
				if err := rs.Release(ctx, id); err != nil {
					left = append(left, id)
				}
			}
			ids = left
			pause = min(2*pause, 30*time.Second)
		}
		ib.finish(ctx, ticket, req) // stops the renewal, then lets the lease go
	}()
}

// release forgets the reserved answers to req that its adapter
// delivered. It returns those the store did not let go.
func (ib *Inbox) release(ctx context.Context, req *Request) (left []string) {
	v, ok := ib.reserved.LoadAndDelete(req)
	if !ok {
		return nil
	}
	ib.b.Out.mu.RLock()
	rs, _ := ib.b.Out.sender.(Reserver)
	ib.b.Out.mu.RUnlock()
	res := v.(*reservation)
	res.mu.Lock()
	defer res.mu.Unlock()
	for i, id := range res.ids {
		if res.expedited[i] || rs == nil {
			continue
		}
		if err := rs.Release(context.WithoutCancel(ctx), id); err != nil {
			ib.b.Log.Warn("inbox: a delivered answer was not released; trying again", "entry", id, "err", err)
			left = append(left, id)
		}
	}
	return left
}

// expedite sends reserved reply i to req now, if r is that reply; it
// reports whether it did.
func (ib *Inbox) expedite(ctx context.Context, req *Request, i int, r Reply) (bool, error) {
	v, ok := ib.reserved.Load(req)
	if !ok {
		return false, nil
	}
	res := v.(*reservation)
	res.mu.Lock()
	defer res.mu.Unlock()
	if i >= len(res.ids) || res.replies[i].Text != r.Text || res.replies[i].Card != r.Card || len(res.replies[i].Files) != len(r.Files) {
		return false, nil
	}
	ib.b.Out.mu.RLock()
	rs, _ := ib.b.Out.sender.(Reserver)
	ib.b.Out.mu.RUnlock()
	if rs == nil {
		return false, nil
	}
	res.expedited[i] = true // not released by Done either way
	if err := rs.Expedite(ctx, res.ids[i]); err != nil {
		// Still reserved, so not lost: it goes once the request's lease is
		// over (Done drops it), like the answer of a process that died.
		ib.b.Log.Warn("inbox: answer left reserved; it goes when the request is done", "entry", res.ids[i], "err", err)
	}
	return true, nil
}

// OnDuplicate calls f for every platform retry the durable inbox drops
// (Accept answering duplicate), e.g. to count it in metrics; retries
// dropped by Handle's own dedupe go through the middlewares instead. Set
// it before requests arrive.
func (ib *Inbox) OnDuplicate(f func(req *Request)) { ib.onDuplicate = f }
