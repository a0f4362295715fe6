package redis

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/storage/dump"
)

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := t.Context()
	src := openTest(t, testPrefix())
	if empty, err := src.Empty(ctx); err != nil || !empty {
		t.Fatalf("a fresh prefix: empty %v, %v", empty, err)
	}
	for i := range 1200 { // more than one import chunk
		if err := src.Create(ctx, "clues", fmt.Sprintf("XS-2026-%04d", i+1), []byte(fmt.Sprintf(`{"n":%d,"substance":"线索%d"}`, i, i))); err != nil {
			t.Fatal(err)
		}
	}
	for range 7 {
		if _, err := src.NextSeq(ctx, "audit"); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.Put(ctx, "audit", "000007", []byte(`{"action":"clue.transfer"}`)); err != nil {
		t.Fatal(err)
	}
	if err := src.Put(ctx, "inbox", "slack:Ev9", []byte(`{"pending":true}`)); err != nil {
		t.Fatal(err)
	}
	if err := src.Put(ctx, "empty", "e", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Claim(ctx, "event:slack:Ev1", time.Hour); err != nil {
		t.Fatal(err)
	}
	// Not the store's: a key under the prefix of another kind is left out.
	if err := src.Client().HSet(ctx, src.Prefix()+"other", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	if empty, err := src.Empty(ctx); err != nil || empty {
		t.Fatalf("a prefix with data: empty %v, %v", empty, err)
	}

	want, err := src.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := dump.Summarize(want)
	if sum.Docs["clues"] != 1200 || sum.Docs["audit"] != 1 || sum.Docs["inbox"] != 1 || sum.Docs["empty"] != 1 || sum.Seqs != 1 || sum.Claims != 1 {
		t.Fatalf("export: %s", sum)
	}
	var file bytes.Buffer
	if err := dump.Write(&file, dump.Header{Source: "redis", Prefix: src.Prefix(), Created: bottest.Start}, want); err != nil {
		t.Fatal(err)
	}
	if !dump.IsDump(file.Bytes()) {
		t.Fatal("the backup does not start with a dump header")
	}
	h, read, err := dump.Read(&file)
	if err != nil {
		t.Fatal(err)
	}
	if h.Source != "redis" || h.Prefix != src.Prefix() || len(read) != len(want) {
		t.Fatalf("read back: header %+v, %d entries, want %d", h, len(read), len(want))
	}

	dst := openTest(t, testPrefix())
	if err := dst.Import(ctx, read); err != nil {
		t.Fatal(err)
	}
	got, err := dst.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := dump.Compare(want, got, 0, 10); len(diffs) > 0 {
		t.Errorf("restored copy differs: %v", diffs)
	}
	// The restored store works as a store: List (the rebuilt index),
	// counters continue, claims hold.
	docs, err := dst.List(ctx, "clues")
	if err != nil || len(docs) != 1200 || docs[0].ID != "XS-2026-0001" {
		t.Errorf("List after restore: %d documents, %v", len(docs), err)
	}
	// The inbox entry (kept at its claim's key) comes back as an entry.
	if docs, err := dst.List(ctx, "inbox"); err != nil || len(docs) != 1 || string(docs[0].Data) != `{"pending":true}` {
		t.Errorf("inbox after restore: %v, %v", docs, err)
	}
	if n, err := dst.NextSeq(ctx, "audit"); err != nil || n != 8 {
		t.Errorf("NextSeq after restore: %d, %v; want 8", n, err)
	}
	if first, err := dst.Claim(ctx, "event:slack:Ev1", time.Hour); err != nil || first {
		t.Errorf("the restored claim is not held: first %v, %v", first, err)
	}
	ttl, err := dst.Client().PTTL(ctx, dst.claimKey("event:slack:Ev1")).Result()
	if err != nil || ttl <= 0 || ttl > time.Hour {
		t.Errorf("restored claim's TTL %v, %v; want its time left", ttl, err)
	}
}

func TestGlobEscape(t *testing.T) {
	if got := globEscape(`a*b?[c]\`); got != `a\*b\?\[c\]\\` {
		t.Errorf("globEscape = %q", got)
	}
}
