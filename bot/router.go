package bot

import (
	"context"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Router is the part of a Bot that knows the commands: it registers them
// and the middlewares, finds the command a line names, runs it, and
// writes the help.
type Router struct {
	b           *Bot
	reg         registry
	middlewares []Middleware
}

// Register adds commands. Names and aliases must be unique.
func (rt *Router) Register(cmds ...*Command) error {
	for _, c := range cmds {
		if err := rt.reg.add(c); err != nil {
			return err
		}
	}
	return nil
}

// Commands returns the registered commands in registration order.
func (rt *Router) Commands() []*Command { return slices.Clone(rt.reg.cmds) }

// Use adds a middleware around every request; the first added is
// outermost.
func (rt *Router) Use(m Middleware) { rt.middlewares = append(rt.middlewares, m) }

// dispatch finds the command or action and checks its rule.
func (rt *Router) dispatch(ctx context.Context, req *Request) (*Response, error) {
	switch req.Kind {
	case KindAction:
		a, ok := rt.reg.actions[req.Action]
		if !ok {
			return nil, Coded(EINVALID, "error.unknown_action")
		}
		if a.Allow != nil && !a.Allow(req.Roster, req.Person) {
			return rt.b.answerForbidden(ctx, req, req.Action, req.Value)
		}
		return a.Run(ctx, req)
	default:
		return rt.runLine(ctx, req)
	}
}

func (rt *Router) runLine(ctx context.Context, req *Request) (*Response, error) {
	text := CleanLine(req.Text)
	if utf8.RuneCountInString(text) > MaxLineLen {
		return nil, Coded(EINVALID, "error.too_long", "max", MaxLineLen)
	}
	if text == "" {
		return Text(rt.b.T(req.Lang, "error.empty")), nil
	}
	ln := Tokenize(text)
	if len(ln.Words) == 0 {
		return nil, Coded(EINVALID, "error.no_verb").WithExample("help.try")
	}
	verb := rt.reg.find(ln.Words[0])
	if verb == nil {
		sugg := rt.reg.suggest(ln.Words[0])
		if len(sugg) == 0 {
			return Text(rt.b.T(req.Lang, "error.unknown_verb", "verb", ln.Words[0])), nil
		}
		names := make([]string, len(sugg))
		for i, c := range sugg {
			names[i] = c.LocalName(req.Lang)
		}
		return Text(rt.b.T(req.Lang, "error.unknown_verb_suggest", "verb", ln.Words[0], "suggestions", strings.Join(names, rt.b.T(req.Lang, "list.sep")))), nil
	}
	p := &Parsed{Verb: verb}
	args := ln.Words[1:]
	skip := 1
	if len(verb.Subs) > 0 {
		if len(args) > 0 {
			p.Sub = verb.Sub(args[0])
		}
		switch {
		case p.Sub != nil:
			skip = 2
		case verb.Default != "" && len(args) > 0 && verb.takesDefault(args[0]):
			p.Sub = verb.Sub(verb.Default)
		case verb.Run == nil || len(args) > 0 && verb.Default != "":
			if len(args) > 0 {
				return Text(rt.unknownSub(req.Lang, verb, args[0])), nil
			}
			return Text(rt.HelpFor(req.Lang, verb)), nil
		}
	}
	known := verb.Options
	if p.Sub != nil {
		known = p.Sub.Options
	}
	var dups []string
	p.Args, p.Options, dups = ln.Split(skip, known)
	req.Command = p
	if verb.Allow != nil && !verb.Allow(req.Roster, req.Person) {
		// Audit what was tried (clue.show, not clue), so a record's trail
		// can name the attempt.
		what := verb.Name
		if p.Sub != nil {
			what += "." + p.Sub.Name
		}
		return rt.b.answerForbidden(ctx, req, what, commandRecord(p))
	}
	if p.Sub != nil && p.Sub.Allow != nil && !p.Sub.Allow(req.Roster, req.Person) {
		return rt.b.answerForbidden(ctx, req, verb.Name+"."+p.Sub.Name, commandRecord(p))
	}
	if ln.Unbalanced != 0 {
		return nil, UsageError(req, "error.unbalanced_quote", "quote", string(ln.Unbalanced))
	}
	if len(dups) > 0 {
		return nil, UsageError(req, "error.duplicate_option", "option", strings.Join(dups, rt.b.T(req.Lang, "list.sep")))
	}
	if p.Sub != nil {
		return p.Sub.Run(ctx, req)
	}
	return verb.Run(ctx, req)
}

// unknownSub answers a word after verb that is none of its sub-commands:
// what was wrong, the closest sub-commands when some are close, and the
// list of them with the way to read their help.
func (rt *Router) unknownSub(lang string, verb *Command, word string) string {
	var groups [][]string
	for _, sc := range verb.Subs {
		groups = append(groups, sc.Names())
	}
	s := rt.b.T(lang, "error.unknown_sub", "sub", word, "verb", verb.LocalName(lang))
	if sugg := closest(word, groups); len(sugg) > 0 {
		s = rt.b.T(lang, "error.unknown_sub_suggest", "sub", word, "verb", verb.LocalName(lang), "suggestions", strings.Join(sugg, rt.b.T(lang, "list.sep")))
	}
	var names []string
	for _, sc := range verb.Subs {
		names = append(names, rt.names(lang, localFirst(lang, sc.Names())))
	}
	return s + "\n" + rt.b.T(lang, "error.sub_list", "subs", strings.Join(names, rt.b.T(lang, "list.sep")), "verb", verb.LocalName(lang))
}

// WantsFiles implements FileWanter: whether the command (or sub-command)
// that text names reads attachments. Text that names no command takes
// none.
func (rt *Router) WantsFiles(text string) bool {
	ln := Tokenize(CleanLine(text))
	if len(ln.Words) == 0 {
		return false
	}
	verb := rt.reg.find(ln.Words[0])
	if verb == nil {
		return false
	}
	if len(verb.Subs) > 0 {
		var sub *Subcommand
		if len(ln.Words) > 1 {
			sub = verb.Sub(ln.Words[1])
		}
		if sub == nil && verb.Default != "" {
			sub = verb.Sub(verb.Default)
		}
		if sub != nil {
			return sub.Files
		}
	}
	return verb.Files
}

// localFirst orders names so that a reader of lang sees the one in
// their language first: a Chinese reader is not answered with English
// verbs ahead of the Chinese ones.
func localFirst(lang string, names []string) []string {
	if IsEnglish(lang) {
		return names
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if strings.ContainsFunc(n, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			out = append(out, n)
		}
	}
	for _, n := range names {
		if !strings.ContainsFunc(n, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
			out = append(out, n)
		}
	}
	return out
}

// commandRecord is the first record id (XS-2026-0001, any case) among
// a command's arguments, or "": a refused command is audited against the
// record it named, so it shows in that record's history.
func commandRecord(p *Parsed) string {
	for _, a := range p.Args {
		if id := strings.ToUpper(strings.TrimSpace(a)); reRecordID.MatchString(id) {
			return id
		}
	}
	return ""
}
