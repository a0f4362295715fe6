package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/metrics"
)

// platformEnv is the environment of a program serving Slack (HTTP mode)
// and Lark against the fakes.
func platformEnv(t *testing.T, sfake *slacktest.Server, lfake *larktest.Server) map[string]string {
	return map[string]string{
		"XUNJI_STORE_PATH":        filepath.Join(t.TempDir(), "xunji.db"),
		"XUNJI_HTTP_ADDR":         "127.0.0.1:0",
		"XUNJI_ADMIN_ADDR":        "127.0.0.1:0",
		"SLACK_BOT_TOKEN":         "xoxb-ops-test",
		"SLACK_SIGNING_SECRET":    "ops-secret",
		"SLACK_API_URL":           sfake.APIURL(),
		"LARK_APP_ID":             "cli_ops_test",
		"LARK_APP_SECRET":         larktest.AppSecret,
		"LARK_VERIFICATION_TOKEN": larktest.VerificationToken,
		"LARK_BASE_URL":           lfake.URL,
	}
}

// Credentials a platform refuses at start-up stop the program before it
// serves anything, with an error naming the platform, its code and the
// settings to check.
func TestStartStopsWhenAPlatformRefusesTheCredentials(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(*slacktest.Server, map[string]string)
		want   []string
	}{
		{"slack invalid_auth", func(s *slacktest.Server, _ map[string]string) { s.RefuseAll("invalid_auth") },
			[]string{"slack refused the app's credentials (invalid_auth)", "SLACK_BOT_TOKEN"}},
		{"slack token_revoked", func(s *slacktest.Server, _ map[string]string) { s.RefuseAll("token_revoked") },
			[]string{"slack refused the app's credentials (token_revoked)", "SLACK_BOT_TOKEN"}},
		{"lark wrong secret", func(_ *slacktest.Server, env map[string]string) { env["LARK_APP_SECRET"] = "wrong" },
			[]string{"lark refused the app's credentials (10014)", "LARK_APP_SECRET"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sfake, lfake := slacktest.NewServer(t), larktest.NewServer(t)
			vars := platformEnv(t, sfake, lfake)
			tc.break_(sfake, vars)
			m := testMain()
			m.Stdout, m.Stderr = io.Discard, io.Discard
			m.Getenv = env(vars)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := m.Run(ctx)
			_ = m.Close()
			if err == nil {
				t.Fatal("Run started with refused credentials")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Run = %v, want it to say %q", err, w)
				}
			}
			if m.HTTPAddr != "" || m.AdminAddr != "" {
				t.Errorf("listeners started (%q, %q) before the credentials were checked", m.HTTPAddr, m.AdminAddr)
			}
		})
	}
}

// TestMainProcess is the real main() run as a child process by
// TestBinaryExitsNonZeroOnRefusedCredentials; run alone it does nothing.
func TestMainProcess(t *testing.T) {
	if os.Getenv("XUNJI_MAIN_PROCESS") != "1" {
		return
	}
	os.Args = []string{"xunji", "-console", "off"}
	main()
}

// The program, started against a Slack that refuses its token, exits
// with status 1 and says why on stderr.
func TestBinaryExitsNonZeroOnRefusedCredentials(t *testing.T) {
	sfake, lfake := slacktest.NewServer(t), larktest.NewServer(t)
	sfake.RefuseAll("invalid_auth")
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainProcess$")
	cmd.Env = append(os.Environ(), "XUNJI_MAIN_PROCESS=1")
	for k, v := range platformEnv(t, sfake, lfake) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	var err error
	if !bottest.Eventually(30*time.Second, func() bool {
		select {
		case err = <-done:
			return true
		default:
			return false
		}
	}) {
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("the program kept running with a refused token")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1; stderr:\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "xunji: slack refused the app's credentials (invalid_auth): check SLACK_BOT_TOKEN") {
		t.Errorf("stderr lacks the reason:\n%s", stderr.String())
	}
}

// lockedBuffer is a log destination for concurrent writers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// waits returns the "in" of every restart line logged.
func (l *lockedBuffer) waits(t *testing.T) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "adapter stopped; restarting" {
			out = append(out, m["in"].(string))
		}
	}
	return out
}

// An adapter whose Run returns on its own (here: Slack revoked the token
// after the start) is not ready while it is down, is started again after
// a backoff that doubles, each restart logged and counted, and is ready
// again once it runs.
func TestStoppedAdapterFailsReadinessAndIsRestartedWithBackoff(t *testing.T) {
	env := bottest.New(t, bottest.WithPlatforms(platforms().All()...))
	fake := slacktest.NewServer(t)
	a, err := slack.New(slack.Config{BotToken: "xoxb-test", SigningSecret: "s", APIURL: fake.APIURL()},
		slack.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	env.Bot.Out.AddAdapter(a)
	var logs lockedBuffer
	st := &adapterState{}
	m := &Main{Bot: env.Bot, Store: env.Store, Metrics: metrics.New(), Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		adapterBackoff: 20 * time.Millisecond, states: map[bot.Platform]*adapterState{slack.Name: st}}
	m.outboxAlive.Store(true)
	fake.RefuseAll("token_revoked") // Run's auth.test fails: Run returns
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.supervise(ctx, a, st, true, func() {}) }()
	defer func() { cancel(); <-done }()

	probe := func(h http.HandlerFunc) (int, string) {
		rec := httptest.NewRecorder()
		h(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		return rec.Code, rec.Body.String()
	}
	if !bottest.Eventually(10*time.Second, func() bool { return st.restarts.Load() >= 3 }) {
		t.Fatalf("restarts %d, want 3", st.restarts.Load())
	}
	if !bottest.Eventually(10*time.Second, func() bool {
		code, body := probe(m.readyz)
		return code == http.StatusServiceUnavailable && strings.Contains(body, `"slack":"stopped"`)
	}) {
		code, body := probe(m.readyz)
		t.Errorf("readyz while the adapter is down: %d %s, want 503 naming slack stopped", code, body)
	}
	if code, body := probe(m.livez); code != http.StatusOK {
		t.Errorf("livez while an adapter restarts: %d %s, want 200 (a restart is not a dead process)", code, body)
	}
	waits := logs.waits(t)
	if len(waits) < 3 || waits[0] != "20ms" || waits[1] != "40ms" || waits[2] != "80ms" {
		t.Errorf("restart waits %v, want 20ms, 40ms, 80ms…", waits)
	}
	page := scrapeMetrics(t, m)
	if !strings.Contains(page, `xunji_adapter_restarts_total{platform="slack"}`) {
		t.Errorf("/metrics lacks the restarts")
	}

	fake.RefuseAll("")
	if !bottest.Eventually(10*time.Second, func() bool {
		code, body := probe(m.readyz)
		return code == http.StatusOK && strings.Contains(body, `"slack":"ok"`)
	}) {
		code, body := probe(m.readyz)
		t.Errorf("readyz once Slack takes the token again: %d %s, want 200", code, body)
	}
}

func scrapeMetrics(t *testing.T, m *Main) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// On SIGTERM (ctx ending) the program returns within its shutdown bound
// even when a handler is blocked for ever, and the blocked request's
// inbox entry is left for recovery, not lost.
func TestShutdownIsBoundedAndLeavesABlockedRequestInTheInbox(t *testing.T) {
	sfake, lfake := slacktest.NewServer(t), larktest.NewServer(t)
	vars := platformEnv(t, sfake, lfake)
	vars["XUNJI_SHUTDOWN_TIMEOUT"] = "1s"
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	m := testMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = env(vars)
	m.extraCommands = []*bot.Command{{Name: "block", Run: func(context.Context, *bot.Request) (*bot.Response, error) {
		started <- struct{}{}
		<-release // blocked until the test ends, whatever its context says
		return nil, nil
	}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		close(release)
		cancel()
		_ = m.Close()
	}()
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	body := []byte(slacktest.SlashCommand("/xunji", "block", "U0LINA", "C0DEMOCOORD", "trig-block", sfake.ResponseURL("trig-block")).Encode())
	r, err := slacktest.NewRequest("http://"+m.HTTPAddr, slacktest.PathCommands, slacktest.ContentForm, body, "ops-secret", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	ack, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("slash command: %d", resp.StatusCode)
	}
	if !bottest.Eventually(10*time.Second, func() bool {
		select {
		case <-started:
			return true
		default:
			return false
		}
	}) {
		t.Fatalf("the blocking command did not start; acknowledged with %s; Slack saw: %s", ack, sfake.AllText())
	}

	cancel() // what SIGTERM does in main
	var runErr error
	if !bottest.Eventually(m.shutdownBound+3*time.Second, func() bool {
		select {
		case runErr = <-done:
			return true
		default:
			return false
		}
	}) {
		t.Fatalf("Run still running %v after the shutdown began, beyond its %v bound", m.shutdownBound+3*time.Second, m.shutdownBound)
	}
	if runErr != nil {
		t.Fatalf("Run = %v", runErr)
	}
	docs, err := m.Store.List(context.Background(), bot.CollInbox)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || !strings.Contains(string(docs[0].Data), "block") {
		t.Fatalf("inbox after the shutdown: %d entries, want the blocked request kept for recovery", len(docs))
	}
}

// When the next 90 days reach a year the holiday table does not know,
// the program says so at start-up (an error log line) and in /readyz's
// body, which stays 200: the calendar gap is a warning, not an outage.
// Where the table covers them, /readyz says the calendar is ok.
func TestCalendarGapIsLoggedAndShownByReadyz(t *testing.T) {
	for _, tc := range []struct {
		now  time.Time
		want string
		gap  bool
	}{
		{bottest.Start, `"calendar":{"status":"ok","through":"2027-03-01"}`, false},
		{time.Date(2027, 12, 1, 9, 0, 0, 0, bottest.Shanghai), `"uncovered_years":[2028]`, true},
		{time.Date(2028, 2, 29, 10, 0, 0, 0, bottest.Shanghai), `"uncovered_years":[2028]`, true},
		{time.Date(2029, 12, 31, 23, 59, 0, 0, bottest.Shanghai), `"uncovered_years":[2029,2030]`, true},
	} {
		t.Run(tc.now.Format(time.DateOnly), func(t *testing.T) {
			var logs lockedBuffer
			m := NewMain()
			m.Clock = clockAt(tc.now)
			m.Stdin, m.Stdout, m.Stderr = blockingReader{}, io.Discard, &logs
			m.Console = "on"
			m.Getenv = env(map[string]string{"XUNJI_STORE_PATH": filepath.Join(t.TempDir(), "x.db"), "XUNJI_ADMIN_ADDR": "127.0.0.1:0", "XUNJI_LOG_LEVEL": "INFO"})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx) }()
			defer func() { cancel(); <-done; _ = m.Close() }()
			select {
			case <-m.Ready():
			case err := <-done:
				t.Fatalf("run: %v", err)
			}
			resp, err := http.Get("http://" + m.AdminAddr + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tc.want) {
				t.Errorf("readyz: %d %s, want 200 with %s", resp.StatusCode, body, tc.want)
			}
			if tc.gap && !strings.Contains(string(body), `"status":"incomplete"`) {
				t.Errorf("readyz: %s, want the calendar incomplete", body)
			}
			logs.mu.Lock()
			logged := strings.Contains(logs.b.String(), `"level":"ERROR","msg":"the holiday calendar does not know`)
			logs.mu.Unlock()
			if logged != tc.gap {
				t.Errorf("start-up log line about the calendar: %v, want %v", logged, tc.gap)
			}
		})
	}
}

// slackAuthErr is a Slack refusal of the app's token, as the adapter
// reports it.
type slackAuthErr struct{}

func (slackAuthErr) Error() string     { return "slack: chat.postMessage: token_revoked" }
func (slackAuthErr) AuthFailure() bool { return true }
func (slackAuthErr) APICode() string   { return "token_revoked" }

// While a platform refuses the app's credentials on delivery, /readyz
// fails naming it; once a delivery succeeds it is ready again.
func TestReadyzFailsWhileAPlatformRefusesTheCredentials(t *testing.T) {
	env := bottest.New(t, bottest.WithPlatforms(platforms().All()...))
	env.Bot.Out.AddAdapter(&bottest.Recorder{P: slack.Name})
	m := &Main{Bot: env.Bot, Store: env.Store, Metrics: metrics.New()}
	probe := func() (int, string) {
		rec := httptest.NewRecorder()
		m.readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := probe(); code != http.StatusOK {
		t.Fatalf("readyz before: %d %s", code, body)
	}
	m.Metrics.DeliveryFailed(slack.Name, slackAuthErr{})
	if code, body := probe(); code != http.StatusServiceUnavailable || !strings.Contains(body, `"slack":"credentials_refused"`) || !strings.Contains(body, `"console":"ok"`) {
		t.Errorf("readyz while Slack refuses the token: %d %s, want 503 naming slack", code, body)
	}
	m.Metrics.Delivered(slack.Name)
	if code, body := probe(); code != http.StatusOK {
		t.Errorf("readyz after a delivery: %d %s, want 200", code, body)
	}
}

// blockingCloseStore is a store whose Close hangs until released, as a
// Redis that stopped answering can.
type blockingCloseStore struct {
	bot.Store
	release <-chan struct{}
	closing chan<- struct{}
}

func (s blockingCloseStore) Close() error {
	s.closing <- struct{}{}
	<-s.release
	return s.Store.Close()
}

// The whole shutdown, the store's Close after Run included, ends within
// XUNJI_SHUTDOWN_TIMEOUT of SIGTERM even when the store's Close hangs;
// Close then says it gave up waiting.
func TestCloseAfterRunIsWithinTheShutdownBound(t *testing.T) {
	sfake, lfake := slacktest.NewServer(t), larktest.NewServer(t)
	vars := platformEnv(t, sfake, lfake)
	vars["XUNJI_SHUTDOWN_TIMEOUT"] = "1s"
	release := make(chan struct{})
	closing := make(chan struct{}, 1)
	defer close(release)
	m := testMain()
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = env(vars)
	m.wrapStore = func(s bot.Store) bot.Store { return blockingCloseStore{Store: s, release: release, closing: closing} }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := m.Run(ctx)
		if cerr := m.Close(); err == nil { // as main does
			err = cerr
		}
		done <- err
	}()
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	cancel() // what SIGTERM does in main
	var err error
	if !bottest.Eventually(m.shutdownBound+3*time.Second, func() bool {
		select {
		case err = <-done:
			return true
		default:
			return false
		}
	}) {
		t.Fatalf("Run and Close still running %v after the shutdown began, beyond its %v bound", m.shutdownBound+3*time.Second, m.shutdownBound)
	}
	select {
	case <-closing:
	default:
		t.Fatal("the store's Close was not called")
	}
	if err == nil || !strings.Contains(err.Error(), "did not finish within the shutdown bound") {
		t.Errorf("Run+Close = %v, want an error saying the store's Close was given up at the bound", err)
	}
}

// A Slack token revoked while Socket Mode runs: once Slack drops the
// connection and refuses a new one, the adapter's Run ends with the auth
// error, /readyz fails naming Slack, and the adapter is restarted with
// backoff until Slack takes the token again.
func TestSocketModeTokenRevokedWhileRunningFailsReadinessAndRestarts(t *testing.T) {
	env := bottest.New(t, bottest.WithPlatforms(platforms().All()...))
	fake := slacktest.NewServer(t)
	a, err := slack.New(slack.Config{BotToken: "xoxb-test", AppToken: "xapp-1-test", APIURL: fake.APIURL(), Mode: slack.ModeSocket},
		slack.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	env.Bot.Out.AddAdapter(a)
	var logs lockedBuffer
	st := &adapterState{}
	m := &Main{Bot: env.Bot, Store: env.Store, Metrics: metrics.New(), Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		adapterBackoff: 20 * time.Millisecond, states: map[bot.Platform]*adapterState{slack.Name: st}}
	m.outboxAlive.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.supervise(ctx, a, st, true, func() {}) }()
	defer func() { cancel(); <-done }()

	hello := []byte(`{"type":"hello","num_connections":1,"connection_info":{"app_id":"A111"}}`)
	// greet says hello on every connection the client opened; conn is
	// the last.
	var conn *websocket.Conn
	greet := func() {
		for {
			select {
			case c := <-fake.Conns():
				t.Cleanup(func() { c.Close() })
				_ = c.WriteMessage(websocket.TextMessage, hello)
				conn = c
			default:
				return
			}
		}
	}
	ready := func() (int, string) {
		rec := httptest.NewRecorder()
		m.readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if !bottest.Eventually(10*time.Second, func() bool {
		greet()
		code, _ := ready()
		return conn != nil && code == http.StatusOK
	}) {
		code, body := ready()
		t.Fatalf("readyz once connected: %d %s", code, body)
	}
	fake.RefuseAll("token_revoked")
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"disconnect","reason":"refresh_requested"}`)); err != nil {
		t.Fatal(err)
	}
	if !bottest.Eventually(10*time.Second, func() bool { return st.restarts.Load() >= 2 }) {
		t.Fatalf("restarts %d after the token was revoked, want 2", st.restarts.Load())
	}
	if !bottest.Eventually(10*time.Second, func() bool {
		code, body := ready()
		return code == http.StatusServiceUnavailable && strings.Contains(body, `"slack":"stopped"`)
	}) {
		code, body := ready()
		t.Errorf("readyz with the token revoked: %d %s, want 503 naming slack stopped", code, body)
	}
	if waits := logs.waits(t); len(waits) < 2 || waits[0] != "20ms" || waits[1] != "40ms" {
		t.Errorf("restart waits %v, want 20ms, 40ms…", waits)
	}
	logs.mu.Lock()
	text := logs.b.String()
	logs.mu.Unlock()
	if !strings.Contains(text, "token_revoked") {
		t.Errorf("the restart lines do not name token_revoked:\n%s", text)
	}

	fake.RefuseAll("")
	if !bottest.Eventually(10*time.Second, func() bool {
		greet()
		code, _ := ready()
		return code == http.StatusOK
	}) {
		code, body := ready()
		t.Errorf("readyz once Slack takes the token again: %d %s, want 200", code, body)
	}
}
