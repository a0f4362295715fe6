package clue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/round"
)

// priorityWords mark a clue for priority handling (优先处置) when given
// as the last word of a transfer.
var priorityWords = []string{"priority", "urgent", "优先", "优先处置"}

// transferOptions are the options clue transfer understands; anything
// else is refused, because an unquoted "金额:50万" in the substance would
// otherwise silently vanish into an option.
var transferOptions = []string{"deadline", "期限", "due", "round", "轮次", "priority", "优先"}

// transfer: clue transfer <receiving body> <organisation> <title> <substance…> [deadline:…] [round:…] [priority]
func (h *handler) transfer(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	c, body, err := h.transferClue(req)
	if err != nil {
		return nil, err
	}
	now := h.b.Now().In(h.b.Loc)
	if c.Deadline, err = h.transferDeadline(req, now); err != nil {
		return nil, err
	}
	if c.Round, c.FromBody, err = h.transferRound(ctx, req, c.Organisation); err != nil {
		return nil, err
	}
	id, err := bot.NewID(ctx, h.b.Store, PrefixClue, now.Year())
	if err != nil {
		return nil, err
	}
	c.ID, c.Status, c.CreatedBy, c.CreatedAt, c.UpdatedAt = id, ClueTransferred, req.Person.ID, now, now
	c.History = []bot.History{{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "transfer"}}
	if err := create(ctx, h.b, c); err != nil {
		return nil, err
	}
	// The audit detail names no title or substance: the log is read more
	// widely than the clue.
	detail := fmt.Sprintf("body=%s organisation=%s deadline=%s priority=%t", body.ID, c.OrganisationName, bot.FormatDate(c.Deadline, h.b.Loc), c.Priority)
	if c.Round != "" {
		detail += " round=" + c.Round
	}
	if err := h.b.Audit.Record(ctx, req, "clue.transfer", id, detail); err != nil {
		return nil, err
	}
	members, groupText, failed := h.announce(ctx, req.Roster, c, req.Lang)
	return bot.Text(h.transferredText(req, c, body, len(members), groupText, failed)), nil
}

// transferClue reads the receiving body, the organisation, the title,
// the substance and the priority of a transfer command into a new clue.
func (h *handler) transferClue(req *bot.Request) (*Clue, bot.Body, error) {
	p := req.Command
	lang := req.Lang
	for k := range p.Options {
		if !slices.Contains(transferOptions, k) {
			return nil, bot.Body{}, bot.UsageError(req, "clue.error.unknown_option", "option", k)
		}
	}
	priority, args := transferPriority(p)
	switch len(args) {
	case 0:
		return nil, bot.Body{}, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "clue.arg.body"))
	case 1:
		return nil, bot.Body{}, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "clue.arg.organisation"))
	case 2:
		return nil, bot.Body{}, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "clue.arg.title"))
	case 3:
		return nil, bot.Body{}, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "clue.arg.substance"))
	}
	body, err := h.receivingBody(req, args[0])
	if err != nil {
		return nil, bot.Body{}, err
	}
	orgID, orgName, err := h.organisation(req, args[1])
	if err != nil {
		return nil, bot.Body{}, err
	}
	title := strings.TrimSpace(args[2])
	substance := strings.TrimSpace(strings.Join(args[3:], " "))
	switch {
	case title == "":
		err = bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "clue.arg.title"))
	case substance == "":
		err = bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "clue.arg.substance"))
	case tooLong(title, maxTitle):
		err = bot.UsageError(req, "clue.error.too_long", "what", h.t(lang, "clue.arg.title"), "max", maxTitle)
	case tooLong(substance, maxSubstance):
		err = bot.UsageError(req, "clue.error.too_long", "what", h.t(lang, "clue.arg.substance"), "max", maxSubstance)
	}
	if err != nil {
		return nil, bot.Body{}, err
	}
	return &Clue{Body: body.ID, Organisation: orgID, OrganisationName: orgName, Title: title, Substance: substance, Priority: priority}, body, nil
}

// transferPriority reads the priority of a transfer, from the priority:
// option or a priority word ending the arguments, and returns the
// arguments without such words.
func transferPriority(p *bot.Parsed) (bool, []string) {
	args := slices.Clone(p.Args)
	priority := false
	if p.HasOpt("priority", "优先") {
		switch strings.ToLower(p.Opt("priority", "优先")) {
		case "no", "false", "0", "否", "不":
		default:
			priority = true
		}
	}
	for len(args) > 0 && slices.ContainsFunc(priorityWords, func(w string) bool { return strings.EqualFold(w, args[len(args)-1]) }) {
		priority = true
		args = args[:len(args)-1]
	}
	return priority, args
}

// transferDeadline reads the deadline: option of a transfer, by default
// the configured number of days from today.
func (h *handler) transferDeadline(req *bot.Request, now time.Time) (time.Time, error) {
	p := req.Command
	today := dayStart(now, h.b.Loc)
	s := p.Opt("deadline", "期限", "due")
	if s == "" {
		if p.HasOpt("deadline", "期限", "due") {
			return time.Time{}, bot.UsageError(req, "clue.error.empty_option", "option", "deadline / 期限")
		}
		return today.AddDate(0, 0, h.cfg.DeadlineDays), nil
	}
	d, err := bot.ParseDate(s, now, h.b.Loc)
	if err != nil {
		var e *bot.Error
		if errors.As(err, &e) {
			e.Example = "cmd.clue.transfer.example"
		}
		return time.Time{}, err
	}
	if d.Before(today) {
		return time.Time{}, bot.UsageError(req, "clue.error.deadline_past", "date", bot.FormatDate(d, h.b.Loc))
	}
	return d, nil
}

// transferRound reads the round: option of a transfer of a clue about
// organisation orgID, and returns the round and the body the clue comes
// from: the round's team when the sender is in it, else the sender's
// body.
func (h *handler) transferRound(ctx context.Context, req *bot.Request, orgID string) (roundID, from string, err error) {
	r := req.Roster
	from = senderBody(r, req.Person)
	roundID = strings.ToUpper(strings.TrimSpace(req.Command.Opt("round", "轮次")))
	if roundID == "" {
		return "", from, nil
	}
	rd, err := round.NewQueries(h.b.Store).Get(ctx, roundID)
	if bot.IsNotFound(err) {
		return "", "", bot.UsageError(req, "clue.error.no_round", "id", roundID)
	}
	if err != nil {
		return "", "", err
	}
	if orgID != "" && rd.Organisation != "" && rd.Organisation != orgID {
		return "", "", bot.UsageError(req, "clue.error.round_org", "id", roundID, "organisation", r.BodyName(rd.Organisation, req.Lang))
	}
	if req.Person.InBody(rd.Team) {
		from = rd.Team
	}
	return roundID, from, nil
}

// transferredText answers the sender of clue c, transferred to body and
// announced to members of its members.
func (h *handler) transferredText(req *bot.Request, c *Clue, body bot.Body, members int, groupText string, failed bool) string {
	lang := req.Lang
	text := h.t(lang, "clue.transferred", "id", c.ID, "body", body.DisplayName(lang), "deadline", bot.FormatDate(c.Deadline, h.b.Loc), "members", members)
	text += "\n" + groupText
	if members == 0 {
		text += "\n" + h.t(lang, "clue.warn.no_members", "body", body.DisplayName(lang))
	}
	if c.Priority {
		text += "\n" + h.t(lang, "clue.transferred_priority")
	}
	if failed {
		text += "\n" + h.t(lang, "clue.notify_failed")
	}
	if !req.Direct {
		text += "\n" + h.t(lang, "clue.tip.direct")
	}
	return text
}

// announce posts the group card in the discipline-only clue group (when
// one is configured and still discipline-only with the current roster)
// and sends the substance with the acknowledge button to every member of
// the receiving body, keeping the references. It returns the members
// told, a line for the sender about the group card, and whether a notice
// failed.
func (h *handler) announce(ctx context.Context, r *bot.Roster, c *Clue, lang string) ([]*bot.Person, string, bool) {
	id := c.ID
	failed := false
	var groupText string
	switch person, unit, safe := h.groupSafe(r); {
	case h.clueGroup == "":
		groupText = h.t(lang, "clue.group.none")
	case !safe:
		// Configuration said otherwise, but the roster changed since:
		// better no card than a card an inspected unit reads.
		h.b.Log.Warn("clue: the clue group is not discipline-only, no card posted", "clue", id, "group", h.clueGroup, "person", person, "unit", unit)
		who := r.BodyName(unit, lang)
		if person != "" {
			who = r.PersonName(person, lang) + h.t(lang, "list.sep") + who
		}
		groupText = h.t(lang, "clue.group.unsafe", "who", who)
	default:
		groupText = h.t(lang, "clue.group.posted")
		refs, err := h.b.Out.Notify(ctx, bot.Notice{Group: h.clueGroup, Card: h.groupCard(r, c), Key: fmt.Sprintf("clue:%s:card:%d", id, len(c.Cards)+len(c.History))})
		if err != nil {
			failed = true
			h.b.Log.Warn("clue: announcement failed", "clue", id, "err", err)
		}
		if len(refs) > 0 {
			if c2, err := update(ctx, h.b, id, func(v *Clue) error { v.Cards = append(v.Cards, refs...); return nil }); err != nil {
				h.b.Log.Warn("clue: could not keep card references", "clue", id, "err", err)
			} else {
				c = c2
			}
		}
	}
	members := r.Members(c.Body)
	var dms []ClueDM
	for _, m := range members {
		ml := h.b.People.LangOf(ctx, m)
		n := bot.Notice{PersonID: m.ID, Text: h.t(ml, "clue.dm.transferred", "id", id, "body", r.BodyName(c.Body, ml)), Card: h.detailCard(r, ml, c, true), Key: fmt.Sprintf("clue:%s:dm:%s:%d", id, c.Body, len(c.History))}
		sent, err := h.b.Out.Notify(ctx, n)
		if err != nil {
			failed = true
			h.b.Log.Warn("clue: direct message failed", "clue", id, "person", m.ID, "err", err)
		}
		dms = append(dms, directMessages(m.ID, sent)...)
	}
	h.recordDMs(ctx, id, dms)
	return members, groupText, failed
}

// receivingBody resolves the typed receiving body among the receiving
// kinds, explaining an ambiguous or unknown name.
func (h *handler) receivingBody(req *bot.Request, s string) (bot.Body, error) {
	if b, ok := req.Roster.FindBody(s, ReceivingKinds...); ok {
		return b, nil
	}
	lang := req.Lang
	if cands := candidates(req.Roster, s, ReceivingKinds...); len(cands) > 1 {
		return bot.Body{}, bot.UsageError(req, "clue.error.ambiguous_body", "name", s, "bodies", joinNames(cands, lang, h.t(lang, "list.sep")))
	}
	if other, ok := req.Roster.FindBody(s); ok {
		return bot.Body{}, bot.UsageError(req, "clue.error.not_receiver", "name", other.DisplayName(lang), "bodies", joinNames(receivers(req.Roster), lang, h.t(lang, "list.sep")))
	}
	return bot.Body{}, bot.UsageError(req, "clue.error.no_receiver", "name", s, "bodies", joinNames(receivers(req.Roster), lang, h.t(lang, "list.sep")))
}

// organisation resolves the inspected organisation to a roster body when
// it is one; an organisation not in the roster is kept by the name typed,
// since rosters list only the bodies the bot talks to — unless the name
// is a typing slip away from one that is (区财政局党租), which is refused
// naming the close ones rather than made a new organisation.
func (h *handler) organisation(req *bot.Request, s string) (string, string, error) {
	s = strings.TrimSpace(s)
	if b, ok := req.Roster.FindBody(s, bot.ResponsibleUnit); ok {
		return b.ID, b.Name, nil
	}
	if cands := candidates(req.Roster, s, bot.ResponsibleUnit); len(cands) > 1 {
		lang := req.Lang
		return "", "", bot.UsageError(req, "clue.error.ambiguous_org", "name", s, "bodies", joinNames(cands, lang, h.t(lang, "list.sep")))
	}
	if tooLong(s, maxTitle) || s == "" {
		return "", "", bot.UsageError(req, "clue.error.too_long", "what", h.t(req.Lang, "clue.arg.organisation"), "max", maxTitle)
	}
	if close := req.Roster.CloseBodies(s, bot.ResponsibleUnit); len(close) > 0 {
		lang := req.Lang
		return "", "", bot.UsageError(req, "clue.error.close_org", "name", s, "bodies", joinNames(close, lang, h.t(lang, "list.sep")))
	}
	return "", s, nil
}

func receivers(r *bot.Roster) []bot.Body {
	var out []bot.Body
	for _, b := range r.Bodies {
		if slices.Contains(ReceivingKinds, b.Kind) {
			out = append(out, b)
		}
	}
	return out
}

// candidates returns the bodies of kinds whose name contains s.
func candidates(r *bot.Roster, s string, kinds ...bot.PartyKind) []bot.Body {
	var out []bot.Body
	ls := strings.ToLower(strings.TrimSpace(s))
	if ls == "" {
		return nil
	}
	for _, b := range r.Bodies {
		if slices.Contains(kinds, b.Kind) && (strings.Contains(b.Name, s) || strings.Contains(strings.ToLower(b.NameEn), ls)) {
			out = append(out, b)
		}
	}
	return out
}

func joinNames(bs []bot.Body, lang, sep string) string {
	names := make([]string, 0, len(bs))
	for _, b := range bs {
		names = append(names, b.DisplayName(lang))
	}
	return strings.Join(names, sep)
}

// senderBody is the body a clue is transferred from: the person's first
// inspection team, else their inspection office body.
func senderBody(r *bot.Roster, p *bot.Person) string {
	for _, kind := range senderKinds {
		for _, id := range p.Bodies {
			if b, ok := r.Body(id); ok && b.Kind == kind {
				return b.ID
			}
		}
	}
	return ""
}
