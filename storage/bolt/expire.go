package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/xunji-bot/xunji/bot"
)

// Expiring documents (bot.DocExpirer) live apart from the collections, so
// List never sees them, in two top-level buckets made on first use.
var (
	xdocsBucket   = []byte("xdocs")    // coll\x00id -> expiry (unix nanos, big endian) || document
	xdocExpBucket = []byte("xdoc_exp") // expiry||coll\x00id -> nil, for cheap sweeping
)

var _ bot.DocExpirer = (*Store)(nil)

func xdocKey(coll, id string) string { return coll + "\x00" + id }

// PutExpiring implements bot.DocExpirer. Each call also deletes up to
// sweepLimit expired documents, oldest first, so the file does not keep
// what nobody can read any more; Get ignores an expired one not yet swept.
func (s *Store) PutExpiring(ctx context.Context, coll, id string, doc []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now().UnixNano()
	return wrap(s.batch(func(tx *bbolt.Tx) error {
		docs, err := tx.CreateBucketIfNotExists(xdocsBucket)
		if err != nil {
			return err
		}
		exp, err := tx.CreateBucketIfNotExists(xdocExpBucket)
		if err != nil {
			return err
		}
		if err := sweepDocs(docs, exp, now); err != nil {
			return err
		}
		key := xdocKey(coll, id)
		if err := dropExpiring(docs, exp, key); err != nil {
			return err
		}
		e := binary.BigEndian.AppendUint64(nil, uint64(now+int64(max(ttl, time.Millisecond))))
		if err := docs.Put([]byte(key), append(clone(e), doc...)); err != nil {
			return err
		}
		return exp.Put(expKey(e, key), []byte{})
	}))
}

// getExpiring returns the unexpired expiring document coll/id, or nil.
func getExpiring(tx *bbolt.Tx, coll, id string, now int64) []byte {
	docs := tx.Bucket(xdocsBucket)
	if docs == nil {
		return nil
	}
	v := docs.Get([]byte(xdocKey(coll, id)))
	if len(v) < 8 || int64(binary.BigEndian.Uint64(v[:8])) <= now {
		return nil
	}
	return append([]byte{}, v[8:]...) // not nil for an empty document
}

// deleteExpiring removes the expiring document coll/id, if any.
func deleteExpiring(tx *bbolt.Tx, coll, id string) error {
	docs, exp := tx.Bucket(xdocsBucket), tx.Bucket(xdocExpBucket)
	if docs == nil || exp == nil {
		return nil
	}
	return dropExpiring(docs, exp, xdocKey(coll, id))
}

// dropExpiring removes key's document and its expiry index entry.
func dropExpiring(docs, exp *bbolt.Bucket, key string) error {
	v := docs.Get([]byte(key))
	if len(v) < 8 {
		return nil
	}
	if err := exp.Delete(expKey(v[:8], key)); err != nil {
		return err
	}
	return docs.Delete([]byte(key))
}

// sweepDocs deletes up to sweepLimit documents that expired at or before
// now; the expiry index is ordered by time, so they come first.
func sweepDocs(docs, exp *bbolt.Bucket, now int64) error {
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
		// Only drop the document if it still has this expiry (not put again).
		if v := docs.Get(key); len(v) >= 8 && bytes.Equal(v[:8], k[:8]) {
			if err := docs.Delete(key); err != nil {
				return err
			}
		}
		if err := exp.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
