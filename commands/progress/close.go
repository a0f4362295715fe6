package progress

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// ActionClose is the 确认销号 button on an item awaiting confirmation: on
// its card in the group and on the completion notice sent to its
// supervising bodies. The value is the item id.
const ActionClose = "progress.close"

// Refusals from inside a closure update.
var (
	errNotAwaiting = errors.New("progress: item not awaiting confirmation")
	errClosed      = errors.New("progress: item already closed")
)

// askClosure sends the completion notice (整改完成待销号) to each
// supervising body: to its group when it has one, else to its members
// directly, with the 确认销号 button. A failure is logged; the item
// stands awaiting and its card in the group carries the same button.
func (h *handler) askClosure(ctx context.Context, r *bot.Roster, it *Item, now time.Time) {
	var refs []bot.MessageRef
	key := fmt.Sprintf("progress:%s:closure:%d", it.ID, len(it.Progress))
	for _, id := range it.Supervisors {
		body, ok := r.Body(id)
		if !ok {
			continue
		}
		if body.Group != "" {
			rs, err := h.b.Out.Notify(ctx, bot.Notice{Group: body.Group, Card: h.closureCard(r, it, h.b.Lang, now), Key: key + ":" + id})
			if err != nil {
				h.b.Log.Warn("progress: completion notice failed", "item", it.ID, "body", id, "err", err)
			}
			refs = append(refs, rs...)
			continue
		}
		for _, p := range r.Members(id) {
			rs, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: p.ID, Card: h.closureCard(r, it, h.b.People.LangOf(ctx, p), now), Key: key + ":" + p.ID})
			if err != nil {
				h.b.Log.Warn("progress: completion notice failed", "item", it.ID, "person", p.ID, "err", err)
			}
			refs = append(refs, rs...)
		}
	}
	if len(refs) == 0 {
		return
	}
	if _, err := update(ctx, h.b.Store, it.ID, func(v *Item) error { v.ClosureCards = append(v.ClosureCards, refs...); return nil }); err != nil {
		h.b.Log.Warn("progress: could not keep completion notice references", "item", it.ID, "err", err)
	}
}

// closureCard is the completion notice: the item, who reported it
// complete, and the 确认销号 button while it awaits confirmation.
func (h *handler) closureCard(r *bot.Roster, it *Item, lang string, now time.Time) *bot.Card {
	c := h.card(r, it, lang, now)
	c.Title = h.t(lang, "progress.closure.title", "id", it.ID)
	c.Color = bot.Orange
	c.Buttons = nil // the unit's buttons are not for the supervising body
	switch {
	case it.Awaiting():
		c.Note = h.t(lang, "progress.closure.note", "id", it.ID, "unit", r.BodyName(it.Unit, lang), "time", bot.FormatTime(it.CompletedAt, h.b.Loc)) + "\n" + c.Note
		c.Buttons = []bot.Button{{Label: h.t(lang, "progress.button.close"), Action: ActionClose, Value: it.ID, Style: "primary"}}
	case it.Status == ItemDone:
		c.Color = bot.Green
	}
	return c
}

// closeCmd: progress close ZG-… [note] (进度 销号).
func (h *handler) closeCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	note := strings.TrimSpace(req.Command.Rest(1))
	if tooLong(note, maxNote) {
		return nil, bot.UsageError(req, "progress.error.too_long", "what", h.t(req.Lang, "progress.arg.note"), "max", maxNote)
	}
	it, err := h.closeItem(ctx, req, id, note)
	if err != nil {
		return nil, err
	}
	text := h.t(req.Lang, "progress.closed", "id", it.ID, "unit", req.Roster.BodyName(it.Unit, req.Lang))
	return &bot.Response{Replies: []bot.Reply{{Text: text, Card: h.card(req.Roster, it, req.Lang, h.b.Now())}}}, nil
}

// closeButton is 确认销号 on a card.
func (h *handler) closeButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id := strings.ToUpper(strings.TrimSpace(req.Value))
	if !reItemID.MatchString(id) {
		return nil, bot.Coded(bot.EINVALID, "progress.error.bad_id", "input", req.Value)
	}
	it, err := h.closeItem(ctx, req, id, "")
	if err != nil {
		return nil, err
	}
	toast := h.t(req.Lang, "progress.closed", "id", it.ID, "unit", req.Roster.BodyName(it.Unit, req.Lang))
	return &bot.Response{Toast: toast, Replies: []bot.Reply{{Card: h.card(req.Roster, it, req.Lang, h.b.Now()), Replace: true}}}, nil
}

// closeItem confirms item id (销号) for a member of one of its supervising
// bodies: only an item awaiting confirmation can be closed.
func (h *handler) closeItem(ctx context.Context, req *bot.Request, id, note string) (*Item, error) {
	cur, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !cur.IsSupervisor(req.Person) {
		return nil, h.b.Refuse(ctx, req, "progress.close", id, "progress.error.not_supervisor", "id", id, "bodies", h.bodyNames(req.Roster, cur.Supervisors, req.Lang))
	}
	now := h.b.Now()
	it, err := update(ctx, h.b.Store, id, func(v *Item) error {
		if err := awaitingConfirmation(v); err != nil {
			return err
		}
		v.Status, v.DoneAt, v.ClosedBy, v.UpdatedAt = ItemDone, now, req.Person.ID, now
		v.History = append(v.History, bot.History{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "close", Note: note})
		return nil
	})
	if err := h.closureError(req, cur, err); err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "progress.close", id, "note="+note); err != nil {
		return nil, err
	}
	h.afterClosure(ctx, req.Roster, it, now, h.t(h.b.Lang, "progress.closed_notice", "id", it.ID, "title", it.Title,
		"unit", req.Roster.BodyName(it.Unit, h.b.Lang), "person", req.Person.DisplayName(h.b.Lang)))
	return it, nil
}

// rejectCmd: progress reject ZG-… <reason> (进度 退回): the supervising
// body refuses to close an item awaiting confirmation and says why; the
// item returns to 整改中.
func (h *handler) rejectCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(req.Command.Rest(1))
	if reason == "" {
		reason = strings.TrimSpace(req.Command.Opt(logOptions...))
	}
	if reason == "" {
		return nil, bot.UsageError(req, "progress.error.reject_reason", "id", id)
	}
	if tooLong(reason, maxNote) {
		return nil, bot.UsageError(req, "progress.error.too_long", "what", h.t(req.Lang, "progress.arg.reason"), "max", maxNote)
	}
	cur, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !cur.IsSupervisor(req.Person) {
		return nil, h.b.Refuse(ctx, req, "progress.reject", id, "progress.error.not_supervisor", "id", id, "bodies", h.bodyNames(req.Roster, cur.Supervisors, req.Lang))
	}
	now := h.b.Now()
	it, err := update(ctx, h.b.Store, id, func(v *Item) error {
		if err := awaitingConfirmation(v); err != nil {
			return err
		}
		v.Status, v.CompletedAt, v.UpdatedAt = ItemOpen, time.Time{}, now
		v.History = append(v.History, bot.History{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "reject", Note: reason})
		return nil
	})
	if err := h.closureError(req, cur, err); err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "progress.reject", id, "reason="+reason); err != nil {
		return nil, err
	}
	h.afterClosure(ctx, req.Roster, it, now, h.t(h.b.Lang, "progress.rejected_notice", "id", it.ID, "title", it.Title,
		"unit", req.Roster.BodyName(it.Unit, h.b.Lang), "person", req.Person.DisplayName(h.b.Lang), "reason", reason))
	text := h.t(req.Lang, "progress.rejected", "id", it.ID, "unit", req.Roster.BodyName(it.Unit, req.Lang))
	return &bot.Response{Replies: []bot.Reply{{Text: text, Card: h.card(req.Roster, it, req.Lang, now)}}}, nil
}

// closureError turns the refusals from inside a closure update into
// answers that say what is wrong and what to do.
func (h *handler) closureError(req *bot.Request, cur *Item, err error) error {
	switch {
	case errors.Is(err, errClosed):
		return bot.Coded(bot.ECONFLICT, "progress.error.already_closed", "id", cur.ID)
	case errors.Is(err, errNotAwaiting):
		return bot.Coded(bot.ECONFLICT, "progress.error.not_awaiting", "id", cur.ID, "percent", cur.Percent).WithExample("progress.example.close")
	}
	return err
}

// afterClosure refreshes the item's cards and completion notices and
// tells the item's group (where the responsible unit reads it).
func (h *handler) afterClosure(ctx context.Context, r *bot.Roster, it *Item, now time.Time, text string) {
	h.refreshCards(ctx, r, it, now)
	if len(it.ClosureCards) > 0 {
		if err := h.b.Out.UpdateCards(ctx, it.ClosureCards, h.closureCard(r, it, h.b.Lang, now)); err != nil {
			h.b.Log.Warn("progress: completion notice update failed", "item", it.ID, "err", err)
		}
	}
	key := fmt.Sprintf("progress:%s:closure:%d:%s", it.ID, len(it.History), it.Status)
	if _, err := h.b.Out.Notify(ctx, bot.Notice{Group: h.itemGroup, Text: text, Key: key}); err != nil {
		h.b.Log.Warn("progress: closure notice failed", "item", it.ID, "err", err)
	}
}

// awaitingConfirmation refuses a change of an item that does not await
// its supervising body's confirmation (销号 or its refusal).
func awaitingConfirmation(v *Item) error {
	switch v.Status {
	case ItemDone:
		return errClosed
	case ItemAwaiting:
		return nil
	default:
		return errNotAwaiting
	}
}
