package bolt

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/storage/dump"
)

// seed writes documents in two collections, counters and two claims.
func seed(t *testing.T, s *Store) {
	t.Helper()
	ctx := t.Context()
	for i := range 20 {
		if err := s.Create(ctx, "clues", fmt.Sprintf("XS-2026-%04d", i+1), []byte(fmt.Sprintf(`{"n":%d,"substance":"线索%d"}`, i, i))); err != nil {
			t.Fatal(err)
		}
		if _, err := s.NextSeq(ctx, "clues"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "audit", "000001", []byte(`{"action":"clue.transfer"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "empty", "e", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, "event:slack:Ev1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, "gone", time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := t.Context()
	now := bottest.Start
	clock := func() time.Time { return now }
	src, _ := openTemp(t, WithNow(clock))
	seed(t, src)
	var snap bytes.Buffer
	if _, err := src.WriteSnapshot(&snap); err != nil {
		t.Fatal(err)
	}
	want, err := src.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := dump.Summarize(want); s.Docs["clues"] != 20 || s.Docs["audit"] != 1 || s.Docs["empty"] != 1 || s.Seqs != 1 || s.Claims != 2 {
		t.Fatalf("export of the seeded store: %s", s)
	}

	target := filepath.Join(t.TempDir(), "restored", "xunji.db")
	if err := Restore(ctx, target, bytes.NewReader(snap.Bytes()), false); err != nil {
		t.Fatalf("restore into a new file: %v", err)
	}
	now = now.Add(2 * time.Second) // the one-second claim has expired since
	got := exportOf(t, target, clock)
	if diffs := dump.Compare(want, got, 2*time.Second, 10); len(diffs) > 0 {
		t.Errorf("restored copy differs: %v", diffs)
	}
	if s := dump.Summarize(got); s.Claims != 1 {
		t.Errorf("claims after restore %d, want the unexpired one", s.Claims)
	}

	// A target that holds data is replaced only with force.
	err = Restore(ctx, target, bytes.NewReader(snap.Bytes()), false)
	if err == nil || !strings.Contains(err.Error(), "-force") {
		t.Errorf("restore over data without force: %v, want a refusal naming -force", err)
	}
	if err := Restore(ctx, target, bytes.NewReader(snap.Bytes()), true); err != nil {
		t.Errorf("restore with force: %v", err)
	}
	// Not a bbolt file: refused, target untouched.
	if err := Restore(ctx, target, strings.NewReader(`{"format":"xunji-dump"}`), true); err == nil {
		t.Error("restore of a non-bbolt file succeeded")
	}
	if diffs := dump.Compare(want, exportOf(t, target, clock), 2*time.Second, 10); len(diffs) > 0 {
		t.Errorf("after a refused restore the target differs: %v", diffs)
	}
}

func exportOf(t *testing.T, path string, clock func() time.Time) []dump.Entry {
	t.Helper()
	s, err := OpenReadOnly(path, WithNow(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Export(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestRestoreRefusesAFileARunningBotHolds(t *testing.T) {
	src, _ := openTemp(t)
	seed(t, src)
	var snap bytes.Buffer
	if _, err := src.WriteSnapshot(&snap); err != nil {
		t.Fatal(err)
	}
	_, held := openTemp(t) // an empty store, open as a running bot keeps it
	err := Restore(t.Context(), held, bytes.NewReader(snap.Bytes()), true)
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("restore over a held file: %v, want a refusal saying it is locked", err)
	}
	if _, err := OpenReadOnly(held); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Errorf("read-only open of a held file: %v, want a refusal", err)
	}
}

// Snapshot copies a file that another holder keeps writing to (a running
// bot: bbolt's lock shuts other readers out) and the copy is a whole,
// consistent database with everything committed before it started.
func TestSnapshotWhileTheBotWrites(t *testing.T) {
	ctx := t.Context()
	clock := func() time.Time { return bottest.Start }
	s, path := openTemp(t, WithNow(clock))
	seed(t, s)
	before, err := s.Export(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var written atomic.Int64
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Bursts of writes, as a bot's traffic comes: 600 of them, the
			// snapshot starting after the first 100.
			for i := 0; !stop.Load() && i < 300; i++ {
				doc := bytes.Repeat([]byte{byte('a' + i%26)}, 200+i%3000)
				if err := s.Put(context.Background(), "busy", fmt.Sprintf("%d-%06d", w, i), doc); err != nil {
					t.Error(err)
					return
				}
				written.Add(1)
			}
		}()
	}
	if !bottest.Eventually(10*time.Second, func() bool { return written.Load() >= 100 }) {
		t.Fatal("the writers did not get going")
	}
	var snap bytes.Buffer
	_, err = Snapshot(path, &snap)
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatalf("snapshot of a busy, held file: %v", err)
	}
	target := filepath.Join(t.TempDir(), "copy.db")
	if err := Restore(ctx, target, &snap, false); err != nil { // checks it (Tx.Check)
		t.Fatalf("the snapshot is not a consistent bbolt file: %v", err)
	}
	got := exportOf(t, target, clock)
	var kept []dump.Entry
	busy := 0
	for _, e := range got {
		if e.Coll == "busy" {
			busy++
			continue
		}
		kept = append(kept, e)
	}
	// Claims are compared for presence; their one-hour claim is still held.
	if diffs := dump.Compare(before, kept, time.Second, 10); len(diffs) > 0 {
		t.Errorf("the snapshot lost what was committed before it: %v", diffs)
	}
	if busy < 100 {
		t.Errorf("the snapshot holds %d of the concurrent writes, want at least the 100 made before it", busy)
	}
	t.Logf("snapshot of a file with %d concurrent writes in flight: %d written in all, %d in the copy", written.Load(), written.Load(), busy)
}

func TestSnapshotOfAnUnheldFile(t *testing.T) {
	clock := func() time.Time { return bottest.Start }
	s, path := openTemp(t, WithNow(clock))
	seed(t, s)
	want, err := s.Export(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var snap bytes.Buffer
	if _, err := Snapshot(path, &snap); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "copy.db")
	if err := Restore(t.Context(), target, &snap, false); err != nil {
		t.Fatal(err)
	}
	if diffs := dump.Compare(want, exportOf(t, target, clock), time.Minute, 10); len(diffs) > 0 {
		t.Errorf("copy differs: %v", diffs)
	}
}
