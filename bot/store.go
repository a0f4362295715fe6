package bot

import (
	"context"
	"time"
)

// Store is the persistence contract every storage backend fulfils
// (storage/bolt, storage/redis). It is deliberately a small document
// store: records are JSON documents in named collections, so the typed
// record logic lives once in the core (see Records) and each backend only
// has to get atomicity right. All methods are safe for concurrent use by
// many goroutines and, for shared backends, by many processes.
type Store interface {
	// Get returns the document coll/id, or an ENOTFOUND error.
	Get(ctx context.Context, coll, id string) ([]byte, error)
	// Create stores a new document; ECONFLICT if coll/id exists.
	Create(ctx context.Context, coll, id string, doc []byte) error
	// Update atomically replaces coll/id with fn(current). fn may be called
	// more than once when another writer got in first (optimistic
	// concurrency), so it must not have side effects. An error from fn
	// aborts the update and is returned unchanged. ENOTFOUND if the document
	// does not exist.
	Update(ctx context.Context, coll, id string, fn func(current []byte) ([]byte, error)) error
	// Put stores a document whether or not it exists (last writer wins).
	Put(ctx context.Context, coll, id string, doc []byte) error
	// Delete removes coll/id; deleting a missing document is not an error.
	Delete(ctx context.Context, coll, id string) error
	// List returns every document of coll in ascending id order.
	List(ctx context.Context, coll string) ([]Doc, error)
	// NextSeq atomically increments and returns the named counter,
	// starting at 1. Counters never repeat a value, across processes too.
	NextSeq(ctx context.Context, name string) (int64, error)
	// Claim records key as seen for ttl. It returns true for the first
	// claim and false while an unexpired claim exists (dedupe of platform
	// retries and of scheduled runs).
	Claim(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
	// Close releases the backend; the store is unusable afterwards.
	Close() error
}

// Doc is one listed document.
type Doc struct {
	ID   string
	Data []byte
}
