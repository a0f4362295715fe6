package consult

import (
	"context"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// The information requests' collection and id prefix (巡前征询).
const (
	CollConsults  = "consults" // information requests, id ZX-2026-0001
	PrefixConsult = "ZX"       // 征询
)

// ConsultAnswer is one answer a consulted department gave.
type ConsultAnswer struct {
	Text     string       `json:"text"`           // confidential
	None     bool         `json:"none,omitempty"` // "no relevant information" (无相关情况)
	By       string       `json:"by"`             // person id
	At       time.Time    `json:"at"`
	Platform bot.Platform `json:"platform,omitempty"`
}

// ConsultDept is one consulted department of an information request and
// its answers. The answers are confidential (see Consultation.Entitled).
type ConsultDept struct {
	Body    string          `json:"body"` // body id of the consulted department
	Answers []ConsultAnswer `json:"answers,omitempty"`
	// RemindedAt: the department was reminded after the deadline passed.
	RemindedAt time.Time `json:"reminded_at,omitzero"`
	// EscalatedAt: the inspection office was told it is still unanswered.
	EscalatedAt time.Time        `json:"escalated_at,omitzero"`
	Cards       []bot.MessageRef `json:"cards,omitempty"` // the request cards sent to its contacts
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
	History      []bot.History `json:"history,omitempty"`
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
	return bot.Midnight(at, loc).After(bot.Midnight(c.Deadline, loc))
}

// Entitled reports whether p may read every department's answers: members
// of an inspection office body and of the round's team, and the person
// who sent the request. Administrator rights alone do not entitle; a
// consulted department sees its own answers only (see OwnDept).
func (c *Consultation) Entitled(r *bot.Roster, p *bot.Person) bool {
	if p == nil || r == nil {
		return false
	}
	if p.ID == c.CreatedBy || (c.Team != "" && p.InBody(c.Team)) {
		return true
	}
	return r.HasKind(p, bot.InspectionOffice)
}

// OwnDepts returns the indexes of the departments p answers for.
func (c *Consultation) OwnDepts(p *bot.Person) []int {
	var out []int
	for i, d := range c.Depts {
		if p.InBody(d.Body) {
			out = append(out, i)
		}
	}
	return out
}

// CollConsultIndex holds the information requests' index documents (see
// indexDocs): empty documents whose ids are sort keys ending in the
// request's id.
const CollConsultIndex = "consult_idx"

// Index id prefixes of CollConsultIndex.
const (
	idxOpen    = "open" + index.Sep    // + body + id: a consulted department that has not answered
	idxRound   = "round" + index.Sep   // + round + id: the requests of a round
	idxPending = "pending" + index.Sep // + deadline + id: a silent department not yet reminded or escalated
	// The requests a reader other than the inspection office may see,
	// for the list: + reader key (see readerKeys) + id, and by round
	// + reader key + round + id.
	idxSee      = "see" + index.Sep
	idxSeeRound = "seeround" + index.Sep
)

// Reader keys of the idxSee indexes: a body, or a person.
func bodyKey(body string) string { return "b:" + body }
func personKey(id string) string { return "p:" + id }

// readers are the keys of those entitled to know c exists besides the
// inspection office (which sees every request): the round's team and
// the person who sent it (Entitled), and each consulted department,
// which sees the requests it was consulted on (OwnDepts).
func (c *Consultation) readers() []string {
	var out []string
	add := func(k string) {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	if c.Team != "" {
		add(bodyKey(c.Team))
	}
	if c.CreatedBy != "" {
		add(personKey(c.CreatedBy))
	}
	for _, d := range c.Depts {
		add(bodyKey(d.Body))
	}
	return out
}

// readerKeys are p's keys in the idxSee indexes: its bodies and itself.
func readerKeys(p *bot.Person) []string {
	if p == nil {
		return nil
	}
	out := []string{personKey(p.ID)}
	for _, b := range p.Bodies {
		out = append(out, bodyKey(b))
	}
	return out
}

// Visible reports whether p may know that c exists: the inspection
// office, the round's team, the sender and the consulted departments.
func (c *Consultation) Visible(r *bot.Roster, p *bot.Person) bool {
	return c.Entitled(r, p) || len(c.OwnDepts(p)) > 0
}

// indexDocs are c's index documents (none for nil).
func indexDocs(c *Consultation) []index.Doc {
	if c == nil {
		return nil
	}
	var ds []index.Doc
	add := func(prefix string, parts ...string) {
		ds = append(ds, index.Doc{Coll: CollConsultIndex, ID: prefix + index.Key(append(parts, c.ID)...)})
	}
	if c.Round != "" {
		add(idxRound, c.Round)
	}
	for _, k := range c.readers() {
		add(idxSee, k)
		if c.Round != "" {
			add(idxSeeRound, k, c.Round)
		}
	}
	pending := false
	for _, d := range c.Depts {
		if d.Answered() {
			continue
		}
		add(idxOpen, d.Body)
		if d.RemindedAt.IsZero() || d.EscalatedAt.IsZero() {
			pending = true
		}
	}
	if pending {
		add(idxPending, index.Time(c.Deadline))
	}
	return ds
}

// records is the collection of Consultation, each write with its index
// documents in the same unit of work: every change of a stored record
// goes through create or update.
var records = index.Records[Consultation]{Coll: CollConsults, Docs: indexDocs}

// create stores a new record with its index documents, in the unit of
// work of ctx; ECONFLICT if its id exists.
func create(ctx context.Context, s bot.Store, c *Consultation) error {
	return records.Create(ctx, s, c.ID, c)
}

// update applies fn to record id atomically and moves its index
// documents, in the unit of work of ctx.
func update(ctx context.Context, s bot.Store, id string, fn func(*Consultation) error) (*Consultation, error) {
	return records.Update(ctx, s, id, fn)
}

// Seed stores a request made outside the consult commands (the scale
// benchmark's, a test's) with its index documents; ECONFLICT when one
// with its id exists.
func Seed(ctx context.Context, s bot.Store, c *Consultation) error { return create(ctx, s, c) }

// backfillName names the backfill of the current index documents: a new
// name whenever indexDocs gains documents (v2: the readers' indexes,
// idxSee and idxSeeRound), so that a store backfilled before gets them
// too. Rewriting the documents it had is harmless.
const backfillName = CollConsultIndex + ".v2"

// BackfillIndex gives the requests of a store written before the index
// their index documents, once (see index.Backfill).
func BackfillIndex(ctx context.Context, b *bot.Bot) (int, error) {
	return records.Backfill(ctx, b, backfillName)
}
