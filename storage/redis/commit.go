package redis

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/bot"
)

var _ bot.TxStore = (*Store)(nil)

// commitScript is TxStore.Commit: it checks what a unit of work read and,
// when all of it still holds, applies the unit's writes, in one atomic
// step (a script runs alone on the server). ARGV[1] is the number of
// checks, each three values (kind, key index, expected), then the number
// of writes, each five (kind, key index, index key index, value, member).
// KEYS[1] is the store's write generation, incremented by a commit that
// writes (see Export).
//
// Checks: 'd' a document, expected '-' absent, '*' present, otherwise the
// SHA-1 of its value; 'e' the same for an inbox entry, whose key holding
// a claim counts as absent; 's' a counter, expected its value ('0' unset);
// 'c' a claim, expected '0' not held.
// Writes: 'p' put a document and index it; 'x' delete a document and
// unindex it; 's' set a counter; 'c' claim for value ms; 'r' release a
// claim.
var commitScript = newScript(`
local n = tonumber(ARGV[1])
local a = 2
for i = 1, n do
	local kind, key, want = ARGV[a], KEYS[tonumber(ARGV[a+1])], ARGV[a+2]
	a = a + 3
	if kind == 'd' or kind == 'e' then
		local cur = redis.call('GET', key)
		if kind == 'e' and cur == '` + claimValue + `' then cur = false end
		if want == '-' then
			if cur then return 0 end
		elseif not cur then
			return 0
		elseif want ~= '*' and redis.sha1hex(cur) ~= want then
			return 0
		end
	elseif kind == 's' then
		local cur = redis.call('GET', key) or '0'
		if cur ~= want then return 0 end
	elseif kind == 'c' then
		if redis.call('EXISTS', key) == 1 then return 0 end
	end
end
local m = tonumber(ARGV[a])
a = a + 1
if m > 0 then redis.call('INCR', KEYS[1]) end
for i = 1, m do
	local kind, key, idx, val, member = ARGV[a], KEYS[tonumber(ARGV[a+1])], tonumber(ARGV[a+2]), ARGV[a+3], ARGV[a+4]
	a = a + 5
	if kind == 'p' then
		redis.call('SET', key, val)
		redis.call('ZADD', KEYS[idx], 0, member)
	elseif kind == 'x' then
		redis.call('DEL', key)
		redis.call('ZREM', KEYS[idx], member)
	elseif kind == 's' then
		redis.call('SET', key, val)
	elseif kind == 'c' then
		redis.call('SET', key, 1, 'PX', val)
	elseif kind == 'r' then
		redis.call('DEL', key)
	end
end
return 1
`)

// Commit implements bot.TxStore in one script run, through the automatic
// pipeline (it is on every request's path). ECONFLICT when a value the
// unit read has changed.
func (s *Store) Commit(ctx context.Context, c *bot.Commit) error {
	keys := []string{s.genKey()} // KEYS[1]: the write generation (see Export)
	index := map[string]int{s.genKey(): 1}
	key := func(k string) int {
		if i, ok := index[k]; ok {
			return i
		}
		keys = append(keys, k)
		index[k] = len(keys)
		return len(keys)
	}
	args := make([]any, 0, 2+3*len(c.Expects)+5*len(c.Writes))
	args = append(args, len(c.Expects))
	for _, e := range c.Expects {
		switch e.Kind {
		case bot.ExpectDoc:
			if err := checkColl(e.Coll); err != nil {
				return err
			}
			want := "-"
			switch {
			case e.Exists && e.Any:
				want = "*"
			case e.Exists:
				sum := sha1.Sum(e.Doc)
				want = hex.EncodeToString(sum[:])
			}
			kind := "d"
			if e.Coll == bot.CollInbox {
				kind = "e"
			}
			args = append(args, kind, key(s.docKey(e.Coll, e.ID)), want)
		case bot.ExpectSeq:
			args = append(args, "s", key(s.seqKey(e.Name)), strconv.FormatInt(e.Seq, 10))
		case bot.ExpectClaim:
			if e.Exists {
				return errors.New("redis: commit: only the absence of a claim can be expected")
			}
			args = append(args, "c", key(s.claimKey(e.Name)), "0")
		default:
			return errors.New("redis: commit: unknown expectation")
		}
	}
	args = append(args, len(c.Writes))
	for _, w := range c.Writes {
		switch w.Kind {
		case bot.WritePut, bot.WriteDelete:
			if err := checkColl(w.Coll); err != nil {
				return err
			}
			kind, val := "p", any(w.Doc)
			if w.Kind == bot.WriteDelete {
				kind, val = "x", ""
			}
			args = append(args, kind, key(s.docKey(w.Coll, w.ID)), key(s.idxKey(w.Coll)), val, w.ID)
		case bot.WriteSeq:
			args = append(args, "s", key(s.seqKey(w.Name)), 0, w.Seq, "")
		case bot.WriteClaim:
			args = append(args, "c", key(s.claimKey(w.Name)), 0, ms(w.TTL), "")
		case bot.WriteDeleteClaim:
			args = append(args, "r", key(s.claimKey(w.Name)), 0, "", "")
		default:
			return errors.New("redis: commit: unknown write")
		}
	}
	n, err := s.evalReplicated(ctx, commitScript, keys, args...).Int()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return &bot.Error{Code: bot.ECONFLICT, Err: errors.New("redis: unit of work: a value read has changed")}
	}
	return nil
}

// ReadSeq implements bot.TxStore.
func (s *Store) ReadSeq(ctx context.Context, name string) (int64, error) {
	cmd := redis.NewStringCmd(ctx, "get", s.seqKey(name))
	if err := s.do(ctx, cmd); err != nil {
		return 0, mapErr(err)
	}
	v, err := cmd.Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return v, mapErr(err)
}

// ClaimHeld implements bot.TxStore.
func (s *Store) ClaimHeld(ctx context.Context, key string) (bool, error) {
	cmd := redis.NewIntCmd(ctx, "exists", s.claimKey(key))
	if err := s.do(ctx, cmd); err != nil {
		return false, mapErr(err)
	}
	n, err := cmd.Result()
	return n == 1, mapErr(err)
}

func (s *Store) seqKey(name string) string { return s.prefix + "seq:" + name }
