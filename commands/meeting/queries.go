package meeting

import (
	"context"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// Queries answers other domains' questions about meetings. Each question
// is one method with its filter as parameters, answered from the
// meetings' index (CollMeetingIndex) by date.
type Queries struct {
	store    bot.Store
	meetings bot.Collection[Meeting]
}

// NewQueries returns the meeting queries over s.
func NewQueries(s bot.Store) Queries {
	return Queries{store: s, meetings: bot.Records[Meeting](s, CollMeetings)}
}

// ScheduledBetween returns the meetings not cancelled whose time falls
// in [from, to), by time.
func (q Queries) ScheduledBetween(ctx context.Context, from, to time.Time) ([]*Meeting, error) {
	ids, err := index.Between(ctx, q.store, CollMeetingIndex, idxScheduled, from, to)
	if err != nil {
		return nil, err
	}
	return q.load(ctx, ids, func(mt *Meeting) bool { return mt.State == MeetingScheduled })
}

// load reads the meetings the index ids name (their last part), in
// order, keeping those keep accepts.
func (q Queries) load(ctx context.Context, ids []string, keep func(*Meeting) bool) ([]*Meeting, error) {
	out := make([]*Meeting, 0, len(ids))
	for _, id := range index.Unique(ids) {
		mt, err := q.meetings.Get(ctx, id)
		if bot.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if keep(mt) {
			out = append(out, mt)
		}
	}
	return out, nil
}
