package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/bot/bottest"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// runConsole runs the program on the demo configuration with input as
// the terminal and returns what it printed.
func runConsole(t *testing.T, dir, input string) string {
	t.Helper()
	return runConsoleAt(t, bottest.Start, dir, input)
}

// runConsoleAt is runConsole with the program's clock at now.
func runConsoleAt(t *testing.T, now time.Time, dir, input string) string {
	t.Helper()
	var out bytes.Buffer
	m := NewMain()
	m.Clock = clockAt(now)
	m.Stdin = strings.NewReader(input)
	m.Stdout = &out
	m.Stderr = io.Discard
	m.Getenv = env(map[string]string{"XUNJI_STORE_PATH": filepath.Join(dir, "xunji.db")})
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// The demo district is seeded on whatever day the program first starts:
// its records are numbered in that year and its monthly meeting falls in
// the next month, at New Year's Eve, on holidays and in years the
// holiday table does not know alike.
func TestNoConfigStartsConsoleDemo(t *testing.T) {
	cat := fullCatalog(t)
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		local := now.In(bottest.Shanghai)
		year := fmt.Sprint(local.Year())
		// The meeting is on the first working day of next month.
		next := time.Date(local.Year(), local.Month()+1, 1, 9, 0, 0, 0, bottest.Shanghai)
		meetingID := fmt.Sprintf("HY-%d-0001", next.Year())
		out := runConsoleAt(t, now, t.TempDir(), "帮助\nhelp\nfoo\n线索 x\n\n切换 赵强\n我是谁\n线索 列表\n会签 列表\n进度 列表\n会议 列表\n")
		for _, want := range []string{
			cat.T("zh-CN", "console.welcome", "name", "王明"),
			cat.T("zh-CN", "help.header"),
			cat.T("zh-CN", "cmd.roster.summary"),
			cat.T("zh-CN", "error.unknown_verb", "verb", "foo"),
			cat.T("zh-CN", "console.as", "name", "赵强"),
			"区纪委监委第二监督检查室",
			// the demo district's records (shared/DEMO.md), seeded at first start
			"XS-" + year + "-0001", "QZ-" + year + "-0001", "ZG-" + year + "-0003", "公务用车登记不规范",
			// the items' deadline three months on, the meeting in the next month
			"时限 " + local.AddDate(0, 3, 0).Format("2006-01-02"),
			meetingID + " ", " · " + next.Format("2006-01-"),
		} {
			if !strings.Contains(out, want) {
				t.Errorf("console output lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestBadConfigStopsStartupNamingTheKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.yaml")
	cases := map[string]string{
		"timezone: Mars/Olympus\n":                      "timezone",
		"store: {kind: sqlite}\n":                       "store.kind",
		"bodies: [{id: a, kind: nope, name: A}]\n":      "bodies[0].kind",
		"people: [{id: p, name: P, bodies: [ghost]}]\n": "people[0].bodies",
		"tiemzone: Asia/Shanghai\n":                     "tiemzone",
		"clue: {deadline_days: 999}\n":                  "clue.deadline_days",
		"clue: {ack_reminder: soon}\n":                  "soon",
		"store: {replicas: -1}\n":                       "store.replicas",
		"bodies: [{id: a, kind: case_office, name: A}]\npeople: [{id: p, name: P, bodies: [a], nmae: Q}]\n":         "people[0].nmae",
		"bodies: [{id: a, kind: case_office, name: A}]\npeople: [{id: p, name: P, bodies: [a], ids: {wecom: w}}]\n": "people[0].ids.wecom",
		"meetings: {invitees: {weekly: [case_office]}}\n":                                                           "meetings.invitees.weekly",
		"cosign: {templates: [{name: three}]}\n":                                                                    "cosign.templates[2]",
		"round: {immediate_deadline_days: -1}\n":                                                                    "round.immediate_deadline_days",
	}
	for yaml, key := range cases {
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		m := testMain()
		m.Stdin = strings.NewReader("")
		m.Stdout = io.Discard
		m.Stderr = io.Discard
		m.Getenv = env(nil)
		m.ConfigPath = path
		err := m.Run(context.Background())
		_ = m.Close()
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("config %q: error %v, want one naming %q", yaml, err, key)
		}
	}
}

// A configuration with the flat platform keys of earlier versions loads,
// with one deprecation warning naming the entries that use them.
func TestFlatPlatformKeysLoadWithAWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.yaml")
	yaml := "bodies: [{id: a, kind: case_office, name: A}]\n" +
		"groups: {g: {name: G, slack: C01}}\n" +
		"people: [{id: p, name: P, bodies: [a], lark: ou_1}, {id: q, name: Q, bodies: [a], ids: {slack: U02}}]\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	m := testMain()
	m.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	m.Platforms = platforms()
	m.ConfigPath = path
	if err := m.loadConfig(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(logs.String(), "deprecated"); n != 1 {
		t.Errorf("%d deprecation warnings, want 1: %s", n, logs.String())
	}
	if !strings.Contains(logs.String(), `"entries":["people[0]","groups.g"]`) {
		t.Errorf("the warning does not name the entries: %s", logs.String())
	}
	if p, _ := m.Config.Roster(m.Platforms).Person("p"); p.IDs[lark.Name] != "ou_1" {
		t.Errorf("flat lark id not loaded: %v", p.IDs)
	}
}

// The admin listener serves the probes and the metrics; the public
// listener serves neither.
func TestAdminListenerServesProbesAndMetrics(t *testing.T) {
	m := testMain()
	m.Stdin = strings.NewReader("")
	m.Stdout = io.Discard
	m.Stderr = io.Discard
	m.Getenv = env(map[string]string{"XUNJI_STORE_PATH": filepath.Join(t.TempDir(), "x.db"), "XUNJI_HTTP_ADDR": "127.0.0.1:0", "XUNJI_ADMIN_ADDR": "127.0.0.1:0"})
	m.Console = "on"
	m.Stdin = blockingReader{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	}
	get := func(addr, path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	if code, body := get(m.AdminAddr, "/readyz"); code != 200 || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"console":"ok"`) {
		t.Errorf("readyz: %d %s", code, body)
	}
	if code, body := get(m.AdminAddr, "/livez"); code != 200 || !strings.Contains(body, `"status":"ok"`) || !strings.Contains(body, `"outbox":"running"`) {
		t.Errorf("livez: %d %s", code, body)
	}
	for _, path := range []string{"/healthz", "/metrics", "/readyz"} {
		if code, _ := get(m.HTTPAddr, path); code != http.StatusNotFound {
			t.Errorf("public listener %s: %d, want 404 (the admin listener serves it)", path, code)
		}
	}
	resp, err := http.Get("http://" + m.AdminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The gauge's value depends on what start-up queued (under load a
	// message may still wait): its presence is what is served.
	if !regexp.MustCompile(`(?m)^xunji_outbox_depth \d+$`).Match(body) {
		t.Errorf("/metrics lacks the outbox depth:\n%s", body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}

type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

// TestAcknowledgedRecordSurvivesKill9 runs the program as a child
// process, changes the roster, waits for the acknowledgement, kills the
// child with SIGKILL and checks on restart that the change is there.
func TestAcknowledgedRecordSurvivesKill9(t *testing.T) {
	if os.Getenv("XUNJI_CHILD") == "1" {
		return
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "xunji.db")
	cat := fullCatalog(t)

	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$")
	cmd.Env = append(withoutEnv("REDIS_URL"), "XUNJI_CHILD=1", "XUNJI_STORE_PATH="+db, clockAt(bottest.Start).env())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if _, err := io.WriteString(stdin, "名册 添加 钱进 第二监督检查室 lark:ou_5a1e9c0d7b\n"); err != nil {
		t.Fatal(err)
	}
	ack := cat.T("zh-CN", "admin.roster.added", "name", "钱进", "body", "区纪委监委第二监督检查室")
	got := make(chan bool, 1)
	go func() {
		r := bufio.NewReader(stdout)
		var seen strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			seen.Write(buf[:n])
			if strings.Contains(seen.String(), ack) {
				got <- true
				return
			}
			if err != nil {
				got <- false
				return
			}
		}
	}()
	select {
	case ok := <-got:
		if !ok {
			t.Fatal("child ended before acknowledging")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no acknowledgement from the child")
	}
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	out := runConsole(t, dir, "名册 查看 钱进\n")
	if !strings.Contains(out, cat.T("zh-CN", "admin.roster.person", "name", "钱进", "bodies", "区纪委监委第二监督检查室")) {
		t.Errorf("after kill -9 and restart the roster change is gone:\n%s", out)
	}
}

// TestChildProcess is the program run by TestAcknowledgedRecordSurvivesKill9.
func TestChildProcess(t *testing.T) {
	if os.Getenv("XUNJI_CHILD") != "1" {
		return // only meaningful as the child of TestAcknowledgedRecordSurvivesKill9
	}
	m := childMain(t)
	m.Stderr = io.Discard
	_ = m.ParseFlags(nil)
	_ = m.Run(context.Background())
}

// withoutEnv is the test process's environment less the named
// variables (a REDIS_URL meant for the tests' Redis is no setting for a
// child on the embedded store).
func withoutEnv(names ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			out = append(out, kv)
		}
	}
	return out
}

// Settings that would make the program run otherwise than the operator
// believes stop it at start-up, saying which and what to do.
func TestDivergingSettingsStopStartup(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"REDIS_URL with the embedded store", map[string]string{"REDIS_URL": "redis://127.0.0.1:6379/15"}, []string{"REDIS_URL", "store.kind: redis", "unset REDIS_URL"}},
		{"unknown log level", map[string]string{"XUNJI_LOG_LEVEL": "LOUD"}, []string{"XUNJI_LOG_LEVEL", "LOUD", "DEBUG, INFO, WARN or ERROR"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := testMain()
			m.Stdin = strings.NewReader("")
			m.Stdout = io.Discard
			m.Stderr = io.Discard
			tc.env["XUNJI_STORE_PATH"] = filepath.Join(t.TempDir(), "x.db")
			m.Getenv = env(tc.env)
			err := m.Run(context.Background())
			_ = m.Close()
			if err == nil {
				t.Fatal("started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// XUNJI_OUTBOX_LEASE shortens the outbox's delivery lease for crash
// recovery tests; a value that is not a duration of at least a second
// stops the start with its name.
func TestOutboxLeaseFromTheEnvironment(t *testing.T) {
	for _, v := range []string{"soon", "10ms"} {
		m := testMain()
		m.Stdin = blockingReader{}
		m.Stdout, m.Stderr = io.Discard, io.Discard
		m.Getenv = env(map[string]string{"XUNJI_STORE_PATH": filepath.Join(t.TempDir(), "x.db"), "XUNJI_OUTBOX_LEASE": v})
		err := m.Run(context.Background())
		_ = m.Close()
		if err == nil || !strings.Contains(err.Error(), "XUNJI_OUTBOX_LEASE") {
			t.Errorf("XUNJI_OUTBOX_LEASE=%s: %v, want an error naming the variable", v, err)
		}
	}
	m := testMain()
	m.Stdin = blockingReader{}
	m.Stdout, m.Stderr = io.Discard, io.Discard
	m.Getenv = env(map[string]string{"XUNJI_STORE_PATH": filepath.Join(t.TempDir(), "x.db"), "XUNJI_OUTBOX_LEASE": "3s"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("XUNJI_OUTBOX_LEASE=3s: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("did not start")
	}
	cancel()
	if err := <-done; err != nil {
		t.Error(err)
	}
	_ = m.Close()
}
