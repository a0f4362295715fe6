package round

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
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

// CollRoundIndex holds the rounds' and situation reports' index
// documents (see roundDocs, situationDocs): empty documents whose ids
// are sort keys ending in the record's id, and the rounds' key
// documents.
const CollRoundIndex = "round_idx"

// Index id prefixes of CollRoundIndex.
const (
	idxUnique    = "unique" + index.Sep    // + team + organisation + start: a key document holding the round's id
	idxFeedback  = "feedback" + index.Sep  // + feedback time + id: rounds with a feedback day and attached bodies
	idxSituation = "situation" + index.Sep // + round + situation id: a round's situation reports
)

// keyDoc is the content of a key document.
type keyDoc struct {
	ID string `json:"id"`
}

// uniqueKey is the id of the key document of the round of team with
// organisation starting at start: one round per such triple.
func uniqueKey(team, organisation string, start time.Time) string {
	return idxUnique + index.Key(team, organisation, index.Time(start))
}

// roundDocs are rd's index documents (none for nil).
func roundDocs(rd *Round) []index.Doc {
	if rd == nil {
		return nil
	}
	doc, _ := json.Marshal(keyDoc{ID: rd.ID})
	ds := []index.Doc{{Coll: CollRoundIndex, ID: uniqueKey(rd.Team, rd.Organisation, rd.Start), Data: string(doc)}}
	if !rd.Feedback.IsZero() && len(rd.Attached) > 0 {
		ds = append(ds, index.Doc{Coll: CollRoundIndex, ID: idxFeedback + index.Key(index.Time(rd.Feedback), rd.ID)})
	}
	return ds
}

// situationDocs are s's index documents (none for nil). They follow from
// its round and id, which never change, so only its creation writes them.
func situationDocs(s *Situation) []index.Doc {
	if s == nil {
		return nil
	}
	return []index.Doc{{Coll: CollRoundIndex, ID: idxSituation + index.Key(s.Round, s.ID)}}
}

// rounds and situations are the round domain's collections, each write
// with its index documents in the same unit of work: every change of a
// stored round goes through rounds.Create or rounds.Update.
var (
	rounds     = index.Records[Round]{Coll: CollRounds, Docs: roundDocs}
	situations = index.Records[Situation]{Coll: CollSituations, Docs: situationDocs}
)

// createRound stores a new round with its index documents, in the unit
// of work of ctx; ECONFLICT if its id exists.
func createRound(ctx context.Context, s bot.Store, rd *Round) error {
	return rounds.Create(ctx, s, rd.ID, rd)
}

// updateRound applies fn to round id atomically and moves its index
// documents, in the unit of work of ctx.
func updateRound(ctx context.Context, s bot.Store, id string, fn func(*Round) error) (*Round, error) {
	return rounds.Update(ctx, s, id, fn)
}

// createSituation stores a new situation report with its index
// document, in the unit of work of ctx; ECONFLICT if its id exists.
func createSituation(ctx context.Context, st bot.Store, s *Situation) error {
	return situations.Create(ctx, st, s.ID, s)
}

// roundWith returns the id of the round of team with organisation
// starting at start, or "" when there is none, from its key document.
func roundWith(ctx context.Context, s bot.Store, team, organisation string, start time.Time) (string, error) {
	doc, err := s.Get(ctx, CollRoundIndex, uniqueKey(team, organisation, start))
	if bot.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var k keyDoc
	if err := json.Unmarshal(doc, &k); err != nil {
		return "", &bot.Error{Code: bot.EINTERNAL, Err: err}
	}
	return k.ID, nil
}

// BackfillIndex gives the rounds and situation reports of a store
// written before the index their index documents, once (see
// index.Backfill).
func BackfillIndex(ctx context.Context, b *bot.Bot) (int, error) {
	n, err := rounds.Backfill(ctx, b, CollRoundIndex)
	if err != nil {
		return n, err
	}
	m, err := situations.Backfill(ctx, b, CollRoundIndex+".situations")
	return n + m, err
}
