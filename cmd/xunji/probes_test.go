package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/metrics"
)

// With Redis frozen (SIGSTOP: connections are accepted by the kernel but
// nothing answers), /readyz still answers within its 1 s deadline, 503,
// and /livez stays 200: an outage of the store must not restart the
// process.
func TestReadyzAnswersInTimeWhenRedisIsFrozen(t *testing.T) {
	port := freePort(t)
	srv := startRedis(t, port)
	defer func() {
		_ = srv.Process.Signal(syscall.SIGCONT)
		_ = srv.Process.Kill()
		_ = srv.Wait()
	}()

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
	m := NewMain()
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
		// Thaw Redis first, so that the shutdown's own store calls finish.
		_ = srv.Process.Signal(syscall.SIGCONT)
		cancel()
		<-done
		_ = m.Close()
	}()
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("run: %v", err)
	}

	client := &http.Client{Timeout: 30 * time.Second}
	probe := func(path string) (int, string, time.Duration) {
		start := time.Now()
		resp, err := client.Get("http://" + m.AdminAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body), time.Since(start)
	}
	health := func() (int, string, time.Duration) { return probe("/readyz") }
	if code, body, _ := health(); code != http.StatusOK {
		t.Fatalf("readyz before the freeze: %d %s", code, body)
	}

	if err := srv.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// Twice: the first check may find a pooled connection, the second
	// one finds the first still waiting on it.
	bound := probeTimeout + 500*time.Millisecond
	for i := range 2 {
		code, body, took := health()
		t.Logf("readyz %d with Redis frozen: %d in %v", i+1, code, took.Round(time.Millisecond))
		if code != http.StatusServiceUnavailable || !strings.Contains(body, `"status":"unavailable"`) || !strings.Contains(body, `"store":"unavailable"`) {
			t.Errorf("readyz %d with Redis frozen: %d %s, want 503 naming the store", i+1, code, body)
		}
		if took > bound {
			t.Errorf("readyz %d with Redis frozen took %v, beyond its %v deadline plus half a second", i+1, took, probeTimeout)
		}
	}
	if code, body, took := probe("/livez"); code != http.StatusOK || took > bound {
		t.Errorf("livez with Redis frozen: %d %s in %v, want 200 at once", code, body, took)
	}

	if err := srv.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, _, _ := health()
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after the thaw: %d", code)
		}
		time.Sleep(100 * time.Millisecond) // bounded polling while the client recovers
	}
}

// stuckStore is a store whose Ping ignores its context and returns only
// when released: a check that does not honour its deadline.
type stuckStore struct {
	bot.Store
	release chan struct{}
}

func (s stuckStore) Ping(context.Context) error {
	<-s.release
	return nil
}

// /readyz answers by its deadline even when a check does not: the
// check still running counts as failed.
func TestReadyzAnswersByItsDeadlineWhateverTheChecksDo(t *testing.T) {
	env := bottest.New(t)
	release := make(chan struct{})
	defer close(release)
	m := &Main{Store: stuckStore{Store: env.Store, release: release}, Bot: env.Bot, Metrics: metrics.New()}
	rec := httptest.NewRecorder()
	start := time.Now()
	m.readyz(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	took := time.Since(start)
	t.Logf("readyz with a stuck store check: %d in %v", rec.Code, took.Round(time.Millisecond))
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"store":"unavailable"`) {
		t.Errorf("readyz with a stuck store check: %d %s, want 503 naming the store", rec.Code, rec.Body)
	}
	if bound := probeTimeout + 500*time.Millisecond; took > bound {
		t.Errorf("readyz took %v, beyond its %v deadline plus half a second", took, probeTimeout)
	}
}
