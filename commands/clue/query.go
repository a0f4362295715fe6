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
	if err := h.b.Audit(ctx, req, "clue.show", id, ""); err != nil {
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
	if err := h.b.Audit(ctx, req, "clue.history", id, ""); err != nil {
		return nil, err
	}
	entries, err := h.b.AuditOf(ctx, id, bot.Range{})
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
		s.WriteString(h.t(lang, key, "time", bot.FormatTime(e.Time, h.b.Loc), "person", who, "action", action, "platform", h.b.PlatformName(lang, e.Platform)))
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

// list: clue list [mine|我的] [overdue|逾期] [priority|优先] [open|在办] [<status>] [body:…|单位:…] [status:…|状态:…]
func (h *handler) list(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	lang := req.Lang
	p := req.Command
	var f listFilter
	for k, v := range p.Options {
		switch k {
		case "body", "单位", "承办单位":
			b, ok := req.Roster.FindBody(v, ReceivingKinds...)
			if !ok {
				return nil, bot.UsageError(req, "clue.error.no_receiver", "name", v, "bodies", joinNames(receivers(req.Roster), lang, h.t(lang, "list.sep")))
			}
			f.body = b.ID
		case "status", "状态":
			s, ok := statusWords[strings.ToLower(v)]
			if !ok {
				return nil, bot.UsageError(req, "clue.error.bad_status", "input", v)
			}
			f.status = s
		default:
			return nil, bot.UsageError(req, "clue.error.unknown_option", "option", k)
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
			return nil, bot.UsageError(req, "clue.error.bad_filter", "input", w)
		}
	}
	all, err := h.clues.List(ctx)
	if err != nil {
		return nil, err
	}
	now := h.b.Now()
	var rows []*Clue
	for _, c := range all {
		// A clue the reader may not know of is left out without a trace:
		// no row, no count.
		if mayKnow(req.Roster, req.Person, c) && f.match(c, req.Person, now, h.b.Loc) {
			rows = append(rows, c)
		}
	}
	if len(rows) == 0 {
		return bot.Text(h.t(lang, "clue.list.empty")), nil
	}
	var s strings.Builder
	s.WriteString(h.t(lang, "clue.list.header", "count", len(rows)))
	for i, c := range rows {
		if i == maxListed {
			s.WriteString("\n" + h.t(lang, "clue.list.more", "count", len(rows)-maxListed))
			break
		}
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
	return bot.Text(s.String()), nil
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
