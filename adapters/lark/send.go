package lark

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/xunji-bot/xunji/bot"
)

// Send implements bot.Adapter: a message to a chat (ChatID, receive_id_type
// chat_id) or to a person (UserID, open_id) through Message.Create, or a
// card update (Update) through Message.Patch. Each send carries a uuid —
// derived from Key, or generated and reused across the retries of this
// send — so Lark shows a retried send once. Rate limits and transient
// failures are retried with backoff a bounded number of times.
func (a *Adapter) Send(ctx context.Context, m bot.Outgoing) (bot.MessageRef, error) {
	if m.Update != nil {
		ref := *m.Update
		ref.Platform = Name
		if m.Card == nil {
			return ref, a.editText(ctx, ref.ID, m.Text)
		}
		return ref, a.patchCard(ctx, ref.ID, m.Text, m.Card)
	}
	if m.Text == "" && m.Card == nil && len(m.Files) == 0 {
		return bot.MessageRef{}, permanentError{errors.New("lark: empty message")}
	}
	idType, to := "chat_id", m.ChatID
	if to == "" {
		idType, to = "open_id", m.UserID
	}
	if to == "" {
		return bot.MessageRef{}, permanentError{errors.New("lark: message without chat or user")}
	}
	uuid := uuidFor(m.Key)
	if m.Text == "" && m.Card == nil { // attachments only
		return bot.MessageRef{Platform: Name, ChatID: m.ChatID}, a.sendFiles(ctx, idType, to, m.Files, uuid)
	}
	msgType, body := content(m.Text, m.Card)
	req := larkim.NewCreateMessageReqBuilder().ReceiveIdType(idType).
		Body(larkim.NewCreateMessageReqBodyBuilder().ReceiveId(to).MsgType(msgType).Content(body).Uuid(uuid).Build()).
		Build()
	var ref bot.MessageRef
	err := a.do(ctx, "send message", func(ctx context.Context) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := a.client.Im.V1.Message.Create(ctx, req)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil {
			ref = bot.MessageRef{Platform: Name, ChatID: str(resp.Data.ChatId), ID: str(resp.Data.MessageId)}
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	if err != nil {
		return bot.MessageRef{}, err
	}
	if ref.ChatID == "" {
		ref.ChatID = m.ChatID
	}
	if len(m.Files) > 0 {
		if err := a.sendFiles(ctx, idType, to, m.Files, uuid); err != nil {
			return ref, err
		}
	}
	return ref, nil
}

// permanentError is a message the adapter cannot send whatever happens.
type permanentError struct{ error }

// Permanent implements bot.Permanent.
func (permanentError) Permanent() bool { return true }

func (e permanentError) Unwrap() error { return e.error }

// reply answers the message messageID (POST …/messages/:id/reply).
func (a *Adapter) reply(ctx context.Context, messageID, text string, c *bot.Card, uuid string) (bot.MessageRef, error) {
	msgType, body := content(text, c)
	req := larkim.NewReplyMessageReqBuilder().MessageId(messageID).
		Body(larkim.NewReplyMessageReqBodyBuilder().MsgType(msgType).Content(body).Uuid(uuid).Build()).
		Build()
	var ref bot.MessageRef
	err := a.do(ctx, "reply", func(ctx context.Context) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := a.client.Im.V1.Message.Reply(ctx, req)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		if resp.Data != nil {
			ref = bot.MessageRef{Platform: Name, ChatID: str(resp.Data.ChatId), ID: str(resp.Data.MessageId)}
		}
		return resp.ApiResp, resp.CodeError, nil
	})
	return ref, err
}

// patchCard replaces the card of message id (PATCH …/messages/:id).
func (a *Adapter) patchCard(ctx context.Context, id, text string, c *bot.Card) error {
	req := larkim.NewPatchMessageReqBuilder().MessageId(id).
		Body(larkim.NewPatchMessageReqBodyBuilder().Content(string(renderCard(c, text))).Build()).
		Build()
	return a.do(ctx, "update card", func(ctx context.Context) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := a.client.Im.V1.Message.Patch(ctx, req)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		return resp.ApiResp, resp.CodeError, nil
	})
}

// editText replaces the text of message id (PUT …/messages/:id).
func (a *Adapter) editText(ctx context.Context, id, text string) error {
	_, body := content(text, nil)
	req := larkim.NewUpdateMessageReqBuilder().MessageId(id).
		Body(larkim.NewUpdateMessageReqBodyBuilder().MsgType("text").Content(body).Build()).
		Build()
	return a.do(ctx, "edit message", func(ctx context.Context) (*larkcore.ApiResp, larkcore.CodeError, error) {
		resp, err := a.client.Im.V1.Message.Update(ctx, req)
		if err != nil {
			return nil, larkcore.CodeError{}, err
		}
		return resp.ApiResp, resp.CodeError, nil
	})
}

// Lark's rate-limit codes: 99991400 at the gateway (with HTTP 429),
// 230020 per chat, 11232 per tenant.
var rateLimited = map[int]bool{99991400: true, 230020: true, 11232: true}

// authCodes are token and permission failures: fixing the app's
// credentials or scopes fixes them, so a queued message is not given up.
var authCodes = map[int]bool{
	99991661: true, 99991663: true, 99991664: true, 99991665: true, 99991668: true, 99991672: true, 10014: true, 10003: true,
}

// APIError is a failed Open API call, after any retries. It tells the
// outbox when to try again (bot.RetryAfter) and when retrying cannot help
// (bot.Permanent).
type APIError struct {
	Op     string // what the call did, e.g. "send message"
	Status int    // HTTP status, 0 when no answer came
	Code   int    // Lark error code, 0 when none
	Msg    string
	Err    error         // the transport error, if any
	After  time.Duration // how long Lark asked to wait, for rate limits
}

var (
	_ bot.RetryAfter  = (*APIError)(nil)
	_ bot.Permanent   = (*APIError)(nil)
	_ bot.AuthFailure = (*APIError)(nil)
	_ bot.APICoder    = (*APIError)(nil)
)

// AuthFailure implements bot.AuthFailure: a token or permission failure
// of the app (authCodes).
func (e *APIError) AuthFailure() bool { return e.Err == nil && authCodes[e.Code] }

// APICode implements bot.APICoder: Lark's error code, else the HTTP
// status, else "transport".
func (e *APIError) APICode() string {
	switch {
	case e.Code != 0:
		return strconv.Itoa(e.Code)
	case e.Status >= 400:
		return "http_" + strconv.Itoa(e.Status)
	case e.Err != nil:
		return "transport"
	}
	return ""
}

func (e *APIError) Error() string {
	if e.Err != nil {
		return "lark " + e.Op + ": " + e.Err.Error()
	}
	return fmt.Sprintf("lark %s: status %d, code %d: %s", e.Op, e.Status, e.Code, e.Msg)
}

// Unwrap returns the transport error.
func (e *APIError) Unwrap() error { return e.Err }

// RetryAfter implements bot.RetryAfter: the wait Lark asked for after a
// rate limit, else 0.
func (e *APIError) RetryAfter() time.Duration {
	if e.rateLimited() {
		return max(e.After, time.Second)
	}
	return 0
}

// Permanent implements bot.Permanent: Lark refused this message for a
// reason of its own (bad receiver, bot not in the chat, malformed card),
// not a rate limit, an outage or the app's credentials.
func (e *APIError) Permanent() bool {
	if e.Err != nil {
		return !transient(e.Err)
	}
	return e.Code != 0 && !e.rateLimited() && !authCodes[e.Code] && e.Status < 500
}

func (e *APIError) rateLimited() bool {
	return e.Status == http.StatusTooManyRequests || rateLimited[e.Code]
}

func (e *APIError) retryable() bool {
	if e.Err != nil {
		return transient(e.Err)
	}
	return e.rateLimited() || e.Status >= 500
}

// do runs call until it succeeds, fails for good, or a.attempts are
// used up. It retries transport errors, HTTP 429 and 5xx and the
// rate-limit codes, waiting retryBase·2ⁿ (with jitter, at least what
// x-ogw-ratelimit-reset asks, at most maxBackoff) between attempts.
func (a *Adapter) do(ctx context.Context, op string, call func(context.Context) (*larkcore.ApiResp, larkcore.CodeError, error)) error {
	var last *APIError
	var wait time.Duration
	for i := 0; i < a.attempts; i++ {
		if i > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return errors.Join(last, ctx.Err())
			case <-t.C:
			}
		}
		raw, ce, err := call(ctx)
		e := &APIError{Op: op, Code: ce.Code, Msg: ce.Msg, Err: err}
		if raw != nil {
			e.Status = raw.StatusCode
			if s, err := strconv.Atoi(raw.Header.Get("X-Ogw-Ratelimit-Reset")); err == nil && s > 0 {
				e.After = time.Duration(s) * time.Second
			}
		}
		if err == nil && ce.Code == 0 && e.Status < 400 {
			return nil
		}
		last = e
		if ctx.Err() != nil || !e.retryable() {
			return e
		}
		wait = a.backoff(i, e.After)
		bot.Log(ctx, a.log).Warn("lark call failed; retrying", "op", op, "attempt", i+1, "err", e)
	}
	return last
}

const maxBackoff = 10 * time.Second

func (a *Adapter) backoff(attempt int, asked time.Duration) time.Duration {
	d := a.retryBase
	for range attempt {
		if d *= 2; d > maxBackoff {
			d = maxBackoff
			break
		}
	}
	d += mrand.N(d/4 + 1)
	if asked > d {
		d = min(asked, maxBackoff)
	}
	return d
}

// transient reports whether an SDK error may go away on retry: transport
// failures and timeouts, a non-JSON gateway answer, a rate-limited token
// request; not invalid parameters or refused credentials.
func transient(err error) bool {
	var ip *larkcore.IllegalParamError
	if errors.As(err, &ip) {
		return false
	}
	var ce larkcore.CodeError
	if errors.As(err, &ce) {
		return rateLimited[ce.Code]
	}
	return true
}

// uuidFor returns the idempotency uuid for key parts: the parts joined,
// hashed when longer than Lark's 50 characters, or a fresh random one when
// the first part is empty.
func uuidFor(parts ...string) string {
	if len(parts) == 0 || parts[0] == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}
	s := strings.Join(parts, ":")
	if len(s) <= 50 {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:20])
}

// botOpenID returns the bot's open_id: configured, or fetched once from
// /open-apis/bot/v3/info (retried at most once a minute on failure). ""
// when unknown.
func (a *Adapter) botOpenID(ctx context.Context) string {
	a.mu.Lock()
	id, tried := a.botID, a.botIDTried
	a.mu.Unlock()
	if id != "" || (!tried.IsZero() && a.now().Sub(tried) < time.Minute) {
		return id
	}
	id, err := a.fetchBotOpenID(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.botIDTried = a.now()
	if err != nil {
		a.log.Warn("lark bot info unavailable; treating any mention in a group as addressed to the bot", "err", err)
		return ""
	}
	a.botID = id
	return id
}

func (a *Adapter) fetchBotOpenID(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := a.client.Get(ctx, "/open-apis/bot/v3/info", nil, larkcore.AccessTokenTypeTenant)
	if err != nil {
		return "", err
	}
	var info struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
		Bot  struct {
			OpenID string `json:"open_id"`
		} `json:"bot"`
	}
	if err := json.Unmarshal(resp.RawBody, &info); err != nil {
		return "", fmt.Errorf("bot info: status %d: %w", resp.StatusCode, err)
	}
	if info.Code != 0 || info.Bot.OpenID == "" {
		return "", fmt.Errorf("bot info: code %d: %s", info.Code, info.Msg)
	}
	return info.Bot.OpenID, nil
}
