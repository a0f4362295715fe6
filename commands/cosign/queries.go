package cosign

import (
	"context"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// Queries answers other domains' questions about co-signature requests.
// Each question is one method with its filter as parameters, answered
// from the requests' index (CollCosignIndex): each reads the index page
// it needs and then the requests it names.
type Queries struct {
	store   bot.Store
	cosigns bot.Collection[Cosign]
}

// NewQueries returns the co-signature queries over s.
func NewQueries(s bot.Store) Queries {
	return Queries{store: s, cosigns: bot.Records[Cosign](s, CollCosigns)}
}

// Get returns the request with id, e.g. for a rectification item that
// reads its hand-over; a not-found error when there is none.
func (q Queries) Get(ctx context.Context, id string) (*Cosign, error) { return q.cosigns.Get(ctx, id) }

// AwaitingSignatureOf returns the requests in progress (open, or declined
// and back with the creator) where body is a party that has not
// confirmed, in id order.
func (q Queries) AwaitingSignatureOf(ctx context.Context, body string) ([]*Cosign, error) {
	ids, _, err := index.Page(ctx, q.store, CollCosignIndex, idxAwait+body+index.Sep, "", 0, false)
	if err != nil {
		return nil, err
	}
	return q.load(ctx, index.Unique(ids), func(c *Cosign) bool {
		i := c.PartyOf(body)
		return c.inProgress() && i >= 0 && c.Parties[i].State != PartyConfirmed
	})
}

// UnsignedAt returns the open requests with a party that may sign now
// and has not, past its reminder time at now, in id order: the input of
// meeting agendas. Each request's Overdue(now) names the parties.
func (q Queries) UnsignedAt(ctx context.Context, now time.Time) ([]*Cosign, error) {
	// The index holds each open request's earliest reminder time of a
	// party that may sign: at or before now means Overdue is not empty.
	ids, err := index.Until(ctx, q.store, CollCosignIndex, idxWait, now.Add(time.Nanosecond))
	if err != nil {
		return nil, err
	}
	return q.load(ctx, sorted(index.Unique(ids)), func(c *Cosign) bool { return len(c.Overdue(now)) > 0 })
}

// RemindedBetween returns the requests with a party whose reminder time
// falls in [from, to), in id order: the input of the assessment.
func (q Queries) RemindedBetween(ctx context.Context, from, to time.Time) ([]*Cosign, error) {
	ids, err := index.Between(ctx, q.store, CollCosignIndex, idxRemind, from, to)
	if err != nil {
		return nil, err
	}
	return q.load(ctx, sorted(index.Unique(ids)), func(*Cosign) bool { return true })
}

// load reads the requests ids in their order, keeping those keep
// accepts (a check that the index and the record agree costs nothing
// once the record is read).
func (q Queries) load(ctx context.Context, ids []string, keep func(*Cosign) bool) ([]*Cosign, error) {
	out := make([]*Cosign, 0, len(ids))
	for _, id := range ids {
		c, err := q.cosigns.Get(ctx, id)
		if bot.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if keep(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func sorted(ids []string) []string {
	slices.Sort(ids)
	return ids
}

// VisibleTo returns one page of the requests p may know of, newest
// first: up to limit below the request id after ("" = from the newest),
// of any state when all is set and only those in progress otherwise, and
// the cursor of the next page: the last request id of this page's index
// entries (even when its record was left out), or "" when none follow.
// The inspection office reads the whole collection or index; anyone
// else reads only the index entries of its own keys (its bodies and
// itself), so a page holds only requests p may see and says nothing of
// the others, not even how many there are.
func (q Queries) VisibleTo(ctx context.Context, r *bot.Roster, p *bot.Person, all bool, after string, limit int) ([]*Cosign, string, error) {
	var prefixes []string
	coll := CollCosignIndex
	switch {
	case r.HasKind(p, bot.InspectionOffice) && all:
		coll, prefixes = CollCosigns, []string{""}
	case r.HasKind(p, bot.InspectionOffice):
		prefixes = []string{idxActive}
	default:
		idx := idxSeeActive
		if all {
			idx = idxSee
		}
		for _, k := range readerKeys(p) {
			prefixes = append(prefixes, idx+k+index.Sep)
		}
	}
	ids, more, err := index.PageMerged(ctx, q.store, coll, prefixes, after, limit)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more && len(ids) > 0 {
		next = ids[len(ids)-1]
	}
	out, err := q.load(ctx, ids, func(c *Cosign) bool { return (all || c.inProgress()) && c.Visible(r, p) })
	return out, next, err
}
