package i18n

import (
	"regexp"
	"slices"
	"testing"
	"testing/fstest"
)

// Every key must exist in both languages, or one language would show a
// raw key to its users.
func TestEveryKeyInBothLanguages(t *testing.T) {
	c := MustLoad()
	zh, en := c.Keys(ZH), c.Keys(EN)
	for _, k := range zh {
		if !c.Has(EN, k) {
			t.Errorf("key %q is in zh-CN but not in en", k)
		}
	}
	for _, k := range en {
		if !c.Has(ZH, k) {
			t.Errorf("key %q is in en but not in zh-CN", k)
		}
	}
	if len(zh) == 0 {
		t.Fatal("catalog is empty")
	}
}

// Placeholders must match between languages, or a translation would drop
// or invent a value.
func TestPlaceholdersMatch(t *testing.T) {
	c := MustLoad()
	re := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, k := range c.Keys(ZH) {
		a := re.FindAllString(c.T(ZH, k), -1)
		b := re.FindAllString(c.T(EN, k), -1)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(slices.Compact(a), slices.Compact(b)) {
			t.Errorf("key %q: zh-CN placeholders %v, en %v", k, a, b)
		}
	}
}

func TestRender(t *testing.T) {
	fsys := fstest.MapFS{
		"c/a.zh-CN.yaml": {Data: []byte("greet: \"{name}，你好，{name}\"\n")},
		"c/a.en.yaml":    {Data: []byte("greet: \"Hello {name}\"\n")},
	}
	c, err := LoadFS(fsys, "c")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("zh-CN", "greet", "name", "王明"); got != "王明，你好，王明" {
		t.Errorf("zh: %q", got)
	}
	if got := c.T("en-US", "greet", "name", "Wang"); got != "Hello Wang" {
		t.Errorf("en: %q", got)
	}
	if got := c.T("zh-CN", "missing"); got != "missing" {
		t.Errorf("missing key renders as %q, want the key", got)
	}
}

func TestDuplicateKeyAcrossFilesRefused(t *testing.T) {
	fsys := fstest.MapFS{
		"c/a.zh-CN.yaml": {Data: []byte("k: a\n")},
		"c/b.zh-CN.yaml": {Data: []byte("k: b\n")},
	}
	if _, err := LoadFS(fsys, "c"); err == nil {
		t.Fatal("duplicate key across files was accepted")
	}
}

func TestFillKeepsWhatIsNotAPlaceholder(t *testing.T) {
	cases := []struct {
		s    string
		args []any
		want string
	}{
		{"{a} and {b}", []any{"a", 1, "b", "two"}, "1 and two"},
		{"{a}{a}", []any{"a", "x"}, "xx"},
		{"{unknown} {a}", []any{"a", "x"}, "{unknown} x"},
		{"value with braces: {a}", []any{"a", "{b}", "b", "no"}, "value with braces: {b}"},
		{"open { brace {a}", []any{"a", "x"}, "open { brace x"},
		{"unterminated {a", []any{"a", "x"}, "unterminated {a"},
		{"{}", []any{"a", "x"}, "{}"},
		{"中文{名}结束", []any{"名", "王明"}, "中文王明结束"},
	}
	for _, c := range cases {
		if got := fill(c.s, c.args); got != c.want {
			t.Errorf("fill(%q, %v) = %q, want %q", c.s, c.args, got, c.want)
		}
	}
}

// A plural placeholder picks the singular for 1 and the plural otherwise;
// an unknown count or a malformed one stays as written.
func TestPluralForms(t *testing.T) {
	c, err := LoadFS(fstest.MapFS{
		"c/a.en.yaml":    {Data: []byte(`k: "{n} {n|entry|entries}; {x|a|b}; {n|bad}"`)},
		"c/a.zh-CN.yaml": {Data: []byte(`k: "{n} 条"`)},
	}, "c")
	if err != nil {
		t.Fatal(err)
	}
	for n, want := range map[int]string{0: "0 entries; {x|a|b}; {n|bad}", 1: "1 entry; {x|a|b}; {n|bad}", 2: "2 entries; {x|a|b}; {n|bad}", 11: "11 entries; {x|a|b}; {n|bad}"} {
		if got := c.T(EN, "k", "n", n); got != want {
			t.Errorf("n=%d: %q, want %q", n, got, want)
		}
	}
	if got := c.T(ZH, "k", "n", 1); got != "1 条" {
		t.Errorf("zh: %q", got)
	}
}

// A domain adds its texts to the core's: a key another area defines is
// refused and leaves the catalog as it was; the same files again change
// nothing.
func TestAdd(t *testing.T) {
	c, err := LoadFS(fstest.MapFS{
		"c/core.zh-CN.yaml": {Data: []byte("k: 核心\n")},
		"c/core.en.yaml":    {Data: []byte("k: core\n")},
	}, "c")
	if err != nil {
		t.Fatal(err)
	}
	domain := fstest.MapFS{
		"d/clue.zh-CN.yaml": {Data: []byte("clue.k: 线索\n")},
		"d/clue.en.yaml":    {Data: []byte("clue.k: clue\n")},
	}
	if err := c.Add(domain, "d"); err != nil {
		t.Fatal(err)
	}
	if got := c.T(EN, "clue.k"); got != "clue" {
		t.Errorf("added text renders %q", got)
	}
	if err := c.Add(domain, "d"); err != nil {
		t.Errorf("the same files added again: %v", err)
	}
	clash := fstest.MapFS{
		"d/other.en.yaml": {Data: []byte("new: new\n")},
		"d/round.en.yaml": {Data: []byte("k: again\n")},
	}
	if err := c.Add(clash, "d"); err == nil {
		t.Error("a key of another area was accepted")
	}
	if c.Has(EN, "new") || c.T(EN, "k") != "core" {
		t.Error("a refused Add changed the catalog")
	}
	changed := fstest.MapFS{"d/clue.en.yaml": {Data: []byte("clue.other: x\n")}}
	if err := c.Add(changed, "d"); err == nil {
		t.Error("an area added again with other texts was accepted")
	}
}
