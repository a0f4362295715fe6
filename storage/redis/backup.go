package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/storage/dump"
)

// exportPageScript reads one page of the keys matching ARGV[2] (the
// prefix as a glob): SCAN from cursor ARGV[1] with COUNT ARGV[3], and
// each string key's value and time to live. Reply: the next cursor, then
// key, value, PTTL, repeated. A page of exportPage keys holds the server
// for about a millisecond; the index sets are not read (they are derived
// from the documents and rebuilt on import).
var exportPageScript = newScript(`
local r = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', tonumber(ARGV[3]))
local out = {r[1]}
for _, k in ipairs(r[2]) do
	if redis.call('TYPE', k)['ok'] == 'string' then
		out[#out+1] = k
		out[#out+1] = redis.call('GET', k)
		out[#out+1] = redis.call('PTTL', k)
	end
end
return out
`)

const (
	// exportPage is the SCAN COUNT of one page of Export: about 1 ms of
	// the server's time, during which it serves no other client.
	exportPage = 200
	// exportAttempts bounds how often Export reads the prefix again
	// because a record changed while it read.
	exportAttempts = 5
)

// ErrKeptChanging is the cause of Export's error when records changed
// during every one of its attempts.
var ErrKeptChanging = errors.New("redis export: records changed during every attempt; try again when the bot is quieter")

// Export returns every document, counter and claim under the store's
// prefix. Other keys under the prefix (the index sets, the replication
// marker, the write generation, locks) are left out.
//
// It reads the prefix a page at a time (exportPageScript), so the
// server never stops serving the bot for longer than a page, however
// big the store — one script over a million keys held it for 5.6 s. The
// copy is still of one moment for the records: every write of a record
// (a unit of work's commit, Create, Put, Delete, Update) increments the
// prefix's write generation in the same step, and Export keeps its
// pages only when the generation it read before the first page is the
// one after the last, so no record changed in between (and SCAN then
// returned each record key, which existed throughout, at least once).
// Otherwise it reads again, at most exportAttempts times. Claims and
// inbox entries are not records (a dedupe claim taken, a request
// accepted or a lease renewed meanwhile does not count): the copy holds
// them as they were at some moment of the read.
func (s *Store) Export(ctx context.Context) ([]dump.Entry, error) {
	for range exportAttempts {
		before, err := s.generation(ctx)
		if err != nil {
			return nil, err
		}
		raw, err := s.exportPages(ctx)
		if err != nil {
			return nil, err
		}
		after, err := s.generation(ctx)
		if err != nil {
			return nil, err
		}
		if before == after {
			return s.entries(raw)
		}
	}
	return nil, &bot.Error{Code: bot.EUNAVAILABLE, Err: ErrKeptChanging}
}

// generation reads the prefix's write generation (0 before any write).
func (s *Store) generation(ctx context.Context) (int64, error) {
	n, err := s.c.Get(ctx, s.genKey()).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, mapErr(err)
}

func (s *Store) genKey() string { return s.prefix + "gen" }

// exportPages reads every page of the prefix (exportPageScript): key,
// value, PTTL, repeated.
func (s *Store) exportPages(ctx context.Context) ([]any, error) {
	var raw []any
	cursor := "0"
	for {
		page, err := s.eval(ctx, exportPageScript, nil, cursor, globEscape(s.prefix)+"*", exportPage).Slice()
		if err != nil {
			return nil, mapErr(err)
		}
		if len(page) == 0 || (len(page)-1)%3 != 0 {
			return nil, fmt.Errorf("redis export: a page of %d items is not a cursor and key/value/ttl triples", len(page))
		}
		next, _ := page[0].(string)
		raw = append(raw, page[1:]...)
		if s.exportPageHook != nil {
			s.exportPageHook()
		}
		if next == "0" || next == "" {
			return raw, nil
		}
		cursor = next
	}
}

// entries turns Export's triples into dump entries.
func (s *Store) entries(raw []any) ([]dump.Entry, error) {
	out := make([]dump.Entry, 0, len(raw)/3)
	seen := make(map[string]bool, len(raw)/3) // SCAN may return a key twice
	for i := 0; i < len(raw); i += 3 {
		key, _ := raw[i].(string)
		val, _ := raw[i+1].(string)
		ttl, _ := raw[i+2].(int64)
		if seen[key] {
			continue
		}
		seen[key] = true
		rest, ok := strings.CutPrefix(key, s.prefix)
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(rest, "doc:"):
			coll, id, ok := strings.Cut(strings.TrimPrefix(rest, "doc:"), ":")
			if !ok || ttl > 0 {
				// An expiring document (bot.DocExpirer) is bookkeeping for a
				// while, not a record: left out, as the bolt backup does.
				continue
			}
			out = append(out, dump.Entry{Kind: dump.KindDoc, Coll: coll, Key: id, Data: []byte(val)})
		case strings.HasPrefix(rest, "seq:"):
			var n int64
			if _, err := fmt.Sscan(val, &n); err != nil {
				return nil, fmt.Errorf("redis export: counter %s holds %q", key, val)
			}
			out = append(out, dump.Entry{Kind: dump.KindSeq, Key: strings.TrimPrefix(rest, "seq:"), Value: n})
		case strings.HasPrefix(rest, "claim:") && val != claimValue:
			// An inbox entry, kept at its claim's key (see the package
			// documentation): a request still to be handled.
			out = append(out, dump.Entry{Kind: dump.KindDoc, Coll: bot.CollInbox, Key: strings.TrimPrefix(rest, "claim:"), Data: []byte(val)})
		case strings.HasPrefix(rest, "claim:"):
			out = append(out, dump.Entry{Kind: dump.KindClaim, Key: strings.TrimPrefix(rest, "claim:"), Value: max(ttl, 0)})
		}
	}
	return out, nil
}

// importChunk bounds the commands per pipelined round trip of Import.
const importChunk = 500

// Import writes entries under the store's prefix: each document with its
// index entry, each counter, each claim with the time it had left. It
// does not check that the store is empty (see Empty) and is not atomic:
// a failed import leaves part of the entries, which another Import of
// the same entries completes.
func (s *Store) Import(ctx context.Context, entries []dump.Entry) error {
	for _, e := range entries {
		if e.Kind == dump.KindDoc {
			if err := checkColl(e.Coll); err != nil {
				return err
			}
		}
	}
	for start := 0; start < len(entries); start += importChunk {
		chunk := entries[start:min(start+importChunk, len(entries))]
		_, err := s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, e := range chunk {
				switch e.Kind {
				case dump.KindDoc:
					p.Set(ctx, s.docKey(e.Coll, e.Key), e.Data, 0)
					p.ZAdd(ctx, s.idxKey(e.Coll), redis.Z{Member: e.Key})
				case dump.KindSeq:
					p.Set(ctx, s.seqKey(e.Key), e.Value, 0)
				case dump.KindClaim:
					if e.Value > 0 {
						p.Do(ctx, "set", s.claimKey(e.Key), 1, "px", e.Value)
					} else {
						p.Set(ctx, s.claimKey(e.Key), 1, 0)
					}
				}
			}
			return nil
		})
		if err != nil {
			return mapErr(err)
		}
	}
	if s.replicas > 0 {
		return s.confirmed(s.c.Do(ctx, "wait", s.replicas, s.wait.Milliseconds()))
	}
	return nil
}

// Empty reports whether no key at all exists under the store's prefix.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var cursor uint64
	for {
		keys, next, err := s.c.Scan(ctx, cursor, globEscape(s.prefix)+"*", 1000).Result()
		if err != nil {
			return false, mapErr(err)
		}
		if len(keys) > 0 {
			return false, nil
		}
		if next == 0 {
			return true, nil
		}
		cursor = next
	}
}

// globEscape escapes the glob characters of MATCH patterns.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// DeleteAll deletes every key under the store's prefix (restore -force).
func (s *Store) DeleteAll(ctx context.Context) error {
	var cursor uint64
	for {
		keys, next, err := s.c.Scan(ctx, cursor, globEscape(s.prefix)+"*", 1000).Result()
		if err != nil {
			return mapErr(err)
		}
		if len(keys) > 0 {
			// UNLINK frees the values in the background: DEL of a big
			// collection's index would hold the server while it frees.
			if err := s.c.Unlink(ctx, keys...).Err(); err != nil {
				return mapErr(err)
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
