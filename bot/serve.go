package bot

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Serve is the inbox protocol, once for every adapter and every way a
// request comes in (an HTTP callback, a socket envelope, a card
// callback). The adapter translates the platform's request into req and
// says in d how to acknowledge it and how to show a reply; Serve does
// the rest, in this order:
//
//  1. Accept: with a DurableHandler the request is stored in the inbox
//     (bounded by d.AcceptTimeout) before anything is acknowledged. A
//     platform retry of an event already accepted is acknowledged and
//     dropped.
//  2. The work starts in the background (d.Go, which the adapter tracks
//     for its graceful shutdown), and the request is acknowledged (d.Ack):
//     at once, or — with d.Sync — once the answer is ready or d.Sync has
//     passed, so that the acknowledgement can carry part of the answer (a
//     slash command's first reply, a card callback's toast and card).
//  3. In the background: d.Prepare (attachments), then Process, which
//     commits the command's unit of work — its answers reserved in the
//     outbox — before any reply leaves. A request whose work context is
//     over before it is processed is left in the inbox for recovery.
//  4. The replies the acknowledgement did not show are shown in order
//     with the chat's turn held (Turn): each through d.Deliver, unless
//     older messages to the chat wait or an earlier reply failed; those,
//     and what d.Deliver left undelivered, are handed over to the durable
//     sending path (HandOver), where they queue behind the rest.
//  5. Done, last: after every reply was delivered or handed over and
//     after Serve returned, so after the acknowledgement, with whatever
//     it carried, was written; still in the chat's turn, so that the
//     next request to the chat finds this one's reserved answers
//     released.
//
// Serve returns nil once the request was acknowledged: d.Ack was called
// (when set) exactly once, before Serve returns; an adapter without Ack
// acknowledges when Serve returns nil. Otherwise Ack was not called and
// the error says why: ErrInInbox when the request is stored but could
// not be started here (the adapter is shutting down) — recovery handles
// it, so the platform may be acknowledged — and for any other error the
// request was not accepted: the adapter should not acknowledge, so that
// the platform delivers it again.
func Serve(ctx context.Context, h Handler, req *Request, d Delivery) error {
	s := &serving{h: h, req: req, d: d, log: d.Log}
	if s.log == nil {
		s.log = slog.Default()
	}
	// One request id for every line about this request, the handler's
	// included (the logger rides in ctx).
	ctx, s.log = requestLog(ctx, s.log, req)
	dh, durable := h.(DurableHandler)
	if durable {
		actx, cancel := ctx, context.CancelFunc(func() {})
		if d.AcceptTimeout > 0 {
			actx, cancel = context.WithTimeout(ctx, d.AcceptTimeout)
		}
		ticket, dup, err := dh.Accept(actx, req)
		cancel()
		if err != nil {
			s.log.Error("request not accepted", append(s.args(), "err", err)...)
			return fmt.Errorf("%w: %w", ErrNotAccepted, err)
		}
		if dup {
			s.log.Info("duplicate event dropped", s.args()...)
			s.ack(ctx, Early{})
			return nil
		}
		s.dh, s.ticket = dh, ticket
	}
	s.early = make(chan Early, 1)
	s.taken = make(chan []Reply, 1)
	s.returned = make(chan struct{})
	if !d.start(func() { s.work(ctx) }) {
		if durable {
			s.log.Info("request left in the inbox for recovery", append(s.args(), "ticket", s.ticket)...)
			return ErrInInbox
		}
		return ErrShuttingDown
	}
	defer close(s.returned)
	if d.Sync <= 0 {
		s.ack(ctx, Early{Later: true})
		return nil
	}
	timer := time.NewTimer(d.Sync)
	defer timer.Stop()
	select {
	case e := <-s.early:
		e.Later = e.Response == nil // left for recovery
		s.taken <- s.ack(ctx, e)
	case <-timer.C:
		s.ack(ctx, Early{Later: true})
		s.taken <- nil
	}
	return nil
}

// Delivery is what an adapter tells Serve about one request: how to run
// background work, acknowledge the platform and show a reply.
type Delivery struct {
	// Go runs work in the background, tracked so that the adapter's
	// shutdown waits for it; false when the adapter is shutting down and
	// started nothing. Nil: an untracked goroutine.
	Go func(work func()) bool
	// AcceptTimeout bounds storing the request in the inbox, which comes
	// out of the platform's acknowledgement deadline; 0: no bound of its
	// own.
	AcceptTimeout time.Duration
	// Timeout bounds the background work: preparing, processing and
	// delivering. Its context keeps the values of Serve's, not its
	// cancellation (the request that started the work is answered).
	Timeout time.Duration
	// Prepare, when set, runs in the background before the request is
	// processed (fetching its attachments).
	Prepare func(ctx context.Context)
	// Plan turns the answer into the replies to show, index for index:
	// resp.Replies in their places (each may be changed, or emptied to
	// show nothing), then any the adapter adds (a toast as a line). The
	// index of a reply is its key in the outbox and on the platform
	// (DeliverLate, Lark's uuid). Not called for a duplicate. Nil: the
	// replies as they are.
	Plan func(resp *Response) []Reply
	// Sync is how long the acknowledgement waits for the answer so that it
	// can carry some of it; 0 acknowledges at once.
	Sync time.Duration
	// SyncInOrder says that what the acknowledgement carries appears in
	// the chat (a slash command's first reply): the chat's turn is taken
	// before the answer is offered to Ack, and Early.Backlog says whether
	// older messages wait, which it then must not overtake.
	SyncInOrder bool
	// Ack acknowledges the request (the HTTP 200, the socket ack, the
	// callback's response), with e.Response set when the answer was ready
	// within Sync. It returns what it left to deliver, index for index
	// with e.Replies (a reply it showed emptied, or reduced to what it
	// could not carry, such as files); nil when it showed none of them.
	// Once Ack has returned and Serve with it, the acknowledgement counts
	// as written. Nil: the adapter acknowledges when Serve returns nil.
	Ack func(ctx context.Context, e Early) (left []Reply)
	// Deliver shows reply i directly. On failure it returns the part of r
	// still to deliver (all of it, or its files once the message went out)
	// and the error; that part is handed over. Required.
	Deliver func(ctx context.Context, i int, r Reply) (left Reply, err error)
	// Log is the adapter's logger; slog.Default() when nil.
	Log *slog.Logger
}

// Early is the answer an acknowledgement may carry (Delivery.Sync).
type Early struct {
	// Response is the core's answer when it was ready in time; nil
	// otherwise: acknowledge without it.
	Response *Response
	// Later is true when Response is nil and the answer follows after the
	// acknowledgement (it was not ready within Sync, or there is no Sync);
	// false with Response nil for a platform retry of a request already
	// accepted, which shows nothing.
	Later bool
	// Replies are Plan's replies to show (none for a duplicate).
	Replies []Reply
	// Backlog is true when older messages to the chat still wait (only
	// with SyncInOrder): nothing may be shown ahead of them.
	Backlog bool
}

// start is Delivery.Go, or a goroutine of its own without it.
func (d Delivery) start(work func()) bool {
	if d.Go == nil {
		go work()
		return true
	}
	return d.Go(work)
}

// serving is one request going through Serve.
type serving struct {
	h      Handler
	req    *Request
	d      Delivery
	log    *slog.Logger
	dh     DurableHandler // nil without an inbox
	ticket string

	early    chan Early    // the answer, offered to the acknowledgement
	taken    chan []Reply  // what the acknowledgement left to deliver
	returned chan struct{} // closed when Serve returned
}

func (s *serving) args() []any {
	return []any{"chat", s.req.ChatID} // the rest is in s.log
}

// ack calls Delivery.Ack, if any.
func (s *serving) ack(ctx context.Context, e Early) []Reply {
	if s.d.Ack == nil {
		return nil
	}
	return s.d.Ack(ctx, e)
}

// work is the background half of Serve.
func (s *serving) work(parent context.Context) {
	ctx, cancel := context.WithoutCancel(parent), context.CancelFunc(func() {})
	if s.d.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, s.d.Timeout)
	}
	defer cancel()
	if s.d.Prepare != nil {
		s.d.Prepare(ctx)
	}
	if ctx.Err() != nil {
		// Out of time before the command ran: nothing is applied, and
		// nothing is done with the request here.
		s.early <- Early{}
		if s.dh != nil {
			s.log.Warn("request left in the inbox for recovery: its time ran out before it was processed", append(s.args(), "ticket", s.ticket)...)
		} else {
			s.log.Error("request dropped: its time ran out before it was processed", s.args()...)
		}
		return
	}
	var resp *Response
	if s.dh != nil {
		resp = s.dh.Process(ctx, s.ticket, s.req)
	} else {
		resp = s.h.Handle(ctx, s.req)
	}
	replies := s.plan(resp)

	turn, backlog, release := ctx, false, func() {}
	ordered := false
	if s.d.Sync > 0 {
		if s.d.SyncInOrder && showsAny(replies) {
			turn, backlog, release = Turn(ctx, s.h, s.req)
			ordered = true
		}
		e := Early{Response: resp, Replies: replies, Backlog: backlog}
		if resp == nil {
			e.Response = &Response{}
		}
		s.early <- e
		if left := <-s.taken; left != nil {
			if len(left) != len(replies) {
				s.log.Error("acknowledgement left replies out of place; delivering them all", append(s.args(), "replies", len(replies), "left", len(left))...)
			} else {
				replies = left
			}
		}
	}
	if !ordered && showsAny(replies) {
		turn, backlog, release = Turn(ctx, s.h, s.req)
	}
	s.deliver(turn, replies, backlog)

	// The acknowledgement, and anything it carried, is written once
	// Serve has returned. Done comes before the chat's turn is let go:
	// by then the answers this request reserved in the outbox are
	// released, so the next request to the chat (a second click right
	// after the first was answered) does not take them for a backlog and
	// queue its own answers behind them.
	<-s.returned
	if s.dh != nil {
		s.dh.Done(ctx, s.ticket, s.req)
	}
	release()
}

// plan is Delivery.Plan, with nothing to show for a duplicate.
func (s *serving) plan(resp *Response) []Reply {
	switch {
	case resp == nil || resp.Duplicate:
		return nil
	case s.d.Plan != nil:
		return s.d.Plan(resp)
	default:
		return resp.Replies
	}
}

// deliver shows replies in order with the chat's turn (ctx) held: each
// through Delivery.Deliver unless older messages wait (backlog) or an
// earlier reply failed; those, and what Deliver left, are handed over
// (reply i as i) and so queue behind the rest.
func (s *serving) deliver(ctx context.Context, replies []Reply, backlog bool) {
	for i, r := range replies {
		if empty(r) {
			continue
		}
		if backlog {
			HandOver(ctx, s.h, s.req, i, r, s.log)
			continue
		}
		left, err := s.d.Deliver(ctx, i, r)
		if err != nil {
			s.log.Error("answer not delivered", append(s.args(), "err", err)...)
			if !empty(left) {
				HandOver(ctx, s.h, s.req, i, left, s.log)
			}
			backlog = true // the rest queues behind it
		}
	}
}

// empty reports whether r shows nothing.
func empty(r Reply) bool { return r.Text == "" && r.Card == nil && len(r.Files) == 0 }

func showsAny(replies []Reply) bool {
	for _, r := range replies {
		if !empty(r) {
			return true
		}
	}
	return false
}
