package bottest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Mem is an in-memory bot.Store for command tests. Storage behaviour
// itself is tested against bbolt and real Redis in storage/storetest.
type Mem struct {
	mu     sync.Mutex
	docs   map[string]map[string][]byte
	seqs   map[string]int64
	claims map[string]time.Time
	// expiring holds bot.DocExpirer documents, by coll and id.
	expiring map[string]map[string]expiringDoc
	Now      func() time.Time
	// Fail, when set, makes every call return it (a store outage).
	Fail error
}

var (
	_ bot.Store      = (*Mem)(nil)
	_ bot.Scanner    = (*Mem)(nil)
	_ bot.DocExpirer = (*Mem)(nil)
)

type expiringDoc struct {
	doc []byte
	exp time.Time
}

// NewMem returns an empty store.
func NewMem() *Mem {
	return &Mem{docs: map[string]map[string][]byte{}, seqs: map[string]int64{}, claims: map[string]time.Time{}, Now: time.Now}
}

func (m *Mem) coll(c string) map[string][]byte {
	if m.docs[c] == nil {
		m.docs[c] = map[string][]byte{}
	}
	return m.docs[c]
}

// Get implements bot.Store.
func (m *Mem) Get(_ context.Context, coll, id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return nil, m.Fail
	}
	d, ok := m.coll(coll)[id]
	if !ok {
		if x, ok := m.expiring[coll][id]; ok && m.Now().Before(x.exp) {
			return slices.Clone(x.doc), nil
		}
		return nil, bot.NotFound(coll, id)
	}
	return slices.Clone(d), nil
}

// PutExpiring implements bot.DocExpirer: the document is kept apart from
// the listed ones and Get finds it until ttl has passed by m.Now.
func (m *Mem) PutExpiring(_ context.Context, coll, id string, doc []byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	now := m.Now()
	if m.expiring == nil {
		m.expiring = map[string]map[string]expiringDoc{}
	}
	if m.expiring[coll] == nil {
		m.expiring[coll] = map[string]expiringDoc{}
	}
	for k, x := range m.expiring[coll] { // what can no longer be read goes
		if !now.Before(x.exp) {
			delete(m.expiring[coll], k)
		}
	}
	m.expiring[coll][id] = expiringDoc{doc: slices.Clone(doc), exp: now.Add(max(ttl, time.Millisecond))}
	return nil
}

// Expiring returns how many expiring documents coll holds, expired or
// not (what the store still keeps).
func (m *Mem) Expiring(coll string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.expiring[coll])
}

// Create implements bot.Store.
func (m *Mem) Create(_ context.Context, coll, id string, doc []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	if _, ok := m.coll(coll)[id]; ok {
		return bot.Exists(coll, id)
	}
	m.coll(coll)[id] = slices.Clone(doc)
	return nil
}

// Update implements bot.Store.
func (m *Mem) Update(_ context.Context, coll, id string, fn func([]byte) ([]byte, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	d, ok := m.coll(coll)[id]
	if !ok {
		return bot.NotFound(coll, id)
	}
	nd, err := fn(slices.Clone(d))
	if err != nil {
		return err
	}
	m.coll(coll)[id] = slices.Clone(nd)
	return nil
}

// Put implements bot.Store.
func (m *Mem) Put(_ context.Context, coll, id string, doc []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	m.coll(coll)[id] = slices.Clone(doc)
	return nil
}

// Delete implements bot.Store.
func (m *Mem) Delete(_ context.Context, coll, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	delete(m.coll(coll), id)
	delete(m.expiring[coll], id)
	return nil
}

// List implements bot.Store.
func (m *Mem) List(_ context.Context, coll string) ([]bot.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return nil, m.Fail
	}
	var out []bot.Doc
	for id, d := range m.coll(coll) {
		out = append(out, bot.Doc{ID: id, Data: slices.Clone(d)})
	}
	slices.SortFunc(out, func(a, b bot.Doc) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Scan implements bot.Scanner: it sorts the ids in the range and copies
// only the page (a test store: the semantics matter, not the cost).
func (m *Mem) Scan(_ context.Context, coll string, r bot.Range) ([]bot.Doc, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return nil, m.Fail
	}
	var ids []string
	for id := range m.coll(coll) {
		if r.Holds(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if r.Reverse {
		slices.Reverse(ids)
	}
	if r.Limit > 0 && len(ids) > r.Limit {
		ids = ids[:r.Limit]
	}
	out := make([]bot.Doc, 0, len(ids))
	for _, id := range ids {
		out = append(out, bot.Doc{ID: id, Data: slices.Clone(m.coll(coll)[id])})
	}
	return out, nil
}

// NextSeq implements bot.Store.
func (m *Mem) NextSeq(_ context.Context, name string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return 0, m.Fail
	}
	m.seqs[name]++
	return m.seqs[name], nil
}

// Claim implements bot.Store.
func (m *Mem) Claim(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return false, m.Fail
	}
	now := m.Now()
	if exp, ok := m.claims[key]; ok && now.Before(exp) {
		return false, nil
	}
	m.claims[key] = now.Add(ttl)
	return true, nil
}

// Renew implements bot.ClaimRenewer.
func (m *Mem) Renew(_ context.Context, key string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return false, m.Fail
	}
	now := m.Now()
	if exp, ok := m.claims[key]; !ok || !now.Before(exp) {
		return false, nil
	}
	m.claims[key] = now.Add(ttl)
	return true, nil
}

// Ping implements bot.Store.
func (m *Mem) Ping(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.Fail
}

// Close implements bot.Store.
func (m *Mem) Close() error { return nil }
