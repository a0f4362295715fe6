package config

import (
	"os"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
)

// testPlatforms are the platforms the configuration tests know.
var testPlatforms = bot.NewPlatforms(slack.Platform(), lark.Platform(), console.Platform())

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load("../../configs/xunji.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Roster(testPlatforms)
	p, ok := r.ByPlatformID(lark.Name, "ou_0123456789lina")
	if !ok || !p.InBody("team1") {
		t.Errorf("lina not found by lark id: %+v", p)
	}
	if c.Location().String() != "Asia/Shanghai" {
		t.Errorf("time zone: %s", c.Location())
	}
	if got := c.ChatGroups(testPlatforms)["coordination"][lark.Name]; got != "oc_0123456789abcdef" {
		t.Errorf("coordination lark chat = %q", got)
	}
}

func TestDemoHasEveryPartyFilled(t *testing.T) {
	c := Demo()
	r := c.Roster(testPlatforms)
	for _, k := range bot.PartyKinds {
		if k == bot.GrassrootsCommission {
			continue // DEMO.md names none
		}
		bodies := r.BodiesOf(k)
		if len(bodies) == 0 {
			t.Errorf("no body of kind %s", k)
			continue
		}
		for _, b := range bodies {
			if len(r.Members(b.ID)) == 0 {
				t.Errorf("body %s has no member", b.ID)
			}
		}
	}
}

func TestEmptyConfigGetsDefaults(t *testing.T) {
	c, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Timezone != "Asia/Shanghai" || c.Lang != "zh-CN" || c.Store.Kind != "bolt" || c.HTTP.Addr != ":8080" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestBadConfigNamesTheKey(t *testing.T) {
	cases := map[string]string{
		"timezone: Nowhere/City":               "timezone",
		"lang: fr":                             "lang",
		"store: {kind: mongo}":                 "store.kind",
		"bodies: [{id: a, kind: x, name: A}]":  "bodies[0].kind",
		"bodies: [{id: a, kind: case_office}]": "bodies[0].name",
		"bodies: [{id: a, kind: case_office, name: A}, {id: a, kind: case_office, name: B}]": "bodies[1].id",
		"people: [{id: p, name: P}]": "people[0].bodies",
		"bodies: [{id: a, kind: case_office, name: A}]\npeople: [{id: p, name: P, bodies: [a], lark: x}, {id: q, name: Q, bodies: [a], lark: x}]": "people[1].lark",
		"notices: {clue: nowhere}":      "notices.clue",
		"holidays: {extra: [tomorrow]}": "holidays.extra[0]",
		"people: {id: p}":               "people",
		"bodies: [{id: a, kind: case_office, name: A}]\npeople: [{id: p, name: P, bodies: [a], ids: {lark: x}}, {id: q, name: Q, bodies: [a], ids: {lark: x}}]": "people[1].ids.lark",
	}
	for in, key := range cases {
		_, err := Parse([]byte(in))
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v, want one naming %q", in, err, key)
		}
	}
}

func FuzzParse(f *testing.F) {
	demo, _ := os.ReadFile("demo.yaml")
	f.Add(demo)
	f.Add([]byte("timezone: Asia/Shanghai"))
	f.Add([]byte("bodies: [{id: a"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = Parse(data) // must not panic
	})
}

// The flat platform keys of earlier versions (slack: U… beside name)
// still load, into the same ids as the ids map, and are reported as
// deprecated; the new form is not.
func TestFlatPlatformKeysFoldIntoIDs(t *testing.T) {
	const base = "bodies: [{id: a, kind: case_office, name: A}]\n"
	old, err := Parse([]byte(base + "groups: {g: {name: G, slack: C01, console: 群}}\npeople: [{id: p, name: P, bodies: [a], slack: U01, lark: ou_1}]"))
	if err != nil {
		t.Fatal(err)
	}
	cur, err := Parse([]byte(base + "groups: {g: {name: G, ids: {slack: C01, console: 群}}}\npeople: [{id: p, name: P, bodies: [a], ids: {slack: U01, lark: ou_1}}]"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*Config{old, cur} {
		p, _ := c.Roster(testPlatforms).Person("p")
		if p.IDs[slack.Name] != "U01" || p.IDs[lark.Name] != "ou_1" || p.IDs[console.Name] != "P" {
			t.Errorf("person ids %v", p.IDs)
		}
		if g := c.ChatGroups(testPlatforms)["g"]; g[slack.Name] != "C01" || g[console.Name] != "群" || g[lark.Name] != "" {
			t.Errorf("group ids %v", g)
		}
	}
	if got := strings.Join(old.Deprecated(), ","); got != "people[0],groups.g" {
		t.Errorf("deprecated %q", got)
	}
	if got := cur.Deprecated(); len(got) != 0 {
		t.Errorf("the ids map reported as deprecated: %v", got)
	}
}

// A platform id under a key that names no platform the program has is
// refused, naming the key in the form the file gives it.
func TestUnknownPlatformKeyIsRefused(t *testing.T) {
	const base = "bodies: [{id: a, kind: case_office, name: A}]\n"
	cases := map[string]string{
		"people: [{id: p, name: P, bodies: [a], ids: {wecom: w1}}]": "people[0].ids.wecom",
		"people: [{id: p, name: P, bodies: [a], nmae: Q}]":          "people[0].nmae",
		"groups: {g: {name: G, ids: {slak: C01}}}":                  "groups.g.ids.slak",
	}
	for in, key := range cases {
		c, err := Parse([]byte(base + in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if err := c.ValidatePlatforms(testPlatforms); err == nil || !strings.Contains(err.Error(), key+": unknown platform") {
			t.Errorf("%q: error %v, want one naming %q", in, err, key)
		}
	}
	if err := Demo().ValidatePlatforms(testPlatforms); err != nil {
		t.Errorf("demo: %v", err)
	}
}
