package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

// CredentialChecker is implemented by adapters that can ask their
// platform, before they run, whether the app's credentials are accepted
// (Slack auth.test, Lark's tenant access token). The program refuses to
// start when they are not (IsAuthFailure), rather than run a bot that
// cannot answer anyone.
type CredentialChecker interface {
	CheckCredentials(ctx context.Context) error
}

type logKey struct{}

// WithLog returns ctx carrying l: the lines logged for the work of one
// request (Log) then carry its request id, event, platform and user.
func WithLog(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, logKey{}, l)
}

// Log returns the logger ctx carries (WithLog), or def when it carries
// none.
func Log(ctx context.Context, def *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return def
}

// requestLog returns ctx with a logger naming req (request id, event,
// platform, user) unless ctx already carries one, and that logger.
func requestLog(ctx context.Context, def *slog.Logger, req *Request) (context.Context, *slog.Logger) {
	return RequestLog(ctx, def, slog.String("platform", string(req.Platform)),
		slog.String("event", req.EventID), slog.String("user", req.UserID))
}

// RequestLog returns ctx carrying the logger of one request's lines, and
// that logger: def with a new request id and attrs (event, platform,
// user), added to a line only when one is written. A ctx that carries
// a logger already (WithLog) keeps it. Adapters call it before the core
// does, so that their lines about a request and the core's share one
// request id.
func RequestLog(ctx context.Context, def *slog.Logger, attrs ...slog.Attr) (context.Context, *slog.Logger) {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok && l != nil {
		return ctx, l
	}
	all := make([]slog.Attr, 0, len(attrs)+1)
	all = append(all, slog.String("request", NewRequestID()))
	l := slog.New(&lazyAttrs{Handler: def.Handler(), attrs: append(all, attrs...)})
	return WithLog(ctx, l), l
}

// lazyAttrs is a handler with attributes of its own that it adds to a
// record only when one is logged. slog's Logger.With formats them into
// the handler at once, which every request would pay for on the
// acknowledgement path although most requests log nothing.
type lazyAttrs struct {
	slog.Handler
	attrs []slog.Attr
}

func (h *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	return h.Handler.Handle(ctx, r)
}

func (h *lazyAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	return h.Handler.WithAttrs(h.attrs).WithAttrs(as)
}

func (h *lazyAttrs) WithGroup(name string) slog.Handler {
	return h.Handler.WithAttrs(h.attrs).WithGroup(name)
}

// NewRequestID returns a random id naming one request in the logs.
func NewRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// verbOf names what req asks for, for logs: the command's verb, the
// action, or "-".
func verbOf(req *Request) string {
	switch {
	case req.Command != nil && req.Command.Verb != nil:
		return req.Command.Verb.Name
	case req.Kind == KindAction && req.Action != "":
		return req.Action
	}
	return "-"
}
