package storetest

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// runCommit is the conformance suite of bot.TxStore: a unit of work's
// checks and writes apply all or nothing.
func runCommit(t *testing.T, open func(t *testing.T) bot.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s bot.TxStore)
	}{
		{"CommitApplies", testCommitApplies},
		{"CommitConflictChangesNothing", testCommitConflict},
		{"CommitExpectations", testCommitExpectations},
		{"ConcurrentCommits", testConcurrentCommits},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t).(bot.TxStore))
		})
	}
}

func testCommitApplies(t *testing.T, s bot.TxStore) {
	c := ctx(t)
	coll, seq, claim, old := unique("c"), unique("seq"), unique("claim"), unique("old")
	if err := s.Create(c, coll, "gone", []byte(`{"v":0}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(c, old, time.Hour); err != nil {
		t.Fatal(err)
	}
	err := s.Commit(c, &bot.Commit{
		Expects: []bot.Expect{
			{Kind: bot.ExpectDoc, Coll: coll, ID: "a"},
			{Kind: bot.ExpectDoc, Coll: coll, ID: "gone", Exists: true, Doc: []byte(`{"v":0}`)},
			{Kind: bot.ExpectSeq, Name: seq},
			{Kind: bot.ExpectClaim, Name: claim},
		},
		Writes: []bot.Write{
			{Kind: bot.WritePut, Coll: coll, ID: "a", Doc: []byte(`{"v":1}`)},
			{Kind: bot.WritePut, Coll: coll, ID: "b", Doc: []byte(`{"v":2}`)},
			{Kind: bot.WriteDelete, Coll: coll, ID: "gone"},
			{Kind: bot.WriteSeq, Name: seq, Seq: 7},
			{Kind: bot.WriteClaim, Name: claim, TTL: time.Hour},
			{Kind: bot.WriteDeleteClaim, Name: old},
		},
	})
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	if got := mustGet(t, s, coll, "a"); string(got) != `{"v":1}` {
		t.Errorf("a = %s", got)
	}
	docs, err := s.List(c, coll)
	if err != nil || len(docs) != 2 || docs[0].ID != "a" || docs[1].ID != "b" {
		t.Errorf("list after commit: %v %+v", err, docs)
	}
	if n, err := s.ReadSeq(c, seq); err != nil || n != 7 {
		t.Errorf("counter %d, %v; want 7", n, err)
	}
	if n, err := s.NextSeq(c, seq); err != nil || n != 8 {
		t.Errorf("NextSeq after a committed counter: %d, %v; want 8", n, err)
	}
	if held, err := s.ClaimHeld(c, claim); err != nil || !held {
		t.Errorf("claim taken by the commit not held: %v", err)
	}
	if held, err := s.ClaimHeld(c, old); err != nil || held {
		t.Errorf("claim released by the commit still held: %v", err)
	}
	if first, err := s.Claim(c, old, time.Hour); err != nil || !first {
		t.Errorf("a released claim cannot be taken again: %v", err)
	}
}

func testCommitConflict(t *testing.T, s bot.TxStore) {
	c := ctx(t)
	coll := unique("c")
	if err := s.Create(c, coll, "x", []byte(`{"v":1}`)); err != nil {
		t.Fatal(err)
	}
	// Someone else writes x after the unit read it.
	if err := s.Put(c, coll, "x", []byte(`{"v":2}`)); err != nil {
		t.Fatal(err)
	}
	err := s.Commit(c, &bot.Commit{
		Expects: []bot.Expect{{Kind: bot.ExpectDoc, Coll: coll, ID: "x", Exists: true, Doc: []byte(`{"v":1}`)}},
		Writes: []bot.Write{
			{Kind: bot.WritePut, Coll: coll, ID: "x", Doc: []byte(`{"v":10}`)},
			{Kind: bot.WritePut, Coll: coll, ID: "y", Doc: []byte(`{}`)},
		},
	})
	wantCode(t, "commit after a concurrent write", err, bot.ECONFLICT)
	if got := mustGet(t, s, coll, "x"); string(got) != `{"v":2}` {
		t.Errorf("a refused commit wrote x: %s", got)
	}
	if _, err := s.Get(c, coll, "y"); !bot.IsNotFound(err) {
		t.Errorf("a refused commit wrote y: %v", err)
	}
}

func testCommitExpectations(t *testing.T, s bot.TxStore) {
	c := ctx(t)
	coll, seq, claim := unique("c"), unique("seq"), unique("claim")
	if err := s.Create(c, coll, "here", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.NextSeq(c, seq); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(c, claim, time.Hour); err != nil {
		t.Fatal(err)
	}
	write := []bot.Write{{Kind: bot.WritePut, Coll: coll, ID: "w", Doc: []byte(`{}`)}}
	cases := []struct {
		name string
		e    bot.Expect
		ok   bool
	}{
		{"absent, is there", bot.Expect{Kind: bot.ExpectDoc, Coll: coll, ID: "here"}, false},
		{"any value, is there", bot.Expect{Kind: bot.ExpectDoc, Coll: coll, ID: "here", Exists: true, Any: true}, true},
		{"any value, is not", bot.Expect{Kind: bot.ExpectDoc, Coll: coll, ID: "nowhere", Exists: true, Any: true}, false},
		{"this value, is another", bot.Expect{Kind: bot.ExpectDoc, Coll: coll, ID: "here", Exists: true, Doc: []byte(`{"x":1}`)}, false},
		{"counter unset, was used", bot.Expect{Kind: bot.ExpectSeq, Name: seq}, false},
		{"counter at 1", bot.Expect{Kind: bot.ExpectSeq, Name: seq, Seq: 1}, true},
		{"no claim, is held", bot.Expect{Kind: bot.ExpectClaim, Name: claim}, false},
	}
	for _, tc := range cases {
		err := s.Commit(c, &bot.Commit{Expects: []bot.Expect{tc.e}, Writes: write})
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case !tc.ok:
			wantCode(t, tc.name, err, bot.ECONFLICT)
		}
	}
}

// testConcurrentCommits runs the optimistic loop of a unit of work on
// one document and one counter from many workers: every increment lands
// once and the counter has no gap.
func testConcurrentCommits(t *testing.T, s bot.TxStore) {
	coll, seq := unique("c"), unique("seq")
	c := ctx(t)
	if err := s.Create(c, coll, "n", []byte("0")); err != nil {
		t.Fatal(err)
	}
	const per = 5
	parallel(t, func(w int) error {
		for range per {
			for attempt := 0; ; attempt++ {
				if attempt > 1000 {
					return fmt.Errorf("still conflicting")
				}
				cur, err := s.Get(c, coll, "n")
				if err != nil {
					return err
				}
				n, _ := strconv.Atoi(string(cur))
				v, err := s.ReadSeq(c, seq)
				if err != nil {
					return err
				}
				err = s.Commit(c, &bot.Commit{
					Expects: []bot.Expect{
						{Kind: bot.ExpectDoc, Coll: coll, ID: "n", Exists: true, Doc: cur},
						{Kind: bot.ExpectSeq, Name: seq, Seq: v},
					},
					Writes: []bot.Write{
						{Kind: bot.WritePut, Coll: coll, ID: "n", Doc: []byte(strconv.Itoa(n + 1))},
						{Kind: bot.WriteSeq, Name: seq, Seq: v + 1},
					},
				})
				if err == nil {
					break
				}
				if bot.ErrorCode(err) != bot.ECONFLICT {
					return err
				}
				// As bot.RunUnit does: a jittered pause, so contenders
				// do not meet again.
				time.Sleep(time.Duration(rand.Int64N(int64(min(attempt+1, 10)) * int64(time.Millisecond))))
			}
		}
		return nil
	})
	if got := string(mustGet(t, s, coll, "n")); got != strconv.Itoa(workers*per) {
		t.Errorf("document at %s after %d committed increments", got, workers*per)
	}
	if v, err := s.ReadSeq(c, seq); err != nil || v != workers*per {
		t.Errorf("counter at %d (%v), want %d", v, err, workers*per)
	}
}
