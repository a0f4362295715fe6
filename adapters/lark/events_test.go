package lark

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/i18n"
)

func TestCryptoVectorsDecrypt(t *testing.T) {
	var v struct {
		Decrypt []struct {
			Name, Encrypt, File, Plaintext string
			EncryptKey                     string `json:"encrypt_key"`
		} `json:"decrypt_vectors"`
		Sign []struct {
			Name       string
			EncryptKey string `json:"encrypt_key"`
			Headers    map[string]string
			RawBody    string `json:"raw_body"`
			BodyFile   string `json:"body_file"`
		} `json:"signature_vectors"`
	}
	if err := json.Unmarshal(readFixture(t, "lark_crypto_vectors.json"), &v); err != nil {
		t.Fatal(err)
	}
	for _, d := range v.Decrypt {
		t.Run(d.Name, func(t *testing.T) {
			enc := d.Encrypt
			if d.File != "" {
				enc = fixtureMap(t, d.File)["encrypt"].(string)
			}
			got, err := larkevent.EventDecrypt(enc, d.EncryptKey)
			if err != nil {
				t.Fatal(err)
			}
			if d.Name == "feishu_doc_hello_world" {
				// Plain text has no braces for the SDK to trim to; strip
				// the PKCS#7 padding as the doc does.
				got = got[:len(got)-int(got[len(got)-1])]
			}
			if string(got) != d.Plaintext {
				t.Errorf("decrypted %q, want %q", got, d.Plaintext)
			}
		})
	}
	if v.Decrypt[0].EncryptKey != "test key" || v.Decrypt[0].Encrypt != "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=" {
		t.Fatalf("the official vector is not the first: %+v", v.Decrypt[0])
	}
	for _, s := range v.Sign {
		body := s.RawBody
		if s.BodyFile != "" {
			body = string(readFixture(t, s.BodyFile))
		}
		got := larkevent.Signature(s.Headers["X-Lark-Request-Timestamp"], s.Headers["X-Lark-Request-Nonce"], s.EncryptKey, body)
		if got != s.Headers["X-Lark-Signature"] {
			t.Errorf("%s: signature %s, want %s", s.Name, got, s.Headers["X-Lark-Signature"])
		}
	}
	// The test's own encryption is the documented algorithm.
	if got, err := larkevent.EventDecrypt(larktest.Encrypt("test key", []byte(`{"a":1}`)), "test key"); err != nil || string(got) != `{"a":1}` {
		t.Errorf("round trip: %q, %v", got, err)
	}
}

func TestURLVerification(t *testing.T) {
	tests := []struct {
		name, key, token, fixture, want string
	}{
		{"plain doc example", "", "xxxxxx", "lark_url_verification_plain.json", `{"challenge":"ajls384kdjx98XX"}`},
		{"encrypted with test key", "test key", "xxxxxx", "lark_url_verification_encrypted_testkey.json", `{"challenge":"ajls384kdjx98XX"}`},
		{"encrypted SDK vector", "1212121212", "v", "lark_url_verification_encrypted.json", `{"challenge":"1212"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, tt.key, func(c *Config) { c.VerificationToken = tt.token })
			status, body := hs.postRaw("/lark/events", readFixture(t, tt.fixture), nil)
			if status != http.StatusOK || strings.TrimSpace(body) != tt.want {
				t.Fatalf("got %d %s, want 200 %s", status, body, tt.want)
			}
		})
	}
	t.Run("wrong token", func(t *testing.T) {
		hs := newHarness(t, "", func(c *Config) { c.VerificationToken = "other" })
		if status, body := hs.postRaw("/lark/events", readFixture(t, "lark_url_verification_plain.json"), nil); status != http.StatusUnauthorized {
			t.Fatalf("got %d %s, want 401", status, body)
		}
	})
	t.Run("encrypted with a bad signature", func(t *testing.T) {
		hs := newHarness(t, "test key", func(c *Config) { c.VerificationToken = "xxxxxx" })
		hdr := http.Header{}
		hdr.Set(larkevent.EventRequestTimestamp, "1")
		hdr.Set(larkevent.EventRequestNonce, "n")
		hdr.Set(larkevent.EventSignature, "00")
		if status, _ := hs.postRaw("/lark/events", readFixture(t, "lark_url_verification_encrypted_testkey.json"), hdr); status != http.StatusUnauthorized {
			t.Fatalf("got %d, want 401", status)
		}
	})
}

// The generated encrypted fixture with its recorded signature is
// accepted; its sender is not in the roster, so the core's polite answer
// goes to the sender directly. The fixture's mention is not the bot's open_id, so the
// bot info lookup is made to fail: then any mention addresses the bot.
func TestEncryptedSignedFixtureMessage(t *testing.T) {
	hs := newHarness(t, "test key")
	hs.fake.SetBotInfo(false)
	hs.a.now = func() time.Time { return time.Unix(1608725989, 0) }
	hdr := http.Header{}
	hdr.Set("X-Lark-Request-Timestamp", "1608725989")
	hdr.Set("X-Lark-Request-Nonce", "n0nce-1234")
	hdr.Set("X-Lark-Signature", "1ec624f68fb06804b752a243f208568ac98bcb875b4e1562782cdf9f22f60518")
	status, _ := hs.postRaw("/lark/events", readFixture(t, "lark_im_message_receive_v1_encrypted.body"), hdr)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	// The message came from a group: the answer, private, goes to the
	// sender directly (Lark shows a reply in a group to everyone there).
	calls := hs.fake.Calls()
	if len(calls) != 1 || calls[0].Path != "/open-apis/im/v1/messages" || calls[0].Query.Get("receive_id_type") != "open_id" ||
		calls[0].Body["receive_id"] != "ou_84aad35d084aa403a838cf73ee18467" {
		t.Fatalf("calls %+v", calls)
	}
	if got := contentOf(t, calls[0])["text"].(string); !strings.Contains(got, "名册") {
		t.Errorf("reply %q is not the not-in-roster answer", got)
	}

	t.Run("outside the timestamp window", func(t *testing.T) {
		hs.a.now = func() time.Time { return time.Unix(1608725989, 0).Add(13 * time.Hour) }
		if status, _ := hs.postRaw("/lark/events", readFixture(t, "lark_im_message_receive_v1_encrypted.body"), hdr); status != http.StatusUnauthorized {
			t.Fatalf("got %d, want 401", status)
		}
	})
}

func TestGroupMentionRepliesInChat(t *testing.T) {
	for _, key := range []string{"", "test key"} {
		t.Run("key="+key, func(t *testing.T) {
			hs := newHarness(t, key)
			ev := msgEvent(t, "ev_group_1", "group", coordChat, wangming, "text", "@_user_1  /tally",
				larktest.BotMention("@_user_1"))
			if status, body := hs.post("/lark/events", ev); status != http.StatusOK || !strings.Contains(body, "success") {
				t.Fatalf("got %d %s", status, body)
			}
			calls := hs.fake.Calls()
			if len(calls) != 1 {
				t.Fatalf("want one reply, got %+v", calls)
			}
			c := calls[0]
			if c.Path != "/open-apis/im/v1/messages/om_ev_group_1/reply" || c.Body["msg_type"] != "interactive" || c.UUID() == "" {
				t.Fatalf("reply %+v", c)
			}
			card := contentOf(t, c)
			if card["schema"] != "2.0" || !contains(string(mustJSON(card)), `**count**: 1`, `<at id=ou_demo_wangming></at>`, `"tally.inc"`) {
				t.Errorf("card %s", mustJSON(card))
			}
			if hs.tally() != 1 {
				t.Errorf("tally ran %d times", hs.tally())
			}
		})
	}
}

// mustJSON marshals v without escaping <, > and &, for readable checks.
func mustJSON(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(v)
	return bytes.TrimSpace(b.Bytes())
}

func TestDirectMessage(t *testing.T) {
	hs := newHarness(t, "")
	hs.post("/lark/events", msgEvent(t, "ev_dm_1", "p2p", "oc_dm_lina", lina, "text", "计数"))
	calls := hs.fake.Calls()
	if len(calls) != 1 || calls[0].Path != "/open-apis/im/v1/messages/om_ev_dm_1/reply" {
		t.Fatalf("calls %+v", calls)
	}

	t.Run("picture gets the short help", func(t *testing.T) {
		hs.post("/lark/events", msgEvent(t, "ev_dm_2", "p2p", "oc_dm_lina", lina, "image", ""))
		calls := hs.fake.Calls()
		if len(calls) != 2 || contentOf(t, calls[1])["text"] != texts().T(i18n.ZH, "lark.unsupported_message") {
			t.Fatalf("calls %+v", calls)
		}
	})
	t.Run("picture in a group is ignored", func(t *testing.T) {
		hs.post("/lark/events", msgEvent(t, "ev_grp_img", "group", coordChat, lina, "image", "", larktest.BotMention("@_user_1")))
		if n := len(hs.fake.Calls()); n != 2 {
			t.Fatalf("%d calls", n)
		}
	})
}

func TestIgnoredMessages(t *testing.T) {
	hs := newHarness(t, "")
	app := msgEvent(t, "ev_app", "p2p", "oc_x", "ou_other_app", "text", "tally")
	app = bytes.Replace(app, []byte(`"sender_type":"user"`), []byte(`"sender_type":"app"`), 1)
	for name, ev := range map[string][]byte{
		"the bot itself":            msgEvent(t, "ev_self", "group", coordChat, testBotID, "text", "@_user_1 tally", larktest.BotMention("@_user_1")),
		"another app":               app,
		"group without the bot":     msgEvent(t, "ev_nobot", "group", coordChat, wangming, "text", "@_user_1 tally", larktest.Mention{Key: "@_user_1", OpenID: lina, Name: "李娜"}),
		"group with no mention":     msgEvent(t, "ev_nomention", "group", coordChat, wangming, "text", "tally"),
		"unknown event type":        bytes.Replace(msgEvent(t, "ev_other", "p2p", "oc_x", wangming, "text", "tally"), []byte("im.message.receive_v1"), []byte("im.chat.updated_v1"), 1),
		"malformed message content": bytes.Replace(msgEvent(t, "ev_bad", "p2p", "oc_x", wangming, "text", "tally"), []byte(`{\"text\":\"tally\"}`), []byte(`not json`), 1),
	} {
		t.Run(name, func(t *testing.T) {
			if status, body := hs.post("/lark/events", ev); status != http.StatusOK {
				t.Fatalf("got %d %s", status, body)
			}
		})
	}
	if calls := hs.fake.Calls(); len(calls) != 0 {
		t.Fatalf("sent %+v", calls)
	}
	if n := hs.h.n.Load(); n != 0 {
		t.Fatalf("core called %d times", n)
	}
}

func TestCommandText(t *testing.T) {
	ms := func(xs ...larktest.Mention) []*larkimMention { return toMentions(xs) }
	tests := []struct {
		text, bot, want string
		ms              []*larkimMention
	}{
		{"@_user_1 clue list", testBotID, "clue list", ms(larktest.BotMention("@_user_1"))},
		{"@_user_1 /clue assign XS-1 @_user_2", testBotID, "/clue assign XS-1 @{lark:" + lina + "|李娜}", ms(larktest.BotMention("@_user_1"), larktest.Mention{Key: "@_user_2", OpenID: lina, Name: "李娜"})},
		{"进度 @_user_10 @_user_1", testBotID, "进度 @{lark:ou_10|Ten}", ms(larktest.BotMention("@_user_1"), larktest.Mention{Key: "@_user_10", OpenID: "ou_10", Name: "Ten"})},
		{"@_user_1 help", "", "help", ms(larktest.Mention{Key: "@_user_1", OpenID: "ou_x", Name: "巡纪"})},
		// A mention as an option's value stays glued to the option.
		{"@_user_1 会签 新建 单位:@_user_2 x", testBotID, "会签 新建 单位:@{lark:ou_2|周涛} x", ms(larktest.BotMention("@_user_1"), larktest.Mention{Key: "@_user_2", OpenID: "ou_2", Name: "周 涛"})},
	}
	for _, tt := range tests {
		if got := commandText(tt.text, tt.ms, tt.bot); got != tt.want {
			t.Errorf("commandText(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestCardClickUpdatesCard(t *testing.T) {
	for _, key := range []string{"", "test key"} {
		t.Run("key="+key, func(t *testing.T) {
			hs := newHarness(t, key)
			status, body := hs.post("/lark/cards", cardEvent(t, "ev_card_1", lina, "tally.inc", tallyValue))
			if status != http.StatusOK {
				t.Fatalf("status %d %s", status, body)
			}
			var resp struct {
				Toast struct{ Type, Content string }
				Card  struct {
					Type string
					Data map[string]any
				}
			}
			if err := json.Unmarshal([]byte(body), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.Toast.Content != "count 1" || resp.Card.Type != "raw" || resp.Card.Data["schema"] != "2.0" {
				t.Fatalf("answer %s", body)
			}
			if !strings.Contains(string(mustJSON(resp.Card.Data)), `"content":"**count**: 1"`) {
				t.Errorf("card %s", mustJSON(resp.Card.Data))
			}
			if calls := hs.fake.Calls(); len(calls) != 0 {
				t.Errorf("a click answered in time should send nothing, sent %+v", calls)
			}
			if hs.tally() != 1 {
				t.Error("state not changed once")
			}
		})
	}
}

func TestCardClickSlowerThanBudget(t *testing.T) {
	hs := newHarness(t, "")
	hs.a.cardBudget = 20 * time.Millisecond
	// The action waits for the gate, so the answer is the pending toast.
	status, body := hs.postNoWait("/lark/cards", cardEvent(t, "ev_slow", lina, "tally.slow", tallyValue), nil)
	if status != http.StatusOK || !strings.Contains(body, texts().T(i18n.ZH, "lark.card_pending")) || strings.Contains(body, `"card"`) {
		t.Fatalf("answer %d %s", status, body)
	}
	if calls := hs.fake.Calls(); len(calls) != 0 {
		t.Fatalf("sent before the action finished: %+v", calls)
	}
	close(hs.gate)
	hs.a.wait()
	calls := hs.fake.Calls()
	if len(calls) != 1 || calls[0].Method != http.MethodPatch || calls[0].Path != "/open-apis/im/v1/messages/"+cardMsgID {
		t.Fatalf("calls %+v", calls)
	}
	if !strings.Contains(string(mustJSON(contentOf(t, calls[0]))), `**count**: 1`) {
		t.Errorf("patched card %v", contentOf(t, calls[0]))
	}
}

func TestRefusedRequests(t *testing.T) {
	ev := func(t *testing.T) []byte {
		return msgEvent(t, "ev_refused", "p2p", "oc_dm", wangming, "text", "tally")
	}
	tests := []struct {
		name  string
		key   string
		build func(t *testing.T, hs *harness) ([]byte, http.Header)
	}{
		{"wrong token", "", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			return bytes.Replace(ev(t), []byte(testToken), []byte("forged"), 1), nil
		}},
		{"wrong token in a card callback", "", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			return bytes.Replace(cardEvent(t, "ev_refused", lina, "tally.inc", tallyValue), []byte(testToken), []byte("forged"), 1), nil
		}},
		{"encrypted body without a key configured", "", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			return larktest.Seal("test key", ev(t), time.Now())
		}},
		{"wrong token inside an encrypted body", "test key", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			return larktest.Seal("test key", bytes.Replace(ev(t), []byte(testToken), []byte("forged"), 1), time.Now())
		}},
		{"bad signature", "test key", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			b, h := larktest.Seal("test key", ev(t), time.Now())
			h.Set(larkevent.EventSignature, strings.Repeat("0", 64))
			return b, h
		}},
		{"no signature", "test key", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			b, _ := larktest.Seal("test key", ev(t), time.Now())
			return b, nil
		}},
		{"body changed after signing", "test key", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			_, h := larktest.Seal("test key", ev(t), time.Now())
			other, _ := larktest.Seal("test key", ev(t), time.Now())
			return other, h
		}},
		{"encrypted with another key", "test key", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			b, _ := larktest.Seal("other key", ev(t), time.Now())
			ts, nonce := "1", "n"
			h := http.Header{}
			h.Set(larkevent.EventRequestTimestamp, ts)
			h.Set(larkevent.EventRequestNonce, nonce)
			h.Set(larkevent.EventSignature, larkevent.Signature(ts, nonce, "test key", string(b)))
			return b, h
		}},
		{"undecryptable body", "test key", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			b := []byte(`{"encrypt":"bm90IGEgY2lwaGVydGV4dCBhdCBhbGwh"}`)
			ts := "1"
			h := http.Header{}
			h.Set(larkevent.EventRequestTimestamp, ts)
			h.Set(larkevent.EventRequestNonce, "n")
			h.Set(larkevent.EventSignature, larkevent.Signature(ts, "n", "test key", string(b)))
			return b, h
		}},
		{"plain body when a key is configured", "test key", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			return ev(t), nil
		}},
		{"not JSON", "", func(t *testing.T, hs *harness) ([]byte, http.Header) {
			return []byte("hello"), nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, tt.key)
			body, hdr := tt.build(t, hs)
			for _, path := range []string{"/lark/events", "/lark/cards"} {
				if status, resp := hs.postRaw(path, body, hdr); status != http.StatusUnauthorized {
					t.Fatalf("%s: got %d %s, want 401", path, status, resp)
				}
			}
			if n := hs.h.n.Load(); n != 0 {
				t.Fatalf("core called %d times", n)
			}
			if calls := hs.fake.Calls(); len(calls) != 0 {
				t.Fatalf("sent %+v", calls)
			}
		})
	}
}

func TestRedeliveredEventHasOneEffect(t *testing.T) {
	hs := newHarness(t, "test key")
	ev := msgEvent(t, "ev_thrice", "p2p", "oc_dm", wangming, "text", "tally")
	for range 3 {
		if status, _ := hs.post("/lark/events", ev); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	}
	card := cardEvent(t, "ev_card_thrice", lina, "tally.inc", tallyValue)
	var answers []string
	for range 3 {
		_, body := hs.post("/lark/cards", card)
		answers = append(answers, body)
	}
	if n := hs.h.n.Load(); n != 6 {
		t.Fatalf("core saw %d requests, want 6", n)
	}
	if calls := hs.fake.Calls(); len(calls) != 1 {
		t.Fatalf("want one reply, got %+v", calls)
	}
	if hs.tally() != 2 {
		t.Fatalf("tally %d, want 2 (one command, one click)", hs.tally())
	}
	if !strings.Contains(answers[0], "count 2") || strings.TrimSpace(answers[1]) != "{}" || strings.TrimSpace(answers[2]) != "{}" {
		t.Fatalf("answers %q", answers)
	}
}

func TestBodyOverOneMiBRefused(t *testing.T) {
	hs := newHarness(t, "")
	big := msgEvent(t, "ev_big", "p2p", "oc_dm", wangming, "text", strings.Repeat("x", maxBody))
	if status, _ := hs.postRaw("/lark/events", big, nil); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d, want 413", status)
	}
	// Without a Content-Length the reader stops at the limit.
	req, _ := http.NewRequest(http.MethodPost, hs.srv.URL+"/lark/events", struct{ *bytes.Reader }{bytes.NewReader(big)})
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: got %d, want 413", resp.StatusCode)
	}
	if hs.h.n.Load() != 0 {
		t.Fatal("core called")
	}
}

// A message acknowledged while the adapter shuts down stays in the core's
// inbox, and recovery (here, or in another replica) answers it.
func TestMessageDuringShutdownIsRecovered(t *testing.T) {
	hs := newHarness(t, "")
	hs.a.drain()
	if status, _ := hs.post("/lark/events", msgEvent(t, "ev_late", "group", coordChat, wangming, "text", "@_user_1 tally", larktest.BotMention("@_user_1"))); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if calls := hs.fake.Calls(); len(calls) != 0 {
		t.Fatalf("sent %+v", calls)
	}
	n, err := hs.env.Bot.Inbox.Recover(context.Background(), 0)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, %v", n, err)
	}
	calls := hs.fake.Calls()
	if len(calls) != 1 || calls[0].Path != "/open-apis/im/v1/messages" || calls[0].Body["receive_id"] != coordChat {
		t.Fatalf("calls %+v", calls)
	}
}

// When the store is down the event is not acknowledged, so Lark
// re-delivers it; the re-delivery is handled once.
func TestStoreOutageAsksForRedelivery(t *testing.T) {
	hs := newHarness(t, "")
	mem := hs.env.Store.(*bottest.Mem)
	ev := msgEvent(t, "ev_outage", "p2p", "oc_dm", wangming, "text", "tally")
	mem.Fail = errors.New("store down")
	if status, body := hs.post("/lark/events", ev); status != http.StatusInternalServerError || strings.Contains(body, "store down") {
		t.Fatalf("status %d, body %q: want 500 without the error's text", status, body)
	}
	mem.Fail = nil
	hs.post("/lark/events", ev)
	hs.post("/lark/events", ev)
	if calls := hs.fake.Calls(); len(calls) != 1 {
		t.Fatalf("calls %+v", calls)
	}
}

// deadlineHandler records the deadline of the context Accept gets and
// fails, as a store that does not answer would.
type deadlineHandler struct {
	*countingHandler
	called   time.Time
	deadline time.Time
	has      bool
}

func (d *deadlineHandler) Accept(ctx context.Context, _ *bot.Request) (string, bool, error) {
	d.called = time.Now()
	d.deadline, d.has = ctx.Deadline()
	return "", false, context.DeadlineExceeded
}

// Storing a message event is bounded well within Lark's 3 seconds, so a
// store that does not answer gets Lark a 500 (and a redelivery) in time.
func TestAcceptIsBoundedWithinLarksDeadline(t *testing.T) {
	hs := newHarness(t, "")
	d := &deadlineHandler{countingHandler: hs.h}
	mux := http.NewServeMux()
	hs.a.Mount(mux, d)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	hs.srv = srv
	status, _ := hs.post("/lark/events", msgEvent(t, "ev_stall", "p2p", "oc_dm", wangming, "text", "tally"))
	if status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", status)
	}
	if !d.has || d.deadline.Sub(d.called) > acceptTimeout || acceptTimeout >= 3*time.Second {
		t.Fatalf("Accept's context: deadline %v (set %v) %v after the call; want at most %v, under Lark's 3 s", d.deadline, d.has, d.deadline.Sub(d.called), acceptTimeout)
	}
}

// A click stored while the adapter shuts down is not lost: recovery
// handles it once and patches the card.
func TestCardClickDuringShutdownIsRecovered(t *testing.T) {
	hs := newHarness(t, "")
	hs.a.drain()
	if status, _ := hs.postNoWait("/lark/cards", cardEvent(t, "ev_card_late", lina, "tally.inc", tallyValue), nil); status == http.StatusOK {
		t.Fatalf("a click the adapter could not start was answered 200")
	}
	if calls := hs.fake.Calls(); len(calls) != 0 {
		t.Fatalf("handled while shutting down: %+v", calls)
	}
	n, err := hs.env.Bot.Inbox.Recover(context.Background(), 0)
	if err != nil || n != 1 {
		t.Fatalf("recovered %d, %v", n, err)
	}
	calls := hs.fake.Calls()
	if len(calls) != 1 || calls[0].Method != http.MethodPatch || calls[0].Path != "/open-apis/im/v1/messages/"+cardMsgID {
		t.Fatalf("calls %+v", calls)
	}
	// Lark's retry of the same click changes nothing.
	hs.postNoWait("/lark/cards", cardEvent(t, "ev_card_late", lina, "tally.inc", tallyValue), nil)
	if n, _ := hs.env.Bot.Inbox.Recover(context.Background(), 0); n != 0 || len(hs.fake.Calls()) != 1 {
		t.Fatalf("the retry was handled again: recovered %d, calls %+v", n, hs.fake.Calls())
	}
	if got := hs.tally(); got != 1 {
		t.Errorf("tally %d, want the click counted once", got)
	}
}

// A slow click is stored until its card is patched: recovery finds
// nothing left afterwards.
func TestSlowCardClickLeavesNothingInTheInbox(t *testing.T) {
	hs := newHarness(t, "")
	hs.a.cardBudget = 20 * time.Millisecond
	hs.postNoWait("/lark/cards", cardEvent(t, "ev_slow2", lina, "tally.slow", tallyValue), nil)
	if docs, _ := hs.env.Store.List(context.Background(), bot.CollInbox); len(docs) != 1 {
		t.Fatalf("%d inbox entries while the click is handled, want 1", len(docs))
	}
	close(hs.gate)
	hs.a.wait()
	if docs, _ := hs.env.Store.List(context.Background(), bot.CollInbox); len(docs) != 0 {
		t.Fatalf("%d inbox entries after the card was patched", len(docs))
	}
}
