package clue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// jointKinds may verify a clue jointly with the receiving body (共同核实).
var jointKinds = []bot.PartyKind{bot.SupervisorOffice, bot.StationedGroup}

// inOffice reports whether p belongs to an inspection office body.
func inOffice(r *bot.Roster, p *bot.Person) bool {
	for _, id := range p.Bodies {
		if b, ok := r.Body(id); ok && b.Kind == bot.InspectionOffice {
			return true
		}
	}
	return false
}

// joint: clue joint <id> <body> [<body>…] — the office or the receiving
// body records that a supervisor office or stationed group verifies the
// clue jointly (共同核实). They become entitled to it and get its
// substance by direct message; nobody else is told.
func (h *handler) joint(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	r := req.Roster
	bodies, err := h.jointBodies(req)
	if err != nil {
		return nil, err
	}
	c, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !inOffice(r, req.Person) && !req.Person.InBody(c.Body) {
		return nil, h.b.Refuse(ctx, req, "clue.joint", id, "clue.error.joint_who", "id", id, "body", r.BodyName(c.Body, lang))
	}
	now := h.b.Now()
	var added []string
	c, err = update(ctx, h.b, id, func(v *Clue) error {
		added = nil
		if v.Status.Closed() {
			return bot.Coded(bot.ECONFLICT, "clue.error.closed", "id", v.ID, "status", h.statusLabel(lang, v))
		}
		for _, b := range bodies {
			if b == v.Body {
				return bot.UsageError(req, "clue.error.joint_self", "body", r.BodyName(b, lang))
			}
			if !slices.Contains(v.Joint, b) {
				added = append(added, b)
			}
		}
		if len(added) == 0 {
			return nil
		}
		v.Joint = append(v.Joint, added...)
		v.UpdatedAt = now
		v.History = append(v.History, bot.History{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "joint", Note: bodyNames(r, added, h.b.Lang, h.t(h.b.Lang, "list.sep"))})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(added) == 0 {
		return bot.Text(h.t(lang, "clue.joint.already", "id", id, "bodies", bodyNames(r, bodies, lang, h.t(lang, "list.sep")))), nil
	}
	if err := h.b.Audit.Record(ctx, req, "clue.joint", id, "bodies="+strings.Join(added, ",")); err != nil {
		return nil, err
	}
	told, failed := h.tellJoint(ctx, r, c, added)
	text := h.t(lang, "clue.joint.done", "id", id, "bodies", bodyNames(r, added, lang, h.t(lang, "list.sep")), "body", r.BodyName(c.Body, lang), "members", told)
	if failed {
		text += "\n" + h.t(lang, "clue.notify_failed")
	}
	return bot.Text(text), nil
}

// jointBodies reads the bodies of a joint command, without repeats.
func (h *handler) jointBodies(req *bot.Request) ([]string, error) {
	lang, r := req.Lang, req.Roster
	names := req.Command.Args[min(1, len(req.Command.Args)):]
	if len(names) == 0 {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "clue.arg.joint"))
	}
	var bodies []string
	for _, n := range names {
		b, ok := r.FindBody(n, jointKinds...)
		if !ok {
			return nil, bot.UsageError(req, "clue.error.not_joint", "name", n, "bodies", joinNames(bodiesOf(r, jointKinds...), lang, h.t(lang, "list.sep")))
		}
		if !slices.Contains(bodies, b.ID) {
			bodies = append(bodies, b.ID)
		}
	}
	return bodies, nil
}

// tellJoint sends the substance of clue c to every member of the bodies
// added to verify it jointly, keeping the references. It returns how
// many members were told and whether a message failed.
func (h *handler) tellJoint(ctx context.Context, r *bot.Roster, c *Clue, added []string) (told int, failed bool) {
	id := c.ID
	var dms []ClueDM
	for _, b := range added {
		for _, m := range r.Members(b) {
			ml := h.b.People.LangOf(ctx, m)
			n := bot.Notice{PersonID: m.ID, Text: h.t(ml, "clue.dm.joint", "id", id, "body", r.BodyName(c.Body, ml), "joint", r.BodyName(b, ml)),
				Card: h.detailCard(r, ml, c, false), Key: fmt.Sprintf("clue:%s:joint:%s", id, b)}
			sent, err := h.b.Out.Notify(ctx, n)
			if err != nil {
				failed = true
				h.b.Log.Warn("clue: direct message failed", "clue", id, "person", m.ID, "err", err)
			}
			if len(sent) > 0 {
				told++
			}
			dms = append(dms, directMessages(m.ID, sent)...)
		}
	}
	h.recordDMs(ctx, id, dms)
	return told, failed
}

// reassign: clue reassign <id> <body> [deadline:…] — the office
// transfers a returned clue again (改派) without retyping it. The new
// body gets the group card and the substance; the old one loses its
// entitlement (it returned the clue) and hears nothing more of it.
func (h *handler) reassign(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	r := req.Roster
	for k := range req.Command.Options {
		if !slices.Contains([]string{"deadline", "期限", "due"}, k) {
			return nil, bot.UsageError(req, "clue.error.unknown_option", "option", k)
		}
	}
	if strings.TrimSpace(req.Command.Arg(1)) == "" {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "clue.arg.body"))
	}
	body, err := h.receivingBody(req, req.Command.Arg(1))
	if err != nil {
		return nil, err
	}
	now := h.b.Now().In(h.b.Loc)
	today := dayStart(now, h.b.Loc)
	deadline := today.AddDate(0, 0, h.cfg.DeadlineDays)
	if s := req.Command.Opt("deadline", "期限", "due"); s != "" {
		d, err := h.futureDate(req, s, now, today, "cmd.clue.reassign.example")
		if err != nil {
			return nil, err
		}
		deadline = d
	}
	c, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	var old string
	c, err = update(ctx, h.b, id, func(v *Clue) error {
		if v.Status != ClueReturned {
			return bot.Coded(bot.ECONFLICT, "clue.error.reassign_not_returned", "id", v.ID, "status", h.statusLabel(lang, v))
		}
		if v.Body == body.ID {
			return bot.UsageError(req, "clue.error.reassign_same", "body", body.DisplayName(lang))
		}
		old = v.Body
		v.PrevBodies = append(v.PrevBodies, v.Body)
		v.Body, v.Deadline, v.Status, v.ReassignedAt, v.UpdatedAt = body.ID, deadline, ClueTransferred, now, now
		v.AckBy, v.AckAt, v.VerifyAt, v.ClosedBy, v.ClosedAt = "", time.Time{}, time.Time{}, "", time.Time{}
		v.Conclusion, v.CaseOpened = "", false
		v.RemindedAt, v.EscalatedAt, v.DeadlineRemindedAt, v.DeadlineReminded = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		v.Joint = slices.DeleteFunc(v.Joint, func(b string) bool { return b == body.ID })
		v.History = append(v.History, bot.History{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "reassign",
			Note: r.BodyName(old, h.b.Lang) + " → " + r.BodyName(body.ID, h.b.Lang)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "clue.reassign", id, fmt.Sprintf("from_body=%s body=%s deadline=%s", old, body.ID, bot.FormatDate(deadline, h.b.Loc))); err != nil {
		return nil, err
	}
	// The earlier cards show where the clue is now.
	if err := h.b.Out.UpdateCards(ctx, c.Cards, h.groupCard(r, c)); err != nil {
		h.b.Log.Warn("clue: card update failed", "clue", id, "err", err)
	}
	members, groupText, failed := h.announce(ctx, r, c, lang)
	text := h.t(lang, "clue.reassign.done", "id", id, "body", body.DisplayName(lang), "deadline", bot.FormatDate(deadline, h.b.Loc),
		"old", r.BodyName(old, lang), "members", len(members)) + "\n" + groupText
	if len(members) == 0 {
		text += "\n" + h.t(lang, "clue.warn.no_members", "body", body.DisplayName(lang))
	}
	if failed {
		text += "\n" + h.t(lang, "clue.notify_failed")
	}
	return bot.Text(text), nil
}

// extend: clue extend <id> <date> <reason> — the office moves an open
// clue's handling deadline later (延期), with a reason; the receiving
// body (and any body verifying jointly) is told by direct message.
func (h *handler) extend(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	s := strings.TrimSpace(req.Command.Arg(1))
	if s == "" {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "clue.arg.deadline"))
	}
	now := h.b.Now().In(h.b.Loc)
	d, err := h.futureDate(req, s, now, dayStart(now, h.b.Loc), "cmd.clue.extend.example")
	if err != nil {
		return nil, err
	}
	reason, err := h.noteArg(req, 2, true)
	if err != nil {
		return nil, err
	}
	r := req.Roster
	var old time.Time
	c, err := update(ctx, h.b, id, func(v *Clue) error {
		if v.Status.Closed() {
			return bot.Coded(bot.ECONFLICT, "clue.error.closed", "id", v.ID, "status", h.statusLabel(lang, v))
		}
		if !d.After(v.Deadline) {
			return bot.UsageError(req, "clue.error.extend_not_later", "date", bot.FormatDate(d, h.b.Loc), "deadline", bot.FormatDate(v.Deadline, h.b.Loc))
		}
		old = v.Deadline
		v.Deadline, v.UpdatedAt = d, now
		v.DeadlineRemindedAt, v.DeadlineReminded = time.Time{}, time.Time{} // the new deadline gets its own reminder
		v.History = append(v.History, bot.History{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "extend",
			Note: bot.FormatDate(old, h.b.Loc) + " → " + bot.FormatDate(d, h.b.Loc) + h.t(h.b.Lang, "list.sep") + reason})
		return nil
	})
	if bot.IsNotFound(err) {
		return nil, bot.Coded(bot.ENOTFOUND, "clue.error.not_found", "id", id)
	}
	if err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "clue.extend", id, fmt.Sprintf("from=%s to=%s", bot.FormatDate(old, h.b.Loc), bot.FormatDate(d, h.b.Loc))); err != nil {
		return nil, err
	}
	if err := h.b.Out.UpdateCards(ctx, c.Cards, h.groupCard(r, c)); err != nil {
		h.b.Log.Warn("clue: card update failed", "clue", id, "err", err)
	}
	var errs []error
	for _, m := range handlers(r, c) {
		ml := h.b.People.LangOf(ctx, m)
		text := h.t(ml, "clue.dm.extend", "id", id, "old", bot.FormatDate(old, h.b.Loc), "deadline", bot.FormatDate(d, h.b.Loc), "reason", reason)
		if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: m.ID, Text: text, Key: fmt.Sprintf("clue:%s:extend:%d", id, len(c.History))}); err != nil {
			errs = append(errs, err)
		}
	}
	text := h.t(lang, "clue.extend.done", "id", id, "old", bot.FormatDate(old, h.b.Loc), "deadline", bot.FormatDate(d, h.b.Loc), "body", r.BodyName(c.Body, lang))
	if err := errors.Join(errs...); err != nil {
		h.b.Log.Warn("clue: direct message failed", "clue", id, "err", err)
		text += "\n" + h.t(lang, "clue.notify_failed")
	}
	return bot.Text(text), nil
}

// futureDate parses a deadline that must be today or later.
func (h *handler) futureDate(req *bot.Request, s string, now, today time.Time, example string) (time.Time, error) {
	d, err := bot.ParseDate(s, now, h.b.Loc)
	if err != nil {
		var e *bot.Error
		if errors.As(err, &e) {
			e.Example = example
		}
		return time.Time{}, err
	}
	if d.Before(today) {
		return time.Time{}, bot.UsageError(req, "clue.error.deadline_past", "date", bot.FormatDate(d, h.b.Loc))
	}
	return d, nil
}

// handlers are the people handling the clue: the receiving body's
// members and those of the bodies verifying it jointly, once each.
func handlers(r *bot.Roster, c *Clue) []*bot.Person {
	var out []*bot.Person
	for _, b := range append([]string{c.Body}, c.Joint...) {
		for _, m := range r.Members(b) {
			if !slices.ContainsFunc(out, func(p *bot.Person) bool { return p.ID == m.ID }) {
				out = append(out, m)
			}
		}
	}
	return out
}

func bodiesOf(r *bot.Roster, kinds ...bot.PartyKind) []bot.Body {
	var out []bot.Body
	for _, b := range r.Bodies {
		if slices.Contains(kinds, b.Kind) {
			out = append(out, b)
		}
	}
	return out
}

func bodyNames(r *bot.Roster, ids []string, lang, sep string) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		names = append(names, r.BodyName(id, lang))
	}
	return strings.Join(names, sep)
}

// openCase: clue case <id> <note> — the receiving body records that the
// preliminary verification of a clue it disposed of by 初步核实 led to
// 立案审查调查. Any other clue is refused, saying why.
func (h *handler) openCase(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	note, err := h.noteArg(req, 1, true)
	if err != nil {
		return nil, err
	}
	c, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	r := req.Roster
	lang := req.Lang
	if !req.Person.InBody(c.Body) {
		return nil, h.b.Refuse(ctx, req, "clue.case", id, "clue.error.not_member", "id", id, "body", r.BodyName(c.Body, lang))
	}
	now := h.b.Now()
	c, err = update(ctx, h.b, id, func(v *Clue) error {
		switch {
		case v.Status == ClueVerifying:
			return bot.Coded(bot.ECONFLICT, "clue.error.case_use_dispose", "id", v.ID)
		case !v.Status.Closed():
			return bot.Coded(bot.ECONFLICT, "clue.error.case_needs_verification", "id", v.ID, "status", h.statusLabel(lang, v))
		case v.Status != ClueConcluded || v.Conclusion != DisposalVerify || v.CaseOpened:
			return bot.Coded(bot.ECONFLICT, "clue.error.closed", "id", v.ID, "status", h.statusLabel(lang, v))
		}
		v.CaseOpened, v.UpdatedAt = true, now
		v.History = append(v.History, bot.History{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "case", Note: note})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "clue.case", id, "conclusion=preliminary_verification case_opened=true"); err != nil {
		return nil, err
	}
	if err := h.b.Out.UpdateCards(ctx, c.Cards, h.groupCard(r, c)); err != nil {
		h.b.Log.Warn("clue: card update failed", "clue", id, "err", err)
	}
	h.tellSender(ctx, r, c, req.Person, change{action: "case", note: note})
	return bot.Text(h.t(lang, "clue.done.case", "id", id)), nil
}
