package bot

import (
	"strings"
)

// HelpAll lists the commands a person can see, in lang.
func (rt *Router) HelpAll(lang string) string {
	var s strings.Builder
	s.WriteString(rt.b.T(lang, "help.header"))
	for _, c := range rt.reg.cmds {
		if c.Hidden {
			continue
		}
		s.WriteString("\n• ")
		s.WriteString(rt.names(lang, c.Names()))
		s.WriteString(" — ")
		s.WriteString(rt.b.T(lang, "cmd."+c.Name+".summary"))
	}
	s.WriteString("\n\n")
	s.WriteString(rt.b.T(lang, "help.footer"))
	return s.String()
}

// HelpFor describes one verb and its sub-commands, in lang.
func (rt *Router) HelpFor(lang string, c *Command) string {
	var s strings.Builder
	s.WriteString(rt.names(lang, c.Names()))
	s.WriteString(" — ")
	s.WriteString(rt.b.T(lang, "cmd."+c.Name+".summary"))
	if len(c.Subs) == 0 || c.Run != nil {
		rt.usage(&s, lang, "cmd."+c.Name, "  ")
	}
	for _, sc := range c.Subs {
		s.WriteString("\n• ")
		s.WriteString(rt.names(lang, sc.Names()))
		s.WriteString(" — ")
		key := "cmd." + c.Name + "." + sc.Name
		s.WriteString(rt.b.T(lang, key+".summary"))
		rt.usage(&s, lang, key, "    ")
	}
	return s.String()
}

// HelpForSub describes one sub-command of c, in lang.
func (rt *Router) HelpForSub(lang string, c *Command, sc *Subcommand) string {
	var s strings.Builder
	word := c.Name
	if !IsEnglish(lang) && len(c.Aliases) > 0 {
		word = c.Aliases[0]
	}
	s.WriteString(word + " " + rt.names(lang, sc.Names()))
	s.WriteString(" — ")
	key := "cmd." + c.Name + "." + sc.Name
	s.WriteString(rt.b.T(lang, key+".summary"))
	rt.usage(&s, lang, key, "  ")
	return s.String()
}

// UnknownSub answers word after c that is none of its sub-commands: what
// was wrong, the closest sub-commands, and the list of them.
func (rt *Router) UnknownSub(lang string, c *Command, word string) string {
	return rt.unknownSub(lang, c, word)
}

func (rt *Router) usage(s *strings.Builder, lang, key, indent string) {
	if rt.b.tr.Has(lang, key+".usage") {
		s.WriteString("\n" + indent + rt.b.T(lang, "help.usage", "usage", rt.b.T(lang, key+".usage")))
	}
	if rt.b.tr.Has(lang, key+".example") {
		s.WriteString("\n" + indent + rt.b.T(lang, "help.example", "example", rt.b.T(lang, key+".example")))
	}
}

// names renders "线索（clue）" in Chinese and "clue (线索)" in English:
// the reader's own language first.
func (rt *Router) names(lang string, names []string) string {
	names = localFirst(lang, names)
	if len(names) == 1 {
		return names[0]
	}
	return rt.b.T(lang, "help.names", "name", names[0], "aliases", strings.Join(names[1:], rt.b.T(lang, "list.sep")))
}

// Find returns the command named or aliased word.
func (rt *Router) Find(word string) *Command { return rt.reg.find(word) }

// UsageError is an EINVALID error for a command whose arguments are
// wrong: what was wrong (key, args) and the example of the right form
// from cmd.<verb>.<sub>.example.
func UsageError(req *Request, key string, args ...any) *Error {
	e := Coded(EINVALID, key, args...)
	if req != nil && req.Command != nil {
		k := "cmd." + req.Command.Verb.Name
		if req.Command.Sub != nil {
			k += "." + req.Command.Sub.Name
		}
		e.Example = k + ".example"
	}
	return e
}
