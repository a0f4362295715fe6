// Package index keeps the secondary indexes of the smaller domains'
// records (co-signatures, meetings, consultations, rounds, special
// reports) as documents whose ids are sort keys, so that a question reads
// a page of an index (bot.ScanDocs) instead of a whole collection.
//
// A domain lists a record's index documents in one function (its Docs);
// its one save function writes the record and calls Sync with the
// documents of the record before and after the change, in the same unit
// of work as the record, so an index never outlives or precedes its
// record. Index documents are empty ({}): every page is followed by a Get
// of the records it names, which stays the cost of the page, and an index
// entry never has to be rewritten because a field it does not sort by
// changed.
package index

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Sep separates the parts of an index id; no part contains it.
const Sep = "\x00"

// Empty is the content of an index document.
var Empty = []byte("{}")

// Doc is one index document: its collection and id, and what it holds:
// Data, or Empty when Data is "". A key document (a uniqueness check, a
// lookup by a key that is not the record's id) holds the record's id, so
// that one Get answers.
type Doc struct{ Coll, ID, Data string }

// Key joins parts into an index id.
func Key(parts ...string) string { return strings.Join(parts, Sep) }

// Time is t as a part of an index id whose byte order is time order (UTC
// to the nanosecond, fixed width).
func Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// Last is the last part of an index id: the record id, by convention.
func Last(id string) string { return id[strings.LastIndex(id, Sep)+1:] }

// Sync removes the documents of old that new does not have and writes
// those of new that old does not have, through s (the unit of work of
// ctx). Documents in both are left alone.
func Sync(ctx context.Context, s bot.Store, old, new []Doc) error {
	keep := make(map[Doc]bool, len(new))
	for _, d := range new {
		keep[d] = true
	}
	had := make(map[Doc]bool, len(old))
	for _, d := range old {
		had[d] = true
		if !keep[d] && !keepID(new, d) {
			if err := s.Delete(ctx, d.Coll, d.ID); err != nil {
				return err
			}
		}
	}
	for _, d := range new {
		if had[d] {
			continue
		}
		had[d] = true
		doc := Empty
		if d.Data != "" {
			doc = []byte(d.Data)
		}
		if err := s.Put(ctx, d.Coll, d.ID, doc); err != nil {
			return err
		}
	}
	return nil
}

// keepID reports whether new has a document with d's id (with other
// data: it is written over, not deleted).
func keepID(new []Doc, d Doc) bool {
	for _, n := range new {
		if n.Coll == d.Coll && n.ID == d.ID {
			return true
		}
	}
	return false
}

// Page reads up to limit ids of coll's index under prefix, after the
// index id after ("" = from the start), newest (greatest) first when
// reverse; all of them for a limit of 0. It returns the ids and whether
// more follow.
func Page(ctx context.Context, s bot.Store, coll, prefix, after string, limit int, reverse bool) ([]string, bool, error) {
	r := bot.Range{Prefix: prefix, After: after, Reverse: reverse}
	if limit > 0 {
		r.Limit = limit + 1 // one more tells whether there are more
	}
	docs, err := bot.ScanDocs(ctx, s, coll, r)
	if err != nil {
		return nil, false, err
	}
	more := limit > 0 && len(docs) > limit
	if more {
		docs = docs[:limit]
	}
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.ID
	}
	return ids, more, nil
}

// batch is how many index ids Until and Backfill read at a time.
const batch = 500

// Until returns the ids of coll's index under prefix whose next part,
// a Time, is before end, oldest first: the records due by end.
func Until(ctx context.Context, s bot.Store, coll, prefix string, end time.Time) ([]string, error) {
	return Between(ctx, s, coll, prefix, time.Time{}, end)
}

// Between returns the ids of coll's index under prefix whose next part,
// a Time, is in [from, to), oldest first.
func Between(ctx context.Context, s bot.Store, coll, prefix string, from, to time.Time) ([]string, error) {
	stop := prefix + Time(to)
	r := bot.Range{Prefix: prefix, Limit: batch}
	if !from.IsZero() {
		// Every id at from goes on with Sep and so comes after this.
		r.After = prefix + Time(from)
	}
	var out []string
	for {
		docs, err := bot.ScanDocs(ctx, s, coll, r)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			if d.ID >= stop {
				return out, nil
			}
			out = append(out, d.ID)
		}
		if len(docs) < batch {
			return out, nil
		}
		r.After = docs[len(docs)-1].ID
	}
}

// Unique returns the record ids (last parts) of ids, first occurrence
// first.
func Unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	var out []string
	for _, id := range ids {
		if rec := Last(id); !seen[rec] {
			seen[rec] = true
			out = append(out, rec)
		}
	}
	return out
}

// CollBackfill holds one marker document per backfilled index (id: the
// index's name), written when the backfill has covered every record.
const CollBackfill = "index_backfill"

type marker struct {
	After string `json:"after,omitempty"` // the last record id indexed
	Done  bool   `json:"done,omitempty"`
}

// Backfill writes the index documents of every record of coll, as docs
// gives them for a record's stored document, once: a marker document
// (CollBackfill/name) records how far it got after every page of records,
// each page and its marker in one unit of work, and that it finished, so
// a later call reads one document. Writing an index document again is
// harmless, so an interrupted run only repeats a page. It returns how
// many records it read. Records written by this version have their index
// documents already; the call at start-up and in `xunji migrate` gives
// them to the records of a store written before.
func Backfill(ctx context.Context, b *bot.Bot, name, coll string, docs func(data []byte) ([]Doc, error)) (int, error) {
	n := 0
	for {
		done, got := false, 0
		err := b.RunUnit(ctx, func(ctx context.Context) error {
			var m marker
			switch d, err := b.Store.Get(ctx, CollBackfill, name); {
			case err == nil:
				if err := json.Unmarshal(d, &m); err != nil {
					return &bot.Error{Code: bot.EINTERNAL, Err: fmt.Errorf("index backfill marker %s: %w", name, err)}
				}
			case !bot.IsNotFound(err):
				return err
			}
			if m.Done {
				done = true
				return nil
			}
			page, err := bot.ScanDocs(ctx, b.Store, coll, bot.Range{After: m.After, Limit: batch})
			if err != nil {
				return err
			}
			for _, d := range page {
				ds, err := docs(d.Data)
				if err != nil {
					return &bot.Error{Code: bot.EINTERNAL, Err: fmt.Errorf("%s/%s: %w", coll, d.ID, err)}
				}
				if err := Sync(ctx, b.Store, nil, ds); err != nil {
					return err
				}
			}
			if len(page) > 0 {
				m.After = page[len(page)-1].ID
			}
			m.Done = len(page) < batch
			done = m.Done
			got = len(page)
			doc, _ := json.Marshal(m)
			return b.Store.Put(ctx, CollBackfill, name, doc)
		})
		if err != nil {
			return n, err
		}
		n += got
		if done {
			return n, nil
		}
	}
}

// PageMerged reads one page of the union of several indexes of coll,
// each a prefix under which the ids end in a record id: up to limit
// record ids, greatest first, below the record id after ("" = from the
// greatest), each once. It returns the record ids and whether more
// follow. It serves a reader entitled through several keys (the bodies
// a person belongs to): every record of the page is one the reader may
// see, and nothing is read of the others, so a page never reveals how
// many the reader may not see.
func PageMerged(ctx context.Context, s bot.Store, coll string, prefixes []string, after string, limit int) ([]string, bool, error) {
	seen := map[string]bool{}
	var recs []string
	more := false
	for _, p := range prefixes {
		cursor := ""
		if after != "" {
			cursor = p + after
		}
		ids, mo, err := Page(ctx, s, coll, p, cursor, limit, true)
		if err != nil {
			return nil, false, err
		}
		more = more || mo
		for _, id := range ids {
			if rec := Last(id); !seen[rec] {
				seen[rec] = true
				recs = append(recs, rec)
			}
		}
	}
	slices.SortFunc(recs, func(a, b string) int { return strings.Compare(b, a) })
	if limit > 0 && len(recs) > limit {
		recs, more = recs[:limit], true
	}
	return recs, more, nil
}
