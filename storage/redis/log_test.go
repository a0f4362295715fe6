package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// syncBuffer is a bytes.Buffer safe for the client's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The Redis client's own messages (here: it cannot dial) come out through
// the logger given to SetLogger, as its JSON lines, and not below its
// level.
func TestClientMessagesFollowTheProgramsLog(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	var warn, errOnly syncBuffer
	SetLogger(slog.New(slog.NewJSONHandler(&warn, &slog.HandlerOptions{Level: slog.LevelWarn})))
	t.Cleanup(func() { SetLogger(nil) })
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 10 && !strings.Contains(warn.String(), "redis client"); i++ {
		_ = c.Ping(ctx).Err()
	}
	line, _, _ := strings.Cut(warn.String(), "\n")
	var rec map[string]any
	if err := json.Unmarshal([]byte(line), &rec); err != nil {
		t.Fatalf("the client's message is not a JSON log line: %q", warn.String())
	}
	if rec["msg"] != "redis client" || rec["level"] != "WARN" || !strings.Contains(fmt.Sprint(rec["detail"]), "dial") {
		t.Errorf("log line %v", rec)
	}

	SetLogger(slog.New(slog.NewJSONHandler(&errOnly, &slog.HandlerOptions{Level: slog.LevelError})))
	for i := 0; i < 3; i++ {
		_ = c.Ping(ctx).Err()
	}
	if s := errOnly.String(); s != "" {
		t.Errorf("client messages below the configured level were written: %q", s)
	}
}
