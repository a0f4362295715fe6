package index_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/internal/index"
	"github.com/xunji-bot/xunji/commands/internal/index/indextest"
)

func ids(t *testing.T, s bot.Store, coll string) []string {
	t.Helper()
	docs, err := bot.ScanDocs(context.Background(), s, coll, bot.Range{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range docs {
		out = append(out, d.ID+"="+string(d.Data))
	}
	return out
}

// Sync deletes what the record no longer has, writes what it newly has,
// and rewrites a key document whose content changed.
func TestSyncMovesTheDocuments(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := bottest.New(t, opts...)
		ctx := context.Background()
		old := []index.Doc{{Coll: "x_idx", ID: "a"}, {Coll: "x_idx", ID: "b"}, {Coll: "x_idx", ID: "k", Data: `{"id":"1"}`}}
		new := []index.Doc{{Coll: "x_idx", ID: "b"}, {Coll: "x_idx", ID: "c"}, {Coll: "x_idx", ID: "k", Data: `{"id":"2"}`}}
		for _, step := range []struct {
			old, new []index.Doc
			want     []string
		}{
			{nil, old, []string{"a={}", "b={}", `k={"id":"1"}`}},
			{old, new, []string{"b={}", "c={}", `k={"id":"2"}`}},
			{new, nil, nil},
		} {
			if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error { return index.Sync(ctx, env.Bot.Store, step.old, step.new) }); err != nil {
				t.Fatal(err)
			}
			if got := ids(t, env.Store, "x_idx"); !slices.Equal(got, step.want) {
				t.Errorf("after syncing %v to %v: %q, want %q", step.old, step.new, got, step.want)
			}
		}
	})
}

// Page pages in either direction and says whether more follow; Between
// keeps [from, to) of a time-keyed index across its own batches.
func TestPageAndBetween(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := bottest.New(t, opts...)
		ctx := context.Background()
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var docs []index.Doc
		for i := range 1200 {
			docs = append(docs, index.Doc{Coll: "t_idx", ID: "t" + index.Sep + index.Key(index.Time(base.Add(time.Duration(i)*time.Hour)), "R"+string(rune('a'+i%26)))})
		}
		docs = append(docs, index.Doc{Coll: "t_idx", ID: "u" + index.Sep + "other"})
		if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error { return index.Sync(ctx, env.Bot.Store, nil, docs) }); err != nil {
			t.Fatal(err)
		}
		got, err := index.Between(ctx, env.Store, "t_idx", "t"+index.Sep, base.Add(100*time.Hour), base.Add(1100*time.Hour))
		if err != nil || len(got) != 1000 || got[0] != docs[100].ID || got[999] != docs[1099].ID {
			t.Fatalf("Between: %d ids (%v), first %q last %q", len(got), err, first(got), last(got))
		}
		page, more, err := index.Page(ctx, env.Store, "t_idx", "t"+index.Sep, "", 10, true)
		if err != nil || !more || len(page) != 10 || page[0] != docs[1199].ID {
			t.Fatalf("newest page: %d ids, more %t, %v", len(page), more, err)
		}
		page, more, err = index.Page(ctx, env.Store, "t_idx", "t"+index.Sep, docs[5].ID, 10, true)
		if err != nil || more || len(page) != 5 || page[4] != docs[0].ID {
			t.Errorf("last page: %d ids, more %t, %v", len(page), more, err)
		}
		all, more, err := index.Page(ctx, env.Store, "t_idx", "t"+index.Sep, "", 0, false)
		if err != nil || more || len(all) != 1200 {
			t.Errorf("no limit: %d ids, more %t, %v", len(all), more, err)
		}
	})
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// PageMerged pages the union of several readers' indexes from the
// greatest record id, each record once, and reads nothing outside them.
func TestPageMergedPagesTheUnionOnce(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := bottest.New(t, opts...)
		ctx := context.Background()
		var docs []index.Doc
		put := func(key string, recs ...string) {
			for _, r := range recs {
				docs = append(docs, index.Doc{Coll: "x_idx", ID: "see" + index.Sep + index.Key(key, r)})
			}
		}
		put("b:audit", "R-01", "R-03", "R-05", "R-06")
		put("p:maping", "R-05", "R-02")
		put("b:housing", "R-04", "R-07") // not the reader's
		if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error { return index.Sync(ctx, env.Bot.Store, nil, docs) }); err != nil {
			t.Fatal(err)
		}
		prefixes := []string{"see" + index.Sep + "b:audit" + index.Sep, "see" + index.Sep + "p:maping" + index.Sep}
		for _, step := range []struct {
			after string
			limit int
			want  []string
			more  bool
		}{
			{"", 2, []string{"R-06", "R-05"}, true},
			{"R-05", 2, []string{"R-03", "R-02"}, true},
			{"R-02", 2, []string{"R-01"}, false},
			{"R-01", 2, nil, false},
			{"", 5, []string{"R-06", "R-05", "R-03", "R-02", "R-01"}, false},
			{"", 0, []string{"R-06", "R-05", "R-03", "R-02", "R-01"}, false},
		} {
			got, more, err := index.PageMerged(ctx, env.Store, "x_idx", prefixes, step.after, step.limit)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, step.want) || more != step.more {
				t.Errorf("after %q limit %d: %v more=%v, want %v more=%v", step.after, step.limit, got, more, step.want, step.more)
			}
		}
		if got, more, err := index.PageMerged(ctx, env.Store, "x_idx", nil, "", 5); err != nil || len(got) != 0 || more {
			t.Errorf("no prefixes: %v %v %v", got, more, err)
		}
	})
}
