package all_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
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

// Each domain renders only its own texts and the core's, so a domain
// registered alone (as its own tests do) has every text it names; and the
// core names only its own. A key is recognised as a string literal equal
// to a key of some catalog.
func TestEachPackageUsesItsOwnTexts(t *testing.T) {
	every, core := catalog(t), i18n.MustLoad()
	dirs, err := filepath.Glob("../*/catalog")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no domain catalogs found: %v", err)
	}
	pkgs := map[string]*i18n.Catalog{"../../bot": core}
	for _, d := range dirs {
		pkg := filepath.Dir(d)
		own, err := i18n.LoadFS(os.DirFS(pkg), "catalog")
		if err != nil {
			t.Fatal(err)
		}
		if err := own.Add(os.DirFS("../../bot/i18n"), "catalog"); err != nil {
			t.Fatal(err)
		}
		pkgs[pkg] = own
	}
	for pkg, own := range pkgs {
		for _, lit := range literals(t, pkg) {
			if every.Has(i18n.ZH, lit) && !own.Has(i18n.ZH, lit) {
				t.Errorf("%s uses %q, a text of another package", pkg, lit)
			}
		}
	}
}

// literals returns the string literals of the non-test Go files of dir.
func literals(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					out = append(out, s)
				}
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatalf("%s: no string literals read", dir)
	}
	return out
}
