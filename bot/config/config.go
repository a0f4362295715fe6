// Package config loads and validates xunji's YAML configuration and
// turns it into the core's roster and groups. Secrets never live here:
// tokens and keys come from environment variables (see cmd/xunji).
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/workday"
)

// Config is the whole configuration file.
type Config struct {
	Timezone string                 `yaml:"timezone"`
	Lang     string                 `yaml:"lang"`
	Store    StoreConfig            `yaml:"store"`
	HTTP     HTTPConfig             `yaml:"http"`
	Bodies   []BodyConfig           `yaml:"bodies"`
	People   []PersonConfig         `yaml:"people"`
	Groups   map[string]GroupConfig `yaml:"groups"`
	// Notices names the group that receives each kind of notice, e.g.
	// clue: coordination.
	Notices   map[string]string `yaml:"notices"`
	Schedules []ScheduleConfig  `yaml:"schedules"`
	Holidays  HolidayConfig     `yaml:"holidays"`
	// Sections are the domains' settings (clue, progress, cosign,
	// consult, round, meetings …), kept as raw yaml: each domain
	// (commands/<domain>) owns its section's type, defaults and checks and
	// decodes it with Section. Every other top-level key lands here too;
	// CheckSections refuses those no module claims.
	Sections map[string]yaml.Node `yaml:",inline"`

	loc *time.Location
	// deprecated names the entries that used the flat platform keys.
	deprecated []string
	src        []byte         // the file, for Section's strict decoding
	set        map[string]any // sections replaced with SetSection
}

// StoreConfig chooses the store.
type StoreConfig struct {
	Kind     string `yaml:"kind"`      // "bolt" (default) or "redis"
	Path     string `yaml:"path"`      // bolt file
	RedisURL string `yaml:"redis_url"` // redis://host:port/db; REDIS_URL overrides it
	Prefix   string `yaml:"prefix"`    // key prefix in Redis
	// Replicas: with Redis replicas (Sentinel), each acceptance and each
	// commit waits until this many replicas have it, so a failover loses
	// nothing acknowledged. 0 (the default) does not wait.
	Replicas int `yaml:"replicas"`
}

// HTTPConfig is the shared listener for Slack and Lark callbacks,
// /healthz and /metrics.
type HTTPConfig struct {
	Addr string `yaml:"addr"`
}

// BodyConfig is one concrete body of a party kind.
type BodyConfig struct {
	ID     string `yaml:"id"`
	Kind   string `yaml:"kind"`
	Name   string `yaml:"name"`
	NameEn string `yaml:"name_en"`
	Group  string `yaml:"group"`
}

// PersonConfig is one roster member.
type PersonConfig struct {
	ID     string   `yaml:"id"`
	Name   string   `yaml:"name"`
	NameEn string   `yaml:"name_en"`
	Bodies []string `yaml:"bodies"`
	Admin  bool     `yaml:"admin"`
	Lang   string   `yaml:"lang"`
	// IDs are the person's user ids by platform name, e.g.
	// {slack: U01ABC, lark: ou_…}. A platform whose ids are names (the
	// console) defaults to the person's name.
	IDs map[string]string `yaml:"ids"`
	// Flat holds the keys the struct does not know: the deprecated flat
	// platform keys (slack: U01ABC), folded into IDs when parsed, or a
	// typo, which ValidatePlatforms refuses as an unknown platform.
	Flat map[string]string `yaml:",inline"`
}

// GroupConfig is a chat group, present on one or more platforms.
type GroupConfig struct {
	Name string `yaml:"name"`
	// Bodies are the bodies whose members sit in the group, besides those
	// whose own group it is. The clue group must list them, so that
	// validation can check that no inspected unit sits there. A
	// co-signature's card (notices.cosign) and an overdue co-signature on
	// a meeting's agenda are shown in a group only when every member of
	// these bodies may know of that co-signature; a group listing none
	// gets none, and the parties get their cards by direct message.
	Bodies []string `yaml:"bodies"`
	// IDs are the group's chat ids by platform name. A platform whose
	// ids are names (the console) defaults to the group's name, else its
	// key.
	IDs map[string]string `yaml:"ids"`
	// Flat: as PersonConfig.Flat.
	Flat map[string]string `yaml:",inline"`
}

// HolidayConfig overrides the official holiday calendar locally.
type HolidayConfig struct {
	Extra   []string `yaml:"extra"`   // additional days off, 2026-12-31
	Workday []string `yaml:"workday"` // additional working days
	// Table is the State Council's holiday table for the years the
	// built-in one does not know yet: per year, the holidays and the
	// make-up working days (调休). It replaces the built-in table for
	// those years.
	Table []workday.Year `yaml:"table"`
}

//go:embed demo.yaml
var demoYAML []byte

// Demo returns the built-in demo district (shared/DEMO.md): every party
// filled, console names set, so a newcomer can try every command offline.
func Demo() *Config {
	c, err := Parse(demoYAML)
	if err != nil {
		panic("config: demo.yaml is invalid: " + err.Error())
	}
	return c
}

// DemoYAML returns the demo district's configuration file, for tools
// that start the program with a variant of it.
func DemoYAML() []byte { return append([]byte(nil), demoYAML...) }

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and validates the core of a configuration. Unknown keys
// in core settings are errors (a typo must not silently drop a setting);
// every error names the key. Other top-level keys are kept as Sections:
// the domains decode and check theirs (Module.Check, Section), and
// CheckSections refuses the keys no domain claims.
func Parse(data []byte) (*Config, error) {
	c := &Config{src: data}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, namedYAMLError(data, err)
	}
	c.defaults()
	c.foldFlatIDs()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

var reLine = regexp.MustCompile(`line (\d+): `)

// namedYAMLError rewrites yaml's "line N: cannot unmarshal …" messages to
// name the key at that line, so the error says what to fix.
func namedYAMLError(data []byte, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return errors.New(msg)
	}
	return errors.New(reLine.ReplaceAllStringFunc(msg, func(m string) string {
		n, _ := strconv.Atoi(reLine.FindStringSubmatch(m)[1])
		if key := keyAtLine(&root, "", n); key != "" {
			return m + key + ": "
		}
		return m
	}))
}

// keyAtLine returns the dotted path of the first mapping key or sequence
// item on line.
func keyAtLine(n *yaml.Node, path string, line int) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if k := keyAtLine(c, path, line); k != "" {
				return k
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			if n.Content[i].Line == line {
				return p
			}
			if k := keyAtLine(n.Content[i+1], p, line); k != "" {
				return k
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if k := keyAtLine(c, p, line); k != "" {
				return k
			}
		}
	}
	return ""
}

func (c *Config) defaults() {
	if c.Timezone == "" {
		c.Timezone = "Asia/Shanghai"
	}
	if c.Lang == "" {
		c.Lang = "zh-CN"
	}
	if c.Store.Kind == "" {
		c.Store.Kind = "bolt"
	}
	if c.Store.Path == "" {
		c.Store.Path = "xunji.db"
	}
	if c.Store.RedisURL == "" {
		c.Store.RedisURL = "redis://127.0.0.1:6379/0"
	}
	if c.Store.Prefix == "" {
		c.Store.Prefix = "xunji:"
	}
	if c.HTTP.Addr == "" {
		c.HTTP.Addr = ":8080"
	}
}

// fieldErr formats an error that names the key.
func fieldErr(key, format string, args ...any) error {
	return fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...))
}

func (c *Config) validate() error {
	var errs []error
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		errs = append(errs, fieldErr("timezone", "unknown time zone %q (use an IANA name such as Asia/Shanghai)", c.Timezone))
	}
	c.loc = loc
	switch strings.ToLower(c.Lang) {
	case "zh-cn", "zh", "en", "en-us":
	default:
		errs = append(errs, fieldErr("lang", "must be zh-CN or en, not %q", c.Lang))
	}
	switch c.Store.Kind {
	case "bolt", "redis":
	default:
		errs = append(errs, fieldErr("store.kind", "must be bolt or redis, not %q", c.Store.Kind))
	}
	if c.Store.Replicas < 0 || c.Store.Replicas > 10 {
		errs = append(errs, fieldErr("store.replicas", "must be between 0 and 10, not %d", c.Store.Replicas))
	}
	bodies, berrs := c.validateBodies()
	errs = append(errs, berrs...)
	errs = append(errs, c.validatePeople(bodies)...)
	for kind, g := range c.Notices {
		if _, ok := c.Groups[g]; !ok {
			errs = append(errs, fieldErr("notices."+kind, "unknown group %q", g))
		}
	}
	if loc != nil {
		if _, err := workday.New(loc, c.Holidays.Extra, c.Holidays.Workday, c.Holidays.Table...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// validateBodies checks the bodies and returns the set of their ids.
func (c *Config) validateBodies() (map[string]bool, []error) {
	var errs []error
	bodies := map[string]bool{}
	for i, b := range c.Bodies {
		key := fmt.Sprintf("bodies[%d]", i)
		switch {
		case b.ID == "":
			errs = append(errs, fieldErr(key+".id", "is required"))
		case bodies[b.ID]:
			errs = append(errs, fieldErr(key+".id", "%q is used twice", b.ID))
		}
		bodies[b.ID] = true
		if !bot.PartyKind(b.Kind).Valid() {
			errs = append(errs, fieldErr(key+".kind", "unknown party kind %q (one of %s)", b.Kind, kindList()))
		}
		if b.Name == "" {
			errs = append(errs, fieldErr(key+".name", "is required"))
		}
		if b.Group != "" {
			if _, ok := c.Groups[b.Group]; !ok {
				errs = append(errs, fieldErr(key+".group", "unknown group %q", b.Group))
			}
		}
	}
	return bodies, errs
}

// validatePeople checks the people against the bodies: ids, names,
// memberships, platform ids used once, languages.
func (c *Config) validatePeople(bodies map[string]bool) []error {
	var errs []error
	people := map[string]bool{}
	platformIDs := map[string]string{}
	for i, p := range c.People {
		key := fmt.Sprintf("people[%d]", i)
		switch {
		case p.ID == "":
			errs = append(errs, fieldErr(key+".id", "is required"))
		case people[p.ID]:
			errs = append(errs, fieldErr(key+".id", "%q is used twice", p.ID))
		}
		people[p.ID] = true
		if p.Name == "" {
			errs = append(errs, fieldErr(key+".name", "is required"))
		}
		if len(p.Bodies) == 0 {
			errs = append(errs, fieldErr(key+".bodies", "a person must belong to at least one body"))
		}
		for j, b := range p.Bodies {
			if !bodies[b] {
				errs = append(errs, fieldErr(fmt.Sprintf("%s.bodies[%d]", key, j), "unknown body %q", b))
			}
		}
		for _, plat := range slices.Sorted(maps.Keys(p.IDs)) {
			id := p.IDs[plat]
			if id == "" {
				continue
			}
			k := plat + ":" + id
			if other, dup := platformIDs[k]; dup {
				name := key + ".ids." + plat
				if _, flat := p.Flat[plat]; flat {
					name = key + "." + plat // as the file says it
				}
				errs = append(errs, fieldErr(name, "id %q is also used by %q", id, other))
			}
			platformIDs[k] = p.ID
		}
		if p.Lang != "" && !strings.HasPrefix(strings.ToLower(p.Lang), "en") && !strings.HasPrefix(strings.ToLower(p.Lang), "zh") {
			errs = append(errs, fieldErr(key+".lang", "must be zh-CN or en, not %q", p.Lang))
		}
	}
	return errs
}

func kindList() string {
	var s []string
	for _, k := range bot.PartyKinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// Calendar returns the working-day calendar with the local overrides.
func (c *Config) Calendar() *workday.Calendar {
	cal, err := workday.New(c.loc, c.Holidays.Extra, c.Holidays.Workday, c.Holidays.Table...)
	if err != nil {
		panic(err) // validate checked the dates
	}
	return cal
}

// Location returns the deployment time zone.
func (c *Config) Location() *time.Location { return c.loc }

// Roster builds the core roster. A person's id on a platform whose ids
// are names (PlatformSpec.NamedIDs, the console) is their name unless
// configured.
func (c *Config) Roster(ps *bot.Platforms) *bot.Roster {
	r := &bot.Roster{}
	for _, b := range c.Bodies {
		r.Bodies = append(r.Bodies, bot.Body{ID: b.ID, Kind: bot.PartyKind(b.Kind), Name: b.Name, NameEn: b.NameEn, Group: b.Group})
	}
	for _, p := range c.People {
		ids := platformIDs(p.IDs, ps, p.Name)
		r.People = append(r.People, &bot.Person{ID: p.ID, Name: p.Name, NameEn: p.NameEn, Bodies: append([]string(nil), p.Bodies...), Admin: p.Admin, Lang: p.Lang, IDs: ids})
	}
	return r
}

// ChatGroups returns group key → platform → chat id. A group's id on a
// platform whose ids are names is its name (else its key) unless
// configured.
func (c *Config) ChatGroups(ps *bot.Platforms) map[string]map[bot.Platform]string {
	out := map[string]map[bot.Platform]string{}
	for k, g := range c.Groups {
		name := g.Name
		if name == "" {
			name = k
		}
		out[k] = platformIDs(g.IDs, ps, name)
	}
	return out
}

// GroupBodies returns the bodies whose members sit in group g: those it
// lists (groups.<g>.bodies) and those whose own group it is, in
// configuration order; nil for "" or when nobody is known to sit there.
func (c *Config) GroupBodies(g string) []string {
	if g == "" {
		return nil
	}
	var out []string
	for _, b := range c.Bodies {
		if b.Group == g || slices.Contains(c.Groups[g].Bodies, b.ID) {
			out = append(out, b.ID)
		}
	}
	return out
}

// NoticeGroup returns the group for a kind of notice, falling back to
// "coordination".
func (c *Config) NoticeGroup(kind string) string {
	if g, ok := c.Notices[kind]; ok {
		return g
	}
	return "coordination"
}
