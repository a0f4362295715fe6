package bolt

import (
	"context"
	"encoding/binary"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/xunji-bot/xunji/bot"
)

var _ bot.TxStore = (*Store)(nil)

// Commit implements bot.TxStore in one write transaction, shared with
// concurrent calls (the group commit): a unit of work's checks and
// writes, all or nothing.
func (s *Store) Commit(ctx context.Context, c *bot.Commit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	return wrap(s.batch(func(tx *bbolt.Tx) error {
		return bot.ApplyCommit(boltTarget{tx: tx, now: now}, c)
	}))
}

// ReadSeq implements bot.TxStore.
func (s *Store) ReadSeq(ctx context.Context, name string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = readSeq(tx, name)
		return nil
	})
	return n, wrap(err)
}

// ClaimHeld implements bot.TxStore.
func (s *Store) ClaimHeld(ctx context.Context, key string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	now := s.now().UnixNano()
	var h bool
	err := s.db.View(func(tx *bbolt.Tx) error {
		h = held(tx.Bucket(claimsBucket), key, now)
		return nil
	})
	return h, wrap(err)
}

func readSeq(tx *bbolt.Tx, name string) int64 {
	if v := tx.Bucket(seqBucket).Get([]byte(name)); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// boltTarget is one write transaction as bot.ApplyCommit sees it.
type boltTarget struct {
	tx  *bbolt.Tx
	now time.Time
}

func (t boltTarget) Doc(coll, id string) ([]byte, bool, error) {
	b := collBucket(t.tx, coll)
	if b == nil {
		return nil, false, nil
	}
	v := b.Get([]byte(id))
	return v, v != nil, nil
}

func (t boltTarget) Seq(name string) (int64, error) { return readSeq(t.tx, name), nil }

func (t boltTarget) ClaimHeld(name string) (bool, error) {
	return held(t.tx.Bucket(claimsBucket), name, t.now.UnixNano()), nil
}

func (t boltTarget) PutDoc(coll, id string, doc []byte) error {
	b, err := createCollBucket(t.tx, coll)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), nonNil(doc))
}

func (t boltTarget) DeleteDoc(coll, id string) error {
	if b := collBucket(t.tx, coll); b != nil {
		return b.Delete([]byte(id))
	}
	return nil
}

func (t boltTarget) SetSeq(name string, v int64) error {
	return t.tx.Bucket(seqBucket).Put([]byte(name), binary.BigEndian.AppendUint64(nil, uint64(v)))
}

func (t boltTarget) SetClaim(name string, ttl time.Duration) error {
	return setClaim(t.tx.Bucket(claimsBucket), t.tx.Bucket(claimExpBucket), name, t.now.UnixNano()+int64(max(ttl, time.Millisecond)))
}

func (t boltTarget) DeleteClaim(name string) error {
	return dropClaim(t.tx.Bucket(claimsBucket), t.tx.Bucket(claimExpBucket), name)
}
