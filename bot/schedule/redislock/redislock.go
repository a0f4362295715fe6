// Package redislock is a gocron.Locker on Redis (go-redis v9), so that
// of several xunji processes sharing a Redis store only one starts a
// scheduled job at a time. A lock is a key set with SET NX PX: it
// expires by itself, so a process that dies while holding it blocks
// nobody for longer than the TTL; it is released with a compare-and-
// delete script, so a process never releases a lock that expired and was
// taken by another.
package redislock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/redis/go-redis/v9"
)

// DefaultTTL is how long a lock is held at most.
const DefaultTTL = 2 * time.Minute

// ErrLocked is returned when another process holds the lock.
var ErrLocked = errors.New("redislock: held by another process")

// release deletes the key only if it still holds our token.
var release = redis.NewScript(`
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

// New returns a locker whose keys are prefix + job name (use the store's
// prefix plus "lock:"), held at most ttl (DefaultTTL when 0).
func New(c redis.UniversalClient, prefix string, ttl time.Duration) *Locker {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Locker{c: c, prefix: prefix, ttl: ttl}
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
	return release.Run(ctx, l.c, []string{l.key}, l.token).Err()
}
