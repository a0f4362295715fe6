package bot

import (
	"slices"
	"time"
)

// Collections of the before/after-inspection records (巡前征询, 巡中情况互通,
// 专报).
const (
	CollConsults   = "consults"        // information requests, id ZX-2026-0001
	CollSituations = "situations"      // situation reports, id QK-2026-0001
	CollReports    = "special_reports" // special reports, id ZB-2026-0001
)

// ID prefixes of the records in this file.
const (
	PrefixConsult   = "ZX" // 征询
	PrefixSituation = "QK" // 情况
	PrefixReport    = "ZB" // 专报
)

// ConsultAnswer is one answer a consulted department gave.
type ConsultAnswer struct {
	Text     string    `json:"text"`           // confidential
	None     bool      `json:"none,omitempty"` // "no relevant information" (无相关情况)
	By       string    `json:"by"`             // person id
	At       time.Time `json:"at"`
	Platform Platform  `json:"platform,omitempty"`
}

// ConsultDept is one consulted department of an information request and
// its answers. The answers are confidential (see Consultation.Entitled).
type ConsultDept struct {
	Body    string          `json:"body"` // body id of the consulted department
	Answers []ConsultAnswer `json:"answers,omitempty"`
	// RemindedAt: the department was reminded after the deadline passed.
	RemindedAt time.Time `json:"reminded_at,omitzero"`
	// EscalatedAt: the inspection office was told it is still unanswered.
	EscalatedAt time.Time    `json:"escalated_at,omitzero"`
	Cards       []MessageRef `json:"cards,omitempty"` // the request cards sent to its contacts
}

// Answered reports whether the department gave an answer.
func (d *ConsultDept) Answered() bool { return len(d.Answers) > 0 }

// First returns the department's first answer; ok is false without one.
func (d *ConsultDept) First() (ConsultAnswer, bool) {
	if len(d.Answers) == 0 {
		return ConsultAnswer{}, false
	}
	return d.Answers[0], true
}

// Latest returns the department's latest answer; ok is false without one.
func (d *ConsultDept) Latest() (ConsultAnswer, bool) {
	if len(d.Answers) == 0 {
		return ConsultAnswer{}, false
	}
	return d.Answers[len(d.Answers)-1], true
}

// Consultation is an information request before a round (巡前征询): the
// inspection office asks the consulted departments (organisation,
// audit, staffing, finance, petitions …) what they know about the
// organisation to be inspected, each to answer by the deadline.
type Consultation struct {
	ID           string        `json:"id"`    // ZX-2026-0001
	Round        string        `json:"round"` // XC-2026-0001
	Team         string        `json:"team"`  // body id of the round's team, copied for the confidentiality check
	Organisation string        `json:"organisation"`
	Request      string        `json:"request"`  // what is asked; not confidential
	Deadline     time.Time     `json:"deadline"` // a date: midnight in the deployment zone
	Depts        []ConsultDept `json:"depts"`
	CreatedBy    string        `json:"created_by"`
	CreatedAt    time.Time     `json:"created_at"`
	History      []History     `json:"history,omitempty"`
}

// Dept returns the index of the department body in c, or -1.
func (c *Consultation) Dept(body string) int {
	return slices.IndexFunc(c.Depts, func(d ConsultDept) bool { return d.Body == body })
}

// LateAt reports whether department i's first answer came after the
// deadline day, or whether it is still unanswered and now's date is
// after the deadline day.
func (c *Consultation) LateAt(i int, now time.Time, loc *time.Location) bool {
	if i < 0 || i >= len(c.Depts) || c.Deadline.IsZero() {
		return false
	}
	at := now
	if a, ok := c.Depts[i].First(); ok {
		at = a.At
	}
	return dayOf(at, loc).After(dayOf(c.Deadline, loc))
}

// Entitled reports whether p may read every department's answers: members
// of an inspection office body and of the round's team, and the person
// who sent the request. Administrator rights alone do not entitle; a
// consulted department sees its own answers only (see OwnDept).
func (c *Consultation) Entitled(r *Roster, p *Person) bool {
	if p == nil || r == nil {
		return false
	}
	if p.ID == c.CreatedBy || (c.Team != "" && p.InBody(c.Team)) {
		return true
	}
	return r.HasKind(p, InspectionOffice)
}

// OwnDepts returns the indexes of the departments p answers for.
func (c *Consultation) OwnDepts(p *Person) []int {
	var out []int
	for i, d := range c.Depts {
		if p.InBody(d.Body) {
			out = append(out, i)
		}
	}
	return out
}

// SituationAck is one receiving body of a situation report and its
// acknowledgement.
type SituationAck struct {
	Body     string       `json:"body"`
	By       string       `json:"by,omitempty"`
	At       time.Time    `json:"at,omitzero"`
	Platform Platform     `json:"platform,omitempty"`
	Cards    []MessageRef `json:"cards,omitempty"`
}

// Situation is an important situation an inspection team reports during
// a round to the bodies attached to it (巡中重要情况互通), who acknowledge it.
// Immediate marks a problem fixed on the spot (立行立改), which can be
// turned into an immediate-fix rectification item with its three-party
// co-signature.
type Situation struct {
	ID    string `json:"id"` // QK-2026-0001
	Round string `json:"round"`
	Team  string `json:"team"` // body id of the round's team
	// From is the attached body that reported back to the team (巡中互通
	// in the other direction); "" for the team's own report.
	From      string         `json:"from,omitempty"`
	Text      string         `json:"text"` // shared with the receiving bodies only
	Immediate bool           `json:"immediate,omitempty"`
	To        []SituationAck `json:"to"`
	CreatedBy string         `json:"created_by"`
	CreatedAt time.Time      `json:"created_at"`
	// The immediate-fix item and co-signature made from the report.
	FixStarted time.Time `json:"fix_started,omitzero"` // claimed, so a double click makes one
	FixBy      string    `json:"fix_by,omitempty"`
	Item       string    `json:"item,omitempty"`   // ZG-…
	Cosign     string    `json:"cosign,omitempty"` // QZ-…
}

// Recipient returns the index of body among the receiving bodies, or -1.
func (s *Situation) Recipient(body string) int {
	return slices.IndexFunc(s.To, func(a SituationAck) bool { return a.Body == body })
}

// Acknowledged counts the receiving bodies that acknowledged.
func (s *Situation) Acknowledged() int {
	n := 0
	for _, a := range s.To {
		if a.By != "" {
			n++
		}
	}
	return n
}

// MayRead reports whether p may read the report: the round's team, the
// receiving bodies, the inspection office and the reporter (for a report
// back, the reporting body).
func (s *Situation) MayRead(r *Roster, p *Person) bool {
	if p == nil || r == nil {
		return false
	}
	if p.ID == s.CreatedBy || p.InBody(s.Team) || (s.From != "" && p.InBody(s.From)) || slices.ContainsFunc(s.To, func(a SituationAck) bool { return p.InBody(a.Body) }) {
		return true
	}
	return r.HasKind(p, InspectionOffice)
}

// Final returns the version to send: the uploaded edit, else the draft.
func (r *SpecialReport) Final() string {
	if r.Edited != "" {
		return r.Edited
	}
	return r.Markdown
}

// SpecialReport is a special report (专报) to the district committee on
// the problems and shortcomings of the collaboration in a period,
// drafted from the assessment figures and the escalations.
type SpecialReport struct {
	ID       string    `json:"id"`     // ZB-2026-0001
	Period   string    `json:"period"` // as parsed: "2026Q4", "2026-11", "2026"
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Markdown string    `json:"markdown"` // the draft, in the deployment language
	// Edited is the office's edited version, uploaded for sending; when
	// set it, not the draft, is what is sent.
	Edited    string       `json:"edited,omitempty"`
	EditedBy  string       `json:"edited_by,omitempty"`
	EditedAt  time.Time    `json:"edited_at,omitzero"`
	Summary   string       `json:"summary"`
	CreatedBy string       `json:"created_by"`
	CreatedAt time.Time    `json:"created_at"`
	SentBy    string       `json:"sent_by,omitempty"`
	SentAt    time.Time    `json:"sent_at,omitzero"`
	SentTo    []string     `json:"sent_to,omitempty"` // person ids
	Messages  []MessageRef `json:"messages,omitempty"`
}
