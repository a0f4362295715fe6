package round

import (
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Collection names and id prefixes of the round's records.
const (
	CollRounds      = "rounds"
	CollSituations  = "situations" // situation reports, id QK-2026-0001
	PrefixRound     = "XC"         // 巡察
	PrefixSituation = "QK"         // 情况
)

// Round is an inspection round (巡察轮次).
type Round struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Team         string    `json:"team"`         // body id of the inspection team
	Organisation string    `json:"organisation"` // body id of the inspected organisation
	Attached     []string  `json:"attached"`     // body ids: supervision room, stationed group, supervisor office
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	Feedback     time.Time `json:"feedback"` // 反馈之日: supervision of rectification passes to the attached bodies
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
}

// SituationAck is one receiving body of a situation report and its
// acknowledgement.
type SituationAck struct {
	Body     string           `json:"body"`
	By       string           `json:"by,omitempty"`
	At       time.Time        `json:"at,omitzero"`
	Platform bot.Platform     `json:"platform,omitempty"`
	Cards    []bot.MessageRef `json:"cards,omitempty"`
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
func (s *Situation) MayRead(r *bot.Roster, p *bot.Person) bool {
	if p == nil || r == nil {
		return false
	}
	if p.ID == s.CreatedBy || p.InBody(s.Team) || (s.From != "" && p.InBody(s.From)) || slices.ContainsFunc(s.To, func(a SituationAck) bool { return p.InBody(a.Body) }) {
		return true
	}
	return r.HasKind(p, bot.InspectionOffice)
}
