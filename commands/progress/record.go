package progress

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// The rectification items' collection and id prefix.
const (
	CollItems  = "items" // rectification items
	PrefixItem = "ZG"    // 整改
)

// Collections of the rectification-progress records (整改进度).
const (
	CollProgressMonths = "progress_months" // monthly collection and notice state, id "2026-12"
	CollProgressChecks = "progress_checks" // relay checks, id "<kind>:<body>:<2026-12>"
)

// ItemStatus is where a rectification item stands.
type ItemStatus string

// The statuses of a rectification item. An item the responsible unit
// reports complete (100%) awaits its supervising body's confirmation
// (待销号); only the confirmation closes it (已销号, 销号). A refusal, with
// a reason, returns it to 整改中.
const (
	ItemOpen     ItemStatus = "open"     // 整改中
	ItemAwaiting ItemStatus = "awaiting" // 待销号: reported 100%, not yet confirmed
	// ItemDone is 已销号: closed by a supervising body's confirmation.
	// Items completed before 销号 was required stand here too.
	ItemDone ItemStatus = "done"
)

// Item is a rectification item (整改事项): a problem an inspected
// organisation (the responsible unit) must fix by a deadline, under the
// supervision of one or more discipline bodies, with the history of
// progress the unit and its supervisors logged.
type Item struct {
	ID          string     `json:"id"` // ZG-2026-0001
	Round       string     `json:"round,omitempty"`
	Unit        string     `json:"unit"`        // body id of the responsible unit
	Title       string     `json:"title"`       // not confidential: items are discussed in groups
	Deadline    time.Time  `json:"deadline"`    // a date: midnight in the deployment zone
	Supervisors []string   `json:"supervisors"` // body ids: supervision room, stationed group, supervisor office
	Immediate   bool       `json:"immediate,omitempty"`
	Source      string     `json:"source,omitempty"` // body id of the creating team or office
	Percent     int        `json:"percent"`          // 0–100, the latest logged
	Status      ItemStatus `json:"status"`
	// CompletedAt is when the item was reported 100% and began to await
	// confirmation (待销号); zero while 整改中.
	CompletedAt time.Time `json:"completed_at,omitzero"`
	// DoneAt is when it was closed (已销号), ClosedBy who confirmed it.
	DoneAt    time.Time `json:"done_at,omitzero"`
	ClosedBy  string    `json:"closed_by,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	// Progress is every logged update, oldest first; never rewritten.
	Progress []ProgressEntry `json:"progress,omitempty"`
	// Unreported lists the months ("2026-12") whose collection closed
	// without an update of this item (未报送).
	Unreported []string         `json:"unreported,omitempty"`
	Cards      []bot.MessageRef `json:"cards,omitempty"`
	// ClosureCards are the completion notices sent to the supervising
	// bodies, updated when the item is closed or returned.
	ClosureCards []bot.MessageRef `json:"closure_cards,omitempty"`
	History      []bot.History    `json:"history,omitempty"` // creation, import, checks, close, reject
}

// ProgressEntry is one logged progress update: who, when, through which
// platform, the percentage before and after, and the note.
type ProgressEntry struct {
	Time     time.Time    `json:"time"`
	Person   string       `json:"person"`
	Platform bot.Platform `json:"platform"`
	From     int          `json:"from"`
	Percent  int          `json:"percent"`
	Note     string       `json:"note,omitempty"`
	// Correction is set when a supervisor lowered the percentage; Reason
	// says why.
	Correction bool   `json:"correction,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// Open reports whether the item is still being rectified (整改中).
func (it *Item) Open() bool { return it.Status != ItemDone && it.Status != ItemAwaiting }

// Awaiting reports whether the item awaits its confirmation (待销号).
func (it *Item) Awaiting() bool { return it.Status == ItemAwaiting }

// OpenAt reports whether the item existed and was being rectified at t:
// neither awaiting confirmation nor closed.
func (it *Item) OpenAt(t time.Time) bool {
	return !it.CreatedAt.After(t) && !it.DoneBy(t) && !it.AwaitingAt(t)
}

// AwaitingAt reports whether the item existed and awaited confirmation
// (待销号) at t.
func (it *Item) AwaitingAt(t time.Time) bool {
	if it.CreatedAt.After(t) || it.CompletedAt.IsZero() || it.CompletedAt.After(t) {
		return false
	}
	return it.Status == ItemAwaiting || (it.Status == ItemDone && it.DoneAt.After(t))
}

// DoneBy reports whether the item existed and was closed (已销号) at t.
func (it *Item) DoneBy(t time.Time) bool {
	return !it.CreatedAt.After(t) && it.Status == ItemDone && !it.DoneAt.After(t)
}

// PercentAt returns the percentage logged last at or before t.
func (it *Item) PercentAt(t time.Time) int {
	p := 0
	for _, e := range it.Progress {
		if e.Time.After(t) {
			break
		}
		p = e.Percent
	}
	return p
}

// OverdueAt reports whether the item was open at now and now's date is
// after its deadline date ("overdue" means today is after the deadline day).
func (it *Item) OverdueAt(now time.Time, loc *time.Location) bool {
	if !it.OpenAt(now) || it.Deadline.IsZero() {
		return false
	}
	return bot.Midnight(now, loc).After(bot.Midnight(it.Deadline, loc))
}

// UpdatedBetween reports whether a progress entry was logged in [from, to).
func (it *Item) UpdatedBetween(from, to time.Time) bool {
	return slices.ContainsFunc(it.Progress, func(e ProgressEntry) bool { return !e.Time.Before(from) && e.Time.Before(to) })
}

// SupervisedBy reports whether the body with id supervises the item.
func (it *Item) SupervisedBy(id string) bool { return slices.Contains(it.Supervisors, id) }

// IsSupervisor reports whether p belongs to one of the item's supervising
// bodies.
func (it *Item) IsSupervisor(p *bot.Person) bool {
	return p != nil && slices.ContainsFunc(it.Supervisors, p.InBody)
}

// MayLog reports whether p may log progress on the item: members of the
// responsible unit and of its supervising bodies.
func (it *Item) MayLog(p *bot.Person) bool { return p.InBody(it.Unit) || it.IsSupervisor(p) }

// UnitReport states one responsible unit's answer to a monthly collection.
type UnitReport struct {
	Unit  string   `json:"unit"`
	Items []string `json:"items"` // the open items it was asked about
	// Reminded holds the indexes of the configured reminders already sent.
	Reminded []int `json:"reminded,omitempty"`
	// Missing is filled when the collection closes: the asked items with
	// no update by the deadline. Empty after the close means reported.
	Missing []string         `json:"missing,omitempty"`
	Prompts []bot.MessageRef `json:"prompts,omitempty"`
}

// Unreported reports whether the unit failed the closed collection.
func (u *UnitReport) Unreported() bool { return len(u.Missing) > 0 }

// OrgFigures are one organisation's rectification figures at a moment.
// Total = Open + Awaiting + Done; Done counts the closed items (已销号)
// only, Awaiting those reported complete and awaiting confirmation
// (待销号); Overdue ⊆ Open; Unreported counts the items asked about in the
// month's collection with no update.
type OrgFigures struct {
	Unit       string `json:"unit"` // body id; "" for the total
	Total      int    `json:"total"`
	Open       int    `json:"open"`
	Awaiting   int    `json:"awaiting,omitempty"`
	Done       int    `json:"done"`
	Overdue    int    `json:"overdue"`
	Unreported int    `json:"unreported"`
	Immediate  int    `json:"immediate"`   // immediate-fix items among Total
	PercentSum int    `json:"percent_sum"` // sum of the items' percentages
}

// Rate is the completion rate in whole percent: Done (closed) / Total.
func (f OrgFigures) Rate() int {
	if f.Total == 0 {
		return 0
	}
	return (f.Done*100 + f.Total/2) / f.Total
}

// Average is the mean logged percentage in whole percent.
func (f OrgFigures) Average() int {
	if f.Total == 0 {
		return 0
	}
	return (f.PercentSum + f.Total/2) / f.Total
}

// Weak reports whether the organisation had an overdue or unreported
// item: the precondition for naming it a special-inspection candidate.
func (f OrgFigures) Weak() bool { return f.Overdue > 0 || f.Unreported > 0 }

// ProgressMonth is the state of one month's collection (月度进度收集) and
// monthly notice (每月汇总通报).
type ProgressMonth struct {
	ID string `json:"id"` // "2026-12"
	// Collection; zero StartedAt when the month had none.
	StartedAt   time.Time    `json:"started_at,omitzero"`
	WindowStart time.Time    `json:"window_start,omitzero"` // updates from here on count for the month
	Deadline    time.Time    `json:"deadline,omitzero"`     // a date: the last day to report
	Units       []UnitReport `json:"units,omitempty"`
	ClosedAt    time.Time    `json:"closed_at,omitzero"` // unreported units marked
	// Notice.
	NoticeAt  time.Time    `json:"notice_at,omitzero"`
	Figures   []OrgFigures `json:"figures,omitempty"` // per organisation, at NoticeAt
	Special   []string     `json:"special,omitempty"` // candidates for special inspection (专项督查)
	Escalated []string     `json:"escalated,omitempty"`
	// EscalatedBodies are the supervising bodies reported for missing
	// relay checks; EscalatedChecks the check ids behind them.
	EscalatedBodies []string         `json:"escalated_bodies,omitempty"`
	EscalatedChecks []string         `json:"escalated_checks,omitempty"`
	NoticeCards     []bot.MessageRef `json:"notice_cards,omitempty"`
}

// Unit returns the report of unit, or nil.
func (m *ProgressMonth) Unit(id string) *UnitReport {
	for i := range m.Units {
		if m.Units[i].Unit == id {
			return &m.Units[i]
		}
	}
	return nil
}

// Closed reports whether the collection's deadline passed and the
// unreported units were marked.
func (m *ProgressMonth) Closed() bool { return !m.ClosedAt.IsZero() }

// Unreported returns the units marked unreported, in collection order.
func (m *ProgressMonth) Unreported() []string {
	var out []string
	for _, u := range m.Units {
		if u.Unreported() {
			out = append(out, u.Unit)
		}
	}
	return out
}

// FiguresOf returns the stored notice figures of unit.
func (m *ProgressMonth) FiguresOf(unit string) (OrgFigures, bool) {
	for _, f := range m.Figures {
		if f.Unit == unit {
			return f, true
		}
	}
	return OrgFigures{}, false
}

// MonthID returns the month id ("2026-12") of t in loc.
func MonthID(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01") }

// PrevMonthID returns the id of the month before id ("2026-01" → "2025-12").
func PrevMonthID(id string) string {
	var y, m int
	if _, err := fmt.Sscanf(id, "%d-%d", &y, &m); err != nil {
		return ""
	}
	m--
	if m == 0 {
		y, m = y-1, 12
	}
	return fmt.Sprintf("%04d-%02d", y, m)
}

// CheckKind is one of the relay follow-up checks (接力跟进).
type CheckKind string

// The relay checks this feature prompts.
const (
	CheckStationed  CheckKind = "stationed"  // 派驻纪检监察组每月整改进度督查
	CheckSupervisor CheckKind = "supervisor" // 派出监察员办公室每两个月监督检查
)

// CheckResult is the outcome a body records for its check.
type CheckResult string

// Check results.
const (
	CheckPending CheckResult = ""       // prompted, not yet recorded
	CheckPassed  CheckResult = "passed" // 无问题
	CheckIssues  CheckResult = "issues" // 发现问题
)

// CheckFinding is a problem a check found on one item.
type CheckFinding struct {
	Item   string      `json:"item"`
	Note   string      `json:"note"`
	Person string      `json:"person"`
	Time   time.Time   `json:"time"`
	Result CheckResult `json:"result,omitempty"` // set in Check.Log
}

// Check is one scheduled relay check of a supervising body over the
// items it supervises.
type Check struct {
	ID         string         `json:"id"` // "<kind>:<body>:<2026-12>"
	Kind       CheckKind      `json:"kind"`
	Body       string         `json:"body"`
	Period     string         `json:"period"` // month id of the prompt
	Items      []string       `json:"items"`  // the items listed in the prompt
	PromptedAt time.Time      `json:"prompted_at"`
	Result     CheckResult    `json:"result,omitempty"`
	Note       string         `json:"note,omitempty"`
	Findings   []CheckFinding `json:"findings,omitempty"`
	// Log is every overall result recorded, oldest first, so a later
	// "passed" never erases an earlier finding's text.
	Log        []CheckFinding   `json:"log,omitempty"`
	RecordedBy string           `json:"recorded_by,omitempty"`
	RecordedAt time.Time        `json:"recorded_at,omitzero"`
	Platform   bot.Platform     `json:"platform,omitempty"`
	Cards      []bot.MessageRef `json:"cards,omitempty"`
}

// CheckID returns the id of the check of kind by body for period.
func CheckID(kind CheckKind, body, period string) string {
	return string(kind) + ":" + body + ":" + period
}

// save is the one write of an item: it stores next (nil: removes old)
// and brings its index documents, its title key and the tally of closed
// items in line with it, all with ctx, so that inside a unit of work
// they commit together with the record. old is the item as it was
// stored before (nil for a new item); its index documents that next does
// not have are deleted.
func save(ctx context.Context, s bot.Store, old, next *Item) error {
	switch {
	case next != nil:
		if err := bot.Records[Item](s, CollItems).Put(ctx, next.ID, next); err != nil {
			return err
		}
	case old != nil:
		if err := s.Delete(ctx, CollItems, old.ID); err != nil {
			return err
		}
	}
	return reindex(ctx, s, old, next)
}

// Seed stores it, with its index documents, as the progress commands
// would: for data written from outside the commands (the scale
// benchmark's generator). An item already stored under it.ID is
// replaced and its index documents with it.
func Seed(ctx context.Context, s bot.Store, it *Item) error {
	old, err := bot.Records[Item](s, CollItems).Get(ctx, it.ID)
	if bot.IsNotFound(err) {
		old, err = nil, nil
	}
	if err != nil {
		return err
	}
	if old == nil {
		if err := claimTitle(ctx, s, it); err != nil {
			return err
		}
	}
	return save(ctx, s, old, it)
}

// insert stores the new item it (with its id set), claiming its title
// in its unit first: a title already taken is a *bot.Error naming the
// item that holds it.
func insert(ctx context.Context, s bot.Store, it *Item) error {
	if err := claimTitle(ctx, s, it); err != nil {
		return err
	}
	if err := bot.Records[Item](s, CollItems).Create(ctx, it.ID, it); err != nil {
		return err
	}
	return reindex(ctx, s, nil, it)
}

// update changes item id by fn and its index documents with it; fn may
// run more than once (see bot.Collection.Update).
func update(ctx context.Context, s bot.Store, id string, fn func(*Item) error) (*Item, error) {
	var old *Item
	next, err := bot.Records[Item](s, CollItems).Update(ctx, id, func(v *Item) error {
		old = v.indexed()
		return fn(v)
	})
	if err != nil {
		return nil, err
	}
	return next, reindex(ctx, s, old, next)
}

// remove deletes it with its index documents and title key.
func remove(ctx context.Context, s bot.Store, it *Item) error {
	if err := save(ctx, s, it, nil); err != nil {
		return err
	}
	return s.Delete(ctx, CollItemTitles, titleKey(it.Unit, it.Title))
}

// CollCheckIndex indexes the relay checks by period: id
// "<2026-12>\x00<check id>", an empty document, written with the check
// (a check's period never changes).
const CollCheckIndex = "check_idx"

func checkIndexKey(c *Check) string { return c.Period + "\x00" + c.ID }

// createCheck stores the new check c with its index document.
func createCheck(ctx context.Context, s bot.Store, c *Check) error {
	if err := bot.Records[Check](s, CollProgressChecks).Create(ctx, c.ID, c); err != nil {
		return err
	}
	return s.Put(ctx, CollCheckIndex, checkIndexKey(c), []byte("{}"))
}

// SeedCheck stores c with its index document, as the progress commands
// would: for data written from outside the commands (the scale
// benchmark's generator).
func SeedCheck(ctx context.Context, s bot.Store, c *Check) error {
	if err := bot.Records[Check](s, CollProgressChecks).Put(ctx, c.ID, c); err != nil {
		return err
	}
	return s.Put(ctx, CollCheckIndex, checkIndexKey(c), []byte("{}"))
}
