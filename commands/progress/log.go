package progress

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Status words accepted instead of a percentage.
var (
	// doneStatusWords set the item to 100% (已完成).
	doneStatusWords = []string{"done", "completed", "complete", "finished", "已完成", "完成", "整改完成", "已整改"}
	// sameStatusWords log this month's update with the percentage unchanged.
	sameStatusWords = []string{"same", "unchanged", "nochange", "进度不变", "无变化", "无新进展", "推进中", "整改中"}
)

var logOptions = []string{"reason", "原因", "更正", "correction"}

// logInput is one progress update to apply.
type logInput struct {
	percent int    // the new percentage; -1 keeps the current one
	note    string // what was done
	reason  string // a correction's reason; lowering requires one and a supervisor
}

// parsePercent reads "60%", "60", "６０％", "60 %" or a status word.
func parsePercent(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if hasWord(doneStatusWords, s) {
		return 100, true
	}
	if hasWord(sameStatusWords, s) {
		return -1, true
	}
	s = strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, s)
	s = strings.TrimSuffix(strings.TrimSuffix(s, "%"), "％")
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > 100 {
		return 0, false
	}
	return n, true
}

// log: progress [log] ZG-… <60%|已完成|进度不变> [note…] [reason:…]
func (h *handler) log(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	p := req.Command
	lang := req.Lang
	// A note such as "已完成：制度修订" tokenises as an option; keep it as
	// part of the note rather than refusing it.
	var extra []string
	for k, v := range p.Options {
		if !slices.Contains(logOptions, k) {
			extra = append(extra, k+"："+v)
		}
	}
	slices.Sort(extra)
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	raw := p.Arg(1)
	if raw == "" {
		return nil, bot.UsageError(req, "progress.error.need_percent")
	}
	pct, ok := parsePercent(raw)
	if !ok {
		return nil, bot.UsageError(req, "progress.error.bad_percent", "input", raw)
	}
	note := strings.TrimSpace(strings.Join(append([]string{p.Rest(2)}, extra...), " "))
	in := logInput{percent: pct, note: note, reason: strings.TrimSpace(p.Opt(logOptions...))}
	if tooLong(in.note, maxNote) || tooLong(in.reason, maxNote) {
		return nil, bot.UsageError(req, "progress.error.too_long", "what", h.t(lang, "progress.arg.note"), "max", maxNote)
	}
	if p.HasOpt(logOptions...) && in.reason == "" {
		return nil, bot.UsageError(req, "progress.error.need_reason")
	}
	it, err := h.apply(ctx, req, id, in)
	if err != nil {
		return nil, err
	}
	e := it.Progress[len(it.Progress)-1]
	key := "progress.logged"
	switch {
	case e.Correction:
		key = "progress.corrected"
	case it.Awaiting() && it.CompletedAt.Equal(e.Time):
		key = "progress.logged_awaiting"
	}
	text := h.t(lang, key, "id", it.ID, "from", e.From, "percent", e.Percent)
	return &bot.Response{Replies: []bot.Reply{{Text: text, Card: h.card(req.Roster, it, lang, h.b.Now())}}}, nil
}

// Coded refusals from inside the update; apply audits them.
var (
	errLower      = errors.New("progress: lower without correction")
	errNotAllowed = errors.New("progress: not a member")
)

// apply logs one update on item id for req's person, with the rules:
// only members of the responsible unit or a supervising body may log;
// the percentage only goes up, unless a member of a supervising body
// lowers it with a reason (a correction). 100% sends the item to its
// supervising bodies for confirmation (待销号); a correction below 100%
// reopens it.
func (h *handler) apply(ctx context.Context, req *bot.Request, id string, in logInput) (*Item, error) {
	cur, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !cur.MayLog(req.Person) {
		return nil, h.b.Refuse(ctx, req, "progress.log", id, "progress.error.not_member", "id", id, "unit", req.Roster.BodyName(cur.Unit, req.Lang))
	}
	now := h.b.Now()
	it, err := update(ctx, h.b.Store, id, func(v *Item) error {
		if !v.MayLog(req.Person) {
			return errNotAllowed
		}
		pct := in.percent
		if pct < 0 {
			pct = v.Percent
		}
		e := ProgressEntry{Time: now, Person: req.Person.ID, Platform: req.Platform, From: v.Percent, Percent: pct, Note: in.note}
		if pct < v.Percent {
			if in.reason == "" || !v.IsSupervisor(req.Person) {
				return errLower
			}
			e.Correction, e.Reason = true, in.reason
		}
		v.Progress = append(v.Progress, e)
		v.Percent = pct
		v.UpdatedAt = now
		switch {
		case pct == 100 && v.Open():
			// Reported complete: it awaits the supervising body's
			// confirmation (待销号); only that closes it.
			v.Status, v.CompletedAt = ItemAwaiting, now
		case pct < 100:
			v.Status, v.CompletedAt, v.DoneAt, v.ClosedBy = ItemOpen, time.Time{}, time.Time{}, ""
		}
		return nil
	})
	switch {
	case errors.Is(err, errNotAllowed):
		return nil, h.b.Refuse(ctx, req, "progress.log", id, "progress.error.not_member", "id", id, "unit", req.Roster.BodyName(cur.Unit, req.Lang))
	case errors.Is(err, errLower):
		return nil, h.refuseLower(ctx, req, cur, in)
	case err != nil:
		return nil, err
	}
	e := it.Progress[len(it.Progress)-1]
	action, detail := "progress.log", fmt.Sprintf("from=%d to=%d", e.From, e.Percent)
	if e.Correction {
		action, detail = "progress.correct", detail+" reason="+e.Reason
	}
	if err := h.b.Audit.Record(ctx, req, action, id, detail); err != nil {
		return nil, err
	}
	h.refreshCards(ctx, req.Roster, it, now)
	if it.Awaiting() && it.CompletedAt.Equal(now) { // this update reported it complete
		h.askClosure(ctx, req.Roster, it, now)
	}
	return it, nil
}

// refuseLower explains why a lower percentage was refused: a unit member
// may not lower it at all; a supervisor must give a reason.
func (h *handler) refuseLower(ctx context.Context, req *bot.Request, cur *Item, in logInput) error {
	if cur.IsSupervisor(req.Person) {
		e := bot.Coded(bot.EINVALID, "progress.error.lower_needs_reason", "id", cur.ID, "percent", cur.Percent)
		e.Example = "progress.example.correct"
		return e
	}
	return h.b.Refuse(ctx, req, "progress.log", cur.ID, "progress.error.lower", "id", cur.ID, "percent", cur.Percent, "input", in.percent)
}

// doneButton marks the item 100% from its card.
func (h *handler) doneButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	return h.button(ctx, req, logInput{percent: 100, note: h.t(req.Lang, "progress.note.button_done")})
}

// sameButton logs this month's update with the percentage unchanged.
func (h *handler) sameButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	return h.button(ctx, req, logInput{percent: -1, note: h.t(req.Lang, "progress.note.button_same")})
}

func (h *handler) button(ctx context.Context, req *bot.Request, in logInput) (*bot.Response, error) {
	// Buttons on a collection prompt carry "ZG-…@2026-12": the prompt lists
	// several items, so a click there must not replace it with one item's
	// card. Buttons on an item's own card carry the bare id.
	value, fromPrompt := strings.CutSuffix(req.Value, promptSuffix(req.Value))
	id := strings.ToUpper(strings.TrimSpace(value))
	if !reItemID.MatchString(id) {
		return nil, bot.Coded(bot.EINVALID, "progress.error.bad_id", "input", req.Value)
	}
	it, err := h.apply(ctx, req, id, in)
	if err != nil {
		return nil, err
	}
	e := it.Progress[len(it.Progress)-1]
	toast := h.t(req.Lang, "progress.logged", "id", it.ID, "from", e.From, "percent", e.Percent)
	return &bot.Response{Toast: toast, Replies: []bot.Reply{{Card: h.card(req.Roster, it, req.Lang, h.b.Now()), Replace: !fromPrompt}}}, nil
}

// promptSuffix returns the "@2026-12" part of a prompt button's value.
func promptSuffix(v string) string {
	if i := strings.LastIndex(v, "@"); i >= 0 {
		return v[i:]
	}
	return "\x00" // matches nothing
}

// CloseByCosign records that the completed co-signature cosignID closed
// the immediate-fix item id: the three parties, the item's supervising
// body among them, have confirmed the fix, which is the confirmation that
// closes an item (销号), so it becomes 100% and done. The entry is logged
// for req's person (the last signer), audited, and the item's cards are
// updated. An item already done is left as it is. It runs in req's unit
// of work, so the item changes only if the completion commits.
func CloseByCosign(ctx context.Context, b *bot.Bot, req *bot.Request, id, cosignID string) (*Item, error) {
	h := &handler{b: b, items: bot.Records[Item](b.Store, CollItems)}
	now := b.Now()
	changed := false
	it, err := update(ctx, h.b.Store, id, func(v *Item) error {
		changed = false
		if !v.Open() {
			return nil
		}
		changed = true
		note := b.T(b.Lang, "progress.note.cosign", "cosign", cosignID)
		v.Progress = append(v.Progress, ProgressEntry{Time: now, Person: req.Person.ID, Platform: req.Platform, From: v.Percent, Percent: 100, Note: note})
		v.Percent, v.Status, v.DoneAt, v.UpdatedAt = 100, ItemDone, now, now
		return nil
	})
	if err != nil || !changed {
		return it, err
	}
	e := it.Progress[len(it.Progress)-1]
	if err := b.Audit.Record(ctx, req, "progress.log", id, fmt.Sprintf("from=%d to=%d cosign=%s", e.From, e.Percent, cosignID)); err != nil {
		return nil, err
	}
	h.refreshCards(ctx, req.Roster, it, now)
	return it, nil
}
