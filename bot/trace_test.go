package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// syncBuffer is a log destination safe for the background work of Serve.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// lines returns the JSON log lines whose msg is msg.
func (s *syncBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// An internal error's log line names the request it belongs to: one
// request id (the same as Serve's own lines for it), the event id, the
// platform, the user and the verb.
func TestInternalErrorLogLineCarriesTheRequest(t *testing.T) {
	env := bottest.New(t)
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	env.Bot.Log = logger
	env.Must(&bot.Command{Name: "broken", Run: func(ctx context.Context, _ *bot.Request) (*bot.Response, error) {
		bot.Log(ctx, logger).Info("handler ran")
		return nil, errors.New("disk on fire")
	}})
	s := &served{Inbox: env.Bot.Inbox}
	a := &adapter{s: s}
	d := a.delivery()
	d.Log = logger
	req := slackReq("EvBroken")
	req.Text = "broken"
	if err := bot.Serve(context.Background(), s, req, d); err != nil {
		t.Fatal(err)
	}
	a.wg.Wait()

	lines := buf.lines(t, "internal error")
	if len(lines) != 1 {
		t.Fatalf("internal error lines: %d, want 1:\n%s", len(lines), buf.b.String())
	}
	l := lines[0]
	want := map[string]any{"platform": string(req.Platform), "event": "EvBroken", "user": req.UserID, "verb": "broken"}
	for k, v := range want {
		if l[k] != v {
			t.Errorf("internal error line: %s = %v, want %v (line %v)", k, l[k], v, l)
		}
	}
	id, _ := l["request"].(string)
	if id == "" {
		t.Fatalf("internal error line has no request id: %v", l)
	}
	ran := buf.lines(t, "handler ran")
	if len(ran) != 1 || ran[0]["request"] != id {
		t.Errorf("the handler's own line: %v, want request id %s", ran, id)
	}
}
