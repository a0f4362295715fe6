package clue

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/xunji-bot/xunji/bot"
)

// change is one step of a clue's handling by the receiving body.
type change struct {
	action     string     // ack, verify, feedback, conclude, return
	to         ClueStatus // "" for feedback: a note without a status change
	conclusion ClueConclusion
	caseOpened bool // 立案审查调查 after 初步核实
	note       string
}

// conclusionWords maps what people type to a disposal method; caseWords
// mean 初步核实 followed by 立案审查调查.
var conclusionWords = map[string]ClueConclusion{
	"谈话函询": DisposalTalk, "谈话": DisposalTalk, "函询": DisposalTalk, "talk": DisposalTalk, "inquiry": DisposalTalk, "talk_inquiry": DisposalTalk,
	"初步核实": DisposalVerify, "初核": DisposalVerify, "verification": DisposalVerify, "preliminary": DisposalVerify, "preliminary_verification": DisposalVerify,
	"暂存待查": DisposalShelve, "暂存": DisposalShelve, "shelve": DisposalShelve, "later": DisposalShelve, "filed_for_later": DisposalShelve,
	"予以了结": DisposalClosure, "了结": DisposalClosure, "close": DisposalClosure, "closed": DisposalClosure,
}

var caseWords = []string{"立案审查调查", "立案", "case", "open_case"}

// step is a sub-command that moves a clue (or, with to == "", records
// feedback without a move): clue <verb> <id> [note]. The answer names the
// clue (and its deadline, for texts that show it).
func (h *handler) step(action string, to ClueStatus, noteRequired bool) bot.RunFunc {
	return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		id, err := argID(req, 0)
		if err != nil {
			return nil, err
		}
		note, err := h.noteArg(req, 1, noteRequired)
		if err != nil {
			return nil, err
		}
		c, err := h.apply(ctx, req, id, change{action: action, to: to, note: note})
		if err != nil {
			return nil, err
		}
		return bot.Text(h.t(req.Lang, "clue.done."+action, "id", c.ID, "deadline", bot.FormatDate(c.Deadline, h.b.Loc))), nil
	}
}

// ackButton handles the 签收 button on the group card and on the direct
// message; the clicked card is replaced by its updated form. The
// substance is written only into a direct message the bot recorded
// sending the clicker (a member of the receiving body: apply checked
// it). Any other message, a group card or one the bot has no record of,
// gets the card without the substance; for a message the bot has no
// record of, which may be the clicker's direct message whose reference
// was not kept, the substance follows in a new direct message.
func (h *handler) ackButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id := strings.ToUpper(strings.TrimSpace(req.Value))
	if !reID.MatchString(id) {
		return nil, bot.Coded(bot.EINVALID, "error.unknown_action")
	}
	c, err := h.apply(ctx, req, id, change{action: "ack", to: ClueAcknowledged})
	if err != nil {
		return nil, err
	}
	resp := &bot.Response{
		Toast:   h.t(req.Lang, "clue.done.ack", "id", c.ID, "deadline", bot.FormatDate(c.Deadline, h.b.Loc)),
		Replies: []bot.Reply{{Card: h.groupCard(req.Roster, c), Replace: true}},
	}
	switch {
	case h.isDMTo(ctx, c.DMs, req.Person.ID, req.Message):
		resp.Replies[0].Card = h.detailCard(req.Roster, req.Lang, c, false)
	case req.Message.ID != "" && h.hasRef(ctx, c.Cards, req.Message):
	default:
		n := bot.Notice{PersonID: req.Person.ID, Card: h.detailCard(req.Roster, req.Lang, c, false), Key: "clue:" + c.ID + ":ack-dm"}
		if refs, err := h.b.Out.Notify(ctx, n); err != nil || len(refs) == 0 {
			h.b.Log.Warn("clue: direct message failed", "clue", c.ID, "person", req.Person.ID, "err", err)
			resp.Replies = append(resp.Replies, bot.Reply{Text: h.t(req.Lang, "clue.dm_failed")})
		}
	}
	return resp, nil
}

// isDMTo reports whether m is one of the direct messages dms the bot
// sent person. A message the outbox has not delivered yet matches
// nothing: nobody can have clicked it.
func (h *handler) isDMTo(ctx context.Context, dms []ClueDM, person string, m bot.MessageRef) bool {
	if m.ID == "" || person == "" {
		return false
	}
	for _, d := range dms {
		if d.Person != person {
			continue
		}
		if got, ok := h.b.Out.Delivered(ctx, d.Message); ok && got.Platform == m.Platform && got.ChatID == m.ChatID && got.ID == m.ID {
			return true
		}
	}
	return false
}

// directMessages are the references of direct messages sent to person,
// delivered or waiting in the outbox.
func directMessages(person string, refs []bot.MessageRef) []ClueDM {
	var out []ClueDM
	for _, r := range refs {
		if r.ID != "" && r.ChatID != "" || r.Pending != "" {
			out = append(out, ClueDM{Person: person, Message: r})
		}
	}
	return out
}

// recordDMs keeps the references of direct messages that show the
// substance with the acknowledge button. A failure is logged: a click on
// a message not recorded gets the card without the substance, and the
// substance by a new direct message.
func (h *handler) recordDMs(ctx context.Context, id string, dms []ClueDM) {
	if len(dms) == 0 {
		return
	}
	if _, err := update(ctx, h.b, id, func(v *Clue) error { v.DMs = append(v.DMs, dms...); return nil }); err != nil {
		h.b.Log.Warn("clue: could not keep direct message references", "clue", id, "err", err)
	}
}

func (h *handler) conclude(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	word := strings.TrimSpace(req.Command.Arg(1))
	if word == "" {
		return nil, bot.UsageError(req, "clue.error.need_conclusion")
	}
	ch := change{action: "conclude", to: ClueConcluded}
	if slices.Contains(caseWords, strings.ToLower(word)) {
		ch.conclusion, ch.caseOpened = DisposalVerify, true
	} else if d, ok := conclusionWords[strings.ToLower(word)]; ok {
		ch.conclusion = d
	} else {
		return nil, bot.UsageError(req, "clue.error.bad_conclusion", "input", word)
	}
	note, err := h.noteArg(req, 2, true)
	if err != nil {
		return nil, err
	}
	ch.note = note
	c, err := h.apply(ctx, req, id, ch)
	if err != nil {
		return nil, err
	}
	return bot.Text(h.t(req.Lang, "clue.done.conclude", "id", c.ID, "conclusion", h.disposalLabel(req.Lang, c))), nil
}

// noteArg reads the note from argument i on; required says whether it
// may be empty.
func (h *handler) noteArg(req *bot.Request, i int, required bool) (string, error) {
	note := strings.TrimSpace(req.Command.Rest(i))
	if len(req.Command.Options) > 0 {
		return "", bot.UsageError(req, "clue.error.note_option")
	}
	if required && note == "" {
		return "", bot.UsageError(req, "error.missing_arg", "what", h.t(req.Lang, "clue.arg.note"))
	}
	if tooLong(note, maxNote) {
		return "", bot.UsageError(req, "clue.error.too_long", "what", h.t(req.Lang, "clue.arg.note"), "max", maxNote)
	}
	return note, nil
}

// apply checks that the person belongs to the receiving body and that
// the move is allowed from the clue's current status, records it
// atomically, audits it, then updates the group cards and tells the
// transferring side.
func (h *handler) apply(ctx context.Context, req *bot.Request, id string, ch change) (*Clue, error) {
	c, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	r := req.Roster
	if !req.Person.InBody(c.Body) {
		return nil, h.b.Refuse(ctx, req, "clue."+ch.action, id, "clue.error.not_member", "id", id, "body", r.BodyName(c.Body, req.Lang))
	}
	now := h.b.Now()
	var from ClueStatus
	updated, err := update(ctx, h.b, id, func(v *Clue) error {
		from = v.Status
		if err := h.allowed(req.Lang, v, ch); err != nil {
			return err
		}
		switch ch.to {
		case ClueAcknowledged:
			v.AckBy, v.AckAt = req.Person.ID, now
		case ClueVerifying:
			v.VerifyAt = now
		case ClueConcluded, ClueReturned:
			v.ClosedBy, v.ClosedAt = req.Person.ID, now
			v.Conclusion, v.CaseOpened = ch.conclusion, ch.caseOpened
		}
		if ch.to != "" {
			v.Status = ch.to
		}
		v.UpdatedAt = now
		v.History = append(v.History, bot.History{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: ch.action, Note: ch.note})
		return nil
	})
	if err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("from=%s", from)
	if ch.to != "" {
		detail += " to=" + string(ch.to)
	}
	if ch.conclusion != "" {
		detail += " conclusion=" + string(ch.conclusion)
	}
	if ch.caseOpened {
		detail += " case_opened=true"
	}
	if err := h.b.Audit.Record(ctx, req, "clue."+ch.action, id, detail); err != nil {
		return nil, err
	}
	if ch.to != "" {
		var refs []bot.MessageRef
		for _, ref := range updated.Cards {
			if !h.b.Out.Names(ctx, ref, req.Message) {
				refs = append(refs, ref)
			}
		}
		if err := h.b.Out.UpdateCards(ctx, refs, h.groupCard(r, updated)); err != nil {
			h.b.Log.Warn("clue: card update failed", "clue", id, "err", err)
		}
	}
	if ch.action == "feedback" || ch.to.Closed() {
		h.tellSender(ctx, r, updated, req.Person, ch)
	}
	return updated, nil
}

// allowed refuses a move the transition table does not allow, saying
// what the clue's status is and what may be done next.
func (h *handler) allowed(lang string, v *Clue, ch change) error {
	if v.Status.Closed() {
		return bot.Coded(bot.ECONFLICT, "clue.error.closed", "id", v.ID, "status", h.statusLabel(lang, v))
	}
	if ch.caseOpened && v.Status != ClueVerifying {
		// 立案审查调查 follows a preliminary verification, never a bare receipt.
		return bot.Coded(bot.ECONFLICT, "clue.error.case_needs_verification", "id", v.ID, "status", h.statusLabel(lang, v))
	}
	ok := ClueCanMove(v.Status, ch.to)
	if ch.to == "" { // feedback, once the clue is in the receiving body's hands
		ok = v.Status == ClueAcknowledged || v.Status == ClueVerifying
	}
	if ok {
		return nil
	}
	var next []string
	for _, s := range ClueNext(v.Status) {
		next = append(next, h.t(lang, "clue.next."+string(s), "id", v.ID))
	}
	if v.Status == ClueAcknowledged || v.Status == ClueVerifying {
		next = append(next, h.t(lang, "clue.next.feedback", "id", v.ID))
	}
	return bot.Coded(bot.ECONFLICT, "clue.error.illegal", "id", v.ID, "status", h.statusLabel(lang, v),
		"action", h.t(lang, "clue.action."+ch.action), "next", strings.Join(next, h.t(lang, "list.sep")))
}

// tellSender sends the transferring body (and the person who transferred
// the clue) and the bodies verifying it jointly the receiving body's
// feedback or conclusion by direct message: they are entitled to the note.
func (h *handler) tellSender(ctx context.Context, r *bot.Roster, c *Clue, actor *bot.Person, ch change) {
	targets := r.Members(c.FromBody)
	if p, ok := r.Person(c.CreatedBy); ok && !p.InBody(c.FromBody) {
		targets = append(targets, p)
	}
	for _, b := range c.Joint { // verifying jointly: entitled, and in it
		for _, m := range r.Members(b) {
			if !slices.ContainsFunc(targets, func(p *bot.Person) bool { return p.ID == m.ID }) {
				targets = append(targets, m)
			}
		}
	}
	for _, p := range targets {
		if p.ID == actor.ID {
			continue
		}
		lang := h.b.People.LangOf(ctx, p)
		text := h.t(lang, "clue.dm."+ch.action, "id", c.ID, "body", r.BodyName(c.Body, lang),
			"person", actor.DisplayName(lang), "status", h.statusLabel(lang, c), "note", ch.note)
		if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: p.ID, Text: text, Key: fmt.Sprintf("clue:%s:%s:%d", c.ID, ch.action, len(c.History))}); err != nil {
			h.b.Log.Warn("clue: direct message failed", "clue", c.ID, "person", p.ID, "err", err)
		}
	}
}

// hasRef reports whether m is one of the posted cards refs, delivered
// at once or later by the outbox.
func (h *handler) hasRef(ctx context.Context, refs []bot.MessageRef, m bot.MessageRef) bool {
	for _, r := range refs {
		if h.b.Out.Names(ctx, r, m) {
			return true
		}
	}
	return false
}
