package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Outbound is the part of a Bot that sends: notices to people and
// groups, messages and card updates, through the platforms' adapters or
// the Sender that stands in for them (the durable outbox).
type Outbound struct {
	b        *Bot
	mu       sync.RWMutex
	adapters map[Platform]Adapter
	sender   Sender
}

// Notice is a message the bot posts on its own initiative: to a named
// group (on every platform where the group has a chat), or directly to a
// person (on every platform where the person has an id). Texts are
// already in the target's language; see LangOf.
type Notice struct {
	Group    string // group key from the configuration, or
	PersonID string // roster person id
	Text     string
	Card     *Card
	Files    []File
	// Key makes sends idempotent: the same key and target is not shown twice
	// where the platform supports it (Lark uuid).
	Key string
}

// Notify sends n and returns the references of the posted messages, so a
// card can be updated later; a message the outbox will deliver later has
// a pending reference, which UpdateCards handles like any other. A
// target with no chat on any running platform is not an error: there is
// nobody to tell there. Failures on one platform do not stop the others;
// their errors are joined.
func (ob *Outbound) Notify(ctx context.Context, n Notice) ([]MessageRef, error) {
	outs, err := ob.outgoing(ctx, n)
	if err != nil {
		return nil, err
	}
	var refs []MessageRef
	var errs []error
	for _, o := range outs {
		ref, err := ob.Send(ctx, o)
		if errors.Is(err, ErrQueued) {
			if ref.Pending != "" {
				refs = append(refs, ref) // delivered later by the outbox
			}
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.Platform, err))
			continue
		}
		refs = append(refs, ref)
	}
	return refs, errors.Join(errs...)
}

func (ob *Outbound) outgoing(ctx context.Context, n Notice) ([]Outgoing, error) {
	ob.mu.RLock()
	platforms := make([]Platform, 0, len(ob.adapters))
	for p := range ob.adapters {
		platforms = append(platforms, p)
	}
	ob.mu.RUnlock()
	slices.Sort(platforms)
	var outs []Outgoing
	switch {
	case n.Group != "":
		chats := ob.b.People.groups[n.Group]
		for _, p := range platforms {
			if id := chats[p]; id != "" {
				outs = append(outs, Outgoing{Platform: p, ChatID: id, Text: n.Text, Card: n.Card, Files: n.Files, Key: keyFor(n.Key, p, id)})
			}
		}
	case n.PersonID != "":
		r, err := ob.b.People.Roster(ctx)
		if err != nil {
			return nil, err
		}
		person, ok := r.Person(n.PersonID)
		if !ok {
			return nil, Coded(ENOTFOUND, "error.no_person", "name", n.PersonID)
		}
		for _, p := range platforms {
			if id := person.IDs[p]; id != "" {
				outs = append(outs, Outgoing{Platform: p, UserID: id, Text: n.Text, Card: n.Card, Files: n.Files, Key: keyFor(n.Key, p, id)})
			}
		}
	}
	for i := range outs {
		outs[i].Text = ob.b.mentions(outs[i].Platform, outs[i].Text)
		outs[i].Card = ob.b.mentionsCard(outs[i].Platform, outs[i].Card)
	}
	return outs, nil
}

func keyFor(key string, p Platform, target string) string {
	if key == "" {
		return ""
	}
	return key + ":" + string(p) + ":" + target
}

// Send delivers one message through the configured Sender, or straight
// through its platform's adapter.
func (ob *Outbound) Send(ctx context.Context, o Outgoing) (MessageRef, error) {
	ob.mu.RLock()
	s := ob.sender
	a := ob.adapters[o.Platform]
	ob.mu.RUnlock()
	if s != nil {
		return s.Send(ctx, o)
	}
	if a == nil {
		return MessageRef{}, fmt.Errorf("no adapter for platform %q", o.Platform)
	}
	if InUnit(ctx) {
		// Without an outbox nothing keeps the message: it leaves once the
		// unit of work has committed, and has no reference before.
		AfterCommit(ctx, func(ctx context.Context) {
			if _, err := a.Send(ctx, o); err != nil {
				ob.b.Log.Error("message not sent", "platform", o.Platform, "err", err)
			}
		})
		return MessageRef{}, ErrQueued
	}
	return a.Send(ctx, o)
}

// UpdateCards replaces the card of each posted message in refs, e.g. a
// clue's announcement after it was acknowledged by command rather than
// by button.
func (ob *Outbound) UpdateCards(ctx context.Context, refs []MessageRef, card *Card) error {
	var errs []error
	for _, r := range refs {
		ref := r
		if _, err := ob.Send(ctx, Outgoing{Platform: r.Platform, ChatID: r.ChatID, Card: ob.b.mentionsCard(r.Platform, card), Update: &ref}); err != nil && !errors.Is(err, ErrQueued) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RefResolver is a Sender (the durable outbox) that tells which message
// a pending reference (MessageRef.Pending) became once delivered.
type RefResolver interface {
	Resolve(ctx context.Context, ref MessageRef) (MessageRef, bool, error)
}

// Names reports whether ref — a card reference a record keeps, perhaps
// still pending in the outbox when it was stored — names the delivered
// message m (the message whose button was pressed). A button's answer
// replaces that message itself; updating it again through the outbox
// would show the same change twice.
func (ob *Outbound) Names(ctx context.Context, ref, m MessageRef) bool {
	if m.ID == "" {
		return false
	}
	got, ok := ob.Delivered(ctx, ref)
	return ok && got.Platform == m.Platform && got.ChatID == m.ChatID && got.ID == m.ID
}

// Delivered returns the message ref names: ref itself, or for a pending
// reference the message the outbox delivered for it. ok is false while
// it has not been delivered (or cannot be told).
func (ob *Outbound) Delivered(ctx context.Context, ref MessageRef) (MessageRef, bool) {
	if ref.Pending == "" {
		return ref, ref.ID != ""
	}
	ob.mu.RLock()
	rr, ok := ob.sender.(RefResolver)
	ob.mu.RUnlock()
	if !ok {
		return MessageRef{}, false
	}
	got, ok, err := rr.Resolve(ctx, ref)
	if err != nil {
		ob.b.Log.Warn("a message reference could not be resolved", "pending", ref.Pending, "err", err)
		return MessageRef{}, false
	}
	return got, ok
}

// AddAdapter makes a platform reachable for notices.
func (ob *Outbound) AddAdapter(a Adapter) {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	ob.adapters[a.Platform()] = a
}

// Adapter returns the adapter of platform p.
func (ob *Outbound) Adapter(p Platform) (Adapter, bool) {
	ob.mu.RLock()
	defer ob.mu.RUnlock()
	a, ok := ob.adapters[p]
	return a, ok
}

// SetSender replaces direct delivery, e.g. by a durable outbox.
func (ob *Outbound) SetSender(s Sender) {
	ob.mu.Lock()
	defer ob.mu.Unlock()
	ob.sender = s
}
