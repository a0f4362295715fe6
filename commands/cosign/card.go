package cosign

import (
	"context"
	"slices"
	"strings"

	"github.com/xunji-bot/xunji/bot"
)

// card renders a request as the group card, in the deployment language:
// one line per party, the signing buttons while it is open.
func (m *handler) card(r *bot.Roster, c *Cosign) *bot.Card { return m.cardIn(r, c, m.b.Lang) }

// cardIn renders the request's card in lang (a direct message's reader's).
func (m *handler) cardIn(r *bot.Roster, c *Cosign, lang string) *bot.Card {
	t := func(key string, args ...any) string { return m.b.T(lang, key, args...) }
	card := &bot.Card{Title: t("cosign.card.title", "title", m.title(c, lang), "id", c.ID)}
	text := []string{t("cosign.card.subject", "subject", t("cosign.subject."+c.Subject), "description", m.describe(c, lang))}
	text = append(text, m.refs(c, lang)...)
	if c.Order == OrderSequential {
		text = append(text, t("cosign.card.sequential"))
	}
	text = append(text, m.stateLine(c, lang))
	card.Text = strings.Join(text, "\n")
	for i, p := range c.Parties {
		card.Fields = append(card.Fields, bot.Field{Label: m.partyName(r, p, lang), Value: m.partyState(r, c, i, lang, true)})
	}
	switch c.State {
	case CosignOpen:
		card.Color = bot.Blue
		card.Buttons = []bot.Button{
			{Label: t("cosign.button.sign"), Action: ActionSign, Value: c.ID, Style: "primary"},
			{Label: t("cosign.button.decline"), Action: ActionDecline, Value: c.ID, Style: "danger", Prompt: t("cosign.decline.prompt")},
		}
	case CosignComplete:
		card.Color = bot.Green
	case CosignDeclined:
		card.Color = bot.Red
		card.Buttons = []bot.Button{{Label: t("cosign.button.reopen"), Action: ActionReopen, Value: c.ID}}
	default:
		card.Color = bot.Grey
	}
	note := []string{t("cosign.card.note", "creator", m.personName(r, c.CreatedBy, lang), "time", bot.FormatTime(c.CreatedAt, m.b.Loc))}
	if c.Handover != nil {
		note = append(note, t("cosign.handover", "body", m.bodyName(r, c.Handover.To, lang), "date", bot.FormatDate(c.Handover.Date, m.b.Loc)))
	}
	card.Note = strings.Join(note, "\n")
	return card
}

// refs are the lines naming the item and the round a request refers to.
func (m *handler) refs(c *Cosign, lang string) []string {
	var out []string
	if c.Item != "" {
		out = append(out, m.b.T(lang, "cosign.card.item", "item", m.itemLabel(c, lang)))
	}
	if c.Round != "" {
		out = append(out, m.b.T(lang, "cosign.card.round", "round", c.Round))
	}
	return out
}

// stateLine says where the request stands.
func (m *handler) stateLine(c *Cosign, lang string) string {
	return m.b.T(lang, "cosign.card.state."+c.State, "done", c.Confirmed(), "total", len(c.Parties), "time", bot.FormatTime(c.CompletedAt, m.b.Loc))
}

// partyState is one party's line: waiting (with its members mentioned
// when mention is set), confirmed by whom and when, or declined with the
// reason.
func (m *handler) partyState(r *bot.Roster, c *Cosign, i int, lang string, mention bool) string {
	p := c.Parties[i]
	switch p.State {
	case PartyConfirmed:
		return m.b.T(lang, "cosign.party.confirmed", "person", m.personName(r, p.By, lang), "time", bot.FormatTime(p.At, m.b.Loc))
	case PartyDeclined:
		return m.b.T(lang, "cosign.party.declined", "person", m.personName(r, p.By, lang), "time", bot.FormatTime(p.At, m.b.Loc), "reason", p.Reason)
	}
	if c.State != CosignOpen {
		return m.b.T(lang, "cosign.party.unsigned")
	}
	var members []string
	for _, person := range r.Members(p.Body) {
		if mention {
			members = append(members, bot.MentionTag(person))
		} else {
			members = append(members, person.DisplayName(lang))
		}
	}
	who := strings.Join(members, " ")
	if !mention {
		who = strings.Join(members, m.b.T(lang, "list.sep"))
	}
	if c.CanSign(i) {
		return m.b.T(lang, "cosign.party.waiting", "members", who)
	}
	return m.b.T(lang, "cosign.party.queued", "members", who)
}

// title names the request's template.
func (m *handler) title(c *Cosign, lang string) string {
	return m.templateTitle(c.Template, c.Title, c.TitleEn, lang)
}

func (m *handler) templateTitle(name, zh, en, lang string) string {
	switch {
	case bot.IsEnglish(lang) && en != "":
		return en
	case zh != "":
		return zh
	case m.b.Translator().Has(lang, "cosign.template."+name):
		return m.b.T(lang, "cosign.template."+name)
	}
	return name
}

// roleLabel names a role: the template's label, or the catalog's for a
// built-in role, or its key.
func (m *handler) roleLabel(key, zh, en, lang string) string {
	switch {
	case bot.IsEnglish(lang) && en != "":
		return en
	case zh != "":
		return zh
	case m.b.Translator().Has(lang, "cosign.role."+key):
		return m.b.T(lang, "cosign.role."+key)
	}
	return key
}

// partyName is "role: body".
func (m *handler) partyName(r *bot.Roster, p CosignParty, lang string) string {
	return m.b.T(lang, "cosign.party.name", "role", m.roleLabel(p.Role, p.Label, p.LabelEn, lang), "body", m.bodyName(r, p.Body, lang))
}

func (m *handler) partyList(r *bot.Roster, c *Cosign, lang string) string {
	var s []string
	for _, p := range c.Parties {
		s = append(s, "• "+m.partyName(r, p, lang))
	}
	return strings.Join(s, "\n")
}

func (m *handler) bodyName(r *bot.Roster, id, lang string) string { return r.BodyName(id, lang) }

func (m *handler) personName(r *bot.Roster, id, lang string) string {
	if id == "" {
		return m.b.T(lang, "cosign.scheduler")
	}
	return r.PersonName(id, lang)
}

// describe is the request's description, or its item when it has none.
func (m *handler) describe(c *Cosign, lang string) string {
	if c.Description != "" {
		return c.Description
	}
	return m.itemLabel(c, lang)
}

// itemLabel names the request's rectification item by its title and id.
func (m *handler) itemLabel(c *Cosign, lang string) string {
	if c.ItemTitle == "" {
		return c.Item
	}
	return m.b.T(lang, "cosign.item_label", "title", c.ItemTitle, "id", c.Item)
}

// show handles "cosign show QZ-…": the request, its parties and its full
// history, including refused attempts from the audit log.
func (m *handler) show(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	c, err := m.load(ctx, req, req.Command.Arg(0))
	if err != nil {
		return nil, err
	}
	lang, r := req.Lang, req.Roster
	t := func(key string, args ...any) string { return m.b.T(lang, key, args...) }
	s := []string{t("cosign.show.header", "title", m.title(c, lang), "id", c.ID)}
	s = append(s, t("cosign.card.subject", "subject", t("cosign.subject."+c.Subject), "description", m.describe(c, lang)))
	s = append(s, m.refs(c, lang)...)
	s = append(s, t("cosign.show.order", "order", t("cosign.order."+c.Order)))
	s = append(s, m.stateLine(c, lang))
	s = append(s, t("cosign.show.parties"))
	for i, p := range c.Parties {
		s = append(s, "• "+m.partyName(r, p, lang)+" — "+m.partyState(r, c, i, lang, false))
	}
	if c.Handover != nil {
		s = append(s, t("cosign.handover", "body", m.bodyName(r, c.Handover.To, lang), "date", bot.FormatDate(c.Handover.Date, m.b.Loc)))
	}
	s = append(s, t("cosign.card.note", "creator", m.personName(r, c.CreatedBy, lang), "time", bot.FormatTime(c.CreatedAt, m.b.Loc)))

	type line struct {
		at   int64
		text string
	}
	var lines []line
	for _, e := range c.History {
		party := ""
		if i := c.PartyOf(e.Body); i >= 0 && e.Action != "handover" {
			party = m.partyName(r, c.Parties[i], lang)
		} else if e.Body != "" {
			party = m.bodyName(r, e.Body, lang)
		}
		text := t("cosign.event."+e.Action, "person", m.personName(r, e.Person, lang), "party", party)
		if e.Note != "" {
			text += t("cosign.event.note", "note", e.Note)
		}
		lines = append(lines, line{e.Time.UnixNano(), bot.FormatTime(e.Time, m.b.Loc) + " " + text})
	}
	entries, err := m.b.Audit.Of(ctx, c.ID, bot.Range{})
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.Result != bot.ResultRefused {
			continue
		}
		what := strings.TrimPrefix(e.Action, "cosign.")
		text := t("cosign.event.refused", "person", m.personName(r, e.Person, lang), "action", t("cosign.action."+what), "reason", m.reason(e.Detail, lang))
		lines = append(lines, line{e.Time.UnixNano(), bot.FormatTime(e.Time, m.b.Loc) + " " + text})
	}
	slices.SortStableFunc(lines, func(a, b line) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	s = append(s, t("cosign.show.history", "count", len(lines)))
	for _, l := range lines {
		s = append(s, l.text)
	}
	resp := bot.Text(strings.Join(s, "\n"))
	if c.State == CosignOpen {
		// The card with its buttons, so the request can be signed from
		// here too (a card posted long ago is hard to find in a group).
		resp.Replies = append(resp.Replies, bot.Reply{Card: m.card(r, c)})
	}
	return resp, nil
}

// reason renders the audit detail of a refusal.
func (m *handler) reason(detail, lang string) string {
	if m.b.Translator().Has(lang, "cosign.reason."+detail) {
		return m.b.T(lang, "cosign.reason."+detail)
	}
	return detail
}

// listPage is how many requests one page of "cosign list" shows.
const listPage = 30

// list handles "cosign list [all] [from:QZ-…]": open and declined
// requests, or all, newest first, a page at a time; the option from
// continues after the last request of the page before. The inspection
// office sees every request; anyone else only those it may know of
// (Cosign.Visible), read from its own index entries (see VisibleTo).
func (m *handler) list(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	all := false
	switch w := strings.ToLower(req.Command.Arg(0)); w {
	case "":
	case "all", "全部":
		all = true
	default:
		return nil, bot.UsageError(req, "cosign.err.list", "word", w)
	}
	after := strings.ToUpper(req.Command.Opt("from", "从"))
	cs, next, err := NewQueries(m.b.Store).VisibleTo(ctx, req.Roster, req.Person, all, after, listPage)
	if err != nil {
		return nil, err
	}
	lang, r := req.Lang, req.Roster
	now := m.b.Now()
	// The list goes to the person directly when the chat it was typed in
	// may not read about every request on it.
	shows := true
	for _, c := range cs {
		shows = shows && m.chatShows(req, c)
	}
	var s []string
	for _, c := range cs {
		var waiting []string
		for _, i := range c.Waiting() {
			name := m.bodyName(r, c.Parties[i].Body, lang)
			if slices.Contains(c.Overdue(now), i) {
				name = m.b.T(lang, "cosign.list.overdue", "body", name)
			}
			waiting = append(waiting, name)
		}
		line := m.b.T(lang, "cosign.list.line", "id", c.ID, "title", m.title(c, lang), "description", m.describe(c, lang), "state", m.stateLine(c, lang))
		if len(waiting) > 0 {
			line += m.b.T(lang, "cosign.list.waiting", "bodies", strings.Join(waiting, m.b.T(lang, "list.sep")))
		}
		s = append(s, "• "+line)
	}
	if len(s) == 0 && next == "" {
		switch {
		case after != "":
			return bot.Text(m.b.T(lang, "cosign.list.end")), nil
		case r.HasKind(req.Person, bot.InspectionOffice):
			return bot.Text(m.b.T(lang, "cosign.list.empty")), nil
		}
		if all {
			return bot.Text(m.b.T(lang, "cosign.list.empty_mine_all")), nil
		}
		return bot.Text(m.b.T(lang, "cosign.list.empty_mine")), nil
	}
	text := m.b.T(lang, "cosign.list.header", "count", len(s))
	if len(s) > 0 {
		text += "\n" + strings.Join(s, "\n")
	}
	if next != "" {
		key := "cosign.list.more"
		if all {
			key = "cosign.list.more_all"
		}
		text += "\n" + m.b.T(lang, key, "id", next)
	}
	return m.answerIf(ctx, req, shows, bot.Text(text)), nil
}

// templatesCmd handles "cosign templates": the configured templates.
func (m *handler) templatesCmd(_ context.Context, req *bot.Request) (*bot.Response, error) {
	lang := req.Lang
	s := []string{m.b.T(lang, "cosign.templates.header")}
	for _, tpl := range m.templates {
		var roles, subjects []string
		for _, role := range tpl.Roles {
			roles = append(roles, m.b.T(lang, "cosign.templates.role", "role", m.roleLabel(role.Key, role.Label, role.LabelEn, lang), "option", optionFor(role, lang)))
		}
		for _, k := range tpl.Subjects {
			subjects = append(subjects, m.b.T(lang, "cosign.subject."+k))
		}
		s = append(s, m.b.T(lang, "cosign.templates.line",
			"name", tpl.Name, "aliases", strings.Join(tpl.Aliases, m.b.T(lang, "list.sep")),
			"title", m.templateTitle(tpl.Name, tpl.Title, tpl.TitleEn, lang),
			"roles", strings.Join(roles, m.b.T(lang, "list.sep")),
			"order", m.b.T(lang, "cosign.order."+tpl.Order),
			"subjects", strings.Join(subjects, m.b.T(lang, "list.sep"))))
	}
	return bot.Text(strings.Join(s, "\n")), nil
}

// optionFor is the option name to show for role: the English one (the
// first) in English, the Chinese one (the last) otherwise.
func optionFor(role Role, lang string) string {
	if bot.IsEnglish(lang) {
		return role.Options[0]
	}
	return role.Options[len(role.Options)-1]
}
