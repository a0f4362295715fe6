package cosign

import (
	"context"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// The co-signatures' collection and id prefix.
const (
	CollCosigns  = "cosigns"
	PrefixCosign = "QZ" // 签字
)

// Co-signature states (Cosign.State).
const (
	CosignOpen      = "open"      // waiting for the parties
	CosignComplete  = "complete"  // every party confirmed
	CosignDeclined  = "declined"  // a party declined; back with the creator, who may re-open it
	CosignWithdrawn = "withdrawn" // withdrawn by its creator; final
)

// States of one party of a co-signature (CosignParty.State).
const (
	PartyWaiting   = "waiting"
	PartyConfirmed = "confirmed"
	PartyDeclined  = "declined"
)

// Signing orders of a co-signature template.
const (
	OrderFree       = "free"       // parties sign in any order
	OrderSequential = "sequential" // only the next party in template order may sign
)

// Subject kinds a co-signature is about.
const (
	SubjectImmediateFix = "immediate_fix" // 即知即改事项
	SubjectPlan         = "plan"          // 整改方案
	SubjectResults      = "results"       // 整改成效
	SubjectReport       = "report"        // 整改报告
)

// SubjectKinds lists the subject kinds in a stable order.
var SubjectKinds = []string{SubjectImmediateFix, SubjectPlan, SubjectResults, SubjectReport}

// CosignParty is one party of a co-signature request and its answer.
type CosignParty struct {
	Role    string `json:"role"`
	Label   string `json:"label,omitempty"` // copied from the template role
	LabelEn string `json:"label_en,omitempty"`
	Body    string `json:"body"` // body id
	State   string `json:"state"`
	// By, At and Platform record who answered for the party and when.
	By       string       `json:"by,omitempty"`
	At       time.Time    `json:"at,omitzero"`
	Platform bot.Platform `json:"platform,omitempty"`
	Reason   string       `json:"reason,omitempty"` // why it declined
	// Since is when the party could first sign in the current opening
	// (sequential order: when the previous party confirmed); zero while it
	// is still queued. RemindAt and EscalateAt follow from it.
	Since      time.Time `json:"since,omitzero"`
	RemindAt   time.Time `json:"remind_at,omitzero"`
	EscalateAt time.Time `json:"escalate_at,omitzero"`
	Reminded   time.Time `json:"reminded,omitzero"`
	Escalated  time.Time `json:"escalated,omitzero"`
}

// CosignHandover records that supervision of the rectification passed to
// a body (监督整改责任移交); rectification items read it.
type CosignHandover struct {
	To   string    `json:"to"`   // body id
	Date time.Time `json:"date"` // midnight in the deployment's zone
}

// CosignEvent is one step in a co-signature's life.
type CosignEvent struct {
	Time     time.Time    `json:"time"`
	Person   string       `json:"person,omitempty"` // "" for the scheduler
	Platform bot.Platform `json:"platform,omitempty"`
	Action   string       `json:"action"`         // create, confirm, decline, reopen, withdraw, remind, escalate, complete
	Body     string       `json:"body,omitempty"` // the party concerned
	Note     string       `json:"note,omitempty"` // reason, changed description
}

// Cosign is a co-signature request (三方共同签字 / 六方联评), id QZ-2026-0001.
type Cosign struct {
	ID          string `json:"id"`
	Template    string `json:"template"`
	Title       string `json:"title,omitempty"` // copied from the template
	TitleEn     string `json:"title_en,omitempty"`
	Subject     string `json:"subject"` // a SubjectKinds value
	Description string `json:"description"`
	Item        string `json:"item,omitempty"`       // rectification item id ZG-…, as typed
	ItemTitle   string `json:"item_title,omitempty"` // the item's title when the request was made
	// Supervisors are the bodies supervising the item when the request
	// was made (progress.Item.Supervisors), who follow up the immediate
	// fix and so may see the request (see Visible).
	Supervisors []string `json:"supervisors,omitempty"`
	Round       string   `json:"round,omitempty"` // inspection round id XC-…
	Order       string   `json:"order"`
	HandoverTo  string   `json:"handover_to,omitempty"` // role key, from the template

	Parties []CosignParty `json:"parties"`
	State   string        `json:"state"`

	CreatedBy   string           `json:"created_by"`
	CreatedAt   time.Time        `json:"created_at"`
	OpenedAt    time.Time        `json:"opened_at"` // last (re)opening
	Opens       int              `json:"opens"`     // 1, plus one per re-opening
	CompletedAt time.Time        `json:"completed_at,omitzero"`
	Handover    *CosignHandover  `json:"handover,omitempty"`
	Cards       []bot.MessageRef `json:"cards,omitempty"` // posted cards, updated on every change
	// DMs are the cards sent by direct message to the parties' members
	// when the group may not see the request (see ShownTo); they are
	// updated on every change too, each in its reader's language.
	DMs     []CardDM      `json:"dms,omitempty"`
	History []CosignEvent `json:"history"`

	// JustCompleted is set, never stored, by the update that moved the
	// request to complete, so exactly that update announces it.
	JustCompleted bool `json:"-"`
}

// CardDM is a card the bot sent one person directly.
type CardDM struct {
	Person  string         `json:"person"` // person id of the reader
	Message bot.MessageRef `json:"message"`
}

// ShownTo reports whether c may be shown in a group where the members of
// bodies sit: there is at least one such body, and every member of every
// one of them may know that c exists (Visible). A group of which nobody
// is known to sit there, or where one member of another organisation
// sits, may not see it: no card, no line, no count.
func (c *Cosign) ShownTo(r *bot.Roster, bodies []string) bool {
	_, _, out := c.Outsider(r, bodies)
	return len(bodies) > 0 && !out
}

// Outsider names the first member of bodies (and the body through which
// the person sits there) who may not know that c exists.
func (c *Cosign) Outsider(r *bot.Roster, bodies []string) (person, body string, found bool) {
	for _, b := range bodies {
		for _, p := range r.Members(b) {
			if !c.Visible(r, p) {
				return p.ID, b, true
			}
		}
	}
	return "", "", false
}

// PartyOf returns the index of the party filled by body, or -1.
func (c *Cosign) PartyOf(body string) int {
	return slices.IndexFunc(c.Parties, func(p CosignParty) bool { return p.Body == body })
}

// Confirmed counts the parties that confirmed.
func (c *Cosign) Confirmed() int {
	n := 0
	for _, p := range c.Parties {
		if p.State == PartyConfirmed {
			n++
		}
	}
	return n
}

// Next returns the index of the first party that has not confirmed, or
// -1 when all have.
func (c *Cosign) Next() int {
	return slices.IndexFunc(c.Parties, func(p CosignParty) bool { return p.State != PartyConfirmed })
}

// CanSign reports whether party i may sign now: the request is open, the
// party has not confirmed and, in sequential order, it is the next one.
func (c *Cosign) CanSign(i int) bool {
	if c.State != CosignOpen || i < 0 || i >= len(c.Parties) || c.Parties[i].State == PartyConfirmed {
		return false
	}
	return c.Order != OrderSequential || i == c.Next()
}

// Waiting returns the indexes of the parties that may sign now.
func (c *Cosign) Waiting() []int {
	var out []int
	for i := range c.Parties {
		if c.CanSign(i) {
			out = append(out, i)
		}
	}
	return out
}

// Overdue returns the indexes of the parties that may sign now and are
// past their reminder time at now.
func (c *Cosign) Overdue(now time.Time) []int {
	var out []int
	for _, i := range c.Waiting() {
		if at := c.Parties[i].RemindAt; !at.IsZero() && !now.Before(at) {
			out = append(out, i)
		}
	}
	return out
}

// CollCosignIndex holds the co-signatures' index documents (see
// indexDocs), empty documents whose ids are sort keys ending in the
// request's id.
const CollCosignIndex = "cosign_idx"

// Index id prefixes of CollCosignIndex.
const (
	idxActive = "active" + index.Sep // + id: open or declined, for the list
	idxAwait  = "await" + index.Sep  // + body + id: a party in progress that has not confirmed
	idxWait   = "wait" + index.Sep   // + time + id: open, the earliest reminder time of a party that may sign
	idxDue    = "due" + index.Sep    // + time + id: open, when the reminder job next has work on it
	idxRemind = "remind" + index.Sep // + time + id: every party's reminder time, any state
	// The requests a reader other than the inspection office may see,
	// for the list: + reader key (see readers) + id, any state, and in
	// progress only.
	idxSee       = "see" + index.Sep
	idxSeeActive = "seeactive" + index.Sep
)

// Reader keys of the idxSee indexes: a body, or a person.
func bodyKey(body string) string { return "b:" + body }
func personKey(id string) string { return "p:" + id }

// readers are the keys of those who may know c exists besides the
// inspection office (which sees every request): its parties' bodies, the
// bodies supervising its item, and the person who made it.
func (c *Cosign) readers() []string {
	var out []string
	add := func(k string) {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	for _, p := range c.Parties {
		add(bodyKey(p.Body))
	}
	for _, b := range c.Supervisors {
		add(bodyKey(b))
	}
	if c.CreatedBy != "" {
		add(personKey(c.CreatedBy))
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

// Visible reports whether p may know that c exists: a member of the
// inspection office, of a party's body or of a body supervising its
// item, or the person who made it. An inspected organisation sees its
// own co-signatures only, never another organisation's.
func (c *Cosign) Visible(r *bot.Roster, p *bot.Person) bool {
	if p == nil {
		return false
	}
	if p.ID == c.CreatedBy || r.HasKind(p, bot.InspectionOffice) {
		return true
	}
	return slices.ContainsFunc(p.Bodies, func(b string) bool {
		return c.PartyOf(b) >= 0 || slices.Contains(c.Supervisors, b)
	})
}

// inProgress reports whether c is open or declined and back with its
// creator.
func (c *Cosign) inProgress() bool { return c.State == CosignOpen || c.State == CosignDeclined }

// indexDocs are c's index documents (none for nil).
func indexDocs(c *Cosign) []index.Doc {
	if c == nil {
		return nil
	}
	var ds []index.Doc
	add := func(prefix string, parts ...string) {
		ds = append(ds, index.Doc{Coll: CollCosignIndex, ID: prefix + index.Key(append(parts, c.ID)...)})
	}
	for _, k := range c.readers() {
		add(idxSee, k)
		if c.inProgress() {
			add(idxSeeActive, k)
		}
	}
	if c.inProgress() {
		add(idxActive)
		for _, p := range c.Parties {
			if p.State != PartyConfirmed {
				add(idxAwait, p.Body)
			}
		}
	}
	if c.State == CosignOpen {
		var wait, due time.Time
		earliest := func(t *time.Time, at time.Time) {
			if !at.IsZero() && (t.IsZero() || at.Before(*t)) {
				*t = at
			}
		}
		for _, i := range c.Waiting() {
			p := c.Parties[i]
			if p.RemindAt.IsZero() {
				continue
			}
			earliest(&wait, p.RemindAt)
			if p.Reminded.IsZero() {
				earliest(&due, p.RemindAt)
			}
			if p.Escalated.IsZero() {
				earliest(&due, p.EscalateAt)
			}
		}
		if !wait.IsZero() {
			add(idxWait, index.Time(wait))
		}
		if !due.IsZero() {
			add(idxDue, index.Time(due))
		}
	}
	for _, p := range c.Parties {
		if !p.RemindAt.IsZero() {
			add(idxRemind, index.Time(p.RemindAt))
		}
	}
	return ds
}

// records is the collection of co-signatures, each write with its index
// documents in the same unit of work: every change of a stored request
// goes through create or update.
var records = index.Records[Cosign]{Coll: CollCosigns, Docs: indexDocs}

// create stores a new request with its index documents, in the unit of
// work of ctx; ECONFLICT if its id exists.
func create(ctx context.Context, s bot.Store, c *Cosign) error {
	return records.Create(ctx, s, c.ID, c)
}

// update applies fn to request id atomically and moves its index
// documents, in the unit of work of ctx.
func update(ctx context.Context, s bot.Store, id string, fn func(*Cosign) error) (*Cosign, error) {
	return records.Update(ctx, s, id, fn)
}

// Seed stores a request made outside the cosign commands (the scale
// benchmark's, a test's) with its index documents; ECONFLICT when one
// with its id exists.
func Seed(ctx context.Context, s bot.Store, c *Cosign) error { return create(ctx, s, c) }

// backfillName names the backfill of the current index documents: a new
// name whenever indexDocs gains documents (v2: the readers' indexes,
// idxSee and idxSeeActive), so that a store backfilled before gets them
// too. Rewriting the documents it had is harmless.
const backfillName = CollCosignIndex + ".v2"

// BackfillIndex gives the requests of a store written before the index
// their index documents, once (see index.Backfill).
func BackfillIndex(ctx context.Context, b *bot.Bot) (int, error) {
	return records.Backfill(ctx, b, backfillName)
}
