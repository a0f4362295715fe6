// Package slacktest is a test kit for driving xunji's Slack adapter
// (adapters/slack) from any package's tests:
//
//   - Server, an httptest server that speaks the part of the Slack Web API
//     the adapter uses (auth.test, chat.postMessage, chat.postEphemeral,
//     chat.update, conversations.open, the external file upload,
//     views.open, apps.connections.open), response_url posts and the
//     Socket Mode websocket. It records every call with its parsed body,
//     finds posted messages, updates and direct messages, waits for calls
//     with a deadline, injects failures (HTTP statuses such as 429 with
//     Retry-After or 5xx, and Slack error codes), one by one or as an
//     outage, and can answer slowly.
//   - Builders of real-shaped incoming requests — Events API bodies
//     (app_mention, message.im), slash command forms, block_actions and
//     view_submission interaction payloads — made from public Slack
//     examples, and Sign, which signs a body with the v0 HMAC scheme at a
//     given time; Client posts them to a mounted adapter.
//
// Point the adapter at the server with slack.Config{APIURL: s.APIURL()}
// (slack.OptionAPIURL for slack-go). The kit does not import the adapter,
// so the adapter's own tests can use it.
package slacktest

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

	"github.com/xunji-bot/xunji/bot/bottest"
)

// Identity of the fake workspace's bot, as auth.test answers it.
const (
	BotUserID = "U0XUNJIBOT"
	BotID     = "B0XUNJI"
	TeamID    = "T0DEMO"
)

// DefaultTimeout is how long the Await helpers wait by default.
const DefaultTimeout = 10 * time.Second

// Call is one request the fake Slack answered successfully.
type Call struct {
	Method string         // Web API method; "response_url" or "upload" for those endpoints
	Path   string         // request path
	Form   url.Values     // form-encoded body (empty for JSON bodies)
	JSON   map[string]any // JSON body (empty for form bodies)
	Auth   string         // Authorization header
	TS     string         // ts the fake assigned (chat.postMessage) or was asked to update (chat.update)
}

// Field returns a body field, from the form or the JSON body; non-string
// JSON values are returned as JSON.
func (c Call) Field(name string) string {
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

// Channel is the channel the call was addressed to.
func (c Call) Channel() string { return c.Field("channel") }

// Blocks returns the Block Kit blocks the call carried, parsed.
func (c Call) Blocks() []any {
	var blocks []any
	if s := c.Field("blocks"); s != "" {
		_ = json.Unmarshal([]byte(s), &blocks)
	}
	return blocks
}

// View returns the view a views.open (or views.update) call carried,
// parsed; nil when there is none.
func (c Call) View() map[string]any {
	if v, ok := c.JSON["view"].(map[string]any); ok {
		return v
	}
	var v map[string]any
	if s := c.Form.Get("view"); s != "" {
		_ = json.Unmarshal([]byte(s), &v)
	}
	return v
}

// HasBlocks reports whether the call carried blocks (a card).
func (c Call) HasBlocks() bool { return len(c.Blocks()) > 0 }

// Button is a Block Kit button found in a call.
type Button struct {
	ActionID, Value, Text string
}

// Buttons returns the buttons in the call's blocks, in order.
func (c Call) Buttons() []Button {
	var out []Button
	walk(c.Blocks(), func(m map[string]any) {
		if m["type"] != "button" {
			return
		}
		b := Button{}
		b.ActionID, _ = m["action_id"].(string)
		b.Value, _ = m["value"].(string)
		if t, ok := m["text"].(map[string]any); ok {
			b.Text, _ = t["text"].(string)
		}
		out = append(out, b)
	})
	return out
}

// Button returns the first button with action id, and whether there is one.
func (c Call) Button(actionID string) (Button, bool) {
	for _, b := range c.Buttons() {
		if b.ActionID == actionID {
			return b, true
		}
	}
	return Button{}, false
}

// Text returns every string the call carried — form values, JSON values,
// and the strings inside JSON-encoded fields such as blocks — one per
// line, for asserting what a reader could see.
func (c Call) Text() string {
	var parts []string
	for _, k := range sortedKeys(c.Form) {
		for _, v := range c.Form[k] {
			parts = append(parts, leafStrings(v)...)
		}
	}
	parts = append(parts, leafStrings(c.JSON)...)
	return strings.Join(parts, "\n")
}

// leafStrings collects the string leaves of v; strings that hold JSON are
// opened as well.
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
			for _, k := range sortedMapKeys(v) {
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

// Server is a fake Slack: Web API under /api/, response_url targets
// under /response/, file uploads under /upload/, Socket Mode at /ws.
type Server struct {
	// Timeout bounds the Await helpers; DefaultTimeout unless changed.
	Timeout time.Duration

	tb  testing.TB
	srv *httptest.Server

	mu         sync.Mutex
	calls      []Call
	attempts   map[string]int
	fail       map[string][]int  // method → statuses to answer first
	failCode   map[string]string // method → Slack error code to answer once
	retryAfter string
	failAll    int
	refuseAll  string // Slack error code every call answers, until cleared
	latency    time.Duration
	changes    bottest.Changes
	ts         int

	conns chan *websocket.Conn
	files map[string]hostedFile // file id → content, served under /files/
}

// NewServer starts a fake Slack; it is closed when the test ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		Timeout: DefaultTimeout, tb: tb,
		attempts: map[string]int{}, fail: map[string][]int{}, failCode: map[string]string{},
		retryAfter: "1", conns: make(chan *websocket.Conn, 4),
		files: map[string]hostedFile{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/{method}", s.serveAPI)
	mux.HandleFunc("/response/{id}", s.serveResponseURL)
	mux.HandleFunc("/upload/{id}", s.serveUpload)
	mux.HandleFunc("/ws", s.serveWebsocket)
	mux.HandleFunc("GET /files/{id}/{name}", s.serveFile)
	s.srv = httptest.NewServer(mux)
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server. It is safe to call more than once.
func (s *Server) Close() { s.srv.Close() }

// URL is the server's base URL.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base for slack.Config.APIURL / slack.OptionAPIURL
// (and SLACK_API_URL).
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// ResponseURL returns a response_url that lands on the fake; id names it
// (the trigger id is a good choice).
func (s *Server) ResponseURL(id string) string { return s.srv.URL + "/response/" + url.PathEscape(id) }

// DMChannel is the direct message channel conversations.open returns for
// user: "D" followed by the user id without its "U".
func DMChannel(user string) string { return "D" + strings.TrimPrefix(user, "U") }

// Conns delivers the server side of each Socket Mode websocket the
// client opened.
func (s *Server) Conns() <-chan *websocket.Conn { return s.conns }

// FailNext makes the next calls of method answer the given HTTP statuses
// in turn (429 comes with Retry-After, see SetRetryAfter). Failed calls
// are counted by Attempts but not recorded as calls.
func (s *Server) FailNext(method string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = append(s.fail[method], statuses...)
}

// FailAll makes every Web API call answer the HTTP status (429 with
// Retry-After, see SetRetryAfter), after the statuses queued by
// FailNext, until FailAll(0) ends the outage. Failed calls are counted
// by Attempts but not recorded as calls.
func (s *Server) FailAll(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAll = status
}

// SetLatency makes every Web API call wait d before it is answered — and,
// for a call that succeeds, before it takes effect: a client that gives
// up (or dies) meanwhile still posts the message, as on the real
// platform. 0 (the default) answers at once.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// FailWith makes the next call of method answer {"ok":false,"error":code}.
func (s *Server) FailWith(method, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode[method] = code
}

// RefuseAll makes every Web API call answer {"ok":false,"error":code}
// (e.g. "invalid_auth" for a revoked token), until RefuseAll("") ends it.
// Refused calls are counted in Attempts, not recorded in Calls.
func (s *Server) RefuseAll(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseAll = code
}

// SetRetryAfter sets the Retry-After of injected 429 answers, in whole
// seconds (1 by default).
func (s *Server) SetRetryAfter(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// Calls returns every recorded call, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsOf returns the recorded calls of method.
func (s *Server) CallsOf(method string) []Call {
	return s.Find(func(c Call) bool { return c.Method == method })
}

// Find returns the recorded calls that match.
func (s *Server) Find(match func(Call) bool) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if match(c) {
			out = append(out, c)
		}
	}
	return out
}

// Attempts counts every request for method, failed ones included.
func (s *Server) Attempts(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[method]
}

// Posts returns the chat.postMessage calls to channel.
func (s *Server) Posts(channel string) []Call {
	return s.Find(func(c Call) bool { return c.Method == "chat.postMessage" && c.Channel() == channel })
}

// Cards returns the chat.postMessage calls to channel that carry blocks.
func (s *Server) Cards(channel string) []Call {
	return s.Find(func(c Call) bool {
		return c.Method == "chat.postMessage" && c.Channel() == channel && c.HasBlocks()
	})
}

// Updates returns the chat.update calls of message ts in channel; ts ""
// means any message of the channel.
func (s *Server) Updates(channel, ts string) []Call {
	return s.Find(func(c Call) bool {
		return c.Method == "chat.update" && c.Channel() == channel && (ts == "" || c.Field("ts") == ts)
	})
}

// DMs returns the messages posted in user's direct message channel.
func (s *Server) DMs(user string) []Call { return s.Posts(DMChannel(user)) }

// Ephemerals returns the chat.postEphemeral calls shown to user.
func (s *Server) Ephemerals(user string) []Call {
	return s.Find(func(c Call) bool { return c.Method == "chat.postEphemeral" && c.Field("user") == user })
}

// Responses returns the posts to the response_url named id.
func (s *Server) Responses(id string) []Call {
	path := "/response/" + url.PathEscape(id)
	return s.Find(func(c Call) bool { return c.Method == "response_url" && c.Path == path })
}

// AllText is the text of every recorded call, for asserting that
// something never reached Slack.
func (s *Server) AllText() string {
	var b strings.Builder
	for _, c := range s.Calls() {
		b.WriteString(c.Text())
		b.WriteString("\n")
	}
	return b.String()
}

// Await waits until method has been answered successfully n times and
// returns its calls; the test fails after Timeout.
func (s *Server) Await(method string, n int) []Call {
	s.tb.Helper()
	s.AwaitFunc(fmt.Sprintf("%d %s call(s)", n, method), func() bool { return len(s.CallsOf(method)) >= n })
	return s.CallsOf(method)
}

// AwaitCall waits for a recorded call that matches and returns the first.
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

// AwaitFunc waits until cond holds, checking whenever a request arrives;
// the test fails after Timeout.
func (s *Server) AwaitFunc(what string, cond func() bool) {
	s.tb.Helper()
	if err := s.Wait(cond, s.Timeout); err != nil {
		s.tb.Fatalf("slacktest: %s: %v", what, err)
	}
}

// Wait is AwaitFunc returning an error instead of failing the test, for
// use outside the test goroutine.
func (s *Server) Wait(cond func() bool, timeout time.Duration) error {
	return s.changes.Wait(cond, timeout)
}

// Reset forgets the recorded calls and attempts (not injected failures).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
	s.attempts = map[string]int{}
}

func (s *Server) notifyLocked() {
	s.changes.Broadcast()
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	s.notifyLocked()
}

func readBody(r *http.Request) (url.Values, map[string]any) {
	body, _ := io.ReadAll(r.Body)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		if m == nil {
			m = map[string]any{}
		}
		return url.Values{}, m
	}
	form, _ := url.ParseQuery(string(body))
	return form, map[string]any{}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := r.PathValue("method")
	form, js := readBody(r)
	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		time.Sleep(latency)
	}
	s.mu.Lock()
	s.attempts[method]++
	s.notifyLocked()
	var status int
	if q := s.fail[method]; len(q) > 0 {
		status, s.fail[method] = q[0], q[1:]
	} else if s.failAll != 0 {
		status = s.failAll
	}
	code := s.failCode[method]
	delete(s.failCode, method)
	if code == "" {
		code = s.refuseAll
	}
	retryAfter := s.retryAfter
	s.ts++
	ts := fmt.Sprintf("1764550800.%06d", s.ts)
	s.mu.Unlock()
	if code != "" {
		writeJSON(w, map[string]any{"ok": false, "error": code})
		return
	}
	if status != 0 {
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		return
	}
	c := Call{Method: method, Path: r.URL.Path, Form: form, JSON: js, Auth: r.Header.Get("Authorization")}
	switch method {
	case "chat.postMessage":
		c.TS = ts
	case "chat.update":
		c.TS = c.Field("ts")
	}
	s.record(c)
	switch method {
	case "auth.test":
		writeJSON(w, map[string]any{"ok": true, "user_id": BotUserID, "team_id": TeamID, "bot_id": BotID})
	case "chat.postMessage":
		writeJSON(w, map[string]any{"ok": true, "channel": c.Channel(), "ts": ts})
	case "chat.postEphemeral":
		writeJSON(w, map[string]any{"ok": true, "message_ts": ts})
	case "chat.update":
		writeJSON(w, map[string]any{"ok": true, "channel": c.Channel(), "ts": c.TS})
	case "conversations.open":
		writeJSON(w, map[string]any{"ok": true, "channel": map[string]any{"id": DMChannel(c.Field("users"))}})
	case "files.getUploadURLExternal":
		id := "F" + strings.ReplaceAll(ts, ".", "")
		writeJSON(w, map[string]any{"ok": true, "upload_url": s.srv.URL + "/upload/" + id, "file_id": id})
	case "files.completeUploadExternal":
		writeJSON(w, map[string]any{"ok": true, "files": json.RawMessage(c.Field("files"))})
	case "views.open":
		writeJSON(w, map[string]any{"ok": true})
	case "apps.connections.open":
		writeJSON(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws"})
	default:
		writeJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	form, js := readBody(r)
	s.record(Call{Method: "response_url", Path: r.URL.Path, Form: form, JSON: js})
	writeJSON(w, map[string]any{"ok": true})
}

// serveUpload takes a file upload (multipart field "file") and records
// its name and content as Form "filename" and "content".
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request) {
	file, hdr, err := r.FormFile("file")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(file)
	s.record(Call{Method: "upload", Path: r.URL.Path, Form: url.Values{"filename": {hdr.Filename}, "content": {string(data)}}, Auth: r.Header.Get("Authorization")})
	w.Header().Set("Content-Type", "text/plain")
	_, _ = io.WriteString(w, "OK - "+strconv.Itoa(len(data)))
}

// upgrader accepts the Origin slack-go's socket mode client sends.
var upgrader = websocket.Upgrader{CheckOrigin: func(r *http.Request) bool {
	return r.Header.Get("Origin") == "https://api.slack.com"
}}

func (s *Server) serveWebsocket(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.conns <- conn
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedMapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// BlocksText returns every string in Block Kit blocks (or any JSON value),
// one per line.
func BlocksText(blocks any) string { return strings.Join(leafStrings(blocks), "\n") }
