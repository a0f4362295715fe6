package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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
	"time"

	"github.com/gorilla/websocket"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

const (
	testSecret  = "test-signing-secret-0123456789ab"
	testBotUser = "U0XUNJIBOT"
	coordChat   = "C0DEMOCOORD"
	waitFor     = 10 * time.Second
)

// apiCall is one request the fake Slack received.
type apiCall struct {
	Method string         // Web API method, or "response_url"
	Path   string         // request path
	Form   url.Values     // form-encoded body
	JSON   map[string]any // JSON body
	Auth   string         // Authorization header
}

// field returns a body field, form or JSON.
func (c apiCall) field(name string) string {
	if v := c.Form.Get(name); v != "" {
		return v
	}
	switch v := c.JSON[name].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// fakeSlack is an httptest server that speaks enough of the Slack Web
// API, response_url and Socket Mode for the real slack-go client.
type fakeSlack struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	calls    []apiCall
	attempts map[string]int
	fail     map[string][]int  // method → statuses to answer first
	failCode map[string]string // method → Slack error code to answer once
	changed  chan struct{}
	ts       int

	conns chan *websocket.Conn
}

func newFakeSlack(t *testing.T) *fakeSlack {
	t.Helper()
	f := &fakeSlack{t: t, attempts: map[string]int{}, fail: map[string][]int{}, failCode: map[string]string{}, changed: make(chan struct{}), conns: make(chan *websocket.Conn, 4)}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", f.serveAPI)
	mux.HandleFunc("/response/{id}", f.serveResponseURL)
	mux.HandleFunc("/upload/{id}", f.serveUpload)
	mux.HandleFunc("/ws", f.serveWebsocket)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSlack) apiURL() string { return f.srv.URL + "/api/" }

// responseURL returns a response_url that lands on the fake.
func (f *fakeSlack) responseURL(id string) string { return f.srv.URL + "/response/" + id }

// failNext makes the next calls of method answer the given statuses.
func (f *fakeSlack) failNext(method string, statuses ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = append(f.fail[method], statuses...)
}

// failWith makes the next call of method answer the Slack error code.
func (f *fakeSlack) failWith(method, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failCode[method] = code
}

func (f *fakeSlack) record(c apiCall) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	close(f.changed)
	f.changed = make(chan struct{})
}

func readBody(r *http.Request) (url.Values, map[string]any) {
	body, _ := io.ReadAll(r.Body)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		return url.Values{}, m
	}
	form, _ := url.ParseQuery(string(body))
	return form, map[string]any{}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeSlack) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	form, js := readBody(r)
	f.mu.Lock()
	f.attempts[method]++
	close(f.changed)
	f.changed = make(chan struct{})
	var status int
	if q := f.fail[method]; len(q) > 0 {
		status, f.fail[method] = q[0], q[1:]
	}
	code := f.failCode[method]
	delete(f.failCode, method)
	f.ts++
	ts := fmt.Sprintf("1764550800.%06d", f.ts)
	f.mu.Unlock()
	if code != "" {
		writeJSON(w, map[string]any{"ok": false, "error": code})
		return
	}
	if status != 0 {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(status)
		return
	}
	f.record(apiCall{Method: method, Path: r.URL.Path, Form: form, JSON: js, Auth: r.Header.Get("Authorization")})
	switch method {
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "user_id": testBotUser, "team_id": "T0DEMO", "bot_id": "B0XUNJI"})
	case "chat.postMessage":
		writeJSON(w, map[string]any{"ok": true, "channel": form.Get("channel"), "ts": ts})
	case "chat.postEphemeral":
		writeJSON(w, map[string]any{"ok": true, "message_ts": ts})
	case "chat.update":
		writeJSON(w, map[string]any{"ok": true, "channel": form.Get("channel"), "ts": form.Get("ts")})
	case "conversations.open":
		writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": "D" + strings.TrimPrefix(form.Get("users"), "U")}})
	case "files.getUploadURLExternal":
		id := "F" + strings.ReplaceAll(ts, ".", "")
		writeJSON(w, map[string]any{"ok": true, "upload_url": f.srv.URL + "/upload/" + id, "file_id": id})
	case "files.completeUploadExternal":
		writeJSON(w, map[string]any{"ok": true, "files": json.RawMessage(form.Get("files"))})
	case "views.open":
		writeJSON(w, map[string]any{"ok": true})
	case "apps.connections.open":
		writeJSON(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/ws"})
	default:
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func (f *fakeSlack) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	form, js := readBody(r)
	f.record(apiCall{Method: "response_url", Path: r.URL.Path, Form: form, JSON: js})
	writeJSON(w, map[string]any{"ok": true})
}

// upgrader accepts the Origin slack-go's socket mode client sends.
// serveUpload takes a file upload (multipart field "file") and records
// its name and content as Form "filename" and "content".
func (f *fakeSlack) serveUpload(w http.ResponseWriter, r *http.Request) {
	file, hdr, err := r.FormFile("file")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(file)
	f.record(apiCall{Method: "upload", Path: r.URL.Path, Form: url.Values{"filename": {hdr.Filename}, "content": {string(data)}}, Auth: r.Header.Get("Authorization")})
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "OK - "+strconv.Itoa(len(data)))
}

var upgrader = websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
	return r.Header.Get("Origin") == "https://api.slack.com"
}}

func (f *fakeSlack) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	f.conns <- conn
}

// callsOf returns the recorded calls of method.
func (f *fakeSlack) callsOf(method string) []apiCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []apiCall
	for _, c := range f.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// attemptsOf counts every request for method, failed ones included.
func (f *fakeSlack) attemptsOf(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[method]
}

// await waits until method has been answered successfully n times and
// returns those calls.
func (f *fakeSlack) await(method string, n int) []apiCall {
	f.t.Helper()
	f.awaitCond(fmt.Sprintf("%d %s call(s)", n, method), func() bool { return len(f.callsOf(method)) >= n })
	return f.callsOf(method)
}

func (f *fakeSlack) awaitCond(what string, cond func() bool) {
	f.t.Helper()
	deadline := time.NewTimer(waitFor)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		changed := f.changed
		f.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			f.t.Fatalf("waited %v for %s", waitFor, what)
		}
	}
}

// countingHandler counts the requests that reach the bot.
type countingHandler struct {
	h    bot.Handler
	n    atomic.Int32
	mu   sync.Mutex
	reqs []bot.Request
}

func (c *countingHandler) Handle(ctx context.Context, req *bot.Request) *bot.Response {
	c.n.Add(1)
	c.mu.Lock()
	c.reqs = append(c.reqs, *req)
	c.mu.Unlock()
	return c.h.Handle(ctx, req)
}

func (c *countingHandler) requests() []bot.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bot.Request(nil), c.reqs...)
}

// durableCounting is countingHandler with the bot's durable inbox, as
// cmd/xunji mounts *bot.Bot. Accept counts as reaching the bot.
type durableCounting struct {
	*countingHandler
	bot *bot.Bot
}

var _ bot.DurableHandler = (*durableCounting)(nil)

func (d *durableCounting) Accept(ctx context.Context, req *bot.Request) (string, bool, error) {
	d.n.Add(1)
	d.mu.Lock()
	d.reqs = append(d.reqs, *req)
	d.mu.Unlock()
	return d.bot.Accept(ctx, req)
}

func (d *durableCounting) Process(ctx context.Context, ticket string, req *bot.Request) *bot.Response {
	return d.bot.Process(ctx, ticket, req)
}

// flakyStore is a store whose claims fail while down is set: the store
// is unreachable.
type flakyStore struct {
	bot.Store
	down atomic.Bool
}

func (f *flakyStore) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if f.down.Load() {
		return false, bot.Errorf(bot.EUNAVAILABLE, "error.unavailable")
	}
	return f.Store.Claim(ctx, key, ttl)
}

// harness is a bot with the test commands, the Slack adapter mounted on
// an HTTP server, and a fake Slack behind it.
type harness struct {
	t       *testing.T
	env     *bottest.Env
	fake    *fakeSlack
	a       *Adapter
	h       *countingHandler
	mounted bot.Handler // what Mount got: h, or h with the durable inbox
	srv     *httptest.Server
	secret  string
	release chan struct{} // unblocks the "slow" command
}

func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	return newHarnessWith(t, harnessConfig{opts: opts})
}

// newHarnessSecret is newHarness with another signing secret.
func newHarnessSecret(t *testing.T, secret string, opts ...Option) *harness {
	t.Helper()
	return newHarnessWith(t, harnessConfig{secret: secret, opts: opts})
}

// harnessConfig varies the harness.
type harnessConfig struct {
	secret string    // signing secret; testSecret when empty
	plain  bool      // mount a plain bot.Handler, without the durable inbox
	store  bot.Store // the bot's store; in memory when nil
	opts   []Option
}

func newHarnessWith(t *testing.T, c harnessConfig) *harness {
	t.Helper()
	hs := buildHarness(t, c)
	hs.run()
	return hs
}

// buildHarness builds a harness without running the adapter.
func buildHarness(t *testing.T, c harnessConfig) *harness {
	t.Helper()
	if c.secret == "" {
		c.secret = testSecret
	}
	var envOpts []bottest.Option
	if c.store != nil {
		envOpts = append(envOpts, bottest.WithStore(c.store))
	}
	env := bottest.New(t, envOpts...)
	release := make(chan struct{})
	env.Must(testCommands(env.Store, release)...)
	fake := newFakeSlack(t)
	a, err := New(Config{BotToken: "xoxb-test", SigningSecret: c.secret, APIURL: fake.apiURL()}, c.opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.botUserID(context.Background()); err != nil {
		t.Fatal(err)
	}
	env.Bot.AddAdapter(a)
	h := &countingHandler{h: env.Bot}
	var mounted bot.Handler = &durableCounting{countingHandler: h, bot: env.Bot}
	if c.plain {
		mounted = h
	}
	mux := http.NewServeMux()
	a.Mount(mux, mounted)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &harness{t: t, env: env, fake: fake, a: a, h: h, mounted: mounted, srv: srv, secret: c.secret, release: release}
}

// run starts the adapter's Run and stops it when the test ends.
func (hs *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hs.a.Run(ctx, hs.mounted) }()
	hs.t.Cleanup(func() {
		select {
		case <-hs.release:
		default:
			close(hs.release)
		}
		cancel()
		if err := <-done; err != nil {
			hs.t.Errorf("Run: %v", err)
		}
	})
}

// settle waits for the background work of requests already answered.
func (hs *harness) settle() { hs.a.jobs.wait() }

// post sends body to path, signed now unless header says otherwise.
func (hs *harness) post(path, contentType string, body []byte, header http.Header) *http.Response {
	hs.t.Helper()
	req, err := http.NewRequest(http.MethodPost, hs.srv.URL+path, strings.NewReader(string(body)))
	if err != nil {
		hs.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if header == nil {
		header = signedHeader(hs.secret, time.Now(), body)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		hs.t.Fatal(err)
	}
	hs.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (hs *harness) postEvent(body []byte, header http.Header) *http.Response {
	hs.t.Helper()
	return hs.post(PathEvents, "application/json", body, header)
}

func (hs *harness) postCommand(form url.Values) *http.Response {
	hs.t.Helper()
	return hs.post(PathCommands, "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
}

func (hs *harness) postInteraction(payload []byte) *http.Response {
	hs.t.Helper()
	return hs.post(PathInteractions, "application/x-www-form-urlencoded", []byte("payload="+url.QueryEscape(string(payload))), nil)
}

// withAckWait shortens how long a slash command waits for its answer.
func withAckWait(d time.Duration) Option { return func(a *Adapter) { a.ackWait = d } }

// withRetries sets how often Web API calls are retried.
func withRetries(n int) Option { return func(a *Adapter) { a.retries = n } }

// sign computes the v0 signature of body at timestamp ts.
func sign(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// signedHeader returns the signature headers of body signed at t.
func signedHeader(secret string, t time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(t.Unix(), 10)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", sign(secret, ts, body))
	return h
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fixtureJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fixture(t, name), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mentionEvent is the app_mention fixture said by user in channel.
func mentionEvent(t *testing.T, eventID, user, channel, text string) []byte {
	t.Helper()
	m := fixtureJSON(t, "events_app_mention.json")
	m["event_id"] = eventID
	ev := m["event"].(map[string]any)
	ev["user"], ev["channel"], ev["text"] = user, channel, text
	delete(ev, "blocks")
	return mustJSON(t, m)
}

// messageEvent is the message fixture as a direct message (message.im).
func messageEvent(t *testing.T, eventID string, edit func(ev map[string]any)) []byte {
	t.Helper()
	m := fixtureJSON(t, "events_message_channels.json")
	m["event_id"] = eventID
	ev := m["event"].(map[string]any)
	ev["user"], ev["channel"], ev["channel_type"], ev["text"] = "U0LINA", "D0LINA", "im", "count"
	if edit != nil {
		edit(ev)
	}
	return mustJSON(t, m)
}

// slashForm is the slash command fixture with a command and text.
func slashForm(t *testing.T, fake *fakeSlack, command, text, user, trigger string) url.Values {
	t.Helper()
	form, err := url.ParseQuery(string(fixture(t, "slash_command.form")))
	if err != nil {
		t.Fatal(err)
	}
	form.Set("command", command)
	form.Set("text", text)
	form.Set("user_id", user)
	form.Set("channel_id", coordChat)
	form.Set("trigger_id", trigger)
	form.Set("response_url", fake.responseURL(trigger))
	return form
}

// clickPayload is the block_actions fixture for a click by user on the
// button (action, value) of message ts in channel.
func clickPayload(t *testing.T, fake *fakeSlack, user, channel, ts, action, value, trigger string) []byte {
	t.Helper()
	m := fixtureJSON(t, "interactivity_block_actions.json")
	m["user"].(map[string]any)["id"] = user
	m["trigger_id"] = trigger
	m["response_url"] = fake.responseURL(trigger)
	m["container"] = map[string]any{"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": false}
	m["channel"] = map[string]any{"id": channel, "name": "xunji-coordination"}
	act := m["actions"].([]any)[0].(map[string]any)
	act["action_id"], act["value"] = action, value
	return mustJSON(t, m)
}

// The test commands: "count" shows a counter card whose button adds one
// in the store and updates the card in place; "shout" answers the whole
// channel; "bump" adds one to a counter on every run; "export" answers
// with a file ("export public" to the channel); "slow" waits for the test
// to release it.
const counterColl = "slacktest_counter"

func testCommands(store bot.Store, release <-chan struct{}) []*bot.Command {
	get := func(ctx context.Context, id string) int {
		b, err := store.Get(ctx, counterColl, id)
		if err != nil {
			return 0
		}
		n, _ := strconv.Atoi(string(b))
		return n
	}
	card := func(id string, n int) *bot.Card {
		return &bot.Card{
			Title: "Counter " + id, Color: bot.Blue, Text: "value <" + strconv.Itoa(n) + ">",
			Fields:  []bot.Field{{Label: "Value", Value: strconv.Itoa(n)}},
			Buttons: []bot.Button{{Label: "+1", Action: "count.inc", Value: id, Style: "primary"}},
			Note:    "counted",
		}
	}
	return []*bot.Command{
		{
			Name: "count", Aliases: []string{"计数"},
			Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
				return &bot.Response{Replies: []bot.Reply{{Card: card("c1", get(ctx, "c1"))}}}, nil
			},
			Actions: []*bot.Action{{ID: "count.inc", Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
				n := get(ctx, req.Value) + 1
				if err := store.Put(ctx, counterColl, req.Value, []byte(strconv.Itoa(n))); err != nil {
					return nil, err
				}
				return &bot.Response{Replies: []bot.Reply{{Card: card(req.Value, n), Replace: true}}, Toast: "+1"}, nil
			}}},
		},
		{
			Name: "shout", Aliases: []string{"喊"},
			Run: func(_ context.Context, req *bot.Request) (*bot.Response, error) {
				return &bot.Response{Replies: []bot.Reply{{Text: "hello from " + bot.MentionTag(req.Person), Public: true}}}, nil
			},
		},
		{
			Name: "bump", Aliases: []string{"加"},
			Run: func(ctx context.Context, _ *bot.Request) (*bot.Response, error) {
				n := get(ctx, "bump") + 1
				if err := store.Put(ctx, counterColl, "bump", []byte(strconv.Itoa(n))); err != nil {
					return nil, err
				}
				return bot.Text("bumped to " + strconv.Itoa(n)), nil
			},
		},
		{
			Name: "export", Aliases: []string{"导出"},
			Run: func(_ context.Context, req *bot.Request) (*bot.Response, error) {
				f := bot.File{Name: "进度.csv", MIME: "text/csv", Data: []byte("项目,进度\nZG-1,60%\n")}
				public := len(req.Command.Args) > 0 && req.Command.Args[0] == "public"
				return &bot.Response{Replies: []bot.Reply{{Text: "exported", Files: []bot.File{f}, Public: public}}}, nil
			},
		},
		{
			Name: "slow", Aliases: []string{"慢"},
			Run: func(ctx context.Context, _ *bot.Request) (*bot.Response, error) {
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return bot.Text("slow done"), nil
			},
		},
	}
}

// counter reads the test counter from the store.
func counter(t *testing.T, store bot.Store, id string) int {
	t.Helper()
	b, err := store.Get(context.Background(), counterColl, id)
	if err != nil {
		if bot.IsNotFound(err) {
			return 0
		}
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(string(b))
	return n
}
