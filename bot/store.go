package bot

import (
	"context"
	"fmt"
	"strings"
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

// InboxStore is an optional Store capability: each step of the durable
// inbox as one atomic operation (one round trip on a networked store, one
// transaction on a local one) instead of two or three Store calls. The
// inbox uses it when the Store has it and falls back to Create, Claim and
// Delete otherwise; the result is the same except for the crash windows
// between those calls, which the fallback closes by recovery.
type InboxStore interface {
	// Enqueue stores op.Doc as op.Coll/op.ID and takes the claims op.Claim
	// (for op.ClaimTTL) and op.Lease (for op.LeaseTTL), all or nothing. It
	// returns false and changes nothing when the document exists or
	// op.Claim is held. An empty claim or lease name is not taken.
	Enqueue(ctx context.Context, op InboxOp) (bool, error)
	// Dequeue removes op.Coll/op.ID and releases the claim op.Lease, and
	// takes op.Claim for op.ClaimTTL whether or not it is held (renewing
	// it), all or nothing. Removing a missing document is not an error.
	Dequeue(ctx context.Context, op InboxOp) error
}

// InboxOp is one InboxStore operation. Claim and lease names are those
// of Store.Claim. The inbox names a platform event's entry after the
// event's dedupe claim (Claim == ID): a store may then keep the entry
// and the claim as one key, holding the entry while it waits and the
// claim once Dequeue (or a unit of work deleting the entry and taking
// the claim) has completed it — the Redis store does, so that accepting
// an event takes it no script.
type InboxOp struct {
	Coll, ID string
	Doc      []byte // Enqueue only
	Claim    string
	ClaimTTL time.Duration
	Lease    string
	LeaseTTL time.Duration // Enqueue only
}

// ClaimRenewer is an optional Store capability: extending a claim taken
// with Claim while it is still held, so that a lease on work in progress
// (an inbox request, an outbox delivery) can last as long as the work
// does. Both storage backends have it; without it leases are not renewed.
type ClaimRenewer interface {
	// Renew extends key's claim to ttl from now and returns true when the
	// claim is held (unexpired); it returns false and takes nothing when
	// the claim is free. Claims carry no owner: the caller renews only a
	// claim it took itself and has kept renewed.
	Renew(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

// Scanner is an optional Store capability: a page of a collection in id
// order, read at the cost of the page rather than of the collection
// (a bbolt cursor seek; a Redis ZRANGE BYLEX with LIMIT and one MGET).
// Both storage backends and the tests' memory store have it; ScanDocs
// falls back to List for a store without it.
type Scanner interface {
	// Scan returns up to r.Limit documents of coll whose ids start with
	// r.Prefix, in ascending byte order of id (descending with
	// r.Reverse), starting after r.After (exclusive; "" = from the start,
	// or from the end when reversed). A Limit of 0 means no limit; a
	// negative Limit is refused (EINVALID). An empty or missing
	// collection gives no documents and no error.
	Scan(ctx context.Context, coll string, r Range) ([]Doc, error)
}

// Range selects a page of a collection for Scanner.Scan. To page on,
// pass the last id of a page as the next page's After.
type Range struct {
	Prefix  string // only ids starting with Prefix
	After   string // only ids after this one (before it when Reverse); "" = no bound
	Limit   int    // at most this many documents; 0 = no limit
	Reverse bool   // descending id order
}

// Check reports a Range no store accepts (a negative Limit).
func (r Range) Check() error {
	if r.Limit < 0 {
		return &Error{Code: EINVALID, Err: fmt.Errorf("scan: negative limit %d", r.Limit)}
	}
	return nil
}

// Holds reports whether id lies in r, leaving the limit aside: it has
// r.Prefix and comes after r.After in r's direction.
func (r Range) Holds(id string) bool {
	if !strings.HasPrefix(id, r.Prefix) {
		return false
	}
	if r.After == "" {
		return true
	}
	if r.Reverse {
		return id < r.After
	}
	return id > r.After
}

// PrefixEnd returns the least string greater than every string with
// prefix p, and false when there is none (p empty or all 0xff bytes).
func PrefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// ScanDocs is Scanner.Scan on s, or the same page cut from List when s
// has no Scanner (a store of a test of its own).
func ScanDocs(ctx context.Context, s Store, coll string, r Range) ([]Doc, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	if sc, ok := s.(Scanner); ok {
		return sc.Scan(ctx, coll, r)
	}
	docs, err := s.List(ctx, coll)
	if err != nil {
		return nil, err
	}
	return CutPage(docs, r), nil
}

// CutPage returns r's page of docs, which are in ascending id order: the
// Scan of a store that holds docs in memory.
func CutPage(docs []Doc, r Range) []Doc {
	var out []Doc
	n := len(docs)
	for i := range n {
		d := docs[i]
		if r.Reverse {
			d = docs[n-1-i]
		}
		if !r.Holds(d.ID) {
			continue
		}
		out = append(out, d)
		if r.Limit > 0 && len(out) == r.Limit {
			break
		}
	}
	return out
}

// DocExpirer is an optional Store capability: documents with a time to
// live, for bookkeeping that is useful for a while only (the outbox's
// delivery records). Both storage backends have it.
type DocExpirer interface {
	// PutExpiring stores doc as coll/id (replacing it) for ttl (at least a
	// millisecond): Get finds it until ttl has passed and never after, and
	// the backend removes it by itself (Redis PX; bbolt sweeps expired ones
	// in bounded batches). Delete removes it earlier. Such documents are
	// kept apart from listed ones: List does not return them, so a
	// collection should hold expiring documents only. It is not part of a
	// unit of work: the write is made at once.
	PutExpiring(ctx context.Context, coll, id string, doc []byte, ttl time.Duration) error
}

// PutExpiring stores doc as coll/id for ttl when the Store is a
// DocExpirer, and keeps it (Put) otherwise. It is not part of a unit of
// work: called with a unit's context it fails.
func (b *Bot) PutExpiring(ctx context.Context, coll, id string, doc []byte, ttl time.Duration) error {
	if InUnit(ctx) {
		return fmt.Errorf("bot: PutExpiring %s/%s inside a unit of work", coll, id)
	}
	if x, ok := b.base().(DocExpirer); ok {
		return x.PutExpiring(ctx, coll, id, doc, ttl)
	}
	return b.base().Put(ctx, coll, id, doc)
}

// GetExpiring reads a document PutExpiring stored. Like PutExpiring it is
// not part of a unit of work: it reads the backend even with a unit's
// context (a unit checks at commit what it read, and expiring documents
// are no part of that).
func (b *Bot) GetExpiring(ctx context.Context, coll, id string) ([]byte, error) {
	return b.base().Get(ctx, coll, id)
}
