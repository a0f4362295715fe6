package all_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/i18n"
	"github.com/xunji-bot/xunji/commands/all"
)

// catalog returns the translator of a bot with every domain registered:
// the core's texts and every domain's, as the program has them.
func catalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	env := bottest.New(t)
	if err := all.Register(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	return env.Catalog
}

// Every key of every area must exist in both languages, or one language
// would show a raw key to its users.
func TestEveryKeyInBothLanguages(t *testing.T) {
	c := catalog(t)
	zh, en := c.Keys(i18n.ZH), c.Keys(i18n.EN)
	for _, k := range zh {
		if !c.Has(i18n.EN, k) {
			t.Errorf("key %q is in zh-CN but not in en", k)
		}
	}
	for _, k := range en {
		if !c.Has(i18n.ZH, k) {
			t.Errorf("key %q is in en but not in zh-CN", k)
		}
	}
	core := i18n.MustLoad()
	if len(zh) <= len(core.Keys(i18n.ZH)) {
		t.Fatalf("%d keys with every domain registered, %d in the core alone: the domains added none", len(zh), len(core.Keys(i18n.ZH)))
	}
}

// Placeholders must match between languages, or a translation would drop
// or invent a value.
func TestPlaceholdersMatch(t *testing.T) {
	c := catalog(t)
	re := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, k := range c.Keys(i18n.ZH) {
		a := re.FindAllString(c.T(i18n.ZH, k), -1)
		b := re.FindAllString(c.T(i18n.EN, k), -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(slices.Compact(a), slices.Compact(b)) {
			t.Errorf("key %q: zh-CN placeholders %v, en %v", k, a, b)
		}
	}
}
