package redis

// The distributed lock (formerly bot/schedule/redislock): a gocron.Locker
// on this store's Redis, so that of several xunji processes sharing a
// Redis store only one starts a scheduled job at a time. A lock is a key
// set with SET NX PX: it expires by itself, so a process that dies while
// holding it blocks nobody for longer than the TTL; it is released with a
// compare-and-delete script, so a process never releases a lock that
// expired and was taken by another.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/redis/go-redis/v9"
)

// DefaultLockTTL is how long a lock is held at most.
const DefaultLockTTL = 2 * time.Minute

// ErrLocked is returned when another process holds the lock.
var ErrLocked = errors.New("redis: lock held by another process")

// releaseLock deletes the key only if it still holds our token.
var releaseLock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

// Locker implements gocron.Locker.
type Locker struct {
	c      redis.UniversalClient
	prefix string
	ttl    time.Duration
}

var _ gocron.Locker = (*Locker)(nil)

// NewLocker returns a locker whose keys are prefix + job name, held at
// most ttl (DefaultLockTTL when 0). Store.Locker is the usual way to get
// one.
func NewLocker(c redis.UniversalClient, prefix string, ttl time.Duration) *Locker {
	if ttl <= 0 {
		ttl = DefaultLockTTL
	}
	return &Locker{c: c, prefix: prefix, ttl: ttl}
}

// Locker returns the store's distributed job locker: its keys are the
// store's prefix + "lock:" + job name, held at most DefaultLockTTL. It
// makes the store a schedule.LockingStore.
func (s *Store) Locker() gocron.Locker {
	return NewLocker(s.c, s.prefix+"lock:", DefaultLockTTL)
}

// Lock takes the lock named key, or fails with ErrLocked.
func (l *Locker) Lock(ctx context.Context, key string) (gocron.Lock, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	token := hex.EncodeToString(b[:])
	k := l.prefix + key
	ok, err := l.c.SetNX(ctx, k, token, l.ttl).Result()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrLocked
	}
	return &lock{c: l.c, key: k, token: token}, nil
}

type lock struct {
	c     redis.UniversalClient
	key   string
	token string
}

// Unlock releases the lock if it is still ours.
func (l *lock) Unlock(ctx context.Context) error {
	return releaseLock.Run(ctx, l.c, []string{l.key}, l.token).Err()
}
