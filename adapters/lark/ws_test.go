package lark

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// wsAdapter is an adapter on the long connection to fake, which does
// not reconnect.
func wsAdapter(t *testing.T, fake *larktest.Server) (*Adapter, Config) {
	t.Helper()
	cfg := testConfig(fake, "")
	cfg.Mode, cfg.VerificationToken = ModeWS, ""
	a, err := New(cfg, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	a.wsAutoReconnect = false
	return a, cfg
}

// The long connection mode, end to end: the real SDK ws client fetches
// the endpoint, dials the fake's WebSocket and receives protobuf frames;
// a message event is acknowledged and answered through the Open API, a
// card callback is answered in the reply frame.
func TestLongConnection(t *testing.T) {
	env := bottest.New(t, bottest.WithPlatforms(Platform()))
	gate := make(chan struct{})
	env.Must(tallyCommand(env.Store, gate))
	fake := larktest.NewServer(t)
	a, cfg := wsAdapter(t, fake)
	env.Bot.Out.AddAdapter(a)

	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx, env.Bot.Inbox) }()
	conn := <-fake.WSConns()
	// The connection is left open when the test ends: closing it makes the
	// SDK's client disconnect, and in v3.5.3 its disconnect races with the
	// first round of its own ping loop (a data race inside the SDK that the
	// race detector reports). The SDK's client cannot be stopped anyway.
	if conn.AppID != cfg.AppID {
		t.Fatalf("connected for app %q", conn.AppID)
	}

	// A message event: acknowledged with 200 at once, answered later.
	resp := conn.Push(t, "m1", "event", msgEvent(t, "ev_ws_1", "group", coordChat, wangming, "text", "@_user_1 tally",
		larktest.BotMention("@_user_1")))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("event reply %+v", resp)
	}
	a.wait()
	calls := fake.Calls()
	if len(calls) != 1 || calls[0].Path != "/open-apis/im/v1/messages/om_ev_ws_1/reply" {
		t.Fatalf("calls %+v", calls)
	}

	// A card callback: the toast and card travel in the reply frame.
	resp = conn.Push(t, "m2", "event", cardEvent(t, "ev_ws_card", lina, "tally.inc", tallyValue))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("card reply %+v", resp)
	}
	var answer struct {
		Toast struct{ Content string }
		Card  struct {
			Type string
			Data map[string]any
		}
	}
	if err := json.Unmarshal(resp.Data, &answer); err != nil {
		t.Fatalf("card answer %q: %v", resp.Data, err)
	}
	if answer.Toast.Content != "count 2" || answer.Card.Type != "raw" || answer.Card.Data["schema"] != "2.0" {
		t.Fatalf("card answer %s", resp.Data)
	}

	// The same event pushed again (a re-delivery) has no effect.
	conn.Push(t, "m3", "event", cardEvent(t, "ev_ws_card", lina, "tally.inc", tallyValue))
	a.wait()
	n, _ := env.Store.NextSeq(context.Background(), "test.tally")
	if n != 3 {
		t.Fatalf("tally ran %d times, want 2", n-1)
	}

	cancel()
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestLongConnectionRefusedCredentials(t *testing.T) {
	fake := larktest.NewServer(t)
	cfg := testConfig(fake, "")
	cfg.Mode, cfg.AppSecret = ModeWS, "wrong"
	a, err := New(cfg, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background(), bottest.New(t, bottest.WithPlatforms(Platform())).Bot); err == nil || !strings.Contains(err.Error(), "bad credentials") {
		t.Fatalf("Run: %v", err)
	}
}

func TestLongConnectionModeMountsNoRoutes(t *testing.T) {
	fake := larktest.NewServer(t)
	cfg := testConfig(fake, "")
	cfg.Mode, cfg.VerificationToken = ModeWS, ""
	a, err := New(cfg, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Mount(mux, bottest.New(t, bottest.WithPlatforms(Platform())).Bot)
	if _, pattern := mux.Handler(httptest.NewRequest(http.MethodPost, "/lark/events", nil)); pattern != "" {
		t.Fatalf("mounted %q", pattern)
	}
}

// /healthz reports the long connection: down until the real SDK client
// connected, up once it did.
func TestLongConnectionHealth(t *testing.T) {
	env := bottest.New(t, bottest.WithPlatforms(Platform()))
	fake := larktest.NewServer(t)
	a, _ := wsAdapter(t, fake)
	if a.Health() == nil {
		t.Fatal("healthy before connecting")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = a.Run(ctx, env.Bot.Inbox) }()
	<-fake.WSConns() // left open: see TestLongConnection
	deadline := time.Now().Add(5 * time.Second)
	for a.Health() != nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := a.Health(); err != nil {
		t.Fatalf("connected, yet: %v", err)
	}
}

// The SDK client's state lines, as v3.5.3 logs them.
func TestLongConnectionStateFromTheSDKLog(t *testing.T) {
	a := &Adapter{cfg: Config{Mode: ModeWS}}
	l := wsStateLogger{sdkLogger{quietLogger()}, a, nil}
	ctx := context.Background()
	steps := []struct {
		log  func(context.Context, ...interface{})
		line string
		up   bool
	}{
		{l.Info, "connected to wss://open.feishu.cn/callback/ws/endpoint?device_id=1", true},
		{l.Warn, "ping failed, err: timeout", true},
		{l.Error, "connection is closed, receive message loop exit", false},
		{l.Info, "trying to reconnect: 1", false},
		{l.Error, "connect failed, err: dial tcp: refused", false},
		{l.Info, "connected to wss://open.feishu.cn/callback/ws/endpoint?device_id=2", true},
		{l.Info, "disconnected to wss://open.feishu.cn/callback/ws/endpoint?device_id=2", false},
	}
	for _, s := range steps {
		s.log(ctx, s.line, "[conn_id=abc]")
		if got := a.Health() == nil; got != s.up {
			t.Fatalf("after %q: healthy %v, want %v", s.line, got, s.up)
		}
	}
	if (&Adapter{cfg: Config{Mode: ModeHTTP}}).Health() != nil {
		t.Error("HTTP callbacks have no connection of their own, yet unhealthy")
	}
}

// The app secret revoked while the long connection runs: when the
// connection drops, the SDK's client (v3.5.3) cannot open another and
// stops trying while its Start blocks for ever. Run returns then, with
// an auth failure naming Lark's code, so that the program marks the
// adapter down and restarts it with backoff.
func TestLongConnectionRunEndsWithTheAuthErrorWhenTheSecretIsRevokedWhileRunning(t *testing.T) {
	env := bottest.New(t, bottest.WithPlatforms(Platform()))
	fake := larktest.NewServer(t)
	cfg := testConfig(fake, "")
	cfg.Mode, cfg.VerificationToken = ModeWS, ""
	pinged := &pingWatch{seen: make(chan struct{})}
	a, err := New(cfg, WithLogger(slog.New(pinged)))
	if err != nil {
		t.Fatal(err)
	}
	env.Bot.Out.AddAdapter(a)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, env.Bot.Inbox) }()
	conn := <-fake.WSConns()
	// The client's first ping is logged once sent; only then may the
	// connection drop without a data race inside the SDK (see Drop).
	select {
	case <-pinged.seen:
	case <-time.After(larktest.DefaultTimeout):
		t.Fatal("the client did not ping")
	}
	if !bottest.Eventually(larktest.DefaultTimeout, func() bool { return a.Health() == nil }) {
		t.Fatal("the long connection did not come up")
	}
	fake.RevokeSecret()
	conn.Drop(t)
	var runErr error
	if !bottest.Eventually(larktest.DefaultTimeout, func() bool {
		select {
		case runErr = <-done:
			return true
		default:
			return false
		}
	}) {
		t.Fatal("Run kept going with a revoked secret")
	}
	if !bot.IsAuthFailure(runErr) || bot.APICode(runErr) != "403" || !strings.Contains(runErr.Error(), "bad credentials") {
		t.Errorf("Run = %v (auth failure %v, code %q), want an auth failure with Lark's code 403", runErr, bot.IsAuthFailure(runErr), bot.APICode(runErr))
	}
	if a.Health() == nil {
		t.Error("healthy after Run ended")
	}
}

// pingWatch is a slog handler, at every level, that closes seen at the
// SDK client's first "ping success" line.
type pingWatch struct {
	once sync.Once
	seen chan struct{}
}

func (p *pingWatch) Enabled(context.Context, slog.Level) bool { return true }
func (p *pingWatch) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *pingWatch) WithGroup(string) slog.Handler            { return p }
func (p *pingWatch) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "ping success") {
		p.once.Do(func() { close(p.seen) })
	}
	return nil
}
