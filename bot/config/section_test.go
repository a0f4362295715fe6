package config

import (
	"strings"
	"testing"
)

type testSettings struct {
	Days  int      `yaml:"days"`
	Names []string `yaml:"names"`
}

func TestSectionDecodesStrictlyAndNamesTheKey(t *testing.T) {
	c, err := Parse([]byte("lang: en\ntest:\n  days: 3\n  names: [a, b]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var s testSettings
	if err := c.Section("test", &s); err != nil || s.Days != 3 || strings.Join(s.Names, ",") != "a,b" {
		t.Errorf("section: %+v, %v", s, err)
	}
	for in, want := range map[string]string{
		"test:\n  day: 3\n":    "line 2: test.day: field day not found",
		"test:\n  days: two\n": "line 2: test.days: cannot unmarshal",
	} {
		c, err := Parse([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Section("test", &testSettings{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}

func TestAbsentSectionLeavesTheValue(t *testing.T) {
	c, err := Parse([]byte("lang: en\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := testSettings{Days: 9}
	if err := c.Section("test", &s); err != nil || s.Days != 9 {
		t.Errorf("absent section: %+v, %v", s, err)
	}
}

func TestSetSectionReplacesTheFilesSection(t *testing.T) {
	c, err := Parse([]byte("test: {days: 3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.SetSection("test", testSettings{Days: 5})
	var s testSettings
	if err := c.Section("test", &s); err != nil || s.Days != 5 {
		t.Errorf("set section: %+v, %v", s, err)
	}
	var wrong struct{ Days int }
	if err := c.Section("test", &wrong); err == nil {
		t.Error("a section decoded into another type")
	}
	if err := c.Section("test", s); err == nil {
		t.Error("a section decoded into a non-pointer")
	}
}

func TestCheckSectionsRefusesUnclaimedKeys(t *testing.T) {
	c, err := Parse([]byte("lang: en\ntest: {days: 3}\ntset: {days: 3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	mods := []Module{{Name: "test", Section: "test"}, {Name: "plain"}}
	err = CheckSections(c, mods)
	if err == nil || !strings.Contains(err.Error(), "line 3: tset: unknown key") || strings.Contains(err.Error(), "line 2") {
		t.Errorf("error %v, want one naming tset at line 3 only", err)
	}
	if err := CheckSections(c, append(mods, Module{Name: "tset", Section: "tset"})); err != nil {
		t.Errorf("every key claimed: %v", err)
	}
}
