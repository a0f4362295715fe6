package redis

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/storage/dump"
)

// exportScript reads every string key matching ARGV[1] (the prefix as a
// glob), its value and its time to live, in one script run: Redis runs
// a script alone, so the result is a point-in-time copy even while
// xunji processes write, at the price of holding the server for the time
// it takes (a district's records, a few MB, in milliseconds). The index
// sets are not read: they are derived from the documents and rebuilt on
// import. Reply: key, value, PTTL, repeated.
var exportScript = newScript(`
local out = {}
local cursor = '0'
repeat
	local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
	cursor = r[1]
	for _, k in ipairs(r[2]) do
		if redis.call('TYPE', k)['ok'] == 'string' then
			out[#out+1] = k
			out[#out+1] = redis.call('GET', k)
			out[#out+1] = redis.call('PTTL', k)
		end
	end
until cursor == '0'
return out
`)

// Export returns every document, counter and claim under the store's
// prefix, read atomically (see exportScript). Other keys under the
// prefix (the index sets, the replication marker, locks) are left out.
func (s *Store) Export(ctx context.Context) ([]dump.Entry, error) {
	raw, err := s.eval(ctx, exportScript, nil, globEscape(s.prefix)+"*").Slice()
	if err != nil {
		return nil, mapErr(err)
	}
	if len(raw)%3 != 0 {
		return nil, fmt.Errorf("redis export: a reply of %d items is not key/value/ttl triples", len(raw))
	}
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
