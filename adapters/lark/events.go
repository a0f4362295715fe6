package lark

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
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
			ctx, log := a.requestLog(r.Context(), eventID(ev.EventV2Base), senderOf(ev))
			a.answerEvent(w, r.WithContext(ctx), log, func(ctx context.Context) error { return a.onMessage(ctx, ev) })
			return
		}
		if ev, ok := v.(*callback.CardActionTriggerEvent); ok {
			// Card callbacks too: their answer is written here, by the
			// acknowledgement itself (bot.Serve), so the request is done
			// with only once its answer is out.
			ev.RawReq(req)
			a.answerCard(w, r, ev)
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
func (a *Adapter) answerEvent(w http.ResponseWriter, r *http.Request, log *slog.Logger, handle func(ctx context.Context) error) {
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("handler panicked: %v", p)
			}
		}()
		return handle(r.Context())
	}()
	if errors.Is(err, errWritten) {
		return
	}
	w.Header().Set(larkevent.ContentTypeHeader, larkevent.DefaultContentType)
	msg, status := "success", http.StatusOK
	if err != nil {
		log.Error("lark event not handled", "path", r.URL.Path, "err", err)
		msg, status = "internal error", http.StatusInternalServerError
	}
	b, _ := json.Marshal(struct {
		Msg string `json:"msg"`
	}{msg})
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// answerCard serves a card callback and writes its answer, as the SDK's
// dispatcher would: 200 with the callback response's JSON, or 500 (its
// error's text only in the log).
func (a *Adapter) answerCard(w http.ResponseWriter, r *http.Request, ev *callback.CardActionTriggerEvent) {
	written := false
	write := func(out *callback.CardActionTriggerResponse) {
		written = true
		b, _ := json.Marshal(out)
		w.Header().Set(larkevent.ContentTypeHeader, larkevent.DefaultContentType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	var user string
	if ev.Event != nil && ev.Event.Operator != nil {
		user = ev.Event.Operator.OpenID
	}
	ctx, log := a.requestLog(r.Context(), eventID(ev.EventV2Base), user)
	a.answerEvent(w, r.WithContext(ctx), log, func(ctx context.Context) error {
		err := a.card(ctx, ev, write)
		if written {
			return errWritten
		}
		return err
	})
}

// errWritten tells answerEvent that the answer is written already.
var errWritten = errors.New("answer written")

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

// senderOf is the open_id of the sender of e, "" when it has none.
func senderOf(e *larkim.P2MessageReceiveV1) string {
	if e.Event == nil || e.Event.Sender == nil || e.Event.Sender.SenderId == nil {
		return ""
	}
	return str(e.Event.Sender.SenderId.OpenId)
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
	ctx, log := a.requestLog(ctx, ev, openID) // the long connection's events come without one
	idCtx, cancel := context.WithTimeout(ctx, time.Second)
	botID := a.botOpenID(idCtx)
	cancel()
	if botID != "" && openID == botID {
		return nil
	}
	if !direct && !mentionsBot(msg.Mentions, botID) {
		return nil
	}
	text, supported, ok := messageText(log, msg)
	if !supported && direct {
		return a.track(func(ctx context.Context) { a.answerUnsupported(ctx, h, msg, openID, ev) })
	}
	if !ok {
		return nil
	}
	req := &bot.Request{
		Kind:     bot.KindCommand,
		Platform: Name,
		UserID:   openID,
		ChatID:   str(msg.ChatId),
		Direct:   direct,
		EventID:  ev,
		Text:     commandText(text, msg.Mentions, botID),
		// Lark has no message in a group that only its addressee sees:
		// a private answer goes to the sender directly, never into the
		// group where others would read it.
		PrivateDirect: !direct,
	}
	d := a.delivery(acceptTimeout)
	// A command sent as a reply to a file message carries that file
	// (files_in.go); it is fetched in the background, before the core runs.
	if parent := str(msg.ParentId); parent != "" {
		d.Prepare = func(ctx context.Context) {
			if bot.WantsFiles(h, req.Text) {
				a.fetchRepliedFile(ctx, req, parent)
			}
		}
	}
	d.Deliver = a.deliverReply(log, msg, openID, ev, direct)
	switch err := bot.Serve(ctx, h, req, d); {
	case err == nil, errors.Is(err, bot.ErrInInbox):
		return nil // acknowledged; a request left in the inbox is recovered
	default:
		return fmt.Errorf("lark: event %s: %w", ev, err) // Lark re-delivers it
	}
}

// messageText returns the command text of msg, a text or a post message.
// supported is false for other message types; ok is false for those and
// for a message whose content cannot be read (logged).
func messageText(log *slog.Logger, msg *larkim.EventMessage) (text string, supported, ok bool) {
	switch str(msg.MessageType) {
	case "text":
		var content struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal([]byte(str(msg.Content)), &content); err != nil {
			log.Warn("lark message with unreadable content", "message", str(msg.MessageId), "err", err)
			return "", true, false
		}
		return content.Text, true, true
	case "post":
		// Rich text, as Lark sends a message with formatting or a line
		// break: its text runs are the command.
		t, err := postText(str(msg.Content), msg.Mentions)
		if err != nil {
			log.Warn("lark post message with unreadable content", "message", str(msg.MessageId), "err", err)
			return "", true, false
		}
		return t, true, true
	default:
		return "", false, false
	}
}

// deliverReply is the Delivery.Deliver of message msg from openID (event
// ev): a reply in the message's thread, a private answer in a group sent
// to the sender directly. Reply i carries the uuid the outbox gives it
// (bot.DeliverLate), so that an answer handed over or delivered late is
// shown once.
func (a *Adapter) deliverReply(log *slog.Logger, msg *larkim.EventMessage, openID, ev string, direct bool) func(ctx context.Context, i int, r bot.Reply) (bot.Reply, error) {
	messageID := str(msg.MessageId)
	return func(ctx context.Context, i int, r bot.Reply) (bot.Reply, error) {
		uuid := uuidFor(ev, "reply", strconv.Itoa(i))
		if !r.Public && !direct {
			// As the outbox would send it late (bot.DeliverLate), with the
			// same uuid, so that Lark shows it once either way.
			_, err := a.Send(ctx, bot.Outgoing{Platform: Name, UserID: openID, Text: r.Text, Card: r.Card, Files: r.Files,
				Key: ev + ":reply:" + strconv.Itoa(i)})
			if err != nil {
				bot.Log(ctx, log).Error("lark: private answer not sent directly", "message", messageID, "err", err)
				return r, err
			}
			return bot.Reply{}, nil
		}
		if err := a.replyTo(ctx, messageID, r, uuid); err != nil {
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
			bot.Log(ctx, log).Error("lark: attachments not sent", "message", messageID, "err", err)
			return bot.Reply{Files: r.Files, Public: r.Public}, err
		}
		return bot.Reply{}, nil
	}
}

// delivery is the part of bot.Delivery every Lark request shares: work
// tracked for shutdown (track), accepted within acceptWithin.
func (a *Adapter) delivery(acceptWithin time.Duration) bot.Delivery {
	return bot.Delivery{
		Go:            func(work func()) bool { return a.track(func(context.Context) { work() }) == nil },
		AcceptTimeout: acceptWithin,
		Timeout:       workTimeout,
		Log:           a.log,
	}
}

// postElement is one element of a rich-text (post) message: a text run,
// a link, or an @-mention whose user_id is the mention key (@_user_1).
type postElement struct {
	Tag    string `json:"tag"`
	Text   string `json:"text"`
	UserID string `json:"user_id"`
}

type postBody struct {
	Title   string          `json:"title"`
	Content [][]postElement `json:"content"`
}

// postText joins the text runs, links and mention keys of a post
// message into one line, paragraphs separated by spaces; the title is
// not part of a command. A received post is {"title","content"}; the
// form with a language key ({"zh_cn":{…}}) that messages are sent in is
// read too. An "at" element names its mention by key (@_user_1); one
// that names an open_id instead is given the key of that mention.
func postText(content string, ms []*larkim.MentionEvent) (string, error) {
	var body postBody
	if err := json.Unmarshal([]byte(content), &body); err != nil {
		return "", err
	}
	if body.Content == nil {
		var byLang map[string]json.RawMessage
		if err := json.Unmarshal([]byte(content), &byLang); err != nil {
			return "", err
		}
		for _, lang := range []string{"zh_cn", "en_us", "ja_jp"} {
			if raw, ok := byLang[lang]; ok {
				if err := json.Unmarshal(raw, &body); err != nil {
					return "", err
				}
				break
			}
		}
	}
	var parts []string
	for _, para := range body.Content {
		var line strings.Builder
		for _, el := range para {
			switch el.Tag {
			case "text", "a":
				line.WriteString(el.Text)
			case "at":
				key := el.UserID
				for _, m := range ms {
					if m != nil && m.Key != nil && m.Id != nil && str(m.Id.OpenId) == el.UserID {
						key = *m.Key
					}
				}
				line.WriteString(key + " ")
			}
		}
		parts = append(parts, line.String())
	}
	return strings.Join(parts, " "), nil
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
// bot's mention keys (@_user_N) are removed, other people's become the
// core's platform-neutral word for a mention (bot.MentionArg, with the
// open_id), which the roster resolves wherever a person is typed.
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
		switch {
		case isBot:
		case m.Id != nil && str(m.Id.OpenId) != "":
			// Glued to what precedes (单位:@_user_2), apart from what follows.
			repl = bot.MentionArg(Name, str(m.Id.OpenId), str(m.Name)) + " "
		default:
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
		bot.Log(ctx, a.log).Error("lark reply failed", "message", messageID, "err", err)
	}
	return err
}

// onCard handles card.action.trigger from the long connection, whose
// client writes the answer it returns.
func (a *Adapter) onCard(ctx context.Context, e *callback.CardActionTriggerEvent) (*callback.CardActionTriggerResponse, error) {
	var out *callback.CardActionTriggerResponse
	err := a.card(ctx, e, func(r *callback.CardActionTriggerResponse) { out = r })
	return out, err
}

// card serves a card.action.trigger (bot.Serve). Lark waits at most 3
// seconds for the answer (a toast and the updated card), so the core gets
// cardBudget; when it is slower the answer is a "working on it" toast
// and the card is patched when the core is done. write writes the answer;
// it is called once, before card returns nil, and not when card returns
// an error.
//
// With a durable inbox the click is stored first, as a message event is:
// a process that dies before the card is answered or patched leaves it
// for recovery, which patches the card then.
func (a *Adapter) card(ctx context.Context, e *callback.CardActionTriggerEvent, write func(*callback.CardActionTriggerResponse)) error {
	empty := &callback.CardActionTriggerResponse{}
	if e.Event == nil || e.Event.Action == nil || e.Event.Operator == nil {
		write(empty)
		return nil
	}
	if !a.tenantAllowed(header(e.EventV2Base), e) {
		write(empty)
		return nil
	}
	action, value := valueString(e.Event.Action.Value["action"]), valueString(e.Event.Action.Value["value"])
	if action == "" {
		// A form's submit button may arrive without its value: its name
		// carries the action too.
		var ok bool
		if action, value, ok = actionFromName(e.Event.Action.Name); !ok {
			write(empty) // not one of ours
			return nil
		}
	}
	h := a.handler()
	if h == nil {
		return errors.New("lark: no handler mounted")
	}
	var chatID, messageID string
	if c := e.Event.Context; c != nil {
		chatID, messageID = c.OpenChatID, c.OpenMessageID
	}
	ev := eventID(e.EventV2Base)
	ctx, _ = a.requestLog(ctx, ev, e.Event.Operator.OpenID) // the long connection's come without one
	req := &bot.Request{
		Kind:     bot.KindAction,
		Platform: Name,
		UserID:   e.Event.Operator.OpenID,
		ChatID:   chatID,
		EventID:  ev,
		Action:   action,
		Value:    value,
		Message:  bot.MessageRef{Platform: Name, ChatID: chatID, ID: messageID},
		Input:    typedInput(e.Event.Action),
	}
	d := a.delivery(cardAcceptTimeout)
	d.Sync = a.cardBudget
	d.Plan = func(resp *bot.Response) []bot.Reply { return cardPlan(req, resp) }
	d.Ack = func(ctx context.Context, early bot.Early) []bot.Reply {
		if early.Later {
			bot.Log(ctx, a.log).Info("lark card action slower than the callback budget; answering later", "action", action)
			tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			write(&callback.CardActionTriggerResponse{Toast: toast(a.text(tctx, h, req.UserID, "lark.card_pending"))})
			return nil
		}
		out, left := cardAnswer(early)
		write(out)
		return left
	}
	d.Deliver = func(ctx context.Context, i int, r bot.Reply) (bot.Reply, error) {
		return a.deliverToClick(ctx, req, i, r)
	}
	// A click stored while the adapter shuts down is left to recovery;
	// Lark gets no answer.
	return bot.Serve(ctx, h, req, d)
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

// cardPlan lists what the answer to a click shows, index for index with
// its replies (bot.Delivery.Plan): the first replaced card patches the
// card that carried the button, the other replies are posted to its
// chat, and a reply that only repeats the toast shows nothing. When
// nothing else would tell the user, the toast follows as a line: the
// callback's answer shows it as its toast instead, when it is in time.
func cardPlan(req *bot.Request, resp *bot.Response) []bot.Reply {
	out := make([]bot.Reply, 0, len(resp.Replies)+1)
	patched, shown := false, false
	for _, r := range resp.Replies {
		switch {
		case r.Card == nil && r.Text == resp.Toast:
			r.Text, r.Replace = "", false // the toast already says it
		case r.Replace && r.Card != nil && !patched && req.Message.ID != "":
			patched = true
		default:
			r.Replace = false
		}
		if !r.Replace && (r.Text != "" || r.Card != nil || len(r.Files) > 0) {
			shown = true
		}
		out = append(out, r)
	}
	if !patched && !shown && resp.Toast != "" {
		out = append(out, bot.Reply{Text: resp.Toast})
	}
	return out
}

// cardAnswer renders the core's answer to a click in time as the
// callback's answer: the toast and the replaced card. It returns what is
// left to post (bot.Delivery.Ack).
func cardAnswer(e bot.Early) (*callback.CardActionTriggerResponse, []bot.Reply) {
	out := &callback.CardActionTriggerResponse{}
	if e.Response == nil || e.Response.Duplicate {
		return out, nil
	}
	out.Toast = toast(e.Response.Toast)
	left := append([]bot.Reply(nil), e.Replies...)
	for i, r := range left {
		switch {
		case r.Replace && r.Card != nil && out.Card == nil:
			out.Card = &callback.Card{Type: "raw", Data: json.RawMessage(renderCard(r.Card, ""))}
			left[i] = bot.Reply{}
		case i >= len(e.Response.Replies) && r.Card == nil && r.Text == e.Response.Toast:
			left[i] = bot.Reply{} // the toast as a line: shown as the toast
		}
	}
	return out, left
}

// deliverToClick shows reply i to a click: the card that carried the
// button patched (Replace), another reply posted to its chat, with the
// uuid the outbox gives reply i (bot.DeliverLate).
func (a *Adapter) deliverToClick(ctx context.Context, req *bot.Request, i int, r bot.Reply) (bot.Reply, error) {
	if r.Replace {
		if err := a.patchCard(ctx, req.Message.ID, "", r.Card); err != nil {
			bot.Log(ctx, a.log).Error("lark card update failed", "message", req.Message.ID, "err", err)
			return r, err
		}
		return bot.Reply{}, nil
	}
	o := bot.Outgoing{Platform: Name, ChatID: req.ChatID, Text: r.Text, Card: r.Card, Files: r.Files,
		Key: uuidFor(req.EventID, "reply", strconv.Itoa(i))}
	if o.ChatID == "" {
		o.UserID = req.UserID
	}
	if _, err := a.Send(ctx, o); err != nil {
		bot.Log(ctx, a.log).Error("lark reply to card action failed", "chat", req.ChatID, "err", err)
		return r, err
	}
	return bot.Reply{}, nil
}

// core is what the adapter needs of the core for its own few texts (the
// reader's language); *bot.Bot has it.
type core interface {
	Roster(ctx context.Context) (*bot.Roster, error)
	LangOf(ctx context.Context, p *bot.Person) string
}

// text renders a message of the adapter's catalog for the Lark user
// userID in the user's language, when h is the core ("" otherwise).
func (a *Adapter) text(ctx context.Context, h bot.Handler, userID, key string) string {
	c, ok := h.(core)
	if !ok {
		return ""
	}
	lang := c.LangOf(ctx, nil) // the deployment's language
	if r, err := c.Roster(ctx); err == nil {
		if p, ok := r.ByPlatformID(Name, userID); ok {
			lang = c.LangOf(ctx, p)
		}
	}
	return texts().T(lang, key)
}

func (a *Adapter) rejected(reason string) {
	if a.onReject != nil {
		a.onReject(reason)
	}
}
