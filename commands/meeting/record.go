package meeting

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// The meetings' collection and id prefix.
const (
	CollMeetings  = "meetings"
	PrefixMeeting = "HY" // 会议
)

// MeetingKind is the kind of a meeting (定期交流机制).
type MeetingKind string

// The kinds of meeting.
const (
	MeetingWork   MeetingKind = "work"   // 工作例会, every month
	MeetingJoint  MeetingKind = "joint"  // 联席会, every quarter
	MeetingReview MeetingKind = "review" // 总结点评会, every year
	MeetingOther  MeetingKind = "other"  // an ad-hoc meeting
)

// MeetingKinds lists the kinds in display order.
var MeetingKinds = []MeetingKind{MeetingWork, MeetingJoint, MeetingReview, MeetingOther}

// Valid reports whether k is a known kind.
func (k MeetingKind) Valid() bool { return slices.Contains(MeetingKinds, k) }

// Meeting states (Meeting.State).
const (
	MeetingScheduled = "scheduled"
	MeetingCancelled = "cancelled"
)

// Attendance answers (MeetingAnswer.Answer). A leave (请假) is an
// excused absence and not the same as missing the meeting (缺席): an
// invited body is absent only with no leave and no attendance.
const (
	AnswerAttend = "attend" // 参加
	// AnswerLeave keeps the stored value "absent" of the records written
	// before leave and absence were told apart.
	AnswerLeave = "absent" // 请假
)

// MeetingAttendance is one body's actual attendance, recorded by the
// inspection office after the meeting started (会议签到).
type MeetingAttendance struct {
	Body     string       `json:"body"`
	By       string       `json:"by"`
	At       time.Time    `json:"at"`
	Platform bot.Platform `json:"platform,omitempty"`
}

// MeetingAnswer is one person's attendance answer; the latest counts.
type MeetingAnswer struct {
	Person   string       `json:"person"`
	Answer   string       `json:"answer"`
	At       time.Time    `json:"at"`
	Platform bot.Platform `json:"platform,omitempty"`
}

// MeetingNote is minutes or a decision attached to a meeting; the notes
// of a meeting appear on the agenda of the next meeting of its kind.
type MeetingNote struct {
	Time     time.Time    `json:"time"`
	Person   string       `json:"person"`
	Platform bot.Platform `json:"platform,omitempty"`
	Text     string       `json:"text"`
}

// Meeting is a meeting (会议), id HY-2026-0001: convened by a schedule
// (the monthly work meeting, the quarterly joint meeting, the annual
// review) or ad hoc by the inspection office.
type Meeting struct {
	ID    string      `json:"id"`
	Kind  MeetingKind `json:"kind"`
	Title string      `json:"title,omitempty"` // "" for the kind's name
	// Time is when the meeting starts. Planned is the schedule rule's
	// time when the meeting was moved off a day off (Holiday names the
	// official holiday, "" for a weekend); MovedFrom is the time before a
	// move by command.
	Time      time.Time `json:"time"`
	Planned   time.Time `json:"planned,omitzero"`
	Holiday   string    `json:"holiday,omitempty"`
	MovedFrom time.Time `json:"moved_from,omitzero"`
	Place     string    `json:"place,omitempty"`
	// Agenda holds the standing and typed items; OpenItems the items open
	// from last time (overdue clues, unsigned co-signatures, unreported
	// units, the last meeting's decisions), added when the notice went out.
	Agenda    []string `json:"agenda,omitempty"`
	OpenItems []string `json:"open_items,omitempty"`
	// OpenItemsIn holds OpenItems in every language of the catalog (key:
	// language), written at the same time, so that each reader sees them in
	// their own; OpenItems is the deployment language's.
	OpenItemsIn map[string][]string `json:"open_items_in,omitempty"`
	Template    string              `json:"template,omitempty"` // notice text with {placeholders}; "" for the catalog's
	Group       string              `json:"group"`              // group key the notice went to
	State       string              `json:"state"`
	Reason      string              `json:"reason,omitempty"` // why it was cancelled
	// Schedule and Run name the schedule and its run that convened the
	// meeting ("" for an ad-hoc meeting); Run makes the notice idempotent.
	Schedule     string        `json:"schedule,omitempty"`
	Run          string        `json:"run,omitempty"`
	RemindBefore time.Duration `json:"remind_before,omitempty"`
	RemindAt     time.Time     `json:"remind_at,omitzero"`
	Reminded     time.Time     `json:"reminded,omitzero"`
	// Invitees are the body ids invited when the meeting was convened
	// (meetings.invitees of the configuration); only their members answer.
	// Nil for meetings stored before invitee lists: the configuration's
	// list for the kind applies to them.
	Invitees []string        `json:"invitees,omitempty"`
	Answers  []MeetingAnswer `json:"answers,omitempty"`
	// Attendance is the actual attendance the office recorded; once it
	// holds anything it, not the answers, says who attended.
	Attendance []MeetingAttendance `json:"attendance,omitempty"`
	Notes      []MeetingNote       `json:"notes,omitempty"`
	Cards      []bot.MessageRef    `json:"cards,omitempty"`      // posted notice cards, updated on every change
	CreatedBy  string              `json:"created_by,omitempty"` // "" for the scheduler
	CreatedAt  time.Time           `json:"created_at"`
	UpdatedAt  time.Time           `json:"updated_at,omitzero"`
	History    []bot.History       `json:"history,omitempty"`
}

// AnswerOf returns person's answer, "" if none.
func (m *Meeting) AnswerOf(person string) string {
	for _, a := range m.Answers {
		if a.Person == person {
			return a.Answer
		}
	}
	return ""
}

// SetAnswer records person's answer, replacing an earlier one; it
// reports whether anything changed.
func (m *Meeting) SetAnswer(person, answer string, at time.Time, p bot.Platform) bool {
	for i, a := range m.Answers {
		if a.Person == person {
			if a.Answer == answer {
				return false
			}
			m.Answers = slices.Delete(m.Answers, i, i+1) // answers stay in the order given
			break
		}
	}
	m.Answers = append(m.Answers, MeetingAnswer{Person: person, Answer: answer, At: at, Platform: p})
	return true
}

// Count returns how many answered attend and leave.
func (m *Meeting) Count() (attend, absent int) {
	for _, a := range m.Answers {
		switch a.Answer {
		case AnswerAttend:
			attend++
		case AnswerLeave:
			absent++
		}
	}
	return attend, absent
}

// Upcoming reports whether the meeting is scheduled and has not started
// at now.
func (m *Meeting) Upcoming(now time.Time) bool {
	return m.State == MeetingScheduled && now.Before(m.Time)
}

// Invites reports whether p belongs to one of the invited bodies.
func (m *Meeting) Invites(p *bot.Person) bool {
	return p != nil && slices.ContainsFunc(m.Invitees, p.InBody)
}

// AttendanceTaken reports whether the office recorded the attendance.
func (m *Meeting) AttendanceTaken() bool { return len(m.Attendance) > 0 }

// AttendedBy reports whether the office recorded body as present.
func (m *Meeting) AttendedBy(body string) bool {
	return slices.ContainsFunc(m.Attendance, func(a MeetingAttendance) bool { return a.Body == body })
}

// BodyPresence is where an invited body stands for a held meeting.
type BodyPresence string

// The presences of an invited body.
const (
	PresenceAttended BodyPresence = "attended" // 出席
	PresenceLeave    BodyPresence = "leave"    // 请假
	PresenceAbsent   BodyPresence = "absent"   // 缺席
)

// PresenceOf says whether body attended, was on leave or was absent:
// the recorded attendance decides when there is one, else a member's
// "attend" answer; a member's leave excuses a body that did not attend.
func (m *Meeting) PresenceOf(r *bot.Roster, body string) BodyPresence {
	member := func(answer string) bool {
		return slices.ContainsFunc(m.Answers, func(a MeetingAnswer) bool {
			p, ok := r.Person(a.Person)
			return ok && a.Answer == answer && p.InBody(body)
		})
	}
	switch {
	case m.AttendanceTaken() && m.AttendedBy(body):
		return PresenceAttended
	case !m.AttendanceTaken() && member(AnswerAttend):
		return PresenceAttended
	case member(AnswerLeave):
		return PresenceLeave
	}
	return PresenceAbsent
}

// CollMeetingIndex holds the meetings' index documents (see indexDocs):
// empty documents whose ids are sort keys ending in the meeting's id,
// and the key documents of scheduled runs.
const CollMeetingIndex = "meeting_idx"

// Index id prefixes of CollMeetingIndex.
const (
	idxTime      = "time" + index.Sep      // + time + id: every meeting, by its time
	idxScheduled = "scheduled" + index.Sep // + time + id: not cancelled, by its time
	idxRemind    = "remind" + index.Sep    // + time + id: not cancelled nor reminded, by its time
	idxNotes     = "notes" + index.Sep     // + kind + time + id: meetings with notes
	idxRun       = "run" + index.Sep       // + run key: a key document holding the id of the run's meeting
)

// runDoc is the content of a run's key document.
type runDoc struct {
	ID string `json:"id"`
}

// indexDocs are mt's index documents (none for nil).
func indexDocs(mt *Meeting) []index.Doc {
	if mt == nil {
		return nil
	}
	at := index.Time(mt.Time)
	ds := []index.Doc{{Coll: CollMeetingIndex, ID: idxTime + index.Key(at, mt.ID)}}
	if mt.State == MeetingScheduled {
		ds = append(ds, index.Doc{Coll: CollMeetingIndex, ID: idxScheduled + index.Key(at, mt.ID)})
		if !mt.RemindAt.IsZero() && mt.Reminded.IsZero() {
			ds = append(ds, index.Doc{Coll: CollMeetingIndex, ID: idxRemind + index.Key(at, mt.ID)})
		}
	}
	if len(mt.Notes) > 0 {
		ds = append(ds, index.Doc{Coll: CollMeetingIndex, ID: idxNotes + index.Key(string(mt.Kind), at, mt.ID)})
	}
	if mt.Run != "" {
		doc, _ := json.Marshal(runDoc{ID: mt.ID})
		ds = append(ds, index.Doc{Coll: CollMeetingIndex, ID: idxRun + mt.Run, Data: string(doc)})
	}
	return ds
}

// records is the collection of Meeting, each write with its index
// documents in the same unit of work: every change of a stored record
// goes through create or update.
var records = index.Records[Meeting]{Coll: CollMeetings, Docs: indexDocs}

// create stores a new record with its index documents, in the unit of
// work of ctx; ECONFLICT if its id exists.
func create(ctx context.Context, s bot.Store, mt *Meeting) error {
	return records.Create(ctx, s, mt.ID, mt)
}

// update applies fn to record id atomically and moves its index
// documents, in the unit of work of ctx.
func update(ctx context.Context, s bot.Store, id string, fn func(*Meeting) error) (*Meeting, error) {
	return records.Update(ctx, s, id, fn)
}

// Seed stores a meeting made outside the meeting commands (the scale
// benchmark's, a test's) with its index documents; ECONFLICT when one
// with its id exists.
func Seed(ctx context.Context, s bot.Store, mt *Meeting) error { return create(ctx, s, mt) }

// BackfillIndex gives the meetings of a store written before the index
// their index documents, once (see index.Backfill).
func BackfillIndex(ctx context.Context, b *bot.Bot) (int, error) {
	return records.Backfill(ctx, b, CollMeetingIndex)
}
