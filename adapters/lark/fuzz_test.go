package lark

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
)

// fuzzKey is the Encrypt Key of the fuzzed app that has one.
const fuzzKey = "fuzz encrypt key"

// How a fuzzed request is sent.
const (
	fuzzPlain     = iota // as is, to the app without an Encrypt Key
	fuzzSealed           // encrypted and signed, to the app with the key
	fuzzUnsigned         // as is, to the app with the key: no signature
	fuzzWrongKey         // sealed with another key, to the app with the key
	fuzzTampered         // sealed, then the signature's nonce changed
	fuzzTimestamp        // sealed and signed over the fuzzed timestamp
	fuzzModes
)

// FuzzLarkCallbacks posts arbitrary bodies to /lark/events and
// /lark/cards, to an app without an Encrypt Key (only the verification
// token inside the body vouches for it) and to one with a key (bodies
// encrypted and signed, or not). Whatever the body, the answer is 2xx or
// 4xx, without a panic or a hang; without the token, or without a valid
// signature when the app has a key, nothing reaches the bot. The seed
// corpus is in testdata/fuzz/FuzzLarkCallbacks.
func FuzzLarkCallbacks(f *testing.F) {
	msg := larktest.GroupMention("ev_fuzz", coordChat, lina, "tally")
	click := larktest.CardActionEvent(larktest.CardAction{EventID: "ev_fuzz_card", Operator: lina, ChatID: coordChat, MessageID: cardMsgID, Action: "tally.inc", Value: tallyValue})
	f.Add(uint8(0), uint8(fuzzPlain), "", msg)
	f.Add(uint8(1), uint8(fuzzPlain), "", click)
	f.Add(uint8(0), uint8(fuzzSealed), "", msg)
	f.Add(uint8(1), uint8(fuzzSealed), "", click)
	f.Add(uint8(0), uint8(fuzzUnsigned), "", msg)
	f.Add(uint8(1), uint8(fuzzTampered), "", click)
	f.Add(uint8(0), uint8(fuzzTimestamp), "1608725989", msg)
	f.Add(uint8(0), uint8(fuzzPlain), "", []byte(`{"type":"url_verification","challenge":"c","token":"`+testToken+`"}`))

	plain, sealed := fuzzHarness(f, ""), fuzzHarness(f, fuzzKey)
	paths := []string{"/lark/events", "/lark/cards"}
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, route, mode uint8, ts string, body []byte) {
		if !headerValue(ts) {
			t.Skip("not a value an HTTP client can send")
		}
		path := paths[int(route)%len(paths)]
		mode %= fuzzModes
		hs := sealed
		sent, hdr := body, http.Header{}
		now := time.Now()
		switch mode {
		case fuzzPlain:
			hs = plain
		case fuzzSealed:
			sent, hdr = larktest.Seal(fuzzKey, body, now)
		case fuzzUnsigned:
		case fuzzWrongKey:
			sent, hdr = larktest.Seal("not "+fuzzKey, body, now)
		case fuzzTampered:
			sent, hdr = larktest.Seal(fuzzKey, body, now)
			hdr.Set(larkevent.EventRequestNonce, hdr.Get(larkevent.EventRequestNonce)+"x")
		case fuzzTimestamp:
			sent, _ = larktest.Seal(fuzzKey, body, now)
			hdr = http.Header{}
			hdr.Set(larkevent.EventRequestTimestamp, ts)
			hdr.Set(larkevent.EventRequestNonce, "n")
			hdr.Set(larkevent.EventSignature, larktest.Signature(ts, "n", fuzzKey, sent))
		}
		req, err := http.NewRequest(http.MethodPost, hs.srv.URL+path, bytes.NewReader(sent))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/json")
		before := hs.h.n.Load()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err) // includes the client's timeout: a hang
		}
		answer := new(bytes.Buffer)
		_, _ = answer.ReadFrom(resp.Body)
		resp.Body.Close()
		reached := hs.h.n.Load() != before
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("%s mode %d: status %d: %s", path, mode, resp.StatusCode, answer)
		}
		switch mode {
		case fuzzPlain:
			if reached && !strings.Contains(string(body), testToken) {
				t.Errorf("%s: a body without the verification token reached the bot", path)
			}
		case fuzzSealed:
		case fuzzTimestamp:
			if reached && !withinWindow(ts, now) {
				t.Errorf("%s: a body signed at %q reached the bot", path, ts)
			}
		default:
			if reached {
				t.Errorf("%s mode %d: a body without a valid signature reached the bot", path, mode)
			}
		}
	})
}

// fuzzHarness is a harness whose card callbacks answer quickly (the slow
// test action waits for a gate the fuzzer never opens).
func fuzzHarness(f *testing.F, key string) *harness {
	hs := newHarness(f, key)
	hs.a.cardBudget = 20 * time.Millisecond
	// The fuzzing engine reads a worker's output only now and then: a
	// chatty bot would block on it.
	hs.env.Bot.Log = slog.New(slog.DiscardHandler)
	f.Cleanup(func() { close(hs.gate) })
	return hs
}

// withinWindow reports whether the timestamp ts is one the adapter may
// accept; at the edge of the window it may go either way.
func withinWindow(ts string, now time.Time) bool {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	d := now.Sub(time.Unix(n, 0))
	return d <= signWindow+time.Minute && d >= -signWindow-time.Minute
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

// An authentic callback the SDK cannot decode (the button value is a
// string, not an object) is refused as malformed with 400: the SDK's
// dispatcher would answer 500 and Lark would deliver it again for hours.
func TestUndecodableAuthenticCallbackIsMalformed(t *testing.T) {
	var reasons []string
	hs := newHarness(t, "test key")
	hs.a.onReject = func(r string) { reasons = append(reasons, r) }
	body := []byte(`{"schema":"2.0","header":{"event_type":"card.action.trigger","token":"` + testToken + `","event_id":"ev_bad"},"event":{"operator":{"open_id":"` + lina + `"},"action":"tally.inc"}}`)
	status, answer := hs.post("/lark/cards", body)
	if status != http.StatusBadRequest {
		t.Fatalf("status %d (%s), want 400", status, answer)
	}
	if n := hs.h.n.Load(); n != 0 {
		t.Errorf("reached the bot %d times", n)
	}
	if len(reasons) != 1 || reasons[0] != "malformed" {
		t.Errorf("reject hook got %v", reasons)
	}
}
