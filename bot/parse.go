package bot

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxLineLen bounds a command line; longer input is refused, not parsed.
const MaxLineLen = 8192

// Line is a tokenised command line.
type Line struct {
	Words   []string          // positional words, quotes removed
	Options map[string]string // key:value options, keys lower-cased
}

// quotePairs maps each opening quote to its closing quote: ASCII quotes,
// Chinese curly quotes and corner brackets, as people type them on
// Chinese keyboards.
var quotePairs = map[rune]rune{
	'"': '"', '\'': '\'', '“': '”', '‘': '’', '「': '」', '『': '』',
}

// Tokenize splits a command line into words and key:value options.
// Quoted text ("…", “…”, 「…」) is one word and is never an option. A word
// key:value (or key：value with a Chinese colon) whose key starts with a
// letter is an option; the value may itself be quoted (title:"a b").
// Unterminated quotes take the rest of the line. Full-width spaces
// separate words like ASCII spaces.
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
		if closeQ, ok := quotePairs[rs[i]]; ok {
			word, next := readQuoted(rs, i+1, closeQ)
			ln.Words = append(ln.Words, word)
			i = next
			continue
		}
		start := i
		key := ""
		var b strings.Builder
		for i < len(rs) && !unicode.IsSpace(rs[i]) {
			r := rs[i]
			if key == "" && (r == ':' || r == '：') && i > start && unicode.IsLetter(rs[start]) && b.Len() > 0 {
				key = b.String()
				b.Reset()
				i++
				if i < len(rs) {
					if closeQ, ok := quotePairs[rs[i]]; ok {
						word, next := readQuoted(rs, i+1, closeQ)
						b.WriteString(word)
						i = next
						break
					}
				}
				continue
			}
			b.WriteRune(r)
			i++
		}
		if key != "" {
			ln.Options[strings.ToLower(key)] = b.String()
		} else {
			ln.Words = append(ln.Words, b.String())
		}
	}
	return ln
}

func readQuoted(rs []rune, i int, closeQ rune) (string, int) {
	var b strings.Builder
	for i < len(rs) && rs[i] != closeQ {
		b.WriteRune(rs[i])
		i++
	}
	if i < len(rs) {
		i++ // closing quote
	}
	return b.String(), i
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
