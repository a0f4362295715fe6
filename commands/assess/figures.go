package assess

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/meeting"
	"github.com/xunji-bot/xunji/commands/progress"
)

// The assessment figures (督查推进, 纳入考核). Each counts records: a figure
// of a body is the number of Records with that figure and body, so every
// number can be drilled down to the records behind it. An event counts in
// the period in which the duty was missed (the reminder time passed, the
// deadline day ended, the collection closed, the check's cycle ended,
// the meeting was held), and only once that moment has come.
const (
	// FigClueAckLate: clues the receiving body had not acknowledged when
	// the acknowledgement reminder became due (clue.ack_reminder).
	FigClueAckLate = "clue_ack_late"
	// FigClueConcludeLate: clues still open when their deadline day ended.
	FigClueConcludeLate = "clue_conclude_late"
	// FigProgressMissing: rectification items a responsible unit did not
	// report on in a closed monthly collection (one per item and month).
	FigProgressMissing = "progress_missing"
	// FigCosignUnsigned: co-signature parties that had not signed when
	// their reminder became due.
	FigCosignUnsigned = "cosign_unsigned"
	// FigCheckMissing: relay checks (stationed groups monthly, supervisor
	// offices every two months) with no result recorded by the end of
	// their cycle.
	FigCheckMissing = "check_missing"
	// FigMeetingMissed: work, joint and review meetings held that an
	// invited body (meetings.invitees, the convening office aside) missed:
	// not recorded present by the office's attendance (or, before any is
	// recorded, no member answering "attend") and no member on leave.
	FigMeetingMissed = "meeting_missed"
)

// Figures lists the figures in display order.
var Figures = []string{FigClueAckLate, FigClueConcludeLate, FigProgressMissing, FigCosignUnsigned, FigCheckMissing, FigMeetingMissed}

// figureNames are the words people type after detail: for each figure.
var figureNames = map[string][]string{
	FigClueAckLate:      {"clue_ack_late", "ack", "签收超时", "线索签收超时"},
	FigClueConcludeLate: {"clue_conclude_late", "conclude", "办结超期", "线索办结超期"},
	FigProgressMissing:  {"progress_missing", "progress", "进度未报", "未报送"},
	FigCosignUnsigned:   {"cosign_unsigned", "cosign", "签字超时", "未签字"},
	FigCheckMissing:     {"check_missing", "check", "督查未记录", "检查未记录"},
	FigMeetingMissed:    {"meeting_missed", "meeting", "缺席会议", "会议缺席"},
}

// ParseFigure returns the figure named s.
func ParseFigure(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, f := range Figures {
		if slices.Contains(figureNames[f], s) {
			return f, true
		}
	}
	return "", false
}

// RowKinds are the bodies assessed: the supervising bodies and the
// responsible units. Other bodies (an inspection team that left a
// co-signature unsigned) get a row when they have a record.
var RowKinds = []bot.PartyKind{bot.SupervisionRoom, bot.StationedGroup, bot.SupervisorOffice, bot.CaseOffice, bot.GrassrootsCommission, bot.ResponsibleUnit}

// Period is a span [From, To) of whole days in the deployment zone.
type Period struct {
	Label string // "2026-11", "2026Q4", "2026"
	From  time.Time
	To    time.Time
}

var (
	reMonth   = regexp.MustCompile(`^(\d{4})(?:-|/|\.|年)(\d{1,2})月?$`)
	reQuarter = regexp.MustCompile(`^(\d{4})(?:-?q|年第?)([1-4一二三四])(?:季度)?$`)
	reYear    = regexp.MustCompile(`^(\d{4})年?$`)
	quarters  = map[string]int{"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4}
)

// ParsePeriod reads a month (2026-11, 2026年11月), a quarter (2026Q4,
// 2026年第四季度, 2026年第4季度) or a year (2026, 2026年).
func ParsePeriod(s string, loc *time.Location) (Period, bool) {
	in := strings.ToLower(strings.TrimSpace(s))
	year := func(y string) (int, bool) {
		n, err := strconv.Atoi(y)
		return n, err == nil && n >= 2000 && n <= 2100
	}
	if m := reMonth.FindStringSubmatch(in); m != nil {
		y, ok := year(m[1])
		mo, _ := strconv.Atoi(m[2])
		if !ok || mo < 1 || mo > 12 {
			return Period{}, false
		}
		from := time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, loc)
		return Period{Label: fmt.Sprintf("%d-%02d", y, mo), From: from, To: from.AddDate(0, 1, 0)}, true
	}
	if m := reQuarter.FindStringSubmatch(in); m != nil {
		y, ok := year(m[1])
		if !ok {
			return Period{}, false
		}
		q := quarters[m[2]]
		from := time.Date(y, time.Month((q-1)*3+1), 1, 0, 0, 0, 0, loc)
		return Period{Label: fmt.Sprintf("%dQ%d", y, q), From: from, To: from.AddDate(0, 3, 0)}, true
	}
	if m := reYear.FindStringSubmatch(in); m != nil {
		y, ok := year(m[1])
		if !ok {
			return Period{}, false
		}
		from := time.Date(y, 1, 1, 0, 0, 0, 0, loc)
		return Period{Label: strconv.Itoa(y), From: from, To: from.AddDate(1, 0, 0)}, true
	}
	return Period{}, false
}

// MonthPeriod is the calendar month of t.
func MonthPeriod(t time.Time, loc *time.Location) Period {
	t = t.In(loc)
	from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	return Period{Label: from.Format("2006-01"), From: from, To: from.AddDate(0, 1, 0)}
}

// Record is one record behind a figure: the body it counts against, the
// record id (a clue, an item and month, a co-signature, a check, a
// meeting) and the moment the duty was missed.
type Record struct {
	Figure string    `json:"figure"`
	Body   string    `json:"body"`
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	// Detail says why, as a catalog key under assess.why. with the time
	// and text it needs (see Describe); never confidential content.
	Detail     string    `json:"detail"`
	DetailAt   time.Time `json:"detail_at,omitzero"`
	DetailText string    `json:"detail_text,omitempty"`
}

// Describe renders why rec counts, in lang.
func Describe(b *bot.Bot, lang string, rec Record) string {
	return b.T(lang, "assess.why."+rec.Detail, "time", bot.FormatTime(rec.DetailAt, b.Loc), "text", rec.DetailText)
}

// Escalation is a reminder talk or report to the inspection office or the
// leader in charge that the audit log records in the period.
type Escalation struct {
	Time   time.Time `json:"time"`
	Action string    `json:"action"` // clue.escalate, cosign.escalate, consult.escalate, progress.escalate
	Record string    `json:"record"`
	Detail string    `json:"detail,omitempty"`
}

// Assessment is the figures of one period, as of a moment.
type Assessment struct {
	Period      Period
	AsOf        time.Time
	Rows        []string // body ids in roster order
	Records     []Record // sorted by figure order, body row, time, id
	Escalations []Escalation
}

// Count is the figure of body: the number of its records.
func (a *Assessment) Count(figure, body string) int { return len(a.Behind(figure, body)) }

// Total is the figure summed over every body.
func (a *Assessment) Total(figure string) int { return a.Count(figure, "") }

// Behind returns the records of figure ("" for all) and body ("" for all).
func (a *Assessment) Behind(figure, body string) []Record {
	var out []Record
	for _, r := range a.Records {
		if (figure == "" || r.Figure == figure) && (body == "" || r.Body == body) {
			out = append(out, r)
		}
	}
	return out
}

// Compute assesses p from the records as of now, with the clue domain's
// reminder times and the meeting domain's invitees of cfg.
func Compute(ctx context.Context, b *bot.Bot, cfg *config.Config, p Period, now time.Time) (*Assessment, error) {
	cs, err := clue.SettingsOf(cfg)
	if err != nil {
		return nil, err
	}
	ms, err := meeting.SettingsOf(cfg)
	if err != nil {
		return nil, err
	}
	s := &assessor{a: &Assessment{Period: p, AsOf: now}, b: b, cs: cs, ms: ms, p: p, now: now, loc: b.Loc,
		items: progress.NewQueries(b.Store, b.Loc)}
	// Every figure is of a moment at or before now, after the record's
	// creation: records created later have none.
	for _, step := range []func(context.Context) error{s.clues, s.progress, s.cosigns, s.checks, s.meetings, s.escalations} {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	s.sort()
	return s.a, nil
}

// assessor is Compute at work: the assessment it fills, figure by figure.
type assessor struct {
	a     *Assessment
	b     *bot.Bot
	cs    clue.Settings
	ms    meeting.Settings
	p     Period
	now   time.Time
	loc   *time.Location
	items progress.Queries
	r     *bot.Roster // read by meetings
}

// in reports whether t is a moment of the period that has come.
func (s *assessor) in(t time.Time) bool {
	return !t.IsZero() && !t.Before(s.p.From) && t.Before(s.p.To) && !t.After(s.now)
}

func (s *assessor) add(fig, body, id string, at time.Time, detail string, detailAt time.Time, detailText string) {
	s.a.Records = append(s.a.Records, Record{Figure: fig, Body: body, ID: id, At: at, Detail: detail, DetailAt: detailAt, DetailText: detailText})
}

// day is the start of t's day in the deployment zone.
func (s *assessor) day(t time.Time) time.Time {
	t = t.In(s.loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.loc)
}

// clues counts the clues acknowledged late and concluded late. A clue
// late in the period is open or was closed after its reminder or
// deadline moment, which is in the period: the open clues and those
// closed since the period began hold every one.
func (s *assessor) clues(ctx context.Context) error {
	clues, err := clue.NewQueries(s.b.Store, s.loc).ActiveDuring(ctx, s.p.From, s.now)
	if err != nil {
		return err
	}
	for _, c := range clues {
		remindAt, _ := clue.ReminderTimes(s.b.Cal, s.loc, c, s.cs.AckReminder, s.cs.AckEscalate, s.cs.PriorityFactor)
		ackedInTime := !c.AckAt.IsZero() && !c.AckAt.After(remindAt)
		closedBefore := c.Status.Closed() && !c.ClosedAt.IsZero() && !c.ClosedAt.After(remindAt)
		if s.in(remindAt) && !ackedInTime && !closedBefore {
			detail := "not_acked"
			if !c.AckAt.IsZero() {
				detail = "acked_late"
			}
			s.add(FigClueAckLate, c.Body, c.ID, remindAt, detail, c.AckAt, "")
		}
		if !c.Deadline.IsZero() {
			due := s.day(c.Deadline).AddDate(0, 0, 1)
			closedInTime := c.Status.Closed() && !c.ClosedAt.IsZero() && c.ClosedAt.Before(due)
			if s.in(due) && !closedInTime {
				detail := "open_after_deadline"
				if c.Status.Closed() {
					detail = "closed_after_deadline"
				}
				s.add(FigClueConcludeLate, c.Body, c.ID, due, detail, c.ClosedAt, bot.FormatDate(c.Deadline, s.loc))
			}
		}
	}
	return nil
}

// progress counts the items unreported in a closed monthly collection.
func (s *assessor) progress(ctx context.Context) error {
	months, err := s.items.ClosedCollections(ctx, s.p.From, s.p.To, s.now)
	if err != nil {
		return err
	}
	for _, m := range months {
		for _, u := range m.Units {
			for _, item := range u.Missing {
				s.add(FigProgressMissing, u.Unit, item+"@"+m.ID, m.ClosedAt, "unreported", time.Time{}, m.ID)
			}
		}
	}
	return nil
}

// cosigns counts the co-signature parties unsigned when reminded.
func (s *assessor) cosigns(ctx context.Context) error {
	cosigns, err := cosign.NewQueries(s.b.Store).RemindedBetween(ctx, s.p.From, s.p.To)
	if err != nil {
		return err
	}
	for _, c := range cosigns {
		for _, pt := range c.Parties {
			if !s.in(pt.RemindAt) {
				continue
			}
			if pt.State == cosign.PartyConfirmed && !pt.At.IsZero() && !pt.At.After(pt.RemindAt) {
				continue
			}
			// A request declined or withdrawn before the reminder was due
			// asked nothing more of the party.
			stopped := slices.ContainsFunc(c.History, func(e cosign.CosignEvent) bool {
				return (e.Action == "decline" || e.Action == "withdraw") && !e.Time.Before(pt.Since) && !e.Time.After(pt.RemindAt)
			})
			if stopped {
				continue
			}
			detail := "not_signed"
			if pt.State == cosign.PartyConfirmed {
				detail = "signed_late"
			}
			s.add(FigCosignUnsigned, pt.Body, c.ID, pt.RemindAt, detail, pt.At, "")
		}
	}
	return nil
}

// checks counts the relay checks not recorded by the end of their cycle.
// A check is due one cycle (at most two months) after its prompt: the
// checks due in the period were prompted from two months before it.
func (s *assessor) checks(ctx context.Context) error {
	checks, err := s.items.ChecksPromptedBetween(ctx, s.p.From.AddDate(0, -2, 0), s.p.To)
	if err != nil {
		return err
	}
	for _, c := range checks {
		start, err := time.ParseInLocation("2006-01", c.Period, s.loc)
		if err != nil {
			continue
		}
		cycle := 1
		if c.Kind == progress.CheckSupervisor {
			cycle = 2
		}
		due := start.AddDate(0, cycle, 0)
		recorded := c.Result != progress.CheckPending && !c.RecordedAt.IsZero() && c.RecordedAt.Before(due)
		if s.in(due) && !recorded {
			detail := "check_missing"
			if c.Result != progress.CheckPending && !c.RecordedAt.IsZero() {
				detail = "check_late"
			}
			s.add(FigCheckMissing, c.Body, c.ID, due, detail, c.RecordedAt, c.Period)
		}
	}
	return nil
}

// meetings counts the invited bodies that missed a meeting held, and
// reads the roster the rows follow.
func (s *assessor) meetings(ctx context.Context) error {
	meetings, err := meeting.NewQueries(s.b.Store).ScheduledBetween(ctx, s.p.From, s.p.To)
	if err != nil {
		return err
	}
	r, err := s.b.People.Roster(ctx)
	if err != nil {
		return err
	}
	s.r = r
	for _, m := range meetings {
		if m.State != meeting.MeetingScheduled || m.Kind == meeting.MeetingOther || !s.in(m.Time) {
			continue
		}
		invitees := m.Invitees
		if invitees == nil { // stored before invitee lists: the configured ones
			invitees = s.ms.InviteesOf(r, string(m.Kind))
		}
		for _, body := range invitees {
			bd, ok := r.Body(body)
			// The office convenes the meeting; a body with no members
			// cannot be expected to come.
			if !ok || bd.Kind == bot.InspectionOffice || len(r.Members(body)) == 0 {
				continue
			}
			if m.PresenceOf(r, body) == meeting.PresenceAbsent {
				s.add(FigMeetingMissed, body, m.ID, m.Time, "meeting_"+string(m.Kind), time.Time{}, "")
			}
		}
	}
	return nil
}

// escalations lists the reminder talks and reports the audit log records
// in the period.
func (s *assessor) escalations(ctx context.Context) error {
	entries, err := s.b.Audit.Between(ctx, "escalate", s.p.From, s.p.To)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Result != bot.ResultOK || !strings.HasSuffix(e.Action, ".escalate") || !s.in(e.Time) {
			continue
		}
		s.a.Escalations = append(s.a.Escalations, Escalation{Time: e.Time, Action: e.Action, Record: e.Record, Detail: e.Detail})
	}
	return nil
}

// sort puts the rows in roster order (the assessed bodies, then any other
// with a record) and the records by figure, body row, time and id.
func (s *assessor) sort() {
	a := s.a
	order := map[string]int{}
	for i, bd := range s.r.Bodies {
		order[bd.ID] = i
		if slices.Contains(RowKinds, bd.Kind) {
			a.Rows = append(a.Rows, bd.ID)
		}
	}
	for _, rec := range a.Records {
		if !slices.Contains(a.Rows, rec.Body) {
			a.Rows = append(a.Rows, rec.Body)
		}
	}
	rank := func(id string) int {
		if i, ok := order[id]; ok {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(a.Rows, func(x, y string) int {
		if d := rank(x) - rank(y); d != 0 {
			return d
		}
		return strings.Compare(x, y)
	})
	figRank := func(f string) int { return slices.Index(Figures, f) }
	slices.SortStableFunc(a.Records, func(x, y Record) int {
		if d := figRank(x.Figure) - figRank(y.Figure); d != 0 {
			return d
		}
		if d := rank(x.Body) - rank(y.Body); d != 0 {
			return d
		}
		if d := x.At.Compare(y.At); d != 0 {
			return d
		}
		return strings.Compare(x.ID, y.ID)
	})
}
