package cosign

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/progress"
	"github.com/xunji-bot/xunji/commands/round"
)

// create handles "cosign new": it resolves the parties (typed, or from
// the inspection round, or the only body of the role's kind), stores the
// request and posts its card to the group.
func (m *handler) create(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	cmd := req.Command
	lang := req.Lang
	tname := cmd.Opt(commonOptions["template"]...)
	if tname == "" {
		tname = m.templates[0].Name
	}
	tpl, ok := m.template(tname)
	if !ok {
		return nil, bot.UsageError(req, "cosign.err.template", "name", tname, "templates", m.templateNames())
	}
	if err := m.checkOptions(req, tpl); err != nil {
		return nil, err
	}
	subject := tpl.Subjects[0]
	if s := cmd.Opt(commonOptions["kind"]...); s != "" {
		subject = ""
		for _, k := range tpl.Subjects {
			if slices.ContainsFunc(subjectNames[k], func(n string) bool { return strings.EqualFold(n, s) }) {
				subject = k
			}
		}
		if subject == "" {
			var allowed []string
			for _, k := range tpl.Subjects {
				allowed = append(allowed, m.b.T(lang, "cosign.subject."+k))
			}
			return nil, bot.UsageError(req, "cosign.err.kind", "kind", s, "kinds", strings.Join(allowed, m.b.T(lang, "list.sep")))
		}
	}
	item := strings.ToUpper(cmd.Opt(commonOptions["item"]...))
	if item != "" && !reItemID.MatchString(item) {
		return nil, bot.UsageError(req, "cosign.err.item", "item", cmd.Opt(commonOptions["item"]...))
	}
	desc := strings.TrimSpace(cmd.Rest(0))
	if desc == "" && item == "" {
		return nil, bot.UsageError(req, "cosign.err.description")
	}
	if utf8.RuneCountInString(desc) > maxDescription {
		return nil, bot.UsageError(req, "cosign.err.too_long", "max", maxDescription)
	}
	c, group, err := m.createRequest(ctx, req, tpl, subject, item, desc, cmd.Opt(commonOptions["round"]...))
	if err != nil {
		return nil, err
	}
	if group == "" {
		return m.answer(ctx, req, c, bot.Text(m.b.T(lang, "cosign.created_dm", "id", c.ID, "title", m.title(c, lang), "parties", m.partyList(req.Roster, c, lang)))), nil
	}
	return m.answer(ctx, req, c, bot.Text(m.b.T(lang, "cosign.created", "id", c.ID, "title", m.title(c, lang), "group", m.groupName(group), "parties", m.partyList(req.Roster, c, lang)))), nil
}

// createRequest checks and stores a request of tpl on subject, about item
// (a rectification item id, or "") and the round typed as roundIn (or ""),
// as req's person makes it; it audits it and posts its card (see
// postCard), returning the group it was posted to, or "" when it went to
// the parties by direct message.
func (m *handler) createRequest(ctx context.Context, req *bot.Request, tpl Template, subject, item, desc, roundIn string) (*Cosign, string, error) {
	var it *progress.Item
	var err error
	if item != "" {
		if it, err = m.checkItem(ctx, req, item, subject); err != nil {
			return nil, "", err
		}
	}
	var rd *round.Round
	if rid := strings.ToUpper(roundIn); rid != "" {
		if !reRoundID.MatchString(rid) {
			return nil, "", bot.UsageError(req, "cosign.err.round", "round", roundIn)
		}
		r, err := round.NewQueries(m.b.Store).Get(ctx, rid)
		if bot.IsNotFound(err) {
			return nil, "", bot.UsageError(req, "cosign.err.no_round", "round", rid)
		}
		if err != nil {
			return nil, "", err
		}
		rd = r
	}
	parties, err := m.resolveParties(req, tpl, rd, it)
	if err != nil {
		return nil, "", err
	}

	now := m.b.Now()
	id, err := bot.NewID(ctx, m.b.Store, PrefixCosign, now.In(m.b.Loc).Year())
	if err != nil {
		return nil, "", err
	}
	c := &Cosign{
		ID: id, Template: tpl.Name, Title: tpl.Title, TitleEn: tpl.TitleEn, Subject: subject,
		Description: desc, Item: item, Order: tpl.Order, HandoverTo: tpl.HandoverTo,
		Parties: parties, State: CosignOpen, CreatedBy: req.Person.ID, CreatedAt: now, Opens: 1,
		History: []CosignEvent{{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: "create"}},
	}
	if rd != nil {
		c.Round = rd.ID
	}
	if it != nil {
		c.ItemTitle = it.Title
		c.Supervisors = slices.Clone(it.Supervisors)
	}
	m.open(c, now)
	if err := create(ctx, m.b.Store, c); err != nil {
		return nil, "", err
	}
	if item != "" {
		if err := m.byItem.Put(ctx, itemKey(item, subject), &itemCosign{Cosign: id}); err != nil {
			return nil, "", err
		}
	}
	if err := m.b.Audit.Record(ctx, req, "cosign.create", id, m.auditParties(c)); err != nil {
		return nil, "", err
	}
	group := m.postCard(ctx, req.Roster, c)
	return c, group, nil
}

// Maker makes co-signature requests for other domains: the three-party
// signature of a round's immediate fix.
type Maker struct{ m *handler }

// NewMaker returns the co-signature maker, with the templates of the
// configuration's cosign section as the cosign module sets them up (the first
// built-in one, three, is the default).
func NewMaker(b *bot.Bot, cfg *config.Config) (*Maker, error) {
	if err := b.AddTexts(texts, textsDir); err != nil {
		return nil, err
	}
	m, err := newHandler(b, cfg)
	if err != nil {
		return nil, err
	}
	return &Maker{m: m}, nil
}

// NewDefault makes a request of the default template and its default
// subject, about round and item (a rectification item id, or ""), with
// the checks, record, audit and card of "cosign new round:… item:…"
// typed by req's person, and returns its id. A refusal is a *bot.Error.
func (mk *Maker) NewDefault(ctx context.Context, req *bot.Request, round, item, description string) (string, error) {
	m := mk.m
	tpl := m.templates[0]
	if !req.Roster.HasKind(req.Person, bot.InspectionOffice) && !req.Roster.HasKind(req.Person, bot.InspectionTeam) {
		return "", bot.Coded(bot.EUNAUTHORIZED, "error.forbidden")
	}
	desc := strings.TrimSpace(description)
	if desc == "" && item == "" {
		return "", bot.UsageError(req, "cosign.err.description")
	}
	if utf8.RuneCountInString(desc) > maxDescription {
		return "", bot.UsageError(req, "cosign.err.too_long", "max", maxDescription)
	}
	c, _, err := m.createRequest(ctx, req, tpl, tpl.Subjects[0], strings.ToUpper(item), desc, round)
	if err != nil {
		return "", err
	}
	return c.ID, nil
}

// itemCosign is the index entry of a rectification item and subject:
// its latest co-signature request, so that a second one is refused
// without reading every request.
type itemCosign struct {
	Cosign string `json:"cosign"`
}

// itemKey is the index id of item for subject: one request per item and
// subject (an immediate fix's signature, a plan's evaluation …).
func itemKey(item, subject string) string { return item + ":" + subject }

// checkItem loads the rectification item id, refusing an unknown item and
// an item that already has a co-signature in progress (open, or declined
// and waiting to be reopened) or completed.
func (m *handler) checkItem(ctx context.Context, req *bot.Request, id, subject string) (*progress.Item, error) {
	it, err := progress.NewQueries(m.b.Store, m.b.Loc).Item(ctx, id)
	if bot.IsNotFound(err) {
		return nil, bot.UsageError(req, "cosign.err.no_item", "item", id)
	}
	if err != nil {
		return nil, err
	}
	idx, err := m.byItem.Get(ctx, itemKey(id, subject))
	if bot.IsNotFound(err) {
		return it, nil
	}
	if err != nil {
		return nil, err
	}
	prev, err := m.coll.Get(ctx, idx.Cosign)
	if bot.IsNotFound(err) {
		return it, nil
	}
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	switch prev.State {
	case CosignOpen, CosignDeclined:
		return nil, bot.UsageError(req, "cosign.err.item_open", "item", id, "id", prev.ID, "state", m.b.T(lang, "cosign.state."+prev.State))
	case CosignComplete:
		return nil, bot.UsageError(req, "cosign.err.item_signed", "item", id, "id", prev.ID, "time", bot.FormatTime(prev.CompletedAt, m.b.Loc))
	}
	return it, nil // withdrawn: a new request may replace it
}

// checkOptions refuses option keys that are neither common nor a role
// option of tpl, so a typo does not silently drop a party.
func (m *handler) checkOptions(req *bot.Request, tpl Template) error {
	known := map[string]bool{}
	for _, o := range commonOptions {
		for _, n := range o {
			known[strings.ToLower(n)] = true
		}
	}
	for _, r := range tpl.Roles {
		for _, n := range r.Options {
			known[strings.ToLower(n)] = true
		}
	}
	var keys []string
	for k := range req.Command.Options {
		if !known[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	var opts []string
	for _, r := range tpl.Roles {
		opts = append(opts, r.Options...)
	}
	for _, k := range []string{"template", "kind", "item", "round"} {
		opts = append(opts, commonOptions[k]...)
	}
	return bot.UsageError(req, "cosign.err.option", "option", strings.Join(keys, ", "), "options", strings.Join(opts, ", "))
}

// resolveParties fills each role of tpl: the body typed as the role's
// option, else the round's body of that kind, else the only body of that
// kind in the roster.
func (m *handler) resolveParties(req *bot.Request, tpl Template, rd *round.Round, it *progress.Item) ([]CosignParty, error) {
	r := req.Roster
	lang := req.Lang
	var out []CosignParty
	seen := map[string]string{}
	for _, role := range tpl.Roles {
		label := m.roleLabel(role.Key, role.Label, role.LabelEn, lang)
		var body bot.Body
		typed := req.Command.Opt(role.Options...)
		switch {
		case typed != "":
			b, ok := r.FindBody(typed, role.Kinds...)
			if !ok {
				return nil, bot.UsageError(req, "cosign.err.body", "name", typed, "role", label, "choices", m.bodyChoices(r, role.Kinds, lang))
			}
			body = b
		default:
			b, ok := roundBody(r, rd, role.Kinds)
			if !ok {
				b, ok = itemBody(r, it, role.Kinds)
			}
			if !ok {
				b, ok = onlyBody(r, role.Kinds)
			}
			if !ok {
				return nil, bot.UsageError(req, "cosign.err.missing_party", "role", label, "option", optionFor(role, lang), "choices", m.bodyChoices(r, role.Kinds, lang))
			}
			body = b
		}
		if other, dup := seen[body.ID]; dup {
			return nil, bot.UsageError(req, "cosign.err.same_body", "body", body.DisplayName(lang), "role", label, "other", other)
		}
		seen[body.ID] = label
		if len(r.Members(body.ID)) == 0 {
			return nil, bot.UsageError(req, "cosign.err.no_members", "body", body.DisplayName(lang))
		}
		out = append(out, CosignParty{Role: role.Key, Label: role.Label, LabelEn: role.LabelEn, Body: body.ID, State: PartyWaiting})
	}
	return out, nil
}

// roundBody returns the body of one of kinds that rd names: its team,
// the inspected organisation, or the first attached body.
func roundBody(r *bot.Roster, rd *round.Round, kinds []bot.PartyKind) (bot.Body, bool) {
	if rd == nil {
		return bot.Body{}, false
	}
	for _, id := range append([]string{rd.Team, rd.Organisation}, rd.Attached...) {
		if b, ok := r.Body(id); ok && slices.Contains(kinds, b.Kind) {
			return b, true
		}
	}
	return bot.Body{}, false
}

// itemBody returns the body of one of kinds that the item names: its
// responsible unit, or its only supervising body of those kinds.
func itemBody(r *bot.Roster, it *progress.Item, kinds []bot.PartyKind) (bot.Body, bool) {
	if it == nil {
		return bot.Body{}, false
	}
	if b, ok := r.Body(it.Unit); ok && slices.Contains(kinds, b.Kind) {
		return b, true
	}
	var found []bot.Body
	for _, id := range it.Supervisors {
		if b, ok := r.Body(id); ok && slices.Contains(kinds, b.Kind) {
			found = append(found, b)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return bot.Body{}, false
}

// onlyBody returns the roster's body of kinds when there is exactly one.
func onlyBody(r *bot.Roster, kinds []bot.PartyKind) (bot.Body, bool) {
	var found []bot.Body
	for _, k := range kinds {
		found = append(found, r.BodiesOf(k)...)
	}
	if len(found) == 1 {
		return found[0], true
	}
	return bot.Body{}, false
}

func (m *handler) bodyChoices(r *bot.Roster, kinds []bot.PartyKind, lang string) string {
	var names []string
	for _, k := range kinds {
		for _, b := range r.BodiesOf(k) {
			names = append(names, b.DisplayName(lang))
		}
	}
	if len(names) == 0 {
		return m.b.T(lang, "cosign.none")
	}
	return strings.Join(names, m.b.T(lang, "list.sep"))
}

func (m *handler) templateNames() string {
	var s []string
	for _, t := range m.templates {
		s = append(s, t.Name)
		s = append(s, t.Aliases...)
	}
	return strings.Join(s, ", ")
}

// auditParties is the audit detail of a request's parties: role=body.
func (m *handler) auditParties(c *Cosign) string {
	var s []string
	for _, p := range c.Parties {
		s = append(s, p.Role+"="+p.Body)
	}
	return fmt.Sprintf("template=%s subject=%s item=%s round=%s parties=%s", c.Template, c.Subject, c.Item, c.Round, strings.Join(s, ","))
}

// cardGroup returns the co-signature notice group (notices.cosign) when
// c may be shown there (Cosign.ShownTo with the bodies sitting in it),
// else "": then its cards and notices go to people directly.
func (m *handler) cardGroup(r *bot.Roster, c *Cosign) string {
	g := m.cfg.NoticeGroup("cosign")
	bodies := m.cfg.GroupBodies(g)
	if c.ShownTo(r, bodies) {
		return g
	}
	if person, body, found := c.Outsider(r, bodies); found {
		m.b.Log.Info("cosign: card not shown in the group, someone sitting there may not know of the request", "id", c.ID, "group", g, "person", person, "body", body)
	} else {
		m.b.Log.Info("cosign: card not shown in the group, it lists no bodies sitting there (groups.<key>.bodies)", "id", c.ID, "group", g)
	}
	return ""
}

// partyMembers are the members of c's parties' bodies, each once.
func partyMembers(r *bot.Roster, c *Cosign) []*bot.Person {
	var out []*bot.Person
	for _, p := range c.Parties {
		for _, person := range r.Members(p.Body) {
			if !slices.ContainsFunc(out, func(q *bot.Person) bool { return q.ID == person.ID }) {
				out = append(out, person)
			}
		}
	}
	return out
}

// postCard posts the request's card, decided for this request now: in
// the co-signature group when everyone sitting there may know of it
// (cardGroup), else by direct message to each member of each party, so
// that an organisation never sees another's request in a group it sits
// in. It keeps the message references on the record so later changes
// update every copy, and returns the group, or "" for direct messages.
func (m *handler) postCard(ctx context.Context, r *bot.Roster, c *Cosign) string {
	key := fmt.Sprintf("cosign-card:%s:%d", c.ID, c.Opens)
	group := m.cardGroup(r, c)
	if group == "" {
		var dms []CardDM
		for _, person := range partyMembers(r, c) {
			refs, err := m.b.Out.Notify(ctx, bot.Notice{PersonID: person.ID, Card: m.cardIn(r, c, m.b.People.LangOf(ctx, person)), Key: key})
			if err != nil {
				m.b.Log.Error("cosign: sending card failed", "id", c.ID, "person", person.ID, "err", err)
			}
			dms = append(dms, directMessages(person.ID, refs)...)
		}
		m.keepRefs(ctx, c, nil, dms)
		return ""
	}
	refs, err := m.b.Out.Notify(ctx, bot.Notice{Group: group, Card: m.card(r, c), Key: key})
	if err != nil {
		m.b.Log.Error("cosign: posting card failed", "id", c.ID, "err", err)
	}
	m.keepRefs(ctx, c, refs, nil)
	return group
}

// directMessages are the references of direct messages sent to person,
// delivered or waiting in the outbox.
func directMessages(person string, refs []bot.MessageRef) []CardDM {
	var out []CardDM
	for _, ref := range refs {
		if ref.ID != "" && ref.ChatID != "" || ref.Pending != "" {
			out = append(out, CardDM{Person: person, Message: ref})
		}
	}
	return out
}

// keepRefs records posted group cards and direct-message cards on c.
func (m *handler) keepRefs(ctx context.Context, c *Cosign, refs []bot.MessageRef, dms []CardDM) {
	if len(refs) == 0 && len(dms) == 0 {
		return
	}
	if _, err := update(ctx, m.b.Store, c.ID, func(cur *Cosign) error {
		for _, ref := range refs {
			if !slices.Contains(cur.Cards, ref) {
				cur.Cards = append(cur.Cards, ref)
			}
		}
		for _, dm := range dms {
			if !slices.Contains(cur.DMs, dm) {
				cur.DMs = append(cur.DMs, dm)
			}
		}
		return nil
	}); err != nil {
		m.b.Log.Error("cosign: keeping card references failed", "id", c.ID, "err", err)
		return
	}
	c.Cards = append(c.Cards, refs...)
	c.DMs = append(c.DMs, dms...)
}

// groupName is the display name of a notice group.
func (m *handler) groupName(key string) string {
	if g, ok := m.cfg.Groups[key]; ok && g.Name != "" {
		return g.Name
	}
	return key
}

// chatShows reports whether the chat req was typed in may read about c:
// a one-to-one chat with the bot, or a configured group where everyone
// sitting may know of c (Cosign.ShownTo). A group the configuration does
// not name may not.
func (m *handler) chatShows(req *bot.Request, c *Cosign) bool {
	if req.Direct || req.ChatID == "" {
		return true
	}
	for _, key := range m.b.People.Groups() {
		if m.b.People.Group(key)[req.Platform] == req.ChatID {
			return c.ShownTo(req.Roster, m.cfg.GroupBodies(key))
		}
	}
	return false
}

// answer returns resp where req was typed when that chat may read about
// c; otherwise it sends resp's replies to the person by direct message
// and answers in the chat with a line that names nothing, since some
// platforms show a command's answer to the whole group.
func (m *handler) answer(ctx context.Context, req *bot.Request, c *Cosign, resp *bot.Response) *bot.Response {
	if resp == nil || c == nil {
		return resp
	}
	return m.answerIf(ctx, req, m.chatShows(req, c), resp)
}

// answerIf is answer when whether the chat may read resp is known.
func (m *handler) answerIf(ctx context.Context, req *bot.Request, shows bool, resp *bot.Response) *bot.Response {
	if resp == nil || shows {
		return resp
	}
	sent := false
	for _, r := range resp.Replies {
		if r.Text == "" && r.Card == nil {
			continue
		}
		if _, err := m.b.Out.Notify(ctx, bot.Notice{PersonID: req.Person.ID, Text: r.Text, Card: r.Card, Files: r.Files}); err != nil {
			m.b.Log.Warn("cosign: direct answer failed", "person", req.Person.ID, "err", err)
			continue
		}
		sent = true
	}
	if !sent {
		return bot.Text(m.b.T(req.Lang, "cosign.dm_failed"))
	}
	return bot.Text(m.b.T(req.Lang, "cosign.sent_privately"))
}

// inChat wraps a sub-command that names a request in its first argument
// so that its answer reaches only the person when the chat it was typed
// in may not read about that request (see answer).
func (m *handler) inChat(run func(context.Context, *bot.Request) (*bot.Response, error)) func(context.Context, *bot.Request) (*bot.Response, error) {
	return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		resp, err := run(ctx, req)
		if err != nil || req.Direct || req.ChatID == "" || req.Command == nil {
			return resp, err
		}
		c, gerr := m.coll.Get(ctx, strings.ToUpper(strings.TrimSpace(req.Command.Arg(0))))
		if gerr != nil {
			return resp, nil // no such request: the answer names none
		}
		return m.answer(ctx, req, c, resp), nil
	}
}
