package clue

import (
	"slices"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot/config"
)

// settingsOf loads a configuration and its clue settings.
func settingsOf(yaml string) (Settings, error) {
	c, err := config.Parse([]byte(yaml))
	if err != nil {
		return Settings{}, err
	}
	return SettingsOf(c)
}

func TestBadClueSettingsNameTheKey(t *testing.T) {
	cases := map[string]string{
		"clue: {ack_reminder: 10m}":                   "clue.ack_reminder",
		"clue: {ack_reminder: 48h, ack_escalate: 1h}": "clue.ack_escalate",
		"clue: {deadline_days: 400}":                  "clue.deadline_days",
		"clue: {deadline_reminder_days: 31}":          "clue.deadline_reminder_days",
		"clue: {priority_factor: -1}":                 "clue.priority_factor",
		"clue:\n  deadline: 30":                       "clue.deadline",
		"clue:\n  deadline_days: soon":                "clue.deadline_days",
	}
	for in, key := range cases {
		_, err := settingsOf(in)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v, want one naming %q", in, err, key)
		}
	}
}

// clueGroupBase is a small district with a discipline group and a
// coordination group the inspected unit sits in.
const clueGroupBase = `
groups:
  discipline: {name: 纪检线索群, bodies: [room2, team1]}
  coordination: {name: 巡纪协作群, bodies: [room2, finance]}
bodies:
  - {id: team1, kind: inspection_team, name: 第一巡察组}
  - {id: room2, kind: supervision_room, name: 第二监督检查室}
  - {id: finance, kind: responsible_unit, name: 区财政局党组}
  - {id: audit, kind: consulted_dept, name: 区审计局}
people:
  - {id: lina, name: 李娜, bodies: [team1]}
  - {id: zhaoqiang, name: 赵强, bodies: [room2]}
  - {id: zhoutao, name: 周涛, bodies: [finance]}
`

func TestClueGroupMustBeDisciplineOnly(t *testing.T) {
	cases := []struct {
		name, extra string
		want        []string // nil: must load
	}{
		{"discipline-only group loads", "clue: {group: discipline}", nil},
		{"inspected unit listed in the group", "clue: {group: coordination}",
			[]string{"clue.group", "coordination", "responsible unit 区财政局党组 (finance)"}},
		{"older notices.clue checked the same way", "notices: {clue: coordination}",
			[]string{"notices.clue", "区财政局党组 (finance)"}},
		{"unknown clue group", "clue: {group: nowhere}", []string{"clue.group", "unknown group \"nowhere\""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := settingsOf(clueGroupBase + tc.extra)
			checkSettingsErr(t, err, tc.want)
		})
	}
	t.Run("group that does not say who sits in it", func(t *testing.T) {
		in := strings.Replace(clueGroupBase, "coordination: {name: 巡纪协作群, bodies: [room2, finance]}", "bare: {name: 空群}", 1) + "clue: {group: bare}"
		_, err := settingsOf(in)
		checkSettingsErr(t, err, []string{"clue.group", "must list the bodies that sit in it", "groups.bare.bodies"})
	})
	t.Run("a member of a sitting body who also belongs to an inspected unit", func(t *testing.T) {
		in := strings.Replace(clueGroupBase, "{id: zhaoqiang, name: 赵强, bodies: [room2]}", "{id: zhaoqiang, name: 赵强, bodies: [room2, finance]}", 1) + "clue: {group: discipline}"
		_, err := settingsOf(in)
		checkSettingsErr(t, err, []string{"clue.group", "赵强 (zhaoqiang)", "第二监督检查室 (room2)", "responsible unit 区财政局党组 (finance)"})
	})
	t.Run("a body whose own group it is counts as sitting there", func(t *testing.T) {
		in := strings.Replace(clueGroupBase, "{id: finance, kind: responsible_unit, name: 区财政局党组}", "{id: finance, kind: responsible_unit, name: 区财政局党组, group: discipline}", 1) + "clue: {group: discipline}"
		_, err := settingsOf(in)
		checkSettingsErr(t, err, []string{"clue.group", "区财政局党组 (finance)"})
	})
	t.Run("demo and example use a discipline-only group", func(t *testing.T) {
		demo := config.Demo()
		s, err := SettingsOf(demo)
		if err != nil {
			t.Fatal(err)
		}
		if g, _ := s.GroupOf(demo); g != "discipline" {
			t.Errorf("demo clue group = %q", g)
		}
		c, err := config.Load("../../configs/xunji.example.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if s, err = SettingsOf(c); err != nil {
			t.Fatal(err)
		}
		if g, _ := s.GroupOf(c); g != "discipline" || slices.Contains(s.GroupBodies(c), "finance") || s.DeadlineDays != 30 {
			t.Errorf("example clue group = %q, bodies %v, deadline %d days", g, s.GroupBodies(c), s.DeadlineDays)
		}
	})
}

func checkSettingsErr(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("want it to load, got %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want an error naming %q, it loaded", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
}
