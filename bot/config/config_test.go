package config

import (
	"os"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot"
)

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load("../../configs/xunji.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := c.Roster()
	p, ok := r.ByPlatformID(bot.Lark, "ou_0123456789lina")
	if !ok || !p.InBody("team1") {
		t.Errorf("lina not found by lark id: %+v", p)
	}
	if c.Location().String() != "Asia/Shanghai" {
		t.Errorf("time zone: %s", c.Location())
	}
	if got := c.ChatGroups()["coordination"][bot.Lark]; got != "oc_0123456789abcdef" {
		t.Errorf("coordination lark chat = %q", got)
	}
}

func TestDemoHasEveryPartyFilled(t *testing.T) {
	c := Demo()
	r := c.Roster()
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
