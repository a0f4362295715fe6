package slack

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/xunji-bot/xunji/bot"
)

// requestLog returns ctx carrying the logger of req's lines, and that
// logger: the core's request attributes (request id, platform, event,
// user), so that the adapter's lines about req and the core's (bot.Serve
// takes the logger ctx carries) share one request id. A ctx that
// carries one already keeps it.
func (a *Adapter) requestLog(ctx context.Context, req *bot.Request) (context.Context, *slog.Logger) {
	if l := bot.Log(ctx, nil); l != nil {
		return ctx, l
	}
	l := a.log.With("request", bot.NewRequestID(), "platform", bot.Slack, "event", req.EventID, "user", req.UserID)
	return bot.WithLog(ctx, l), l
}

// eventLog is the logger of an event that does not become a request
// (one the bot ignores): the same attributes, without a request id.
func (a *Adapter) eventLog(eventID, user string) *slog.Logger {
	return a.log.With("platform", bot.Slack, "event", eventID, "user", user)
}

// ignored logs, at debug level, that the Events API event outer is not
// handled, and why. The inner event is read again for its user only when
// the line is written: most ignored events are channel chatter.
func (a *Adapter) ignored(ctx context.Context, outer outerEvent, reason error) {
	if !a.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	var inner struct {
		User string `json:"user"`
	}
	_ = json.Unmarshal(outer.Event, &inner) // no user when it is unreadable
	a.eventLog(outer.EventID, inner.User).Debug("slack event not handled", "reason", reason)
}
