package bot_test

import (
	"context"
	"slices"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

func scanned(t *testing.T, ctx context.Context, s bot.Store, coll string, r bot.Range) []string {
	t.Helper()
	docs, err := bot.ScanDocs(ctx, s, coll, r)
	if err != nil {
		t.Fatalf("ScanDocs(%s, %+v): %v", coll, r, err)
	}
	ids := []string{}
	for _, d := range docs {
		ids = append(ids, d.ID+"="+string(d.Data))
	}
	return ids
}

func wantScan(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

// A Scan inside a unit of work sees the unit's own writes merged into the
// page: puts added or replacing, deletes removed, in order and within
// the limit, in both directions.
func TestScanInAUnitSeesItsOwnWrites(t *testing.T) {
	allStores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot
		for _, id := range []string{"k1", "k2", "k3", "k4", "k5"} {
			if err := b.Store.Put(ctx, "things", id, []byte("1")); err != nil {
				t.Fatal(err)
			}
		}
		err := b.RunUnit(ctx, func(ctx context.Context) error {
			for _, w := range []struct{ id, doc string }{{"k0", "new"}, {"k2", "changed"}, {"k35", "new"}, {"k9", "new"}} {
				if err := b.Store.Put(ctx, "things", w.id, []byte(w.doc)); err != nil {
					return err
				}
			}
			for _, id := range []string{"k1", "k4", "x"} {
				if err := b.Store.Delete(ctx, "things", id); err != nil {
					return err
				}
			}
			wantScan(t, "whole", scanned(t, ctx, b.Store, "things", bot.Range{}),
				"k0=new", "k2=changed", "k3=1", "k35=new", "k5=1", "k9=new")
			wantScan(t, "limit 3", scanned(t, ctx, b.Store, "things", bot.Range{Limit: 3}),
				"k0=new", "k2=changed", "k3=1")
			wantScan(t, "after k2, limit 2", scanned(t, ctx, b.Store, "things", bot.Range{After: "k2", Limit: 2}),
				"k3=1", "k35=new")
			wantScan(t, "reverse limit 3", scanned(t, ctx, b.Store, "things", bot.Range{Reverse: true, Limit: 3}),
				"k9=new", "k5=1", "k35=new")
			wantScan(t, "reverse before k35 limit 2", scanned(t, ctx, b.Store, "things", bot.Range{Reverse: true, After: "k35", Limit: 2}),
				"k3=1", "k2=changed")
			wantScan(t, "prefix k3", scanned(t, ctx, b.Store, "things", bot.Range{Prefix: "k3"}), "k3=1", "k35=new")
			// Outside the unit nothing has changed yet.
			wantScan(t, "outside before the commit", scanned(t, context.Background(), b.Store, "things", bot.Range{Limit: 2}),
				"k1=1", "k2=1")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantScan(t, "after the commit", scanned(t, ctx, b.Store, "things", bot.Range{}),
			"k0=new", "k2=changed", "k3=1", "k35=new", "k5=1", "k9=new")
	})
}

// A Scan is not checked at commit: a document another unit inserts into
// the scanned range meanwhile (a phantom) does not make the scanning
// unit run again. A uniqueness check therefore reads a key document with
// Get, which is checked: of two units creating the same title at once,
// one commits and the other, run again, sees the title taken.
func TestScanPhantomsAreNotCheckedButKeyDocumentsAre(t *testing.T) {
	allStores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot

		runs := 0
		err := b.RunUnit(ctx, func(uctx context.Context) error {
			runs++
			docs, err := bot.ScanDocs(uctx, b.Store, "titles", bot.Range{Prefix: "t:"})
			if err != nil {
				return err
			}
			if runs == 1 {
				// Another writer inserts into the range after the scan.
				if err := b.Store.Put(ctx, "titles", "t:phantom", []byte("x")); err != nil {
					return err
				}
			}
			return b.Store.Put(uctx, "counts", "titles", []byte{byte('0' + len(docs))})
		})
		if err != nil || runs != 1 {
			t.Fatalf("scanning unit: err %v, ran %d times; want one run (phantoms are not checked)", err, runs)
		}

		// Uniqueness through a key document read with Get.
		create := func(uctx context.Context, owner string) error {
			if _, err := b.Store.Get(uctx, "titles", "t:budget"); err == nil {
				return bot.Coded(bot.ECONFLICT, "error.exists")
			} else if !bot.IsNotFound(err) {
				return err
			}
			return b.Store.Put(uctx, "titles", "t:budget", []byte(owner))
		}
		runs = 0
		err = b.RunUnit(ctx, func(uctx context.Context) error {
			runs++
			if err := create(uctx, "first"); err != nil {
				return err
			}
			if runs == 1 {
				// A concurrent unit takes the title after this one read it.
				if err := b.RunUnit(context.Background(), func(c2 context.Context) error { return create(c2, "second") }); err != nil {
					t.Fatalf("concurrent creator: %v", err)
				}
			}
			return nil
		})
		if bot.ErrorCode(err) != bot.ECONFLICT || runs != 2 {
			t.Fatalf("second creator: err %v after %d runs; want a conflict noticed on the second run", err, runs)
		}
		if doc, _ := b.Store.Get(ctx, "titles", "t:budget"); string(doc) != "second" {
			t.Errorf("the title belongs to %q, want the unit that committed first", doc)
		}
	})
}

// noScan is a Store without the Scanner capability.
type noScan struct{ bot.Store }

// ScanDocs on a store without Scanner cuts the same page from List.
func TestScanDocsFallsBackToList(t *testing.T) {
	ctx := context.Background()
	m := bottest.NewMem()
	for _, id := range []string{"a1", "a2", "a3", "b1"} {
		if err := m.Put(ctx, "c", id, []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	s := noScan{m}
	if _, ok := bot.Store(s).(bot.Scanner); ok {
		t.Fatal("the wrapper has Scan")
	}
	wantScan(t, "prefix a after a1 limit 1", scanned(t, ctx, s, "c", bot.Range{Prefix: "a", After: "a1", Limit: 1}), "a2=v")
	wantScan(t, "reverse prefix a", scanned(t, ctx, s, "c", bot.Range{Prefix: "a", Reverse: true}), "a3=v", "a2=v", "a1=v")
	if _, err := bot.ScanDocs(ctx, s, "c", bot.Range{Limit: -1}); bot.ErrorCode(err) != bot.EINVALID {
		t.Errorf("negative limit: %v, want EINVALID", err)
	}
}

type thing struct {
	N int `json:"n"`
}

// Collection.Scan decodes the page's records and gives their ids.
func TestCollectionScan(t *testing.T) {
	ctx := context.Background()
	things := bot.Records[thing](bottest.NewMem(), "things")
	for i, id := range []string{"a", "b", "c"} {
		if err := things.Put(ctx, id, &thing{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	vs, ids, err := things.Scan(ctx, bot.Range{Reverse: true, Limit: 2})
	if err != nil || len(vs) != 2 || vs[0].N != 2 || vs[1].N != 1 || !slices.Equal(ids, []string{"c", "b"}) {
		t.Fatalf("Scan: %v %+v %q", err, vs, ids)
	}
}
