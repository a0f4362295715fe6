package round

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// errUnchanged aborts an update that would change nothing.
var errUnchanged = errors.New("round: nothing changed")

// editFields are the fields edit may change, in the order they are
// shown and audited; each has a label round.field.<name>.
var editFields = []string{"name", "start", "end", "attached"}

// edit: round edit <id> [name:…] [start:…] [end:…] [attached:a,b]
// corrects a round after its creation: a round extended, a name
// mistyped, the attached bodies changed. The team and the inspected
// organisation are fixed, since clues, items and consultations refer to
// them; the feedback date has its own sub-command, which tells the
// attached bodies.
func (h *handler) edit(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, change, err := h.editValues(req)
	if err != nil {
		return nil, err
	}
	cur, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	next := cloneRound(cur)
	if err := change.apply(next); err != nil {
		return nil, err
	}
	if len(changedFields(cur, next)) == 0 {
		return bot.Text(h.t(req.Lang, "round.edit.nothing", "id", id)), nil
	}
	if err := h.checkEditKey(ctx, req, id, cur, next); err != nil {
		return nil, err
	}
	var before *Round
	rd, err := updateRound(ctx, h.b.Store, id, func(v *Round) error {
		before = cloneRound(v)
		if err := change.apply(v); err != nil {
			return err
		}
		if len(changedFields(before, v)) == 0 {
			return errUnchanged
		}
		return nil
	})
	if errors.Is(err, errUnchanged) {
		return bot.Text(h.t(req.Lang, "round.edit.nothing", "id", id)), nil
	}
	if err != nil {
		return nil, err
	}
	fields := changedFields(before, rd)
	if err := h.announceEdit(ctx, req, before, rd, fields); err != nil {
		return nil, err
	}
	return h.editAnswer(ctx, req, before, rd, fields)
}

// roundEdit is the values an edit gives, checked on their own.
type roundEdit struct {
	req        *bot.Request
	loc        *time.Location
	name       string
	start, end time.Time
	attached   []string // nil when not given
}

// apply applies the values to v and checks the result as create checks
// a new round. It has no side effects: Update may run it more than once.
func (e *roundEdit) apply(v *Round) error {
	if e.name != "" {
		v.Name = e.name
	}
	if !e.start.IsZero() {
		v.Start = e.start
	}
	if !e.end.IsZero() {
		v.End = e.end
	}
	if e.attached != nil && !sameSet(v.Attached, e.attached) {
		v.Attached = slices.Clone(e.attached)
	}
	if !v.End.IsZero() && v.End.Before(v.Start) {
		return bot.UsageError(e.req, "round.error.end_before_start")
	}
	if !v.Feedback.IsZero() && v.Feedback.Before(v.End) {
		return bot.UsageError(e.req, "round.error.feedback_before_end", "end", bot.FormatDate(v.End, e.loc))
	}
	return nil
}

// editValues reads the round and the values of an edit command.
func (h *handler) editValues(req *bot.Request) (string, *roundEdit, error) {
	p := req.Command
	if p.HasOpt(optFeedback...) {
		return "", nil, bot.Coded(bot.EINVALID, "round.edit.use_feedback").WithExample("cmd.round.feedback.example")
	}
	if err := checkOptions(req, optName, optStart, optEnd, optAttached); err != nil {
		return "", nil, err
	}
	id, err := h.argRound(req, 0)
	if err != nil {
		return "", nil, err
	}
	if len(p.Args) > 1 {
		return "", nil, bot.UsageError(req, "round.error.extra_args", "input", p.Rest(1))
	}
	given := p.HasOpt(optAttached...)
	for _, keys := range [][]string{optName, optStart, optEnd} {
		if !p.HasOpt(keys...) {
			continue
		}
		if strings.TrimSpace(p.Opt(keys...)) == "" {
			return "", nil, bot.UsageError(req, "round.edit.empty_option", "option", keys[0]+" / "+keys[1])
		}
		given = true
	}
	if !given {
		return "", nil, bot.UsageError(req, "round.edit.need_option")
	}
	e := &roundEdit{req: req, loc: h.b.Loc}
	if s := p.Opt(optStart...); s != "" {
		if e.start, err = h.editDate(req, s); err != nil {
			return "", nil, err
		}
	}
	if s := p.Opt(optEnd...); s != "" {
		if e.end, err = h.editDate(req, s); err != nil {
			return "", nil, err
		}
	}
	if p.HasOpt(optAttached...) {
		if e.attached, err = h.attachedBodies(req); err != nil {
			return "", nil, err
		}
	}
	e.name = strings.TrimSpace(p.Opt(optName...))
	if tooLong(e.name, maxName) {
		return "", nil, bot.UsageError(req, "round.error.too_long", "what", h.t(req.Lang, "round.arg.name"), "max", maxName)
	}
	return id, e, nil
}

// checkEditKey refuses an edit that would make round id the same round
// (team, organisation, start) as another.
func (h *handler) checkEditKey(ctx context.Context, req *bot.Request, id string, cur, next *Round) error {
	if uniqueKey(next.Team, next.Organisation, next.Start) == uniqueKey(cur.Team, cur.Organisation, cur.Start) {
		return nil
	}
	// The key document of the new triple (a Get: a unit of work making
	// the same round at once conflicts with this one).
	o, err := roundWith(ctx, h.b.Store, next.Team, next.Organisation, next.Start)
	if err != nil {
		return err
	}
	if o != "" && o != id {
		return bot.UsageError(req, "round.error.duplicate", "id", o)
	}
	return nil
}

// announceEdit audits the fields an edit changed from before to rd and
// tells the group.
func (h *handler) announceEdit(ctx context.Context, req *bot.Request, before, rd *Round, fields []string) error {
	r := req.Roster
	detail := make([]string, 0, len(fields))
	for _, f := range fields {
		detail = append(detail, f+"="+h.fieldValue(r, before, f, "")+"→"+h.fieldValue(r, rd, f, ""))
	}
	audit := strings.Join(detail, " ")
	if err := h.b.Audit.Record(ctx, req, "round.edit", rd.ID, audit); err != nil {
		return err
	}
	dl := h.b.Lang
	notice := h.t(dl, "round.edit.notice", "id", rd.ID, "name", rd.Name, "person", r.PersonName(req.Person.ID, dl)) +
		"\n• " + strings.Join(h.changeLines(r, before, rd, fields, dl), "\n• ")
	sum := sha256.Sum256([]byte(audit + "@" + h.b.Now().UTC().Format(time.RFC3339Nano)))
	key := "round:" + rd.ID + ":edit:" + hex.EncodeToString(sum[:6])
	if _, err := h.b.Out.Notify(ctx, bot.Notice{Group: h.group, Text: notice, Key: key}); err != nil {
		h.b.Log.Warn("round: change notice failed", "round", rd.ID, "err", err)
	}
	return nil
}

// editAnswer answers an edit: the changes, the bodies newly attached
// that were told of the feedback day, and the round's card.
func (h *handler) editAnswer(ctx context.Context, req *bot.Request, before, rd *Round, fields []string) (*bot.Response, error) {
	lang, r := req.Lang, req.Roster
	text := h.t(lang, "round.edited", "id", rd.ID) + "\n• " + strings.Join(h.changeLines(r, before, rd, fields, lang), "\n• ")
	if told, failed, err := h.tellAdded(ctx, r, before, rd, lang); err != nil {
		return nil, err
	} else if len(told) > 0 {
		text += "\n" + h.t(lang, "round.edit.told_added", "bodies", h.bodyNames(r, told, lang), "date", bot.FormatDate(rd.Feedback, h.b.Loc))
		if len(failed) > 0 {
			text += "\n" + h.t(lang, "round.notify_failed", "bodies", strings.Join(failed, h.t(lang, "list.sep")))
		}
	}
	return &bot.Response{Replies: []bot.Reply{{Text: text, Card: h.card(r, rd, lang)}}}, nil
}

// tellAdded gives the bodies an edit attached to rd the feedback notice
// the other attached bodies already had: once the feedback day has been
// notified (by the feedback command or the feedback-day job), neither
// will send it again, and a body attached later would never learn that
// its supervision has started. Before that, the notice reaches every
// attached body in due course. It returns the bodies told and the names
// (in lang) of those that could not be.
func (h *handler) tellAdded(ctx context.Context, r *bot.Roster, before, rd *Round, lang string) (told []string, failed []string, err error) {
	for _, b := range rd.Attached {
		if !slices.Contains(before.Attached, b) {
			told = append(told, b)
		}
	}
	if len(told) == 0 || rd.Feedback.IsZero() {
		return nil, nil, nil
	}
	n, err := h.notices.Get(ctx, rd.ID)
	if bot.IsNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if n.Date != bot.FormatDate(rd.Feedback, h.b.Loc) {
		return nil, nil, nil // the current feedback day is still to be notified
	}
	return told, h.tellFeedback(ctx, r, rd, told, lang), nil
}

// editDate parses a date option of edit with create's error.
func (h *handler) editDate(req *bot.Request, s string) (time.Time, error) {
	d, err := bot.ParseDate(s, h.b.Now().In(h.b.Loc), h.b.Loc)
	if err != nil {
		return time.Time{}, bot.DateError(req, err, s, "2026-09-01, 9月1日")
	}
	return d, nil
}

func cloneRound(rd *Round) *Round {
	c := *rd
	c.Attached = slices.Clone(rd.Attached)
	return &c
}

// sameSet reports whether a and b hold the same ids, in any order.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	for _, s := range b {
		if !slices.Contains(a, s) {
			return false
		}
	}
	return true
}

// changedFields lists the editFields in which a and b differ.
func changedFields(a, b *Round) []string {
	var out []string
	for _, f := range editFields {
		var same bool
		switch f {
		case "name":
			same = a.Name == b.Name
		case "start":
			same = a.Start.Equal(b.Start)
		case "end":
			same = a.End.Equal(b.End)
		case "attached":
			same = sameSet(a.Attached, b.Attached)
		}
		if !same {
			out = append(out, f)
		}
	}
	return out
}

// fieldValue renders field of rd: body names in lang, or for the audit
// log (lang "") body ids.
func (h *handler) fieldValue(r *bot.Roster, rd *Round, field, lang string) string {
	switch field {
	case "name":
		return rd.Name
	case "start":
		return bot.FormatDate(rd.Start, h.b.Loc)
	case "end":
		return bot.FormatDate(rd.End, h.b.Loc)
	case "attached":
		if lang == "" {
			return strings.Join(rd.Attached, ",")
		}
		return h.bodyNames(r, rd.Attached, lang)
	}
	return ""
}

// changeLines describes each changed field as "label: old → new" in lang.
func (h *handler) changeLines(r *bot.Roster, before, after *Round, fields []string, lang string) []string {
	lines := make([]string, 0, len(fields))
	for _, f := range fields {
		lines = append(lines, h.t(lang, "round.edit.change", "field", h.t(lang, "round.field."+f),
			"old", h.fieldValue(r, before, f, lang), "new", h.fieldValue(r, after, f, lang)))
	}
	return lines
}
