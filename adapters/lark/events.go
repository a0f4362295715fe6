package lark

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/xunji-bot/xunji/bot"
)

// httpHandler serves Lark's HTTP callbacks. Everything that proves the
// request came from Lark is checked before the SDK dispatcher runs a
// handler: the body size, decryption, the verification token (the SDK
// checks it only for url_verification), the signature (the SDK skips it
// for url_verification) and a timestamp window (the SDK has none). A
// request failing any of them gets 401 and reaches no handler.
func (a *Adapter) httpHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			a.rejected("too_large")
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				a.rejected("too_large")
				http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "cannot read body", http.StatusBadRequest)
			return
		}
		req := &larkevent.EventReq{Header: r.Header, Body: body, RequestURI: r.RequestURI}
		plain, fuzzy, err := a.verify(r.Context(), req)
		if err != nil {
			a.log.Warn("lark callback refused", "path", r.URL.Path, "reason", err.Error(), "remote", r.RemoteAddr)
			a.rejected("unauthorized")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		// The dispatcher answers 500 to a body it cannot decode, and Lark
		// would deliver it again for hours: refuse it as malformed.
		v, err := decode(plain, fuzzy)
		if err != nil {
			a.log.Warn("lark callback malformed", "path", r.URL.Path, "reason", err.Error(), "remote", r.RemoteAddr)
			a.rejected("malformed")
			http.Error(w, "malformed", http.StatusBadRequest)
			return
		}
		// The challenge, sent when the callback URL is set in the app's
		// own settings, names no tenant.
		if larkevent.ReqType(fuzzy.Type) != larkevent.ReqTypeChallenge && !a.tenantAllowed(fuzzy.Header, v) {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if ev, ok := v.(*larkim.P2MessageReceiveV1); ok {
			// Messages, the bulk of the traffic, go straight to the
			// handler: the dispatcher would parse, decrypt, verify and
			// decode the body all over again.
			ev.RawReq(req)
			a.answerEvent(w, r, func(ctx context.Context) error { return a.onMessage(ctx, ev) })
			return
		}
		resp := a.disp.Handle(r.Context(), req)
		for k, vs := range resp.Header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(resp.Body)
	})
}

// answerEvent runs an event handler and answers as the SDK's dispatcher
// does: 200 {"msg":"success"}, or 500, which makes Lark deliver the
// event again (a handler that panics counts as an error). Unlike the
// dispatcher, the 500 does not carry the error's text (store addresses
// and the like): that goes to the log.
func (a *Adapter) answerEvent(w http.ResponseWriter, r *http.Request, handle func(ctx context.Context) error) {
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("handler panicked: %v", p)
			}
		}()
		return handle(r.Context())
	}()
	w.Header().Set(larkevent.ContentTypeHeader, larkevent.DefaultContentType)
	msg, status := "success", http.StatusOK
	if err != nil {
		a.log.Error("lark event not handled", "path", r.URL.Path, "err", err)
		msg, status = "internal error", http.StatusInternalServerError
	}
	b, _ := json.Marshal(struct {
		Msg string `json:"msg"`
	}{msg})
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decrypt is the SDK's DecryptEvent, which in v3.5.3 panics (an inverted
// slice when the decrypted text has a "}" before its first "{") on a body
// encrypted with another key; the panic becomes an error, so such a body
// gets 401 like any other that does not decrypt.
func (a *Adapter) decrypt(ctx context.Context, cipher string) (plain string, err error) {
	defer func() {
		if r := recover(); r != nil {
			plain, err = "", fmt.Errorf("body does not decrypt: %v", r)
		}
	}()
	return a.disp.DecryptEvent(ctx, cipher)
}

// verify checks that req comes from Lark, with the SDK's own decryption
// and signature functions, and returns the plain body and its envelope.
func (a *Adapter) verify(ctx context.Context, req *larkevent.EventReq) (string, *larkevent.EventFuzzy, error) {
	cipher := string(req.Body)
	if a.cfg.EncryptKey != "" {
		// What the dispatcher's ParseReq does, without the debug log line
		// of the whole request it formats whatever the log level.
		var enc larkevent.EventEncryptMsg
		if err := json.Unmarshal(req.Body, &enc); err != nil {
			return "", nil, fmt.Errorf("body is not an encrypted event: %w", err)
		}
		if enc.Encrypt == "" {
			return "", nil, errors.New("encrypted body is blank")
		}
		cipher = enc.Encrypt
	}
	plain, err := a.decrypt(ctx, cipher)
	if err != nil {
		return "", nil, err
	}
	var fuzzy larkevent.EventFuzzy
	if err := json.Unmarshal([]byte(plain), &fuzzy); err != nil {
		return "", nil, fmt.Errorf("body is not an event: %w", err)
	}
	if fuzzy.Encrypt != "" {
		return "", nil, errors.New("encrypted body but no encrypt key configured")
	}
	token := fuzzy.Token
	if fuzzy.Header != nil {
		token = fuzzy.Header.Token
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(a.cfg.VerificationToken)) != 1 {
		return "", nil, errors.New("verification token mismatch")
	}
	if a.cfg.EncryptKey == "" {
		return plain, &fuzzy, nil
	}
	signed := req.Header[larkevent.EventSignature] != nil
	if larkevent.ReqType(fuzzy.Type) == larkevent.ReqTypeChallenge && !signed {
		// Lark's SDKs do not require a signature on the challenge; it is
		// encrypted with the key and carries the token.
		return plain, &fuzzy, nil
	}
	if err := a.disp.VerifySign(ctx, req); err != nil {
		return "", nil, err
	}
	ts, err := strconv.ParseInt(firstHeader(req.Header, larkevent.EventRequestTimestamp), 10, 64)
	if err != nil {
		return "", nil, errors.New("bad request timestamp")
	}
	if d := a.now().Sub(time.Unix(ts, 0)); d > signWindow || d < -signWindow {
		return "", nil, fmt.Errorf("request timestamp %d outside the window", ts)
	}
	return plain, &fuzzy, nil
}

// decode decodes a verified plain body of an event type the adapter
// handles into the SDK's type for it, as the dispatcher would; other
// types give nil (the dispatcher acknowledges types it has no handler
// for).
func decode(plain string, fuzzy *larkevent.EventFuzzy) (any, error) {
	eventType := ""
	if fuzzy.Event != nil {
		eventType, _ = fuzzy.Event.Type.(string)
	}
	if fuzzy.Header != nil {
		eventType = fuzzy.Header.EventType
	}
	var v any
	switch eventType {
	case "im.message.receive_v1":
		v = &larkim.P2MessageReceiveV1{}
	case "card.action.trigger":
		v = &callback.CardActionTriggerEvent{}
	default:
		return nil, nil
	}
	if err := json.Unmarshal([]byte(plain), v); err != nil {
		return nil, err
	}
	return v, nil
}

func firstHeader(h map[string][]string, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func eventID(b *larkevent.EventV2Base) string {
	if b == nil || b.Header == nil {
		return ""
	}
	return b.Header.EventID
}

// onMessage handles im.message.receive_v1. It decides quickly whether
// the message is for the bot and acknowledges at once; the core runs in
// the background, so the answer is well within Lark's 3 seconds. When
// the handler has a durable inbox (bot.DurableHandler), the request is
// stored before the acknowledgement, so a process that dies before
// finishing leaves it for recovery instead of losing it.
func (a *Adapter) onMessage(ctx context.Context, e *larkim.P2MessageReceiveV1) error {
	if e.Event == nil || e.Event.Message == nil || e.Event.Sender == nil {
		return nil
	}
	if !a.tenantAllowed(header(e.EventV2Base), e) {
		return nil // acknowledged and dropped: a re-delivery would be refused again
	}
	h := a.handler()
	if h == nil {
		return errors.New("lark: no handler mounted")
	}
	msg, sender := e.Event.Message, e.Event.Sender
	if str(sender.SenderType) != "user" || sender.SenderId == nil || str(sender.SenderId.OpenId) == "" {
		return nil // the bot itself or another app
	}
	openID := str(sender.SenderId.OpenId)
	direct := str(msg.ChatType) == "p2p"
	ev := eventID(e.EventV2Base)
	idCtx, cancel := context.WithTimeout(ctx, time.Second)
	botID := a.botOpenID(idCtx)
	cancel()
	if botID != "" && openID == botID {
		return nil
	}
	if !direct && !mentionsBot(msg.Mentions, botID) {
		return nil
	}
	if str(msg.MessageType) != "text" {
		if direct {
			return a.track(func(ctx context.Context) { a.answerUnsupported(ctx, h, msg, openID, ev) })
		}
		return nil
	}
	var content struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(str(msg.Content)), &content); err != nil {
		a.log.Warn("lark message with unreadable content", "message", str(msg.MessageId), "err", err)
		return nil
	}
	req := &bot.Request{
		Kind:     bot.KindCommand,
		Platform: bot.Lark,
		UserID:   openID,
		ChatID:   str(msg.ChatId),
		Direct:   direct,
		EventID:  ev,
		Text:     commandText(content.Text, msg.Mentions, botID),
	}
	// A command sent as a reply to a file message carries that file
	// (files_in.go); it is fetched in the background, before the core runs.
	parent := str(msg.ParentId)
	withFiles := func(ctx context.Context) {
		if parent != "" && bot.WantsFiles(h, req.Text) {
			a.fetchRepliedFile(ctx, req, parent)
		}
	}
	// Replies go out in order behind any message to the chat still
	// waiting in the outbox (bot.Answer); one Lark refuses is handed to it.
	answer := func(ctx context.Context, resp *bot.Response) {
		if resp == nil || resp.Duplicate {
			return
		}
		i := -1
		bot.Answer(ctx, h, req, resp.Replies, 0, a.log, func(ctx context.Context, r bot.Reply) (bot.Reply, error) {
			i++
			uuid := uuidFor(ev, "reply", strconv.Itoa(i))
			if err := a.replyTo(ctx, str(msg.MessageId), r, uuid); err != nil {
				return r, err // the files with it
			}
			if len(r.Files) == 0 {
				return bot.Reply{}, nil
			}
			// Lark has no private message in a group: a private answer's
			// files go to the sender directly, never to the group.
			idType, to := "open_id", openID
			if r.Public || direct {
				idType, to = "chat_id", str(msg.ChatId)
			}
			if err := a.sendFiles(ctx, idType, to, r.Files, uuid); err != nil {
				a.log.Error("lark: attachments not sent", "message", str(msg.MessageId), "err", err)
				return bot.Reply{Files: r.Files, Public: r.Public}, err
			}
			return bot.Reply{}, nil
		})
	}
	dh, durable := h.(bot.DurableHandler)
	if !durable {
		return a.track(func(ctx context.Context) { withFiles(ctx); answer(ctx, h.Handle(ctx, req)) })
	}
	actx, cancel := context.WithTimeout(ctx, acceptTimeout)
	ticket, dup, err := dh.Accept(actx, req)
	cancel()
	if err != nil {
		return fmt.Errorf("lark: accepting event %s: %w", ev, err) // Lark re-delivers it
	}
	if dup {
		return nil
	}
	if err := a.track(func(ctx context.Context) {
		withFiles(ctx)
		answer(ctx, dh.Process(ctx, ticket, req))
		dh.Done(ctx, ticket, req)
	}); err != nil {
		a.log.Info("lark event left in the inbox for recovery", "event", ev, "ticket", ticket)
	}
	return nil
}

// mentionsBot reports whether mentions include the bot. Without the
// bot's open_id any mention counts: with the usual permission
// (im:message.group_at_msg:readonly) Lark only delivers group messages
// that mention the bot.
func mentionsBot(ms []*larkim.MentionEvent, botID string) bool {
	for _, m := range ms {
		if m == nil {
			continue
		}
		if botID == "" {
			return true
		}
		if m.Id != nil && str(m.Id.OpenId) == botID {
			return true
		}
	}
	return false
}

// commandText turns the text of a message into a command line: the
// bot's mention keys (@_user_N) are removed, other people's become
// "@Name", which the core resolves against the roster.
func commandText(text string, ms []*larkim.MentionEvent, botID string) string {
	for _, m := range ms {
		if m == nil || m.Key == nil || *m.Key == "" {
			continue
		}
		isBot := m.Id != nil && botID != "" && str(m.Id.OpenId) == botID
		if botID == "" {
			// Unknown bot id: a mention at the start of the line is the
			// bot being addressed.
			isBot = strings.HasPrefix(strings.TrimSpace(text), *m.Key)
		}
		repl := " "
		if !isBot {
			repl = "@" + str(m.Name)
		}
		text = replaceKey(text, *m.Key, repl)
	}
	return strings.Join(strings.Fields(text), " ")
}

// replaceKey replaces the mention key k in s, but not a longer key that
// starts with it (@_user_1 inside @_user_10).
func replaceKey(s, k, repl string) string {
	var out strings.Builder
	for {
		i := strings.Index(s, k)
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		end := i + len(k)
		if end < len(s) && s[end] >= '0' && s[end] <= '9' {
			out.WriteString(s[:end])
			s = s[end:]
			continue
		}
		out.WriteString(s[:i])
		out.WriteString(repl)
		s = s[end:]
	}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// answerUnsupported tells someone who sent a picture, file or sticker in
// a direct chat that only text commands are understood.
func (a *Adapter) answerUnsupported(ctx context.Context, h bot.Handler, msg *larkim.EventMessage, openID, ev string) {
	if t := a.text(ctx, h, openID, "lark.unsupported_message"); t != "" {
		_ = a.replyTo(ctx, str(msg.MessageId), bot.Reply{Text: t}, uuidFor(ev, "unsupported"))
	}
}

// replyTo answers message id with r. Lark bots have no ephemeral text
// message, so a private reply is a quoted reply like a public one.
func (a *Adapter) replyTo(ctx context.Context, messageID string, r bot.Reply, uuid string) error {
	if r.Text == "" && r.Card == nil {
		return nil
	}
	_, err := a.reply(ctx, messageID, r.Text, r.Card, uuid)
	if err != nil {
		a.log.Error("lark reply failed", "message", messageID, "err", err)
	}
	return err
}

// onCard handles card.action.trigger. Lark waits at most 3 seconds for
// the answer (a toast and the updated card), so the core gets
// cardBudget; when it is slower the answer is a "working on it" toast
// and the card is patched when the core is done.
func (a *Adapter) onCard(_ context.Context, e *callback.CardActionTriggerEvent) (*callback.CardActionTriggerResponse, error) {
	empty := &callback.CardActionTriggerResponse{}
	if e.Event == nil || e.Event.Action == nil || e.Event.Operator == nil {
		return empty, nil
	}
	if !a.tenantAllowed(header(e.EventV2Base), e) {
		return empty, nil
	}
	action, value := valueString(e.Event.Action.Value["action"]), valueString(e.Event.Action.Value["value"])
	if action == "" {
		// A form's submit button may arrive without its value: its name
		// carries the action too.
		var ok bool
		if action, value, ok = actionFromName(e.Event.Action.Name); !ok {
			return empty, nil // not one of ours
		}
	}
	h := a.handler()
	if h == nil {
		return nil, errors.New("lark: no handler mounted")
	}
	var chatID, messageID string
	if c := e.Event.Context; c != nil {
		chatID, messageID = c.OpenChatID, c.OpenMessageID
	}
	ev := eventID(e.EventV2Base)
	req := &bot.Request{
		Kind:     bot.KindAction,
		Platform: bot.Lark,
		UserID:   e.Event.Operator.OpenID,
		ChatID:   chatID,
		EventID:  ev,
		Action:   action,
		Value:    value,
		Message:  bot.MessageRef{Platform: bot.Lark, ChatID: chatID, ID: messageID},
		Input:    typedInput(e.Event.Action),
	}
	// With a durable inbox the click is stored first, as a message event
	// is: a process that dies before the card is answered or patched
	// leaves it for recovery, which patches the card then.
	handle := func(ctx context.Context) *bot.Response { return h.Handle(ctx, req) }
	finish := func(context.Context) {}
	if dh, ok := h.(bot.DurableHandler); ok {
		actx, cancel := context.WithTimeout(context.Background(), cardAcceptTimeout)
		ticket, dup, err := dh.Accept(actx, req)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("lark: accepting card action %s: %w", ev, err)
		}
		if dup {
			return empty, nil // a repeat of a click being handled or handled
		}
		handle = func(ctx context.Context) *bot.Response { return dh.Process(ctx, ticket, req) }
		finish = func(ctx context.Context) { dh.Done(ctx, ticket, req) }
	}
	var (
		mu       sync.Mutex
		result   *bot.Response
		finished bool
		tooLate  bool
		done     = make(chan struct{})
	)
	err := a.track(func(ctx context.Context) {
		resp := handle(ctx)
		mu.Lock()
		if tooLate {
			mu.Unlock()
			a.finishLateCard(ctx, h, req, resp)
			finish(ctx)
			return
		}
		result, finished = resp, true
		mu.Unlock()
		close(done)
	})
	if err != nil {
		// Shutting down: a stored click is left to recovery.
		return nil, err
	}
	timer := time.NewTimer(a.cardBudget)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
	mu.Lock()
	if finished {
		resp := result
		mu.Unlock()
		// The answer goes back in the callback's response, written as soon
		// as this returns.
		finish(context.Background())
		return a.cardAnswer(h, req, resp), nil
	}
	tooLate = true
	mu.Unlock()
	a.log.Info("lark card action slower than the callback budget; answering later", "action", action, "event", ev)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	return &callback.CardActionTriggerResponse{Toast: toast(a.text(ctx, h, req.UserID, "lark.card_pending"))}, nil
}

// typedInput returns the text typed in a prompt form (card.go): the
// form_value entry of the form's input, or input_value when the callback
// comes from an input element itself; "" for a plain click.
func typedInput(a *callback.CallBackAction) string {
	for k, v := range a.FormValue {
		if k == inputName || strings.HasPrefix(k, inputName+"_") {
			if s := strings.TrimSpace(valueString(v)); s != "" {
				return s
			}
		}
	}
	return strings.TrimSpace(a.InputValue)
}

func valueString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

func toast(s string) *callback.Toast {
	if s == "" {
		return nil
	}
	return &callback.Toast{Type: "info", Content: s}
}

// cardAnswer renders the core's answer to a click in time: the toast,
// the replaced card, and any other replies posted to the chat.
func (a *Adapter) cardAnswer(h bot.Handler, req *bot.Request, resp *bot.Response) *callback.CardActionTriggerResponse {
	out := &callback.CardActionTriggerResponse{}
	if resp == nil || resp.Duplicate {
		return out
	}
	out.Toast = toast(resp.Toast)
	var rest []bot.Reply
	for _, r := range resp.Replies {
		if r.Replace && r.Card != nil && out.Card == nil {
			out.Card = &callback.Card{Type: "raw", Data: json.RawMessage(renderCard(r.Card, ""))}
			continue
		}
		if r.Card == nil && r.Text == resp.Toast {
			continue // the toast already says it
		}
		rest = append(rest, r)
	}
	if len(rest) > 0 {
		_ = a.track(func(ctx context.Context) { a.postReplies(ctx, h, req, rest) })
	}
	return out
}

// finishLateCard applies an answer that missed the callback budget: the
// card is patched and the other replies posted, in the chat's order
// (bot.Answer). The toast can no longer be shown, so when nothing else
// would tell the user, it is posted.
func (a *Adapter) finishLateCard(ctx context.Context, h bot.Handler, req *bot.Request, resp *bot.Response) {
	if resp == nil || resp.Duplicate {
		return
	}
	var rest []bot.Reply
	patched := false
	for _, r := range resp.Replies {
		if r.Replace && r.Card != nil && !patched && req.Message.ID != "" {
			patched = true
			rest = append(rest, r)
			continue
		}
		if r.Card == nil && r.Text == resp.Toast {
			continue
		}
		r.Replace = false
		rest = append(rest, r)
	}
	if !patched && len(rest) == 0 && resp.Toast != "" {
		rest = append(rest, bot.Reply{Text: resp.Toast})
	}
	a.answerClick(ctx, h, req, rest, 0)
}

// postReplies posts replies to a click into the card's chat, in the
// chat's order; one Lark refuses is handed to the durable sending path.
func (a *Adapter) postReplies(ctx context.Context, h bot.Handler, req *bot.Request, rs []bot.Reply) {
	var posts []bot.Reply
	for _, r := range rs {
		if r.Text == "" && r.Card == nil {
			continue
		}
		r.Replace = false
		posts = append(posts, r)
	}
	a.answerClick(ctx, h, req, posts, 1)
}

// answerClick delivers the replies to a click (bot.Answer): the card
// that carried the button patched (Replace), the others posted to its
// chat. first is the index of rs[0] for a hand-over.
func (a *Adapter) answerClick(ctx context.Context, h bot.Handler, req *bot.Request, rs []bot.Reply, first int) {
	i := first - 1
	bot.Answer(ctx, h, req, rs, first, a.log, func(ctx context.Context, r bot.Reply) (bot.Reply, error) {
		i++
		if r.Replace {
			if err := a.patchCard(ctx, req.Message.ID, "", r.Card); err != nil {
				a.log.Error("lark late card update failed", "message", req.Message.ID, "err", err)
				return r, err
			}
			return bot.Reply{}, nil
		}
		o := bot.Outgoing{Platform: bot.Lark, ChatID: req.ChatID, Text: r.Text, Card: r.Card, Key: uuidFor(req.EventID, "card", strconv.Itoa(i))}
		if o.ChatID == "" {
			o.UserID = req.UserID
		}
		if _, err := a.Send(ctx, o); err != nil {
			a.log.Error("lark reply to card action failed", "chat", req.ChatID, "err", err)
			return r, err
		}
		return bot.Reply{}, nil
	})
}

// core is what the adapter needs of the core for its own few texts;
// *bot.Bot has it.
type core interface {
	T(lang, key string, args ...any) string
	Roster(ctx context.Context) (*bot.Roster, error)
	LangOf(ctx context.Context, p *bot.Person) string
}

// text renders a catalog message for the Lark user userID in the user's
// language, when h is the core ("" otherwise).
func (a *Adapter) text(ctx context.Context, h bot.Handler, userID, key string) string {
	c, ok := h.(core)
	if !ok {
		return ""
	}
	lang := c.LangOf(ctx, nil) // the deployment's language
	if r, err := c.Roster(ctx); err == nil {
		if p, ok := r.ByPlatformID(bot.Lark, userID); ok {
			lang = c.LangOf(ctx, p)
		}
	}
	return c.T(lang, key)
}

func (a *Adapter) rejected(reason string) {
	if a.onReject != nil {
		a.onReject(reason)
	}
}
