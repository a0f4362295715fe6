package lark

import (
	"context"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkws "github.com/larksuite/oapi-sdk-go/v3/ws"
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
	cli := larkws.NewClient(a.cfg.AppID, a.cfg.AppSecret,
		larkws.WithEventHandler(a.disp),
		larkws.WithDomain(a.cfg.baseURL()),
		larkws.WithLogger(sdkLogger{a.log}),
		larkws.WithLogLevel(larkcore.LogLevelInfo),
		larkws.WithAutoReconnect(a.wsAutoReconnect),
	)
	errc := make(chan error, 1)
	go func() { errc <- cli.Start(ctx) }()
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}
