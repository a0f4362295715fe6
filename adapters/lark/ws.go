package lark

import (
	"context"
	"errors"
	"fmt"
	"strings"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkws "github.com/larksuite/oapi-sdk-go/v3/ws"

	"github.com/xunji-bot/xunji/bot"
)

// runWS runs the SDK's long connection client with the same dispatcher
// as the HTTP callbacks, until ctx is done. The connection authenticates
// with the app credentials, so events arrive neither encrypted nor
// signed, and card callbacks come as card.action.trigger events whose
// answer the client sends back in the reply frame.
//
// The SDK client (v3.5.3) has no way to stop: Start blocks for ever and
// its read, ping and reconnect loops end with the process. Run therefore
// returns when ctx is done and leaves them behind; the events still being
// processed are waited for by Run.
func (a *Adapter) runWS(ctx context.Context) error {
	// dead learns, from the client's log, that it stopped trying: its
	// reconnect loop (v3.5.3) gives up on an error retrying cannot fix —
	// the app's credentials refused while running — or after the retries
	// Lark's client config allows, logs it and ends, while Start blocks
	// for ever. Run returns that error, so that the program marks the
	// adapter down and starts it again with backoff.
	dead := make(chan error, 1)
	cli := larkws.NewClient(a.cfg.AppID, a.cfg.AppSecret,
		larkws.WithEventHandler(a.disp),
		larkws.WithDomain(a.cfg.baseURL()),
		larkws.WithLogger(wsStateLogger{sdkLogger{a.log}, a, dead}),
		larkws.WithLogLevel(larkcore.LogLevelInfo),
		larkws.WithAutoReconnect(a.wsAutoReconnect),
	)
	errc := make(chan error, 1)
	go func() { errc <- cli.Start(ctx) }()
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return wsError(err)
	case err := <-dead:
		a.wsUp.Store(false)
		return wsError(err)
	}
}

// wsError classifies an error that ended the long connection client. A
// refusal from the connection endpoint, which authenticates with the app
// id and secret, is the app's credentials (bot.AuthFailure with Lark's
// code) — except too many connections, which a restart may fix.
func wsError(err error) error {
	if ce, ok := errors.AsType[*larkws.ClientError](err); ok && ce.Code != larkws.ExceedConnLimit {
		return authRefused{&APIError{Op: "long connection", Code: ce.Code, Msg: ce.Msg}}
	}
	return fmt.Errorf("lark long connection: %w", err)
}

var _ bot.HealthChecker = (*Adapter)(nil)

// Health implements bot.HealthChecker: with the long connection, whether
// it is up; HTTP callbacks have no connection of their own.
func (a *Adapter) Health() error {
	if a.cfg.mode() == ModeWS && !a.wsUp.Load() {
		return errors.New("lark long connection not connected")
	}
	return nil
}

// wsStateLogger is the SDK ws client's logger, which also follows the
// connection's state: the client (v3.5.3) exposes none, but logs each
// change. The lines it looks for are pinned by the SDK version in go.mod
// and by TestLongConnectionHealth, which runs the real client.
type wsStateLogger struct {
	sdkLogger
	a    *Adapter
	dead chan<- error // told the error the client gave up on (runWS)
}

func (l wsStateLogger) Info(ctx context.Context, args ...interface{}) {
	l.follow(args)
	l.sdkLogger.Info(ctx, args...)
}

func (l wsStateLogger) Warn(ctx context.Context, args ...interface{}) {
	l.follow(args)
	l.sdkLogger.Warn(ctx, args...)
}

func (l wsStateLogger) Error(ctx context.Context, args ...interface{}) {
	l.follow(args)
	l.sdkLogger.Error(ctx, args...)
	// The reconnect loop's end is logged as the bare error it returns.
	if len(args) == 1 {
		if err, ok := args[0].(error); ok && givenUp(err) {
			l.a.wsUp.Store(false)
			select {
			case l.dead <- err:
			default:
			}
		}
	}
}

// givenUp reports whether err, logged by the client's reconnect loop,
// means it stopped reconnecting: a refusal (*larkws.ClientError), or the
// retries of Lark's client config used up.
func givenUp(err error) bool {
	if _, ok := errors.AsType[*larkws.ClientError](err); ok {
		return true
	}
	return strings.HasPrefix(err.Error(), "unable to connect to server after ")
}

func (l wsStateLogger) follow(args []interface{}) {
	if len(args) == 0 {
		return
	}
	msg := fmt.Sprint(args[0])
	switch {
	case strings.HasPrefix(msg, "connected to "):
		l.a.wsUp.Store(true)
	case strings.HasPrefix(msg, "disconnected to "), strings.HasPrefix(msg, "connect failed"),
		strings.HasPrefix(msg, "connection is closed"), strings.HasPrefix(msg, "trying to reconnect"):
		l.a.wsUp.Store(false)
	}
}
