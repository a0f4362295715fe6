package all_test

import (
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/all"
)

func TestDemoAndExampleConfigsPassEveryDomainsCheck(t *testing.T) {
	if err := all.Check(config.Demo()); err != nil {
		t.Errorf("demo: %v", err)
	}
	if _, err := all.Load("../../configs/xunji.example.yaml"); err != nil {
		t.Errorf("example: %v", err)
	}
}

// Every error names its key: the core's (config.Parse) as before, the
// domains' sections from their own checks, and a top-level key that no
// domain claims.
func TestBadConfigNamesTheKey(t *testing.T) {
	cases := map[string]string{
		"clue: {ack_reminder: 10m}": "clue.ack_reminder",
		"unknown_key: 1":            "unknown_key",
		"meetings: {invitees: {weekly: [supervision_room]}}":  "meetings.invitees.weekly",
		"meetings: {invitees: {work: [supervision_room, x]}}": "meetings.invitees.work[1]",
		"meetings: {invitees: {joint: []}}":                   "meetings.invitees.joint",
		"progress: {collect_days: 40}":                        "progress.collect_days",
		"cosign: {reminder: 10m}":                             "cosign.reminder",
		"consult: {departments: [nowhere]}":                   "consult.departments[0]",
		"consult: {deadline_days: -1}":                        "consult.deadline_days",
		"round: {immediate_deadline_days: -1}":                "round.immediate_deadline_days",
		"round:\n  immediate_deadline: 7":                     "round.immediate_deadline",
		"cosign:\n  templates: [{name: x}]":                   "cosign.templates[2]",
		"timezone: Nowhere/City":                              "timezone",
	}
	for in, key := range cases {
		c, err := config.Parse([]byte(in))
		if err == nil {
			err = all.Check(c)
		}
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v, want one naming %q", in, err, key)
		}
	}
}

// A check joins every domain's errors, as the core's validation does, so
// that one run names everything to fix.
func TestCheckNamesEveryBadSection(t *testing.T) {
	c, err := config.Parse([]byte("clue: {ack_reminder: 10m}\ncosign: {reminder: 10m}\ntypo: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = all.Check(c)
	for _, key := range []string{"clue.ack_reminder", "cosign.reminder", "line 3: typo"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

// The modules are the one list: named once each, sections claimed once,
// each with a setup.
func TestModulesAreOneList(t *testing.T) {
	names, sections := map[string]bool{}, map[string]bool{}
	for _, m := range all.Modules() {
		if m.Name == "" || names[m.Name] || m.Setup == nil {
			t.Errorf("module %q: unnamed, named twice or without setup", m.Name)
		}
		names[m.Name] = true
		if m.Section != "" {
			if sections[m.Section] {
				t.Errorf("section %s claimed twice", m.Section)
			}
			sections[m.Section] = true
		}
	}
	for _, s := range []string{"clue", "progress", "cosign", "consult", "round", "meetings"} {
		if !sections[s] {
			t.Errorf("no module claims the %s section", s)
		}
	}
}
