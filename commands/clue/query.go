package clue

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// show: the whole clue, with substance and history, for those entitled;
// a refusal, audited, for anyone else.
func (h *handler) show(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	c, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Entitled(req.Roster, req.Person) {
		return nil, h.b.Refuse(ctx, req, "clue.show", id, "clue.error.confidential", "id", id)
	}
	// Reads of confidential content leave a trace too.
	if err := h.b.Audit.Record(ctx, req, "clue.show", id, ""); err != nil {
		return nil, err
	}
	return h.privately(ctx, req, h.detailCard(req.Roster, req.Lang, c, c.Body != "" && req.Person.InBody(c.Body)))
}

// history: the audit entries of one clue, refusals included, for those
// entitled to the clue.
func (h *handler) history(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	c, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.Entitled(req.Roster, req.Person) {
		return nil, h.b.Refuse(ctx, req, "clue.history", id, "clue.error.confidential", "id", id)
	}
	if err := h.b.Audit.Record(ctx, req, "clue.history", id, ""); err != nil {
		return nil, err
	}
	entries, err := h.b.Audit.Of(ctx, id, bot.Range{})
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	var s strings.Builder
	for _, e := range entries {
		who := req.Roster.PersonName(e.Person, lang)
		if e.Person == "" {
			who = h.t(lang, "clue.scheduler")
		}
		action := e.Action
		if k := "clue.audit." + strings.TrimPrefix(e.Action, "clue."); h.b.Translator().Has(lang, k) {
			action = h.t(lang, k)
		}
		key := "clue.audit.line"
		if e.Result == bot.ResultRefused {
			key = "clue.audit.line_refused"
		}
		s.WriteString("\n• ")
		s.WriteString(h.t(lang, key, "time", bot.FormatTime(e.Time, h.b.Loc), "person", who, "action", action, "platform", h.b.People.PlatformName(lang, e.Platform)))
	}
	card := &bot.Card{
		Title: h.t(lang, "clue.audit.title", "id", id, "count", len(entries)),
		Color: bot.Grey,
		Text:  strings.TrimPrefix(s.String(), "\n"),
	}
	return h.privately(ctx, req, card)
}

// listFilter is what clue list selects.
type listFilter struct {
	mine, overdue, priority, open bool
	body                          string
	status                        ClueStatus
}

// statusWords maps typed status names to statuses.
var statusWords = map[string]ClueStatus{
	"transferred": ClueTransferred, "已移送": ClueTransferred, "待签收": ClueTransferred, "未签收": ClueTransferred,
	"acknowledged": ClueAcknowledged, "已签收": ClueAcknowledged, "签收": ClueAcknowledged,
	"verifying": ClueVerifying, "核查中": ClueVerifying, "核查": ClueVerifying,
	"concluded": ClueConcluded, "已办结": ClueConcluded, "办结": ClueConcluded,
	"returned": ClueReturned, "已退回": ClueReturned, "退回": ClueReturned,
}

// listBudget is how many index documents one page of clue list reads at
// most: a narrow filter over a long history shows what it found in that
// many and offers to go on.
const listBudget = 2000

// list: clue list [mine|我的] [overdue|逾期] [priority|优先] [open|在办] [<status>] [body:…|单位:…] [status:…|状态:…] [from:<id>|从:<id>]
//
// A page of the clues the reader may know of, newest first, read from
// the index of the parties entitled (whoKeys) — never a global page
// filtered — with the command that shows the next page.
func (h *handler) list(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	f, from, err := h.listFilter(req)
	if err != nil {
		return nil, err
	}
	src, err := openSource(ctx, h.b.Store)
	if err != nil {
		return nil, err
	}
	now := h.b.Now()
	pg, err := src.newest(ctx, f.prefixes(req.Roster, req.Person), from, maxListed, listBudget, func(c *Clue) bool {
		// Belt and braces: the prefixes hold only clues the reader may
		// know of.
		return mayKnow(req.Roster, req.Person, c) && f.match(c, req.Person, now, h.b.Loc)
	})
	if err != nil {
		return nil, err
	}
	if len(pg.rows) == 0 && pg.next == "" {
		return bot.Text(h.t(req.Lang, "clue.list.empty")), nil
	}
	return bot.Text(h.listText(req, pg.rows, pg.next, now)), nil
}

// listFilter reads the filter of a list command and the clue its page
// starts from ("" for the newest).
func (h *handler) listFilter(req *bot.Request) (f listFilter, from string, err error) {
	lang := req.Lang
	p := req.Command
	for k, v := range p.Options {
		switch k {
		case "body", "单位", "承办单位":
			b, ok := req.Roster.FindBody(v, ReceivingKinds...)
			if !ok {
				return f, "", bot.UsageError(req, "clue.error.no_receiver", "name", v, "bodies", joinNames(receivers(req.Roster), lang, h.t(lang, "list.sep")))
			}
			f.body = b.ID
		case "status", "状态":
			s, ok := statusWords[strings.ToLower(v)]
			if !ok {
				return f, "", bot.UsageError(req, "clue.error.bad_status", "input", v)
			}
			f.status = s
		case "from", "从":
			if !reID.MatchString(strings.TrimSpace(v)) {
				return f, "", bot.UsageError(req, "clue.error.bad_id", "input", v)
			}
			from = strings.ToUpper(strings.TrimSpace(v))
		default:
			return f, "", bot.UsageError(req, "clue.error.unknown_option", "option", k)
		}
	}
	for _, w := range p.Args {
		switch lw := strings.ToLower(w); lw {
		case "mine", "my", "我的":
			f.mine = true
		case "overdue", "逾期", "超期":
			f.overdue = true
		case "priority", "优先", "优先处置":
			f.priority = true
		case "open", "在办", "未办结":
			f.open = true
		default:
			if s, ok := statusWords[lw]; ok {
				f.status = s
				continue
			}
			return f, "", bot.UsageError(req, "clue.error.bad_filter", "input", w)
		}
	}
	return f, from, nil
}

// listText is a page of rows of clue list, with the command for the
// next page when there is one (next).
func (h *handler) listText(req *bot.Request, rows []*Clue, next string, now time.Time) string {
	lang := req.Lang
	var s strings.Builder
	if len(rows) == 0 { // nothing within the budget: say so, and go on
		s.WriteString(h.t(lang, "clue.list.empty"))
	} else {
		s.WriteString(h.t(lang, "clue.list.header", "count", len(rows)))
	}
	for _, c := range rows {
		s.WriteString("\n• ")
		s.WriteString(h.t(lang, "clue.list.row", "id", c.ID, "organisation", orgName(req.Roster, c, lang),
			"body", req.Roster.BodyName(c.Body, lang), "status", h.statusLabel(lang, c),
			"deadline", bot.FormatDate(c.Deadline, h.b.Loc)))
		if c.OverdueAt(now, h.b.Loc) {
			s.WriteString(h.t(lang, "clue.list.overdue"))
		}
		if c.Priority {
			s.WriteString(h.t(lang, "clue.list.priority"))
		}
		// Titles are confidential: only in a one-to-one chat, only to
		// those entitled.
		if req.Direct && c.Entitled(req.Roster, req.Person) {
			s.WriteString(h.t(lang, "clue.list.title", "title", c.Title))
		}
	}
	if next != "" {
		s.WriteString("\n" + h.t(lang, "clue.list.more", "filters", moreFilters(req.Command), "id", next))
	}
	return s.String()
}

// moreFilters repeats the filters of a list command for the command
// that shows its next page: the words, then the options but from.
func moreFilters(p *bot.Parsed) string {
	var parts []string
	parts = append(parts, p.Args...)
	keys := make([]string, 0, len(p.Options))
	for k := range p.Options {
		if k != "from" && k != "从" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		parts = append(parts, k+":"+p.Options[k])
	}
	if len(parts) == 0 {
		return ""
	}
	return " " + strings.Join(parts, " ")
}

// prefixes are the index prefixes a list reads for p: the offices'
// index of every clue (or, with a receiving body, that body's), or the
// indexes of p's bodies and of p as the transferring person — open clues
// only when the filter wants only open ones.
func (f listFilter) prefixes(r *bot.Roster, p *bot.Person) []string {
	scope := "a"
	if f.open || f.overdue || (f.status != "" && !f.status.Closed()) {
		scope = "o"
	}
	var whos []string
	switch {
	case !f.mine && seesAll(r, p) && f.body != "":
		whos = []string{whoReceiver + f.body}
	case !f.mine && seesAll(r, p):
		whos = []string{whoAll}
	default:
		for _, b := range p.Bodies {
			whos = append(whos, whoReceiver+b, whoBody+b)
		}
		whos = append(whos, whoPerson+p.ID)
	}
	out := make([]string, 0, len(whos))
	for _, w := range whos {
		out = append(out, scope+"\x00"+w+"\x00")
	}
	return out
}

// seesAll reports whether p may know of every clue: the inspection
// office (entitled to all) and the case office (its ledger).
func seesAll(r *bot.Roster, p *bot.Person) bool {
	for _, id := range p.Bodies {
		if b, ok := r.Body(id); ok && (b.Kind == bot.InspectionOffice || b.Kind == bot.CaseOffice) {
			return true
		}
	}
	return false
}

// mayKnow reports whether p may know that the clue exists: those
// entitled to it, and the case office, which keeps the central ledger of
// every clue (without its substance).
func mayKnow(r *bot.Roster, p *bot.Person, c *Clue) bool {
	if c.Entitled(r, p) {
		return true
	}
	for _, id := range p.Bodies {
		if b, ok := r.Body(id); ok && b.Kind == bot.CaseOffice {
			return true
		}
	}
	return false
}

func (f listFilter) match(c *Clue, p *bot.Person, now time.Time, loc *time.Location) bool {
	switch {
	case f.mine && !(c.CreatedBy == p.ID || p.InBody(c.Body) || (c.FromBody != "" && p.InBody(c.FromBody)) || slices.ContainsFunc(c.Joint, p.InBody)):
		return false
	case f.overdue && !c.OverdueAt(now, loc):
		return false
	case f.priority && !c.Priority:
		return false
	case f.open && !c.Open():
		return false
	case f.body != "" && c.Body != f.body:
		return false
	case f.status != "" && c.Status != f.status:
		return false
	}
	return true
}
