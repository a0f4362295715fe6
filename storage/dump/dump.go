// Package dump is the portable form of a store's contents: every
// document, counter and claim, whichever backend holds them. It is the
// format of a Redis backup, the currency of xunji migrate (bolt to
// Redis), and the comparison that verifies a copy.
//
// A dump is JSON lines: a header line, then one line per entry. JSON
// rather than Redis's DUMP/RESTORE payloads because those are tied to
// the RDB version of the server that made them (a newer server's payload
// is refused by an older one), cannot be read or checked without a
// server, and cannot move between prefixes or backends; the store's own
// model (documents in collections, counters, claims) is three kinds of
// line that every backend can write and read.
package dump

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Format names the file format in the header line.
const Format = "xunji-dump"

// Version is the format's version; Read refuses others.
const Version = 1

// Kind is what an entry holds.
type Kind string

// The kinds of entry.
const (
	KindDoc   Kind = "doc"   // a document: Coll, Key (its id), Data
	KindSeq   Kind = "seq"   // a counter: Key (its name), Value
	KindClaim Kind = "claim" // a claim: Key, Value = milliseconds left (0: no expiry)
)

// Entry is one document, counter or claim.
type Entry struct {
	Kind  Kind   `json:"kind"`
	Coll  string `json:"coll,omitempty"`
	Key   string `json:"key"`
	Data  []byte `json:"data,omitempty"`
	Value int64  `json:"value,omitempty"`
}

// Header is the first line of a dump.
type Header struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Source  string    `json:"source"`           // "redis" or "bolt"
	Prefix  string    `json:"prefix,omitempty"` // the Redis key prefix it was read under
	Created time.Time `json:"created"`
}

// Write writes h and entries as JSON lines.
func Write(w io.Writer, h Header, entries []Entry) error {
	h.Format, h.Version = Format, Version
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(h); err != nil {
		return err
	}
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ErrNotDump is returned by Read for input that is not a dump.
var ErrNotDump = errors.New("dump: not an xunji dump (no xunji-dump header line)")

// Read reads a dump written by Write.
func Read(r io.Reader) (Header, []Entry, error) {
	dec := json.NewDecoder(r)
	var h Header
	if err := dec.Decode(&h); err != nil || h.Format != Format {
		return h, nil, ErrNotDump
	}
	if h.Version != Version {
		return h, nil, fmt.Errorf("dump: version %d, this xunji reads version %d", h.Version, Version)
	}
	var out []Entry
	for {
		var e Entry
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			return h, out, nil
		}
		if err != nil {
			return h, nil, fmt.Errorf("dump: entry %d: %w", len(out)+1, err)
		}
		switch e.Kind {
		case KindDoc, KindSeq, KindClaim:
		default:
			return h, nil, fmt.Errorf("dump: entry %d: unknown kind %q", len(out)+1, e.Kind)
		}
		out = append(out, e)
	}
}

// IsDump reports whether the start of a file is a dump's header line
// (a bbolt file starts with binary page headers instead).
func IsDump(head []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte(`{"format":"`+Format+`"`))
}

// Summary counts a dump's entries: documents per collection, counters,
// claims.
type Summary struct {
	Docs   map[string]int
	Seqs   int
	Claims int
}

// Summarize counts entries.
func Summarize(entries []Entry) Summary {
	s := Summary{Docs: map[string]int{}}
	for _, e := range entries {
		switch e.Kind {
		case KindDoc:
			s.Docs[e.Coll]++
		case KindSeq:
			s.Seqs++
		case KindClaim:
			s.Claims++
		}
	}
	return s
}

// String is one line: "clues 3, items 5, …; 4 counters; 2 claims".
func (s Summary) String() string {
	colls := make([]string, 0, len(s.Docs))
	for c := range s.Docs {
		colls = append(colls, c)
	}
	slices.Sort(colls)
	var parts []string
	total := 0
	for _, c := range colls {
		parts = append(parts, fmt.Sprintf("%s %d", c, s.Docs[c]))
		total += s.Docs[c]
	}
	return fmt.Sprintf("%d documents (%s); %d counters; %d claims", total, strings.Join(parts, ", "), s.Seqs, s.Claims)
}

// Compare checks that got holds what want holds: the same documents with
// the same bytes, the same counters with the same values, nothing more
// of either; and every claim of want that had more than elapsed left
// (a shorter one may have expired since, which is what it is for). It
// returns the differences, at most limit of them, in a stable order.
func Compare(want, got []Entry, elapsed time.Duration, limit int) []string {
	type id struct {
		kind      Kind
		coll, key string
	}
	have := make(map[id]Entry, len(got))
	for _, e := range got {
		have[id{e.Kind, e.Coll, e.Key}] = e
	}
	var diffs []string
	add := func(format string, args ...any) {
		if len(diffs) < limit {
			diffs = append(diffs, fmt.Sprintf(format, args...))
		}
	}
	seen := make(map[id]bool, len(want))
	for _, w := range want {
		k := id{w.Kind, w.Coll, w.Key}
		seen[k] = true
		g, ok := have[k]
		switch w.Kind {
		case KindDoc:
			if !ok {
				add("document %s/%s missing", w.Coll, w.Key)
			} else if !bytes.Equal(w.Data, g.Data) {
				add("document %s/%s differs", w.Coll, w.Key)
			}
		case KindSeq:
			if !ok {
				add("counter %s missing", w.Key)
			} else if w.Value != g.Value {
				add("counter %s is %d, want %d", w.Key, g.Value, w.Value)
			}
		case KindClaim:
			if !ok && (w.Value == 0 || time.Duration(w.Value)*time.Millisecond > elapsed) {
				add("claim %s missing", w.Key)
			}
		}
	}
	for _, g := range got {
		k := id{g.Kind, g.Coll, g.Key}
		if seen[k] {
			continue
		}
		switch g.Kind {
		case KindDoc:
			add("document %s/%s not in the source", g.Coll, g.Key)
		case KindSeq:
			add("counter %s not in the source", g.Key)
		}
	}
	return diffs
}
