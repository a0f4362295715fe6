package slack

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
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

// lines returns the decoded lines whose msg is msg.
func (l *jsonLog) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, raw := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		if m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// wantAttrs checks that line carries the core request logger's
// attributes with these values.
func wantAttrs(t *testing.T, what string, line map[string]any, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s: %s = %v, want %q (line %v)", what, k, line[k], v, line)
		}
	}
}

// The adapter's lines about a redelivered event carry the core's request
// attributes (platform, event, user) and the same request id as the
// core's own line about that delivery; an event the bot ignores is
// logged with its platform, event id and user.
func TestEventLogLinesCarryTheRequestAttributes(t *testing.T) {
	redelivered := func(t *testing.T, logs *jsonLog) {
		t.Helper()
		lines := logs.lines(t, "slack event redelivered")
		if len(lines) != 1 {
			t.Fatalf("%d redelivery lines, want 1", len(lines))
		}
		wantAttrs(t, "redelivery", lines[0], map[string]string{"platform": "slack", "event": "EvLogRetry", "user": "U0WANGMING"})
		id, _ := lines[0]["request"].(string)
		if id == "" {
			t.Fatalf("redelivery line without a request id: %v", lines[0])
		}
		dups := logs.lines(t, "duplicate event dropped")
		if len(dups) != 1 || dups[0]["request"] != id {
			t.Errorf("the core's line about the redelivery %v, want one with request %q", dups, id)
		}
	}
	ignored := func(t *testing.T, logs *jsonLog, event, user string) {
		t.Helper()
		lines := logs.lines(t, "slack event not handled")
		if len(lines) != 1 {
			t.Fatalf("%d 'not handled' lines, want 1", len(lines))
		}
		wantAttrs(t, "ignored event", lines[0], map[string]string{"platform": "slack", "event": event, "user": user})
	}
	mention := slacktest.AppMention("EvLogRetry", "U0WANGMING", coordChat, "<@U0XUNJIBOT> bump")
	chatter := slacktest.EditEvent(slacktest.AppMention("EvLogChatter", "U0LINA", coordChat, "hello all"), func(_, ev map[string]any) {
		ev["type"], ev["channel_type"] = "message", "channel"
	})

	t.Run("http", func(t *testing.T) {
		var logs jsonLog
		hs := newHarness(t, WithLogger(logs.logger()))
		wantStatus(t, hs.postEvent(mention, nil), http.StatusOK)
		header := slacktest.Sign(testSecret, time.Now(), mention)
		header.Set("X-Slack-Retry-Num", "1")
		header.Set("X-Slack-Retry-Reason", "http_timeout")
		wantStatus(t, hs.postEvent(mention, header), http.StatusOK)
		wantStatus(t, hs.postEvent(chatter, nil), http.StatusOK)
		hs.settle()
		redelivered(t, &logs)
		ignored(t, &logs, "EvLogChatter", "U0LINA")
	})
	t.Run("socket mode", func(t *testing.T) {
		var logs jsonLog
		sh := newSocketHarness(t, WithLogger(logs.logger()))
		sh.write(envelope(t, "env-log-1", "events_api", mention, 0))
		sh.awaitAck("env-log-1")
		sh.write(envelope(t, "env-log-2", "events_api", mention, 1))
		sh.awaitAck("env-log-2")
		sh.write(envelope(t, "env-log-3", "events_api", chatter, 0))
		sh.awaitAck("env-log-3")
		sh.settle()
		redelivered(t, &logs)
		ignored(t, &logs, "EvLogChatter", "U0LINA")
	})
}
