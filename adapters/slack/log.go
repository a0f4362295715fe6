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
	return bot.RequestLog(ctx, a.log, slog.String("platform", string(Name)),
		slog.String("event", req.EventID), slog.String("user", req.UserID))
}

// eventLog is the logger of an event that does not become a request
// (one the bot ignores): the same attributes, without a request id.
func (a *Adapter) eventLog(eventID, user string) *slog.Logger {
	return a.log.With("platform", Name, "event", eventID, "user", user)
}

// ignored logs, at debug level, that the Events API event outer is not
// handled, and why. The user is that of inner, or, when the inner event
// was not decoded with the body, read from outer.Event only when the
// line is written: most ignored events are channel chatter.
func (a *Adapter) ignored(ctx context.Context, outer outerEvent, inner *innerEvent, reason error) {
	if !a.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	user := ""
	if inner != nil {
		user = inner.User
	} else {
		var e struct {
			User string `json:"user"`
		}
		_ = json.Unmarshal(outer.Event, &e) // no user when it is unreadable
		user = e.User
	}
	a.eventLog(outer.EventID, user).Debug("slack event not handled", "reason", reason)
}
