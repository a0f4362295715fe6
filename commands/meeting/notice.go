package meeting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/i18n"
	"github.com/xunji-bot/xunji/bot/schedule"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// maxOpenItems bounds the items one source adds to an agenda; the rest
// are counted in one line.
const maxOpenItems = 10

// errSkip aborts an update that has nothing to do.
var errSkip = errors.New("meeting: nothing to do")

// notice is the meeting.notice task: it creates the meeting the schedule
// convenes at at, with the agenda items open from last time, and posts
// its card to the group. It is idempotent per scheduled run, so a retry
// after a crash neither creates a second meeting nor posts a second card.
func (m *handler) notice(ctx context.Context, at time.Time) error {
	run, ok := schedule.RunFrom(ctx)
	if !ok {
		run = &schedule.Run{Task: TaskNotice, At: at, Planned: at, Key: TaskNotice + "@" + at.In(m.b.Loc).Format(time.RFC3339)}
	}
	now := m.b.Now()
	mt, err := m.byRun(ctx, run.Key)
	if err != nil {
		return err
	}
	if mt == nil {
		if mt, err = m.createScheduled(ctx, run, at, now); err != nil {
			return err
		}
	} else if len(mt.Cards) > 0 {
		return nil // posted by an earlier attempt
	}
	_, err = m.post(ctx, mt, now)
	return err
}

// createScheduled stores the meeting a scheduled run convenes.
func (m *handler) createScheduled(ctx context.Context, run *schedule.Run, at, now time.Time) (*Meeting, error) {
	kind := MeetingWork
	if k, ok := ParseKind(run.Meeting.Kind); ok {
		kind = k
	}
	group := run.Group
	if group == "" {
		group = m.cfg.NoticeGroup("meeting")
	}
	remind := run.Remind
	if remind <= 0 {
		remind = DefaultRemind
	}
	id, err := bot.NewID(ctx, m.b.Store, PrefixMeeting, at.In(m.b.Loc).Year())
	if err != nil {
		return nil, err
	}
	invitees, err := m.invitees(ctx, kind)
	if err != nil {
		return nil, err
	}
	mt := &Meeting{
		ID: id, Kind: kind, Title: run.Title, Time: at, Place: run.Meeting.Place, Invitees: invitees,
		Agenda: append([]string(nil), run.Meeting.Agenda...), Template: run.Template, Group: group,
		State: MeetingScheduled, Schedule: run.Schedule, Run: run.Key,
		RemindBefore: remind, RemindAt: at.Add(-remind), CreatedAt: now,
	}
	if run.Moved() {
		mt.Planned, mt.Holiday = run.Planned, run.Holiday
	}
	m.setOpenItems(ctx, mt, now)
	history(mt, nil, now, "create", run.Key)
	if err := create(ctx, m.b.Store, mt); err != nil {
		return nil, err
	}
	if err := m.b.Audit.Record(ctx, nil, "meeting.create", id, "schedule="+run.Schedule+" at="+bot.FormatTime(at, m.b.Loc)); err != nil {
		return nil, err
	}
	return mt, nil
}

// byRun returns the meeting a scheduled run created, if any, from the
// run's key document (a Get, so that a unit of work creating a second
// meeting for the run conflicts with the one that created the first).
func (m *handler) byRun(ctx context.Context, key string) (*Meeting, error) {
	doc, err := m.b.Store.Get(ctx, CollMeetingIndex, idxRun+key)
	if bot.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rd runDoc
	if err := json.Unmarshal(doc, &rd); err != nil {
		return nil, &bot.Error{Code: bot.EINTERNAL, Err: fmt.Errorf("meeting run %q: %w", key, err)}
	}
	mt, err := m.coll.Get(ctx, rd.ID)
	if bot.IsNotFound(err) {
		return nil, nil
	}
	return mt, err
}

// post sends the meeting's card to its group and keeps the message
// references so later changes update it.
func (m *handler) post(ctx context.Context, mt *Meeting, now time.Time) (*Meeting, error) {
	r, err := m.b.People.Roster(ctx)
	if err != nil {
		return nil, err
	}
	key := mt.Run
	if key == "" {
		key = "meeting:" + mt.ID
	}
	refs, sendErr := m.b.Out.Notify(ctx, bot.Notice{Group: mt.Group, Card: m.card(m.b.Lang, r, mt, now), Key: key})
	if len(refs) == 0 {
		return mt, sendErr
	}
	updated, err := update(ctx, m.b.Store, mt.ID, func(x *Meeting) error {
		x.Cards = append(x.Cards, refs...)
		return nil
	})
	if err != nil {
		return mt, err
	}
	return updated, sendErr
}

// setOpenItems lists on mt the items open from last time, in every
// language of the catalog: they are a snapshot of that moment, which
// cannot be rendered again later in another language.
func (m *handler) setOpenItems(ctx context.Context, mt *Meeting, now time.Time) {
	mt.OpenItems = m.openItems(ctx, mt, now, m.b.Lang)
	mt.OpenItemsIn = map[string][]string{i18n.Norm(m.b.Lang): mt.OpenItems}
	for _, lang := range i18n.Langs {
		if _, done := mt.OpenItemsIn[lang]; !done {
			mt.OpenItemsIn[lang] = m.openItems(ctx, mt, now, lang)
		}
	}
}

// openItems are the agenda items open from last time, in lang: the
// previous meeting's notes, overdue clues (in the clue group only),
// unsigned co-signatures (those the whole group may know of) and the
// units that did not report progress, each asked of the domain that owns
// the records. A source that fails is logged and left out, so the notice
// still goes out.
func (m *handler) openItems(ctx context.Context, mt *Meeting, now time.Time, lang string) []string {
	var items []string
	add := func(name string, lines []string, err error) {
		if err != nil {
			m.b.Log.Error("agenda source failed", "source", name, "err", err)
			return
		}
		if len(lines) > maxOpenItems {
			rest := len(lines) - maxOpenItems
			lines = append(lines[:maxOpenItems:maxOpenItems], m.b.T(lang, "meeting.agenda.more", "count", rest))
		}
		items = append(items, lines...)
	}
	lines, err := m.previousNotes(ctx, mt, lang)
	add("notes", lines, err)
	if m.disciplineOnly(ctx, mt.Group) {
		lines, err = m.overdueClues(ctx, lang, now)
		add("clues", lines, err)
	}
	lines, err = m.unsignedCosigns(ctx, lang, now, mt.Group)
	add("cosigns", lines, err)
	lines, err = m.unreported(ctx, lang, now)
	add("progress", lines, err)
	return items
}

// previousNotes are the notes of the latest earlier meeting of the same
// kind that has any.
func (m *handler) previousNotes(ctx context.Context, mt *Meeting, lang string) ([]string, error) {
	// The notes index of the kind, newest first, from before mt's time.
	prefix := idxNotes + string(mt.Kind) + index.Sep
	ids, _, err := index.Page(ctx, m.b.Store, CollMeetingIndex, prefix, prefix+index.Time(mt.Time), 2, true)
	if err != nil {
		return nil, err
	}
	var prev *Meeting
	for _, id := range index.Unique(ids) {
		x, err := m.coll.Get(ctx, id)
		if err != nil && !bot.IsNotFound(err) {
			return nil, err
		}
		if x != nil && x.ID != mt.ID && x.Kind == mt.Kind && x.Time.Before(mt.Time) && len(x.Notes) > 0 {
			prev = x
			break
		}
	}
	if prev == nil {
		return nil, nil
	}
	var out []string
	for _, n := range prev.Notes {
		out = append(out, m.b.T(lang, "meeting.agenda.note", "id", prev.ID, "date", bot.FormatDate(prev.Time, m.b.Loc), "text", n.Text))
	}
	return out, nil
}

// disciplineOnly reports whether the meeting's group may read which
// clues are overdue: only the configured clue group, which validation
// and the current roster keep free of inspected units. Anywhere else
// (the coordination group, where the inspected units' contacts sit) the
// agenda leaves clues out altogether — not even a count — so that no
// unit learns that clues exist.
func (m *handler) disciplineOnly(ctx context.Context, group string) bool {
	g := m.clueGroup
	if g == "" || group != g {
		return false
	}
	r, err := m.b.People.Roster(ctx)
	if err != nil {
		return false
	}
	_, _, seated := r.SeatsResponsibleUnit(m.clueBodies)
	return !seated
}

// overdueClues names the overdue clues (clue.Queries.OverdueAt): each
// clue's number, receiving body and deadline — never its substance.
func (m *handler) overdueClues(ctx context.Context, lang string, now time.Time) ([]string, error) {
	clues, err := m.clues.OverdueAt(ctx, now)
	if err != nil {
		return nil, err
	}
	r, err := m.b.People.Roster(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range clues {
		out = append(out, m.b.T(lang, "meeting.agenda.clue", "id", c.ID, "body", r.BodyName(c.Body, lang), "deadline", bot.FormatDate(c.Deadline, m.b.Loc)))
	}
	return out, nil
}

// unsignedCosigns are the co-signatures with a party past its reminder
// time (cosign.Queries.UnsignedAt), naming those parties — only those
// that everyone sitting in group (the meeting's) may know of
// (cosign.Cosign.ShownTo). A co-signature of one inspected organisation
// is left out altogether (no line, no count) in a group where another
// organisation's people sit, or where nobody is known to sit.
func (m *handler) unsignedCosigns(ctx context.Context, lang string, now time.Time, group string) ([]string, error) {
	bodies := m.cfg.GroupBodies(group)
	if len(bodies) == 0 {
		return nil, nil
	}
	cs, err := m.cosigns.UnsignedAt(ctx, now)
	if err != nil {
		return nil, err
	}
	r, err := m.b.People.Roster(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cs {
		if !c.ShownTo(r, bodies) {
			continue
		}
		var bodies []string
		for _, i := range c.Overdue(now) {
			bodies = append(bodies, r.BodyName(c.Parties[i].Body, lang))
		}
		out = append(out, m.b.T(lang, "meeting.agenda.cosign", "id", c.ID, "bodies", strings.Join(bodies, m.b.T(lang, "list.sep"))))
	}
	return out, nil
}

// unreported names the units that did not report rectification progress
// in the latest collection closed by now
// (progress.Queries.LatestClosedCollection).
func (m *handler) unreported(ctx context.Context, lang string, now time.Time) ([]string, error) {
	last, err := m.items.LatestClosedCollection(ctx, now)
	if err != nil {
		return nil, err
	}
	if last == nil || len(last.Unreported()) == 0 {
		return nil, nil
	}
	r, err := m.b.People.Roster(ctx)
	if err != nil {
		return nil, err
	}
	var units []string
	for _, u := range last.Unreported() {
		units = append(units, r.BodyName(u, lang))
	}
	return []string{m.b.T(lang, "meeting.agenda.unreported", "month", last.ID, "units", strings.Join(units, m.b.T(lang, "list.sep")))}, nil
}

// remind is the reminder job: once per meeting, when its reminder time
// has come and it has not started, it tells the group. The atomic update
// that sets Reminded decides which process sends it.
func (m *handler) remind(ctx context.Context, now time.Time) error {
	// The meetings not reminded that have not started, from the index by
	// meeting time: those after now (a few, the calendar's next ones).
	ids, _, err := index.Page(ctx, m.b.Store, CollMeetingIndex, idxRemind, idxRemind+index.Time(now)+index.Sep+"\xff", 0, false)
	if err != nil {
		return err
	}
	ms, err := NewQueries(m.b.Store).load(ctx, ids, func(mt *Meeting) bool { return due(mt, now) })
	if err != nil {
		return err
	}
	var errs []error
	for _, mt := range ms {
		id := mt.ID
		// Each reminder (mark, audit, notice) is one unit of work.
		errs = append(errs, m.b.RunUnit(ctx, func(ctx context.Context) error { return m.remindOne(ctx, id, now) }))
	}
	return errors.Join(errs...)
}

// remindOne marks meeting id reminded and tells its group, unless it is
// no longer due.
func (m *handler) remindOne(ctx context.Context, id string, now time.Time) error {
	updated, err := update(ctx, m.b.Store, id, func(x *Meeting) error {
		if !due(x, now) {
			return errSkip
		}
		x.Reminded = now
		history(x, nil, now, "remind", "")
		return nil
	})
	if errors.Is(err, errSkip) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := m.b.Audit.Record(ctx, nil, "meeting.remind", updated.ID, ""); err != nil {
		return err
	}
	lang := m.b.Lang
	attend, absent := updated.Count()
	place := updated.Place
	if place == "" {
		place = m.b.T(lang, "meeting.place_tbd")
	}
	text := m.b.T(lang, "meeting.reminder", "title", m.title(lang, updated), "id", updated.ID, "time", m.when(lang, updated.Time), "place", place, "attend", attend, "absent", absent)
	_, err = m.b.Out.Notify(ctx, bot.Notice{Group: updated.Group, Text: text, Key: "meeting.remind:" + updated.ID})
	return err
}

// due reports whether mt's reminder should go out at now.
func due(mt *Meeting, now time.Time) bool {
	return mt.State == MeetingScheduled && !mt.RemindAt.IsZero() && mt.Reminded.IsZero() &&
		!now.Before(mt.RemindAt) && now.Before(mt.Time)
}
