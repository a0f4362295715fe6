package consult

import (
	"context"
	"slices"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// Queries answers other domains' questions about information requests.
// Each question is one method with its filter as parameters, answered
// from the requests' index (CollConsultIndex).
type Queries struct {
	store    bot.Store
	consults bot.Collection[Consultation]
}

// NewQueries returns the consultation queries over s.
func NewQueries(s bot.Store) Queries {
	return Queries{store: s, consults: bot.Records[Consultation](s, CollConsults)}
}

// UnansweredBy returns the requests that ask body and that it has not
// answered, in id order.
func (q Queries) UnansweredBy(ctx context.Context, body string) ([]*Consultation, error) {
	ids, _, err := index.Page(ctx, q.store, CollConsultIndex, idxOpen+body+index.Sep, "", 0, false)
	if err != nil {
		return nil, err
	}
	return q.load(ctx, ids, func(c *Consultation) bool {
		i := c.Dept(body)
		return i >= 0 && !c.Depts[i].Answered()
	})
}

// load reads the requests the index ids name (their last part), in
// order, keeping those keep accepts.
func (q Queries) load(ctx context.Context, ids []string, keep func(*Consultation) bool) ([]*Consultation, error) {
	out := make([]*Consultation, 0, len(ids))
	for _, id := range index.Unique(ids) {
		c, err := q.consults.Get(ctx, id)
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
	return slices.Clip(out), nil
}

// VisibleTo returns one page of the requests p may know of, newest
// first: up to limit (all for 0) below the request id after ("" = from
// the newest), of round only when round is not "", and the cursor of
// the next page: the last request id of this page's index entries (even
// when its record was left out), or "" when none follow. The inspection office reads the whole index; anyone else reads
// only the index entries of its own keys (its bodies and itself), so a
// page holds only requests p may see and says nothing of the others.
func (q Queries) VisibleTo(ctx context.Context, r *bot.Roster, p *bot.Person, round, after string, limit int) ([]*Consultation, string, error) {
	var ids []string
	var more bool
	var err error
	office := r.HasKind(p, bot.InspectionOffice)
	switch {
	case office && round == "":
		ids, more, err = index.PageMerged(ctx, q.store, CollConsults, []string{""}, after, limit)
	case office:
		ids, more, err = index.PageMerged(ctx, q.store, CollConsultIndex, []string{idxRound + round + index.Sep}, after, limit)
	default:
		var prefixes []string
		for _, k := range readerKeys(p) {
			if round == "" {
				prefixes = append(prefixes, idxSee+k+index.Sep)
			} else {
				prefixes = append(prefixes, idxSeeRound+k+index.Sep+round+index.Sep)
			}
		}
		ids, more, err = index.PageMerged(ctx, q.store, CollConsultIndex, prefixes, after, limit)
	}
	if err != nil {
		return nil, "", err
	}
	next := ""
	if more && len(ids) > 0 {
		next = ids[len(ids)-1]
	}
	out, err := q.load(ctx, ids, func(c *Consultation) bool {
		return (round == "" || c.Round == round) && c.Visible(r, p)
	})
	return out, next, err
}
