// Package i18n is xunji's message catalog: every user-facing text, in
// Simplified Chinese (the default) and English. Messages live in YAML
// files, one pair per area (<area>.zh-CN.yaml and <area>.en.yaml). The
// core's own texts (errors, help, the console, schedules) are embedded
// here, in catalog/, and Load reads them; each command package embeds its
// texts beside its code and adds them with Add when it registers, so a
// domain's texts live with the domain. A key may be defined by one area
// only.
// Placeholders are {name}, filled from name/value argument pairs, so
// translations can order them freely; {name|one|other} chooses a word by
// the number name ("{n} {n|entry|entries}").
package i18n

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

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

// Catalog holds the messages of every language. It is safe for
// concurrent use: Add publishes a new set of texts that T, Has and Keys
// read without locking.
type Catalog struct {
	mu  sync.Mutex // serialises Add
	cur atomic.Pointer[texts]
}

// texts is one published state of a catalog; it is never changed once
// published.
type texts struct {
	msgs  map[string]map[string]string // lang → key → text
	areas map[string][]byte            // file name → content, of the files added
}

// Load reads the core's embedded catalog. It fails on a malformed file
// or a key defined twice in one language.
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
	c := &Catalog{}
	if err := c.Add(fsys, dir); err != nil {
		return nil, err
	}
	return c, nil
}

// Add reads the catalog files named <area>.<lang>.yaml in dir of fsys
// into c: a command package's texts, added when it registers. A key
// already defined by another area, or in another file of dir, is an
// error, and so is an area added before with other content; adding the
// same files again changes nothing (a domain may be set up more than
// once on one bot). On error c is unchanged.
func (c *Catalog) Add(fsys fs.FS, dir string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := c.load().clone()
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := next.addFile(fsys, dir, e.Name()); err != nil {
			return err
		}
	}
	c.cur.Store(next)
	return nil
}

// addFile adds the catalog file name of dir to t.
func (t *texts) addFile(fsys fs.FS, dir, name string) error {
	base := strings.TrimSuffix(name, ".yaml")
	dot := strings.LastIndex(base, ".")
	if dot < 0 {
		return fmt.Errorf("i18n: %s: name must be <area>.<lang>.yaml", name)
	}
	lang := base[dot+1:]
	m, ok := t.msgs[lang]
	if !ok {
		return fmt.Errorf("i18n: %s: unknown language %q", name, lang)
	}
	data, err := fs.ReadFile(fsys, path.Join(dir, name))
	if err != nil {
		return err
	}
	if prev, ok := t.areas[name]; ok {
		if bytes.Equal(prev, data) {
			return nil // these texts are in already
		}
		return fmt.Errorf("i18n: %s: area added twice with different texts", name)
	}
	var kv map[string]string
	if err := yaml.Unmarshal(data, &kv); err != nil {
		return fmt.Errorf("i18n: %s: %w", name, err)
	}
	for k, v := range kv {
		if _, dup := m[k]; dup {
			return fmt.Errorf("i18n: %s: key %q defined twice", name, k)
		}
		m[k] = strings.TrimRight(v, "\n")
	}
	t.areas[name] = data
	return nil
}

// load returns the published texts, empty ones for a zero Catalog.
func (c *Catalog) load() *texts {
	if t := c.cur.Load(); t != nil {
		return t
	}
	return &texts{}
}

// clone returns a copy of t that Add may change, with a map for every
// language.
func (t *texts) clone() *texts {
	n := &texts{msgs: map[string]map[string]string{}, areas: maps.Clone(t.areas)}
	if n.areas == nil {
		n.areas = map[string][]byte{}
	}
	for _, l := range Langs {
		n.msgs[l] = maps.Clone(t.msgs[l])
		if n.msgs[l] == nil {
			n.msgs[l] = map[string]string{}
		}
	}
	return n
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
	_, ok := c.load().msgs[Norm(lang)][key]
	return ok
}

// T renders key in lang, replacing {name} with the value following
// "name" in args. A missing key renders as the key, so it shows up in
// tests rather than as an empty message.
func (c *Catalog) T(lang, key string, args ...any) string {
	s, ok := c.load().msgs[Norm(lang)][key]
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
	m := c.load().msgs[Norm(lang)]
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
