// Package larktest is a test kit for driving xunji's Lark / Feishu
// adapter (adapters/lark) from any package's tests:
//
//   - Server, an httptest server that speaks the Open API endpoints the
//     adapter uses (tenant_access_token, bot/v3/info, im/v1/messages
//     create, reply, patch and update, im/v1/images and im/v1/files
//     uploads) and the long-connection endpoint and WebSocket. It keeps Lark's uuid semantics (a send with a uuid
//     already seen returns the first message and is not shown again),
//     records every message call with its parsed body, finds the messages,
//     cards, replies, card patches and direct messages the bot sent, waits
//     for calls with a deadline, injects failures (HTTP statuses such
//     as 429 with x-ogw-ratelimit-reset or 5xx, with Lark error codes),
//     one by one or as an outage, and can answer slowly.
//   - Builders of real-shaped callbacks — im.message.receive_v1 (a group
//     message that @-mentions the bot, a p2p message) and
//     card.action.trigger — made from public Lark examples, carrying the
//     verification token; Seal encrypts a body with an Encrypt Key
//     (AES-256-CBC) and signs it with the X-Lark-Request-Timestamp, -Nonce
//     and -Signature headers; Client posts them to a mounted adapter.
//
// Point the adapter at the server with lark.Config{BaseURL: s.URL,
// AppSecret: larktest.AppSecret, VerificationToken:
// larktest.VerificationToken} (LARK_BASE_URL and friends). The kit does
// not import the adapter, so the adapter's own tests can use it.
package larktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	larkws "github.com/larksuite/oapi-sdk-go/v3/ws"

	"github.com/xunji-bot/xunji/bot/bottest"
)

// Credentials and identity of the fake tenant.
const (
	// AppSecret is the only app secret the fake accepts.
	AppSecret = "secret"
	// TenantToken is the tenant_access_token the fake issues and requires.
	TenantToken = "t-test"
	// BotOpenID is the bot's open_id, as /open-apis/bot/v3/info answers it.
	BotOpenID = "ou_bot_xunji"
	// BotName is the bot's name in mentions.
	BotName = "巡纪"
	// VerificationToken is the token the builders put in callbacks (the
	// token of the public im.message.receive_v1 example).
	VerificationToken = "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV"
	// TenantKey is the tenant the builders' events and callbacks come
	// from (the tenant_key of the public im.message.receive_v1 example).
	TenantKey = "2ca1d211f64f6438"
)

// DefaultTimeout is how long the Await helpers wait by default.
const DefaultTimeout = 10 * time.Second

// Call is one im/v1/messages request the fake received.
type Call struct {
	Method string // POST (create, reply), PATCH (card update) or PUT (text edit)
	Path   string
	Query  url.Values
	Auth   string
	Body   map[string]any
	// MessageID is the message the call created (POST) or changed
	// (PATCH, PUT); "" when the fake refused the call.
	MessageID string
	// Target is the message replied to (…/reply) or changed; "" for a create.
	Target string
}

// IsCreate reports whether the call sent a new message to a chat or a
// person (not a reply).
func (c Call) IsCreate() bool { return c.Method == http.MethodPost && c.Target == "" }

// IsReply reports whether the call answered a message (…/reply).
func (c Call) IsReply() bool { return c.Method == http.MethodPost && c.Target != "" }

// IsPatch reports whether the call replaced a card (PATCH).
func (c Call) IsPatch() bool { return c.Method == http.MethodPatch }

// ReceiveIDType is the receive_id_type of a create: chat_id or open_id.
func (c Call) ReceiveIDType() string { return c.Query.Get("receive_id_type") }

// ReceiveID is the chat or person a create was addressed to.
func (c Call) ReceiveID() string { s, _ := c.Body["receive_id"].(string); return s }

// MsgType is the msg_type of a create or reply ("text", "interactive");
// a PATCH always carries a card.
func (c Call) MsgType() string {
	if c.IsPatch() {
		return "interactive"
	}
	s, _ := c.Body["msg_type"].(string)
	return s
}

// IsCard reports whether the call carried a card.
func (c Call) IsCard() bool { return c.MsgType() == "interactive" }

// UUID is the idempotency uuid the call carried.
func (c Call) UUID() string { s, _ := c.Body["uuid"].(string); return s }

// Content returns the message content (a JSON string in the body), decoded.
func (c Call) Content() (map[string]any, error) {
	s, _ := c.Body["content"].(string)
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("content of %s %s is not JSON: %q", c.Method, c.Path, s)
	}
	return m, nil
}

// Text returns every string the call carried, the content opened, one
// per line, for asserting what a reader could see.
func (c Call) Text() string { return strings.Join(leafStrings(c.Body), "\n") }

// Button is a card button found in a call: what a click sends back.
type Button struct {
	Action, Value, Text string
}

// Buttons returns the card buttons in the call's content, in order.
func (c Call) Buttons() []Button {
	m, err := c.Content()
	if err != nil {
		return nil
	}
	return CardButtons(m)
}

// Button returns the first button with action, and whether there is one.
func (c Call) Button(action string) (Button, bool) {
	for _, b := range c.Buttons() {
		if b.Action == action {
			return b, true
		}
	}
	return Button{}, false
}

// CardButtons returns the buttons of a card in its JSON form (a message
// content or the card in a callback answer).
func CardButtons(card any) []Button {
	var out []Button
	walk(card, func(m map[string]any) {
		if m["tag"] != "button" {
			return
		}
		b := Button{}
		if t, ok := m["text"].(map[string]any); ok {
			b.Text, _ = t["content"].(string)
		}
		var value map[string]any
		if v, ok := m["value"].(map[string]any); ok { // JSON 1.0
			value = v
		}
		if bs, ok := m["behaviors"].([]any); ok { // JSON 2.0
			for _, x := range bs {
				if bm, ok := x.(map[string]any); ok && bm["type"] == "callback" {
					value, _ = bm["value"].(map[string]any)
				}
			}
		}
		b.Action, _ = value["action"].(string)
		b.Value, _ = value["value"].(string)
		out = append(out, b)
	})
	return out
}

// Failure is an answer the fake gives to a message call instead of
// success.
type Failure struct {
	Status int // HTTP status
	Code   int // Lark error code in the body
	// Deliver makes the fake perform the send before failing: the answer
	// was lost, not the message.
	Deliver bool
	// RetryAfter is sent as x-ogw-ratelimit-reset (whole seconds) when set.
	RetryAfter time.Duration
}

// Server is a fake Lark Open API.
type Server struct {
	// URL is the base URL for lark.Config.BaseURL (LARK_BASE_URL).
	URL string
	// Timeout bounds the Await helpers; DefaultTimeout unless changed.
	Timeout time.Duration

	tb  testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	calls   []Call
	fail    []Failure
	failAll *Failure
	latency time.Duration
	byUUID  map[string]string
	shown   []Call
	seq     int
	botInfo bool
	tokens  int
	changes bottest.Changes
	wsConns chan *WSConn
	uploads []Upload
	// files are the file messages the fake knows (message id → file),
	// served by GET im/v1/messages/:id and its resources.
	files     map[string]FileMessage
	downloads []string
	// directory maps "mobile:…" and "email:…" to open_ids (AddUser).
	directory map[string]string
	revoked   bool // RevokeSecret: the app secret is refused from now on
}

// Upload is an image or file the bot uploaded (im/v1/images, im/v1/files).
type Upload struct {
	Kind string // "image" or "file"
	Key  string // the image_key or file_key the fake returned
	Name string // file_name (files only)
	Type string // image_type or file_type
	Data []byte
}

// NewServer starts a fake Lark; it is closed when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		Timeout: DefaultTimeout, tb: tb, byUUID: map[string]string{}, botInfo: true,
		wsConns: make(chan *WSConn, 4),
		files:   map[string]FileMessage{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /open-apis/auth/v3/tenant_access_token/internal", s.serveToken)
	mux.HandleFunc("GET /open-apis/bot/v3/info", s.serveBotInfo)
	mux.HandleFunc("POST /open-apis/im/v1/messages", s.serveMessage)
	mux.HandleFunc("POST /open-apis/im/v1/messages/{id}/reply", s.serveMessage)
	mux.HandleFunc("PATCH /open-apis/im/v1/messages/{id}", s.serveMessage)
	mux.HandleFunc("PUT /open-apis/im/v1/messages/{id}", s.serveMessage)
	mux.HandleFunc("GET /open-apis/im/v1/messages/{id}", s.serveGetMessage)
	mux.HandleFunc("GET /open-apis/im/v1/messages/{id}/resources/{key}", s.serveResource)
	mux.HandleFunc("POST /open-apis/im/v1/images", s.serveUpload)
	mux.HandleFunc("POST /open-apis/im/v1/files", s.serveUpload)
	mux.HandleFunc("POST /open-apis/contact/v3/users/batch_get_id", s.serveBatchGetID)
	mux.HandleFunc("POST /callback/ws/endpoint", s.serveWSEndpoint)
	mux.HandleFunc("GET /ws/conn", s.serveWS)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server. It is safe to call more than once.
func (s *Server) Close() { s.srv.Close() }

// SetBotInfo makes /open-apis/bot/v3/info answer (true, the default) or
// refuse with a permission error (false).
func (s *Server) SetBotInfo(ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.botInfo = ok
}

// TokenFetches counts the tenant_access_token requests.
func (s *Server) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens
}

// FailNext makes the next message calls answer the failures in turn.
func (s *Server) FailNext(fs ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, fs...)
}

// FailAll makes every message call answer f, after the failures queued
// by FailNext, until FailAll(nil) ends the outage.
func (s *Server) FailAll(f *Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f != nil {
		c := *f
		f = &c
	}
	s.failAll = f
}

// SetLatency makes every message call wait d before it is answered — and,
// for a call that succeeds, before it is performed: a client that gives
// up (or dies) meanwhile still sends the message, as on the real
// platform. 0 (the default) answers at once.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Calls returns every message call so far, failed ones included.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Shown returns the message calls that changed what users see: sends
// (not repeated uuids) and updates that succeeded or whose answer was lost.
func (s *Server) Shown() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.shown)
}

// Find returns the shown calls that match.
func (s *Server) Find(match func(Call) bool) []Call {
	var out []Call
	for _, c := range s.Shown() {
		if match(c) {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns the messages sent to chat (receive_id_type chat_id).
func (s *Server) Messages(chatID string) []Call {
	return s.Find(func(c Call) bool { return c.IsCreate() && c.ReceiveIDType() == "chat_id" && c.ReceiveID() == chatID })
}

// Cards returns the cards sent to chat.
func (s *Server) Cards(chatID string) []Call {
	return s.Find(func(c Call) bool {
		return c.IsCreate() && c.ReceiveIDType() == "chat_id" && c.ReceiveID() == chatID && c.IsCard()
	})
}

// DMs returns the messages sent to a person by open_id.
func (s *Server) DMs(openID string) []Call {
	return s.Find(func(c Call) bool { return c.IsCreate() && c.ReceiveIDType() == "open_id" && c.ReceiveID() == openID })
}

// Replies returns the replies to message id.
func (s *Server) Replies(messageID string) []Call {
	return s.Find(func(c Call) bool { return c.IsReply() && c.Target == messageID })
}

// Patches returns the card updates of message id; "" means any message.
func (s *Server) Patches(messageID string) []Call {
	return s.Find(func(c Call) bool { return c.IsPatch() && (messageID == "" || c.Target == messageID) })
}

// AllText is the text of every message call, for asserting that
// something never reached Lark.
func (s *Server) AllText() string {
	var b strings.Builder
	for _, c := range s.Calls() {
		b.WriteString(c.Text())
		b.WriteString("\n")
	}
	return b.String()
}

// AwaitCall waits for a shown call that matches and returns the first.
func (s *Server) AwaitCall(what string, match func(Call) bool) Call {
	s.tb.Helper()
	var found Call
	s.AwaitFunc(what, func() bool {
		cs := s.Find(match)
		if len(cs) == 0 {
			return false
		}
		found = cs[0]
		return true
	})
	return found
}

// AwaitFunc waits until cond holds, checking whenever a message call
// arrives; the test fails after Timeout.
func (s *Server) AwaitFunc(what string, cond func() bool) {
	s.tb.Helper()
	if err := s.Wait(cond, s.Timeout); err != nil {
		s.tb.Fatalf("larktest: %s: %v", what, err)
	}
}

// Wait is AwaitFunc returning an error instead of failing the test, for
// use outside the test goroutine.
func (s *Server) Wait(cond func() bool, timeout time.Duration) error {
	return s.changes.Wait(cond, timeout)
}

// Reset forgets the recorded calls (not the uuids seen, nor injected
// failures).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.shown = nil, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// RevokeSecret makes the fake refuse the app secret from now on, as Lark
// does once it is reset in the developer console: tenant tokens and the
// long connection's endpoint are refused.
func (s *Server) RevokeSecret() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked = true
}

// secretAccepted reports whether secret opens the app.
func (s *Server) secretAccepted(secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return secret == AppSecret && !s.revoked
}

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	var body map[string]string
	_ = json.NewDecoder(r.Body).Decode(&body)
	s.mu.Lock()
	s.tokens++
	s.mu.Unlock()
	if !s.secretAccepted(body["app_secret"]) {
		writeJSON(w, 200, map[string]any{"code": 10014, "msg": "app secret invalid"})
		return
	}
	writeJSON(w, 200, map[string]any{"code": 0, "msg": "ok", "tenant_access_token": TenantToken, "expire": 7200})
}

func (s *Server) serveBotInfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := s.botInfo
	s.mu.Unlock()
	if !ok || r.Header.Get("Authorization") != "Bearer "+TenantToken {
		writeJSON(w, 200, map[string]any{"code": 99991663, "msg": "no permission"})
		return
	}
	writeJSON(w, 200, map[string]any{"code": 0, "msg": "ok", "bot": map[string]any{"open_id": BotOpenID, "app_name": BotName}})
}

func (s *Server) serveMessage(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	c := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Auth: r.Header.Get("Authorization"), Body: body, Target: r.PathValue("id")}
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		time.Sleep(latency)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		s.changes.Broadcast()
	}()
	if c.Auth != "Bearer "+TenantToken {
		s.calls = append(s.calls, c)
		writeJSON(w, 401, map[string]any{"code": 99991663, "msg": "invalid access token"})
		return
	}
	var fl *Failure
	if len(s.fail) > 0 {
		fl = &s.fail[0]
		s.fail = s.fail[1:]
	} else if s.failAll != nil {
		f := *s.failAll
		fl = &f
	}
	if fl != nil && !fl.Deliver {
		s.calls = append(s.calls, c)
		if fl.RetryAfter > 0 {
			w.Header().Set("X-Ogw-Ratelimit-Reset", strconv.Itoa(int((fl.RetryAfter+time.Second-1)/time.Second)))
		}
		writeJSON(w, fl.Status, map[string]any{"code": fl.Code, "msg": "injected failure"})
		return
	}
	id := c.Target
	if r.Method == http.MethodPost {
		u := c.UUID()
		if old, ok := s.byUUID[u]; ok && u != "" {
			id = old
		} else {
			s.seq++
			id = fmt.Sprintf("om_sent_%d", s.seq)
			if u != "" {
				s.byUUID[u] = id
			}
			c.MessageID = id
			s.shown = append(s.shown, c)
		}
	} else {
		c.MessageID = id
		s.shown = append(s.shown, c)
	}
	c.MessageID = id
	s.calls = append(s.calls, c)
	if fl != nil {
		writeJSON(w, fl.Status, map[string]any{"code": fl.Code, "msg": "answer lost"})
		return
	}
	chat := c.ReceiveID()
	if c.ReceiveIDType() != "chat_id" {
		chat = "oc_chat_of_" + id
	}
	writeJSON(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"message_id": id, "chat_id": chat}})
}

// Uploads returns the images and files uploaded so far.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.uploads)
}

func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+TenantToken {
		writeJSON(w, 401, map[string]any{"code": 99991663, "msg": "invalid access token"})
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeJSON(w, 400, map[string]any{"code": 234001, "msg": err.Error()})
		return
	}
	u := Upload{Kind: "file", Name: r.FormValue("file_name"), Type: r.FormValue("file_type")}
	field := "file"
	if strings.HasSuffix(r.URL.Path, "/images") {
		u.Kind, u.Type, field = "image", r.FormValue("image_type"), "image"
	}
	if f, _, err := r.FormFile(field); err == nil {
		u.Data, _ = io.ReadAll(f)
		f.Close()
	}
	s.mu.Lock()
	s.seq++
	u.Key = fmt.Sprintf("%s_fake_%d", map[string]string{"image": "img_v2", "file": "file_v3"}[u.Kind], s.seq)
	s.uploads = append(s.uploads, u)
	s.changes.Broadcast()
	s.mu.Unlock()
	data := map[string]any{"file_key": u.Key}
	if u.Kind == "image" {
		data = map[string]any{"image_key": u.Key}
	}
	writeJSON(w, 200, map[string]any{"code": 0, "msg": "success", "data": data})
}

// WSConn is the server side of a long connection the SDK client opened.
type WSConn struct {
	*websocket.Conn
	AppID string // the app that connected
}

// WSConns delivers each long connection a client opened.
func (s *Server) WSConns() <-chan *WSConn { return s.wsConns }

// serveWSEndpoint answers the SDK's POST /callback/ws/endpoint with the
// URL of the fake's own WebSocket, and a client config that pings only
// when the client starts, and reconnects for ever like Lark's, but with
// an hour between attempts: a dropped connection is tried again once
// during a test.
func (s *Server) serveWSEndpoint(w http.ResponseWriter, r *http.Request) {
	var creds struct{ AppID, AppSecret string }
	_ = json.NewDecoder(r.Body).Decode(&creds)
	if !s.secretAccepted(creds.AppSecret) {
		writeJSON(w, 200, map[string]any{"code": 403, "msg": "bad credentials"})
		return
	}
	wsURL := "ws" + strings.TrimPrefix(s.URL, "http") + "/ws/conn?device_id=dev1&service_id=7&app=" + url.QueryEscape(creds.AppID)
	writeJSON(w, 200, larkws.EndpointResp{Code: 0, Data: &larkws.Endpoint{
		Url: wsURL, ClientConfig: &larkws.ClientConfig{PingInterval: 3600, ReconnectInterval: 3600, ReconnectCount: -1},
	}})
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	keepOpen(c)
	s.wsConns <- &WSConn{Conn: c, AppID: r.URL.Query().Get("app")}
}

// openConns keeps the fake's end of every long connection reachable, so
// the garbage collector never closes it (a net.Conn's finalizer closes
// its socket): the SDK's ws client (v3.5.3) cannot be stopped, and when
// its connection drops, its disconnect races with its own ping loop — a
// data race inside the SDK that -race would report in whatever test runs
// at that moment. The connections live until the test binary exits.
var openConns struct {
	sync.Mutex
	conns []*websocket.Conn
}

func keepOpen(c *websocket.Conn) {
	openConns.Lock()
	defer openConns.Unlock()
	openConns.conns = append(openConns.conns, c)
}

// Drop ends the connection as Lark does when it drops one: a close
// frame, then the socket closed. The frame is a write the client's read
// then follows, which orders the client's disconnect after whatever the
// test saw before calling Drop (the SDK's client reads its connection id
// without its lock, see openConns).
func (c *WSConn) Drop(tb testing.TB) {
	tb.Helper()
	_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "dropped"), time.Now().Add(DefaultTimeout))
	if err := c.Close(); err != nil {
		tb.Fatal(err)
	}
}

// Push sends payload (an event or card callback body) as one data frame
// of type typ ("event" or "card") with message id, and returns the
// client's reply.
func (c *WSConn) Push(tb testing.TB, id, typ string, payload []byte) larkws.Response {
	tb.Helper()
	frame := larkws.Frame{SeqID: 1, LogID: 1, Service: 7, Method: int32(larkws.FrameTypeData), Payload: payload}
	hs := larkws.Headers{}
	hs.Add(larkws.HeaderType, typ)
	hs.Add(larkws.HeaderMessageID, id)
	hs.Add(larkws.HeaderSum, "1")
	hs.Add(larkws.HeaderSeq, "0")
	hs.Add(larkws.HeaderTraceID, "trace-"+id)
	frame.Headers = hs
	b, err := frame.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.WriteMessage(websocket.BinaryMessage, b); err != nil {
		tb.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(DefaultTimeout))
	for {
		_, msg, err := c.ReadMessage()
		if err != nil {
			tb.Fatalf("larktest: reading the reply to %s: %v", id, err)
		}
		var f larkws.Frame
		if err := f.Unmarshal(msg); err != nil {
			tb.Fatal(err)
		}
		h := larkws.Headers(f.Headers)
		if larkws.FrameType(f.Method) != larkws.FrameTypeData || h.GetString(larkws.HeaderMessageID) != id {
			continue // a ping
		}
		if h.GetString(larkws.HeaderBizRt) == "" {
			tb.Errorf("larktest: reply to %s has no biz_rt", id)
		}
		var resp larkws.Response
		if err := json.Unmarshal(f.Payload, &resp); err != nil {
			tb.Fatal(err)
		}
		return resp
	}
}

func leafStrings(v any) []string {
	var out []string
	var rec func(v any)
	rec = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
			if t := strings.TrimSpace(v); strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
				var inner any
				if json.Unmarshal([]byte(t), &inner) == nil {
					rec(inner)
				}
			}
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				rec(v[k])
			}
		case []any:
			for _, x := range v {
				rec(x)
			}
		}
	}
	rec(v)
	return out
}

func walk(v any, f func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		f(v)
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			walk(v[k], f)
		}
	case []any:
		for _, x := range v {
			walk(x, f)
		}
	}
}

// CardText returns every string in a card's JSON form (a message content
// or the card of a callback answer), one per line.
func CardText(card any) string { return strings.Join(leafStrings(card), "\n") }
