package redis

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/bot"
)

var _ bot.DocExpirer = (*Store)(nil)

// PutExpiring implements bot.DocExpirer with one SET PX: the document's
// key carries its time to live and Redis drops it at expiry. It is not
// added to the collection's index, so List never meets a key Redis has
// dropped, and nothing is left behind once it expired.
func (s *Store) PutExpiring(ctx context.Context, coll, id string, doc []byte, ttl time.Duration) error {
	if err := checkColl(coll); err != nil {
		return err
	}
	cmd := redis.NewStatusCmd(ctx, "set", s.docKey(coll, id), doc, "px", ms(ttl))
	if err := s.write(ctx, cmd); err != nil {
		return mapErr(err)
	}
	return mapErr(cmd.Err())
}
