package progress

import (
	"context"
	"errors"
	"fmt"
	"image/color"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/sheet"
	"github.com/xunji-bot/xunji/commands/progress/chart"
)

// Report is the rectification figures of one month, as the monthly
// notice (区委巡察办每月汇总通报) shows them.
type Report struct {
	Month string    // "2026-12"
	At    time.Time // the figures are as of this moment
	// Orgs are the figures per responsible unit that has items, in roster
	// order; Total is their sum.
	Orgs  []OrgFigures
	Total OrgFigures
	// Collected is true when the month had a collection; Closed when its
	// deadline passed, so Unreported counts are final.
	Collected, Closed bool
	// Special are the candidates for special inspection (专项督查) by the
	// rule of SpecialCandidates.
	Special []string
	// Escalate are the units overdue or unreported for the configured
	// number of consecutive months (约谈提醒).
	Escalate []string
	// EscalateBodies are the stationed groups and supervisor offices whose
	// relay checks went unrecorded for EscalateMonths months in a row
	// (约谈提醒); MissedChecks are the check ids behind them.
	EscalateBodies, MissedChecks []string
	// Prev is the previous month's notice figures, for "since last month".
	Prev *ProgressMonth
	// Clues is the clue-handling section (线索办理) since the previous
	// notice; nil when not computed.
	Clues *ClueReport
	// For is the collaborating body a scoped copy is for ("" for the
	// office's notice): its figures cover only what the body is entitled
	// to, and it carries no special candidates, escalations or changes.
	For string
	// items are the summaries of the items the report read one by one:
	// those open or awaiting confirmation and those closed since the
	// tally boundary of At (see figuresAt); the others are in tallies.
	items []*Item
}

// Figures computes per-organisation figures at at from the items and the
// month's collection m (nil when the month had none): an item counts if
// it existed at at; done/open/overdue as of at; unreported are the items
// the unit was asked about that had no update — final once the
// collection closed, so far before that.
func Figures(r *bot.Roster, items []*Item, m *ProgressMonth, at time.Time, loc *time.Location) ([]OrgFigures, OrgFigures) {
	return figures(r, items, nil, m, at, loc)
}

// figures is Figures with the tallies of the items closed before the
// items given (see figuresAt): they count as closed, with their
// immediate-fix marks and percentages.
func figures(r *bot.Roster, items []*Item, tallies map[string]Tally, m *ProgressMonth, at time.Time, loc *time.Location) ([]OrgFigures, OrgFigures) {
	byUnit := map[string]*OrgFigures{}
	for _, t := range tallies {
		if t.Done == 0 {
			continue
		}
		byUnit[t.Unit] = &OrgFigures{Unit: t.Unit, Total: t.Done, Done: t.Done, Immediate: t.Immediate, PercentSum: t.PercentSum}
	}
	countItems(byUnit, items, at, loc)
	if m != nil && !m.StartedAt.IsZero() && !m.StartedAt.After(at) {
		countUnreported(byUnit, items, m, at)
	}
	return inRosterOrder(r, byUnit)
}

// countItems adds the items that existed at at to their units' figures.
func countItems(byUnit map[string]*OrgFigures, items []*Item, at time.Time, loc *time.Location) {
	for _, it := range items {
		if it.CreatedAt.After(at) {
			continue
		}
		f := byUnit[it.Unit]
		if f == nil {
			f = &OrgFigures{Unit: it.Unit}
			byUnit[it.Unit] = f
		}
		f.Total++
		switch {
		case it.DoneBy(at):
			f.Done++
		case it.AwaitingAt(at):
			f.Awaiting++
		default:
			f.Open++
			if it.OverdueAt(at, loc) {
				f.Overdue++
			}
		}
		if it.Immediate {
			f.Immediate++
		}
		f.PercentSum += it.PercentAt(at)
	}
}

// countUnreported adds to the units' figures the items of collection m,
// started by at, that had no update: final once it closed, so far before
// that.
func countUnreported(byUnit map[string]*OrgFigures, items []*Item, m *ProgressMonth, at time.Time) {
	idx := map[string]*Item{}
	for _, it := range items {
		idx[it.ID] = it
	}
	for _, u := range m.Units {
		f := byUnit[u.Unit]
		if f == nil {
			continue
		}
		if m.Closed() && !m.ClosedAt.After(at) {
			f.Unreported += len(u.Missing)
			continue
		}
		for _, id := range u.Items {
			if it := idx[id]; it != nil && !it.UpdatedBetween(m.WindowStart, at.Add(time.Nanosecond)) {
				f.Unreported++
			}
		}
	}
}

// inRosterOrder returns the units' figures in roster order, those of
// units removed from the roster after the others, and their total.
func inRosterOrder(r *bot.Roster, byUnit map[string]*OrgFigures) ([]OrgFigures, OrgFigures) {
	var out []OrgFigures
	var total OrgFigures
	seen := map[string]bool{}
	add := func(f *OrgFigures) {
		out = append(out, *f)
		total.Total += f.Total
		total.Open += f.Open
		total.Awaiting += f.Awaiting
		total.Done += f.Done
		total.Overdue += f.Overdue
		total.Unreported += f.Unreported
		total.Immediate += f.Immediate
		total.PercentSum += f.PercentSum
	}
	for _, b := range r.Bodies {
		if f := byUnit[b.ID]; f != nil {
			add(f)
			seen[b.ID] = true
		}
	}
	// Units removed from the roster still count, after the others.
	var rest []string
	for id := range byUnit {
		if !seen[id] {
			rest = append(rest, id)
		}
	}
	slices.Sort(rest)
	for _, id := range rest {
		add(byUnit[id])
	}
	return out, total
}

// SpecialCandidates applies the documented rule for naming candidates for
// special inspection (专项督查): among the organisations with at least one
// overdue or unreported item, the lowest completion rate first; ties go
// to more overdue items, then more unreported items, then the lower
// average progress, then roster order. At most n are named.
func SpecialCandidates(orgs []OrgFigures, n int) []string {
	var weak []OrgFigures
	for _, f := range orgs {
		if f.Weak() {
			weak = append(weak, f)
		}
	}
	slices.SortStableFunc(weak, func(a, b OrgFigures) int {
		switch {
		case a.Rate() != b.Rate():
			return a.Rate() - b.Rate()
		case a.Overdue != b.Overdue:
			return b.Overdue - a.Overdue
		case a.Unreported != b.Unreported:
			return b.Unreported - a.Unreported
		}
		return a.Average() - b.Average()
	})
	var out []string
	for i := 0; i < len(weak) && i < n; i++ {
		out = append(out, weak[i].Unit)
	}
	return out
}

// report computes the month's report at at. A stored notice's figures
// are reused, so a repeated run shows what the first one did.
func (h *handler) report(ctx context.Context, r *bot.Roster, at time.Time) (*Report, *ProgressMonth, error) {
	month := MonthID(at, h.b.Loc)
	m, err := h.months.Get(ctx, month)
	if bot.IsNotFound(err) {
		m, err = nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{Month: month, At: at}
	var figs []OrgFigures
	var total OrgFigures
	figs, total, rep.items, err = figuresAt(ctx, h.b.Store, r, m, at, h.b.Loc)
	if err != nil {
		return nil, nil, err
	}
	if m != nil && !m.NoticeAt.IsZero() {
		rep.At = m.NoticeAt
		rep.Orgs, rep.Special, rep.Escalate = m.Figures, m.Special, m.Escalated
		rep.EscalateBodies, rep.MissedChecks = m.EscalatedBodies, m.EscalatedChecks
		for _, f := range m.Figures {
			rep.Total.Total += f.Total
			rep.Total.Open += f.Open
			rep.Total.Awaiting += f.Awaiting
			rep.Total.Done += f.Done
			rep.Total.Overdue += f.Overdue
			rep.Total.Unreported += f.Unreported
			rep.Total.Immediate += f.Immediate
			rep.Total.PercentSum += f.PercentSum
		}
	} else {
		rep.Orgs, rep.Total = figs, total
		rep.Special = SpecialCandidates(rep.Orgs, h.cfg.SpecialCount)
		esc, err := h.escalations(ctx, month, rep.Orgs)
		if err != nil {
			return nil, nil, err
		}
		rep.Escalate = esc
		if rep.EscalateBodies, rep.MissedChecks, err = h.checkEscalations(ctx, r, at); err != nil {
			return nil, nil, err
		}
	}
	if m != nil {
		rep.Collected = !m.StartedAt.IsZero() && !m.StartedAt.After(at)
		rep.Closed = m.Closed() && !m.ClosedAt.After(at)
	}
	if prev, err := h.months.Get(ctx, PrevMonthID(month)); err == nil && !prev.NoticeAt.IsZero() {
		rep.Prev = prev
	} else if err != nil && !bot.IsNotFound(err) {
		return nil, nil, err
	}
	if err := h.clues(ctx, r, rep); err != nil {
		return nil, nil, err
	}
	return rep, m, nil
}

// escalations returns the units whose figures were weak (an overdue or
// unreported item) in this month and in each of the EscalateMonths-1
// months before it, by the stored notices.
func (h *handler) escalations(ctx context.Context, month string, orgs []OrgFigures) ([]string, error) {
	var out []string
	for _, f := range orgs {
		if !f.Weak() {
			continue
		}
		streak, id := 1, month
		for streak < h.cfg.EscalateMonths {
			id = PrevMonthID(id)
			pm, err := h.months.Get(ctx, id)
			if bot.IsNotFound(err) {
				break
			}
			if err != nil {
				return nil, err
			}
			pf, ok := pm.FiguresOf(f.Unit)
			if pm.NoticeAt.IsZero() || !ok || !pf.Weak() {
				break
			}
			streak++
		}
		if streak >= h.cfg.EscalateMonths {
			out = append(out, f.Unit)
		}
	}
	return out, nil
}

// monthlyNotice is the task progress.monthly_notice: it closes due
// collections, computes the month's figures, stores them (the next
// month's notice compares with them), escalates the units overdue or
// unreported for EscalateMonths consecutive months to the leader in
// charge, and posts the notice — rectification figures and the clue
// handling since the previous notice (numbers, bodies and deadlines, never
// a clue's content) — with the chart and the XLSX export to the
// inspection office's group. A second run for the same month does not
// post again.
func (h *handler) monthlyNotice(ctx context.Context, at time.Time) error {
	at = at.In(h.b.Loc)
	if err := h.closeDue(ctx, at); err != nil {
		return err
	}
	r, err := h.b.People.Roster(ctx)
	if err != nil {
		return err
	}
	rep, m, err := h.report(ctx, r, at)
	if err != nil {
		return err
	}
	if m != nil && !m.NoticeAt.IsZero() && len(m.NoticeCards) > 0 {
		return nil
	}
	first := false
	set := func(v *ProgressMonth) error {
		if !v.NoticeAt.IsZero() {
			return errStop
		}
		v.ID, v.NoticeAt, v.Figures, v.Special, v.Escalated = rep.Month, at, rep.Orgs, rep.Special, rep.Escalate
		v.EscalatedBodies, v.EscalatedChecks = rep.EscalateBodies, rep.MissedChecks
		return nil
	}
	_, err = h.months.Update(ctx, rep.Month, set)
	if bot.IsNotFound(err) {
		nm := &ProgressMonth{}
		_ = set(nm)
		err = h.months.Create(ctx, rep.Month, nm)
		if bot.ErrorCode(err) == bot.ECONFLICT {
			_, err = h.months.Update(ctx, rep.Month, set)
		}
	}
	switch {
	case errors.Is(err, errStop):
	case err != nil:
		return err
	default:
		first = true
	}
	var errs []error
	if first {
		detail := fmt.Sprintf("total=%d done=%d awaiting=%d open=%d overdue=%d unreported=%d special=%s escalate=%s", rep.Total.Total, rep.Total.Done,
			rep.Total.Awaiting, rep.Total.Open, rep.Total.Overdue, rep.Total.Unreported, strings.Join(rep.Special, ","), strings.Join(rep.Escalate, ",")) + clueAudit(rep.Clues)
		if err := h.b.Audit.Record(ctx, nil, "progress.notice", rep.Month, detail); err != nil {
			return err
		}
		for _, u := range rep.Escalate {
			if err := h.escalate(ctx, r, rep, u); err != nil {
				errs = append(errs, err)
			}
		}
		for _, body := range rep.EscalateBodies {
			if err := h.escalateChecks(ctx, r, rep, body); err != nil {
				errs = append(errs, err)
			}
		}
		if err := h.noticeCollaborators(ctx, r, rep, m); err != nil {
			errs = append(errs, err)
		}
	}
	lang := h.b.Lang
	files, err := h.files(ctx, r, rep, lang)
	if err != nil {
		errs = append(errs, err)
	}
	refs, err := h.b.Out.Notify(ctx, bot.Notice{Group: h.noticeGrp, Card: h.noticeCard(r, rep, lang), Files: files, Key: "progress:" + rep.Month + ":notice"})
	if err != nil {
		errs = append(errs, err)
	}
	if len(refs) > 0 {
		if _, err := h.months.Update(ctx, rep.Month, func(v *ProgressMonth) error { v.NoticeCards = append(v.NoticeCards, refs...); return nil }); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// escalate reports a unit to the leader in charge (约谈提醒): to the
// escalation group when one is configured, else to each member of the
// district committee bodies directly; and audits it.
func (h *handler) escalate(ctx context.Context, r *bot.Roster, rep *Report, unit string) error {
	f, _ := rep.orgOf(unit)
	if err := h.b.Audit.Record(ctx, nil, "progress.escalate", unit, fmt.Sprintf("month=%s months=%d overdue=%d unreported=%d", rep.Month, h.cfg.EscalateMonths, f.Overdue, f.Unreported)); err != nil {
		return err
	}
	text := func(lang string) string {
		return h.t(lang, "progress.escalate.text", "unit", r.BodyName(unit, lang), "months", h.cfg.EscalateMonths,
			"month", h.monthLabel(lang, rep.Month), "overdue", f.Overdue, "unreported", f.Unreported, "open", f.Open, "rate", f.Rate())
	}
	return h.toLeader(ctx, r, "progress:"+rep.Month+":escalate:"+unit, text)
}

// toLeader sends an escalation to the leader in charge: to the
// escalation group when one is configured, else to each member of the
// district committee bodies directly.
func (h *handler) toLeader(ctx context.Context, r *bot.Roster, key string, text func(lang string) string) error {
	if h.escalation != "" {
		_, err := h.b.Out.Notify(ctx, bot.Notice{Group: h.escalation, Text: text(h.b.Lang), Key: key})
		return err
	}
	var errs []error
	for _, b := range r.BodiesOf(bot.DistrictCommittee) {
		for _, p := range r.Members(b.ID) {
			if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: p.ID, Text: text(h.b.People.LangOf(ctx, p)), Key: key}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func (rep *Report) orgOf(unit string) (OrgFigures, bool) {
	for _, f := range rep.Orgs {
		if f.Unit == unit {
			return f, true
		}
	}
	return OrgFigures{Unit: unit}, false
}

// noticeCard renders the monthly notice.
func (h *handler) noticeCard(r *bot.Roster, rep *Report, lang string) *bot.Card {
	t := rep.Total
	var text []string
	totalKey := "progress.notice.total"
	if rep.For != "" {
		totalKey = "progress.notice.scoped_total"
	}
	text = append(text, h.t(lang, totalKey, "total", t.Total, "done", t.Done, "awaiting", t.Awaiting, "open", t.Open, "overdue", t.Overdue,
		"unreported", t.Unreported, "rate", t.Rate(), "average", t.Average()))
	switch {
	case !rep.Collected:
		text = append(text, h.t(lang, "progress.notice.no_collection"))
	case !rep.Closed:
		text = append(text, h.t(lang, "progress.notice.collection_open"))
	}
	if rep.For != "" {
		return h.scopedCard(r, rep, lang, text)
	}
	if len(rep.Orgs) == 0 {
		text = append(text, h.t(lang, "progress.notice.no_items"))
	}
	text = append(text, h.t(lang, "progress.notice.rule", "count", h.cfg.SpecialCount))
	if len(rep.Special) > 0 {
		text = append(text, h.t(lang, "progress.notice.special", "units", h.bodyNames(r, rep.Special, lang)))
	} else {
		text = append(text, h.t(lang, "progress.notice.special_none"))
	}
	if len(rep.Escalate) > 0 {
		text = append(text, h.t(lang, "progress.notice.escalate", "months", h.cfg.EscalateMonths, "units", h.bodyNames(r, rep.Escalate, lang)))
	}
	if len(rep.EscalateBodies) > 0 {
		text = append(text, h.t(lang, "progress.notice.escalate_checks", "months", h.cfg.EscalateMonths, "bodies", h.bodyNames(r, rep.EscalateBodies, lang)))
	}
	text = append(text, h.t(lang, "progress.notice.legend"))
	if rep.Clues != nil {
		text = append(text, h.t(lang, "progress.notice.clue.legend"))
	}
	c := &bot.Card{
		Title: h.t(lang, "progress.notice.title", "month", h.monthLabel(lang, rep.Month)),
		Text:  strings.Join(text, "\n"),
		Color: bot.Blue,
		Note:  h.t(lang, "progress.notice.note", "time", bot.FormatTime(rep.At, h.b.Loc)),
	}
	if len(rep.Special) > 0 || len(rep.Escalate) > 0 || len(rep.EscalateBodies) > 0 {
		c.Color = bot.Orange
	}
	for _, f := range rep.Orgs {
		v := h.t(lang, "progress.notice.org", "total", f.Total, "done", f.Done, "awaiting", f.Awaiting, "open", f.Open, "overdue", f.Overdue,
			"unreported", f.Unreported, "rate", f.Rate(), "average", f.Average())
		v += "\n" + h.change(lang, rep, f)
		c.Fields = append(c.Fields, bot.Field{Label: r.BodyName(f.Unit, lang), Value: v})
	}
	if rep.Clues != nil {
		c.Fields = append(c.Fields, h.clueFields(r, rep.Clues, lang)...)
		if len(rep.Clues.Overdue) > 0 {
			c.Color = bot.Orange
		}
	}
	return c
}

// scopedCard is a collaborating body's notice: its rectification
// figures and its clues, with no special candidates, escalations,
// changes or attachments.
func (h *handler) scopedCard(r *bot.Roster, rep *Report, lang string, text []string) *bot.Card {
	if len(rep.Orgs) == 0 {
		text = append(text, h.t(lang, "progress.notice.scoped_no_items"))
	}
	legend := "progress.notice.scoped_legend"
	if b, ok := r.Body(rep.For); ok && b.Kind == bot.CaseOffice {
		legend = "progress.notice.scoped_legend_case"
	}
	text = append(text, h.t(lang, legend, "body", r.BodyName(rep.For, lang)))
	c := &bot.Card{
		Title: h.t(lang, "progress.notice.title_for", "month", h.monthLabel(lang, rep.Month), "body", r.BodyName(rep.For, lang)),
		Text:  strings.Join(text, "\n"),
		Color: bot.Blue,
		Note:  h.t(lang, "progress.notice.note", "time", bot.FormatTime(rep.At, h.b.Loc)),
	}
	for _, f := range rep.Orgs {
		c.Fields = append(c.Fields, bot.Field{Label: r.BodyName(f.Unit, lang), Value: h.t(lang, "progress.notice.org", "total", f.Total, "done", f.Done,
			"awaiting", f.Awaiting, "open", f.Open, "overdue", f.Overdue, "unreported", f.Unreported, "rate", f.Rate(), "average", f.Average())})
	}
	if rep.Clues != nil {
		c.Fields = append(c.Fields, h.clueFields(r, rep.Clues, lang)...)
		if len(rep.Clues.Overdue) > 0 {
			c.Color = bot.Orange
		}
	}
	return c
}

// change describes what changed for f since the previous month's notice.
func (h *handler) change(lang string, rep *Report, f OrgFigures) string {
	if rep.Prev == nil {
		return h.t(lang, "progress.change.first")
	}
	p, ok := rep.Prev.FiguresOf(f.Unit)
	if !ok {
		return h.t(lang, "progress.change.new_unit")
	}
	return h.t(lang, "progress.change.text", "rate", signed(f.Rate()-p.Rate()), "done", max(0, f.Done-p.Done),
		"added", max(0, f.Total-p.Total), "overdue", signed(f.Overdue-p.Overdue))
}

func signed(n int) string {
	if n > 0 {
		return fmt.Sprintf("+%d", n)
	}
	return fmt.Sprint(n)
}

// Chart draws the completion chart of rep (completion rate and average
// progress per organisation) as a PNG of width × height pixels.
func Chart(b *bot.Bot, r *bot.Roster, rep *Report, lang string, width, height int) ([]byte, error) {
	bars, err := chartBars(b, r, rep, lang, width, height)
	if err != nil {
		return nil, err
	}
	return bars.PNG()
}

// chartBars is the chart of rep for a 通报: organisations ranked by
// completion rate, then average progress (ties in roster order), each
// marked with its overdue and unreported items, under a line saying when
// the figures were taken. Names the embedded font cannot draw fall back
// to the body id.
func chartBars(b *bot.Bot, r *bot.Roster, rep *Report, lang string, width, height int) (chart.Bars, error) {
	if len(rep.Orgs) == 0 {
		return chart.Bars{}, errors.New("progress: no organisation to chart")
	}
	orgs := slices.Clone(rep.Orgs)
	slices.SortStableFunc(orgs, func(x, y OrgFigures) int {
		if c := y.Rate() - x.Rate(); c != 0 {
			return c
		}
		return y.Average() - x.Average()
	})
	rate := chart.Series{Name: b.T(lang, "progress.chart.rate"), Color: color.RGBA{0x2b, 0x6c, 0xb0, 0xff}}
	avg := chart.Series{Name: b.T(lang, "progress.chart.average"), Color: color.RGBA{0xf0, 0x8c, 0x2a, 0xff}}
	var labels, marks []string
	for _, f := range orgs {
		name := r.BodyName(f.Unit, lang)
		if !chart.Fits(name) {
			name = f.Unit
		}
		labels = append(labels, name)
		rate.Values = append(rate.Values, float64(f.Rate()))
		avg.Values = append(avg.Values, float64(f.Average()))
		var m []string
		if f.Overdue > 0 {
			m = append(m, b.T(lang, "progress.chart.overdue", "count", f.Overdue))
		}
		if f.Unreported > 0 {
			m = append(m, b.T(lang, "progress.chart.unreported", "count", f.Unreported))
		}
		marks = append(marks, strings.Join(m, b.T(lang, "progress.chart.mark_sep")))
	}
	title := b.T(lang, "progress.chart.title", "month", monthLabel(b, lang, rep.Month))
	if !chart.Fits(title) {
		title = rep.Month
	}
	return chart.Bars{
		Title: title, AsOf: b.T(lang, "progress.chart.asof", "time", bot.FormatTime(rep.At, b.Loc)),
		XLabel: b.T(lang, "progress.chart.axis"), Labels: labels, Marks: marks, Series: []chart.Series{rate, avg},
		Max: 100, Unit: "%", Width: width, Height: height,
	}, nil
}

func monthLabel(b *bot.Bot, lang, id string) string {
	return (&handler{b: b}).monthLabel(lang, id)
}

// files are the notice's attachments (also sent by 进度 汇总): the chart
// and the summary workbook — the export's sheets, with the clue sheets
// when rep has the clue section. It is named apart from 进度 导出's file,
// whose contents differ.
func (h *handler) files(ctx context.Context, r *bot.Roster, rep *Report, lang string) ([]bot.File, error) {
	var out []bot.File
	var errs []error
	if len(rep.Orgs) > 0 {
		png, err := Chart(h.b, r, rep, lang, h.cfg.ChartWidth, h.cfg.ChartHeight)
		if err != nil {
			errs = append(errs, err)
		} else {
			out = append(out, bot.File{Name: h.t(lang, "progress.file.chart", "month", rep.Month), MIME: "image/png", Data: png})
		}
	}
	tables, err := exportTables(ctx, h.b, rep.items, rep.At, lang)
	if err == nil && rep.Clues != nil {
		tables = append(tables, h.clueTables(r, rep.Clues, lang)...)
	}
	var x []byte
	if err == nil {
		x, err = sheet.Write(h.b.Loc, tables...)
	}
	if err != nil {
		errs = append(errs, err)
	} else {
		out = append(out, bot.File{Name: h.t(lang, "progress.file.summary", "month", rep.Month), MIME: XLSXMIME, Data: x})
	}
	return out, errors.Join(errs...)
}

// reportCmd: progress report — the current month's figures so far, with
// the chart and the export, to the person asking.
func (h *handler) reportCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Command.Args) > 0 {
		return nil, bot.UsageError(req, "progress.error.bad_filter", "input", req.Command.Arg(0))
	}
	now := h.b.Now().In(h.b.Loc)
	month := MonthID(now, h.b.Loc)
	m, err := h.months.Get(ctx, month)
	if bot.IsNotFound(err) {
		m, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	rep := &Report{Month: month, At: now}
	rep.Orgs, rep.Total, rep.items, err = figuresAt(ctx, h.b.Store, req.Roster, m, now, h.b.Loc)
	if err != nil {
		return nil, err
	}
	rep.Special = SpecialCandidates(rep.Orgs, h.cfg.SpecialCount)
	if rep.Escalate, err = h.escalations(ctx, month, rep.Orgs); err != nil {
		return nil, err
	}
	if rep.EscalateBodies, rep.MissedChecks, err = h.checkEscalations(ctx, req.Roster, now); err != nil {
		return nil, err
	}
	if m != nil {
		rep.Collected = !m.StartedAt.IsZero()
		rep.Closed = m.Closed()
	}
	if prev, err := h.months.Get(ctx, PrevMonthID(month)); err == nil && !prev.NoticeAt.IsZero() {
		rep.Prev = prev
	}
	if err := h.clues(ctx, req.Roster, rep); err != nil {
		return nil, err
	}
	files, err := h.files(ctx, req.Roster, rep, req.Lang)
	if err != nil {
		h.b.Log.Warn("progress: report attachments failed", "err", err)
	}
	return &bot.Response{Replies: []bot.Reply{{Card: h.noticeCard(req.Roster, rep, req.Lang), Files: files}}}, nil
}
