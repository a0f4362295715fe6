package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/storage/dump"
)

// OpenReadOnly opens the bbolt file at path for reading only (for backup
// and migrate). bbolt's shared lock excludes a running xunji, which
// holds the file's exclusive lock: then OpenReadOnly fails after about a
// second with an error saying so.
func OpenReadOnly(path string, opts ...Option) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("bolt: %w", err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: openTimeout})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, bot.Unavailable(fmt.Errorf("bolt: %s is locked by a running xunji (stop it first): %w", path, err))
	}
	if err != nil {
		return nil, bot.Unavailable(fmt.Errorf("bolt: open %s: %w", path, err))
	}
	s := &Store{db: db, now: time.Now, group: newCommitter(db)}
	s.batch = s.group.do
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Export returns every document, counter and unexpired claim (with the
// time it has left), read in one transaction: a consistent view even
// while other calls write.
func (s *Store) Export(ctx context.Context) ([]dump.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := s.now().UnixNano()
	var out []dump.Entry
	err := s.db.View(func(tx *bbolt.Tx) error {
		out = out[:0]
		docs := tx.Bucket(docsBucket)
		if docs == nil {
			return nil
		}
		err := docs.ForEachBucket(func(coll []byte) error {
			return docs.Bucket(coll).ForEach(func(k, v []byte) error {
				if v == nil {
					return nil
				}
				out = append(out, dump.Entry{Kind: dump.KindDoc, Coll: string(coll), Key: string(k), Data: clone(v)})
				return nil
			})
		})
		if err != nil {
			return err
		}
		if err := tx.Bucket(seqBucket).ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				out = append(out, dump.Entry{Kind: dump.KindSeq, Key: string(k), Value: int64(binary.BigEndian.Uint64(v))})
			}
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(claimsBucket).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return nil
			}
			left := int64(binary.BigEndian.Uint64(v)) - now
			if left <= 0 {
				return nil // expired: absent
			}
			ms := (left + int64(time.Millisecond) - 1) / int64(time.Millisecond)
			out = append(out, dump.Entry{Kind: dump.KindClaim, Key: string(k), Value: ms})
			return nil
		})
	})
	return out, wrap(err)
}

// Empty reports whether the store holds no document and no counter
// (claims alone, which expire, do not count).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	empty := true
	err := s.db.View(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(seqBucket).Cursor().First(); k != nil {
			empty = false
			return nil
		}
		docs := tx.Bucket(docsBucket)
		return docs.ForEachBucket(func(coll []byte) error {
			if k, _ := docs.Bucket(coll).Cursor().First(); k != nil {
				empty = false
			}
			return nil
		})
	})
	return empty, wrap(err)
}

// WriteSnapshot writes a consistent copy of the whole database to w
// (bbolt's Tx.WriteTo inside one read transaction, so writes may go on
// meanwhile) and returns the bytes written. The copy is a bbolt file.
func (s *Store) WriteSnapshot(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, wrap(err)
}

// snapshotAttempts bounds how often Snapshot copies a file that a
// running process keeps committing to before it gives up. A bot that
// commits without a pause of a few milliseconds for all that time (a
// sustained load of hundreds of events a second) cannot be copied this
// way: back it up when it is quieter, or stop it.
const snapshotAttempts = 50

// metaMagic is bbolt's meta page magic number.
const metaMagic = 0xED0CDAED

// Snapshot writes a consistent copy of the bbolt file at path to w,
// whether or not a running xunji holds the file.
//
// Unheld, it opens the file read-only and writes it with Tx.WriteTo.
// Held (bbolt's exclusive lock shuts out any other reader, so a backup
// program cannot open a transaction there), it copies the file without
// the lock and keeps the copy only when it is consistent: bbolt writes
// copy-on-write, so the pages reachable from the last committed meta
// page are never written until a later commit has replaced that meta
// page; when both meta pages read the same before and after the copy,
// no commit ended during it and the copy holds that transaction whole.
// The copy is then checked page by page (Tx.Check) and written out with
// Tx.WriteTo. A copy that a commit overlapped is taken again, up to
// snapshotAttempts times.
func Snapshot(path string, w io.Writer) (int64, error) {
	if db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: openTimeout}); err == nil {
		defer db.Close()
		return writeChecked(db, w)
	} else if !errors.Is(err, bbolt.ErrTimeout) {
		return 0, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	tmpDir, err := os.MkdirTemp("", "xunji-snapshot-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "copy.db")
	var lastErr error
	for attempt := range snapshotAttempts {
		ok, err := copyStable(path, tmp)
		if err != nil {
			return 0, err
		}
		if !ok {
			lastErr = errors.New("a commit ended during every copy")
			// Let the writer's burst pass: up to about 10 s in all.
			time.Sleep(min(time.Duration(attempt+1)*5*time.Millisecond, 400*time.Millisecond))
			continue
		}
		db, err := bbolt.Open(tmp, 0o600, &bbolt.Options{ReadOnly: true, Timeout: openTimeout})
		if err != nil {
			lastErr = err
			continue
		}
		n, err := writeChecked(db, w)
		_ = db.Close()
		if errors.Is(err, errInconsistent) {
			lastErr = err
			continue
		}
		return n, err
	}
	return 0, fmt.Errorf("bolt: no consistent copy of %s in %d attempts: %w", path, snapshotAttempts, lastErr)
}

var errInconsistent = errors.New("bolt: the copy fails bbolt's consistency check")

// writeChecked checks db (every page reachable once, the freelist
// right) and writes it to w; errInconsistent when the check fails, in
// which case nothing was written.
func writeChecked(db *bbolt.DB, w io.Writer) (int64, error) {
	var n int64
	err := db.View(func(tx *bbolt.Tx) error {
		var first error
		for cerr := range tx.Check() { // drain: the checker blocks on every send
			if first == nil {
				first = fmt.Errorf("%w: %v", errInconsistent, cerr)
			}
		}
		if first != nil {
			return first
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// copyStable copies src to dst and reports whether no commit ended
// during the copy (both meta pages unchanged from before to after).
func copyStable(src, dst string) (bool, error) {
	f, err := os.Open(src)
	if err != nil {
		return false, err
	}
	defer f.Close()
	before, err := metaPages(f)
	if err != nil {
		return false, err
	}
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(out, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		_ = out.Close()
		return false, err
	}
	if err := out.Close(); err != nil {
		return false, err
	}
	after, err := metaPages(f)
	if err != nil {
		return false, err
	}
	copied, err := os.Open(dst)
	if err != nil {
		return false, err
	}
	defer copied.Close()
	inCopy, err := metaPages(copied)
	if err != nil {
		return false, nil // a torn meta page: try again
	}
	return bytes.Equal(before, after) && bytes.Equal(before, inCopy), nil
}

// metaPages reads the file's two meta pages (the page size is in the
// first one).
func metaPages(f *os.File) ([]byte, error) {
	head := make([]byte, 32)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("bolt: read meta page: %w", err)
	}
	// The page header is 16 bytes; the meta starts with magic, version,
	// page size (little-endian on every platform bbolt runs on here).
	if binary.LittleEndian.Uint32(head[16:20]) != metaMagic {
		return nil, errors.New("bolt: not a bbolt file (bad magic)")
	}
	size := int(binary.LittleEndian.Uint32(head[24:28]))
	if size < 512 || size > 1<<20 {
		return nil, fmt.Errorf("bolt: implausible page size %d", size)
	}
	pages := make([]byte, 2*size)
	if _, err := f.ReadAt(pages, 0); err != nil {
		return nil, fmt.Errorf("bolt: read meta pages: %w", err)
	}
	return pages, nil
}

// Restore replaces the bbolt file at path with the snapshot read from r
// (a file WriteSnapshot or Snapshot wrote). The snapshot is written
// beside path and checked (bbolt's Tx.Check) first; an existing file is
// replaced only when it holds no document and no counter, or when force
// is set, and never while a running xunji holds it. The replacement is
// a rename, so path is the old file or the new one, never half of each.
func Restore(ctx context.Context, path string, r io.Reader, force bool) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".xunji-restore-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	db, err := bbolt.Open(tmp.Name(), 0o600, &bbolt.Options{ReadOnly: true, Timeout: openTimeout})
	if err != nil {
		return fmt.Errorf("bolt: the backup is not a bbolt file: %w", err)
	}
	_, err = writeChecked(db, io.Discard)
	_ = db.Close()
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		cur, err := Open(path) // the exclusive lock: refuses a running xunji
		if err != nil {
			return err
		}
		empty, err := cur.Empty(ctx)
		_ = cur.Close()
		if err != nil {
			return err
		}
		if !empty && !force {
			return fmt.Errorf("bolt: %s already holds data; restore over it only with -force", path)
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // make the rename durable
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
