package lark

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/xunji-bot/xunji/bot"
)

// sdkLogger routes the SDK's log lines to slog.
type sdkLogger struct{ l *slog.Logger }

func (s sdkLogger) Debug(ctx context.Context, args ...interface{}) {
	s.log(ctx, slog.LevelDebug, args)
}

func (s sdkLogger) Info(ctx context.Context, args ...interface{}) { s.log(ctx, slog.LevelInfo, args) }

func (s sdkLogger) Warn(ctx context.Context, args ...interface{}) { s.log(ctx, slog.LevelWarn, args) }

func (s sdkLogger) Error(ctx context.Context, args ...interface{}) {
	s.log(ctx, slog.LevelError, args)
}

func (s sdkLogger) log(ctx context.Context, level slog.Level, args []interface{}) {
	if ctx == nil {
		ctx = context.Background()
	}
	if !s.l.Enabled(ctx, level) {
		return
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprint(a)
	}
	s.l.Log(ctx, level, "lark sdk: "+scrub(strings.Join(parts, " ")))
}

// sensitiveParam matches URL query parameters that carry credentials:
// the long connection URL has an access key and a ticket.
var sensitiveParam = regexp.MustCompile(`(?i)\b(access_key|ticket|app_secret|token)=[^&\s"]+`)

// scrub removes credentials from an SDK log line.
func scrub(s string) string { return sensitiveParam.ReplaceAllString(s, "$1=***") }

// requestLog returns ctx carrying the logger of the lines about one
// event, and that logger: the core's request attributes (request id,
// event, user; platform comes with the adapter's logger), so that the
// adapter's lines about it and the core's (bot.Serve takes the logger
// ctx carries) share one request id. A ctx that carries one keeps it.
func (a *Adapter) requestLog(ctx context.Context, eventID, user string) (context.Context, *slog.Logger) {
	return bot.RequestLog(ctx, a.log, slog.String("event", eventID), slog.String("user", user))
}
