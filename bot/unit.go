package bot

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// TxStore is the Store capability behind units of work: it applies a set
// of writes only if what a unit read is still there, all or nothing (one
// bbolt transaction; one Lua script on Redis). Every store of this
// project implements it; a store without it gets units whose writes are
// applied one by one (tests with stores of their own).
type TxStore interface {
	Store
	// Commit checks c.Expects and, when every one holds, applies c.Writes,
	// atomically. It returns an ECONFLICT error and changes nothing when a
	// check fails.
	Commit(ctx context.Context, c *Commit) error
	// ReadSeq returns the current value of the named counter (0 when it
	// was never used) without changing it.
	ReadSeq(ctx context.Context, name string) (int64, error)
	// ClaimHeld reports whether an unexpired claim on key exists.
	ClaimHeld(ctx context.Context, key string) (bool, error)
}

// Commit is what a unit of work hands its store: the values it read, to
// be checked, and the writes to apply if they still hold.
type Commit struct {
	Expects []Expect
	Writes  []Write
}

// ExpectKind says what an Expect looks at.
type ExpectKind uint8

// Expect kinds.
const (
	// ExpectDoc: document Coll/ID is absent (Exists false), holds exactly
	// Doc (Exists true), or exists with any value (Exists and Any).
	ExpectDoc ExpectKind = iota + 1
	// ExpectSeq: counter Name has the value Seq (0: never used).
	ExpectSeq
	// ExpectClaim: no unexpired claim on Name exists (Exists false).
	ExpectClaim
)

// Expect is one value a unit read, expected to hold at commit.
type Expect struct {
	Kind     ExpectKind
	Coll, ID string // ExpectDoc
	Name     string // ExpectSeq, ExpectClaim
	Exists   bool
	Any      bool   // ExpectDoc with Exists: any value will do
	Doc      []byte // ExpectDoc with Exists and not Any
	Seq      int64  // ExpectSeq
}

// WriteKind says what a Write does.
type WriteKind uint8

// Write kinds.
const (
	WritePut         WriteKind = iota + 1 // store Doc as Coll/ID
	WriteDelete                           // remove Coll/ID
	WriteSeq                              // set counter Name to Seq
	WriteClaim                            // claim Name for TTL
	WriteDeleteClaim                      // release the claim on Name
)

// Write is one change a unit makes.
type Write struct {
	Kind     WriteKind
	Coll, ID string
	Doc      []byte
	Name     string
	Seq      int64
	TTL      time.Duration
}

// maxUnitAttempts bounds how often a unit is run again after a conflict
// before the request is answered "temporarily unavailable". A conflict
// means another unit committed: progress, not a fault. Every command that
// allocates a record number conflicts with every other one in flight (the
// numbers are taken at commit, without gaps), so after a crash the inbox
// recovery's burst of transfers from both platforms makes tens of units
// contend at once, and each round only one of them wins. The bound is
// therefore well above the contenders one process has in flight, and the
// pause between runs is capped (maxUnitPause), so it gives up only after
// seconds of losing (5 to 10 s in all), not after a few milliseconds.
const maxUnitAttempts = 200

// maxUnitPause caps the jittered pause before a unit runs again.
const maxUnitPause = 25 * time.Millisecond

// unit is one unit of work: every store call made with its context reads
// through it and writes into it; Commit applies the writes if the reads
// still hold. It is used by one goroutine at a time (a request's).
type unit struct {
	base    Store
	tx      TxStore // nil: the store cannot check, writes apply one by one
	expects []Expect
	seen    map[string]bool     // keys already checked
	docs    map[string]*unitDoc // coll\x00id → the unit's value
	seqs    map[string]int64    // counter → the unit's value
	claims  map[string]time.Duration
	drops   map[string]bool // claims to release
	after   []func(context.Context)
	failed  error // set by fail: the unit is dropped
}

type unitDoc struct {
	coll, id string
	doc      []byte // nil: deleted
}

type unitKey struct{}

func newUnit(base Store) *unit {
	u := &unit{base: base, seen: map[string]bool{}, docs: map[string]*unitDoc{}, seqs: map[string]int64{}, claims: map[string]time.Duration{}, drops: map[string]bool{}}
	u.tx, _ = base.(TxStore)
	return u
}

func unitFrom(ctx context.Context) *unit {
	u, _ := ctx.Value(unitKey{}).(*unit)
	return u
}

// InUnit reports whether ctx belongs to a unit of work.
func InUnit(ctx context.Context) bool { return unitFrom(ctx) != nil }

// AfterCommit runs fn once the unit of work of ctx has committed (never,
// when it does not), or at once outside a unit. Whatever leaves the
// process — a message, a wake-up of the outbox — goes here, so that a unit
// run again after a conflict does not do it twice.
//
// fn gets a context of its own, outside the unit, for the store calls it
// makes.
func AfterCommit(ctx context.Context, fn func(ctx context.Context)) {
	if u := unitFrom(ctx); u != nil {
		u.after = append(u.after, fn)
		return
	}
	fn(ctx)
}

// RunUnit runs fn as one unit of work: every store call fn makes with the
// context it is given reads through the unit and writes into it, and the
// writes are committed together when fn returns, if nothing they depend
// on changed meanwhile; otherwise fn runs again on fresh data. fn must
// therefore keep its effects in the store, or hand them to AfterCommit.
//
// The unit commits when fn succeeds and when it returns an error meant
// for the user (a refusal is audited, a usage error may follow a read);
// it is dropped on an internal or unavailable error and on a panic. A
// unit inside a unit joins the outer one.
func (b *Bot) RunUnit(ctx context.Context, fn func(ctx context.Context) error) error {
	if InUnit(ctx) {
		return fn(ctx)
	}
	for attempt := 0; ; attempt++ {
		u := newUnit(b.base())
		err := fn(context.WithValue(ctx, unitKey{}, u))
		if err == nil || committable(err) {
			if u.failed != nil {
				err = u.failed // an inner command failed and its caller answered it
			}
		}
		var cerr error
		switch {
		case staleRead(err):
			// A read inside the unit met a write committed since the unit
			// began (a record created under the number the unit was about
			// to take): its view is stale, like a conflict at the commit.
			cerr = err
		case !committable(err):
			return err
		default:
			cerr = u.commit(ctx)
		}
		if cerr == nil {
			for _, f := range u.after {
				f(ctx)
			}
			return err
		}
		if ErrorCode(cerr) != ECONFLICT {
			return cerr
		}
		if attempt+1 >= maxUnitAttempts {
			return Unavailable(errors.New("unit of work: still conflicting after retries"))
		}
		b.Log.Debug("unit of work: conflict, running again", "attempt", attempt+1)
		// Jittered, growing pause so that contenders do not meet again.
		pause := min(time.Duration(1+attempt)*time.Millisecond, maxUnitPause)
		pause += time.Duration(rand.Int64N(int64(pause)))
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return Unavailable(ctx.Err())
		}
	}
}

// staleRead reports whether err is a conflict the store found inside a
// unit (Create of a document that exists) rather than a refusal meant
// for the user (which carries a message key): the unit runs again on
// fresh data.
func staleRead(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == ECONFLICT && e.Key == ""
}

// committable reports whether a unit whose function returned err keeps
// its writes.
func committable(err error) bool {
	if err == nil {
		return true
	}
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case EINTERNAL, EUNAVAILABLE:
		return false
	}
	return e.Key != ""
}

func docKey(coll, id string) string { return coll + "\x00" + id }

func (u *unit) expect(key string, c Expect) {
	if u.seen[key] {
		return
	}
	u.seen[key] = true
	u.expects = append(u.expects, c)
}

// read returns the unit's view of coll/id: nil when absent.
func (u *unit) read(ctx context.Context, coll, id string) ([]byte, error) {
	k := docKey(coll, id)
	if d, ok := u.docs[k]; ok {
		return d.doc, nil
	}
	doc, err := u.base.Get(ctx, coll, id)
	switch {
	case err == nil:
		u.expect("d"+k, Expect{Kind: ExpectDoc, Coll: coll, ID: id, Exists: true, Doc: doc})
		return doc, nil
	case IsNotFound(err):
		u.expect("d"+k, Expect{Kind: ExpectDoc, Coll: coll, ID: id})
		return nil, nil
	default:
		return nil, err
	}
}

func (u *unit) set(coll, id string, doc []byte) {
	u.docs[docKey(coll, id)] = &unitDoc{coll: coll, id: id, doc: doc}
}

func (u *unit) Get(ctx context.Context, coll, id string) ([]byte, error) {
	doc, err := u.read(ctx, coll, id)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, NotFound(coll, id)
	}
	return slices.Clone(doc), nil
}

func (u *unit) Create(ctx context.Context, coll, id string, doc []byte) error {
	cur, err := u.read(ctx, coll, id)
	if err != nil {
		return err
	}
	if cur != nil {
		return &Error{Code: ECONFLICT, Err: errors.New(coll + "/" + id + " exists")}
	}
	u.set(coll, id, slices.Clone(doc))
	return nil
}

func (u *unit) Update(ctx context.Context, coll, id string, fn func([]byte) ([]byte, error)) error {
	cur, err := u.read(ctx, coll, id)
	if err != nil {
		return err
	}
	if cur == nil {
		return NotFound(coll, id)
	}
	next, err := fn(slices.Clone(cur))
	if err != nil {
		return err
	}
	u.set(coll, id, slices.Clone(next))
	return nil
}

func (u *unit) Put(_ context.Context, coll, id string, doc []byte) error {
	u.set(coll, id, slices.Clone(doc))
	return nil
}

func (u *unit) Delete(_ context.Context, coll, id string) error {
	u.set(coll, id, nil)
	return nil
}

// List reads the collection as committed, with the unit's own writes
// applied. It is not checked at commit: a unit that must not act on a
// collection that changed meanwhile reads the records it depends on with
// Get.
func (u *unit) List(ctx context.Context, coll string) ([]Doc, error) {
	docs, err := u.base.List(ctx, coll)
	if err != nil {
		return nil, err
	}
	mine := false
	for _, d := range u.docs {
		if d.coll == coll {
			mine = true
			break
		}
	}
	if !mine {
		return docs, nil
	}
	out := docs[:0:0]
	for _, d := range docs {
		if _, ok := u.docs[docKey(coll, d.ID)]; !ok {
			out = append(out, d)
		}
	}
	for _, d := range u.docs {
		if d.coll == coll && d.doc != nil {
			out = append(out, Doc{ID: d.id, Data: slices.Clone(d.doc)})
		}
	}
	slices.SortFunc(out, func(a, b Doc) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Scan reads a page of the collection as committed, merged with the
// unit's own writes: a document the unit put is in the page with the
// unit's value, one it deleted is not, in order and within r.Limit.
//
// Like List, a Scan is not checked at commit: a document another unit
// inserts into the range meanwhile (a phantom) does not make this one
// conflict. A unit that must not act on a range that changed — a
// uniqueness check above all — reads a key document with Get (an index
// document whose id is the unique value), which the commit does check.
func (u *unit) Scan(ctx context.Context, coll string, r Range) ([]Doc, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	var mine []*unitDoc
	for _, d := range u.docs {
		if d.coll == coll && r.Holds(d.id) {
			mine = append(mine, d)
		}
	}
	if len(mine) == 0 {
		return ScanDocs(ctx, u.base, coll, r)
	}
	// Each of the unit's documents hides at most one committed one, so
	// len(mine) more than the page holds the page's committed part.
	br := r
	if r.Limit > 0 {
		br.Limit = r.Limit + len(mine)
	}
	docs, err := ScanDocs(ctx, u.base, coll, br)
	if err != nil {
		return nil, err
	}
	out := make([]Doc, 0, len(docs)+len(mine))
	for _, d := range docs {
		if _, ok := u.docs[docKey(coll, d.ID)]; !ok {
			out = append(out, d)
		}
	}
	for _, d := range mine {
		if d.doc != nil {
			out = append(out, Doc{ID: d.id, Data: slices.Clone(d.doc)})
		}
	}
	slices.SortFunc(out, func(a, b Doc) int {
		if r.Reverse {
			return strings.Compare(b.ID, a.ID)
		}
		return strings.Compare(a.ID, b.ID)
	})
	if r.Limit > 0 && len(out) > r.Limit {
		out = out[:r.Limit]
	}
	return out, nil
}

// NextSeq hands out a number at once, outside the unit: numbers are
// unique but a unit run again or dropped leaves a gap. Record numbers,
// which people read and which must run on without gaps, come from
// nextGapless.
func (u *unit) NextSeq(ctx context.Context, name string) (int64, error) {
	return u.base.NextSeq(ctx, name)
}

// nextGapless is the counter's next value as part of the unit: it is
// taken only if the unit commits, and two units that take the same
// value conflict.
func (u *unit) nextGapless(ctx context.Context, name string) (int64, error) {
	if u.tx == nil {
		return u.base.NextSeq(ctx, name)
	}
	v, ok := u.seqs[name]
	if !ok {
		cur, err := u.tx.ReadSeq(ctx, name)
		if err != nil {
			return 0, err
		}
		u.expect("s"+name, Expect{Kind: ExpectSeq, Name: name, Seq: cur})
		v = cur
	}
	v++
	u.seqs[name] = v
	return v, nil
}

// Claim takes key as part of the unit.
func (u *unit) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if u.tx == nil {
		return u.base.Claim(ctx, key, ttl)
	}
	if _, ok := u.claims[key]; ok {
		return false, nil
	}
	held, err := u.tx.ClaimHeld(ctx, key)
	if err != nil || held {
		return false, err
	}
	u.expect("c"+key, Expect{Kind: ExpectClaim, Name: key})
	u.claims[key] = ttl
	delete(u.drops, key)
	return true, nil
}

// setClaim takes or renews key for ttl when the unit commits, whether or
// not it is held.
func (u *unit) setClaim(key string, ttl time.Duration) {
	u.claims[key] = ttl
	delete(u.drops, key)
}

// fail marks the unit as not to be committed: a command inside it failed
// with err (internal or unavailable) after it may have written, and its
// caller turned the error into an answer rather than returning it.
func (u *unit) fail(err error) {
	if u.failed == nil {
		u.failed = err
	}
}

// dropClaim releases key when the unit commits.
func (u *unit) dropClaim(key string) {
	delete(u.claims, key)
	u.drops[key] = true
}

// wroteIn reports whether the unit of work of ctx has written coll: its
// view of coll is then its own, not a cache's.
func wroteIn(ctx context.Context, coll string) bool {
	u := unitFrom(ctx)
	if u == nil {
		return false
	}
	for _, d := range u.docs {
		if d.coll == coll {
			return true
		}
	}
	return false
}

// requireDoc makes the commit depend on coll/id still existing, whatever
// its value, without reading it.
func (u *unit) requireDoc(coll, id string) {
	u.expect("d"+docKey(coll, id), Expect{Kind: ExpectDoc, Coll: coll, ID: id, Exists: true, Any: true})
}

func (u *unit) Ping(ctx context.Context) error { return u.base.Ping(ctx) }
func (u *unit) Close() error                   { return nil }

func (u *unit) plan() *Commit {
	c := &Commit{Expects: u.expects}
	for _, d := range u.docs {
		if d.doc == nil {
			c.Writes = append(c.Writes, Write{Kind: WriteDelete, Coll: d.coll, ID: d.id})
		} else {
			c.Writes = append(c.Writes, Write{Kind: WritePut, Coll: d.coll, ID: d.id, Doc: d.doc})
		}
	}
	for name, v := range u.seqs {
		c.Writes = append(c.Writes, Write{Kind: WriteSeq, Name: name, Seq: v})
	}
	for key, ttl := range u.claims {
		c.Writes = append(c.Writes, Write{Kind: WriteClaim, Name: key, TTL: ttl})
	}
	for key := range u.drops {
		c.Writes = append(c.Writes, Write{Kind: WriteDeleteClaim, Name: key})
	}
	// A stable order: the same unit gives the same commit.
	slices.SortStableFunc(c.Writes, func(a, b Write) int {
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		return strings.Compare(a.Coll+"\x00"+a.ID+"\x00"+a.Name, b.Coll+"\x00"+b.ID+"\x00"+b.Name)
	})
	return c
}

func (u *unit) commit(ctx context.Context) error {
	c := u.plan()
	if len(c.Writes) == 0 && !u.fenced() {
		return nil // a unit that only read has nothing to commit
	}
	if u.tx != nil {
		return u.tx.Commit(context.WithoutCancel(ctx), c)
	}
	return applyOneByOne(context.WithoutCancel(ctx), u.base, c)
}

// fenced reports whether the unit depends on a document existing (an
// inbox entry): such a unit commits even without writes, so that a
// request completed elsewhere is noticed.
func (u *unit) fenced() bool {
	for _, c := range u.expects {
		if c.Kind == ExpectDoc && c.Any {
			return true
		}
	}
	return false
}

// applyOneByOne is Commit for a store that cannot check: the writes are
// applied in order, without the checks.
func applyOneByOne(ctx context.Context, s Store, c *Commit) error {
	for _, w := range c.Writes {
		var err error
		switch w.Kind {
		case WritePut:
			err = s.Put(ctx, w.Coll, w.ID, w.Doc)
		case WriteDelete:
			err = s.Delete(ctx, w.Coll, w.ID)
		case WriteClaim:
			_, err = s.Claim(ctx, w.Name, w.TTL)
		case WriteSeq, WriteDeleteClaim:
			// Counters were taken at once (nextGapless falls back to
			// NextSeq); a claim without a store that can release it
			// expires by itself.
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// unitStore is the Bot's Store: a call made with the context of a unit
// of work goes through the unit, any other straight to the backend.
type unitStore struct{ Store }

func (s unitStore) route(ctx context.Context) Store {
	if u := unitFrom(ctx); u != nil {
		return u
	}
	return s.Store
}

func (s unitStore) Get(ctx context.Context, coll, id string) ([]byte, error) {
	return s.route(ctx).Get(ctx, coll, id)
}

func (s unitStore) Create(ctx context.Context, coll, id string, doc []byte) error {
	return s.route(ctx).Create(ctx, coll, id, doc)
}

func (s unitStore) Update(ctx context.Context, coll, id string, fn func([]byte) ([]byte, error)) error {
	return s.route(ctx).Update(ctx, coll, id, fn)
}

func (s unitStore) Put(ctx context.Context, coll, id string, doc []byte) error {
	return s.route(ctx).Put(ctx, coll, id, doc)
}

func (s unitStore) Delete(ctx context.Context, coll, id string) error {
	return s.route(ctx).Delete(ctx, coll, id)
}

func (s unitStore) List(ctx context.Context, coll string) ([]Doc, error) {
	return s.route(ctx).List(ctx, coll)
}

// Scan implements Scanner: through the unit of ctx, or on the backend
// (falling back to List when it has no Scanner).
func (s unitStore) Scan(ctx context.Context, coll string, r Range) ([]Doc, error) {
	if u := unitFrom(ctx); u != nil {
		return u.Scan(ctx, coll, r)
	}
	return ScanDocs(ctx, s.Store, coll, r)
}

func (s unitStore) NextSeq(ctx context.Context, name string) (int64, error) {
	return s.route(ctx).NextSeq(ctx, name)
}

func (s unitStore) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return s.route(ctx).Claim(ctx, key, ttl)
}

// ClaimHeld reports whether an unexpired claim on key exists; false when
// the store cannot tell (it is no TxStore).
func (b *Bot) ClaimHeld(ctx context.Context, key string) (bool, error) {
	if tx, ok := b.base().(TxStore); ok {
		return tx.ClaimHeld(ctx, key)
	}
	return false, nil
}

// base returns the backend under the Bot's Store.
func (b *Bot) base() Store {
	if s, ok := b.Store.(unitStore); ok {
		return s.Store
	}
	return b.Store
}

// CommitTarget is what a store that commits in its own process (bbolt,
// the tests' memory store) offers ApplyCommit inside one transaction of
// its own.
type CommitTarget interface {
	Doc(coll, id string) (doc []byte, ok bool, err error)
	Seq(name string) (int64, error)
	ClaimHeld(name string) (bool, error)
	PutDoc(coll, id string, doc []byte) error
	DeleteDoc(coll, id string) error
	SetSeq(name string, v int64) error
	SetClaim(name string, ttl time.Duration) error
	DeleteClaim(name string) error
}

// ApplyCommit is TxStore.Commit on t: it checks c.Expects and, when every
// one holds, applies c.Writes. The caller runs it inside one transaction
// (or under one lock), so that it is atomic.
func ApplyCommit(t CommitTarget, c *Commit) error {
	for _, e := range c.Expects {
		ok, err := holds(t, e)
		if err != nil {
			return err
		}
		if !ok {
			return &Error{Code: ECONFLICT, Err: errors.New("unit of work: a value read has changed")}
		}
	}
	for _, w := range c.Writes {
		var err error
		switch w.Kind {
		case WritePut:
			err = t.PutDoc(w.Coll, w.ID, w.Doc)
		case WriteDelete:
			err = t.DeleteDoc(w.Coll, w.ID)
		case WriteSeq:
			err = t.SetSeq(w.Name, w.Seq)
		case WriteClaim:
			err = t.SetClaim(w.Name, w.TTL)
		case WriteDeleteClaim:
			err = t.DeleteClaim(w.Name)
		default:
			err = errors.New("unit of work: unknown write")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func holds(t CommitTarget, e Expect) (bool, error) {
	switch e.Kind {
	case ExpectDoc:
		doc, ok, err := t.Doc(e.Coll, e.ID)
		if err != nil || ok != e.Exists {
			return false, err
		}
		return !ok || e.Any || bytes.Equal(doc, e.Doc), nil
	case ExpectSeq:
		v, err := t.Seq(e.Name)
		return v == e.Seq, err
	case ExpectClaim:
		held, err := t.ClaimHeld(e.Name)
		return held == e.Exists, err
	}
	return false, errors.New("unit of work: unknown expectation")
}
