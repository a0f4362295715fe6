// Package redis implements bot.Store on a Redis server, so several xunji
// processes can share state. Layout, under a configurable key prefix:
//
//	{prefix}doc:{coll}:{id}  string   the JSON document
//	{prefix}idx:{coll}       zset     ids of coll, all with score 0 so they
//	                                  sort bytewise (List order)
//	{prefix}seq:{name}       string   NextSeq counter (INCR)
//	{prefix}claim:{key}      string   Claim marker ("1") with a PX expiry
//	{prefix}claim:{id}       string   an inbox entry (bot.CollInbox), see below
//	{prefix}gen              string   write generation: incremented by every
//	                                  write of a record (see Export)
//
// The durable inbox's entries live in the claims' keyspace: the document
// inbox/{id} is kept at the key of claim {id}. The inbox names a
// platform event's entry after the event's dedupe claim (bot.InboxOp:
// Claim == ID), so the entry and the claim are one key: while the event
// waits it holds the entry, once handled the claim ("1", with the dedupe
// TTL) that replaces it in the same step. Accepting an event is then one
// SET NX of that key and one ZADD of its id — two plain commands, where
// a script taking a claim and storing an entry under two keys costs
// Redis three to four times as much (each script run carries a fixed
// cost of about as much again as its commands). A key holding a claim
// is no inbox document: Get, List, Scan and the unit of work's checks
// see it as absent, and an Enqueue of its id is refused.
//
// Multi-key writes use MULTI or a Lua script, so a single Redis node (or a
// Sentinel-managed primary) is required; Redis Cluster is not supported.
//
// The reads (Get, List) and the durable inbox's two steps (Enqueue,
// Dequeue), which every platform event takes, go through go-redis's
// automatic pipelining: commands that many goroutines issue at the same
// time share one write and one read on one connection, instead of a round
// trip each; under load that is most of the cost of a request's store
// work, on both sides. A pipelined command runs even if its caller
// stopped waiting (go-redis does not honour a queued command's context),
// which is harmless for those: a late read is dropped, and a late inbox
// step leaves what recovery and the platform's retry expect. Every other
// write (records, counters, claims) uses the plain client, which gives a
// command up with its caller's context: a write the user was told failed
// must not land seconds later, when Redis is back.
package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/bot"
)

// DefaultPrefix is the key prefix used unless WithPrefix says otherwise.
const DefaultPrefix = "xunji:"

const (
	// maxUpdateAttempts bounds optimistic retries of Update before it gives
	// up with ECONFLICT; with the jittered backoff that is seconds of
	// sustained contention on one document.
	maxUpdateAttempts = 100
	// maxBackoff caps the jittered pause between Update attempts.
	maxBackoff = 20 * time.Millisecond
	// mgetChunk bounds the keys per MGET: documents of a few kilobytes
	// (an index document carrying a record's row) make a reply of 500 of
	// them take milliseconds of the server's time, during which it serves
	// no other client; 100 keep each command well under a millisecond.
	mgetChunk = 100
	// listPage bounds the ids List reads from a collection's index per
	// command: 500 ids and their documents (MGET) take well under a
	// millisecond of the server's time, however big the collection.
	listPage = 500
)

// createScript creates the document only if absent and indexes it in the
// same atomic step. KEYS: doc, idx, write generation (see Export).
// ARGV: document, id.
var createScript = newScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
	redis.call('ZADD', KEYS[2], 0, ARGV[2])
	redis.call('INCR', KEYS[3])
	return 1
end
return 0
`)

// putScript writes the document and indexes it. KEYS: doc, idx, write
// generation. ARGV: document, id.
var putScript = newScript(`
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
redis.call('INCR', KEYS[3])
return 1
`)

// deleteScript removes the document and its index entry. KEYS: doc, idx,
// write generation. ARGV: id.
var deleteScript = newScript(`
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('INCR', KEYS[3])
return 1
`)

// enqueueScript is InboxStore.Enqueue. KEYS: doc, idx, claim, lease,
// replication marker. ARGV: document, id, claim TTL in ms, lease TTL in
// ms (a TTL of 0 means that claim is not checked or taken: its key is
// then a placeholder), 1 when a duplicate must write the marker.
//
// The claim is taken first, with SET NX, rather than checked with EXISTS
// and set last: one call fewer on every acceptance (each call in a
// script costs Redis about as much again as the command itself). The
// rare acceptance that finds the document there although the claim was
// free (an entry older than its claim) gives the claim back.
var enqueueScript = newScript(`
if ARGV[3] ~= '0' and not redis.call('SET', KEYS[3], 1, 'NX', 'PX', ARGV[3]) then
	if ARGV[5] == '1' then redis.call('SET', KEYS[5], 1) end
	return 0
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then
	if ARGV[3] ~= '0' then redis.call('DEL', KEYS[3]) end
	if ARGV[5] == '1' then redis.call('SET', KEYS[5], 1) end
	return 0
end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
if ARGV[4] ~= '0' then
	redis.call('SET', KEYS[4], 1, 'PX', ARGV[4])
end
return 1
`)

// dequeueScript is InboxStore.Dequeue. KEYS: doc, idx, claim, lease.
// ARGV: id, claim TTL in ms (0: no claim; its key is then a placeholder).
var dequeueScript = newScript(`
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[2] ~= '0' then
	redis.call('SET', KEYS[3], 1, 'PX', ARGV[2])
end
return 1
`)

// Store is a bot.Store backed by Redis.
type Store struct {
	c        *redis.Client
	ap       *redis.AutoPipeliner
	prefix   string
	replicas int
	wait     time.Duration
	// exportPageHook, when set (tests), runs after each page Export reads.
	exportPageHook func()
}

var (
	_ bot.Store      = (*Store)(nil)
	_ bot.InboxStore = (*Store)(nil)
	_ bot.Scanner    = (*Store)(nil)
)

// Option configures a Store.
type Option func(*config)

type config struct {
	prefix     string
	clientOpts []func(*redis.Options)
	replicas   int
	wait       time.Duration
}

// WithReplicas makes the inbox's acceptance and every unit of work's
// commit wait until n replicas have the write (Redis WAIT, at most
// timeout); a write not replicated in time is reported unavailable, so
// the platform retries the event and the user tries again. With
// replication being asynchronous, that is what keeps an acknowledged
// event or a confirmed change across a failover to a replica (Sentinel).
// n = 0, the default, does not wait.
func WithReplicas(n int, timeout time.Duration) Option {
	return func(c *config) { c.replicas, c.wait = n, timeout }
}

// WithPrefix sets the prefix of every key the store uses (default
// DefaultPrefix), so deployments and tests can share one server.
func WithPrefix(p string) Option {
	return func(c *config) { c.prefix = p }
}

// WithClientOptions adjusts the client options parsed from the URL (for
// example timeouts) before the client is created. It has no effect on New.
func WithClientOptions(fn func(*redis.Options)) Option {
	return func(c *config) { c.clientOpts = append(c.clientOpts, fn) }
}

// Open connects to the server at url (redis://[user:password@]host:port/db,
// rediss:// for TLS, see redis.ParseURL) and pings it, so a wrong address
// fails at startup with an EUNAVAILABLE error rather than on first use.
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	cfg := newConfig(opts)
	var c *redis.Client
	if strings.Contains(url, "master_name=") {
		// A Sentinel deployment: the URL names the sentinels and the
		// primary's name; the client follows failovers.
		fo, err := redis.ParseFailoverURL(url)
		if err != nil {
			return nil, fmt.Errorf("redis store: sentinel URL: %w", err)
		}
		c = redis.NewFailoverClient(fo)
	} else {
		ro, err := redis.ParseURL(url)
		if err != nil {
			// The URL may hold a password; ParseURL's errors do not echo it.
			return nil, fmt.Errorf("redis store: %w (a Sentinel deployment is named by redis://[:password@]sentinel:26379?master_name=NAME&addr=sentinel2:26379…)", err)
		}
		for _, fn := range cfg.clientOpts {
			fn(ro)
		}
		c = redis.NewClient(ro)
	}
	s, err := newStore(c, cfg.prefix)
	if err != nil {
		return nil, err
	}
	s.replicas, s.wait = cfg.replicas, cfg.wait
	if err := s.Ping(ctx); err != nil {
		_ = s.c.Close()
		return nil, err
	}
	if err := s.refuseCluster(ctx); err != nil {
		_ = s.c.Close()
		return nil, err
	}
	if err := s.moveInboxEntries(ctx); err != nil {
		_ = s.c.Close()
		return nil, err
	}
	return s, nil
}

// moveInboxScript moves the inbox entries ARGV (their old keys KEYS[i],
// new keys KEYS[n+i], n = #ARGV) that are still kept as documents to
// their claims' keys, unless a key is there already.
var moveInboxScript = newScript(`
local n = #ARGV
for i = 1, n do
	if redis.call('EXISTS', KEYS[i]) == 1 then
		redis.call('RENAMENX', KEYS[i], KEYS[n+i])
	end
end
return 1
`)

// moveInboxEntries moves the inbox entries an earlier version kept as
// documents ({prefix}doc:inbox:{id}) to where this one keeps them (the
// claim's key, see the package documentation), so that requests
// accepted before an upgrade are still handled after it. The inbox holds
// only requests in flight; it is read a page at a time all the same.
func (s *Store) moveInboxEntries(ctx context.Context) error {
	from := "-"
	for {
		ids, err := s.c.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.idxKey(bot.CollInbox), Start: from, Stop: "+", ByLex: true, Count: listPage}).Result()
		if err != nil {
			return mapErr(err)
		}
		if len(ids) == 0 {
			return nil
		}
		keys := make([]string, 0, 2*len(ids))
		args := make([]any, 0, len(ids))
		for _, id := range ids {
			keys = append(keys, s.prefix+"doc:"+bot.CollInbox+":"+id)
			args = append(args, id)
		}
		for _, id := range ids {
			keys = append(keys, s.claimKey(id))
		}
		if err := s.evalWrite(ctx, moveInboxScript, keys, args...).Err(); err != nil {
			return mapErr(err)
		}
		if len(ids) < listPage {
			return nil
		}
		from = "(" + ids[len(ids)-1]
	}
}

// ErrCluster is returned by Open for a server in Redis Cluster mode.
var ErrCluster = errors.New("redis store: this is a Redis Cluster node; xunji's atomic steps are scripts over several keys, which a cluster cannot run: use a standalone Redis (redis://host:6379/0) or a Sentinel deployment (redis://sentinel:26379?master_name=NAME&addr=sentinel2:26379)")

// refuseCluster fails when the server runs in cluster mode.
func (s *Store) refuseCluster(ctx context.Context) error {
	info, err := s.c.Info(ctx, "cluster").Result()
	if err != nil {
		return mapErr(err)
	}
	if strings.Contains(info, "cluster_enabled:1") {
		return ErrCluster
	}
	return nil
}

// New wraps an existing client without contacting the server. The Store
// takes ownership: Close closes the client.
func New(c *redis.Client, opts ...Option) (*Store, error) {
	return newStore(c, newConfig(opts).prefix)
}

func newStore(c *redis.Client, prefix string) (*Store, error) {
	// The deferred face, so that a caller's context bounds its wait (the
	// blocking face waits for the batch whatever the context). The
	// defaults keep one ordered stream: a batch in flight while the next
	// one gathers.
	ap, err := c.AsyncAutoPipeline()
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis store: %w", err)
	}
	return &Store{c: c, ap: ap, prefix: prefix}, nil
}

// do sends cmd through the automatic pipeline and waits for its answer or
// the end of ctx, whichever comes first. It returns an error only when
// ctx ended first (the command may still run, and cmd must not be read);
// otherwise the answer, error included, is in cmd.
func (s *Store) do(ctx context.Context, cmd redis.Cmder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.ap.Submit(ctx, cmd).WaitContext(ctx); err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// evalPipelined runs a script through the automatic pipeline: EVALSHA,
// and EVAL when the server does not have it (first use, or after a
// restart).
func (s *Store) evalPipelined(ctx context.Context, sc luaScript, keys []string, args ...any) *redis.Cmd {
	cmd := redis.NewCmd(ctx, evalArgs("evalsha", sc.hash, keys, args)...)
	if err := s.do(ctx, cmd); err != nil {
		return failed(ctx, err)
	}
	// Err first: HasErrorPrefix's errors.As inspects its target by
	// reflection even for a nil error, on every call.
	if err := cmd.Err(); err == nil || !redis.HasErrorPrefix(err, "NOSCRIPT") {
		return cmd
	}
	cmd = redis.NewCmd(ctx, evalArgs("eval", sc.src, keys, args)...)
	if err := s.do(ctx, cmd); err != nil {
		return failed(ctx, err)
	}
	return cmd
}

// ErrNotReplicated is the cause of the EUNAVAILABLE error of a write that
// did not reach the replicas WithReplicas asks for in time. The write
// may still stand (a replica was only slow) or be lost (a failover):
// the person is told so (error.unconfirmed), not that nothing was done.
var ErrNotReplicated = errors.New("redis: the write did not reach enough replicas in time")

// evalReplicated is evalPipelined, followed on the same connection by a
// WAIT for the replicas WithReplicas asks for.
func (s *Store) evalReplicated(ctx context.Context, sc luaScript, keys []string, args ...any) *redis.Cmd {
	if s.replicas == 0 {
		return s.evalPipelined(ctx, sc, keys, args...)
	}
	run := func(verb, script string) (*redis.Cmd, *redis.IntCmd) {
		var cmd *redis.Cmd
		var wait *redis.IntCmd
		_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			cmd = redis.NewCmd(ctx, evalArgs(verb, script, keys, args)...)
			_ = p.Process(ctx, cmd)
			wait = redis.NewIntCmd(ctx, "wait", s.replicas, s.wait.Milliseconds())
			_ = p.Process(ctx, wait)
			return nil
		})
		return cmd, wait
	}
	cmd, wait := run("evalsha", sc.hash)
	if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		cmd, wait = run("eval", sc.src)
	}
	if cmd.Err() != nil {
		return cmd
	}
	if n, err := wait.Result(); err != nil || n < int64(s.replicas) {
		return failed(ctx, &bot.Error{Code: bot.EUNAVAILABLE, Key: "error.unconfirmed", Err: errors.Join(ErrNotReplicated, err)})
	}
	return cmd
}

// evalWrite is eval, followed by a WAIT for replicas as evalReplicated.
func (s *Store) evalWrite(ctx context.Context, sc luaScript, keys []string, args ...any) *redis.Cmd {
	if s.replicas == 0 {
		return s.eval(ctx, sc, keys, args...)
	}
	return s.evalReplicated(ctx, sc, keys, args...)
}

// write runs cmd on the plain client and, with replicas to wait for,
// WAITs for them on the same connection. It returns an error only when
// the command could not run or was not confirmed; cmd holds its answer.
func (s *Store) write(ctx context.Context, cmd redis.Cmder) error {
	if s.replicas == 0 {
		_ = s.c.Process(ctx, cmd)
		return nil
	}
	var wait *redis.Cmd
	_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		_ = p.Process(ctx, cmd)
		wait = p.Do(ctx, "wait", s.replicas, s.wait.Milliseconds())
		return nil
	})
	if err := cmd.Err(); err != nil && !errors.Is(err, redis.Nil) {
		return nil // the command's own error, in cmd
	}
	return s.confirmed(wait)
}

// confirmed checks the answer of a WAIT for the replicas WithReplicas
// asks for.
func (s *Store) confirmed(wait *redis.Cmd) error {
	n, err := wait.Int64()
	if err != nil || n < int64(s.replicas) {
		return &bot.Error{Code: bot.EUNAVAILABLE, Key: "error.unconfirmed", Err: errors.Join(ErrNotReplicated, err)}
	}
	return nil
}

// eval runs a script on the plain client (EVALSHA, then EVAL).
func (s *Store) eval(ctx context.Context, sc luaScript, keys []string, args ...any) *redis.Cmd {
	return sc.script.Run(ctx, s.c, keys, args...)
}

// luaScript is a script, its source and its SHA-1 (the name EVALSHA
// uses).
type luaScript struct {
	script    *redis.Script
	src, hash string
}

func newScript(src string) luaScript {
	sc := redis.NewScript(src)
	return luaScript{script: sc, src: src, hash: sc.Hash()}
}

// failed is a command that did not run, with err as its result.
func failed(ctx context.Context, err error) *redis.Cmd {
	cmd := redis.NewCmd(ctx)
	cmd.SetErr(err)
	return cmd
}

func evalArgs(verb, script string, keys []string, args []any) []any {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, verb, script, len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	return append(a, args...)
}

func newConfig(opts []Option) config {
	cfg := config{prefix: DefaultPrefix}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// Client returns the underlying client, for features beyond bot.Store
// such as distributed locks. Keys used that way should start with Prefix.
func (s *Store) Client() *redis.Client { return s.c }

// Prefix returns the key prefix of this store.
func (s *Store) Prefix() string { return s.prefix }

// docKey is where document coll/id is kept: an inbox entry at the key of
// the claim of the same name (see the package documentation).
func (s *Store) docKey(coll, id string) string {
	if coll == bot.CollInbox {
		return s.claimKey(id)
	}
	return s.prefix + "doc:" + coll + ":" + id
}

func (s *Store) idxKey(coll string) string { return s.prefix + "idx:" + coll }

// claimValue is what a claim's key holds.
const claimValue = "1"

// isClaim reports whether v, read at document coll/id's key, is a claim
// rather than the document: an inbox entry replaced by its event's
// dedupe claim.
func isClaim(coll string, v []byte) bool {
	return coll == bot.CollInbox && string(v) == claimValue
}

// checkColl rejects collection names that would make doc keys ambiguous
// ("a:b"+"c" and "a"+"b:c" would share a key). Collections are fixed names
// in code, so this is a programming error (EINTERNAL).
func checkColl(coll string) error {
	if coll == "" || strings.Contains(coll, ":") {
		return fmt.Errorf("redis store: invalid collection name %q (empty or contains ':')", coll)
	}
	return nil
}

// Get returns the document coll/id, or an ENOTFOUND error.
func (s *Store) Get(ctx context.Context, coll, id string) ([]byte, error) {
	if err := checkColl(coll); err != nil {
		return nil, err
	}
	cmd := redis.NewStringCmd(ctx, "get", s.docKey(coll, id))
	if err := s.do(ctx, cmd); err != nil {
		return nil, mapErr(err)
	}
	doc, err := cmd.Bytes()
	if errors.Is(err, redis.Nil) || (err == nil && isClaim(coll, doc)) {
		return nil, bot.NotFound(coll, id)
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return doc, nil
}

// Create stores a new document; ECONFLICT if coll/id exists.
func (s *Store) Create(ctx context.Context, coll, id string, doc []byte) error {
	if err := checkColl(coll); err != nil {
		return err
	}
	n, err := s.evalWrite(ctx, createScript, []string{s.docKey(coll, id), s.idxKey(coll), s.genKey()}, doc, id).Int()
	if err != nil {
		return mapErr(err)
	}
	if n == 0 {
		return bot.Exists(coll, id)
	}
	return nil
}

// Update atomically replaces coll/id with fn(current) using optimistic
// concurrency: WATCH the document, read it, and write it back in
// MULTI/EXEC, which Redis refuses if anyone else wrote it meanwhile; then
// retry with jittered backoff, at most maxUpdateAttempts times before an
// ECONFLICT error. fn may therefore run more than once. An error from fn
// aborts the update and is returned unchanged.
func (s *Store) Update(ctx context.Context, coll, id string, fn func(current []byte) ([]byte, error)) error {
	if err := checkColl(coll); err != nil {
		return err
	}
	key := s.docKey(coll, id)
	for attempt := range maxUpdateAttempts {
		var fnErr error
		err := s.c.Watch(ctx, func(tx *redis.Tx) error {
			cur, err := tx.Get(ctx, key).Bytes()
			if errors.Is(err, redis.Nil) || (err == nil && isClaim(coll, cur)) {
				return bot.NotFound(coll, id)
			}
			if err != nil {
				return err
			}
			next, err := fn(cur)
			if err != nil {
				fnErr = err
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, next, 0)
				// Idempotent; repairs the index should it ever drift.
				p.ZAdd(ctx, s.idxKey(coll), redis.Z{Member: id})
				p.Incr(ctx, s.genKey()) // see Export
				return nil
			})
			if err == nil && s.replicas > 0 {
				err = s.confirmed(tx.Do(ctx, "wait", s.replicas, s.wait.Milliseconds()))
			}
			return err
		}, key)
		switch {
		case err == nil:
			return nil
		case fnErr != nil:
			return fnErr
		case !errors.Is(err, redis.TxFailedErr):
			return mapErr(err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return mapErr(err)
		}
	}
	return &bot.Error{
		Code: bot.ECONFLICT,
		Key:  "error.conflict",
		Args: []any{"id", id},
		Err:  fmt.Errorf("%s/%s: update gave up after %d conflicting attempts", coll, id, maxUpdateAttempts),
	}
}

// backoff waits a random time up to an exponentially growing cap, so
// contending writers spread out instead of colliding in lockstep.
func backoff(ctx context.Context, attempt int) error {
	limit := min(time.Millisecond<<min(attempt, 8), maxBackoff)
	t := time.NewTimer(rand.N(limit) + time.Microsecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Put stores a document whether or not it exists.
func (s *Store) Put(ctx context.Context, coll, id string, doc []byte) error {
	if err := checkColl(coll); err != nil {
		return err
	}
	return mapErr(s.evalWrite(ctx, putScript, []string{s.docKey(coll, id), s.idxKey(coll), s.genKey()}, doc, id).Err())
}

// Delete removes coll/id; deleting a missing document is not an error.
func (s *Store) Delete(ctx context.Context, coll, id string) error {
	if err := checkColl(coll); err != nil {
		return err
	}
	return mapErr(s.evalWrite(ctx, deleteScript, []string{s.docKey(coll, id), s.idxKey(coll), s.genKey()}, id).Err())
}

// List returns every document of coll in ascending id (byte) order. It is
// not a snapshot: a document deleted while the listing runs is left out,
// one created meanwhile may be in it. No command touches the whole
// collection: the index (ids at score 0, in byte order) is read page by
// page with ZRANGEBYLEX from the last id seen (O(log N + page) each, and
// a page is right whatever changed before it), and each page's documents
// with one MGET, so a big collection never holds the server for more than
// a page (see listPage).
func (s *Store) List(ctx context.Context, coll string) ([]bot.Doc, error) {
	if err := checkColl(coll); err != nil {
		return nil, err
	}
	var docs []bot.Doc
	from := "-"
	for {
		zr := redis.NewStringSliceCmd(ctx, "zrangebylex", s.idxKey(coll), from, "+", "limit", 0, listPage)
		if err := s.do(ctx, zr); err != nil {
			return nil, mapErr(err)
		}
		ids, err := zr.Result()
		if err != nil {
			return nil, mapErr(err)
		}
		if len(ids) == 0 {
			return docs, nil
		}
		got, err := s.mget(ctx, coll, ids)
		if err != nil {
			return nil, err
		}
		docs = append(docs, got...)
		if len(ids) < listPage {
			return docs, nil
		}
		from = "(" + ids[len(ids)-1]
	}
}

// scanPage bounds the ids one ZRANGE of Scan returns, so that a Scan
// without a limit is still a series of short commands.
const scanPage = 500

// Scan implements bot.Scanner on the collection's sorted set of ids (all
// scored 0, so ordered by id bytes): ZRANGE BYLEX [REV] LIMIT for the
// ids of the page, then MGET for their documents; each command costs the
// page, not the collection. A page is not a snapshot: a document deleted
// between the two commands is left out.
func (s *Store) Scan(ctx context.Context, coll string, r bot.Range) ([]bot.Doc, error) {
	if err := checkColl(coll); err != nil {
		return nil, err
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	var docs []bot.Doc
	after := r.After
	for {
		n := scanPage
		if r.Limit > 0 {
			n = min(n, r.Limit-len(docs))
		}
		ids, err := s.scanIDs(ctx, coll, r.Prefix, after, r.Reverse, n)
		if err != nil {
			return nil, err
		}
		page, err := s.mget(ctx, coll, ids)
		if err != nil {
			return nil, err
		}
		docs = append(docs, page...)
		if len(ids) < n || (r.Limit > 0 && len(docs) >= r.Limit) {
			return docs, nil
		}
		after = ids[len(ids)-1]
	}
}

// scanIDs returns up to n ids of coll with prefix, after after (before
// it when reverse), in order.
func (s *Store) scanIDs(ctx context.Context, coll, prefix, after string, reverse bool, n int) ([]string, error) {
	// Lexical bounds: "[x" inclusive, "(x" exclusive, "-" and "+" the ends.
	low := "-"
	if prefix != "" {
		low = "[" + prefix
	}
	high := "+"
	if end, ok := bot.PrefixEnd(prefix); ok {
		high = "(" + end
	}
	if after != "" {
		if reverse {
			if end, ok := bot.PrefixEnd(prefix); !ok || after < end {
				high = "(" + after
			}
		} else if after >= prefix {
			low = "(" + after
		}
	}
	args := []any{"zrange", s.idxKey(coll), low, high, "bylex"}
	if reverse {
		args = []any{"zrange", s.idxKey(coll), high, low, "bylex", "rev"}
	}
	args = append(args, "limit", 0, n)
	zr := redis.NewStringSliceCmd(ctx, args...)
	if err := s.do(ctx, zr); err != nil {
		return nil, mapErr(err)
	}
	ids, err := zr.Result()
	return ids, mapErr(err)
}

// mget returns the documents coll/ids that exist, in the order of ids.
func (s *Store) mget(ctx context.Context, coll string, ids []string) ([]bot.Doc, error) {
	docs := make([]bot.Doc, 0, len(ids))
	for chunk := range chunks(ids, mgetChunk) {
		args := make([]any, 0, 1+len(chunk))
		args = append(args, "mget")
		for _, id := range chunk {
			args = append(args, s.docKey(coll, id))
		}
		mg := redis.NewSliceCmd(ctx, args...)
		if err := s.do(ctx, mg); err != nil {
			return nil, mapErr(err)
		}
		vals, err := mg.Result()
		if err != nil {
			return nil, mapErr(err)
		}
		var handled []string
		for i, v := range vals {
			str, ok := v.(string)
			if !ok { // nil: deleted since ZRANGE
				continue
			}
			if isClaim(coll, []byte(str)) {
				handled = append(handled, chunk[i])
				continue
			}
			docs = append(docs, bot.Doc{ID: chunk[i], Data: []byte(str)})
		}
		if len(handled) > 0 {
			s.unindexHandled(ctx, handled)
		}
	}
	return docs, nil
}

// unindexHandledScript removes from the inbox's index (KEYS[1]) the ids
// ARGV whose keys (KEYS[2:]) still hold a claim. KEYS[i+1] is ARGV[i]'s.
var unindexHandledScript = newScript(`
for i, id in ipairs(ARGV) do
	if redis.call('GET', KEYS[i+1]) == '` + claimValue + `' then
		redis.call('ZREM', KEYS[1], id)
	end
end
return 1
`)

// unindexHandled takes out of the inbox's index the ids of handled
// events that a platform's late retry put back: Enqueue adds the id to
// the index whether or not the entry is new (two plain commands, not a
// script), and the entry's key then holds the event's claim. Only keys
// that still hold a claim when the script runs are taken out; a failure
// is left to the next listing.
func (s *Store) unindexHandled(ctx context.Context, ids []string) {
	keys := make([]string, 0, 1+len(ids))
	keys = append(keys, s.idxKey(bot.CollInbox))
	args := make([]any, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, s.claimKey(id))
		args = append(args, id)
	}
	_ = s.evalPipelined(ctx, unindexHandledScript, keys, args...).Err()
}

func chunks(s []string, n int) func(func([]string) bool) {
	return func(yield func([]string) bool) {
		for len(s) > 0 {
			c := s[:min(n, len(s))]
			s = s[len(c):]
			if !yield(c) {
				return
			}
		}
	}
}

// NextSeq atomically increments and returns the named counter, starting
// at 1 (INCR), shared by every process using the same prefix.
func (s *Store) NextSeq(ctx context.Context, name string) (int64, error) {
	cmd := redis.NewIntCmd(ctx, "incr", s.seqKey(name))
	if err := s.write(ctx, cmd); err != nil {
		return 0, mapErr(err)
	}
	n, err := cmd.Result()
	return n, mapErr(err)
}

// Claim records key as seen for ttl (at least a millisecond) with
// SET NX PX: true for the first claim, false while an unexpired claim
// exists. Redis drops the key at expiry.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	// Round up to whole milliseconds: PX has millisecond resolution, and a
	// zero expiry would mean "never expire".
	cmd := redis.NewStatusCmd(ctx, "set", s.claimKey(key), 1, "px", ms(ttl), "nx")
	if err := s.write(ctx, cmd); err != nil {
		return false, mapErr(err)
	}
	err := cmd.Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return err == nil, mapErr(err)
}

// Renew implements bot.ClaimRenewer with SET XX PX: the claim's expiry
// is moved to ttl from now only while the key exists (Redis has dropped
// an expired one).
func (s *Store) Renew(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	cmd := redis.NewStatusCmd(ctx, "set", s.claimKey(key), 1, "px", ms(ttl), "xx")
	if err := s.write(ctx, cmd); err != nil {
		return false, mapErr(err)
	}
	err := cmd.Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return err == nil, mapErr(err)
}

func (s *Store) claimKey(key string) string { return s.prefix + "claim:" + key }

// ms is a claim's TTL in whole milliseconds, rounded up to at least one:
// PX has millisecond resolution, and a zero expiry would mean "never".
func ms(ttl time.Duration) int64 {
	return int64((max(ttl, time.Millisecond) + time.Millisecond - 1) / time.Millisecond)
}

// Enqueue implements bot.InboxStore. An entry named by its own claim
// (op.Claim == op.ID, the inbox's platform events) or without a claim,
// taking no lease, is two plain commands sent together through the
// automatic pipeline: ZADD of its id to the index, then SET NX of its
// key, which is also the claim's (see the package documentation). The
// index comes first: should the second command not run, the index names
// a key that does not exist, which listings skip; the other way round an
// entry could exist that recovery never finds. Any other operation is
// one script.
func (s *Store) Enqueue(ctx context.Context, op bot.InboxOp) (bool, error) {
	if err := checkColl(op.Coll); err != nil {
		return false, err
	}
	if s.plainInbox(op) && op.Lease == "" {
		return s.enqueuePlain(ctx, op)
	}
	claim, lease := s.inboxClaims(op)
	// With replicas to wait for, a duplicate writes a marker (KEYS[5]):
	// the WAIT after it then also covers the earlier attempt's writes
	// that made it a duplicate, which that attempt could not confirm.
	n, err := s.evalReplicated(ctx, enqueueScript, []string{s.docKey(op.Coll, op.ID), s.idxKey(op.Coll), claim, lease, s.prefix + "replicated"},
		op.Doc, op.ID, ttlArg(op.Claim, op.ClaimTTL), ttlArg(op.Lease, op.LeaseTTL), min(s.replicas, 1)).Int()
	if err != nil {
		return false, mapErr(err)
	}
	return n == 1, nil
}

// plainInbox reports whether op's entry and claim are one key or it has
// no claim: what Enqueue and Dequeue do without a script.
func (s *Store) plainInbox(op bot.InboxOp) bool {
	return op.Claim == "" || (op.Coll == bot.CollInbox && op.Claim == op.ID)
}

func (s *Store) enqueuePlain(ctx context.Context, op bot.InboxOp) (bool, error) {
	zadd := redis.NewIntCmd(ctx, "zadd", s.idxKey(op.Coll), 0, op.ID)
	set := redis.NewStatusCmd(ctx, "set", s.docKey(op.Coll, op.ID), op.Doc, "nx")
	if err := s.plain(ctx, zadd, set); err != nil {
		return false, mapErr(err)
	}
	if err := zadd.Err(); err != nil {
		return false, mapErr(err)
	}
	err := set.Err()
	if errors.Is(err, redis.Nil) {
		return false, nil // there: waiting, or handled (its claim)
	}
	return err == nil, mapErr(err)
}

// plain sends cmds in order through the automatic pipeline and waits
// for them; with replicas to wait for, on one connection followed by a
// marker write (so that a duplicate's WAIT also covers the writes that
// made it one, which their own attempt may not have confirmed) and the
// WAIT. It returns an error only when ctx ended first or the writes
// were not confirmed; each command holds its own answer.
func (s *Store) plain(ctx context.Context, cmds ...redis.Cmder) error {
	if s.replicas > 0 {
		var wait *redis.Cmd
		_, _ = s.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range cmds {
				_ = p.Process(ctx, c)
			}
			_ = p.Process(ctx, redis.NewStatusCmd(ctx, "set", s.prefix+"replicated", 1))
			wait = p.Do(ctx, "wait", s.replicas, s.wait.Milliseconds())
			return nil
		})
		for _, c := range cmds {
			if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
				return nil // the command's own error, in it
			}
		}
		return s.confirmed(wait)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	futures := make([]redis.AutoFuture, len(cmds))
	for i, c := range cmds {
		futures[i] = s.ap.Submit(ctx, c)
	}
	for _, f := range futures {
		if err := f.WaitContext(ctx); err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// Dequeue implements bot.InboxStore: for an entry named by its own claim
// (see Enqueue) or without a claim, plain commands through the automatic
// pipeline: the key's SET to the claim with its TTL (or DEL), the ZREM
// of the id and the DEL of the lease; any other operation in one script.
func (s *Store) Dequeue(ctx context.Context, op bot.InboxOp) error {
	if err := checkColl(op.Coll); err != nil {
		return err
	}
	claim, lease := s.inboxClaims(op)
	if s.plainInbox(op) {
		cmds := []redis.Cmder{redis.NewIntCmd(ctx, "del", s.docKey(op.Coll, op.ID))}
		if op.Claim != "" {
			cmds[0] = redis.NewStatusCmd(ctx, "set", s.docKey(op.Coll, op.ID), claimValue, "px", ms(op.ClaimTTL))
		}
		cmds = append(cmds, redis.NewIntCmd(ctx, "zrem", s.idxKey(op.Coll), op.ID))
		if op.Lease != "" {
			cmds = append(cmds, redis.NewIntCmd(ctx, "del", lease))
		}
		if err := s.plain(ctx, cmds...); err != nil {
			return mapErr(err)
		}
		for _, c := range cmds {
			if err := c.Err(); err != nil {
				return mapErr(err)
			}
		}
		return nil
	}
	return mapErr(s.evalReplicated(ctx, dequeueScript, []string{s.docKey(op.Coll, op.ID), s.idxKey(op.Coll), claim, lease},
		op.ID, ttlArg(op.Claim, op.ClaimTTL)).Err())
}

// inboxClaims names the claim keys of op; an absent one gets the
// document's key as a placeholder, which the scripts ignore (its TTL
// argument is 0).
func (s *Store) inboxClaims(op bot.InboxOp) (claim, lease string) {
	claim, lease = s.claimKey(op.Claim), s.claimKey(op.Lease)
	if op.Claim == "" {
		claim = s.docKey(op.Coll, op.ID)
	}
	if op.Lease == "" {
		lease = s.docKey(op.Coll, op.ID)
	}
	return claim, lease
}

// ttlArg is a script's TTL argument: 0 for a claim not taken.
func ttlArg(name string, ttl time.Duration) int64 {
	if name == "" {
		return 0
	}
	return ms(ttl)
}

// Ping reports whether the server is reachable (PING). Like the other
// calls it goes through the automatic pipeline and so answers when ctx
// ends, also while the server accepts connections but does not answer:
// the client itself ignores ctx's deadline and waits its read timeout,
// then retries.
func (s *Store) Ping(ctx context.Context) error {
	cmd := redis.NewStatusCmd(ctx, "ping")
	if err := s.do(ctx, cmd); err != nil {
		return mapErr(err)
	}
	return mapErr(cmd.Err())
}

// Close closes the client and its connections (and the automatic
// pipeline with them).
func (s *Store) Close() error {
	return s.c.Close()
}

// mapErr codes errors for the core: anything that means the server could
// not be reached or cannot serve right now (network errors, timeouts, a
// closed client, a loading or read-only replica) is EUNAVAILABLE; other
// server errors are EINTERNAL. The cause stays wrapped, so errors.Is still
// sees context.Canceled and the like.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var be *bot.Error
	if errors.As(err, &be) {
		return err
	}
	var re redis.Error
	if errors.As(err, &re) && !transient(err) {
		return fmt.Errorf("redis: %w", err)
	}
	return bot.Unavailable(fmt.Errorf("redis: %w", err))
}

// transient reports server errors that mean "not now" rather than "wrong".
func transient(err error) bool {
	if redis.IsLoadingError(err) || redis.IsReadOnlyError(err) ||
		redis.IsMasterDownError(err) || redis.IsClusterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsMaxClientsError(err) {
		return true
	}
	// The server busy with a script, out of memory, unable to persist or
	// short of replicas: the same command may well succeed later.
	for _, p := range notNow {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// notNow are the prefixes of the other Redis errors that mean "not now".
var notNow = []string{"BUSY", "OOM", "MISCONF", "NOREPLICAS", "EXECABORT"}

// slogLogger routes go-redis's own messages (reconnect attempts during
// an outage) to the structured log instead of plain stderr lines.
type slogLogger struct{}

// clientLog is the logger of go-redis's own messages: slog's default
// until SetLogger. go-redis has one logger per process, so this is one
// too.
var clientLog atomic.Pointer[slog.Logger]

// SetLogger sends the Redis client's own messages (dial failures,
// reconnects) to l, at WARN, so that they follow the program's log
// format and level.
func SetLogger(l *slog.Logger) { clientLog.Store(l) }

func (slogLogger) Printf(ctx context.Context, format string, v ...any) {
	l := clientLog.Load()
	if l == nil {
		l = slog.Default()
	}
	l.WarnContext(ctx, "redis client", "detail", fmt.Sprintf(format, v...))
}

func init() { redis.SetLogger(slogLogger{}) }
