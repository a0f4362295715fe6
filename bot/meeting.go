package bot

import (
	"slices"
	"time"
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

// Attendance answers (MeetingAnswer.Answer).
const (
	AnswerAttend = "attend" // 参加
	AnswerAbsent = "absent" // 请假
)

// MeetingAnswer is one person's attendance answer; the latest counts.
type MeetingAnswer struct {
	Person   string    `json:"person"`
	Answer   string    `json:"answer"`
	At       time.Time `json:"at"`
	Platform Platform  `json:"platform,omitempty"`
}

// MeetingNote is minutes or a decision attached to a meeting; the notes
// of a meeting appear on the agenda of the next meeting of its kind.
type MeetingNote struct {
	Time     time.Time `json:"time"`
	Person   string    `json:"person"`
	Platform Platform  `json:"platform,omitempty"`
	Text     string    `json:"text"`
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
	Schedule     string          `json:"schedule,omitempty"`
	Run          string          `json:"run,omitempty"`
	RemindBefore time.Duration   `json:"remind_before,omitempty"`
	RemindAt     time.Time       `json:"remind_at,omitzero"`
	Reminded     time.Time       `json:"reminded,omitzero"`
	Answers      []MeetingAnswer `json:"answers,omitempty"`
	Notes        []MeetingNote   `json:"notes,omitempty"`
	Cards        []MessageRef    `json:"cards,omitempty"`      // posted notice cards, updated on every change
	CreatedBy    string          `json:"created_by,omitempty"` // "" for the scheduler
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at,omitzero"`
	History      []History       `json:"history,omitempty"`
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
func (m *Meeting) SetAnswer(person, answer string, at time.Time, p Platform) bool {
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

// Count returns how many answered attend and absent.
func (m *Meeting) Count() (attend, absent int) {
	for _, a := range m.Answers {
		switch a.Answer {
		case AnswerAttend:
			attend++
		case AnswerAbsent:
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
