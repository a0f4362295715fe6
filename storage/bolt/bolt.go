// Package bolt implements bot.Store on a local bbolt file, for
// single-process deployments. bbolt serialises write transactions, so every
// read-modify-write below runs inside one write transaction and cannot lose
// an update; each commit is fsynced, so an acknowledged write survives a
// crash of the process.
//
// The writes on the acknowledgement path — Enqueue and Dequeue of the
// inbox, Claim, Create, Put and Delete — go through a group commit (see
// committer): calls made while a commit is in flight share the next write
// transaction and so one commit and one fsync, instead of one each. Each
// call still returns only after that commit, so durability is unchanged,
// and each call's reads and writes stay atomic (they run one after
// another inside the shared transaction). As with bbolt's DB.Batch, a
// call's function may run more than once (when another call in the group
// fails, the transaction is rolled back and run again without it), so
// those functions reset their results at every run and report refusals
// such as "already exists" through a variable rather than by failing the
// shared transaction.
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/xunji-bot/xunji/bot"
)

// Top-level buckets. Collections are nested buckets under docsBucket so a
// collection name can never collide with the store's own bookkeeping.
var (
	docsBucket     = []byte("docs")
	seqBucket      = []byte("seq")
	claimsBucket   = []byte("claims")    // key -> expiry (unix nanos, big endian)
	claimExpBucket = []byte("claim_exp") // expiry||key -> nil, for cheap sweeping
)

// sweepLimit bounds how many expired claims one Claim call deletes, so a
// large backlog is cleaned up gradually instead of stalling one caller.
const sweepLimit = 64

// openTimeout is how long Open waits for the file lock. bbolt's default is
// to wait forever, which makes a second process hang silently.
const openTimeout = time.Second

// Store is a bot.Store backed by a bbolt file.
type Store struct {
	db  *bbolt.DB
	now func() time.Time
	// group commits the batched writes.
	group *committer
	// batch runs a write in a transaction shared with concurrent ones:
	// group.do (benchmarks compare it with bbolt's DB.Batch).
	batch func(func(*bbolt.Tx) error) error
}

var (
	_ bot.Store      = (*Store)(nil)
	_ bot.InboxStore = (*Store)(nil)
	_ bot.Scanner    = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithNow sets the clock used for claim expiry; tests inject a fake clock.
// The default is time.Now.
func WithNow(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// Open opens (creating if needed) the bbolt file at path, creating its
// parent directory. If another process holds the file, Open fails with an
// EUNAVAILABLE error after about a second instead of blocking.
func Open(path string, opts ...Option) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, bot.Unavailable(fmt.Errorf("bolt: create directory for %s: %w", path, err))
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: openTimeout})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, bot.Unavailable(fmt.Errorf("bolt: %s is locked by another process (is another xunji running?): %w", path, err))
	}
	if err != nil {
		return nil, bot.Unavailable(fmt.Errorf("bolt: open %s: %w", path, err))
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{docsBucket, seqBucket, claimsBucket, claimExpBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, bot.Unavailable(fmt.Errorf("bolt: initialise %s: %w", path, err))
	}
	s := &Store{db: db, now: time.Now, group: newCommitter(db)}
	s.batch = s.group.do
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Get returns the document coll/id, or an ENOTFOUND error.
func (s *Store) Get(ctx context.Context, coll, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var doc []byte
	err := s.db.View(func(tx *bbolt.Tx) error {
		if b := collBucket(tx, coll); b != nil {
			// Values are only valid inside the transaction: copy out.
			doc = clone(b.Get([]byte(id)))
		}
		if doc == nil {
			doc = getExpiring(tx, coll, id, s.now().UnixNano())
		}
		if doc == nil {
			return bot.NotFound(coll, id)
		}
		return nil
	})
	return doc, wrap(err)
}

// Create stores a new document; ECONFLICT if coll/id exists.
func (s *Store) Create(ctx context.Context, coll, id string, doc []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var exists bool
	err := s.batch(func(tx *bbolt.Tx) error {
		exists = false
		b, err := createCollBucket(tx, coll)
		if err != nil {
			return err
		}
		if b.Get([]byte(id)) != nil {
			// Not an error of the transaction: that would roll back the
			// other calls sharing it.
			exists = true
			return nil
		}
		return b.Put([]byte(id), nonNil(doc))
	})
	if err == nil && exists {
		return bot.Exists(coll, id)
	}
	return wrap(err)
}

// Update atomically replaces coll/id with fn(current). The whole
// read-modify-write runs in one bbolt write transaction, so fn is called
// exactly once. An error from fn aborts the transaction and is returned
// unchanged.
func (s *Store) Update(ctx context.Context, coll, id string, fn func(current []byte) ([]byte, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var fnErr error
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := collBucket(tx, coll)
		var cur []byte
		if b != nil {
			cur = b.Get([]byte(id))
		}
		if cur == nil {
			return bot.NotFound(coll, id)
		}
		// cur points into the read-only mmap; fn gets its own copy.
		next, err := fn(clone(cur))
		if err != nil {
			fnErr = err
			return err
		}
		return b.Put([]byte(id), nonNil(next))
	})
	if fnErr != nil {
		return fnErr
	}
	return wrap(err)
}

// Put stores a document whether or not it exists.
func (s *Store) Put(ctx context.Context, coll, id string, doc []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(s.batch(func(tx *bbolt.Tx) error {
		b, err := createCollBucket(tx, coll)
		if err != nil {
			return err
		}
		return b.Put([]byte(id), nonNil(doc))
	}))
}

// Delete removes coll/id; deleting a missing document is not an error.
func (s *Store) Delete(ctx context.Context, coll, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(s.batch(func(tx *bbolt.Tx) error {
		if err := deleteExpiring(tx, coll, id); err != nil {
			return err
		}
		b := collBucket(tx, coll)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(id))
	}))
}

// List returns every document of coll in ascending id (byte) order, which
// is bbolt's key order.
func (s *Store) List(ctx context.Context, coll string) ([]bot.Doc, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var docs []bot.Doc
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := collBucket(tx, coll)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if v == nil { // a nested bucket, never created by this package
				return nil
			}
			docs = append(docs, bot.Doc{ID: string(k), Data: clone(v)})
			return nil
		})
	})
	return docs, wrap(err)
}

// Scan implements bot.Scanner with a cursor on the collection's bucket:
// one seek and then one step per document of the page, O(log n + limit)
// whatever the size of the collection.
func (s *Store) Scan(ctx context.Context, coll string, r bot.Range) ([]bot.Doc, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := r.Check(); err != nil {
		return nil, err
	}
	var docs []bot.Doc
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := collBucket(tx, coll)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		prefix := []byte(r.Prefix)
		var k, v []byte
		var step func() ([]byte, []byte)
		if r.Reverse {
			step = c.Prev
			// Start below the least key above the range: After, or the
			// end of the prefix, whichever is lower.
			end, bounded := bot.PrefixEnd(r.Prefix)
			if r.After != "" && (!bounded || r.After < end) {
				end, bounded = r.After, true
			}
			if !bounded {
				k, v = c.Last()
			} else if k, v = c.Seek([]byte(end)); k == nil {
				k, v = c.Last()
			} else {
				k, v = c.Prev()
			}
		} else {
			step = c.Next
			if r.After != "" && r.After >= r.Prefix {
				k, v = c.Seek([]byte(r.After))
				if k != nil && string(k) == r.After {
					k, v = c.Next()
				}
			} else {
				k, v = c.Seek(prefix)
			}
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = step() {
			if v == nil { // a nested bucket, never created by this package
				continue
			}
			docs = append(docs, bot.Doc{ID: string(k), Data: clone(v)})
			if r.Limit > 0 && len(docs) == r.Limit {
				break
			}
		}
		return nil
	})
	return docs, wrap(err)
}

// NextSeq atomically increments and returns the named counter, starting
// at 1.
func (s *Store) NextSeq(ctx context.Context, name string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n uint64
	err := s.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(seqBucket)
		if v := b.Get([]byte(name)); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		n++
		return b.Put([]byte(name), binary.BigEndian.AppendUint64(nil, n))
	})
	if err != nil {
		return 0, wrap(err)
	}
	return int64(n), nil
}

// Claim records key as seen for ttl (at least a millisecond). It returns
// true for the first claim and false while an unexpired claim exists.
// Expired claims count as absent; each call also deletes a few of them.
func (s *Store) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := s.now().UnixNano()
	var claimed bool
	err := s.batch(func(tx *bbolt.Tx) error {
		claimed = false
		claims, exp := tx.Bucket(claimsBucket), tx.Bucket(claimExpBucket)
		if err := sweep(claims, exp, now); err != nil {
			return err
		}
		if held(claims, key, now) {
			return nil
		}
		claimed = true
		return setClaim(claims, exp, key, now+int64(max(ttl, time.Millisecond)))
	})
	return claimed, wrap(err)
}

// Renew implements bot.ClaimRenewer: an unexpired claim on key is
// extended to ttl (at least a millisecond) from now.
func (s *Store) Renew(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := s.now().UnixNano()
	var renewed bool
	err := s.db.Update(func(tx *bbolt.Tx) error {
		claims, exp := tx.Bucket(claimsBucket), tx.Bucket(claimExpBucket)
		if !held(claims, key, now) {
			return nil
		}
		renewed = true
		return setClaim(claims, exp, key, now+int64(max(ttl, time.Millisecond)))
	})
	return renewed, wrap(err)
}

// held reports whether key has an unexpired claim.
func held(claims *bbolt.Bucket, key string, now int64) bool {
	v := claims.Get([]byte(key))
	return len(v) == 8 && int64(binary.BigEndian.Uint64(v)) > now
}

// setClaim claims key until expiry, replacing any claim it has.
func setClaim(claims, exp *bbolt.Bucket, key string, expiry int64) error {
	if err := dropClaim(claims, exp, key); err != nil {
		return err
	}
	e := binary.BigEndian.AppendUint64(nil, uint64(expiry))
	if err := claims.Put([]byte(key), e); err != nil {
		return err
	}
	return exp.Put(expKey(e, key), []byte{})
}

// dropClaim removes key's claim and its expiry index entry.
func dropClaim(claims, exp *bbolt.Bucket, key string) error {
	v := claims.Get([]byte(key))
	if len(v) != 8 {
		return nil
	}
	if err := exp.Delete(expKey(v, key)); err != nil {
		return err
	}
	return claims.Delete([]byte(key))
}

// Enqueue implements bot.InboxStore in one write transaction, shared with
// concurrent writes (see the package documentation).
func (s *Store) Enqueue(ctx context.Context, op bot.InboxOp) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := s.now().UnixNano()
	var done bool
	err := s.batch(func(tx *bbolt.Tx) error {
		done = false
		claims, exp := tx.Bucket(claimsBucket), tx.Bucket(claimExpBucket)
		if err := sweep(claims, exp, now); err != nil {
			return err
		}
		if op.Claim != "" && held(claims, op.Claim, now) {
			return nil
		}
		b, err := createCollBucket(tx, op.Coll)
		if err != nil {
			return err
		}
		if b.Get([]byte(op.ID)) != nil {
			return nil
		}
		if err := b.Put([]byte(op.ID), nonNil(op.Doc)); err != nil {
			return err
		}
		if op.Claim != "" {
			if err := setClaim(claims, exp, op.Claim, now+int64(max(op.ClaimTTL, time.Millisecond))); err != nil {
				return err
			}
		}
		if op.Lease != "" {
			if err := setClaim(claims, exp, op.Lease, now+int64(max(op.LeaseTTL, time.Millisecond))); err != nil {
				return err
			}
		}
		done = true
		return nil
	})
	return done, wrap(err)
}

// Dequeue implements bot.InboxStore in one write transaction, shared with
// concurrent writes (see the package documentation).
func (s *Store) Dequeue(ctx context.Context, op bot.InboxOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now().UnixNano()
	return wrap(s.batch(func(tx *bbolt.Tx) error {
		claims, exp := tx.Bucket(claimsBucket), tx.Bucket(claimExpBucket)
		if b := collBucket(tx, op.Coll); b != nil {
			if err := b.Delete([]byte(op.ID)); err != nil {
				return err
			}
		}
		if op.Lease != "" {
			if err := dropClaim(claims, exp, op.Lease); err != nil {
				return err
			}
		}
		if op.Claim != "" {
			return setClaim(claims, exp, op.Claim, now+int64(max(op.ClaimTTL, time.Millisecond)))
		}
		return nil
	}))
}

// sweep deletes up to sweepLimit claims that expired at or before now. The
// expiry index is ordered by time, so the expired ones come first.
func sweep(claims, exp *bbolt.Bucket, now int64) error {
	var dead [][]byte
	c := exp.Cursor()
	for k, _ := c.First(); k != nil && len(dead) < sweepLimit; k, _ = c.Next() {
		if len(k) < 8 || int64(binary.BigEndian.Uint64(k[:8])) > now {
			break
		}
		dead = append(dead, clone(k))
	}
	// Delete after iterating: deleting under a bbolt cursor can skip keys.
	for _, k := range dead {
		key := k[8:]
		// Only drop the claim if it still has this expiry (not re-claimed).
		if v := claims.Get(key); bytes.Equal(v, k[:8]) {
			if err := claims.Delete(key); err != nil {
				return err
			}
		}
		if err := exp.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// Ping reports whether the database is open and readable.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return wrap(s.db.View(func(*bbolt.Tx) error { return nil }))
}

// Close commits the writes already queued, then closes the database
// file, releasing its lock.
func (s *Store) Close() error {
	s.group.close()
	return wrap(s.db.Close())
}

func collBucket(tx *bbolt.Tx, coll string) *bbolt.Bucket {
	return tx.Bucket(docsBucket).Bucket([]byte(coll))
}

func createCollBucket(tx *bbolt.Tx, coll string) (*bbolt.Bucket, error) {
	return tx.Bucket(docsBucket).CreateBucketIfNotExists([]byte(coll))
}

func expKey(expiry []byte, key string) []byte {
	return append(clone(expiry), key...)
}

// wrap passes coded errors through and marks bbolt failures (closed
// database, I/O errors) as the store being unavailable.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var e *bot.Error
	if errors.As(err, &e) {
		return err
	}
	return bot.Unavailable(fmt.Errorf("bolt: %w", err))
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// nonNil stores an empty document as an empty value: bbolt reads back a
// nil value as "missing".
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
