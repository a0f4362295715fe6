package main

import (
	"context"
	"fmt"

	"github.com/xunji-bot/xunji/bot"
)

// writer groups the generator's record writes into units of work of
// batch records each: one bbolt transaction, one Redis script per unit,
// instead of one commit per record. The save functions of the gen_*.go
// files run inside such a unit with its context, as a command's do.
type writer struct {
	b       *bot.Bot
	batch   int
	pending []func(ctx context.Context, s bot.Store) error
}

// add queues one record's save; a full batch is committed.
func (w *writer) add(ctx context.Context, fn func(ctx context.Context, s bot.Store) error) error {
	w.pending = append(w.pending, fn)
	if len(w.pending) >= w.batch {
		return w.flush(ctx)
	}
	return nil
}

// flush commits the queued saves as one unit of work.
func (w *writer) flush(ctx context.Context) error {
	if len(w.pending) == 0 {
		return nil
	}
	fns := w.pending
	w.pending = nil
	err := w.b.RunUnit(ctx, func(ctx context.Context) error {
		for _, fn := range fns {
			if err := fn(ctx, w.b.Store); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing %d records: %w", len(fns), err)
	}
	return nil
}

// setCounters sets the store's counters (audit sequence, record numbers)
// to what the generated data used, in one commit. s is the backend
// itself (the bot's Store routes units and has no Commit).
func setCounters(ctx context.Context, s bot.Store, counters map[string]int64) error {
	tx, ok := s.(bot.TxStore)
	if !ok {
		return fmt.Errorf("store %T cannot set counters", s)
	}
	c := &bot.Commit{}
	for name, v := range counters {
		c.Writes = append(c.Writes, bot.Write{Kind: bot.WriteSeq, Name: name, Seq: v})
	}
	return tx.Commit(ctx, c)
}
