package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/xunji-bot/xunji/bot"
)

// The platform ids of people and groups are maps keyed by platform name
// (ids: {slack: U01ABC, lark: ou_…}); the configuration knows no platform
// by name. ValidatePlatforms checks the keys against the platforms the
// program has.

// foldFlatIDs moves the deprecated flat platform keys (slack: U01ABC
// beside name:) into the ids maps, noting each entry that used them
// (Deprecated). A key given both ways keeps the ids map's value.
func (c *Config) foldFlatIDs() {
	for i := range c.People {
		p := &c.People[i]
		if len(p.Flat) > 0 {
			p.IDs = foldFlat(p.IDs, p.Flat)
			c.deprecated = append(c.deprecated, fmt.Sprintf("people[%d]", i))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(c.Groups)) {
		g := c.Groups[k]
		if len(g.Flat) > 0 {
			g.IDs = foldFlat(g.IDs, g.Flat)
			c.Groups[k] = g
			c.deprecated = append(c.deprecated, "groups."+k)
		}
	}
}

func foldFlat(ids, flat map[string]string) map[string]string {
	if ids == nil {
		ids = map[string]string{}
	}
	for plat, id := range flat {
		if _, set := ids[plat]; !set {
			ids[plat] = id
		}
	}
	return ids
}

// Deprecated names the people and groups that give their platform ids as
// flat keys (slack: U01ABC) instead of an ids map, for a warning at load.
func (c *Config) Deprecated() []string { return slices.Clone(c.deprecated) }

// ValidatePlatforms checks that every platform id belongs to one of ps:
// an unknown key (a typo such as nmae:, or a platform this build has no
// adapter for) is an error naming it.
func (c *Config) ValidatePlatforms(ps *bot.Platforms) error {
	known := ps.Names()
	var names []string
	for _, p := range known {
		names = append(names, string(p))
	}
	var errs []string
	check := func(key string, ids, flat map[string]string) {
		for _, plat := range slices.Sorted(maps.Keys(ids)) {
			if slices.Contains(known, bot.Platform(plat)) {
				continue
			}
			k := key + ".ids." + plat
			if _, ok := flat[plat]; ok {
				k = key + "." + plat
			}
			errs = append(errs, fmt.Sprintf("%s: unknown platform %q (one of %s)", k, plat, strings.Join(names, ", ")))
		}
	}
	for i, p := range c.People {
		check(fmt.Sprintf("people[%d]", i), p.IDs, p.Flat)
	}
	for _, k := range slices.Sorted(maps.Keys(c.Groups)) {
		check("groups."+k, c.Groups[k].IDs, c.Groups[k].Flat)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// platformIDs returns the configured ids as the core's map, with the
// default name for each platform of ps whose ids are names.
func platformIDs(ids map[string]string, ps *bot.Platforms, name string) map[bot.Platform]string {
	out := map[bot.Platform]string{}
	for plat, id := range ids {
		if id != "" {
			out[bot.Platform(plat)] = id
		}
	}
	for _, s := range ps.All() {
		if s.NamedIDs && out[s.Name] == "" {
			out[s.Name] = name
		}
	}
	return out
}
