package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot"
)

func runScan(t *testing.T, open func(t *testing.T) bot.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s bot.Scanner, st bot.Store)
	}{
		{"ScanPrefix", testScanPrefix},
		{"ScanAfter", testScanAfter},
		{"ScanLimit", testScanLimit},
		{"ScanReverse", testScanReverse},
		{"ScanSeparatorsAndUnicode", testScanSeparators},
		{"ScanEmpty", testScanEmpty},
		{"ScanNegativeLimit", testScanNegativeLimit},
		{"ScanPagesWholeCollection", testScanPages},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			tc.fn(t, st.(bot.Scanner), st)
		})
	}
}

// putIDs stores a document per id whose body names the id.
func putIDs(t *testing.T, s bot.Store, coll string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.Put(ctx(t), coll, id, []byte(`"`+fmt.Sprintf("%x", id)+`"`)); err != nil {
			t.Fatalf("Put(%s, %q): %v", coll, id, err)
		}
	}
}

// scanIDs scans and checks each document's body against its id.
func scanIDs(t *testing.T, s bot.Scanner, coll string, r bot.Range) []string {
	t.Helper()
	docs, err := s.Scan(ctx(t), coll, r)
	if err != nil {
		t.Fatalf("Scan(%s, %+v): %v", coll, r, err)
	}
	ids := []string{}
	for _, d := range docs {
		if want := `"` + fmt.Sprintf("%x", d.ID) + `"`; string(d.Data) != want {
			t.Fatalf("Scan(%s, %+v): %q holds %s, want %s", coll, r, d.ID, d.Data, want)
		}
		ids = append(ids, d.ID)
	}
	return ids
}

func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: ids %q, want %q", what, got, want)
	}
}

var scanSet = []string{"a", "a1", "a2", "a3", "ab", "b", "b1", "c"}

func testScanPrefix(t *testing.T, s bot.Scanner, st bot.Store) {
	coll, other := unique("scanprefix"), unique("scanprefix_other")
	putIDs(t, st, coll, scanSet...)
	putIDs(t, st, other, "a0", "a9")
	wantIDs(t, "prefix a", scanIDs(t, s, coll, bot.Range{Prefix: "a"}), []string{"a", "a1", "a2", "a3", "ab"})
	wantIDs(t, "prefix b", scanIDs(t, s, coll, bot.Range{Prefix: "b"}), []string{"b", "b1"})
	wantIDs(t, "prefix a2", scanIDs(t, s, coll, bot.Range{Prefix: "a2"}), []string{"a2"})
	wantIDs(t, "prefix x", scanIDs(t, s, coll, bot.Range{Prefix: "x"}), nil)
	wantIDs(t, "no prefix", scanIDs(t, s, coll, bot.Range{}), scanSet)
}

func testScanAfter(t *testing.T, s bot.Scanner, st bot.Store) {
	coll := unique("scanafter")
	putIDs(t, st, coll, scanSet...)
	wantIDs(t, "after a2", scanIDs(t, s, coll, bot.Range{After: "a2"}), []string{"a3", "ab", "b", "b1", "c"})
	wantIDs(t, "after a2 (absent id)", scanIDs(t, s, coll, bot.Range{After: "a25"}), []string{"a3", "ab", "b", "b1", "c"})
	wantIDs(t, "prefix a after a2", scanIDs(t, s, coll, bot.Range{Prefix: "a", After: "a2"}), []string{"a3", "ab"})
	wantIDs(t, "prefix b after a2 (before the prefix)", scanIDs(t, s, coll, bot.Range{Prefix: "b", After: "a2"}), []string{"b", "b1"})
	wantIDs(t, "prefix a after b (beyond the prefix)", scanIDs(t, s, coll, bot.Range{Prefix: "a", After: "b"}), nil)
	wantIDs(t, "after the last", scanIDs(t, s, coll, bot.Range{After: "c"}), nil)
}

func testScanLimit(t *testing.T, s bot.Scanner, st bot.Store) {
	coll := unique("scanlimit")
	putIDs(t, st, coll, scanSet...)
	wantIDs(t, "limit 3", scanIDs(t, s, coll, bot.Range{Limit: 3}), []string{"a", "a1", "a2"})
	wantIDs(t, "prefix a limit 2 after a1", scanIDs(t, s, coll, bot.Range{Prefix: "a", After: "a1", Limit: 2}), []string{"a2", "a3"})
	wantIDs(t, "limit above the size", scanIDs(t, s, coll, bot.Range{Limit: 100}), scanSet)
	wantIDs(t, "limit 0 is no limit", scanIDs(t, s, coll, bot.Range{Limit: 0}), scanSet)
}

func testScanReverse(t *testing.T, s bot.Scanner, st bot.Store) {
	coll := unique("scanreverse")
	putIDs(t, st, coll, scanSet...)
	rev := slices.Clone(scanSet)
	slices.Reverse(rev)
	wantIDs(t, "reverse", scanIDs(t, s, coll, bot.Range{Reverse: true}), rev)
	wantIDs(t, "reverse limit 2", scanIDs(t, s, coll, bot.Range{Reverse: true, Limit: 2}), []string{"c", "b1"})
	wantIDs(t, "reverse prefix a", scanIDs(t, s, coll, bot.Range{Prefix: "a", Reverse: true}), []string{"ab", "a3", "a2", "a1", "a"})
	wantIDs(t, "reverse prefix a before a3", scanIDs(t, s, coll, bot.Range{Prefix: "a", After: "a3", Reverse: true, Limit: 2}), []string{"a2", "a1"})
	wantIDs(t, "reverse prefix a before c (beyond the prefix)", scanIDs(t, s, coll, bot.Range{Prefix: "a", After: "c", Reverse: true, Limit: 1}), []string{"ab"})
	wantIDs(t, "reverse prefix b before a2 (before the prefix)", scanIDs(t, s, coll, bot.Range{Prefix: "b", After: "a2", Reverse: true}), nil)
	wantIDs(t, "reverse before the first", scanIDs(t, s, coll, bot.Range{After: "a", Reverse: true}), nil)
}

func testScanSeparators(t *testing.T, s bot.Scanner, st bot.Store) {
	coll := unique("scansep")
	ids := []string{
		"XS-2026-0001\x00000000000001", "XS-2026-0001\x00000000000002", "XS-2026-0001|x",
		"XS-2026-00010\x00000000000003", "XS-2026-0002\x00000000000004",
		"线索\x00a", "线索\x00b", "线索甲", "\xff\xfe", "z\xff",
	}
	putIDs(t, st, coll, ids...)
	wantIDs(t, "record prefix with NUL", scanIDs(t, s, coll, bot.Range{Prefix: "XS-2026-0001\x00"}),
		[]string{"XS-2026-0001\x00000000000001", "XS-2026-0001\x00000000000002"})
	wantIDs(t, "record prefix with NUL reversed", scanIDs(t, s, coll, bot.Range{Prefix: "XS-2026-0001\x00", Reverse: true}),
		[]string{"XS-2026-0001\x00000000000002", "XS-2026-0001\x00000000000001"})
	wantIDs(t, "record prefix with NUL after the first", scanIDs(t, s, coll, bot.Range{Prefix: "XS-2026-0001\x00", After: "XS-2026-0001\x00000000000001"}),
		[]string{"XS-2026-0001\x00000000000002"})
	wantIDs(t, "record prefix with |", scanIDs(t, s, coll, bot.Range{Prefix: "XS-2026-0001|"}), []string{"XS-2026-0001|x"})
	wantIDs(t, "unicode prefix with NUL", scanIDs(t, s, coll, bot.Range{Prefix: "线索\x00"}), []string{"线索\x00a", "线索\x00b"})
	wantIDs(t, "unicode prefix", scanIDs(t, s, coll, bot.Range{Prefix: "线索", Reverse: true}), []string{"线索甲", "线索\x00b", "线索\x00a"})
	wantIDs(t, "prefix ending in 0xff", scanIDs(t, s, coll, bot.Range{Prefix: "z\xff"}), []string{"z\xff"})
	wantIDs(t, "all-0xff prefix, reversed", scanIDs(t, s, coll, bot.Range{Prefix: "\xff", Reverse: true}), []string{"\xff\xfe"})
	all := slices.Clone(ids)
	slices.Sort(all)
	wantIDs(t, "whole collection in byte order", scanIDs(t, s, coll, bot.Range{}), all)
}

func testScanEmpty(t *testing.T, s bot.Scanner, st bot.Store) {
	coll := unique("scanempty")
	wantIDs(t, "never-used collection", scanIDs(t, s, coll, bot.Range{}), nil)
	wantIDs(t, "never-used collection reversed", scanIDs(t, s, coll, bot.Range{Reverse: true, Limit: 5}), nil)
	putIDs(t, st, coll, "x")
	if err := st.Delete(ctx(t), coll, "x"); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "emptied collection", scanIDs(t, s, coll, bot.Range{Prefix: "x"}), nil)
}

func testScanNegativeLimit(t *testing.T, s bot.Scanner, st bot.Store) {
	coll := unique("scanneg")
	putIDs(t, st, coll, "a")
	_, err := s.Scan(ctx(t), coll, bot.Range{Limit: -1})
	wantCode(t, "Scan with limit -1", err, bot.EINVALID)
}

// testScanPages pages through a collection larger than a backend's
// internal page (Redis: 500 ids per ZRANGE) and checks that the pages,
// forwards and backwards, together are List.
func testScanPages(t *testing.T, s bot.Scanner, st bot.Store) {
	coll := unique("scanpages")
	var ids []string
	for i := range 1100 {
		ids = append(ids, fmt.Sprintf("p%05d", i))
	}
	putIDs(t, st, coll, ids...)
	putIDs(t, st, coll, "q0")
	docs, err := st.List(ctx(t), coll)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, d := range docs {
		if strings.HasPrefix(d.ID, "p") {
			listed = append(listed, d.ID)
		}
	}
	wantIDs(t, "no limit", scanIDs(t, s, coll, bot.Range{Prefix: "p"}), listed)
	for _, reverse := range []bool{false, true} {
		var got []string
		r := bot.Range{Prefix: "p", Limit: 333, Reverse: reverse}
		for {
			page := scanIDs(t, s, coll, r)
			got = append(got, page...)
			if len(page) < r.Limit {
				break
			}
			r.After = page[len(page)-1]
		}
		want := slices.Clone(listed)
		if reverse {
			slices.Reverse(want)
		}
		wantIDs(t, fmt.Sprintf("pages of 333, reverse %v", reverse), got, want)
	}
}
