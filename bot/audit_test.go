package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

func actions(es []bot.AuditEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s %s", e.Record, e.Action))
	}
	return out
}

func wantActions(t *testing.T, what string, es []bot.AuditEntry, err error, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if want == nil {
		want = []string{}
	}
	if got := actions(es); !slices.Equal(got, want) {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

// AuditOf reads one record's entries from the record index: in order,
// a page at a time with a cursor, newest first when reversed, and with
// the unit's own entry before it commits. Records whose ids extend one
// another (XS-2026-0001 and XS-2026-00010) stay apart.
func TestAuditOfReadsOneRecord(t *testing.T) {
	allStores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot
		for i, a := range []struct{ rec, act string }{
			{"XS-2026-0001", "clue.new"}, {"XS-2026-00010", "clue.new"}, {"XS-2026-0001", "clue.transfer"},
			{"", "roster.add"}, {"XS-2026-0002", "clue.new"}, {"XS-2026-0001", "clue.close"},
		} {
			env.Clock.Advance(time.Minute)
			if err := b.Audit.Record(ctx, nil, a.act, a.rec, fmt.Sprint(i)); err != nil {
				t.Fatal(err)
			}
		}
		es, err := b.Audit.Of(ctx, "XS-2026-0001", bot.Range{})
		wantActions(t, "whole history", es, err, "XS-2026-0001 clue.new", "XS-2026-0001 clue.transfer", "XS-2026-0001 clue.close")
		if len(es) == 3 && !(es[0].Seq < es[1].Seq && es[1].Seq < es[2].Seq && es[0].Detail == "0" && es[0].Time.Equal(bottest.Start.Add(time.Minute))) {
			t.Errorf("entries: %+v", es)
		}
		page, err := b.Audit.Of(ctx, "XS-2026-0001", bot.Range{Limit: 2})
		wantActions(t, "first page", page, err, "XS-2026-0001 clue.new", "XS-2026-0001 clue.transfer")
		next, err := b.Audit.Of(ctx, "XS-2026-0001", bot.Range{Limit: 2, After: page[1].AuditCursor()})
		wantActions(t, "second page", next, err, "XS-2026-0001 clue.close")
		es, err = b.Audit.Of(ctx, "XS-2026-0001", bot.Range{Limit: 1, Reverse: true})
		wantActions(t, "newest", es, err, "XS-2026-0001 clue.close")
		es, err = b.Audit.Of(ctx, "XS-2026-9999", bot.Range{})
		wantActions(t, "a record without entries", es, err)

		err = b.RunUnit(ctx, func(ctx context.Context) error {
			if err := b.Audit.Record(ctx, nil, "clue.history", "XS-2026-0002", ""); err != nil {
				return err
			}
			es, err := b.Audit.Of(ctx, "XS-2026-0002", bot.Range{})
			wantActions(t, "inside the unit", es, err, "XS-2026-0002 clue.new", "XS-2026-0002 clue.history")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// An entry's index documents are written in its unit: a dropped unit
// leaves neither the entry nor its index documents.
func TestAuditIndexIsWrittenInTheEntrysUnit(t *testing.T) {
	allStores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot
		err := b.RunUnit(ctx, func(ctx context.Context) error {
			if err := b.Audit.Record(ctx, nil, "clue.escalate", "XS-2026-0001", ""); err != nil {
				return err
			}
			return errors.New("dropped")
		})
		if err == nil {
			t.Fatal("the unit was not dropped")
		}
		for _, coll := range []string{bot.CollAudit, bot.CollAuditByRecord, bot.CollAuditByVerb} {
			if docs, err := bot.ScanDocs(ctx, b.Store, coll, bot.Range{}); err != nil || len(docs) != 0 {
				t.Errorf("%s after a dropped unit: %v, %d documents", coll, err, len(docs))
			}
		}
		if err := b.Audit.Record(ctx, nil, "clue.escalate", "XS-2026-0001", ""); err != nil {
			t.Fatal(err)
		}
		for _, coll := range []string{bot.CollAudit, bot.CollAuditByRecord, bot.CollAuditByVerb} {
			if docs, err := bot.ScanDocs(ctx, b.Store, coll, bot.Range{}); err != nil || len(docs) != 1 {
				t.Errorf("%s after an audit outside a unit: %v, %d documents", coll, err, len(docs))
			}
		}
	})
}

// AuditBetween reads one verb's entries in [from, to) from the verb
// index, whatever the domain of the action.
func TestAuditBetweenReadsOneVerbInAPeriod(t *testing.T) {
	allStores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot
		from := bottest.Start.Add(time.Hour)
		to := from.Add(24 * time.Hour)
		at := func(when time.Time, action, record string) {
			t.Helper()
			env.Clock.Set(when)
			if err := b.Audit.Record(ctx, nil, action, record, ""); err != nil {
				t.Fatal(err)
			}
		}
		at(from.Add(-time.Nanosecond), "clue.escalate", "before")
		at(from, "clue.escalate", "at-from")
		at(from.Add(time.Hour), "progress.check.escalate", "inside")
		at(from.Add(time.Hour), "clue.transfer", "other-verb")
		at(from.Add(2*time.Hour), "cosign.escalated", "longer-verb")
		at(to.Add(-time.Nanosecond), "cosign.escalate", "last")
		at(to, "clue.escalate", "at-to")
		es, err := b.Audit.Between(ctx, "escalate", from, to)
		wantActions(t, "escalations in the period", es, err,
			"at-from clue.escalate", "inside progress.check.escalate", "last cosign.escalate")
		// The same instants in another zone are the same period.
		sh := time.FixedZone("CST", 8*3600)
		es, err = b.Audit.Between(ctx, "escalate", from.In(sh), to.In(sh))
		wantActions(t, "the period given in +08:00", es, err,
			"at-from clue.escalate", "inside progress.check.escalate", "last cosign.escalate")
		if _, err := b.Audit.Between(ctx, "clue.escalate", from, to); bot.ErrorCode(err) != bot.EINTERNAL {
			t.Errorf("an action for a verb: %v", err)
		}
	})
}

// More entries than one page of the verb index are all read.
func TestAuditBetweenPages(t *testing.T) {
	env := bottest.New(t)
	ctx := context.Background()
	for range 1203 {
		env.Clock.Advance(time.Second)
		if err := env.Bot.Audit.Record(ctx, nil, "x.escalate", "", ""); err != nil {
			t.Fatal(err)
		}
	}
	es, err := env.Bot.Audit.Between(ctx, "escalate", bottest.Start, env.Clock.Now())
	if err != nil || len(es) != 1202 {
		t.Fatalf("AuditBetween: %v, %d entries, want 1202 (the last is at the end, excluded)", err, len(es))
	}
}

// A store written before the audit index existed gets its index documents
// from BackfillAuditIndex, once; later calls read only newer entries.
func TestBackfillAuditIndex(t *testing.T) {
	allStores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot
		// Entries as an older version wrote them: the log alone.
		for i := 1; i <= 1203; i++ {
			e := bot.AuditEntry{Seq: int64(i), Time: bottest.Start.Add(time.Duration(i) * time.Second), Action: "clue.transfer", Record: fmt.Sprintf("XS-2026-%04d", i%3+1), Result: bot.ResultOK}
			if i%100 == 0 {
				e.Action = "clue.escalate"
			}
			doc, _ := json.Marshal(e)
			if err := b.Store.Put(ctx, bot.CollAudit, fmt.Sprintf("%012d", i), doc); err != nil {
				t.Fatal(err)
			}
		}
		if es, err := b.Audit.Of(ctx, "XS-2026-0001", bot.Range{}); err != nil || len(es) != 0 {
			t.Fatalf("before the backfill: %v, %d entries", err, len(es))
		}
		n, err := bot.BackfillAuditIndex(ctx, b.Store)
		if err != nil || n != 1203 {
			t.Fatalf("backfill: %d entries, %v", n, err)
		}
		es, err := b.Audit.Of(ctx, "XS-2026-0001", bot.Range{})
		if err != nil || len(es) != 401 || es[0].Seq != 3 || es[400].Seq != 1203 {
			t.Fatalf("after the backfill: %v, %d entries", err, len(es))
		}
		esc, err := b.Audit.Between(ctx, "escalate", bottest.Start, bottest.Start.Add(time.Hour))
		if err != nil || len(esc) != 12 {
			t.Fatalf("escalations after the backfill: %v, %d", err, len(esc))
		}
		if n, err := bot.BackfillAuditIndex(ctx, b.Store); err != nil || n != 0 {
			t.Fatalf("second backfill: %d entries, %v; want none (the marker)", n, err)
		}
		// An entry an older replica writes afterwards (a rolling upgrade)
		// is indexed by the next call, which reads only it.
		doc, _ := json.Marshal(bot.AuditEntry{Seq: 1204, Time: bottest.Start, Action: "clue.close", Record: "XS-2026-0001", Result: bot.ResultOK})
		if err := b.Store.Put(ctx, bot.CollAudit, "000000001204", doc); err != nil {
			t.Fatal(err)
		}
		if n, err := bot.BackfillAuditIndex(ctx, b.Store); err != nil || n != 1 {
			t.Fatalf("third backfill: %d entries, %v; want the one written since", n, err)
		}
		if es, err := b.Audit.Of(ctx, "XS-2026-0001", bot.Range{Reverse: true, Limit: 1}); err != nil || len(es) != 1 || es[0].Action != "clue.close" {
			t.Fatalf("the late entry: %v %+v", err, es)
		}
	})
}

// Audit numbers are taken outside the unit (NextSeq, not the gapless
// record numbers), so two units that both audit do not conflict: the
// one that commits second does not run again.
func TestAuditingUnitsDoNotConflict(t *testing.T) {
	allStores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot
		runs := 0
		err := b.RunUnit(ctx, func(uctx context.Context) error {
			runs++
			if err := b.Audit.Record(uctx, nil, "clue.history", "XS-2026-0001", ""); err != nil {
				return err
			}
			if runs == 1 {
				// Another unit audits and commits in between.
				if err := b.RunUnit(context.Background(), func(c2 context.Context) error {
					return b.Audit.Record(c2, nil, "clue.history", "XS-2026-0001", "")
				}); err != nil {
					t.Fatal(err)
				}
			}
			return nil
		})
		if err != nil || runs != 1 {
			t.Fatalf("auditing unit: %v after %d runs, want one run", err, runs)
		}
		if es, err := b.Audit.Of(ctx, "XS-2026-0001", bot.Range{}); err != nil || len(es) != 2 {
			t.Fatalf("entries: %v, %d", err, len(es))
		}
	})
}
