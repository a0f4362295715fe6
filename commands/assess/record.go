package assess

import (
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// The special reports' collection and id prefix.
const (
	CollReports  = "special_reports" // special reports, id ZB-2026-0001
	PrefixReport = "ZB"              // 专报
)

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
	Edited    string           `json:"edited,omitempty"`
	EditedBy  string           `json:"edited_by,omitempty"`
	EditedAt  time.Time        `json:"edited_at,omitzero"`
	Summary   string           `json:"summary"`
	CreatedBy string           `json:"created_by"`
	CreatedAt time.Time        `json:"created_at"`
	SentBy    string           `json:"sent_by,omitempty"`
	SentAt    time.Time        `json:"sent_at,omitzero"`
	SentTo    []string         `json:"sent_to,omitempty"` // person ids
	Messages  []bot.MessageRef `json:"messages,omitempty"`
}
