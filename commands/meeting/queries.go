package meeting

import (
	"context"
	"slices"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// Queries answers other domains' questions about meetings. Each question
// is one method with its filter as parameters, so that an index (by
// date) can answer it later without a change to the callers. For now
// each reads the whole collection.
type Queries struct{ meetings bot.Collection[Meeting] }

// NewQueries returns the meeting queries over s.
func NewQueries(s bot.Store) Queries { return Queries{meetings: bot.Records[Meeting](s, CollMeetings)} }

// ScheduledBetween returns the meetings not cancelled whose time falls
// in [from, to), in id order.
func (q Queries) ScheduledBetween(ctx context.Context, from, to time.Time) ([]*Meeting, error) {
	all, err := q.meetings.List(ctx)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(m *Meeting) bool {
		return m.State != MeetingScheduled || m.Time.Before(from) || !m.Time.Before(to)
	}), nil
}
