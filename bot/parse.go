package bot

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLineLen bounds a command line, in characters (runes, so that a
// Chinese character counts one like a Latin letter); longer input is
// refused, not parsed. It leaves room for the longest free text a
// command takes (a clue's substance, 4,000 characters) and its options.
const MaxLineLen = 8192

// Line is a tokenised command line.
type Line struct {
	Words   []string          // positional words, quotes removed
	Options map[string]string // key:value options, keys lower-cased
	// Tokens are all words and options in the order typed.
	Tokens []Token
	// Unbalanced is the first quote mark left open or unmatched (a
	// quoted word never closed, or a stray quote inside a word), 0 when
	// every quote is balanced.
	Unbalanced rune
}

// Token is one word or option of a Line.
type Token struct {
	Raw   string // as typed, quotes included
	Key   string // option key, lower-cased; "" for a word
	Value string // the word, or the option's value, quotes removed
}

// quotePairs maps each opening quote to its closing quote: ASCII quotes,
// Chinese curly quotes and corner brackets, as people type them on
// Chinese keyboards.
var quotePairs = map[rune]rune{
	'"': '"', '\'': '\'', '“': '”', '‘': '’', '「': '」', '『': '』',
}

// isColon reports whether r separates an option's key from its value:
// the ASCII colon or the full-width one a Chinese keyboard types.
func isColon(r rune) bool { return r == ':' || r == '：' }

// Tokenize splits a command line into words and key:value options.
// Quoted text ("…", “…”, 「…」) is one word and is never an option. A word
// key:value (or key：value with a Chinese colon) whose key starts with a
// letter is an option; the value may itself be quoted (title:"a b").
// Full-width spaces separate words like ASCII spaces. A quote left open,
// or a stray quote mark inside a word (`"标题 "内容"`), is reported in
// Unbalanced rather than guessed at.
func Tokenize(s string) Line {
	ln := Line{Options: map[string]string{}}
	rs := []rune(s)
	i := 0
	for i < len(rs) {
		for i < len(rs) && unicode.IsSpace(rs[i]) {
			i++
		}
		if i >= len(rs) {
			break
		}
		start := i
		if closeQ, ok := quotePairs[rs[i]]; ok {
			word, next, closed := readQuoted(rs, i+1, closeQ)
			if !closed {
				ln.unbalanced(rs[start])
			} else if next < len(rs) && !unicode.IsSpace(rs[next]) {
				// "标题 "内容": a quote closed in the middle of a word.
				ln.unbalanced(closeQ)
			}
			ln.Tokens = append(ln.Tokens, Token{Raw: string(rs[start:next]), Value: word})
			i = next
			continue
		}
		key := ""
		var b strings.Builder
		valueQuoted := false
		for i < len(rs) && !unicode.IsSpace(rs[i]) {
			r := rs[i]
			if key == "" && isColon(r) && i > start && unicode.IsLetter(rs[start]) && b.Len() > 0 {
				key = b.String()
				b.Reset()
				i++
				if i < len(rs) {
					if closeQ, ok := quotePairs[rs[i]]; ok {
						open := rs[i]
						word, next, closed := readQuoted(rs, i+1, closeQ)
						if !closed {
							ln.unbalanced(open)
						}
						b.WriteString(word)
						i = next
						valueQuoted = true
						break
					}
				}
				continue
			}
			b.WriteRune(r)
			i++
		}
		raw := string(rs[start:i])
		if q := strayQuote(b.String()); q != 0 && !valueQuoted {
			ln.unbalanced(q)
		}
		ln.Tokens = append(ln.Tokens, Token{Raw: raw, Key: strings.ToLower(key), Value: b.String()})
	}
	ln.Words, ln.Options, _ = ln.Split(0, nil)
	return ln
}

func (ln *Line) unbalanced(q rune) {
	if ln.Unbalanced == 0 {
		ln.Unbalanced = q
	}
}

// strayQuote returns a double quote or bracket mark that has no partner
// inside an unquoted word, or 0. Single quotes are left alone: they are
// apostrophes inside words (don't, O’Brien).
func strayQuote(w string) rune {
	depth := map[rune]int{}
	ascii := 0
	for _, r := range w {
		switch r {
		case '"':
			ascii++
		case '“', '「', '『':
			depth[r]++
		case '”', '」', '』':
			open := map[rune]rune{'”': '“', '」': '「', '』': '『'}[r]
			if depth[open] == 0 {
				return r
			}
			depth[open]--
		}
	}
	if ascii%2 == 1 {
		return '"'
	}
	for _, open := range []rune{'“', '「', '『'} {
		if depth[open] > 0 {
			return open
		}
	}
	return 0
}

func readQuoted(rs []rune, i int, closeQ rune) (string, int, bool) {
	var b strings.Builder
	for i < len(rs) && rs[i] != closeQ {
		b.WriteRune(rs[i])
		i++
	}
	if i < len(rs) {
		return b.String(), i + 1, true
	}
	return b.String(), i, false
}

// Split reads the tokens again after the first skip words (a verb and
// its sub-command): a token is an option when its key is one of known,
// or when known is nil; any other key:value token is a word as typed (a
// reason written 原因：台账未补齐 is text, not an option). dups names the
// options given more than once, in the order met.
func (ln Line) Split(skip int, known []string) (words []string, opts map[string]string, dups []string) {
	opts = map[string]string{}
	for _, t := range ln.Tokens {
		if t.Key == "" && skip > 0 {
			skip--
			continue
		}
		isOpt := t.Key != "" && (known == nil || slices.ContainsFunc(known, func(k string) bool { return strings.EqualFold(k, t.Key) }))
		switch {
		case isOpt:
			if _, dup := opts[t.Key]; dup && !slices.Contains(dups, t.Key) {
				dups = append(dups, t.Key)
			}
			opts[t.Key] = t.Value
		case t.Key != "":
			words = append(words, t.Raw)
		default:
			words = append(words, t.Value)
		}
	}
	return words, opts, dups
}

// Parsed is a command line resolved against the registered commands.
type Parsed struct {
	Verb    *Command    // the command
	Sub     *Subcommand // the sub-command, nil when the verb has none
	Args    []string    // positional arguments after verb and sub-command
	Options map[string]string
}

// Arg returns positional argument i or "".
func (p *Parsed) Arg(i int) string {
	if p == nil || i < 0 || i >= len(p.Args) {
		return ""
	}
	return p.Args[i]
}

// Opt returns the first non-empty option among keys (so a handler can
// accept both "deadline" and "期限").
func (p *Parsed) Opt(keys ...string) string {
	if p == nil {
		return ""
	}
	for _, k := range keys {
		if v, ok := p.Options[strings.ToLower(k)]; ok && v != "" {
			return v
		}
	}
	return ""
}

// HasOpt reports whether any of keys was given, even empty.
func (p *Parsed) HasOpt(keys ...string) bool {
	if p == nil {
		return false
	}
	for _, k := range keys {
		if _, ok := p.Options[strings.ToLower(k)]; ok {
			return true
		}
	}
	return false
}

// Rest joins the positional arguments from i on with spaces.
func (p *Parsed) Rest(i int) string {
	if p == nil || i >= len(p.Args) {
		return ""
	}
	return strings.Join(p.Args[i:], " ")
}

// CleanLine prepares raw command text: it drops a leading slash and
// invisible characters, folds full-width forms platforms leave in, and
// reports whether anything is left. Invalid UTF-8 is replaced.
func CleanLine(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\u00a0' || r == '\u3000':
			return ' '
		case r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff':
			return -1
		case unicode.IsControl(r) && r != '\n' && r != '\t':
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "/")
	s = strings.TrimPrefix(s, "／")
	return strings.TrimSpace(s)
}
