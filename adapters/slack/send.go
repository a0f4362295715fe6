package slack

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/xunji-bot/xunji/bot"
)

// Send implements bot.Adapter. It updates m.Update with chat.update,
// posts to m.ChatID with chat.postMessage, or opens a direct message with
// m.UserID (conversations.open) and posts there; m.Files are uploaded to
// the same channel after the message. Slack has no idempotency key for
// posts, so m.Key is not used. Errors tell a durable outbox what to do:
// they implement bot.RetryAfter after a 429 and bot.Permanent when
// retrying cannot help.
func (a *Adapter) Send(ctx context.Context, m bot.Outgoing) (bot.MessageRef, error) {
	if m.Platform != "" && m.Platform != Name {
		return bot.MessageRef{}, fmt.Errorf("slack: cannot send a %s message", m.Platform)
	}
	msg := a.replyMessage(bot.Reply{Text: m.Text, Card: m.Card})
	hasMsg := msg.Text != "" || len(msg.Blocks) > 0
	if !hasMsg && len(m.Files) == 0 {
		return bot.MessageRef{}, errors.New("slack: empty message")
	}
	if m.Update != nil && hasMsg {
		channel := m.Update.ChatID
		if channel == "" {
			channel = m.ChatID
		}
		ch, ts, _, err := a.api.UpdateMessageContext(ctx, channel, m.Update.ID, msg.options()...)
		if err != nil {
			return bot.MessageRef{}, classify("chat.update", err)
		}
		if ch == "" {
			ch = channel
		}
		if ts == "" {
			ts = m.Update.ID
		}
		return bot.MessageRef{Platform: Name, ChatID: ch, ID: ts}, a.sendFiles(ctx, ch, m.Files)
	}
	channel := m.ChatID
	if channel == "" && m.Update != nil {
		channel = m.Update.ChatID
	}
	if channel == "" {
		if m.UserID == "" {
			return bot.MessageRef{}, errors.New("slack: message has neither a chat nor a user")
		}
		var err error
		if channel, err = a.directChannel(ctx, m.UserID); err != nil {
			return bot.MessageRef{}, err
		}
	}
	if !hasMsg {
		// Files alone: the first file stands for the message.
		var ids []string
		for _, f := range m.Files {
			id, err := a.upload(ctx, channel, "", f)
			if err != nil {
				return bot.MessageRef{}, err
			}
			ids = append(ids, id)
		}
		return bot.MessageRef{Platform: Name, ChatID: channel, ID: ids[0]}, nil
	}
	if err := a.pace.wait(ctx, channel); err != nil {
		return bot.MessageRef{}, err
	}
	ch, ts, err := a.api.PostMessageContext(ctx, channel, msg.options()...)
	if err != nil {
		return bot.MessageRef{}, classify("chat.postMessage", err)
	}
	if ch == "" {
		ch = channel
	}
	return bot.MessageRef{Platform: Name, ChatID: ch, ID: ts}, a.sendFiles(ctx, ch, m.Files)
}

// sendFiles uploads files to channel after their message.
func (a *Adapter) sendFiles(ctx context.Context, channel string, files []bot.File) error {
	for _, f := range files {
		if _, err := a.upload(ctx, channel, "", f); err != nil {
			return err
		}
	}
	return nil
}

// directChannel returns the direct message channel with user, opening it
// the first time.
func (a *Adapter) directChannel(ctx context.Context, user string) (string, error) {
	a.mu.Lock()
	id := a.dms[user]
	a.mu.Unlock()
	if id != "" {
		return id, nil
	}
	ch, _, _, err := a.api.OpenConversationContext(ctx, &slackgo.OpenConversationParameters{Users: []string{user}})
	if err != nil {
		return "", classify("conversations.open", err)
	}
	a.mu.Lock()
	a.dms[user] = ch.ID
	a.mu.Unlock()
	return ch.ID, nil
}

// permanentCodes are Slack API errors that sending again cannot fix.
var permanentCodes = map[string]bool{
	"channel_not_found": true, "not_in_channel": true, "is_archived": true,
	"msg_too_long": true, "no_text": true, "invalid_blocks": true, "invalid_blocks_format": true,
	"user_not_found": true, "user_disabled": true, "cannot_dm_bot": true,
	"message_not_found": true, "cant_update_message": true, "edit_window_closed": true,
	"restricted_action": true,
}

// authCodes are Slack API errors of the app's token or scopes: fixing
// the app fixes them, so a queued message is kept (bot.AuthFailure)
// rather than given up, and the adapter does not start with them.
var authCodes = map[string]bool{
	"invalid_auth": true, "not_authed": true, "account_inactive": true,
	"token_revoked": true, "token_expired": true, "missing_scope": true,
	"no_permission": true, "ekm_access_denied": true,
}

// rateLimitedError is a send refused with 429 after the client's own
// retries; it says when to try again (bot.RetryAfter).
type rateLimitedError struct {
	error
	after time.Duration
}

func (e rateLimitedError) RetryAfter() time.Duration { return e.after }
func (e rateLimitedError) Unwrap() error             { return e.error }

// permanentError is a send that retrying cannot fix (bot.Permanent).
type permanentError struct{ error }

func (e permanentError) Permanent() bool { return true }
func (e permanentError) Unwrap() error   { return e.error }

// authError is a call refused for the app's credentials or scopes
// (bot.AuthFailure).
type authError struct{ error }

func (e authError) AuthFailure() bool { return true }
func (e authError) Unwrap() error     { return e.error }

// codedError carries Slack's error code (bot.APICoder), for metrics.
type codedError struct {
	error
	code string
}

func (e codedError) APICode() string { return e.code }
func (e codedError) Unwrap() error   { return e.error }

var (
	_ bot.RetryAfter  = rateLimitedError{}
	_ bot.Permanent   = permanentError{}
	_ bot.AuthFailure = authError{}
	_ bot.APICoder    = codedError{}
)

// classify wraps a Web API error so that a durable outbox can tell a
// rate limit (wait, then retry) and a permanent failure (give up) from a
// transient one (retry with backoff).
func classify(method string, err error) error {
	var wrapped error = fmt.Errorf("slack: %s: %w", method, err)
	if rl, ok := errors.AsType[*slackgo.RateLimitedError](err); ok {
		return rateLimitedError{codedError{wrapped, "ratelimited"}, rl.RetryAfter}
	}
	if e, ok := errors.AsType[slackgo.SlackErrorResponse](err); ok {
		wrapped = codedError{wrapped, e.Err}
		switch {
		case authCodes[e.Err]:
			return authError{wrapped}
		case permanentCodes[e.Err]:
			return permanentError{wrapped}
		}
		return wrapped
	}
	if e, ok := errors.AsType[slackgo.StatusCodeError](err); ok {
		wrapped = codedError{wrapped, fmt.Sprintf("http_%d", e.Code)}
		if e.Code >= 400 && e.Code < 500 && e.Code != 408 && e.Code != 429 {
			return permanentError{wrapped}
		}
	}
	return wrapped
}

// pacer keeps posts to one channel near Slack's one message per second,
// allowing a short burst: a token bucket per channel.
type pacer struct {
	every time.Duration
	burst float64

	// keep is how many channels are tracked before idle ones are forgotten.
	keep int

	mu     sync.Mutex
	ch     map[string]*bucket
	pruned time.Time // the last prune: at most one per interval
}

type bucket struct {
	tokens float64 // may go negative: posts already waiting
	at     time.Time
}

func newPacer(every time.Duration, burst int) *pacer {
	return &pacer{every: every, burst: float64(burst), keep: 10000, ch: map[string]*bucket{}}
}

// wait blocks until a post to channel may go out, or ctx is done.
func (p *pacer) wait(ctx context.Context, channel string) error {
	now := time.Now()
	p.mu.Lock()
	b := p.ch[channel]
	if b == nil {
		if len(p.ch) > p.keep && now.Sub(p.pruned) >= p.every {
			// A scan of the whole map, so not on every new channel: with
			// more than keep recent channels that was one per post.
			p.prune(now)
			p.pruned = now
		}
		b = &bucket{tokens: p.burst, at: now}
		p.ch[channel] = b
	}
	b.tokens = min(p.burst, b.tokens+float64(now.Sub(b.at))/float64(p.every))
	b.at = now
	b.tokens--
	var delay time.Duration
	if b.tokens < 0 {
		delay = time.Duration(-b.tokens * float64(p.every))
	}
	p.mu.Unlock()
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// prune forgets channels whose bucket has refilled.
func (p *pacer) prune(now time.Time) {
	for k, b := range p.ch {
		if b.tokens+float64(now.Sub(b.at))/float64(p.every) >= p.burst {
			delete(p.ch, k)
		}
	}
}
