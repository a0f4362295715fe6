package progress

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/internal/sheet"
)

// ClueFigures are the clue-handling figures of one receiving body (or of
// all of them) in the monthly notice. Open clues are counted by their
// status at the notice time; Transferred, Concluded and Returned count
// what happened within the period.
type ClueFigures struct {
	Body         string // receiving body id; "" for the total
	Transferred  int    // transferred within the period
	Pending      int    // open, awaiting acknowledgement (已移送)
	Acknowledged int    // open, acknowledged (已签收)
	Verifying    int    // open, being verified (核查中)
	Concluded    int    // concluded within the period
	Returned     int    // returned within the period
	Overdue      int    // open and past their deadline day
	Priority     int    // open and flagged for priority handling (优先处置)
}

// Open is the number of clues still being handled.
func (f ClueFigures) Open() int { return f.Pending + f.Acknowledged + f.Verifying }

// Listed is the number of clues the figures cover: the open ones and
// the ones closed within the period.
func (f ClueFigures) Listed() int { return f.Open() + f.Concluded + f.Returned }

func (f *ClueFigures) add(row ClueRow) {
	if row.New {
		f.Transferred++
	}
	switch row.Status {
	case clue.ClueTransferred:
		f.Pending++
	case clue.ClueAcknowledged:
		f.Acknowledged++
	case clue.ClueVerifying:
		f.Verifying++
	case clue.ClueConcluded:
		f.Concluded++
	case clue.ClueReturned:
		f.Returned++
	}
	if row.DaysOverdue > 0 {
		f.Overdue++
	}
	if row.Priority && !row.Status.Closed() {
		f.Priority++
	}
}

// ClueRow is one clue as the notice may show it: number, receiving body,
// status and dates. It deliberately has no title or substance, which are
// confidential and never go into a notice.
type ClueRow struct {
	ID          string
	Body        string
	Status      clue.ClueStatus // at the notice time
	Priority    bool
	New         bool // transferred within the period
	CreatedAt   time.Time
	Deadline    time.Time // zero when it has none
	ClosedAt    time.Time // zero unless concluded or returned
	DaysOverdue int       // days since the deadline day; 0 unless overdue
}

// ClueReport is the clue-handling part of the monthly notice over the
// period (From, To]: the figures per receiving body with clues, in roster
// order, their total, every clue counted and the overdue ones.
type ClueReport struct {
	From, To time.Time
	Bodies   []ClueFigures
	Total    ClueFigures
	Rows     []ClueRow // every clue counted, by body in roster order, then id
	Overdue  []ClueRow // the rows that are overdue, in the same order
}

// ClueHandling computes the clue figures at at for the period (from, at]
// from the records: a clue is counted when it was transferred by at and
// was either still open at at or concluded or returned within the
// period. Statuses are those the clues had at at (by their timestamps),
// so the figures of a past notice can be recomputed.
func ClueHandling(r *bot.Roster, clues []*clue.Clue, from, at time.Time, loc *time.Location) *ClueReport {
	rep := &ClueReport{From: from, To: at}
	order := map[string]int{}
	for i, b := range r.Bodies {
		order[b.ID] = i
	}
	for _, c := range clues {
		if c.CreatedAt.After(at) {
			continue
		}
		st, closedAt := clueStateAt(c, at)
		if st.Closed() && !closedAt.After(from) {
			continue // closed before the period
		}
		row := ClueRow{
			ID: c.ID, Body: c.Body, Status: st, Priority: c.Priority, New: c.CreatedAt.After(from),
			CreatedAt: c.CreatedAt, Deadline: c.Deadline,
		}
		if st.Closed() {
			row.ClosedAt = closedAt
		}
		v := *c
		v.Status = st
		if v.OverdueAt(at, loc) {
			row.DaysOverdue = daysBetween(c.Deadline, at, loc)
		}
		rep.Rows = append(rep.Rows, row)
	}
	slices.SortFunc(rep.Rows, func(a, b ClueRow) int {
		oa, okA := order[a.Body]
		ob, okB := order[b.Body]
		switch {
		case okA && okB && oa != ob:
			return oa - ob
		case okA != okB: // bodies no longer in the roster come last
			if okA {
				return -1
			}
			return 1
		case a.Body != b.Body:
			return strings.Compare(a.Body, b.Body)
		}
		return strings.Compare(a.ID, b.ID)
	})
	for _, row := range rep.Rows {
		if n := len(rep.Bodies); n == 0 || rep.Bodies[n-1].Body != row.Body {
			rep.Bodies = append(rep.Bodies, ClueFigures{Body: row.Body})
		}
		rep.Bodies[len(rep.Bodies)-1].add(row)
		rep.Total.add(row)
		if row.DaysOverdue > 0 {
			rep.Overdue = append(rep.Overdue, row)
		}
	}
	return rep
}

// clues computes the clue section of rep from the records.
func (h *handler) clues(ctx context.Context, r *bot.Roster, rep *Report) error {
	// The open clues and those closed since the period began, not all history.
	all, err := clue.NewQueries(h.b.Store, h.b.Loc).ActiveDuring(ctx, cluePeriodStart(rep), rep.At)
	if err != nil {
		return err
	}
	rep.Clues = ClueHandling(r, all, cluePeriodStart(rep), rep.At, h.b.Loc)
	return nil
}

// clueStateAt returns the status c had at at, and when it was closed if
// that status is final. A closed clue without a closing time counts as
// closed at its last update.
func clueStateAt(c *clue.Clue, at time.Time) (clue.ClueStatus, time.Time) {
	if c.Status.Closed() {
		closed := c.ClosedAt
		if closed.IsZero() {
			closed = c.UpdatedAt
		}
		if closed.IsZero() {
			closed = c.CreatedAt
		}
		if !closed.After(at) {
			return c.Status, closed
		}
	}
	// Nothing recorded after at: the current status held then (even when
	// an older record lacks a step's timestamp).
	if c.Open() && !c.AckAt.After(at) && !c.VerifyAt.After(at) {
		return c.Status, time.Time{}
	}
	return c.StatusAt(at), time.Time{}
}

// daysBetween counts the calendar days in loc from the day of a to the
// day of b.
func daysBetween(a, b time.Time, loc *time.Location) int {
	a, b = a.In(loc), b.In(loc)
	da := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// cluePeriodStart is where the notice's clue period begins: at the
// previous month's notice, so that consecutive notices neither miss nor
// double-count a transfer; a month before at when there was none.
func cluePeriodStart(rep *Report) time.Time {
	if rep.Prev != nil && !rep.Prev.NoticeAt.IsZero() && rep.Prev.NoticeAt.Before(rep.At) {
		return rep.Prev.NoticeAt
	}
	return rep.At.AddDate(0, -1, 0)
}

// clueFields renders the clue section of the notice card: numbers,
// receiving bodies and deadlines only, never a title or substance.
func (h *handler) clueFields(r *bot.Roster, cr *ClueReport, lang string) []bot.Field {
	period := h.t(lang, "progress.notice.clue.heading", "from", bot.FormatTime(cr.From, h.b.Loc), "to", bot.FormatTime(cr.To, h.b.Loc))
	if len(cr.Rows) == 0 {
		return []bot.Field{{Label: period, Value: h.t(lang, "progress.notice.clue.none")}}
	}
	out := []bot.Field{{Label: period, Value: h.clueLine(lang, cr.Total) + "\n" + h.t(lang, "progress.notice.clue.confidential")}}
	for _, f := range cr.Bodies {
		out = append(out, bot.Field{Label: h.t(lang, "progress.notice.clue.body", "body", r.BodyName(f.Body, lang)), Value: h.clueLine(lang, f)})
	}
	label := h.t(lang, "progress.notice.clue.overdue_label", "count", len(cr.Overdue))
	if len(cr.Overdue) == 0 {
		return append(out, bot.Field{Label: label, Value: h.t(lang, "progress.notice.clue.overdue_none")})
	}
	var lines []string
	for i, row := range cr.Overdue {
		if i == maxListed {
			lines = append(lines, h.t(lang, "progress.notice.clue.overdue_more", "count", len(cr.Overdue)-maxListed))
			break
		}
		lines = append(lines, h.overdueLine(r, lang, row))
	}
	return append(out, bot.Field{Label: label, Value: strings.Join(lines, "\n")})
}

func (h *handler) clueLine(lang string, f ClueFigures) string {
	return h.t(lang, "progress.notice.clue.line", "transferred", f.Transferred, "open", f.Open(), "pending", f.Pending,
		"acknowledged", f.Acknowledged, "verifying", f.Verifying, "concluded", f.Concluded, "returned", f.Returned,
		"overdue", f.Overdue, "priority", f.Priority)
}

// overdueLine flags one overdue clue by number, receiving body and
// deadline.
func (h *handler) overdueLine(r *bot.Roster, lang string, row ClueRow) string {
	s := h.t(lang, "progress.notice.clue.overdue", "id", row.ID, "body", r.BodyName(row.Body, lang),
		"deadline", bot.FormatDate(row.Deadline, h.b.Loc), "days", row.DaysOverdue)
	if row.Priority {
		s += h.t(lang, "progress.notice.clue.priority_mark")
	}
	return s
}

// clueTables are the workbook's clue sheets: the figures per receiving
// body with their total and the period they cover, and one row per clue
// counted (number, body, status, dates, days overdue; never a title or
// substance). Both print the period and the confidentiality note at the
// top of each page.
func (h *handler) clueTables(r *bot.Roster, cr *ClueReport, lang string) []sheet.Table {
	head := func(keys ...string) []string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = h.t(lang, "progress.xlsx.clue_col."+k)
		}
		return out
	}
	period := h.t(lang, "progress.xlsx.clue_period", "from", bot.FormatTime(cr.From, h.b.Loc), "to", bot.FormatTime(cr.To, h.b.Loc))
	fig := func(name string, c ClueFigures) []any {
		return []any{name, c.Transferred, c.Pending, c.Acknowledged, c.Verifying, c.Open(), c.Concluded, c.Returned, c.Overdue, c.Priority,
			sheet.DateTime(cr.From), sheet.DateTime(cr.To)}
	}
	figures := sheet.Table{
		Name:        h.t(lang, "progress.xlsx.clues"),
		Header:      head("body", "transferred", "pending", "acknowledged", "verifying", "open", "concluded", "returned", "overdue", "priority", "from", "to"),
		PrintHeader: period,
	}
	for _, c := range cr.Bodies {
		figures.Rows = append(figures.Rows, fig(r.BodyName(c.Body, lang), c))
	}
	figures.Rows = append(figures.Rows, fig(h.t(lang, "progress.xlsx.clue_total"), cr.Total))
	list := sheet.Table{
		Name:        h.t(lang, "progress.xlsx.clue_list"),
		Header:      head("id", "body", "status", "priority_flag", "created", "deadline", "days_overdue", "closed"),
		PrintHeader: period,
	}
	for _, row := range cr.Rows {
		list.Rows = append(list.Rows, []any{row.ID, r.BodyName(row.Body, lang), h.t(lang, "progress.clue_status."+string(row.Status)),
			h.yesNo(lang, row.Priority), sheet.Date(row.CreatedAt), sheet.Date(row.Deadline), row.DaysOverdue, sheet.Date(row.ClosedAt)})
	}
	return []sheet.Table{figures, list}
}

// clueAudit is the clue part of the notice's audit detail.
func clueAudit(cr *ClueReport) string {
	if cr == nil {
		return ""
	}
	t := cr.Total
	ids := make([]string, 0, len(cr.Overdue))
	for _, row := range cr.Overdue {
		ids = append(ids, row.ID)
	}
	return fmt.Sprintf(" clues_transferred=%d clues_open=%d clues_concluded=%d clues_returned=%d clues_overdue=%d overdue_ids=%s",
		t.Transferred, t.Open(), t.Concluded, t.Returned, t.Overdue, strings.Join(ids, ","))
}
