package dump

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestCompareFindsEveryKindOfDifference(t *testing.T) {
	want := []Entry{
		{Kind: KindDoc, Coll: "clues", Key: "a", Data: []byte(`{"x":1}`)},
		{Kind: KindDoc, Coll: "clues", Key: "b", Data: []byte(`{"x":2}`)},
		{Kind: KindSeq, Key: "clues", Value: 2},
		{Kind: KindClaim, Key: "long", Value: 60_000},
		{Kind: KindClaim, Key: "short", Value: 500},
	}
	got := []Entry{
		{Kind: KindDoc, Coll: "clues", Key: "a", Data: []byte(`{"x":9}`)},
		{Kind: KindDoc, Coll: "audit", Key: "z", Data: []byte(`{}`)},
		{Kind: KindSeq, Key: "clues", Value: 1},
	}
	diffs := Compare(want, got, time.Second, 100)
	for _, d := range []string{"document clues/a differs", "document clues/b missing", "counter clues is 1, want 2", "claim long missing", "document audit/z not in the source"} {
		if !strings.Contains(strings.Join(diffs, "\n"), d) {
			t.Errorf("differences %q lack %q", diffs, d)
		}
	}
	if strings.Contains(strings.Join(diffs, "\n"), "short") {
		t.Errorf("a claim that had less than the elapsed time left was reported: %q", diffs)
	}
	if d := Compare(want, want, 0, 100); len(d) != 0 {
		t.Errorf("a dump differs from itself: %q", d)
	}
	if d := Compare(want, nil, 0, 2); len(d) != 2 {
		t.Errorf("limit 2: %d differences", len(d))
	}
}

func TestWriteReadRoundTripAndRefusals(t *testing.T) {
	entries := []Entry{{Kind: KindDoc, Coll: "c", Key: "k", Data: []byte{0, 1, 2}}, {Kind: KindSeq, Key: "s", Value: 5}}
	var b bytes.Buffer
	if err := Write(&b, Header{Source: "redis", Prefix: "xunji:"}, entries); err != nil {
		t.Fatal(err)
	}
	h, got, err := Read(bytes.NewReader(b.Bytes()))
	if err != nil || h.Version != Version || len(got) != 2 || !bytes.Equal(got[0].Data, []byte{0, 1, 2}) || got[1].Value != 5 {
		t.Fatalf("read back %+v %+v %v", h, got, err)
	}
	if _, _, err := Read(strings.NewReader("\x00\x01bbolt")); err != ErrNotDump {
		t.Errorf("binary input: %v, want ErrNotDump", err)
	}
	if _, _, err := Read(strings.NewReader(`{"format":"xunji-dump","version":99}`)); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("a newer version: %v", err)
	}
	if _, _, err := Read(strings.NewReader(`{"format":"xunji-dump","version":1}` + "\n" + `{"kind":"blob","key":"x"}`)); err == nil {
		t.Error("an unknown kind was accepted")
	}
}
