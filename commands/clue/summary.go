package clue

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Figures are the clue-handling figures of one receiving body (or of all)
// over a period.
type Figures struct {
	Body         string                 `json:"body"`          // receiving body id; "" for the total
	Total        int                    `json:"total"`         // clues in the period (see Summarise)
	New          int                    `json:"new"`           // of which transferred within the period
	ByStatus     map[ClueStatus]int     `json:"by_status"`     // status at the end of the period; sums to Total
	ByConclusion map[ClueConclusion]int `json:"by_conclusion"` // disposal methods of the concluded ones; sums to ByStatus[concluded]
	CasesOpened  int                    `json:"cases_opened"`  // of ByConclusion[初步核实], those that opened a case (立案审查调查)
	Overdue      int                    `json:"overdue"`       // open at the end of the period and past their deadline day
	Priority     int                    `json:"priority"`
	Acknowledged int                    `json:"acknowledged"` // acknowledged before the end of the period
	AvgAck       time.Duration          `json:"avg_ack"`      // mean time from transfer to acknowledgement over those
	Concluded    int                    `json:"concluded"`    // = ByStatus[concluded]
	AvgConclude  time.Duration          `json:"avg_conclude"` // mean time from transfer to conclusion over those
	ackSum       time.Duration
	concludeSum  time.Duration
}

// Summary is the case office's periodic clue-handling summary
// (案件监督管理室每三个月汇总反馈): the figures and the central ledger
// (统一登记台账) of every clue in the period.
type Summary struct {
	From, To time.Time   // the period [From, To)
	Bodies   []Figures   // per receiving body with clues, in roster order
	All      Figures     // the same over every body; each count is the sum of Bodies'
	Ledger   []LedgerRow // every clue counted, by id
}

// LedgerRow is one clue in the central ledger, as it stood at the end of
// the period. It deliberately has no title, substance or inspected unit.
type LedgerRow struct {
	ID          string
	Body        string         // receiving body at the end of the period
	Status      ClueStatus     // at the end of the period
	Disposal    ClueConclusion // "" unless concluded by then
	CaseOpened  bool           // 立案审查调查 after 初步核实
	Transferred time.Time      // the last transfer (改派 included)
	Received    time.Time      // zero unless acknowledged by then
	Concluded   time.Time      // zero unless concluded or returned by then
}

func ledgerRow(c *Clue, end time.Time) LedgerRow {
	row := LedgerRow{ID: c.ID, Body: c.Body, Status: c.StatusAt(end), Transferred: c.TransferredAt()}
	if !c.AckAt.IsZero() && !c.AckAt.After(end) {
		row.Received = c.AckAt
	}
	if row.Status.Closed() {
		row.Concluded = c.ClosedAt
		if row.Status == ClueConcluded {
			row.Disposal, row.CaseOpened = c.Conclusion, c.CaseOpened
		}
	}
	return row
}

func newFigures(body string) Figures {
	return Figures{Body: body, ByStatus: map[ClueStatus]int{}, ByConclusion: map[ClueConclusion]int{}}
}

// add counts one clue, seen as it stood at the end of the period.
func (f *Figures) add(c *Clue, from, end time.Time, loc *time.Location) {
	f.Total++
	if !c.CreatedAt.Before(from) {
		f.New++
	}
	st := c.StatusAt(end)
	f.ByStatus[st]++
	if c.Priority {
		f.Priority++
	}
	if !st.Closed() && !c.Deadline.IsZero() && dayStart(end, loc).After(dayStart(c.Deadline, loc)) {
		f.Overdue++
	}
	if !c.AckAt.IsZero() && !c.AckAt.After(end) {
		f.Acknowledged++
		f.ackSum += c.AckAt.Sub(c.CreatedAt)
	}
	if st == ClueConcluded {
		f.Concluded++
		f.concludeSum += c.ClosedAt.Sub(c.CreatedAt)
		f.ByConclusion[c.Conclusion]++
		if c.CaseOpened {
			f.CasesOpened++
		}
	}
}

func (f *Figures) averages() {
	if f.Acknowledged > 0 {
		f.AvgAck = f.ackSum / time.Duration(f.Acknowledged)
	}
	if f.Concluded > 0 {
		f.AvgConclude = f.concludeSum / time.Duration(f.Concluded)
	}
}

// InPeriod reports whether a clue belongs to the summary of [from, to):
// transferred before the period ended and not closed before it began —
// every clue that was in someone's hands during the period.
func InPeriod(c *Clue, from, to time.Time) bool {
	if !c.CreatedAt.Before(to) {
		return false
	}
	return !(c.Status.Closed() && !c.ClosedAt.IsZero() && c.ClosedAt.Before(from))
}

// Summarise computes the clue-handling figures of [from, to) from the
// records: per receiving body, counts by status at the end of the period,
// overdue ones, and the average times to acknowledge and to conclude.
func Summarise(ctx context.Context, b *bot.Bot, from, to time.Time) (Summary, error) {
	if !from.Before(to) {
		return Summary{}, bot.Coded(bot.EINVALID, "clue.error.bad_period")
	}
	// The period's clues: the open ones and those closed since it began.
	all, err := NewQueries(b.Store, b.Loc).ActiveDuring(ctx, from, to)
	if err != nil {
		return Summary{}, err
	}
	r, err := b.People.Roster(ctx)
	if err != nil {
		return Summary{}, err
	}
	end := to.Add(-time.Nanosecond) // the last moment of the period
	s := Summary{From: from, To: to, All: newFigures("")}
	per := map[string]*Figures{}
	for _, c := range all {
		if !InPeriod(c, from, to) {
			continue
		}
		f, ok := per[c.Body]
		if !ok {
			nf := newFigures(c.Body)
			f = &nf
			per[c.Body] = f
		}
		f.add(c, from, end, b.Loc)
		s.All.add(c, from, end, b.Loc)
		s.Ledger = append(s.Ledger, ledgerRow(c, end))
	}
	slices.SortFunc(s.Ledger, func(a, b LedgerRow) int { return strings.Compare(a.ID, b.ID) })
	order := map[string]int{}
	for i, bd := range r.Bodies {
		order[bd.ID] = i
	}
	for _, f := range per {
		f.averages()
		s.Bodies = append(s.Bodies, *f)
	}
	slices.SortFunc(s.Bodies, func(a, b Figures) int {
		ia, oka := order[a.Body]
		ib, okb := order[b.Body]
		switch {
		case oka && okb:
			return ia - ib
		case oka:
			return -1
		case okb:
			return 1
		}
		return strings.Compare(a.Body, b.Body)
	})
	s.All.averages()
	return s, nil
}

// Quarter returns the calendar quarter [from, to) that contains t, in loc.
func Quarter(t time.Time, loc *time.Location) (from, to time.Time) {
	t = t.In(loc)
	q := (int(t.Month()) - 1) / 3
	from = time.Date(t.Year(), time.Month(q*3+1), 1, 0, 0, 0, 0, loc)
	return from, from.AddDate(0, 3, 0)
}

// summaryJob returns the scheduler hook for the quarterly summary: run
// at the start of a quarter, it summarises the previous quarter and posts
// it to the inspection office's group, once per quarter even if run again.
func (h *handler) summaryJob() func(ctx context.Context, now time.Time) error {
	b := h.b
	return func(ctx context.Context, now time.Time) error {
		cur, _ := Quarter(now, b.Loc)
		from, to := Quarter(cur.AddDate(0, 0, -1), b.Loc)
		first, err := b.Store.Claim(ctx, "clue.summary:"+bot.FormatDate(from, b.Loc), 120*24*time.Hour)
		if err != nil || !first {
			return err
		}
		_, err = h.post(ctx, nil, from, to)
		return err
	}
}

// post computes the summary and sends it only where entitled: by direct
// message to the members of the inspection office and of the case
// office, and to the case office's own group if it has one. It returns
// how many people and groups it went to.
func (h *handler) post(ctx context.Context, req *bot.Request, from, to time.Time) (int, error) {
	s, err := Summarise(ctx, h.b, from, to)
	if err != nil {
		return 0, err
	}
	r, err := h.roster(ctx, req)
	if err != nil {
		return 0, err
	}
	if err := h.b.Audit.Record(ctx, req, "clue.summary", "", fmt.Sprintf("from=%s to=%s total=%d", bot.FormatDate(from, h.b.Loc), bot.FormatDate(to, h.b.Loc), s.All.Total)); err != nil {
		return 0, err
	}
	// The scheduled summary of a quarter is sent once; a summary posted
	// by hand may be sent again (the outbox keys each send itself).
	key := ""
	if req == nil {
		key = "clue.summary:" + bot.FormatDate(from, h.b.Loc) + ":" + bot.FormatDate(to, h.b.Loc)
	}
	var errs []error
	sent := 0
	for _, b := range bodiesOf(r, bot.CaseOffice) {
		if b.Group != "" {
			if _, err := h.b.Out.Notify(ctx, bot.Notice{Group: b.Group, Card: h.summaryCard(r, h.b.Lang, s), Key: key}); err != nil {
				errs = append(errs, err)
			} else {
				sent++
			}
		}
	}
	var told []string
	for _, b := range bodiesOf(r, bot.InspectionOffice, bot.CaseOffice) {
		for _, m := range r.Members(b.ID) {
			if slices.Contains(told, m.ID) {
				continue
			}
			told = append(told, m.ID)
			lang := h.b.People.LangOf(ctx, m)
			if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: m.ID, Card: h.summaryCard(r, lang, s), Key: key}); err != nil {
				errs = append(errs, err)
			} else {
				sent++
			}
		}
	}
	return sent, errors.Join(errs...)
}

var (
	reQuarter   = regexp.MustCompile(`^(\d{4})(?:-?q|年第?)([1-4一二三四])(?:季度)?$`)
	quarterNums = map[string]int{"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4}
)

// summary: clue summary [2026Q4|2026年第四季度] [from:… to:…] [post|发布]
func (h *handler) summary(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	p := req.Command
	lang := req.Lang
	now := h.b.Now().In(h.b.Loc)
	from, _ := Quarter(now, h.b.Loc)
	to := dayStart(now, h.b.Loc).AddDate(0, 0, 1) // the quarter so far, today included
	post := false
	for k := range p.Options {
		if !slices.Contains([]string{"from", "从", "to", "至", "到"}, k) {
			return nil, bot.UsageError(req, "clue.error.unknown_option", "option", k)
		}
	}
	for _, w := range p.Args {
		lw := strings.ToLower(w)
		if lw == "post" || lw == "发布" || lw == "发送" {
			post = true
			continue
		}
		m := reQuarter.FindStringSubmatch(lw)
		if m == nil {
			return nil, bot.UsageError(req, "clue.error.bad_quarter", "input", w)
		}
		y, _ := strconv.Atoi(m[1])
		if y < 2000 || y > 2100 {
			return nil, bot.UsageError(req, "clue.error.bad_quarter", "input", w)
		}
		from = time.Date(y, time.Month((quarterNums[m[2]]-1)*3+1), 1, 0, 0, 0, 0, h.b.Loc)
		to = from.AddDate(0, 3, 0)
	}
	if s := p.Opt("from", "从"); s != "" {
		d, err := pastDate(s, now, h.b.Loc)
		if err != nil {
			return nil, bot.UsageError(req, "error.bad_date", "input", s, "examples", "2026-10-01, 10-01")
		}
		from = d
	}
	if s := p.Opt("to", "至", "到"); s != "" {
		d, err := pastDate(s, now, h.b.Loc)
		if err != nil {
			return nil, bot.UsageError(req, "error.bad_date", "input", s, "examples", "2026-12-31, 12-31")
		}
		to = d.AddDate(0, 0, 1) // the end date is included
	}
	if !from.Before(to) {
		return nil, bot.UsageError(req, "clue.error.bad_period")
	}
	s, err := Summarise(ctx, h.b, from, to)
	if err != nil {
		return nil, err
	}
	// The ledger lists clues: only in a one-to-one chat.
	resp, err := h.privately(ctx, req, h.summaryCard(req.Roster, lang, s))
	if err != nil {
		return nil, err
	}
	if post {
		n, err := h.post(ctx, req, from, to)
		if err != nil {
			h.b.Log.Warn("clue: summary post failed", "err", err)
			resp.Replies = append(resp.Replies, bot.Reply{Text: h.t(lang, "clue.notify_failed")})
		}
		resp.Replies = append(resp.Replies, bot.Reply{Text: h.t(lang, "clue.summary.posted", "count", n)})
	}
	return resp, nil
}

var reYear = regexp.MustCompile(`\d{4}`)

// pastDate parses a date of a reporting period: a month and day without
// a year ("10-01") is the most recent such day, not the next one as for
// deadlines.
func pastDate(s string, now time.Time, loc *time.Location) (time.Time, error) {
	d, err := bot.ParseDatePast(s, now, loc)
	if err != nil {
		return d, err
	}
	if d.After(now) && !reYear.MatchString(s) && !strings.HasPrefix(strings.TrimSpace(s), "+") {
		// The latest year before that has the day: 2-29 is the last leap
		// year's, not a day to come.
		for y := d.Year() - 1; y >= d.Year()-8; y-- {
			if prev := time.Date(y, d.Month(), d.Day(), 0, 0, 0, 0, loc); prev.Month() == d.Month() && !prev.After(now) {
				return prev, nil
			}
		}
	}
	return d, nil
}

// summaryCard renders a summary: counts only, never a title or substance.
func (h *handler) summaryCard(r *bot.Roster, lang string, s Summary) *bot.Card {
	last := s.To.AddDate(0, 0, -1)
	card := &bot.Card{
		Title: h.t(lang, "clue.summary.title", "from", bot.FormatDate(s.From, h.b.Loc), "to", bot.FormatDate(last, h.b.Loc)),
		Color: bot.Blue,
	}
	if s.All.Total == 0 {
		card.Text = h.t(lang, "clue.summary.empty")
		return card
	}
	for _, f := range s.Bodies {
		card.Fields = append(card.Fields, bot.Field{Label: r.BodyName(f.Body, lang), Value: h.figuresText(lang, f)})
	}
	card.Fields = append(card.Fields, bot.Field{Label: h.t(lang, "clue.summary.total"), Value: h.figuresText(lang, s.All)})
	lines := []string{h.t(lang, "clue.ledger.header", "count", len(s.Ledger))}
	for _, row := range s.Ledger {
		lines = append(lines, "• "+h.ledgerLine(r, lang, row))
	}
	card.Text = strings.Join(lines, "\n")
	card.Note = h.t(lang, "clue.summary.note") + "\n" + h.t(lang, "clue.ledger.note")
	return card
}

// ledgerLine renders one ledger row: id, receiving body, status and
// disposal, and the transfer, receipt and conclusion dates.
func (h *handler) ledgerLine(r *bot.Roster, lang string, row LedgerRow) string {
	status := h.t(lang, "clue.status."+string(row.Status))
	if row.Disposal != "" {
		c := &Clue{Status: ClueConcluded, Conclusion: row.Disposal, CaseOpened: row.CaseOpened}
		status = h.statusLabel(lang, c)
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return bot.FormatDate(t, h.b.Loc)
	}
	return h.t(lang, "clue.ledger.line", "id", row.ID, "body", r.BodyName(row.Body, lang), "status", status,
		"transferred", date(row.Transferred), "received", date(row.Received), "concluded", date(row.Concluded))
}

func (h *handler) figuresText(lang string, f Figures) string {
	sep := h.t(lang, "list.sep")
	var st []string
	for _, s := range ClueStatuses {
		st = append(st, h.t(lang, "clue.summary.count", "label", h.t(lang, "clue.status."+string(s)), "count", f.ByStatus[s]))
	}
	var cs []string
	for _, c := range ClueConclusions {
		if f.ByConclusion[c] > 0 {
			cs = append(cs, h.t(lang, "clue.summary.count", "label", h.t(lang, "clue.conclusion."+string(c)), "count", f.ByConclusion[c]))
		}
		if c == DisposalVerify && f.CasesOpened > 0 {
			cs = append(cs, h.t(lang, "clue.summary.cases_opened", "count", f.CasesOpened))
		}
	}
	text := h.t(lang, "clue.summary.line", "total", f.Total, "new", f.New, "statuses", strings.Join(st, sep),
		"overdue", f.Overdue, "priority", f.Priority,
		"ack", days(f.AvgAck, f.Acknowledged), "conclude", days(f.AvgConclude, f.Concluded))
	if len(cs) > 0 {
		text += "\n" + h.t(lang, "clue.summary.conclusions", "conclusions", strings.Join(cs, sep))
	}
	return text
}

// days renders a mean duration in days with one decimal, "-" when there
// was nothing to average.
func days(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatFloat(d.Hours()/24, 'f', 1, 64)
}
