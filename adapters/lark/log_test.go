package lark

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// jsonLog collects the JSON lines of a logger, at every level.
type jsonLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *jsonLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *jsonLog) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// lines returns the raw lines whose msg is msg, with each decoded.
func (l *jsonLog) lines(t *testing.T, msg string) ([]string, []map[string]any) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var raws []string
	var out []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		if m["msg"] == msg {
			raws, out = append(raws, raw), append(out, m)
		}
	}
	return raws, out
}

// oneLine returns the one line logged as msg and checks that it carries
// the core request logger's attributes, each once: the request id, and
// platform lark, event and user as given.
func (l *jsonLog) oneLine(t *testing.T, msg, event, user string) map[string]any {
	t.Helper()
	raws, lines := l.lines(t, msg)
	if len(lines) != 1 {
		t.Fatalf("%d lines %q, want 1", len(lines), msg)
	}
	line := lines[0]
	for k, v := range map[string]string{"platform": "lark", "event": event, "user": user} {
		if line[k] != v {
			t.Errorf("%q: %s = %v, want %q (line %s)", msg, k, line[k], v, raws[0])
		}
	}
	if id, _ := line["request"].(string); id == "" {
		t.Errorf("%q without a request id: %s", msg, raws[0])
	}
	for _, k := range []string{"platform", "event", "user", "request"} {
		if n := strings.Count(raws[0], `"`+k+`":`); n != 1 {
			t.Errorf("%q names %s %d times, want once: %s", msg, k, n, raws[0])
		}
	}
	return line
}

// The lines about one encrypted event, the adapter's and the core's,
// carry the core's request attributes once and share one request id: an
// event that could not be handled (the store is down: Lark gets 500 and
// delivers it again), and its redelivery, dropped as a duplicate once
// the first delivery was handled. Lark marks no redelivery: the line
// about it is the core's, with the adapter's attributes.
func TestEventLogLinesCarryTheRequestAttributes(t *testing.T) {
	var logs jsonLog
	hs := newHarnessOpts(t, "test key", []Option{WithLogger(logs.logger())})
	mem := hs.env.Store.(*bottest.Mem)
	ev := msgEvent(t, "ev_log", "p2p", "oc_dm", wangming, "text", "tally")

	mem.Fail = errors.New("store down")
	if status, _ := hs.post("/lark/events", ev); status != http.StatusInternalServerError {
		t.Fatalf("status %d with the store down, want 500", status)
	}
	mem.Fail = nil
	unhandled := logs.oneLine(t, "lark event not handled", "ev_log", wangming)
	core := logs.oneLine(t, "request not accepted", "ev_log", wangming)
	if unhandled["request"] != core["request"] {
		t.Errorf("request ids %v (adapter) and %v (core) for one delivery", unhandled["request"], core["request"])
	}

	if status, _ := hs.post("/lark/events", ev); status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	if status, _ := hs.post("/lark/events", ev); status != http.StatusOK {
		t.Fatalf("redelivery: status %d, want 200", status)
	}
	logs.oneLine(t, "duplicate event dropped", "ev_log", wangming)
}

// A card callback slower than Lark's budget: the adapter's line about it
// carries the request attributes too; the click's redelivery, dropped by
// the core, is logged under a request id of its own.
func TestCardCallbackLogLinesCarryTheRequestAttributes(t *testing.T) {
	var logs jsonLog
	hs := newHarnessOpts(t, "test key", []Option{WithLogger(logs.logger())})
	hs.a.cardBudget = 20 * time.Millisecond
	body, hdr := larktest.Seal(hs.key, cardEvent(t, "ev_log_card", lina, "tally.slow", tallyValue), hs.a.now())
	if status, _ := hs.postNoWait("/lark/cards", body, hdr); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	close(hs.gate)
	hs.a.wait()
	slow := logs.oneLine(t, "lark card action slower than the callback budget; answering later", "ev_log_card", lina)
	// A second delivery of the click is the core's line, under its own id.
	if status, _ := hs.post("/lark/cards", cardEvent(t, "ev_log_card", lina, "tally.slow", tallyValue)); status != http.StatusOK {
		t.Fatalf("redelivery: status %d", status)
	}
	dup := logs.oneLine(t, "duplicate event dropped", "ev_log_card", lina)
	if dup["request"] == slow["request"] {
		t.Errorf("two deliveries share request id %v", dup["request"])
	}
}
