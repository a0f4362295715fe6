package slack

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
)

// How a fuzzed request is signed.
const (
	fuzzSigned      = iota // v0 signature with the right secret, now
	fuzzUnsigned           // no signature headers
	fuzzWrongSecret        // signed with another secret
	fuzzTampered           // signed, then one byte appended to the body
	fuzzTimestamp          // signed correctly over the fuzzed timestamp header
	fuzzModes
)

// FuzzSlackRequests posts arbitrary bodies to the three HTTP routes,
// signed or not, with a fuzzed Content-Type and timestamp. A correctly
// signed body, whatever it holds, gets a 2xx or 4xx answer without a
// panic or a hang; a body without a valid, fresh signature gets 401 (or
// 413) and never reaches the bot. The seed corpus is in
// testdata/fuzz/FuzzSlackRequests.
func FuzzSlackRequests(f *testing.F) {
	routes := []string{PathEvents, PathCommands, PathInteractions}
	mention := slacktest.AppMention("EvFuzz", "U0LINA", coordChat, "<@U0XUNJIBOT> count")
	slash := []byte(slacktest.SlashCommand("/xunji", "count", "U0LINA", coordChat, "trig-fuzz", "http://127.0.0.1:1/response").Encode())
	click := slacktest.InteractionBody(slacktest.BlockActions(slacktest.Click{
		User: "U0LINA", Channel: coordChat, MessageTS: "1.2", ActionID: "count.inc", Value: "c1", TriggerID: "trig-fuzz-click",
	}))
	f.Add(uint8(0), uint8(fuzzSigned), "application/json", "", mention)
	f.Add(uint8(1), uint8(fuzzSigned), "application/x-www-form-urlencoded", "", slash)
	f.Add(uint8(2), uint8(fuzzSigned), "application/x-www-form-urlencoded", "", click)
	f.Add(uint8(0), uint8(fuzzUnsigned), "application/json", "", mention)
	f.Add(uint8(2), uint8(fuzzTampered), "application/x-www-form-urlencoded", "", click)
	f.Add(uint8(1), uint8(fuzzTimestamp), "application/x-www-form-urlencoded", "0", slash)

	hs := newHarnessWith(f, harnessConfig{opts: []Option{withAckWait(20 * time.Millisecond), WithLogger(slog.New(slog.DiscardHandler))}})
	// The fuzzing engine reads a worker's output only now and then: a
	// chatty bot would block on it.
	hs.env.Bot.Log = slog.New(slog.DiscardHandler)
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, route, mode uint8, contentType, ts string, body []byte) {
		if !headerValue(contentType, ts) {
			t.Skip("not a value an HTTP client can send")
		}
		path := routes[int(route)%len(routes)]
		mode %= fuzzModes
		now := time.Now()
		sent := body
		var hdr http.Header
		switch mode {
		case fuzzSigned:
			hdr = slacktest.Sign(testSecret, now, body)
		case fuzzUnsigned:
			hdr = http.Header{}
		case fuzzWrongSecret:
			hdr = slacktest.Sign("not-"+testSecret, now, body)
		case fuzzTampered:
			hdr = slacktest.Sign(testSecret, now, body)
			sent = append(bytes.Clone(body), 'x')
		case fuzzTimestamp:
			hdr = http.Header{}
			hdr.Set("X-Slack-Request-Timestamp", ts)
			hdr.Set("X-Slack-Signature", slacktest.Signature(testSecret, ts, body))
		}
		req, err := http.NewRequest(http.MethodPost, hs.srv.URL+path, bytes.NewReader(sent))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", contentType)
		before := hs.h.n.Load()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err) // includes the client's timeout: a hang
		}
		resp.Body.Close()
		reached := hs.h.n.Load() != before
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("%s mode %d: status %d", path, mode, resp.StatusCode)
		}
		if authentic(mode, ts, now) {
			return
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s mode %d: unsigned request answered %d, want 401", path, mode, resp.StatusCode)
		}
		if reached {
			t.Errorf("%s mode %d: an unsigned request reached the bot", path, mode)
		}
	})
}

// authentic reports whether a request built in mode carries a valid,
// fresh signature.
func authentic(mode uint8, ts string, now time.Time) bool {
	switch mode {
	case fuzzSigned:
		return true
	case fuzzTimestamp:
		n, err := strconv.ParseInt(ts, 10, 64)
		// A timestamp at the edge of the window may go either way.
		return err == nil && now.Sub(time.Unix(n, 0)).Abs() <= replayWindow+time.Minute
	default:
		return false
	}
}

// headerValue reports whether every value may be sent in an HTTP header.
func headerValue(vs ...string) bool {
	for _, v := range vs {
		for i := 0; i < len(v); i++ {
			if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
				return false
			}
		}
	}
	return true
}
