package config

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/xunji-bot/xunji/bot"
)

// Module is one domain of commands (commands/<domain>): its settings
// section, their check and its registration with the bot. Every domain
// exports one; commands/all holds the list the programs share.
type Module struct {
	// Name names the domain, e.g. "clue".
	Name string
	// Section is the top-level key of the domain's settings in the
	// configuration file (e.g. "meetings"); "" when it has none.
	Section string
	// Check validates the domain's settings against the rest of the
	// configuration (the roster, the groups) without a bot; every error
	// names the key. Nil when there is nothing to check.
	Check func(c *Config) error
	// Setup adds the domain's commands, jobs and tasks to b, with its
	// settings from c. It refuses settings Check refuses.
	Setup func(b *bot.Bot, c *Config) error
}

// Section decodes the domain settings under the top-level key name into
// into (a pointer to the domain's settings type), strictly: a key the
// type does not know is an error naming it (e.g. clue.foo). A section
// absent from the file leaves into as it is. A section set with
// SetSection is copied into into instead.
func (c *Config) Section(name string, into any) error {
	rv := reflect.ValueOf(into)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("config: section %s: decoding needs a non-nil pointer, not %T", name, into)
	}
	if v, ok := c.set[name]; ok {
		sv := reflect.ValueOf(v)
		if sv.Type() != rv.Elem().Type() {
			return fmt.Errorf("config: section %s holds a %s, not a %s", name, sv.Type(), rv.Elem().Type())
		}
		rv.Elem().Set(sv)
		return nil
	}
	if _, ok := c.Sections[name]; !ok || c.src == nil {
		return nil
	}
	// Decode the whole file again into a type that knows this section
	// only (the others fall into an inline map), so that yaml's errors
	// carry the file's line numbers and namedYAMLError can name the key.
	holder := reflect.New(reflect.StructOf([]reflect.StructField{
		{Name: "Section", Type: rv.Elem().Type(), Tag: reflect.StructTag(fmt.Sprintf("yaml:%q", name))},
		{Name: "Rest", Type: reflect.TypeFor[map[string]yaml.Node](), Tag: `yaml:",inline"`},
	}))
	holder.Elem().Field(0).Set(rv.Elem())
	dec := yaml.NewDecoder(bytes.NewReader(c.src))
	dec.KnownFields(true)
	if err := dec.Decode(holder.Interface()); err != nil {
		return namedYAMLError(c.src, err)
	}
	rv.Elem().Set(holder.Elem().Field(0))
	return nil
}

// SetSection replaces the section name with v, a value of the domain's
// settings type, as Section will return it; for tests and tools that
// change a domain's settings after loading.
func (c *Config) SetSection(name string, v any) {
	if c.set == nil {
		c.set = map[string]any{}
	}
	c.set[name] = v
	if c.Sections == nil {
		c.Sections = map[string]yaml.Node{}
	}
	if _, ok := c.Sections[name]; !ok {
		c.Sections[name] = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
}

// CheckSections refuses top-level keys that are neither core settings
// nor the section of one of the modules, naming each with its line: a
// typo must not silently drop a setting.
func CheckSections(c *Config, mods []Module) error {
	var known []string
	for _, m := range mods {
		if m.Section != "" {
			known = append(known, m.Section)
		}
	}
	slices.Sort(known)
	var errs []error
	for _, k := range c.sectionOrder() {
		if slices.Contains(known, k) {
			continue
		}
		prefix := ""
		if line := c.keyLine(k); line > 0 {
			prefix = fmt.Sprintf("line %d: ", line)
		}
		errs = append(errs, fmt.Errorf("%s%s: unknown key (neither a core setting nor a domain's section: %s)", prefix, k, strings.Join(known, ", ")))
	}
	return errors.Join(errs...)
}

// sectionOrder returns the keys of Sections in file order (then sorted,
// for those set in code).
func (c *Config) sectionOrder() []string {
	var out []string
	var root yaml.Node
	if c.src != nil && yaml.Unmarshal(c.src, &root) == nil && len(root.Content) == 1 && root.Content[0].Kind == yaml.MappingNode {
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if _, ok := c.Sections[m.Content[i].Value]; ok && !slices.Contains(out, m.Content[i].Value) {
				out = append(out, m.Content[i].Value)
			}
		}
	}
	var rest []string
	for k := range c.Sections {
		if !slices.Contains(out, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// keyLine returns the line of the top-level key k in the file, 0 when
// unknown.
func (c *Config) keyLine(k string) int {
	var root yaml.Node
	if c.src == nil || yaml.Unmarshal(c.src, &root) != nil || len(root.Content) != 1 {
		return 0
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == k {
			return m.Content[i].Line
		}
	}
	return 0
}

// FieldErr formats an error that names the key, as every configuration
// error does: "clue.deadline_days: must be …".
func FieldErr(key, format string, args ...any) error { return fieldErr(key, format, args...) }

// KindList lists the party kinds, for errors.
func KindList() string { return kindList() }
