package clue

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// The clues' collection and id prefix.
const (
	CollClues  = "clues"
	PrefixClue = "XS" // 线索
)

// ClueStatus is where a problem clue stands in its handling.
type ClueStatus string

// The statuses of a clue: transferred → acknowledged → verifying →
// concluded, or returned from any open step.
const (
	ClueTransferred  ClueStatus = "transferred"  // 已移送, awaiting acknowledgement
	ClueAcknowledged ClueStatus = "acknowledged" // 已签收
	ClueVerifying    ClueStatus = "verifying"    // 核查中
	ClueConcluded    ClueStatus = "concluded"    // 已办结
	ClueReturned     ClueStatus = "returned"     // 已退回
)

// ClueStatuses lists the statuses in workflow order.
var ClueStatuses = []ClueStatus{ClueTransferred, ClueAcknowledged, ClueVerifying, ClueConcluded, ClueReturned}

// Closed reports whether s is a final status.
func (s ClueStatus) Closed() bool { return s == ClueConcluded || s == ClueReturned }

// clueMoves is the transition table; every other move is refused.
var clueMoves = map[ClueStatus][]ClueStatus{
	ClueTransferred:  {ClueAcknowledged, ClueReturned},
	ClueAcknowledged: {ClueVerifying, ClueConcluded, ClueReturned}, // a disposal may follow receipt at once
	ClueVerifying:    {ClueConcluded, ClueReturned},
}

// ClueNext returns the statuses a clue in s may move to.
func ClueNext(s ClueStatus) []ClueStatus { return slices.Clone(clueMoves[s]) }

// ClueCanMove reports whether a clue may move from one status to another.
func ClueCanMove(from, to ClueStatus) bool { return slices.Contains(clueMoves[from], to) }

// ClueConclusion is how a received clue was disposed of (处置方式), by
// one of the four methods of the supervision and discipline rules
// (监督执纪工作规则).
type ClueConclusion string

// The four disposal methods.
const (
	DisposalTalk    ClueConclusion = "talk_inquiry"             // 谈话函询
	DisposalVerify  ClueConclusion = "preliminary_verification" // 初步核实; may lead to 立案审查调查 (Clue.CaseOpened)
	DisposalShelve  ClueConclusion = "filed_for_later"          // 暂存待查
	DisposalClosure ClueConclusion = "closed"                   // 予以了结
)

// ClueConclusions lists the disposal methods in the rules' order.
var ClueConclusions = []ClueConclusion{DisposalTalk, DisposalVerify, DisposalShelve, DisposalClosure}

// Valid reports whether d is one of the four methods.
func (d ClueConclusion) Valid() bool { return slices.Contains(ClueConclusions, d) }

// The conclusions stored before the four methods, read as one of them
// (see Clue.UnmarshalJSON).
const (
	legacyFiled           ClueConclusion = "filed"           // 立案
	legacyOther           ClueConclusion = "other"           // 其他方式处置
	legacyUnsubstantiated ClueConclusion = "unsubstantiated" // 不实
)

// upgradeConclusion maps a conclusion stored before the four methods:
// 立案 can only have followed a preliminary verification, so it reads as
// 初步核实 with the case opened; 不实 is a clue closed with nothing to
// pursue, 予以了结; 其他方式处置 was neither a case nor a closure, which
// under the rules is a talk or written inquiry, 谈话函询.
func upgradeConclusion(d ClueConclusion, caseOpened bool) (ClueConclusion, bool) {
	switch d {
	case legacyFiled:
		return DisposalVerify, true
	case legacyUnsubstantiated:
		return DisposalClosure, caseOpened
	case legacyOther:
		return DisposalTalk, caseOpened
	}
	return d, caseOpened
}

// Clue is a problem clue (问题线索) transferred from an inspection round to
// a receiving body. Title and Substance are confidential: only the
// receiving body, the transferring body and the inspection office may
// read them (see Entitled). Everything else may appear on group cards.
type Clue struct {
	ID               string         `json:"id"` // XS-2026-0001
	Round            string         `json:"round,omitempty"`
	FromBody         string         `json:"from_body"`              // body id of the transferring team or office
	Body             string         `json:"body"`                   // body id of the receiving body
	Organisation     string         `json:"organisation,omitempty"` // body id of the inspected organisation; "" when not in the roster
	OrganisationName string         `json:"organisation_name"`      // its name as resolved or typed
	Title            string         `json:"title"`                  // confidential
	Substance        string         `json:"substance"`              // confidential
	Deadline         time.Time      `json:"deadline"`               // a date: midnight in the deployment zone
	Priority         bool           `json:"priority,omitempty"`     // 优先处置
	Status           ClueStatus     `json:"status"`
	Conclusion       ClueConclusion `json:"conclusion,omitempty"`  // the disposal method, once concluded
	CaseOpened       bool           `json:"case_opened,omitempty"` // 立案审查调查, after 初步核实
	CreatedBy        string         `json:"created_by"`            // person id
	CreatedAt        time.Time      `json:"created_at"`
	AckBy            string         `json:"ack_by,omitempty"`
	AckAt            time.Time      `json:"ack_at,omitzero"`
	VerifyAt         time.Time      `json:"verify_at,omitzero"`
	ClosedBy         string         `json:"closed_by,omitempty"` // who concluded or returned it
	ClosedAt         time.Time      `json:"closed_at,omitzero"`
	RemindedAt       time.Time      `json:"reminded_at,omitzero"`  // acknowledgement reminder sent to the receiving body
	EscalatedAt      time.Time      `json:"escalated_at,omitzero"` // inspection office told it is still unacknowledged
	UpdatedAt        time.Time      `json:"updated_at,omitzero"`
	// Joint are the supervisor offices and stationed groups that verify
	// the clue jointly with the receiving body (共同核实): they are
	// entitled to it, and got its substance by direct message.
	Joint []string `json:"joint,omitempty"`
	// PrevBodies are the bodies that had it before it was transferred
	// again (改派), oldest first. They are no longer entitled.
	PrevBodies   []string  `json:"prev_bodies,omitempty"`
	ReassignedAt time.Time `json:"reassigned_at,omitzero"` // the last 改派; reminders count from it
	// DeadlineRemindedAt is when the receiving body was reminded of the
	// handling deadline DeadlineReminded (reset by 延期: a new deadline
	// gets its own reminder).
	DeadlineRemindedAt time.Time        `json:"deadline_reminded_at,omitzero"`
	DeadlineReminded   time.Time        `json:"deadline_reminded,omitzero"`
	Cards              []bot.MessageRef `json:"cards,omitempty"` // group announcements, updated on every change
	// DMs are the direct messages that showed the substance with the
	// acknowledge button: a click is answered with the substance in the
	// clicked message only when it is one of these and its reader clicked.
	DMs     []ClueDM      `json:"dms,omitempty"`
	History []bot.History `json:"history,omitempty"`
}

// UnmarshalJSON reads a stored clue, mapping a conclusion stored before
// the four disposal methods to one of them (upgradeConclusion), so old
// records read, count and display in today's terms.
func (c *Clue) UnmarshalJSON(b []byte) error {
	type plain Clue
	if err := json.Unmarshal(b, (*plain)(c)); err != nil {
		return err
	}
	c.Conclusion, c.CaseOpened = upgradeConclusion(c.Conclusion, c.CaseOpened)
	return nil
}

// ClueDM is a direct message the bot sent a person about a clue.
type ClueDM struct {
	Person  string         `json:"person"` // person id of the reader
	Message bot.MessageRef `json:"message"`
}

// TransferredAt is when the clue was last transferred: its creation, or
// its last 改派.
func (c *Clue) TransferredAt() time.Time {
	if !c.ReassignedAt.IsZero() {
		return c.ReassignedAt
	}
	return c.CreatedAt
}

// Open reports whether the clue is still being handled.
func (c *Clue) Open() bool { return !c.Status.Closed() }

// OverdueAt reports whether the clue is open and its deadline date is
// before the date of now in loc ("overdue" means today is after the
// deadline day).
func (c *Clue) OverdueAt(now time.Time, loc *time.Location) bool {
	if !c.Open() || c.Deadline.IsZero() {
		return false
	}
	return bot.Midnight(now, loc).After(bot.Midnight(c.Deadline, loc))
}

// StatusAt returns the status the clue had at t, from its timestamps
// (ClueTransferred for a moment before its creation too, so callers
// filter by CreatedAt first).
func (c *Clue) StatusAt(t time.Time) ClueStatus {
	switch {
	case c.Status.Closed() && !c.ClosedAt.IsZero() && !c.ClosedAt.After(t):
		return c.Status
	case !c.VerifyAt.IsZero() && !c.VerifyAt.After(t):
		return ClueVerifying
	case !c.AckAt.IsZero() && !c.AckAt.After(t):
		return ClueAcknowledged
	}
	return ClueTransferred
}

// Entitled reports whether p may read the clue's confidential title,
// substance and history: members of the receiving body, of the bodies
// verifying it jointly, of the transferring body and of any inspection
// office body, and the person who transferred it. A body the clue was
// taken from (改派) is not. Administrator rights alone do not entitle.
func (c *Clue) Entitled(r *bot.Roster, p *bot.Person) bool {
	if p == nil || r == nil {
		return false
	}
	if p.ID == c.CreatedBy || p.InBody(c.Body) || (c.FromBody != "" && p.InBody(c.FromBody)) {
		return true
	}
	for _, b := range c.Joint {
		if p.InBody(b) {
			return true
		}
	}
	for _, id := range p.Bodies {
		if b, ok := r.Body(id); ok && b.Kind == bot.InspectionOffice {
			return true
		}
	}
	return false
}
