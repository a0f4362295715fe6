// Package assess is the assessment figures (督查推进机制, 纳入考核) and the
// special report to the district committee (专报): for a month, a quarter
// or a year, per supervising body and per responsible unit, the clues
// acknowledged or concluded late, the progress reports missing, the
// co-signatures left unsigned past their reminder, the relay checks not
// recorded and the meetings missed — each figure a count of records it
// can be drilled down to, exported as XLSX; and a Markdown draft of the
// problems and shortcomings of the collaboration, drawn from the figures
// and the escalations, sent only to the district committee's contacts.
package assess

import (
	"context"
	"fmt"
	"strings"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/internal/sheet"
)

// ActionSend is the button that sends a special report draft; value: ZB id.
const ActionSend = "report.send"

const (
	maxDetail = 100 // records listed by a drill-down
	xlsxMIME  = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mdMIME    = "text/markdown; charset=utf-8"
)

var (
	optDetail = []string{"detail", "明细"}
	optBody   = []string{"body", "单位"}
	optNote   = []string{"note", "备注"}
	exportW   = []string{"export", "导出", "xlsx"}
)

type handler struct {
	b       *bot.Bot
	cfg     *config.Config
	reports bot.Collection[SpecialReport]
}

// Module is the assessment domain: the assess command (考核) and the
// report command (专报). It has no settings of its own: the figures use
// the clue domain's reminder times and the meeting domain's invitees.
func Module() config.Module {
	return config.Module{Name: "assess", Setup: setup}
}

func setup(b *bot.Bot, cfg *config.Config) error {
	if b == nil || cfg == nil {
		return fmt.Errorf("assess: a bot and a configuration are required")
	}
	if err := b.AddTexts(texts, textsDir); err != nil {
		return err
	}
	h := &handler{b: b, cfg: cfg, reports: bot.Records[SpecialReport](b.Store, CollReports)}
	return b.Router.Register(h.assessCommand(), h.reportCommand())
}

func (h *handler) assessCommand() *bot.Command {
	return &bot.Command{
		Name:    "assess",
		Aliases: []string{"考核", "督查推进"},
		Allow:   bot.Kinds(bot.InspectionOffice, bot.DistrictCommittee),
		Run:     h.assess,
	}
}

func (h *handler) t(lang, key string, args ...any) string { return h.b.T(lang, key, args...) }

func containsFold(list []string, w string) bool {
	for _, s := range list {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

// period reads the period word (the current month when none).
func (h *handler) period(req *bot.Request, word string) (Period, error) {
	if word == "" {
		return MonthPeriod(h.b.Now(), h.b.Loc), nil
	}
	p, ok := ParsePeriod(word, h.b.Loc)
	if !ok {
		return Period{}, bot.UsageError(req, "assess.error.bad_period", "input", word)
	}
	return p, nil
}

// assess: assess [period] [export] [detail:<figure> [body:…]]
func (h *handler) assess(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	p := req.Command
	lang := req.Lang
	for k := range p.Options {
		if !containsFold(optDetail, k) && !containsFold(optBody, k) {
			return nil, bot.UsageError(req, "assess.error.unknown_option", "option", k)
		}
	}
	var word string
	export := false
	for _, w := range p.Args {
		switch {
		case containsFold(exportW, w):
			export = true
		case word == "":
			word = w
		default:
			return nil, bot.UsageError(req, "assess.error.extra_args", "input", w)
		}
	}
	per, err := h.period(req, word)
	if err != nil {
		return nil, err
	}
	figure := ""
	if s := p.Opt(optDetail...); s != "" {
		f, ok := ParseFigure(s)
		if !ok {
			return nil, bot.UsageError(req, "assess.error.bad_figure", "input", s, "figures", h.figureList(lang))
		}
		figure = f
	}
	body := ""
	if s := p.Opt(optBody...); s != "" {
		bd, ok := req.Roster.FindBody(s)
		if !ok {
			return nil, bot.UsageError(req, "assess.error.unknown_body", "input", s)
		}
		body = bd.ID
	}
	if body != "" && figure == "" && !export {
		return nil, bot.UsageError(req, "assess.error.body_needs_detail")
	}
	a, err := Compute(ctx, h.b, h.cfg, per, h.b.Now())
	if err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "assess.show", per.Label, fmt.Sprintf("detail=%s body=%s export=%t records=%d", figure, body, export, len(a.Records))); err != nil {
		return nil, err
	}
	var replies []bot.Reply
	if figure != "" {
		replies = append(replies, bot.Reply{Text: h.detail(req.Roster, a, figure, body, lang)})
	} else {
		replies = append(replies, bot.Reply{Card: h.card(req.Roster, a, lang)})
	}
	if export {
		data, err := XLSX(h.b, req.Roster, a, lang)
		if err != nil {
			return nil, err
		}
		replies = append(replies, bot.Reply{
			Text:  h.t(lang, "assess.export.done", "period", per.Label),
			Files: []bot.File{{Name: h.t(lang, "assess.export.file", "period", per.Label), MIME: xlsxMIME, Data: data}},
		})
	}
	return &bot.Response{Replies: replies}, nil
}

func (h *handler) figureList(lang string) string {
	var s []string
	for _, f := range Figures {
		word := figureNames[f][2]
		if bot.IsEnglish(lang) {
			word = figureNames[f][1]
		}
		name := h.t(lang, "assess.figure."+f)
		if name == word {
			s = append(s, name)
			continue
		}
		s = append(s, h.t(lang, "assess.figure_choice", "figure", name, "word", word))
	}
	return strings.Join(s, h.t(lang, "list.sep"))
}

func (h *handler) periodText(a *Assessment, lang string) string {
	return h.t(lang, "assess.period", "label", a.Period.Label, "from", bot.FormatDate(a.Period.From, h.b.Loc),
		"to", bot.FormatDate(a.Period.To.AddDate(0, 0, -1), h.b.Loc), "asof", bot.FormatTime(a.AsOf, h.b.Loc))
}

// card shows the totals and the bodies with a figure.
func (h *handler) card(r *bot.Roster, a *Assessment, lang string) *bot.Card {
	card := &bot.Card{Title: h.t(lang, "assess.card.title", "period", a.Period.Label), Color: bot.Blue}
	lines := []string{h.periodText(a, lang)}
	flagged := 0
	for _, body := range a.Rows {
		var parts []string
		for _, f := range Figures {
			if n := a.Count(f, body); n > 0 {
				parts = append(parts, h.t(lang, "assess.part", "figure", h.t(lang, "assess.figure."+f), "count", n))
			}
		}
		if len(parts) > 0 {
			flagged++
			lines = append(lines, "• "+h.t(lang, "assess.row", "body", r.BodyName(body, lang), "parts", strings.Join(parts, h.t(lang, "list.sep"))))
		}
	}
	if flagged == 0 {
		lines = append(lines, h.t(lang, "assess.clean"))
		card.Color = bot.Green
	} else {
		card.Color = bot.Orange
	}
	card.Text = strings.Join(lines, "\n")
	for _, f := range Figures {
		card.Fields = append(card.Fields, bot.Field{Label: h.t(lang, "assess.figure."+f), Value: fmt.Sprint(a.Total(f))})
	}
	card.Fields = append(card.Fields, bot.Field{Label: h.t(lang, "assess.field.escalations"), Value: fmt.Sprint(len(a.Escalations))})
	card.Note = h.t(lang, "assess.card.note", "period", a.Period.Label)
	return card
}

// detail lists the records behind one figure.
func (h *handler) detail(r *bot.Roster, a *Assessment, figure, body, lang string) string {
	recs := a.Behind(figure, body)
	who := h.t(lang, "assess.all_bodies")
	if body != "" {
		who = r.BodyName(body, lang)
	}
	var s strings.Builder
	s.WriteString(h.t(lang, "assess.detail.header", "figure", h.t(lang, "assess.figure."+figure), "body", who, "period", a.Period.Label, "count", len(recs)))
	s.WriteString("\n" + h.t(lang, "assess.explain."+figure))
	for i, rec := range recs {
		if i == maxDetail {
			s.WriteString("\n" + h.t(lang, "assess.detail.more", "count", len(recs)-maxDetail))
			break
		}
		s.WriteString("\n• " + h.t(lang, "assess.detail.line", "id", rec.ID, "body", r.BodyName(rec.Body, lang), "time", bot.FormatTime(rec.At, h.b.Loc), "detail", Describe(h.b, lang, rec)))
	}
	return s.String()
}

// XLSX renders the assessment as a workbook of three tables, one sheet
// each: the figures per body with a total row, every record behind them,
// and the period the figures cover. Each sheet prints the period as its
// page header.
func XLSX(b *bot.Bot, r *bot.Roster, a *Assessment, lang string) ([]byte, error) {
	last := a.Period.To.AddDate(0, 0, -1)
	title := b.T(lang, "assess.sheet.title", "period", a.Period.Label, "from", bot.FormatDate(a.Period.From, b.Loc), "to", bot.FormatDate(last, b.Loc), "asof", bot.FormatTime(a.AsOf, b.Loc))
	figures := sheet.Table{Name: b.T(lang, "assess.sheet.figures"), Header: []string{b.T(lang, "assess.col.body")}, PrintHeader: title}
	for _, fig := range Figures {
		figures.Header = append(figures.Header, b.T(lang, "assess.figure."+fig))
	}
	figures.Header = append(figures.Header, b.T(lang, "assess.col.total"))
	for _, body := range append(append([]string(nil), a.Rows...), "") {
		name := r.BodyName(body, lang)
		if body == "" {
			name = b.T(lang, "assess.col.total")
		}
		row := []any{name}
		total := 0
		for _, fig := range Figures {
			n := a.Count(fig, body)
			total += n
			row = append(row, n)
		}
		figures.Rows = append(figures.Rows, append(row, total))
	}
	records := sheet.Table{
		Name:        b.T(lang, "assess.sheet.records"),
		Header:      []string{b.T(lang, "assess.col.figure"), b.T(lang, "assess.col.body"), b.T(lang, "assess.col.record"), b.T(lang, "assess.col.time"), b.T(lang, "assess.col.detail")},
		PrintHeader: title,
	}
	for _, x := range a.Records {
		records.Rows = append(records.Rows, []any{b.T(lang, "assess.figure."+x.Figure), r.BodyName(x.Body, lang), x.ID, sheet.DateTime(x.At), Describe(b, lang, x)})
	}
	period := sheet.Table{
		Name:        b.T(lang, "assess.sheet.period"),
		Header:      []string{b.T(lang, "assess.col.period"), b.T(lang, "assess.col.from"), b.T(lang, "assess.col.to"), b.T(lang, "assess.col.asof")},
		Rows:        [][]any{{a.Period.Label, sheet.Date(a.Period.From), sheet.Date(last), sheet.DateTime(a.AsOf)}},
		PrintHeader: title,
	}
	return sheet.Write(b.Loc, figures, records, period)
}
