package clue

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// CollIndex holds the clues' index documents. Every document's id is a
// sort key and its value is the clue's row (see rowDoc), so a page of
// an index is a page of rows without a Get per clue. The ids:
//
//   - "a\x00<who>\x00<sk>" for every clue and every party who may know of
//     it (whoKeys), and "o\x00<who>\x00<sk>" for the open ones: the lists
//     of a reader, newest first, and the open clues a body received;
//   - "d\x00<deadline>\x00<sk>" for the open clues with a deadline: the
//     overdue ones and those near their deadline (reminders);
//   - "k\x00<sk>" for the clues awaiting acknowledgement that still have a
//     reminder or an escalation to come;
//   - "c\x00<closed at>\x00<sk>" for the concluded and returned clues, by
//     the time they were closed ("~" when unknown): with the open ones,
//     the clues of a period.
//
// <sk> is the clue's number as a sort key (sortKey), times are UTC in a
// fixed width (timeKey). The documents are written by save, in the unit
// of work that writes the clue.
const CollIndex = "clue_idx"

// The who keys of whoKeys.
const (
	whoAll      = "*"  // the inspection office and the case office read these
	whoReceiver = "r:" // + the receiving body
	whoBody     = "b:" // + the transferring body or a body verifying jointly
	whoPerson   = "p:" // + the person who transferred it
)

// sortKey is id (XS-2026-0001) as a key whose byte order is the order of
// the clues' numbers: the year and the number in twelve digits. An id of
// another form sorts after every number.
func sortKey(id string) string {
	parts := strings.Split(id, "-")
	if len(parts) == 3 && len(parts[1]) == 4 {
		if n, err := strconv.ParseInt(parts[2], 10, 64); err == nil && n >= 0 {
			return fmt.Sprintf("%s%012d", parts[1], n)
		}
	}
	return "~" + id
}

// timeKey is t in UTC as a string whose byte order is time order.
func timeKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// whoKeys are the parties who may know of c, as index keys: everyone of
// the offices, the receiving body, the transferring body, the bodies
// verifying jointly and the person who transferred it.
func whoKeys(c *Clue) []string {
	keys := []string{whoAll}
	add := func(k string) {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if c.Body != "" {
		add(whoReceiver + c.Body)
	}
	if c.FromBody != "" {
		add(whoBody + c.FromBody)
	}
	for _, b := range c.Joint {
		add(whoBody + b)
	}
	if c.CreatedBy != "" {
		add(whoPerson + c.CreatedBy)
	}
	return keys
}

// awaitsAck reports whether c awaits acknowledgement with a reminder or
// an escalation still to come.
func awaitsAck(c *Clue) bool {
	return c.Status == ClueTransferred && (c.RemindedAt.IsZero() || c.EscalatedAt.IsZero())
}

// indexKeys are the ids of c's index documents.
func indexKeys(c *Clue) []string {
	sk := sortKey(c.ID)
	var keys []string
	for _, w := range whoKeys(c) {
		keys = append(keys, "a\x00"+w+"\x00"+sk)
		if c.Open() {
			keys = append(keys, "o\x00"+w+"\x00"+sk)
		}
	}
	if c.Open() && !c.Deadline.IsZero() {
		keys = append(keys, "d\x00"+timeKey(c.Deadline)+"\x00"+sk)
	}
	if awaitsAck(c) {
		keys = append(keys, "k\x00"+sk)
	}
	if c.Status.Closed() {
		closed := "~" // unknown: in every period from its creation on
		if !c.ClosedAt.IsZero() {
			closed = timeKey(c.ClosedAt)
		}
		keys = append(keys, "c\x00"+closed+"\x00"+sk)
	}
	return keys
}

// rowDoc is the row an index document holds: the clue without its
// substance, history, card and message references and former bodies —
// what lists, reminders and reports read, a few hundred bytes.
func rowDoc(c *Clue) ([]byte, error) {
	r := *c
	r.Substance, r.History, r.Cards, r.DMs, r.PrevBodies = "", nil, nil, nil, nil
	doc, err := json.Marshal(&r)
	if err != nil {
		return nil, &bot.Error{Code: bot.EINTERNAL, Err: err}
	}
	return doc, nil
}

// save stores c (replacing old, nil for a new clue) and brings its index
// documents up to date: the keys old had and c has not are deleted, c's
// are written (unless old had them with the same row). Called with the
// context of a unit of work, everything commits with the unit.
func save(ctx context.Context, s bot.Store, old, c *Clue) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return &bot.Error{Code: bot.EINTERNAL, Err: err}
	}
	if old == nil {
		err = s.Create(ctx, CollClues, c.ID, doc)
	} else {
		err = s.Put(ctx, CollClues, c.ID, doc)
	}
	if err != nil {
		return err
	}
	return writeIndex(ctx, s, old, c)
}

// writeIndex writes c's index documents, replacing old's.
func writeIndex(ctx context.Context, s bot.Store, old, c *Clue) error {
	row, err := rowDoc(c)
	if err != nil {
		return err
	}
	keys := indexKeys(c)
	var oldKeys []string
	var oldRow []byte
	if old != nil {
		oldKeys = indexKeys(old)
		if oldRow, err = rowDoc(old); err != nil {
			return err
		}
	}
	for _, k := range oldKeys {
		if !slices.Contains(keys, k) {
			if err := s.Delete(ctx, CollIndex, k); err != nil {
				return err
			}
		}
	}
	same := bytes.Equal(row, oldRow)
	for _, k := range keys {
		if same && slices.Contains(oldKeys, k) {
			continue
		}
		if err := s.Put(ctx, CollIndex, k, row); err != nil {
			return err
		}
	}
	return nil
}

// Seed stores a new clue with its index documents as the clue commands
// do: for generated data (the scale benchmark) and other domains' tests.
func Seed(ctx context.Context, s bot.Store, c *Clue) error { return save(ctx, s, nil, c) }

// update applies fn to clue id and saves the result with its index
// documents, in the unit of work of ctx (or in one of its own). An error
// from fn is returned unchanged and nothing is written.
func update(ctx context.Context, b *bot.Bot, id string, fn func(*Clue) error) (*Clue, error) {
	var out *Clue
	err := b.RunUnit(ctx, func(ctx context.Context) error {
		doc, err := b.Store.Get(ctx, CollClues, id)
		if err != nil {
			return err
		}
		var old, c Clue
		if err := json.Unmarshal(doc, &old); err != nil {
			return &bot.Error{Code: bot.EINTERNAL, Err: fmt.Errorf("%s/%s: %w", CollClues, id, err)}
		}
		if err := json.Unmarshal(doc, &c); err != nil {
			return &bot.Error{Code: bot.EINTERNAL, Err: err}
		}
		if err := fn(&c); err != nil {
			return err
		}
		if err := save(ctx, b.Store, &old, &c); err != nil {
			return err
		}
		out = &c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// create stores a new clue with its index documents in the unit of work
// of ctx (or in one of its own).
func create(ctx context.Context, b *bot.Bot, c *Clue) error {
	return b.RunUnit(ctx, func(ctx context.Context) error { return save(ctx, b.Store, nil, c) })
}

// The marker (collection "meta") of the index backfill.
const (
	collMeta    = "meta"
	indexMarker = "clue_index"
	// backfillPage is how many clues a backfill unit indexes: a few
	// hundred index documents per commit, so that one commit (one Redis
	// script) stays short.
	backfillPage = 100
)

type indexProgress struct {
	Done  bool   `json:"done"`  // every clue has its index documents
	After string `json:"after"` // the last clue id indexed so far
}

// BackfillIndex writes the index documents of the clues of a store
// written by a version without them, a page of clues per unit of work,
// keeping how far it got in a marker; once every clue is indexed the
// marker says so and later calls read only the marker. Writing a clue's
// index documents again is harmless (they follow from the clue), and each
// page's unit reads the marker, so a second process backfilling at the
// same time conflicts and goes on from where the first one got. Until
// the marker says done, the clue queries read the collection itself
// (source). It returns how many clues it indexed.
func BackfillIndex(ctx context.Context, b *bot.Bot) (int, error) {
	n := 0
	for {
		done := false
		k := 0
		err := b.RunUnit(ctx, func(ctx context.Context) error {
			k, done = 0, false
			var prog indexProgress
			switch doc, err := b.Store.Get(ctx, collMeta, indexMarker); {
			case err == nil:
				if err := json.Unmarshal(doc, &prog); err != nil {
					return &bot.Error{Code: bot.EINTERNAL, Err: fmt.Errorf("clue index marker: %w", err)}
				}
			case !bot.IsNotFound(err):
				return err
			}
			if prog.Done {
				done = true
				return nil
			}
			clues, ids, err := bot.Records[Clue](b.Store, CollClues).Scan(ctx, bot.Range{After: prog.After, Limit: backfillPage})
			if err != nil {
				return err
			}
			for _, c := range clues {
				if err := writeIndex(ctx, b.Store, nil, c); err != nil {
					return err
				}
			}
			k = len(clues)
			if len(ids) > 0 {
				prog.After = ids[len(ids)-1]
			}
			prog.Done = len(clues) < backfillPage
			done = prog.Done
			doc, err := json.Marshal(prog)
			if err != nil {
				return &bot.Error{Code: bot.EINTERNAL, Err: err}
			}
			return b.Store.Put(ctx, collMeta, indexMarker, doc)
		})
		if err != nil {
			return n, err
		}
		n += k
		if done {
			return n, nil
		}
	}
}

// indexed reports whether the backfill has indexed every clue of s.
func indexed(ctx context.Context, s bot.Store) (bool, error) {
	doc, err := s.Get(ctx, collMeta, indexMarker)
	if bot.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var prog indexProgress
	if err := json.Unmarshal(doc, &prog); err != nil {
		return false, &bot.Error{Code: bot.EINTERNAL, Err: fmt.Errorf("clue index marker: %w", err)}
	}
	return prog.Done, nil
}

// source is where the clue queries read index pages: the index, or,
// before the backfill has indexed every clue, the index documents
// computed from the whole collection (the same answers, at the old
// cost).
type source struct {
	s    bot.Store
	docs []bot.Doc // computed from the collection; nil: the index
}

// open returns the source for s.
func openSource(ctx context.Context, s bot.Store) (*source, error) {
	ok, err := indexed(ctx, s)
	if err != nil {
		return nil, err
	}
	if ok {
		return &source{s: s}, nil
	}
	clues, err := bot.Records[Clue](s, CollClues).List(ctx)
	if err != nil {
		return nil, err
	}
	docs := []bot.Doc{}
	for _, c := range clues {
		row, err := rowDoc(c)
		if err != nil {
			return nil, err
		}
		for _, k := range indexKeys(c) {
			docs = append(docs, bot.Doc{ID: k, Data: row})
		}
	}
	slices.SortFunc(docs, func(a, b bot.Doc) int { return strings.Compare(a.ID, b.ID) })
	return &source{s: s, docs: docs}, nil
}

// scan returns r's page of index documents.
func (src *source) scan(ctx context.Context, r bot.Range) ([]bot.Doc, error) {
	if src.docs != nil {
		return bot.CutPage(src.docs, r), nil
	}
	return bot.ScanDocs(ctx, src.s, CollIndex, r)
}

// scanPage is how many index documents a scan reads at a time.
const scanPage = 200

// rows returns the rows of the index documents with prefix, in id order,
// after after ("" = from the start) and before the first id for which
// stop is true (nil = to the end of the prefix).
func (src *source) rows(ctx context.Context, prefix, after string, stop func(id string) bool) ([]*Clue, error) {
	r := bot.Range{Prefix: prefix, After: after, Limit: scanPage}
	var out []*Clue
	for {
		docs, err := src.scan(ctx, r)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			if stop != nil && stop(d.ID) {
				return out, nil
			}
			c, err := decodeRow(d)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		if len(docs) < scanPage {
			return out, nil
		}
		r.After = docs[len(docs)-1].ID
	}
}

func decodeRow(d bot.Doc) (*Clue, error) {
	var c Clue
	if err := json.Unmarshal(d.Data, &c); err != nil {
		return nil, &bot.Error{Code: bot.EINTERNAL, Err: fmt.Errorf("%s/%q: %w", CollIndex, d.ID, err)}
	}
	return &c, nil
}

// stream is one index prefix read newest first, a chunk at a time.
type stream struct {
	prefix string
	after  string
	buf    []bot.Doc
	ended  bool
}

// head returns the stream's next document, reading a chunk when needed.
func (st *stream) head(ctx context.Context, src *source, chunk int) (*bot.Doc, error) {
	if len(st.buf) == 0 && !st.ended {
		docs, err := src.scan(ctx, bot.Range{Prefix: st.prefix, After: st.after, Limit: chunk, Reverse: true})
		if err != nil {
			return nil, err
		}
		st.buf, st.ended = docs, len(docs) < chunk
		if len(docs) > 0 {
			st.after = docs[len(docs)-1].ID
		}
	}
	if len(st.buf) == 0 {
		return nil, nil
	}
	return &st.buf[0], nil
}

// page is a page of rows, newest first.
type page struct {
	rows []*Clue
	next string // the id to go on after ("从:"), "" when there is no more
}

// newest reads the streams of prefixes (each "<scope>\x00<who>\x00")
// merged newest first, once per clue, from before the clue numbered
// from ("" = the newest), keeping the rows keep accepts until want of
// them are found. It reads at most budget index documents: when that
// runs out first, the page is what was found and next goes on from the
// last clue read, so that a narrow filter over a long history costs
// budget documents per page, not the history.
func (src *source) newest(ctx context.Context, prefixes []string, from string, want, budget int, keep func(*Clue) bool) (page, error) {
	chunk := min(budget, max(want+1, 50))
	streams := make([]*stream, 0, len(prefixes))
	for _, p := range prefixes {
		st := &stream{prefix: p}
		if from != "" {
			st.after = p + sortKey(from)
		}
		streams = append(streams, st)
	}
	var pg page
	read := 0
	for {
		// The greatest sort key among the heads.
		best := ""
		var bestDoc *bot.Doc
		for _, st := range streams {
			d, err := st.head(ctx, src, chunk)
			if err != nil {
				return page{}, err
			}
			if d != nil {
				if sk := d.ID[len(st.prefix):]; bestDoc == nil || sk > best {
					best, bestDoc = sk, d
				}
			}
		}
		if bestDoc == nil {
			return pg, nil
		}
		c, err := decodeRow(*bestDoc)
		if err != nil {
			return page{}, err
		}
		for _, st := range streams { // once per clue
			if len(st.buf) > 0 && st.buf[0].ID[len(st.prefix):] == best {
				st.buf = st.buf[1:]
			}
		}
		read++
		if keep(c) {
			if len(pg.rows) == want {
				pg.next = pg.rows[want-1].ID
				return pg, nil
			}
			pg.rows = append(pg.rows, c)
		}
		if read >= budget {
			more := false
			for _, st := range streams {
				if d, err := st.head(ctx, src, chunk); err != nil {
					return page{}, err
				} else if d != nil {
					more = true
				}
			}
			if more {
				pg.next = c.ID
			}
			return pg, nil
		}
	}
}
