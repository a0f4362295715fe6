package progress

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// The collections that index the items. Every write of an item goes
// through save (record.go), which keeps them in the same unit of work as
// the item.
const (
	// CollItemIndex holds the item indexes, one document per item and
	// key, each a summary of the item (the item without its history and
	// card references): what a list line, the monthly figures and the
	// notice's workbook show, so a page of an index needs no further
	// read. The ids are sort keys ending in "\x00<item id>":
	//
	//	s\x00<status>\x00<id>          every item by status (open, awaiting, done)
	//	d\x00<done at, UTC>\x00<id>    closed items by when they were closed
	//	b\x00<body>\x00<id>            the items of a body: its responsible unit, supervisors and creating team
	//	o\x00<body>\x00<id>            the open (整改中) items of its unit and of its supervisors
	//	p\x00<person>\x00<id>          the items a person created
	CollItemIndex = "item_idx"
	// CollItemTitles holds one key document per unit and title,
	// "<unit>\x00<title>", naming the item that has it: the title
	// uniqueness check of 进度 新建 and 进度 导入 is a Get.
	CollItemTitles = "item_titles"
	// CollItemTally holds, per UTC month of closing and unit
	// ("2026-11\x00<unit>"), the figures of the items closed (已销号) in
	// that month, so that the monthly figures read only the open items
	// and those closed lately.
	CollItemTally = "item_tally"
)

// Index key prefixes of CollItemIndex.
const (
	ixStatus = "s\x00"
	ixDone   = "d\x00"
	ixBody   = "b\x00"
	ixOpen   = "o\x00"
	ixPerson = "p\x00"
)

// indexPage is how many index documents a scan reads at a time;
// backfillPage how many items BackfillIndex indexes in one unit of work
// (each makes about seven writes: one commit stays small).
const (
	indexPage    = 500
	backfillPage = 200
)

// indexed returns the summary of it kept in its index documents: it
// without its history and card references.
func (it *Item) indexed() *Item {
	c := *it
	c.History, c.Cards, c.ClosureCards = nil, nil, nil
	c.Supervisors = slices.Clone(it.Supervisors)
	c.Progress = slices.Clone(it.Progress)
	c.Unreported = slices.Clone(it.Unreported)
	return &c
}

// timeKey renders t (in UTC) so that byte order is time order.
func timeKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// indexKeys are the CollItemIndex ids of it.
func indexKeys(it *Item) []string {
	if it == nil {
		return nil
	}
	id := "\x00" + it.ID
	keys := []string{ixStatus + string(it.Status) + id}
	if it.Status == ItemDone {
		keys = append(keys, ixDone+timeKey(it.DoneAt)+id)
	}
	bodies := append([]string{it.Unit}, it.Supervisors...)
	for i, b := range bodies {
		if b == "" || slices.Contains(bodies[:i], b) {
			continue
		}
		keys = append(keys, ixBody+b+id)
		if it.Open() {
			keys = append(keys, ixOpen+b+id)
		}
	}
	if it.Source != "" && !slices.Contains(bodies, it.Source) {
		keys = append(keys, ixBody+it.Source+id)
	}
	if it.CreatedBy != "" {
		keys = append(keys, ixPerson+it.CreatedBy+id)
	}
	return keys
}

// titleKey is the CollItemTitles id of a unit's title.
func titleKey(unit, title string) string { return unit + "\x00" + title }

type titleDoc struct {
	ID string `json:"id"`
}

// titleOwner returns the id of the item of unit with title, "" when
// there is none.
func titleOwner(ctx context.Context, s bot.Store, unit, title string) (string, error) {
	t, err := bot.Records[titleDoc](s, CollItemTitles).Get(ctx, titleKey(unit, title))
	switch {
	case bot.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", err
	}
	return t.ID, nil
}

// claimTitle creates it's title key, or returns the usage error naming
// the item that has the title already.
func claimTitle(ctx context.Context, s bot.Store, it *Item) error {
	owner, err := titleOwner(ctx, s, it.Unit, it.Title)
	if err != nil {
		return err
	}
	if owner != "" && owner != it.ID {
		return bot.Coded(bot.EINVALID, "progress.error.duplicate", "id", owner, "title", it.Title)
	}
	return bot.Records[titleDoc](s, CollItemTitles).Put(ctx, titleKey(it.Unit, it.Title), &titleDoc{ID: it.ID})
}

// Tally is the figures of one unit's items closed in one UTC month.
type Tally struct {
	Unit       string `json:"unit"`
	Done       int    `json:"done"`
	Immediate  int    `json:"immediate"`
	PercentSum int    `json:"percent_sum"`
}

// tallyID is the CollItemTally id of the items of unit closed in
// month ("2026-11", UTC) as counted for scope: "" for every reader, a
// supervising body's id for that body's share of the notice.
func tallyID(scope, month, unit string) string { return scope + "\x00" + month + "\x00" + unit }

// tallyOf returns the tallies it adds to when closed (none when it is
// not): the overall one and one per supervising body.
func tallyOf(it *Item) map[string]Tally {
	if it == nil || it.Status != ItemDone {
		return nil
	}
	t := Tally{Unit: it.Unit, Done: 1, PercentSum: it.Percent}
	if it.Immediate {
		t.Immediate = 1
	}
	month := it.DoneAt.UTC().Format("2006-01")
	out := map[string]Tally{tallyID("", month, it.Unit): t}
	for _, sup := range it.Supervisors {
		out[tallyID(sup, month, it.Unit)] = t
	}
	return out
}

// addTally adds sign times t to the tally id.
func addTally(ctx context.Context, s bot.Store, id string, t Tally, sign int) error {
	c := bot.Records[Tally](s, CollItemTally)
	add := func(v *Tally) error {
		v.Unit = t.Unit
		v.Done += sign * t.Done
		v.Immediate += sign * t.Immediate
		v.PercentSum += sign * t.PercentSum
		return nil
	}
	_, err := c.Update(ctx, id, add)
	if !bot.IsNotFound(err) {
		return err
	}
	var v Tally
	_ = add(&v)
	err = c.Create(ctx, id, &v)
	if bot.ErrorCode(err) == bot.ECONFLICT {
		_, err = c.Update(ctx, id, add)
	}
	return err
}

// reindex replaces old's index documents and tally with next's.
func reindex(ctx context.Context, s bot.Store, old, next *Item) error {
	newKeys := indexKeys(next)
	for _, k := range indexKeys(old) {
		if !slices.Contains(newKeys, k) {
			if err := s.Delete(ctx, CollItemIndex, k); err != nil {
				return err
			}
		}
	}
	if next != nil {
		doc, err := json.Marshal(next.indexed())
		if err != nil {
			return err
		}
		for _, k := range newKeys {
			if err := s.Put(ctx, CollItemIndex, k, doc); err != nil {
				return err
			}
		}
	}
	ot, nt := tallyOf(old), tallyOf(next)
	for id, t := range ot {
		if nt[id] != t {
			if err := addTally(ctx, s, id, t, -1); err != nil {
				return err
			}
		}
	}
	for id, t := range nt {
		if ot[id] != t {
			if err := addTally(ctx, s, id, t, 1); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeSummaries decodes index documents.
func decodeSummaries(docs []bot.Doc) ([]*Item, error) {
	out := make([]*Item, 0, len(docs))
	for _, d := range docs {
		var it Item
		if err := json.Unmarshal(d.Data, &it); err != nil {
			return nil, &bot.Error{Code: bot.EINTERNAL, Err: fmt.Errorf("%s/%q: %w", CollItemIndex, d.ID, err)}
		}
		out = append(out, &it)
	}
	return out, nil
}

// eachIndexed calls fn with the summary of every item under prefix, in
// id order, reading a page at a time.
func eachIndexed(ctx context.Context, s bot.Store, prefix string, fn func(*Item) error) error {
	r := bot.Range{Prefix: prefix, Limit: indexPage}
	for {
		docs, err := bot.ScanDocs(ctx, s, CollItemIndex, r)
		if err != nil {
			return err
		}
		items, err := decodeSummaries(docs)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(docs) < indexPage {
			return nil
		}
		r.After = docs[len(docs)-1].ID
	}
}

// indexed returns the summaries under each of prefixes, each item once,
// in id order.
func indexedUnder(ctx context.Context, s bot.Store, prefixes ...string) ([]*Item, error) {
	seen := map[string]bool{}
	var out []*Item
	for _, p := range prefixes {
		if err := eachIndexed(ctx, s, p, func(it *Item) error {
			if !seen[it.ID] {
				seen[it.ID] = true
				out = append(out, it)
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b *Item) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// current returns the summaries of the items open or awaiting
// confirmation, and of those closed at or after since, in id order: the
// items a collection, a check or a notice of since's period can concern.
func current(ctx context.Context, s bot.Store, since time.Time) ([]*Item, error) {
	out, err := indexedUnder(ctx, s, ixStatus+string(ItemOpen)+"\x00", ixStatus+string(ItemAwaiting)+"\x00")
	if err != nil {
		return nil, err
	}
	r := bot.Range{Prefix: ixDone, After: ixDone + timeKey(since), Limit: indexPage}
	if !since.After(time.Time{}) {
		r.After = ""
	}
	for {
		docs, err := bot.ScanDocs(ctx, s, CollItemIndex, r)
		if err != nil {
			return nil, err
		}
		items, err := decodeSummaries(docs)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if len(docs) < indexPage {
			break
		}
		r.After = docs[len(docs)-1].ID
	}
	slices.SortFunc(out, func(a, b *Item) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// tallyBoundary is the instant from which the figures at at read closed
// items one by one: the start of the UTC month holding the start of at's
// month in loc. Items closed before it are read from the tallies.
func tallyBoundary(at time.Time, loc *time.Location) time.Time {
	l := at.In(loc)
	start := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc).UTC()
	return time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// talliesBefore sums, per unit, scope's tallies (see tallyID) of the
// UTC months before boundary's.
func talliesBefore(ctx context.Context, s bot.Store, scope string, boundary time.Time) (map[string]Tally, error) {
	prefix := scope + "\x00"
	end := prefix + boundary.UTC().Format("2006-01")
	out := map[string]Tally{}
	r := bot.Range{Prefix: prefix, Limit: indexPage}
	for {
		ts, ids, err := bot.Records[Tally](s, CollItemTally).Scan(ctx, r)
		if err != nil {
			return nil, err
		}
		for i, t := range ts {
			if ids[i] >= end {
				return out, nil
			}
			sum := out[t.Unit]
			sum.Unit = t.Unit
			sum.Done += t.Done
			sum.Immediate += t.Immediate
			sum.PercentSum += t.PercentSum
			out[t.Unit] = sum
		}
		if len(ts) < indexPage {
			return out, nil
		}
		r.After = ids[len(ids)-1]
	}
}

// figuresAt computes the figures of Figures at at from the tallies of
// the items closed before at's month and the summaries of the others:
// it reads the open items and those closed lately, not every item. It
// returns those summaries too.
func figuresAt(ctx context.Context, s bot.Store, r *bot.Roster, m *ProgressMonth, at time.Time, loc *time.Location) ([]OrgFigures, OrgFigures, []*Item, error) {
	boundary := tallyBoundary(at, loc)
	tallies, err := talliesBefore(ctx, s, "", boundary)
	if err != nil {
		return nil, OrgFigures{}, nil, err
	}
	items, err := current(ctx, s, boundary)
	if err != nil {
		return nil, OrgFigures{}, nil, err
	}
	orgs, total := figures(r, items, tallies, m, at, loc)
	return orgs, total, items, nil
}

// itemPage is one page of a list of items, newest first.
type itemPage struct {
	items []*Item
	next  string // the id to continue after; "" when this is the last page
}

// pageIndexed returns up to n summaries under prefixes, newest (greatest
// id) first, after the item id after ("" = from the newest), each item
// once, keeping only those keep accepts. It reads each prefix a page at
// a time and stops as soon as it has n+1.
func pageIndexed(ctx context.Context, s bot.Store, prefixes []string, after string, n int, keep func(*Item) bool) (itemPage, error) {
	type stream struct {
		prefix string
		buf    []*Item
		after  string
		done   bool
	}
	streams := make([]*stream, len(prefixes))
	for i, p := range prefixes {
		streams[i] = &stream{prefix: p}
		if after != "" {
			streams[i].after = p + after
		}
	}
	fill := func(st *stream) error {
		if len(st.buf) > 0 || st.done {
			return nil
		}
		lim := max(n+1, 20)
		docs, err := bot.ScanDocs(ctx, s, CollItemIndex, bot.Range{Prefix: st.prefix, After: st.after, Limit: lim, Reverse: true})
		if err != nil {
			return err
		}
		if len(docs) < lim {
			st.done = true
		}
		if len(docs) > 0 {
			st.after = docs[len(docs)-1].ID
		}
		st.buf, err = decodeSummaries(docs)
		return err
	}
	var out []*Item
	last := ""
	for len(out) <= n {
		var best *stream
		for _, st := range streams {
			if err := fill(st); err != nil {
				return itemPage{}, err
			}
			if len(st.buf) > 0 && (best == nil || st.buf[0].ID > best.buf[0].ID) {
				best = st
			}
		}
		if best == nil {
			break
		}
		it := best.buf[0]
		best.buf = best.buf[1:]
		if it.ID == last {
			continue
		}
		last = it.ID
		if keep == nil || keep(it) {
			out = append(out, it)
		}
	}
	p := itemPage{items: out}
	if len(out) > n {
		p.items = out[:n]
		p.next = out[n-1].ID
	}
	return p, nil
}

// indexMarker is the document (in collection "meta") saying how far
// BackfillIndex got.
const (
	collMeta    = "meta"
	indexMarker = "progress_index"
)

type indexProgress struct {
	After   string `json:"after"`             // the last item id indexed
	Tallied bool   `json:"tallied,omitempty"` // the tallies were rebuilt after the last item
}

// BackfillIndex writes the index documents, title keys and tallies of
// the items, and the period index of the relay checks, stored by a
// version without them, a page of items per unit
// of work with a marker of how far it got, so that a later call (every
// start-up, and xunji migrate) reads nothing but the marker. Writing an
// item's index documents again is harmless; the tallies are rebuilt
// from the closed items' index once every item is indexed, so an
// interrupted run counts nothing twice. It returns how many items it
// indexed.
func BackfillIndex(ctx context.Context, b *bot.Bot) (int, error) {
	var prog indexProgress
	meta := bot.Records[indexProgress](b.Store, collMeta)
	switch p, err := meta.Get(ctx, indexMarker); {
	case err == nil:
		prog = *p
	case !bot.IsNotFound(err):
		return 0, err
	}
	if prog.Tallied {
		return 0, nil
	}
	n := 0
	for {
		var got int
		err := b.RunUnit(ctx, func(ctx context.Context) error {
			items, ids, err := bot.Records[Item](b.Store, CollItems).Scan(ctx, bot.Range{After: prog.After, Limit: backfillPage})
			if err != nil {
				return err
			}
			got = len(items)
			for _, it := range items {
				if err := reindexOnly(ctx, b.Store, it); err != nil {
					return err
				}
			}
			p := prog
			if len(ids) > 0 {
				p.After = ids[len(ids)-1]
			}
			return meta.Put(ctx, indexMarker, &p)
		})
		if err != nil {
			return n, err
		}
		if got > 0 {
			n += got
			p, err := meta.Get(ctx, indexMarker)
			if err != nil {
				return n, err
			}
			prog = *p
		}
		if got < backfillPage {
			break
		}
	}
	return n, b.RunUnit(ctx, func(ctx context.Context) error {
		if err := rebuildTallies(ctx, b.Store); err != nil {
			return err
		}
		if err := indexChecks(ctx, b.Store); err != nil {
			return err
		}
		p := prog
		p.Tallied = true
		return meta.Put(ctx, indexMarker, &p)
	})
}

// reindexOnly writes it's index documents and title key, leaving the
// tallies to rebuildTallies.
func reindexOnly(ctx context.Context, s bot.Store, it *Item) error {
	doc, err := json.Marshal(it.indexed())
	if err != nil {
		return err
	}
	for _, k := range indexKeys(it) {
		if err := s.Put(ctx, CollItemIndex, k, doc); err != nil {
			return err
		}
	}
	if owner, err := titleOwner(ctx, s, it.Unit, it.Title); err != nil || owner != "" {
		return err
	}
	return bot.Records[titleDoc](s, CollItemTitles).Put(ctx, titleKey(it.Unit, it.Title), &titleDoc{ID: it.ID})
}

// rebuildTallies recomputes every tally from the closed items' index.
func rebuildTallies(ctx context.Context, s bot.Store) error {
	sums := map[string]Tally{}
	if err := eachIndexed(ctx, s, ixDone, func(it *Item) error {
		for id, t := range tallyOf(it) {
			sum := sums[id]
			sum.Unit = t.Unit
			sum.Done += t.Done
			sum.Immediate += t.Immediate
			sum.PercentSum += t.PercentSum
			sums[id] = sum
		}
		return nil
	}); err != nil {
		return err
	}
	c := bot.Records[Tally](s, CollItemTally)
	_, ids, err := c.Scan(ctx, bot.Range{})
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, ok := sums[id]; !ok {
			if err := s.Delete(ctx, CollItemTally, id); err != nil {
				return err
			}
		}
	}
	for id, t := range sums {
		if err := c.Put(ctx, id, &t); err != nil {
			return err
		}
	}
	return nil
}

// indexChecks writes the period index document of every relay check (a
// few a month).
func indexChecks(ctx context.Context, s bot.Store) error {
	r := bot.Range{Limit: indexPage}
	for {
		cs, ids, err := bot.Records[Check](s, CollProgressChecks).Scan(ctx, r)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if err := s.Put(ctx, CollCheckIndex, checkIndexKey(c), []byte("{}")); err != nil {
				return err
			}
		}
		if len(cs) < r.Limit {
			return nil
		}
		r.After = ids[len(ids)-1]
	}
}
