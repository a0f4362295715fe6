package cosign

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/progress"
)

// refusal is an attempt the record does not allow: signing twice, after
// completion, a withdrawn request, out of turn, or by an outsider. It is
// answered privately and audited with result "refused"; nothing changes.
type refusal struct {
	reason string // audit detail
	key    string // catalog key of the answer
	args   []any
}

func (r *refusal) Error() string { return "cosign: refused: " + r.reason }

// refuse answers a refused attempt to the presser only and audits it.
func (m *handler) refuse(ctx context.Context, req *bot.Request, action, id string, r *refusal) (*bot.Response, error) {
	if err := m.b.Audit.Result(ctx, req, action, id, r.reason, bot.ResultRefused); err != nil {
		return nil, err
	}
	text := m.b.T(req.Lang, r.key, r.args...)
	return &bot.Response{Toast: text, Replies: []bot.Reply{{Text: text}}}, nil
}

// stateRefusal refuses any answer to a request that is not open.
func (m *handler) stateRefusal(r *bot.Roster, c *Cosign, lang string) *refusal {
	switch c.State {
	case CosignOpen:
		return nil
	case CosignComplete:
		return &refusal{"complete", "cosign.refuse.complete", []any{"id", c.ID, "time", bot.FormatTime(c.CompletedAt, m.b.Loc)}}
	case CosignWithdrawn:
		return &refusal{"withdrawn", "cosign.refuse.withdrawn", []any{"id", c.ID}}
	case CosignDeclined:
		return &refusal{"declined", "cosign.refuse.declined", []any{"id", c.ID, "creator", m.personName(r, c.CreatedBy, lang)}}
	}
	return &refusal{"state_" + c.State, "cosign.refuse.withdrawn", []any{"id", c.ID}}
}

// eligible returns the parties of c that p may answer for now: p belongs
// to their body, they have not confirmed, and, to sign in sequential
// order, it is their turn.
func (m *handler) eligible(r *bot.Roster, c *Cosign, p *bot.Person, lang string, signing bool) ([]int, *refusal) {
	if ref := m.stateRefusal(r, c, lang); ref != nil {
		return nil, ref
	}
	var mine, unsigned, now []int
	for i, party := range c.Parties {
		if !p.InBody(party.Body) {
			continue
		}
		mine = append(mine, i)
		if party.State != PartyConfirmed {
			unsigned = append(unsigned, i)
			if !signing || c.CanSign(i) {
				now = append(now, i)
			}
		}
	}
	switch {
	case len(mine) == 0:
		return nil, &refusal{"not_a_party", "cosign.refuse.not_a_party", []any{"id", c.ID}}
	case len(unsigned) == 0:
		party := c.Parties[mine[0]]
		return nil, &refusal{"already_signed", "cosign.refuse.already_signed", []any{"id", c.ID, "party", m.partyName(r, party, lang), "person", m.personName(r, party.By, lang), "time", bot.FormatTime(party.At, m.b.Loc)}}
	case len(now) == 0:
		return nil, &refusal{"not_your_turn", "cosign.refuse.not_your_turn", []any{"id", c.ID, "party", m.partyName(r, c.Parties[c.Next()], lang)}}
	}
	return now, nil
}

// partyRefusal refuses p answering for body on c: body is not one of
// c's parties, or p is not a member of it. A member of another party is
// told which, so a person in two bodies learns why this one is refused.
func (m *handler) partyRefusal(r *bot.Roster, c *Cosign, body string, p *bot.Person, lang string) *refusal {
	i := c.PartyOf(body)
	if i >= 0 && p.InBody(body) {
		return nil
	}
	member := slices.ContainsFunc(c.Parties, func(q CosignParty) bool { return p.InBody(q.Body) })
	switch {
	case member && i >= 0:
		return &refusal{"not_member_of", "cosign.refuse.not_member_of", []any{"id", c.ID, "party", m.partyName(r, c.Parties[i], lang)}}
	case member:
		return &refusal{"not_a_party_body", "cosign.refuse.not_a_party_body", []any{"id", c.ID, "body", m.bodyName(r, body, lang)}}
	}
	return &refusal{"not_a_party", "cosign.refuse.not_a_party", []any{"id", c.ID}}
}

// load reads request id, refusing a malformed or unknown id. A typed id
// of a request the person may not know of (Cosign.Visible) is answered
// as an unknown one and audited as refused: a command must not confirm
// that another organisation's request exists. (A button is pressed on a
// card the person was shown, and is answered by the signing rules.)
func (m *handler) load(ctx context.Context, req *bot.Request, id string) (*Cosign, error) {
	c, err := m.read(ctx, req, id)
	if err != nil || req.Kind == bot.KindAction || c.Visible(req.Roster, req.Person) {
		return c, err
	}
	action := "cosign"
	if req.Command != nil && req.Command.Sub != nil {
		action += "." + req.Command.Sub.Name
	}
	if err := m.b.Audit.Result(ctx, req, action, c.ID, "not_visible", bot.ResultRefused); err != nil {
		return nil, err
	}
	return nil, bot.UsageError(req, "cosign.err.not_found", "id", c.ID)
}

// read reads request id, refusing a malformed or unknown id.
func (m *handler) read(ctx context.Context, req *bot.Request, id string) (*Cosign, error) {
	id = strings.ToUpper(strings.TrimSpace(id))
	if !reCosignID.MatchString(id) {
		if id == "" {
			return nil, bot.UsageError(req, "cosign.err.no_id")
		}
		return nil, bot.UsageError(req, "cosign.err.id", "id", id)
	}
	c, err := m.coll.Get(ctx, id)
	if bot.IsNotFound(err) {
		return nil, bot.UsageError(req, "cosign.err.not_found", "id", id)
	}
	return c, err
}

// signButton handles "确认签字 / Confirm": it signs for the presser's one
// party, or asks a person in two parties which one.
func (m *handler) signButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	c, err := m.load(ctx, req, req.Value)
	if err != nil {
		return nil, err
	}
	return m.signFor(ctx, req, c, "")
}

// signAsButton handles the choice of a person in two parties.
func (m *handler) signAsButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, body, ok := strings.Cut(req.Value, "|")
	if !ok || body == "" {
		return nil, bot.Coded(bot.EINVALID, "error.unknown_action")
	}
	c, err := m.load(ctx, req, id)
	if err != nil {
		return nil, err
	}
	return m.signFor(ctx, req, c, body)
}

// signCmd handles "cosign sign QZ-… [as:body]".
func (m *handler) signCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	c, err := m.load(ctx, req, req.Command.Arg(0))
	if err != nil {
		return nil, err
	}
	body := ""
	if as := req.Command.Opt("as", "代表"); as != "" {
		b, ok := req.Roster.FindBody(as)
		if !ok {
			return nil, bot.UsageError(req, "error.no_body", "name", as)
		}
		body = b.ID
	}
	return m.signFor(ctx, req, c, body)
}

// signFor signs c for body, or for the presser's only signable party
// when body is "", or offers the choice.
func (m *handler) signFor(ctx context.Context, req *bot.Request, c *Cosign, body string) (*bot.Response, error) {
	idx, ref := m.eligible(req.Roster, c, req.Person, req.Lang, true)
	if ref != nil {
		return m.refuse(ctx, req, "cosign.sign", c.ID, ref)
	}
	if body == "" {
		if len(idx) > 1 {
			return m.choice(req, c, idx), nil
		}
		body = c.Parties[idx[0]].Body
	}
	return m.sign(ctx, req, c.ID, body)
}

// choice answers a person in two signable parties with one button each.
func (m *handler) choice(req *bot.Request, c *Cosign, idx []int) *bot.Response {
	card := &bot.Card{Title: m.b.T(req.Lang, "cosign.choose.title", "id", c.ID), Text: m.b.T(req.Lang, "cosign.choose.text"), Color: bot.Blue}
	for _, i := range idx {
		p := c.Parties[i]
		card.Buttons = append(card.Buttons, bot.Button{
			Label:  m.b.T(req.Lang, "cosign.button.sign_as", "party", m.partyName(req.Roster, p, req.Lang)),
			Action: ActionSignAs, Value: c.ID + "|" + p.Body, Style: "primary",
		})
	}
	return &bot.Response{Replies: []bot.Reply{{Card: card}}}
}

// sign records the confirmation of body's party in one atomic update.
// Only the update that confirms the last party completes the request, so
// the completion is announced once however many processes press at once.
func (m *handler) sign(ctx context.Context, req *bot.Request, id, body string) (*bot.Response, error) {
	now := m.b.Now()
	r := req.Roster
	c, err := update(ctx, m.b.Store, id, func(c *Cosign) error {
		c.JustCompleted = false
		if ref := m.stateRefusal(r, c, req.Lang); ref != nil {
			return ref
		}
		if ref := m.partyRefusal(r, c, body, req.Person, req.Lang); ref != nil {
			return ref
		}
		i := c.PartyOf(body)
		p := &c.Parties[i]
		if p.State == PartyConfirmed {
			return &refusal{"already_signed", "cosign.refuse.already_signed", []any{"id", c.ID, "party", m.partyName(r, *p, req.Lang), "person", m.personName(r, p.By, req.Lang), "time", bot.FormatTime(p.At, m.b.Loc)}}
		}
		if !c.CanSign(i) {
			return &refusal{"not_your_turn", "cosign.refuse.not_your_turn", []any{"id", c.ID, "party", m.partyName(r, c.Parties[c.Next()], req.Lang)}}
		}
		p.State, p.By, p.At, p.Platform, p.Reason = PartyConfirmed, req.Person.ID, now, req.Platform, ""
		c.History = append(c.History, CosignEvent{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "confirm", Body: body})
		next := c.Next()
		switch {
		case next < 0:
			c.State, c.CompletedAt, c.JustCompleted = CosignComplete, now, true
			c.History = append(c.History, CosignEvent{Time: now, Action: "complete"})
			if to := handoverBody(c); to != "" {
				local := now.In(m.b.Loc)
				c.Handover = &CosignHandover{To: to, Date: time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, m.b.Loc)}
				c.History = append(c.History, CosignEvent{Time: now, Action: "handover", Body: to})
			}
		case c.Order == OrderSequential:
			m.activate(c, next, now)
		}
		return nil
	})
	if ref, ok := errors.AsType[*refusal](err); ok {
		return m.refuse(ctx, req, "cosign.sign", id, ref)
	}
	if err != nil {
		return nil, err
	}
	if err := m.b.Audit.Record(ctx, req, "cosign.confirm", id, "body="+body); err != nil {
		return nil, err
	}
	if c.JustCompleted {
		if err := m.completed(ctx, req, r, c); err != nil {
			return nil, err
		}
	}
	party := c.Parties[c.PartyOf(body)]
	toast := m.b.T(req.Lang, "cosign.signed", "id", id, "party", m.partyName(r, party, req.Lang), "done", c.Confirmed(), "total", len(c.Parties))
	return m.changed(ctx, req, r, c, toast), nil
}

// handoverBody is the body that takes over supervision when c completes.
func handoverBody(c *Cosign) string {
	if c.HandoverTo == "" {
		return ""
	}
	for _, p := range c.Parties {
		if p.Role == c.HandoverTo {
			return p.Body
		}
	}
	return ""
}

// completed audits the completion and the hand-over and tells the group;
// only the update that completed the request calls it.
func (m *handler) completed(ctx context.Context, req *bot.Request, r *bot.Roster, c *Cosign) error {
	if err := m.b.Audit.Record(ctx, req, "cosign.complete", c.ID, fmt.Sprintf("parties=%d", len(c.Parties))); err != nil {
		return err
	}
	// Only the three-party signature of an immediate fix closes the item;
	// a joint evaluation of a plan or its results does not.
	if c.Item != "" && c.Subject == SubjectImmediateFix {
		if _, err := progress.CloseByCosign(ctx, m.b, req, c.Item, c.ID); err != nil && !bot.IsNotFound(err) {
			return err
		}
	}
	if c.Handover != nil {
		detail := fmt.Sprintf("supervision responsibility handed over to %s on %s", c.Handover.To, bot.FormatDate(c.Handover.Date, m.b.Loc))
		if err := m.b.Audit.Record(ctx, req, "cosign.handover", c.ID, detail); err != nil {
			return err
		}
	}
	key := fmt.Sprintf("cosign-complete:%s", c.ID)
	if group := m.cardGroup(r, c); group != "" {
		if _, err := m.b.Out.Notify(ctx, bot.Notice{Group: group, Text: m.completeText(r, c, m.b.Lang), Key: key}); err != nil {
			m.b.Log.Error("cosign: completion notice failed", "id", c.ID, "err", err)
		}
		return nil
	}
	// The group may not know of the request: its parties are told
	// directly, each in its language.
	for _, person := range partyMembers(r, c) {
		if _, err := m.b.Out.Notify(ctx, bot.Notice{PersonID: person.ID, Text: m.completeText(r, c, m.b.People.LangOf(ctx, person)), Key: key}); err != nil {
			m.b.Log.Error("cosign: completion notice failed", "id", c.ID, "person", person.ID, "err", err)
		}
	}
	return nil
}

// completeText is the completion notice in lang, with the hand-over.
func (m *handler) completeText(r *bot.Roster, c *Cosign, lang string) string {
	text := m.b.T(lang, "cosign.complete.notice", "id", c.ID, "title", m.title(c, lang), "description", m.describe(c, lang))
	if c.Handover != nil {
		text += "\n" + m.b.T(lang, "cosign.handover", "body", m.bodyName(r, c.Handover.To, lang), "date", bot.FormatDate(c.Handover.Date, m.b.Loc))
	}
	return text
}

// changed updates every posted card of c to its new state and answers
// the request: a toast, and for a button the clicked card replaced.
func (m *handler) changed(ctx context.Context, req *bot.Request, r *bot.Roster, c *Cosign, toast string) *bot.Response {
	// Render the latest stored state: when two parties press at once, the
	// answer delivered last must not show the older one.
	latest := c
	if cur, err := m.coll.Get(ctx, c.ID); err == nil {
		latest = cur
	}
	card := m.card(r, latest)
	clicked := func(ref bot.MessageRef) bool {
		return req.Kind == bot.KindAction && m.b.Out.Names(ctx, ref, req.Message)
	}
	var refs []bot.MessageRef
	for _, ref := range latest.Cards {
		if clicked(ref) && !c.JustCompleted {
			continue // replaced by the answer below
		}
		refs = append(refs, ref)
	}
	if err := m.b.Out.UpdateCards(ctx, refs, card); err != nil {
		m.b.Log.Error("cosign: updating cards failed", "id", c.ID, "err", err)
	}
	// Direct-message cards, each in its reader's language; the one
	// clicked is answered in the presser's.
	answer := card
	for _, dm := range latest.DMs {
		if clicked(dm.Message) && dm.Person == req.Person.ID {
			answer = m.cardIn(r, latest, req.Lang)
			if !c.JustCompleted {
				continue
			}
		}
		lang := m.b.Lang
		if p, ok := r.Person(dm.Person); ok {
			lang = m.b.People.LangOf(ctx, p)
		}
		if err := m.b.Out.UpdateCards(ctx, []bot.MessageRef{dm.Message}, m.cardIn(r, latest, lang)); err != nil {
			m.b.Log.Error("cosign: updating a direct card failed", "id", c.ID, "person", dm.Person, "err", err)
		}
	}
	if req.Kind != bot.KindAction {
		return bot.Text(toast)
	}
	return &bot.Response{Toast: toast, Replies: []bot.Reply{{Card: answer, Replace: true}}}
}

// declineButton handles "退回 / Decline": a decline needs a reason. When
// the platform asked for it in a form (req.Input) the click declines at
// once; otherwise, or when the person could decline for more than one
// party, eligible parties are told the command to type.
func (m *handler) declineButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	c, err := m.load(ctx, req, req.Value)
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(req.Input)
	if len([]rune(reason)) > maxDescription {
		return nil, bot.UsageError(req, "cosign.err.too_long", "max", maxDescription)
	}
	idx, ref := m.eligible(req.Roster, c, req.Person, req.Lang, false)
	if ref != nil {
		return m.refuse(ctx, req, "cosign.decline", c.ID, ref)
	}
	if reason != "" && len(idx) == 1 {
		return m.decline(ctx, req, c.ID, c.Parties[idx[0]].Body, reason)
	}
	var lines []string
	for _, i := range idx {
		as := ""
		if len(idx) > 1 {
			as = m.b.T(req.Lang, "cosign.decline.as", "body", c.Parties[i].Body)
		}
		lines = append(lines, m.b.T(req.Lang, "cosign.decline.command", "id", c.ID, "as", as))
	}
	text := m.b.T(req.Lang, "cosign.decline.howto", "id", c.ID, "commands", strings.Join(lines, "\n"))
	return &bot.Response{Toast: m.b.T(req.Lang, "cosign.decline.toast"), Replies: []bot.Reply{{Text: text}}}, nil
}

// declineCmd handles "cosign decline QZ-… [as:body] reason".
func (m *handler) declineCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	c, err := m.load(ctx, req, req.Command.Arg(0))
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(req.Command.Rest(1))
	// "原因：台账未补齐" labels the reason; the label is not part of it.
	if o := req.Command.Opt("reason", "原因", "理由"); o != "" {
		reason = strings.TrimSpace(o + " " + reason)
	}
	if reason == "" {
		return nil, bot.UsageError(req, "cosign.err.no_reason")
	}
	if len([]rune(reason)) > maxDescription {
		return nil, bot.UsageError(req, "cosign.err.too_long", "max", maxDescription)
	}
	idx, ref := m.eligible(req.Roster, c, req.Person, req.Lang, false)
	if ref != nil {
		return m.refuse(ctx, req, "cosign.decline", c.ID, ref)
	}
	body := ""
	if as := req.Command.Opt("as", "代表"); as != "" {
		b, ok := req.Roster.FindBody(as)
		if !ok || c.PartyOf(b.ID) < 0 {
			return nil, bot.UsageError(req, "cosign.err.as", "name", as, "choices", m.choices(req.Roster, c, idx, req.Lang))
		}
		// A party he is not a member of, or one already signed, is an
		// attempt to act for another body: refused and audited.
		if ref := m.partyRefusal(req.Roster, c, b.ID, req.Person, req.Lang); ref != nil {
			return m.refuse(ctx, req, "cosign.decline", c.ID, ref)
		}
		if !slices.ContainsFunc(idx, func(i int) bool { return c.Parties[i].Body == b.ID }) {
			p := c.Parties[c.PartyOf(b.ID)]
			return m.refuse(ctx, req, "cosign.decline", c.ID, &refusal{"already_signed", "cosign.refuse.already_signed", []any{"id", c.ID, "party", m.partyName(req.Roster, p, req.Lang), "person", m.personName(req.Roster, p.By, req.Lang), "time", bot.FormatTime(p.At, m.b.Loc)}})
		}
		body = b.ID
	} else if len(idx) > 1 {
		return nil, bot.UsageError(req, "cosign.err.choose_party", "choices", m.choices(req.Roster, c, idx, req.Lang))
	} else {
		body = c.Parties[idx[0]].Body
	}
	return m.decline(ctx, req, c.ID, body, reason)
}

func (m *handler) choices(r *bot.Roster, c *Cosign, idx []int, lang string) string {
	var s []string
	for _, i := range idx {
		s = append(s, m.b.T(lang, "cosign.choice", "party", m.partyName(r, c.Parties[i], lang), "body", c.Parties[i].Body))
	}
	return strings.Join(s, m.b.T(lang, "list.sep"))
}

// decline returns the request to its creator with the reason.
func (m *handler) decline(ctx context.Context, req *bot.Request, id, body, reason string) (*bot.Response, error) {
	now := m.b.Now()
	r := req.Roster
	c, err := update(ctx, m.b.Store, id, func(c *Cosign) error {
		if ref := m.stateRefusal(r, c, req.Lang); ref != nil {
			return ref
		}
		if ref := m.partyRefusal(r, c, body, req.Person, req.Lang); ref != nil {
			return ref
		}
		i := c.PartyOf(body)
		p := &c.Parties[i]
		if p.State == PartyConfirmed {
			return &refusal{"already_signed", "cosign.refuse.already_signed", []any{"id", c.ID, "party", m.partyName(r, *p, req.Lang), "person", m.personName(r, p.By, req.Lang), "time", bot.FormatTime(p.At, m.b.Loc)}}
		}
		p.State, p.By, p.At, p.Platform, p.Reason = PartyDeclined, req.Person.ID, now, req.Platform, reason
		c.State = CosignDeclined
		c.History = append(c.History, CosignEvent{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "decline", Body: body, Note: reason})
		return nil
	})
	if ref, ok := errors.AsType[*refusal](err); ok {
		return m.refuse(ctx, req, "cosign.decline", id, ref)
	}
	if err != nil {
		return nil, err
	}
	if err := m.b.Audit.Record(ctx, req, "cosign.decline", id, "body="+body+" reason="+reason); err != nil {
		return nil, err
	}
	if creator, ok := r.Person(c.CreatedBy); ok {
		lang := m.b.People.LangOf(ctx, creator)
		text := m.b.T(lang, "cosign.declined.dm", "id", c.ID, "description", m.describe(c, lang), "party", m.partyName(r, c.Parties[c.PartyOf(body)], lang), "person", req.Person.DisplayName(lang), "reason", reason)
		if _, err := m.b.Out.Notify(ctx, bot.Notice{PersonID: creator.ID, Text: text, Key: fmt.Sprintf("cosign-declined:%s:%d", c.ID, c.Opens)}); err != nil {
			m.b.Log.Error("cosign: telling the creator failed", "id", c.ID, "err", err)
		}
	}
	toast := m.b.T(req.Lang, "cosign.declined", "id", id, "creator", m.personName(r, c.CreatedBy, req.Lang))
	return m.changed(ctx, req, r, c, toast), nil
}

// creatorRefusal refuses anyone but the creator and administrators.
func (m *handler) creatorRefusal(r *bot.Roster, c *Cosign, p *bot.Person, lang string) *refusal {
	if p.ID == c.CreatedBy || p.Admin {
		return nil
	}
	return &refusal{"not_creator", "cosign.refuse.not_creator", []any{"id", c.ID, "creator", m.personName(r, c.CreatedBy, lang)}}
}

func (m *handler) reopenButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	return m.reopen(ctx, req, req.Value, "")
}

// reopenCmd handles "cosign reopen QZ-… [new description]".
func (m *handler) reopenCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	desc := strings.TrimSpace(req.Command.Rest(1))
	if len([]rune(desc)) > maxDescription {
		return nil, bot.UsageError(req, "cosign.err.too_long", "max", maxDescription)
	}
	return m.reopen(ctx, req, req.Command.Arg(0), desc)
}

// reopen puts a declined request before every party again, after the
// creator's changes: earlier confirmations were given to the unchanged
// request, so every party signs again.
func (m *handler) reopen(ctx context.Context, req *bot.Request, id, desc string) (*bot.Response, error) {
	c, err := m.load(ctx, req, id)
	if err != nil {
		return nil, err
	}
	id = c.ID
	now := m.b.Now()
	r := req.Roster
	c, err = update(ctx, m.b.Store, id, func(c *Cosign) error {
		if ref := m.creatorRefusal(r, c, req.Person, req.Lang); ref != nil {
			return ref
		}
		if c.State != CosignDeclined {
			return &refusal{"not_declined", "cosign.refuse.not_declined", []any{"id", c.ID, "state", m.b.T(req.Lang, "cosign.state."+c.State)}}
		}
		for i := range c.Parties {
			p := &c.Parties[i]
			*p = CosignParty{Role: p.Role, Label: p.Label, LabelEn: p.LabelEn, Body: p.Body, State: PartyWaiting}
		}
		if desc != "" {
			c.Description = desc
		}
		c.State = CosignOpen
		c.Opens++
		c.History = append(c.History, CosignEvent{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "reopen", Note: desc})
		m.open(c, now)
		return nil
	})
	if ref, ok := errors.AsType[*refusal](err); ok {
		return m.refuse(ctx, req, "cosign.reopen", id, ref)
	}
	if err != nil {
		return nil, err
	}
	if err := m.b.Audit.Record(ctx, req, "cosign.reopen", c.ID, "description="+desc); err != nil {
		return nil, err
	}
	resp := m.changed(ctx, req, r, c, m.b.T(req.Lang, "cosign.reopened", "id", c.ID))
	// A fresh card mentions every party again, in the group only if
	// everyone sitting there may still know of the request.
	m.postCard(ctx, r, c)
	return resp, nil
}

// withdrawCmd handles "cosign withdraw QZ-… [reason]".
func (m *handler) withdrawCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	c, err := m.load(ctx, req, req.Command.Arg(0))
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(req.Command.Rest(1))
	if len([]rune(reason)) > maxDescription {
		return nil, bot.UsageError(req, "cosign.err.too_long", "max", maxDescription)
	}
	id := c.ID
	now := m.b.Now()
	r := req.Roster
	c, err = update(ctx, m.b.Store, id, func(c *Cosign) error {
		if ref := m.creatorRefusal(r, c, req.Person, req.Lang); ref != nil {
			return ref
		}
		if c.State != CosignOpen && c.State != CosignDeclined {
			return m.stateRefusal(r, c, req.Lang)
		}
		c.State = CosignWithdrawn
		c.History = append(c.History, CosignEvent{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "withdraw", Note: reason})
		return nil
	})
	if ref, ok := errors.AsType[*refusal](err); ok {
		return m.refuse(ctx, req, "cosign.withdraw", id, ref)
	}
	if err != nil {
		return nil, err
	}
	if err := m.b.Audit.Record(ctx, req, "cosign.withdraw", c.ID, "reason="+reason); err != nil {
		return nil, err
	}
	return m.changed(ctx, req, r, c, m.b.T(req.Lang, "cosign.withdrawn", "id", c.ID)), nil
}
