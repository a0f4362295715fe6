package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// startRedis runs a private redis-server on a free port, so the test can
// stop and restart it without touching the shared server.
func startRedis(t *testing.T, port int) *exec.Cmd {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is needed for the fault test (apt-get install redis-server): %v", err)
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var dialErr error
	if !bottest.Eventually(10*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		dialErr = err
		return err == nil
	}) {
		t.Fatalf("private redis-server did not start: %v", dialErr)
	}
	return cmd
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// With Redis down, a command that changes something gets a clear
// "temporarily unavailable" answer (read-only ones may still be answered
// from the roster cache) and /readyz reports the outage; when Redis is
// back the bot recovers by itself.
func TestRedisOutageAnsweredAndRecovered(t *testing.T) {
	port := freePort(t)
	srv := startRedis(t, port)
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "xunji.yaml")
	demo, err := os.ReadFile("../../bot/config/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(demo), "store:\n  kind: bolt\n  path: xunji-demo.db\n", "store:\n  kind: redis\n", 1)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	m := testMain()
	m.Stdin = blockingReader{}
	m.Stdout = io.Discard
	m.Stderr = io.Discard
	m.Console = "on"
	m.ConfigPath = cfgPath
	m.Getenv = env(map[string]string{"REDIS_URL": fmt.Sprintf("redis://127.0.0.1:%d/0", port), "XUNJI_ADMIN_ADDR": "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		_ = m.Close()
	}()
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	cat := fullCatalog(t)
	ask := func() string {
		resp := m.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: "李娜", Text: "我是谁"})
		var s []string
		for _, r := range resp.Replies {
			s = append(s, r.Text)
		}
		return strings.Join(s, "\n")
	}
	health := func() int {
		resp, err := http.Get("http://" + m.AdminAddr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := ask(); !strings.Contains(got, "区委第一巡察组") {
		t.Fatalf("before the outage: %s", got)
	}
	if code := health(); code != 200 {
		t.Fatalf("readyz before the outage: %d", code)
	}

	_ = srv.Process.Kill()
	_ = srv.Wait()
	// A change cannot be made: the answer says so, and nothing is done.
	resp := m.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: "李娜", Text: "语言 en"})
	if len(resp.Replies) != 1 || resp.Replies[0].Text != cat.T("zh-CN", "error.unavailable") {
		t.Errorf("a change during the outage: %+v, want the unavailable answer", resp.Replies)
	}
	if code := health(); code != http.StatusServiceUnavailable {
		t.Errorf("readyz during the outage: %d, want 503", code)
	}

	srv = startRedis(t, port)
	// Recovered: the store answers health checks again, and a change is
	// made again (the read alone is not proof: the roster may still come
	// from the cache). Each client connection pool of the Redis client
	// redials on its own, so the first change may still be refused.
	if !bottest.Eventually(15*time.Second, func() bool { return health() == 200 }) {
		t.Fatal("readyz did not recover after Redis came back")
	}
	var last []bot.Reply
	if !bottest.Eventually(15*time.Second, func() bool {
		last = m.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: "李娜", Text: "语言 en"}).Replies
		return len(last) == 1 && last[0].Text == cat.T("en", "admin.lang.set")
	}) {
		t.Errorf("a change after recovery: %+v, want it done", last)
	}
	if got := ask(); !strings.Contains(got, "1st Inspection Team") {
		t.Errorf("after recovery: %s", got)
	}
}
