package redis

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
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

// Every way a record is written moves the write generation Export
// checks; claims and inbox entries do not.
func TestRecordWritesMoveTheWriteGeneration(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, testPrefix())
	gen := func() int64 {
		t.Helper()
		n, err := s.generation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	writes := []struct {
		name string
		fn   func() error
	}{
		{"Create", func() error { return s.Create(ctx, "things", "a", []byte(`{"v":1}`)) }},
		{"Put", func() error { return s.Put(ctx, "things", "a", []byte(`{"v":2}`)) }},
		{"Update", func() error {
			return s.Update(ctx, "things", "a", func([]byte) ([]byte, error) { return []byte(`{"v":3}`), nil })
		}},
		{"Commit", func() error {
			return s.Commit(ctx, &bot.Commit{Writes: []bot.Write{{Kind: bot.WritePut, Coll: "things", ID: "b", Doc: []byte(`{}`)}}})
		}},
		{"Delete", func() error { return s.Delete(ctx, "things", "a") }},
	}
	for _, w := range writes {
		before := gen()
		if err := w.fn(); err != nil {
			t.Fatalf("%s: %v", w.name, err)
		}
		if after := gen(); after != before+1 {
			t.Errorf("%s: generation %d → %d, want one more", w.name, before, after)
		}
	}
	before := gen()
	if _, err := s.Claim(ctx, "event:slack:X", time.Hour); err != nil {
		t.Fatal(err)
	}
	op := bot.InboxOp{Coll: bot.CollInbox, ID: "event:slack:Y", Doc: []byte(`{}`), Claim: "event:slack:Y", ClaimTTL: time.Hour}
	if _, err := s.Enqueue(ctx, op); err != nil {
		t.Fatal(err)
	}
	if after := gen(); after != before {
		t.Errorf("a claim and an inbox entry moved the generation %d → %d", before, after)
	}
}

// Export reads the store a page at a time; a record written while it
// reads makes it read again, and what it returns is the store after
// that write; a store that changes during every attempt gets an error
// rather than a copy of no moment.
func TestExportReadsAgainWhenARecordChangesMeanwhile(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, testPrefix())
	for i := range 3 * exportPage {
		if err := s.Create(ctx, "clues", fmt.Sprintf("XS-2026-%04d", i+1), []byte(`{"status":"open"}`)); err != nil {
			t.Fatal(err)
		}
	}
	pages, writes := 0, 0
	s.exportPageHook = func() {
		pages++
		if pages == 2 && writes == 0 {
			writes++
			if err := s.Put(ctx, "clues", "XS-2026-0001", []byte(`{"status":"closed"}`)); err != nil {
				t.Error(err)
			}
		}
	}
	entries, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pages < 4 {
		t.Errorf("%d pages read for %d records, want several per attempt", pages, 3*exportPage)
	}
	found := 0
	for _, e := range entries {
		if e.Kind == dump.KindDoc && e.Coll == "clues" {
			found++
			if e.Key == "XS-2026-0001" && string(e.Data) != `{"status":"closed"}` {
				t.Errorf("the record changed during the first attempt is %s, want the change", e.Data)
			}
		}
	}
	if found != 3*exportPage {
		t.Errorf("%d records exported, want %d", found, 3*exportPage)
	}

	n := 0
	s.exportPageHook = func() {
		n++
		if err := s.Put(ctx, "clues", "XS-2026-0002", fmt.Appendf(nil, `{"n":%d}`, n)); err != nil {
			t.Error(err)
		}
	}
	if _, err := s.Export(ctx); !errors.Is(err, ErrKeptChanging) || bot.ErrorCode(err) != bot.EUNAVAILABLE {
		t.Errorf("Export of a store that never stops changing: %v, want EUNAVAILABLE wrapping ErrKeptChanging", err)
	}
}
