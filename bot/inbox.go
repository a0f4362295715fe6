package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// CollInbox holds requests accepted but not yet processed.
const CollInbox = "inbox"

// InboxGrace is how old an inbox entry must be before RecoverInbox takes
// it over: younger ones are still being processed by the process that
// accepted them.
const InboxGrace = time.Minute

type inboxEntry struct {
	Req      *Request  `json:"req"`
	Accepted time.Time `json:"accepted"`
}

var _ DurableHandler = (*Bot)(nil)

// Accept implements DurableHandler. The entry is written before the
// event id is claimed: a process that dies between the two leaves an
// entry to recover rather than a claimed event nobody handles (which the
// platform's retry, deduplicated by the claim, could not repair).
func (b *Bot) Accept(ctx context.Context, req *Request) (string, bool, error) {
	if req.Time.IsZero() {
		req.Time = b.Now()
	}
	req.Accepted = true
	// A platform event's id names its ticket, so a retry while the first
	// delivery waits in the inbox conflicts with it; other requests are
	// numbered.
	ticket := "ev:" + string(req.Platform) + ":" + req.EventID
	if req.EventID == "" {
		seq, err := b.Store.NextSeq(ctx, CollInbox)
		if err != nil {
			return "", false, err
		}
		ticket = fmt.Sprintf("seq:%012d", seq)
	}
	doc, err := json.Marshal(inboxEntry{Req: req, Accepted: b.Now()})
	if err != nil {
		return "", false, &Error{Code: EINTERNAL, Err: err}
	}
	if err := b.Store.Create(ctx, CollInbox, ticket, doc); err != nil {
		if ErrorCode(err) == ECONFLICT {
			return "", true, nil // the same event already waits in the inbox
		}
		return "", false, err
	}
	if req.EventID != "" {
		first, err := b.Store.Claim(ctx, eventKey(req), DedupeTTL)
		if err != nil || !first {
			// Handled before (or unknown): take the entry back.
			if derr := b.Store.Delete(context.WithoutCancel(ctx), CollInbox, ticket); derr != nil {
				b.Log.Error("inbox: cannot take back an entry", "ticket", ticket, "err", derr)
			}
			if err != nil {
				return "", false, err
			}
			return "", true, nil
		}
	}
	return ticket, false, nil
}

func eventKey(req *Request) string { return "event:" + string(req.Platform) + ":" + req.EventID }

// Process implements DurableHandler. It answers Duplicate when another
// process already holds the request.
func (b *Bot) Process(ctx context.Context, ticket string, req *Request) *Response {
	// The lease lasts the grace period: a process that dies while handling
	// blocks the request no longer than that. Handling takes seconds; the
	// grace (a minute by default) is far beyond it.
	got, err := b.Store.Claim(ctx, "inbox:"+ticket, b.inboxGrace)
	if err != nil {
		return b.errorResponse(req, err)
	}
	if !got {
		return &Response{Duplicate: true}
	}
	return b.Handle(ctx, req)
}

// Done implements DurableHandler. It claims the event id again (a request
// recovered after a crash before Accept's claim needs it) so a later
// retry is recognised, then removes the entry.
func (b *Bot) Done(ctx context.Context, ticket string, req *Request) {
	ctx = context.WithoutCancel(ctx)
	if req != nil && req.EventID != "" {
		if _, err := b.Store.Claim(ctx, eventKey(req), DedupeTTL); err != nil {
			b.Log.Error("inbox: cannot claim a handled event", "ticket", ticket, "err", err)
		}
	}
	if err := b.Store.Delete(ctx, CollInbox, ticket); err != nil {
		b.Log.Error("inbox: handled but not removed", "ticket", ticket, "err", err)
	}
}

// RecoverInbox handles requests accepted at least grace ago and never
// processed — their process died after acknowledging — and delivers
// their answers as messages: public replies to the chat, private ones to
// the sender directly. It returns how many it handled.
func (b *Bot) RecoverInbox(ctx context.Context, grace time.Duration) (int, error) {
	docs, err := b.Store.List(ctx, CollInbox)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for _, d := range docs {
		var e inboxEntry
		if err := json.Unmarshal(d.Data, &e); err != nil || e.Req == nil {
			b.Log.Error("inbox: unreadable entry dropped", "ticket", d.ID, "err", err)
			_ = b.Store.Delete(ctx, CollInbox, d.ID)
			continue
		}
		if b.Now().Sub(e.Accepted) < grace {
			continue
		}
		resp := b.Process(ctx, d.ID, e.Req)
		if resp.Duplicate {
			continue
		}
		n++
		b.Log.Info("inbox: recovered a request", "ticket", d.ID, "platform", e.Req.Platform, "event", e.Req.EventID)
		if err := b.deliverLate(ctx, e.Req, resp); err != nil {
			errs = append(errs, err) // left in the inbox: tried again after the lease
			continue
		}
		b.Done(ctx, d.ID, e.Req)
	}
	return n, errors.Join(errs...)
}

// deliverLate sends the answer to a request whose original reply channel
// is gone.
func (b *Bot) deliverLate(ctx context.Context, req *Request, resp *Response) error {
	var errs []error
	for i, r := range resp.Replies {
		o := Outgoing{Platform: req.Platform, Text: r.Text, Card: r.Card, Files: r.Files}
		if req.EventID != "" {
			// The key adapters give the first answer to this event, so a
			// platform that dedupes (Lark's uuid) shows an answer the dead
			// process did send only once.
			o.Key = fmt.Sprintf("%s:reply:%d", req.EventID, i)
		}
		switch {
		case r.Replace && req.Message.ID != "":
			ref := req.Message
			o.Update = &ref
			o.ChatID = ref.ChatID
		case r.Public && req.ChatID != "":
			o.ChatID = req.ChatID
		default:
			o.UserID = req.UserID
		}
		if _, err := b.Send(ctx, o); err != nil && !errors.Is(err, ErrQueued) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
