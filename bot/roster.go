package bot

import (
	"slices"
	"strings"
	"unicode"
)

// PartyKind is the role a body plays in the collaboration (DOMAIN.md,
// "Parties").
type PartyKind string

// The party kinds of DOMAIN.md.
const (
	InspectionOffice     PartyKind = "inspection_office"
	InspectionTeam       PartyKind = "inspection_team"
	SupervisionRoom      PartyKind = "supervision_room"
	StationedGroup       PartyKind = "stationed_group"
	SupervisorOffice     PartyKind = "supervisor_office"
	CaseOffice           PartyKind = "case_office"
	GrassrootsCommission PartyKind = "grassroots_commission"
	ResponsibleUnit      PartyKind = "responsible_unit"
	ConsultedDept        PartyKind = "consulted_dept"
	DistrictCommittee    PartyKind = "district_committee"
)

// PartyKinds lists every party kind in a stable order.
var PartyKinds = []PartyKind{
	InspectionOffice, InspectionTeam, SupervisionRoom, StationedGroup,
	SupervisorOffice, CaseOffice, GrassrootsCommission, ResponsibleUnit,
	ConsultedDept, DistrictCommittee,
}

// Valid reports whether k is one of PartyKinds.
func (k PartyKind) Valid() bool { return slices.Contains(PartyKinds, k) }

// Body is one concrete unit of a party kind, e.g. 区纪委监委第二监督检查室
// (a supervision_room).
type Body struct {
	ID     string    `json:"id"`
	Kind   PartyKind `json:"kind"`
	Name   string    `json:"name"`    // Chinese name
	NameEn string    `json:"name_en"` // English name
	Group  string    `json:"group"`   // key of the chat group for its notices, may be empty
}

// DisplayName returns the body's name in lang.
func (b Body) DisplayName(lang string) string {
	if IsEnglish(lang) && b.NameEn != "" {
		return b.NameEn
	}
	return b.Name
}

// Person is a member of the roster. A person belongs to one or more
// bodies and is known on each platform by a platform user id.
type Person struct {
	ID      string              `json:"id"`
	Name    string              `json:"name"`
	NameEn  string              `json:"name_en,omitempty"`
	Bodies  []string            `json:"bodies"`
	Admin   bool                `json:"admin,omitempty"`
	Lang    string              `json:"lang,omitempty"`
	IDs     map[Platform]string `json:"ids,omitempty"`
	Removed bool                `json:"removed,omitempty"` // a roster override that removes a configured person
}

// DisplayName returns the person's name in lang.
func (p *Person) DisplayName(lang string) string {
	if IsEnglish(lang) && p.NameEn != "" {
		return p.NameEn
	}
	return p.Name
}

// InBody reports whether p is a member of the body with id.
func (p *Person) InBody(id string) bool { return p != nil && slices.Contains(p.Bodies, id) }

// IsEnglish reports whether lang selects the English catalog.
func IsEnglish(lang string) bool { return strings.HasPrefix(strings.ToLower(lang), "en") }

// Roster is an immutable snapshot of bodies and people.
type Roster struct {
	Bodies []Body
	People []*Person
	// Named are the platforms whose user ids are people's names (the
	// console): FindPerson accepts those ids as names. bot.New sets it
	// from its platforms' NamedIDs.
	Named []Platform
}

// Body returns the body with id, or false.
func (r *Roster) Body(id string) (Body, bool) {
	for _, b := range r.Bodies {
		if b.ID == id {
			return b, true
		}
	}
	return Body{}, false
}

// FindBody resolves what a user typed — an id, a Chinese or English name,
// or a unique part of one — to a body, optionally restricted to kinds.
func (r *Roster) FindBody(s string, kinds ...PartyKind) (Body, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Body{}, false
	}
	ok := func(b Body) bool { return len(kinds) == 0 || slices.Contains(kinds, b.Kind) }
	if _, _, _, mention := ParseMentionArg(s); mention {
		// A person mentioned where a body is expected stands for their
		// body, when exactly one of theirs is of the kinds wanted.
		p, found := r.FindPerson(s)
		if !found {
			return Body{}, false
		}
		var bs []Body
		for _, id := range p.Bodies {
			if b, exists := r.Body(id); exists && ok(b) {
				bs = append(bs, b)
			}
		}
		if len(bs) == 1 {
			return bs[0], true
		}
		return Body{}, false
	}
	for _, b := range r.Bodies {
		if ok(b) && (strings.EqualFold(b.ID, s) || b.Name == s || strings.EqualFold(b.NameEn, s)) {
			return b, true
		}
	}
	var found []Body
	ls := strings.ToLower(s)
	for _, b := range r.Bodies {
		if ok(b) && (strings.Contains(b.Name, s) || strings.Contains(strings.ToLower(b.NameEn), ls)) {
			found = append(found, b)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return Body{}, false
}

// CloseBodies returns the bodies of kinds (any kind when none is given)
// whose name differs from s by a typing slip — one edit, or one in six
// characters for longer names (区教育局党组 is two edits from 区财政局党组
// and another organisation) — closest first: what to suggest for
// 区财政局党租 rather than take it for another organisation.
func (r *Roster) CloseBodies(s string, kinds ...PartyKind) []Body {
	s = strings.TrimSpace(s)
	n := len([]rune(s))
	if n == 0 {
		return nil
	}
	limit := max(1, n/6)
	type cand struct {
		b Body
		d int
	}
	var cs []cand
	for _, b := range r.Bodies {
		if len(kinds) > 0 && !slices.Contains(kinds, b.Kind) {
			continue
		}
		d := levenshtein(s, b.Name)
		if b.NameEn != "" {
			d = min(d, levenshtein(strings.ToLower(s), strings.ToLower(b.NameEn)))
		}
		if d <= limit {
			cs = append(cs, cand{b, d})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return a.d - b.d })
	out := make([]Body, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.b)
	}
	return out
}

// BodiesOf returns the bodies of kind.
func (r *Roster) BodiesOf(kind PartyKind) []Body {
	var out []Body
	for _, b := range r.Bodies {
		if b.Kind == kind {
			out = append(out, b)
		}
	}
	return out
}

// Person returns the person with id.
func (r *Roster) Person(id string) (*Person, bool) {
	for _, p := range r.People {
		if p.ID == id {
			return p, true
		}
	}
	return nil, false
}

// MentionArg is the platform-neutral word an adapter puts in a command
// line for an @-mention of a person (a Slack <@U…>, a Lark @_user_1):
// @{platform:id|name}. The roster resolves it wherever a person is typed
// (FindPerson), or the person's body where a body is (FindBody). name is
// what the platform showed, kept for adding someone not in the roster;
// characters that would end the word or the token are left out of it.
func MentionArg(p Platform, userID, name string) string {
	name = strings.Map(func(r rune) rune {
		if r == '}' || r == '|' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, name)
	return "@{" + string(p) + ":" + userID + "|" + name + "}"
}

// ParseMentionArg reads a word MentionArg wrote.
func ParseMentionArg(s string) (p Platform, userID, name string, ok bool) {
	inner, ok := strings.CutPrefix(strings.TrimSpace(s), "@{")
	if !ok {
		return "", "", "", false
	}
	inner, ok = strings.CutSuffix(inner, "}")
	if !ok {
		return "", "", "", false
	}
	id, name, _ := strings.Cut(inner, "|")
	plat, uid, ok := strings.Cut(id, ":")
	if !ok || plat == "" || uid == "" {
		return "", "", "", false
	}
	return Platform(plat), uid, name, true
}

// FindPerson resolves an id, a name, a named platform's id (Named) or a mention
// (MentionArg) to a person.
func (r *Roster) FindPerson(s string) (*Person, bool) {
	if p, uid, _, ok := ParseMentionArg(s); ok {
		return r.ByPlatformID(p, uid)
	}
	s = strings.TrimPrefix(strings.TrimSpace(s), "@")
	for _, p := range r.People {
		if p.ID == s || p.Name == s || strings.EqualFold(p.NameEn, s) {
			return p, true
		}
		for _, plat := range r.Named {
			if p.IDs[plat] == s {
				return p, true
			}
		}
	}
	return nil, false
}

// ByPlatformID returns the person known on platform as userID.
func (r *Roster) ByPlatformID(platform Platform, userID string) (*Person, bool) {
	if userID == "" {
		return nil, false
	}
	for _, p := range r.People {
		if p.IDs[platform] == userID {
			return p, true
		}
	}
	return nil, false
}

// SeatsResponsibleUnit reports whether a group where the bodies sit
// would show its messages to a responsible (inspected) unit: one of the
// bodies is such a unit, or one of their members also belongs to one. It
// names the first such person (empty for a unit itself) and unit.
func (r *Roster) SeatsResponsibleUnit(bodies []string) (person, unit string, found bool) {
	for _, id := range bodies {
		if b, ok := r.Body(id); ok && b.Kind == ResponsibleUnit {
			return "", b.ID, true
		}
		for _, m := range r.Members(id) {
			for _, bid := range m.Bodies {
				if b, ok := r.Body(bid); ok && b.Kind == ResponsibleUnit {
					return m.ID, b.ID, true
				}
			}
		}
	}
	return "", "", false
}

// Members returns the people of the body with id.
func (r *Roster) Members(bodyID string) []*Person {
	var out []*Person
	for _, p := range r.People {
		if p.InBody(bodyID) {
			out = append(out, p)
		}
	}
	return out
}

// Kinds returns the party kinds p belongs to, without repeats.
func (r *Roster) Kinds(p *Person) []PartyKind {
	var out []PartyKind
	for _, id := range p.Bodies {
		if b, ok := r.Body(id); ok && !slices.Contains(out, b.Kind) {
			out = append(out, b.Kind)
		}
	}
	return out
}

// HasKind reports whether p belongs to a body of any of kinds.
func (r *Roster) HasKind(p *Person, kinds ...PartyKind) bool {
	if p == nil {
		return false
	}
	for _, k := range r.Kinds(p) {
		if slices.Contains(kinds, k) {
			return true
		}
	}
	return false
}

// Admins returns the roster's administrators.
func (r *Roster) Admins() []*Person {
	var out []*Person
	for _, p := range r.People {
		if p.Admin {
			out = append(out, p)
		}
	}
	return out
}

// withOverrides returns a copy of r where people stored as overrides
// replace or extend the configured ones, and removed ones are dropped.
func (r *Roster) withOverrides(over []*Person) *Roster {
	out := &Roster{Bodies: r.Bodies, Named: r.Named}
	byID := map[string]*Person{}
	for _, p := range over {
		byID[p.ID] = p
	}
	for _, p := range r.People {
		if o, ok := byID[p.ID]; ok {
			delete(byID, p.ID)
			if o.Removed {
				continue
			}
			out.People = append(out.People, o)
			continue
		}
		out.People = append(out.People, p)
	}
	for _, p := range over { // people added by an administrator, in stored order
		if _, ok := byID[p.ID]; ok && !p.Removed {
			out.People = append(out.People, p)
		}
	}
	return out
}

// BodyName names the body id in lang, falling back to the id itself (a
// body removed from the configuration still reads sensibly in old
// records) and to "-" for no body.
func (r *Roster) BodyName(id, lang string) string {
	if r != nil {
		if b, ok := r.Body(id); ok {
			return b.DisplayName(lang)
		}
	}
	if id == "" {
		return "-"
	}
	return id
}

// PersonName names the person id in lang, with the same fallbacks as
// BodyName.
func (r *Roster) PersonName(id, lang string) string {
	if r != nil {
		if p, ok := r.Person(id); ok {
			return p.DisplayName(lang)
		}
	}
	if id == "" {
		return "-"
	}
	return id
}
