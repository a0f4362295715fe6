package index

import (
	"context"
	"encoding/json"

	"github.com/xunji-bot/xunji/bot"
)

// Records is a domain's collection of T whose every write keeps the
// record's index documents (Docs) in step, in the same unit of work: the
// one save path of a domain that Sync describes, written once.
type Records[T any] struct {
	Coll string           // the records' collection
	Docs func(v *T) []Doc // a record's index documents
}

// Create stores v as a new record id with its index documents, in the
// unit of work of ctx; ECONFLICT if id exists.
func (r Records[T]) Create(ctx context.Context, s bot.Store, id string, v *T) error {
	if err := bot.Records[T](s, r.Coll).Create(ctx, id, v); err != nil {
		return err
	}
	return Sync(ctx, s, nil, r.Docs(v))
}

// Update applies fn to record id atomically, as Collection.Update, and
// moves its index documents from those of the record it read to those of
// the result, in the unit of work of ctx.
func (r Records[T]) Update(ctx context.Context, s bot.Store, id string, fn func(*T) error) (*T, error) {
	var old []Doc
	v, err := bot.Records[T](s, r.Coll).Update(ctx, id, func(v *T) error {
		old = r.Docs(v)
		return fn(v)
	})
	if err != nil {
		return nil, err
	}
	return v, Sync(ctx, s, old, r.Docs(v))
}

// Backfill gives the records of a store written before the index their
// index documents, once, under the marker name (see the function
// Backfill). A new name whenever Docs gains documents makes a store
// backfilled before get them too.
func (r Records[T]) Backfill(ctx context.Context, b *bot.Bot, name string) (int, error) {
	return Backfill(ctx, b, name, r.Coll, func(data []byte) ([]Doc, error) {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, err
		}
		return r.Docs(&v), nil
	})
}
