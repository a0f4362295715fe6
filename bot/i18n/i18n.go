// Package i18n is xunji's message catalog: every user-facing text, in
// Simplified Chinese (the default) and English. Messages live in embedded
// YAML files, one pair per area (catalog/<area>.zh-CN.yaml and
// catalog/<area>.en.yaml): one area's texts sit together here, in the
// core, not in the command package that uses them.
// Placeholders are {name}, filled from name/value argument pairs, so
// translations can order them freely; {name|one|other} chooses a word by
// the number name ("{n} {n|entry|entries}").
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The supported languages.
const (
	ZH = "zh-CN"
	EN = "en"
)

// Langs lists the supported languages.
var Langs = []string{ZH, EN}

//go:embed catalog/*.yaml
var files embed.FS

// Catalog holds the messages of every language.
type Catalog struct {
	msgs map[string]map[string]string // lang → key → text
}

// Load reads the embedded catalog. It fails on a malformed file or a key
// defined twice in one language.
func Load() (*Catalog, error) { return LoadFS(files, "catalog") }

// MustLoad is Load for program start-up and tests.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// LoadFS reads catalog files named <area>.<lang>.yaml from dir of fsys.
func LoadFS(fsys fs.FS, dir string) (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, l := range Langs {
		c.msgs[l] = map[string]string{}
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		name := e.Name()
		base := strings.TrimSuffix(name, ".yaml")
		dot := strings.LastIndex(base, ".")
		if dot < 0 {
			return nil, fmt.Errorf("i18n: %s: name must be <area>.<lang>.yaml", name)
		}
		lang := base[dot+1:]
		m, ok := c.msgs[lang]
		if !ok {
			return nil, fmt.Errorf("i18n: %s: unknown language %q", name, lang)
		}
		data, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		var kv map[string]string
		if err := yaml.Unmarshal(data, &kv); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		for k, v := range kv {
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("i18n: %s: key %q defined twice", name, k)
			}
			m[k] = strings.TrimRight(v, "\n")
		}
	}
	return c, nil
}

// Norm maps a language tag to a supported language: anything English is
// "en", everything else the default Chinese.
func Norm(lang string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(lang)), "en") {
		return EN
	}
	return ZH
}

// Has reports whether key exists in lang.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.msgs[Norm(lang)][key]
	return ok
}

// T renders key in lang, replacing {name} with the value following
// "name" in args. A missing key renders as the key, so it shows up in
// tests rather than as an empty message.
func (c *Catalog) T(lang, key string, args ...any) string {
	s, ok := c.msgs[Norm(lang)][key]
	if !ok {
		return key
	}
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	return fill(s, args)
}

// fill replaces each {name} in s whose name is among args (name, value
// pairs) with its value; other braces stay as they are. Inserted values
// are not scanned again. (strings.NewReplacer does the same but builds
// its lookup table on every call, which showed in profiles: every
// answer is a catalog message.)
func fill(s string, args []any) string {
	var b strings.Builder
	b.Grow(len(s) + 16*len(args))
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '}')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		v, ok := arg(args, name)
		if !ok {
			v, ok = plural(args, name)
		}
		if !ok {
			b.WriteString(s[:i+1]) // not a placeholder of ours: keep the brace
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+1+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

// plural renders a plural placeholder {name|one|other}: the form "one"
// when the argument name is 1, else "other" ("1 entry", "2 entries").
// Chinese messages need none; English ones use it wherever a count is
// followed by a noun.
func plural(args []any, spec string) (string, bool) {
	name, forms, ok := strings.Cut(spec, "|")
	if !ok {
		return "", false
	}
	one, other, ok := strings.Cut(forms, "|")
	if !ok {
		return "", false
	}
	v, ok := arg(args, name)
	if !ok {
		return "", false
	}
	if v == "1" || v == "-1" {
		return one, true
	}
	return other, true
}

func arg(args []any, name string) (string, bool) {
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && k == name || !ok && fmt.Sprint(args[i]) == name {
			return fmt.Sprint(args[i+1]), true
		}
	}
	return "", false
}

// Keys returns the keys of lang, sorted.
func (c *Catalog) Keys(lang string) []string {
	m := c.msgs[Norm(lang)]
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
