package bot

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// RunFunc runs a parsed command or a button click (a Command's or an
// Action's Run, and each step of the pipeline a Middleware wraps). It
// returns the answer to the sender, or an error the router translates
// (a *Error for anything the user should read). Handler, which adapters
// serve, is the other side: a whole request in, a Response out.
type RunFunc func(ctx context.Context, req *Request) (*Response, error)

// Rule decides whether a person may run a command or press a button. A
// nil Rule allows every roster member.
type Rule func(r *Roster, p *Person) bool

// Kinds allows members of any body of the given party kinds, and
// administrators.
func Kinds(kinds ...PartyKind) Rule {
	return func(r *Roster, p *Person) bool { return p.Admin || r.HasKind(p, kinds...) }
}

// AdminOnly allows administrators only.
func AdminOnly(_ *Roster, p *Person) bool { return p.Admin }

// Command is one verb, declared as data so help writes itself (after
// shomali11/slacker). User-facing texts come from the catalog by
// convention: cmd.<name>.summary, and for each sub-command
// cmd.<name>.<sub>.summary, .usage and .example; a verb without
// sub-commands has cmd.<name>.usage and cmd.<name>.example.
type Command struct {
	Name    string   // English verb, e.g. "clue"
	Aliases []string // other names, at least one Chinese, e.g. "线索"
	Subs    []*Subcommand
	// Default names the sub-command used when the word after the verb is
	// not a sub-command ("progress ZG-2026-0001 60%" means "progress log …").
	// When empty, a verb with sub-commands and no match answers with help.
	Default string
	Allow   Rule
	Run     RunFunc   // for a verb without sub-commands
	Actions []*Action // button handlers this command owns
	Hidden  bool      // left out of the command list in help
	// Files marks a command that reads attachments (Request.Files):
	// adapters download the files sent with, or replied to by, a command
	// only when it takes them (see Router.WantsFiles).
	Files bool
	// Options, when set, are the option keys a verb without sub-commands
	// reads, as Subcommand.Options.
	Options []string
	// DefaultTakes reports whether a first word that is no sub-command is
	// an argument of the Default sub-command. When nil, a word with a
	// digit is one (a record id, a date, a period), and any other word is
	// answered as a mistyped sub-command ("会签 搞定 …").
	DefaultTakes func(word string) bool
}

// takesDefault reports whether word, not a sub-command, goes to Default.
func (c *Command) takesDefault(word string) bool {
	if c.DefaultTakes != nil {
		return c.DefaultTakes(word)
	}
	return strings.ContainsFunc(word, unicode.IsDigit)
}

// Subcommand is one sub-command of a verb.
type Subcommand struct {
	Name    string
	Aliases []string
	Allow   Rule
	Run     RunFunc
	Files   bool // reads attachments, as Command.Files
	// Options, when set, are the option keys (both languages) a
	// sub-command that takes free text reads: a key:value word with any
	// other key is then part of the text (a reason typed as
	// 原因：台账未补齐), not an option. When nil, every key:value word is
	// an option, and the handler refuses the ones it does not know.
	Options []string
}

// Action handles clicks on buttons whose action id is ID.
type Action struct {
	ID    string
	Allow Rule
	Run   RunFunc
}

// Names returns the name and the aliases.
func (c *Command) Names() []string { return append([]string{c.Name}, c.Aliases...) }

// Names returns the name and the aliases.
func (s *Subcommand) Names() []string { return append([]string{s.Name}, s.Aliases...) }

// LocalName is the command's name as a reader of lang knows it: its
// first Chinese alias for Chinese, its English name otherwise.
func (c *Command) LocalName(lang string) string { return localName(c.Name, c.Aliases, lang) }

// LocalName is the sub-command's name as a reader of lang knows it.
func (s *Subcommand) LocalName(lang string) string { return localName(s.Name, s.Aliases, lang) }

func localName(name string, aliases []string, lang string) string {
	if IsEnglish(lang) {
		return name
	}
	for _, a := range aliases {
		if strings.ContainsFunc(a, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			return a
		}
	}
	return name
}

// Sub returns the sub-command named or aliased word.
func (c *Command) Sub(word string) *Subcommand {
	for _, s := range c.Subs {
		if matchName(s.Names(), word) {
			return s
		}
	}
	return nil
}

func matchName(names []string, word string) bool {
	for _, n := range names {
		if strings.EqualFold(n, word) {
			return true
		}
	}
	return false
}

// registry holds the commands and actions.
type registry struct {
	cmds    []*Command
	actions map[string]*Action
}

func (r *registry) add(c *Command) error {
	if c.Name == "" || (c.Run == nil && len(c.Subs) == 0) {
		return fmt.Errorf("command %q: needs a name and a handler or sub-commands", c.Name)
	}
	for _, n := range c.Names() {
		if other := r.find(n); other != nil {
			return fmt.Errorf("command %q: name %q already used by %q", c.Name, n, other.Name)
		}
	}
	seen := map[string]bool{}
	for _, s := range c.Subs {
		if s.Run == nil {
			return fmt.Errorf("command %q sub %q: no handler", c.Name, s.Name)
		}
		for _, n := range s.Names() {
			if seen[strings.ToLower(n)] {
				return fmt.Errorf("command %q: sub-command name %q used twice", c.Name, n)
			}
			seen[strings.ToLower(n)] = true
		}
	}
	if c.Default != "" && c.Sub(c.Default) == nil {
		return fmt.Errorf("command %q: default sub-command %q not declared", c.Name, c.Default)
	}
	if r.actions == nil {
		r.actions = map[string]*Action{}
	}
	for _, a := range c.Actions {
		if _, dup := r.actions[a.ID]; dup || a.Run == nil {
			return fmt.Errorf("command %q: action %q duplicated or without handler", c.Name, a.ID)
		}
		r.actions[a.ID] = a
	}
	r.cmds = append(r.cmds, c)
	return nil
}

func (r *registry) find(word string) *Command {
	for _, c := range r.cmds {
		if matchName(c.Names(), word) {
			return c
		}
	}
	return nil
}

// suggest returns up to three known verbs closest to word.
func (r *registry) suggest(word string) []*Command {
	type cand struct {
		cmd  *Command
		dist int
	}
	w := strings.ToLower(word)
	var cs []cand
	for _, c := range r.cmds {
		if c.Hidden {
			continue
		}
		best := -1
		for _, n := range c.Names() {
			ln := strings.ToLower(n)
			d := levenshtein(w, ln)
			if strings.HasPrefix(ln, w) || strings.HasPrefix(w, ln) {
				d = min(d, 1)
			}
			if best < 0 || d < best {
				best = d
			}
		}
		limit := max(1, min(3, len([]rune(w))/2))
		if best <= limit {
			cs = append(cs, cand{c, best})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].dist < cs[j].dist })
	var out []*Command
	for _, c := range cs {
		if !slices.Contains(out, c.cmd) {
			out = append(out, c.cmd)
		}
		if len(out) == 3 {
			break
		}
	}
	return out
}

// closest returns up to three names, among groups of a name and its
// aliases, close to word by edit distance or prefix: the name of each
// group that is closest.
func closest(word string, groups [][]string) []string {
	type cand struct {
		name string
		dist int
	}
	w := strings.ToLower(word)
	limit := max(1, min(3, len([]rune(w))/2))
	var cs []cand
	for _, g := range groups {
		best := cand{dist: -1}
		for _, n := range g {
			ln := strings.ToLower(n)
			d := levenshtein(w, ln)
			if strings.HasPrefix(ln, w) || strings.HasPrefix(w, ln) {
				d = min(d, 1)
			}
			if best.dist < 0 || d < best.dist {
				best = cand{n, d}
			}
		}
		if best.dist >= 0 && best.dist <= limit {
			cs = append(cs, best)
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].dist < cs[j].dist })
	var out []string
	for _, c := range cs {
		out = append(out, c.name)
		if len(out) == 3 {
			break
		}
	}
	return out
}

// levenshtein is the edit distance over runes; a dozen lines, so not
// worth a dependency.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
