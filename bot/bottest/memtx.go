package bottest

import (
	"context"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

var _ bot.TxStore = (*Mem)(nil)

// Commit implements bot.TxStore, under the store's lock.
func (m *Mem) Commit(_ context.Context, c *bot.Commit) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return m.Fail
	}
	return bot.ApplyCommit(memTarget{m}, c)
}

// ReadSeq implements bot.TxStore.
func (m *Mem) ReadSeq(_ context.Context, name string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return 0, m.Fail
	}
	return m.seqs[name], nil
}

// ClaimHeld implements bot.TxStore.
func (m *Mem) ClaimHeld(_ context.Context, key string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return false, m.Fail
	}
	return memTarget{m}.ClaimHeld(key)
}

// memTarget is the store seen by bot.ApplyCommit; the caller holds m.mu.
type memTarget struct{ m *Mem }

func (t memTarget) Doc(coll, id string) ([]byte, bool, error) {
	d, ok := t.m.coll(coll)[id]
	return d, ok, nil
}

func (t memTarget) Seq(name string) (int64, error) { return t.m.seqs[name], nil }

func (t memTarget) ClaimHeld(name string) (bool, error) {
	exp, ok := t.m.claims[name]
	return ok && t.m.Now().Before(exp), nil
}

func (t memTarget) PutDoc(coll, id string, doc []byte) error {
	t.m.coll(coll)[id] = slices.Clone(doc)
	return nil
}

func (t memTarget) DeleteDoc(coll, id string) error {
	delete(t.m.coll(coll), id)
	return nil
}

func (t memTarget) SetSeq(name string, v int64) error {
	t.m.seqs[name] = v
	return nil
}

func (t memTarget) SetClaim(name string, ttl time.Duration) error {
	t.m.claims[name] = t.m.Now().Add(ttl)
	return nil
}

func (t memTarget) DeleteClaim(name string) error {
	delete(t.m.claims, name)
	return nil
}
