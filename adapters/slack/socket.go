package slack

import (
	"context"
	"errors"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/xunji-bot/xunji/bot"
)

// runSocket runs the Socket Mode client until ctx is done. Each envelope
// is acknowledged as soon as its work is accepted (a slash command's
// answer rides on its acknowledgement when it is ready within ackWait);
// the work runs in the background like in HTTP mode.
func (a *Adapter) runSocket(ctx context.Context, h bot.Handler) error {
	client := socketmode.New(a.api)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Run over is not connected, whichever of the client's last events
	// (a disconnect, a refused token) the loop below read before the
	// client's end.
	defer a.connected.Store(false)
	done := make(chan error, 1)
	go func() { done <- client.RunContext(ctx) }()
	a.log.Info("slack adapter ready", "mode", a.cfg.Mode)
	for {
		select {
		case <-ctx.Done():
			<-done
			return nil
		case err := <-done:
			if ctx.Err() != nil {
				return nil
			}
			// The client retries a lost connection by itself and returns
			// only what retrying cannot fix: a refused token (revoked
			// while running) ends Run as an auth failure with its code,
			// so that the supervisor marks the adapter down and restarts
			// it with backoff.
			return classify("socket mode", err)
		case evt := <-client.Events:
			a.socketEvent(ctx, client, h, evt)
		}
	}
}

func (a *Adapter) socketEvent(ctx context.Context, client *socketmode.Client, h bot.Handler, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnecting:
		a.connected.Store(false)
		a.log.Debug("slack socket mode connecting")
	case socketmode.EventTypeConnected:
		a.connected.Store(true)
		a.log.Info("slack socket mode connected")
	case socketmode.EventTypeHello:
		a.connected.Store(true)
		a.log.Debug("slack socket mode", "frame", evt.Type)
	case socketmode.EventTypeDisconnect:
		a.connected.Store(false)
		a.log.Debug("slack socket mode", "frame", evt.Type)
	case socketmode.EventTypeConnectionError, socketmode.EventTypeInvalidAuth:
		a.connected.Store(false)
		a.log.Warn("slack socket mode problem", "type", evt.Type, "detail", socketErr(evt.Data))
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		a.log.Warn("slack socket mode problem", "type", evt.Type, "detail", socketErr(evt.Data))
	case socketmode.EventTypeEventsAPI:
		req, o, outer, inner, err := a.eventRequest(evt.Request.Payload)
		if err != nil {
			if !errors.Is(err, errForeignTeam) {
				a.ignored(ctx, outer, inner, err)
			}
			a.ack(ctx, client, evt.Request, nil)
			return
		}
		rctx, log := a.requestLog(ctx, req)
		if evt.Request.RetryAttempt > 0 {
			log.Info("slack event redelivered", "retry", evt.Request.RetryAttempt, "reason", evt.Request.RetryReason)
		}
		// Acknowledge only work accepted: while shutting down, Slack
		// redelivers the envelope to another connection.
		envelope := evt.Request
		a.handle(rctx, h, req, o, func() { a.ack(ctx, client, envelope, nil) })
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slackgo.SlashCommand)
		if !ok || !a.teamAllowed(cmd.TeamID, "command", cmd.TriggerID) {
			a.ack(ctx, client, evt.Request, nil)
			return
		}
		envelope := evt.Request
		// Wait for the answer off the event loop, so other envelopes are
		// acknowledged meanwhile.
		go a.slash(ctx, h, cmd, envelope.AcceptsResponsePayload, func(m *message) {
			a.ack(ctx, client, envelope, m)
		})
	case socketmode.EventTypeInteractive:
		ic, ok := evt.Data.(slackgo.InteractionCallback)
		if !ok || !a.teamAllowed(ic.Team.ID, "interaction", ic.TriggerID) {
			a.ack(ctx, client, evt.Request, nil)
			return
		}
		envelope := evt.Request
		// A prompt button's click waits for views.open; do it off the
		// event loop. An empty acknowledgement closes a submitted modal.
		go a.interaction(ctx, h, &ic, func() { a.ack(ctx, client, envelope, nil) })
	default:
		if evt.Request != nil && evt.Request.EnvelopeID != "" {
			a.ack(ctx, client, evt.Request, nil)
		}
	}
}

// ack acknowledges an envelope, with payload when there is one.
func (a *Adapter) ack(ctx context.Context, client *socketmode.Client, req *socketmode.Request, payload *message) {
	if req == nil || req.EnvelopeID == "" {
		return
	}
	res := socketmode.Response{EnvelopeID: req.EnvelopeID}
	if payload != nil {
		res.Payload = payload
	}
	if err := client.SendCtx(ctx, res); err != nil && !errors.Is(err, context.Canceled) {
		a.log.Warn("slack envelope not acknowledged", "envelope", req.EnvelopeID, "err", err)
	}
}

func socketErr(data any) any {
	switch d := data.(type) {
	case *slackgo.ConnectionErrorEvent:
		return d.ErrorObj
	case error:
		return d
	default:
		return data
	}
}

var _ bot.HealthChecker = (*Adapter)(nil)

// Health implements bot.HealthChecker: in Socket Mode, whether the
// websocket to Slack is up; HTTP mode has no connection of its own.
func (a *Adapter) Health() error {
	if a.cfg.Mode == ModeSocket && !a.connected.Load() {
		return errors.New("slack socket mode not connected")
	}
	return nil
}
