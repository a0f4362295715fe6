package assess

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

var reReportID = regexp.MustCompile(`^(?i)ZB-\d{4}-\d{4,}$`)

// maxIDs bounds the record ids listed per body in the report's tables.
const maxIDs = 20

const maxNoteLen = 2000 // runes

func (h *handler) reportCommand() *bot.Command {
	office := bot.Kinds(bot.InspectionOffice)
	return &bot.Command{
		Name:    "report",
		Aliases: []string{"专报"},
		Default: "special",
		Allow:   office,
		Subs: []*bot.Subcommand{
			{Name: "special", Aliases: []string{"专报", "起草"}, Run: h.draft},
			{Name: "list", Aliases: []string{"列表", "清单"}, Run: h.listCmd},
			{Name: "show", Aliases: []string{"查看"}, Run: h.showCmd},
			{Name: "upload", Aliases: []string{"上传", "定稿"}, Run: h.uploadCmd, Files: true},
			{Name: "send", Aliases: []string{"发送", "报送"}, Run: h.sendCmd},
		},
		Actions: []*bot.Action{{ID: ActionSend, Allow: office, Run: h.sendButton}},
	}
}

// draft: report special <period> [note:"…"] drafts the special report as
// a Markdown document for the office to edit and send.
func (h *handler) draft(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	p := req.Command
	lang := req.Lang
	for k := range p.Options {
		if !containsFold(optNote, k) {
			return nil, bot.UsageError(req, "assess.error.unknown_option", "option", k)
		}
	}
	if len(p.Args) > 1 {
		return nil, bot.UsageError(req, "assess.error.extra_args", "input", p.Rest(1))
	}
	per, err := h.period(req, p.Arg(0))
	if err != nil {
		return nil, err
	}
	note := strings.TrimSpace(p.Opt(optNote...))
	if len([]rune(note)) > maxNoteLen {
		return nil, bot.UsageError(req, "assess.error.too_long", "max", maxNoteLen)
	}
	now := h.b.Now()
	a, err := Compute(ctx, h.b, h.cfg, per, now)
	if err != nil {
		return nil, err
	}
	id, err := bot.NewID(ctx, h.b.Store, PrefixReport, now.In(h.b.Loc).Year())
	if err != nil {
		return nil, err
	}
	r := req.Roster
	rep := &SpecialReport{
		ID: id, Period: per.Label, From: per.From, To: per.To,
		Markdown:  Markdown(h.b, r, a, h.b.Lang, id, req.Person, note, now),
		Summary:   h.summary(a, h.b.Lang, id),
		CreatedBy: req.Person.ID, CreatedAt: now,
	}
	if err := h.reports.Create(ctx, id, rep); err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "report.draft", id, fmt.Sprintf("period=%s records=%d escalations=%d", per.Label, len(a.Records), len(a.Escalations))); err != nil {
		return nil, err
	}
	card := &bot.Card{
		Title:   h.t(lang, "report.card.title", "id", id, "period", PeriodName(lang, per.Label)),
		Color:   bot.Blue,
		Text:    h.summary(a, lang, id) + "\n\n" + h.t(lang, "report.card.how", "id", id),
		Buttons: []bot.Button{{Label: h.t(lang, "report.button.send"), Action: ActionSend, Value: id, Style: "primary"}},
	}
	return &bot.Response{Replies: []bot.Reply{{Card: card, Files: []bot.File{h.file(rep)}}}}, nil
}

// file is the report's document as it stands: the uploaded edit when
// there is one, else the draft.
func (h *handler) file(rep *SpecialReport) bot.File {
	return bot.File{Name: h.t(h.b.Lang, "report.file", "period", PeriodName(h.b.Lang, rep.Period), "id", rep.ID), MIME: mdMIME, Data: []byte(rep.Final())}
}

// summary is the chat text that goes with the document.
func (h *handler) summary(a *Assessment, lang, id string) string {
	var parts []string
	total := 0
	for _, f := range Figures {
		n := a.Total(f)
		total += n
		if n > 0 {
			parts = append(parts, h.t(lang, "assess.part", "figure", h.t(lang, "assess.figure."+f), "count", n))
		}
	}
	if total == 0 {
		return h.t(lang, "report.summary.clean", "id", id, "period", PeriodName(lang, a.Period.Label), "escalations", len(a.Escalations))
	}
	return h.t(lang, "report.summary", "id", id, "period", PeriodName(lang, a.Period.Label), "total", total,
		"parts", strings.Join(parts, h.t(lang, "list.sep")), "escalations", len(a.Escalations))
}

var zhNumerals = []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

func numeral(lang string, i int) string {
	if !bot.IsEnglish(lang) && i < len(zhNumerals) {
		return zhNumerals[i]
	}
	return fmt.Sprint(i + 1)
}

// Markdown drafts the special report (专报) of a in lang: the overview, one
// section per figure with a table of the bodies and the records behind
// their counts, the escalations of the period, and the office's
// suggestions (note, or a placeholder to fill in).
func Markdown(b *bot.Bot, r *bot.Roster, a *Assessment, lang, id string, author *bot.Person, note string, date time.Time) string {
	d := &draft{b: b, r: r, a: a, lang: lang}
	d.header(id, author, date)
	d.overview()
	d.line("## " + d.t("report.md.h_problems"))
	d.line("")
	for i, f := range Figures {
		d.figure(i, f)
	}
	d.escalations()
	d.line("## " + d.t("report.md.h_next"))
	d.line("")
	if note != "" {
		d.line(note)
	} else {
		d.line(d.t("report.md.next_placeholder"))
	}
	d.line("")
	d.line("---")
	d.line(d.t("report.md.footer"))
	return d.s.String()
}

// draft is Markdown at work: the report written so far.
type draft struct {
	b    *bot.Bot
	r    *bot.Roster
	a    *Assessment
	lang string
	s    strings.Builder
}

func (d *draft) t(key string, args ...any) string { return d.b.T(d.lang, key, args...) }

func (d *draft) line(v string) { d.s.WriteString(v + "\n") }

// header writes the official header (版头): the masthead, the issue
// number (期号), the reporting body (报送单位) and the date written out;
// then the title and the report's id, period and author.
func (d *draft) header(id string, author *bot.Person, date time.Time) {
	lang, loc, a := d.lang, d.b.Loc, d.a
	d.line("**" + d.t("report.md.masthead") + "**")
	d.line("")
	d.line(d.t("report.md.issue", "n", IssueNumber(id)))
	d.line("")
	d.line(d.t("report.md.header", "office", officeName(d.r, lang), "date", LongDate(lang, date, loc)))
	d.line("")
	d.line("---")
	d.line("")
	d.line("# " + d.t("report.md.title", "period", PeriodName(lang, a.Period.Label)))
	d.line("")
	d.line("> " + d.t("report.md.draft"))
	d.line("")
	who := "-"
	if author != nil {
		who = author.DisplayName(lang)
	}
	d.line("- " + d.t("report.md.id", "id", id))
	d.line("- " + d.t("report.md.period", "from", LongDate(lang, a.Period.From, loc), "to", LongDate(lang, a.Period.To.AddDate(0, 0, -1), loc),
		"asof", LongDate(lang, a.AsOf, loc)+" "+a.AsOf.In(loc).Format("15:04")))
	d.line("- " + d.t("report.md.author", "person", who))
	d.line("")
}

// overview writes the totals of every figure and how many bodies they
// concern.
func (d *draft) overview() {
	a := d.a
	d.line("## " + d.t("report.md.h_overview"))
	d.line("")
	total := 0
	var parts []string
	for _, f := range Figures {
		n := a.Total(f)
		total += n
		parts = append(parts, d.t("assess.part", "figure", d.t("assess.figure."+f), "count", n))
	}
	if total == 0 {
		d.line(d.t("report.md.overview_clean", "escalations", len(a.Escalations)))
	} else {
		flagged := 0
		for _, body := range a.Rows {
			if len(a.Behind("", body)) > 0 {
				flagged++
			}
		}
		d.line(d.t("report.md.overview", "total", total, "bodies", flagged, "parts", strings.Join(parts, d.t("list.sep")), "escalations", len(a.Escalations)))
	}
	d.line("")
}

// figure writes the section of figure f, the i-th: what it counts, and a
// table of the bodies with their counts and the records behind them.
func (d *draft) figure(i int, f string) {
	n := d.a.Total(f)
	d.line("### " + d.t("report.md.h_figure", "n", numeral(d.lang, i), "figure", d.t("assess.figure."+f), "count", n))
	d.line("")
	d.line(d.t("assess.explain." + f))
	d.line("")
	if n == 0 {
		d.line(d.t("report.md.none"))
		d.line("")
		return
	}
	d.line("| " + d.t("assess.col.body") + " | " + d.t("report.md.col_count") + " | " + d.t("assess.col.record") + " |")
	d.line("|---|---:|---|")
	for _, body := range d.a.Rows {
		recs := d.a.Behind(f, body)
		if len(recs) == 0 {
			continue
		}
		var ids []string
		for j, rec := range recs {
			if j == maxIDs {
				ids = append(ids, d.t("report.md.more", "count", len(recs)-maxIDs))
				break
			}
			ids = append(ids, rec.ID)
		}
		d.line(fmt.Sprintf("| %s | %d | %s |", mdCell(d.r.BodyName(body, d.lang)), len(recs), mdCell(strings.Join(ids, d.t("list.sep")))))
	}
	d.line("")
}

// escalations writes the reminder talks and reports of the period.
func (d *draft) escalations() {
	d.line("## " + d.t("report.md.h_escalations"))
	d.line("")
	if len(d.a.Escalations) == 0 {
		d.line(d.t("report.md.none"))
	}
	for _, e := range d.a.Escalations {
		action := e.Action
		if d.b.Translator().Has(d.lang, "report.esc."+e.Action) {
			action = d.t("report.esc." + e.Action)
		}
		d.line("- " + d.t("report.md.escalation", "time", LongDate(d.lang, e.Time, d.b.Loc), "action", action, "record", e.Record))
	}
	d.line("")
}

// mdCell keeps a table cell on one line and its pipes literal.
func mdCell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", `\|`)
}

// sendCmd: report send <ZB id>
func (h *handler) sendCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id := strings.TrimSpace(req.Command.Arg(0))
	if id == "" {
		return nil, bot.UsageError(req, "report.error.need_id")
	}
	if !reReportID.MatchString(id) {
		return nil, bot.UsageError(req, "report.error.bad_id", "input", id)
	}
	text, err := h.send(ctx, req, strings.ToUpper(id))
	if err != nil {
		return nil, err
	}
	return bot.Text(text), nil
}

func (h *handler) sendButton(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id := strings.TrimSpace(req.Value)
	if !reReportID.MatchString(id) {
		return nil, bot.Coded(bot.EINVALID, "error.unknown_action")
	}
	text, err := h.send(ctx, req, strings.ToUpper(id))
	if err != nil {
		return nil, err
	}
	return &bot.Response{Toast: text, Replies: []bot.Reply{{Text: text}}}, nil
}

var errSent = errors.New("report: already sent")

// send posts the draft to the district committee's contacts only — each
// member of a district_committee body, by direct message — once.
func (h *handler) send(ctx context.Context, req *bot.Request, id string) (string, error) {
	lang := req.Lang
	r := req.Roster
	var to []string
	for _, bd := range r.BodiesOf(bot.DistrictCommittee) {
		for _, m := range r.Members(bd.ID) {
			if !containsFold(to, m.ID) {
				to = append(to, m.ID)
			}
		}
	}
	if len(to) == 0 {
		return "", bot.Coded(bot.EINVALID, "report.error.no_committee")
	}
	now := h.b.Now()
	rep, err := h.reports.Update(ctx, id, func(v *SpecialReport) error {
		if !v.SentAt.IsZero() {
			return errSent
		}
		v.SentAt, v.SentBy, v.SentTo = now, req.Person.ID, to
		return nil
	})
	if bot.IsNotFound(err) {
		return "", bot.Coded(bot.ENOTFOUND, "report.error.not_found", "id", id)
	}
	if errors.Is(err, errSent) {
		cur, gerr := h.reports.Get(ctx, id)
		if gerr != nil {
			return "", gerr
		}
		return h.t(lang, "report.already_sent", "id", id, "time", bot.FormatTime(cur.SentAt, h.b.Loc)), nil
	}
	if err != nil {
		return "", err
	}
	version := "draft"
	if rep.Edited != "" {
		version = "edited"
	}
	if err := h.b.Audit.Record(ctx, req, "report.send", id, "period="+rep.Period+" version="+version+" to="+strings.Join(to, ",")); err != nil {
		return "", err
	}
	var refs []bot.MessageRef
	var failed []string
	for _, pid := range to {
		p, _ := r.Person(pid)
		l := h.b.People.LangOf(ctx, p)
		text := h.t(l, "report.sent_notice", "id", id, "issue", IssueNumber(id), "period", PeriodName(l, rep.Period), "summary", rep.Summary)
		if rep.Edited != "" { // the office's text may differ from the draft's figures
			text = h.t(l, "report.sent_notice_edited", "id", id, "issue", IssueNumber(id), "period", PeriodName(l, rep.Period))
		}
		got, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: pid, Text: text, Files: []bot.File{h.file(rep)}, Key: "report:" + id})
		refs = append(refs, got...)
		if err != nil || len(got) == 0 {
			h.b.Log.Warn("report: sending to the committee failed", "report", id, "person", pid, "err", err)
			failed = append(failed, p.DisplayName(lang))
		}
	}
	if len(refs) > 0 {
		if _, err := h.reports.Update(ctx, id, func(v *SpecialReport) error { v.Messages = append(v.Messages, refs...); return nil }); err != nil {
			h.b.Log.Warn("report: keeping message references failed", "report", id, "err", err)
		}
	}
	var names []string
	for _, pid := range to {
		if p, ok := r.Person(pid); ok {
			names = append(names, p.DisplayName(lang))
		}
	}
	out := h.t(lang, "report.sent", "id", id, "people", strings.Join(names, h.t(lang, "list.sep")))
	if len(failed) > 0 {
		out += "\n" + h.t(lang, "report.send_failed", "people", strings.Join(failed, h.t(lang, "list.sep")))
	}
	return out, nil
}

// IssueNumber is the issue number (期号) of report id: its number within
// the year, ZB-2026-0003 → 3.
func IssueNumber(id string) int {
	n, _ := strconv.Atoi(id[strings.LastIndex(id, "-")+1:])
	return n
}

// PeriodName names a period label in lang: 2026Q4 → 2026年第四季度,
// 2026-11 → 2026年11月, 2026 → 2026年 (English: Q4 2026, November 2026).
func PeriodName(lang, label string) string {
	en := bot.IsEnglish(lang)
	if y, q, ok := strings.Cut(label, "Q"); ok {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > 4 {
			return label
		}
		if en {
			return "Q" + q + " " + y
		}
		return y + "年第" + zhNumerals[n-1] + "季度"
	}
	if t, err := time.Parse("2006-01", label); err == nil {
		if en {
			return t.Format("January 2006")
		}
		return fmt.Sprintf("%d年%d月", t.Year(), t.Month())
	}
	if _, err := strconv.Atoi(label); err == nil && !en {
		return label + "年"
	}
	return label
}

// LongDate writes a date out as official documents do: 2026年12月6日
// (English: 6 December 2026).
func LongDate(lang string, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if bot.IsEnglish(lang) {
		return t.Format("2 January 2006")
	}
	return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
}

// officeName is the reporting body (报送单位): the inspection office.
func officeName(r *bot.Roster, lang string) string {
	if bs := r.BodiesOf(bot.InspectionOffice); len(bs) > 0 {
		return bs[0].DisplayName(lang)
	}
	return "-"
}
