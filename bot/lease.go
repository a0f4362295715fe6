package bot

import (
	"context"
	"time"
)

// SleepUntil waits until the bot's clock reads t, or ctx is done (it
// returns ctx's error then): Options.SleepUntil, so that background work
// follows a test's fake clock.
func (b *Bot) SleepUntil(ctx context.Context, t time.Time) error { return b.sleepUntil(ctx, t) }

func (b *Bot) sleepReal(ctx context.Context, t time.Time) error {
	d := t.Sub(b.Now())
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// KeepClaim keeps the claim key, which the caller took for ttl, held for
// as long as the caller works: it renews it (ClaimRenewer) every third
// of ttl, so a renewal that fails is tried twice more before the claim
// can run out, until stop is called or ctx is done. renewed, when not
// nil, is told each new end of the claim. A claim that ran out anyway
// (the store unreachable for most of ttl) is taken again if it is still
// free; one another process took in the meantime is logged as lost and
// no longer renewed. stop returns once renewal has ended, so that the
// caller may release the claim without a renewal taking it back.
// Without the store capability KeepClaim does nothing.
func (b *Bot) KeepClaim(ctx context.Context, key string, ttl time.Duration, renewed func(until time.Time)) (stop func()) {
	r, ok := b.base().(ClaimRenewer)
	if !ok || ttl <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		last := b.Now()
		for {
			if b.sleepUntil(ctx, last.Add(ttl/3)) != nil {
				return
			}
			now := b.Now()
			held, err := r.Renew(ctx, key, ttl)
			if err == nil && !held {
				held, err = b.base().Claim(ctx, key, ttl)
				if err == nil && !held {
					b.Log.Error("lease lost while the work goes on: another process may repeat it", "lease", key)
					return
				}
				if err == nil {
					b.Log.Warn("lease ran out while the work went on; taken again", "lease", key)
				}
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				b.Log.Warn("lease not renewed; trying again", "lease", key, "err", err)
				last = last.Add(ttl / 3)
				continue
			}
			last = now
			if renewed != nil {
				renewed(now.Add(ttl))
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
