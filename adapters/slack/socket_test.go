package slack

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// socketHarness is a bot whose Slack adapter runs in Socket Mode against
// the fake, with the websocket the fake accepted.
type socketHarness struct {
	*harness
	conn *websocket.Conn
}

func newSocketHarness(t *testing.T, opts ...Option) *socketHarness {
	t.Helper()
	env := bottest.New(t, bottest.WithPlatforms(Platform()))
	release := make(chan struct{})
	env.Must(testCommands(env.Store, release)...)
	fake := slacktest.NewServer(t)
	a, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-1-test", APIURL: fake.APIURL(), Mode: ModeSocket}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	env.Bot.Out.AddAdapter(a)
	h := &countingHandler{h: env.Bot.Inbox}
	mounted := &durableCounting{countingHandler: h, bot: env.Bot}
	hs := &harness{t: t, env: env, fake: fake, a: a, h: h, mounted: mounted, release: release}
	// Mounting in socket mode adds no routes.
	mux := http.NewServeMux()
	a.Mount(mux, mounted)
	if _, pattern := mux.Handler(httpRequest(t, PathEvents)); pattern != "" {
		t.Errorf("socket mode mounted %s", pattern)
	}
	hs.run()
	sh := &socketHarness{harness: hs, conn: acceptConn(t, fake)}
	sh.write(fixture(t, "socketmode_hello.json"))
	return sh
}

func httpRequest(t *testing.T, path string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, "http://xunji.test"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// acceptConn waits for the client to dial the fake's websocket.
func acceptConn(t *testing.T, fake *slacktest.Server) *websocket.Conn {
	t.Helper()
	select {
	case conn := <-fake.Conns():
		t.Cleanup(func() { conn.Close() })
		return conn
	case <-time.After(waitFor):
		t.Fatal("the socket mode client did not connect")
		return nil
	}
}

func (sh *socketHarness) write(frame []byte) {
	sh.t.Helper()
	if err := sh.conn.WriteMessage(websocket.TextMessage, frame); err != nil {
		sh.t.Fatal(err)
	}
}

// awaitAck reads frames until the acknowledgement of envelopeID.
func (sh *socketHarness) awaitAck(envelopeID string) map[string]any {
	sh.t.Helper()
	if err := sh.conn.SetReadDeadline(time.Now().Add(waitFor)); err != nil {
		sh.t.Fatal(err)
	}
	for {
		_, data, err := sh.conn.ReadMessage()
		if err != nil {
			sh.t.Fatalf("no acknowledgement of %s: %v", envelopeID, err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			sh.t.Fatalf("frame %q: %v", data, err)
		}
		if m["envelope_id"] == envelopeID {
			return m
		}
	}
}

// envelope wraps payload in a Socket Mode envelope.
func envelope(t *testing.T, id, typ string, payload []byte, retry int) []byte {
	t.Helper()
	return mustJSON(t, map[string]any{
		"envelope_id": id, "type": typ, "payload": json.RawMessage(payload),
		"accepts_response_payload": typ == "slash_commands", "retry_attempt": retry, "retry_reason": "",
	})
}

func TestSocketModeAcknowledgesAndHandlesAnEventsEnvelope(t *testing.T) {
	sh := newSocketHarness(t)
	// The fixture verbatim: a mention by U222, who is not on the roster.
	sh.write(fixture(t, "socketmode_envelope_events_api.json"))
	ack := sh.awaitAck("cda4159a-72a5-4744-aba3-4d66eb52682b")
	if _, ok := ack["payload"]; ok {
		t.Errorf("events envelope acknowledged with a payload: %v", ack)
	}
	call := sh.fake.Await("chat.postEphemeral", 1)[0]
	want := sh.env.TZ("error.not_in_roster", "user", "<@U222>", "admins", admins(t, sh.harness), "id", "slack:U222")
	if call.Field("channel") != "C111" || call.Field("user") != "U222" || call.Field("text") != want {
		t.Errorf("answer %v, want %q to U222 in C111", call.Form, want)
	}
	if open := sh.fake.CallsOf("apps.connections.open"); open[0].Auth != "Bearer xapp-1-test" {
		t.Errorf("apps.connections.open authorised with %q, want the app-level token", open[0].Auth)
	}
	req := sh.h.requests()[0]
	if req.EventID != "Ev111" || req.UserID != "U222" || req.ChatID != "C111" || req.Kind != bot.KindCommand {
		t.Errorf("request %+v", req)
	}
	if err := sh.a.Health(); err != nil {
		t.Errorf("health while connected: %v", err)
	}
}

func TestSocketModeRedeliveredEventHasOneEffect(t *testing.T) {
	sh := newSocketHarness(t)
	payload := slacktest.AppMention("EvSocketRetry", "U0WANGMING", coordChat, "<@U0XUNJIBOT> bump")
	for retry, id := range []string{"env-1", "env-2", "env-3"} {
		sh.write(envelope(t, id, "events_api", payload, retry))
		sh.awaitAck(id)
	}
	sh.fake.Await("chat.postEphemeral", 1)
	sh.settle()
	if got := counter(t, sh.env.Store, "bump"); got != 1 {
		t.Errorf("counter %d after three deliveries, want 1", got)
	}
	if n := len(sh.fake.CallsOf("chat.postEphemeral")); n != 1 {
		t.Errorf("%d answers, want 1", n)
	}
}

func TestSocketModeSlashCommandAnswerRidesOnTheAck(t *testing.T) {
	sh := newSocketHarness(t)

	// The fixture verbatim: an unknown user gets the polite answer.
	sh.write(fixture(t, "socketmode_envelope_slash_commands.json"))
	ack := sh.awaitAck("1d3c79ab-0ffb-41f3-a080-d19e85f53649")
	payload, _ := ack["payload"].(map[string]any)
	want := sh.env.TZ("error.not_in_roster", "user", "testxyz", "admins", admins(t, sh.harness), "id", "slack:U111")
	if payload["text"] != want || payload["response_type"] != "ephemeral" {
		t.Errorf("ack payload %v, want the ephemeral %q", payload, want)
	}
	if req := sh.h.requests()[0]; req.Text != "hello-socket-mode" || req.EventID != "111.222.xxx" {
		t.Errorf("request %+v", req)
	}

	// A roster user's /count.
	var cmd map[string]any
	_ = json.Unmarshal(fixture(t, "socketmode_envelope_slash_commands.json"), &cmd)
	p := cmd["payload"].(map[string]any)
	p["user_id"], p["command"], p["trigger_id"] = "U0LINA", "/count", "trig-socket-count"
	sh.write(envelope(t, "env-count", "slash_commands", mustJSON(t, p), 0))
	ack = sh.awaitAck("env-count")
	payload, _ = ack["payload"].(map[string]any)
	if payload["response_type"] != "ephemeral" || !strings.Contains(allText(payload["blocks"]), "Counter c1") {
		t.Errorf("ack payload %v, want the counter card", payload)
	}
}

func TestSocketModeButtonClickUpdatesTheCard(t *testing.T) {
	sh := newSocketHarness(t)
	const ts = "1764550800.000077"
	click := clickPayload(t, sh.fake, "U0LINA", coordChat, ts, "count.inc", "c9", "trig-socket-click")
	sh.write(envelope(t, "env-click", "interactive", click, 0))
	sh.awaitAck("env-click")
	update := sh.fake.Await("chat.update", 1)[0]
	if update.Field("ts") != ts || !strings.Contains(allText(blocksOf(t, update)), "*Value*\n1") {
		t.Errorf("update %v", update.Form)
	}
	if got := counter(t, sh.env.Store, "c9"); got != 1 {
		t.Errorf("counter %d, want 1", got)
	}
}

func TestSocketModeChannelMessageIsAcknowledgedButIgnored(t *testing.T) {
	sh := newSocketHarness(t)
	sh.write(fixture(t, "socketmode_envelope_events_api_message.json"))
	sh.awaitAck("ac2cfd40-6f8c-4d5e-a1ad-646e532baa19")
	sh.settle()
	if n := sh.h.n.Load(); n != 0 {
		t.Errorf("a channel message without a mention reached the bot %d times", n)
	}
}

func TestSocketModeReconnectsWhenSlackAsksToDisconnect(t *testing.T) {
	sh := newSocketHarness(t)
	sh.write(fixture(t, "socketmode_disconnect.json"))
	sh.conn = acceptConn(t, sh.fake)
	sh.write(envelope(t, "env-after", "events_api", slacktest.AppMention("EvAfter", "U0LINA", coordChat, "<@U0XUNJIBOT> bump"), 0))
	sh.awaitAck("env-after")
	sh.fake.Await("chat.postEphemeral", 1)
	if n := len(sh.fake.CallsOf("apps.connections.open")); n < 2 {
		t.Errorf("apps.connections.open called %d times, want a new connection", n)
	}
}

func TestRunFailsWhenTheBotTokenIsRefused(t *testing.T) {
	for _, mode := range []string{ModeHTTP, ModeSocket} {
		t.Run(mode, func(t *testing.T) {
			fake := slacktest.NewServer(t)
			fake.FailWith("auth.test", "invalid_auth")
			a, err := New(Config{BotToken: "xoxb-revoked", SigningSecret: "s", AppToken: "xapp-1-test", APIURL: fake.APIURL(), Mode: mode})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), waitFor)
			defer cancel()
			if err := a.Run(ctx, &countingHandler{h: bottest.New(t, bottest.WithPlatforms(Platform())).Bot}); err == nil || !strings.Contains(err.Error(), "invalid_auth") || ctx.Err() != nil {
				t.Errorf("Run = %v, want the invalid_auth error before the deadline", err)
			}
		})
	}
}

func TestRunKeepsGoingWhenSlackIsUnreachableAtStart(t *testing.T) {
	logs := &logWatch{msgs: make(chan string, 100)}
	hs := buildHarness(t, harnessConfig{opts: []Option{withRetries(0), WithLogger(slog.New(logs))}})
	// Forget the id the harness learned, and make auth.test fail.
	hs.a.mu.Lock()
	hs.a.botUser = ""
	hs.a.mu.Unlock()
	hs.fake.FailNext("auth.test", http.StatusServiceUnavailable)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hs.a.Run(ctx, hs.mounted) }()
	logs.await(t, "slack auth.test failed; continuing")
	if n := hs.fake.Attempts("auth.test"); n != 2 {
		t.Errorf("%d auth.test attempts, want the harness's and Run's", n)
	}
	// Still serving: a mention is answered, with the bot's mention
	// dropped even though its id is unknown.
	wantStatus(t, hs.postEvent(slacktest.AppMention("EvNoAuth", "U0LINA", coordChat, "<@U0XUNJIBOT> bump"), nil), http.StatusOK)
	hs.fake.Await("chat.postEphemeral", 1)
	if got := counter(t, hs.env.Store, "bump"); got != 1 {
		t.Errorf("counter %d, want 1", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v after shutdown, want nil", err)
	}
}

// logWatch is a slog handler that passes each message to a channel.
type logWatch struct{ msgs chan string }

func (l *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (l *logWatch) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logWatch) WithGroup(string) slog.Handler            { return l }
func (l *logWatch) Handle(_ context.Context, r slog.Record) error {
	select {
	case l.msgs <- r.Message:
	default:
	}
	return nil
}

// await waits for a log message.
func (l *logWatch) await(t *testing.T, msg string) {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case m := <-l.msgs:
			if m == msg {
				return
			}
		case <-deadline:
			t.Fatalf("no log %q", msg)
		}
	}
}

func TestHealthReportsSocketModeConnection(t *testing.T) {
	a, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-1-test", Mode: ModeSocket})
	if err != nil {
		t.Fatal(err)
	}
	if a.Health() == nil {
		t.Error("a socket-mode adapter that never connected reports healthy")
	}
	h, err := New(Config{BotToken: "xoxb-test", SigningSecret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Health(); err != nil {
		t.Errorf("HTTP mode has no connection of its own, yet: %v", err)
	}
}

// A token revoked while Socket Mode runs: when the connection drops and
// Slack refuses to open another, Run returns the refusal as an auth
// failure naming Slack's code (so the program's supervisor marks the
// adapter down and restarts it with backoff) rather than retrying for
// ever behind a healthy-looking process.
func TestSocketModeRunEndsWithTheAuthErrorWhenTheTokenIsRevokedWhileRunning(t *testing.T) {
	for _, code := range []string{"token_revoked", "invalid_auth"} {
		t.Run(code, func(t *testing.T) {
			env := bottest.New(t, bottest.WithPlatforms(Platform()))
			fake := slacktest.NewServer(t)
			a, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-1-test", APIURL: fake.APIURL(), Mode: ModeSocket})
			if err != nil {
				t.Fatal(err)
			}
			env.Bot.Out.AddAdapter(a)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx, env.Bot.Inbox) }()
			conn := acceptConn(t, fake)
			if err := conn.WriteMessage(websocket.TextMessage, fixture(t, "socketmode_hello.json")); err != nil {
				t.Fatal(err)
			}
			if !bottest.Eventually(waitFor, func() bool { return a.Health() == nil }) {
				t.Fatal("socket mode did not connect")
			}
			fake.RefuseAll(code)
			if err := conn.WriteMessage(websocket.TextMessage, fixture(t, "socketmode_disconnect.json")); err != nil {
				t.Fatal(err)
			}
			var runErr error
			if !bottest.Eventually(waitFor, func() bool {
				select {
				case runErr = <-done:
					return true
				default:
					return false
				}
			}) {
				t.Fatal("Run kept going with a revoked token")
			}
			if !bot.IsAuthFailure(runErr) || bot.APICode(runErr) != code || !strings.Contains(runErr.Error(), code) {
				t.Errorf("Run = %v (auth failure %v, code %q), want an auth failure with code %s", runErr, bot.IsAuthFailure(runErr), bot.APICode(runErr), code)
			}
			if a.Health() == nil {
				t.Error("healthy after Run ended")
			}
		})
	}
}
