package lark

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

const (
	testToken  = "rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV" // the token in lark_im_message_receive_v1.json
	testBotID  = "ou_bot_xunji"
	coordChat  = "oc_demo_coordination"
	wangming   = "ou_demo_wangming"
	lina       = "ou_demo_lina"
	cardMsgID  = "om_card_1"
	tallyValue = "T-1"
)

// apiCall is one request the fake Open API received.
type apiCall struct {
	Method, Path string
	Query        url.Values
	Auth         string
	Body         map[string]any
}

// content returns the message content the call carried, decoded.
func (c apiCall) content(t *testing.T) map[string]any {
	t.Helper()
	s, _ := c.Body["content"].(string)
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("content of %s %s is not JSON: %q", c.Method, c.Path, s)
	}
	return m
}

func (c apiCall) uuid() string { s, _ := c.Body["uuid"].(string); return s }

// failure is an answer the fake gives instead of success.
type failure struct {
	status int
	code   int
	// deliver makes the fake post the message before failing: the answer
	// was lost, not the send.
	deliver bool
}

// fakeLark speaks the Lark Open API endpoints the adapter uses, records
// the calls, and keeps Lark's uuid semantics: a send whose uuid was seen
// returns the first message and is not shown again.
type fakeLark struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	calls    []apiCall
	fail     []failure
	byUUID   map[string]string
	shown    []apiCall
	seq      int
	botInfo  bool
	tokens   int
	wsConns  chan *wsConn
	wsServer func(w http.ResponseWriter, r *http.Request)
}

func newFakeLark(t *testing.T) *fakeLark {
	f := &fakeLark{t: t, byUUID: map[string]string{}, botInfo: true}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /open-apis/auth/v3/tenant_access_token/internal", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]string
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		f.tokens++
		f.mu.Unlock()
		if body["app_secret"] != "secret" {
			writeJSON(w, 200, map[string]any{"code": 10014, "msg": "app secret invalid"})
			return
		}
		writeJSON(w, 200, map[string]any{"code": 0, "msg": "ok", "tenant_access_token": "t-test", "expire": 7200})
	})
	mux.HandleFunc("GET /open-apis/bot/v3/info", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		ok := f.botInfo
		f.mu.Unlock()
		if !ok || r.Header.Get("Authorization") != "Bearer t-test" {
			writeJSON(w, 200, map[string]any{"code": 99991663, "msg": "no permission"})
			return
		}
		writeJSON(w, 200, map[string]any{"code": 0, "msg": "ok", "bot": map[string]any{"open_id": testBotID, "app_name": "巡纪"}})
	})
	mux.HandleFunc("POST /open-apis/im/v1/messages", f.message)
	mux.HandleFunc("POST /open-apis/im/v1/messages/{id}/reply", f.message)
	mux.HandleFunc("PATCH /open-apis/im/v1/messages/{id}", f.message)
	mux.HandleFunc("PUT /open-apis/im/v1/messages/{id}", f.message)
	mux.HandleFunc("POST /callback/ws/endpoint", f.wsEndpoint)
	mux.HandleFunc("GET /ws/conn", func(w http.ResponseWriter, r *http.Request) { f.wsServer(w, r) })
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeLark) message(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	_ = json.NewDecoder(r.Body).Decode(&body)
	c := apiCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Auth: r.Header.Get("Authorization"), Body: body}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	if c.Auth != "Bearer t-test" {
		writeJSON(w, 401, map[string]any{"code": 99991663, "msg": "invalid access token"})
		return
	}
	var fl *failure
	if len(f.fail) > 0 {
		fl = &f.fail[0]
		f.fail = f.fail[1:]
	}
	if fl != nil && !fl.deliver {
		writeJSON(w, fl.status, map[string]any{"code": fl.code, "msg": "injected failure"})
		return
	}
	id := r.PathValue("id")
	if r.Method == http.MethodPost {
		u := c.uuid()
		if old, ok := f.byUUID[u]; ok && u != "" {
			id = old
		} else {
			f.seq++
			id = fmt.Sprintf("om_sent_%d", f.seq)
			if u != "" {
				f.byUUID[u] = id
			}
			f.shown = append(f.shown, c)
		}
	} else {
		f.shown = append(f.shown, c)
	}
	if fl != nil {
		writeJSON(w, fl.status, map[string]any{"code": fl.code, "msg": "answer lost"})
		return
	}
	chat, _ := body["receive_id"].(string)
	if c.Query.Get("receive_id_type") != "chat_id" {
		chat = "oc_chat_of_" + id
	}
	writeJSON(w, 200, map[string]any{"code": 0, "msg": "success", "data": map[string]any{"message_id": id, "chat_id": chat}})
}

// Calls returns the message calls so far.
func (f *fakeLark) Calls() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.calls...)
}

// Shown returns the message operations that changed what users see.
func (f *fakeLark) Shown() []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apiCall(nil), f.shown...)
}

func (f *fakeLark) failNext(fs ...failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = append(f.fail, fs...)
}

// countingHandler is the core, counting the requests that reach it.
type countingHandler struct {
	*bot.Bot
	n atomic.Int32
}

func (c *countingHandler) Handle(ctx context.Context, req *bot.Request) *bot.Response {
	c.n.Add(1)
	return c.Bot.Handle(ctx, req)
}

// Accept counts too: a message event enters the core through the inbox.
func (c *countingHandler) Accept(ctx context.Context, req *bot.Request) (string, bool, error) {
	c.n.Add(1)
	return c.Bot.Accept(ctx, req)
}

// harness is a core bot with the Lark adapter mounted on a test server.
type harness struct {
	t     *testing.T
	env   *bottest.Env
	fake  *fakeLark
	a     *Adapter
	srv   *httptest.Server
	h     *countingHandler
	gate  chan struct{}
	key   string
	token string
}

var appSeq atomic.Int32

// testConfig returns a config for fake; each gets its own app id, so the
// SDK's process-wide token cache does not carry tokens between tests.
func testConfig(fake *fakeLark, key string) Config {
	return Config{
		AppID: fmt.Sprintf("cli_test_%d", appSeq.Add(1)), AppSecret: "secret",
		VerificationToken: testToken, EncryptKey: key, BaseURL: fake.URL,
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t *testing.T, key string, mod ...func(*Config)) *harness {
	t.Helper()
	hs := &harness{t: t, env: bottest.New(t), fake: newFakeLark(t), gate: make(chan struct{}), key: key, token: testToken}
	hs.env.Must(tallyCommand(hs.env.Store, hs.gate))
	cfg := testConfig(hs.fake, key)
	for _, m := range mod {
		m(&cfg)
	}
	a, err := New(cfg, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	a.retryBase = 0
	hs.a = a
	hs.env.Bot.AddAdapter(a)
	hs.h = &countingHandler{Bot: hs.env.Bot}
	mux := http.NewServeMux()
	a.Mount(mux, hs.h)
	hs.srv = httptest.NewServer(mux)
	t.Cleanup(hs.srv.Close)
	return hs
}

// post sends body to path, encrypted and signed when the harness has a
// key, and waits for the work it started in the background.
func (hs *harness) post(path string, body []byte) (int, string) {
	hs.t.Helper()
	hdr := http.Header{}
	if hs.key != "" {
		body, hdr = sealBody(hs.t, hs.key, body, hs.a.now())
	}
	return hs.postRaw(path, body, hdr)
}

func (hs *harness) postRaw(path string, body []byte, hdr http.Header) (int, string) {
	hs.t.Helper()
	status, resp := hs.postNoWait(path, body, hdr)
	hs.a.wait()
	return status, resp
}

// postNoWait posts body and returns the answer without waiting for the
// background work.
func (hs *harness) postNoWait(path string, body []byte, hdr http.Header) (int, string) {
	hs.t.Helper()
	req, err := http.NewRequest(http.MethodPost, hs.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		hs.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		hs.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sealBody encrypts body as Lark does with an Encrypt Key and signs it.
func sealBody(t *testing.T, key string, body []byte, now interface{ Unix() int64 }) ([]byte, http.Header) {
	t.Helper()
	sealed, _ := json.Marshal(map[string]string{"encrypt": encrypt(t, key, body)})
	ts, nonce := strconv.FormatInt(now.Unix(), 10), "nonce-"+strconv.Itoa(int(appSeq.Add(1)))
	hdr := http.Header{}
	hdr.Set(larkevent.EventRequestTimestamp, ts)
	hdr.Set(larkevent.EventRequestNonce, nonce)
	hdr.Set(larkevent.EventSignature, larkevent.Signature(ts, nonce, key, string(sealed)))
	return sealed, hdr
}

// encrypt is the documented Encrypt Key algorithm: AES-256-CBC with key
// SHA256(encryptKey), a random IV in front, PKCS#7 padding, base64.
func encrypt(t *testing.T, key string, plain []byte) string {
	t.Helper()
	k := sha256.Sum256([]byte(key))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, aes.BlockSize+len(buf))
	if _, err := rand.Read(out[:aes.BlockSize]); err != nil {
		t.Fatal(err)
	}
	cipher.NewCBCEncrypter(block, out[:aes.BlockSize]).CryptBlocks(out[aes.BlockSize:], buf)
	return base64.StdEncoding.EncodeToString(out)
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureMap(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFixture(t, name), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

type mention struct{ key, openID, name string }

// msgEvent builds an im.message.receive_v1 event from the doc example.
func msgEvent(t *testing.T, eventID, chatType, chatID, sender, msgType, text string, ms ...mention) []byte {
	t.Helper()
	m := fixtureMap(t, "lark_im_message_receive_v1.json")
	m["header"].(map[string]any)["event_id"] = eventID
	ev := m["event"].(map[string]any)
	ev["sender"].(map[string]any)["sender_id"].(map[string]any)["open_id"] = sender
	msg := ev["message"].(map[string]any)
	msg["message_id"] = "om_" + eventID
	msg["chat_id"] = chatID
	msg["chat_type"] = chatType
	msg["message_type"] = msgType
	if msgType == "text" {
		c, _ := json.Marshal(map[string]string{"text": text})
		msg["content"] = string(c)
	} else {
		msg["content"] = `{"image_key":"img_v2_0001"}`
	}
	var mentions []any
	for _, x := range ms {
		mentions = append(mentions, map[string]any{"key": x.key, "id": map[string]any{"open_id": x.openID}, "name": x.name, "tenant_key": "736588c9260f175e"})
	}
	msg["mentions"] = mentions
	b, _ := json.Marshal(m)
	return b
}

// cardEvent builds a card.action.trigger callback from the larksuite/cli
// example.
func cardEvent(t *testing.T, eventID, operator, action, value string) []byte {
	t.Helper()
	m := fixtureMap(t, "lark_card_action_trigger_button.json")
	h := m["header"].(map[string]any)
	h["event_id"] = eventID
	h["token"] = testToken
	ev := m["event"].(map[string]any)
	ev["operator"].(map[string]any)["open_id"] = operator
	ev["action"].(map[string]any)["value"] = map[string]any{"action": action, "value": value}
	ctx := ev["context"].(map[string]any)
	ctx["open_message_id"] = cardMsgID
	ctx["open_chat_id"] = coordChat
	b, _ := json.Marshal(m)
	return b
}

// tallyCommand is a small command with card actions: "tally" counts and
// shows a card; its buttons count again (tally.inc) or wait for gate
// first (tally.slow). The count lives in the store.
func tallyCommand(st bot.Store, gate chan struct{}) *bot.Command {
	card := func(req *bot.Request, n int64) *bot.Card {
		return &bot.Card{
			Title: "Tally", Color: bot.Green, Text: "counted by " + bot.MentionTag(req.Person),
			Fields:  []bot.Field{{Label: "count", Value: strconv.FormatInt(n, 10)}},
			Buttons: []bot.Button{{Label: "+1", Action: "tally.inc", Value: tallyValue, Style: "primary"}},
			Note:    "note " + req.Person.Name,
		}
	}
	count := func(ctx context.Context, req *bot.Request, replace bool) (*bot.Response, error) {
		n, err := st.NextSeq(ctx, "test.tally")
		if err != nil {
			return nil, err
		}
		r := &bot.Response{Replies: []bot.Reply{{Card: card(req, n), Public: true, Replace: replace}}}
		if replace {
			r.Toast = "count " + strconv.FormatInt(n, 10)
		}
		return r, nil
	}
	return &bot.Command{
		Name: "tally", Aliases: []string{"计数"},
		Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) { return count(ctx, req, false) },
		Actions: []*bot.Action{
			{ID: "tally.inc", Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) { return count(ctx, req, true) }},
			{ID: "tally.slow", Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
				<-gate
				return count(ctx, req, true)
			}},
		},
	}
}

// tally returns the stored count without changing it.
func (hs *harness) tally() int64 {
	hs.t.Helper()
	n, err := hs.env.Store.NextSeq(context.Background(), "test.tally")
	if err != nil {
		hs.t.Fatal(err)
	}
	return n - 1
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

type larkimMention = larkim.MentionEvent

func toMentions(xs []mention) []*larkim.MentionEvent {
	var out []*larkim.MentionEvent
	for _, x := range xs {
		out = append(out, &larkim.MentionEvent{Key: &x.key, Id: &larkim.UserId{OpenId: &x.openID}, Name: &x.name})
	}
	return out
}
