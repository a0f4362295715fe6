package lark

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/outbox"
)

func TestSend(t *testing.T) {
	hs := newHarness(t, "")
	ctx := context.Background()
	card := &bot.Card{Title: "线索 XS-2026-0001", Color: bot.Orange, Text: "待签收", Buttons: []bot.Button{{Label: "签收", Action: "clue.ack", Value: "XS-2026-0001", Style: "primary"}}}

	ref, err := hs.a.Send(ctx, bot.Outgoing{Platform: Name, ChatID: coordChat, Card: card, Key: "clue.announce:XS-2026-0001:lark:" + coordChat})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Platform != Name || ref.ChatID != coordChat || ref.ID == "" {
		t.Fatalf("ref %+v", ref)
	}
	ref2, err := hs.a.Send(ctx, bot.Outgoing{Platform: Name, UserID: lina, Text: "你好 " + hs.a.Mention(lina, "李娜")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hs.a.Send(ctx, bot.Outgoing{Platform: Name, ChatID: coordChat, Card: &bot.Card{Title: "已签收", Color: bot.Green}, Update: &ref}); err != nil {
		t.Fatal(err)
	}
	if _, err := hs.a.Send(ctx, bot.Outgoing{Platform: Name, Text: "edited", Update: &ref2}); err != nil {
		t.Fatal(err)
	}

	calls := hs.fake.Calls()
	if len(calls) != 4 {
		t.Fatalf("calls %+v", calls)
	}
	c := calls[0]
	if c.Method != http.MethodPost || c.Path != "/open-apis/im/v1/messages" || c.Query.Get("receive_id_type") != "chat_id" ||
		c.Body["receive_id"] != coordChat || c.Body["msg_type"] != "interactive" {
		t.Errorf("card send %+v", c)
	}
	if u := c.UUID(); len(u) > 50 || u == "" || u == "clue.announce:XS-2026-0001:lark:"+coordChat {
		t.Errorf("uuid %q: a key over 50 characters must be hashed", u)
	}
	content := contentOf(t, c)
	if content["header"].(map[string]any)["template"] != "orange" || !strings.Contains(string(mustJSON(content)), `{"action":"clue.ack","value":"XS-2026-0001"}`) {
		t.Errorf("card %s", mustJSON(content))
	}
	c = calls[1]
	if c.Query.Get("receive_id_type") != "open_id" || c.Body["receive_id"] != lina || c.Body["msg_type"] != "text" ||
		contentOf(t, c)["text"] != `你好 <at user_id="ou_demo_lina">李娜</at>` || len(c.UUID()) != 32 {
		t.Errorf("text send %+v", c)
	}
	c = calls[2]
	if c.Method != http.MethodPatch || c.Path != "/open-apis/im/v1/messages/"+ref.ID || contentOf(t, c)["header"].(map[string]any)["template"] != "green" {
		t.Errorf("card update %+v", c)
	}
	c = calls[3]
	if c.Method != http.MethodPut || c.Path != "/open-apis/im/v1/messages/"+ref2.ID || contentOf(t, c)["text"] != "edited" {
		t.Errorf("text edit %+v", c)
	}
	for _, c := range calls {
		if c.Auth != "Bearer t-test" {
			t.Errorf("%s %s without the tenant token", c.Method, c.Path)
		}
	}
	if hs.fake.TokenFetches() != 1 {
		t.Errorf("tenant token fetched %d times; the SDK should cache it", hs.fake.TokenFetches())
	}
}

func TestSendRetries(t *testing.T) {
	ctx := context.Background()
	out := bot.Outgoing{Platform: Name, ChatID: coordChat, Text: "hello"}
	tests := []struct {
		name      string
		fail      []larktest.Failure
		wantErr   bool
		wantCalls int
	}{
		{"gateway rate limit", []larktest.Failure{{Status: 429, Code: 99991400}, {Status: 429, Code: 99991400}}, false, 3},
		{"chat rate limit", []larktest.Failure{{Status: 400, Code: 230020}}, false, 2},
		{"tenant rate limit", []larktest.Failure{{Status: 400, Code: 11232}}, false, 2},
		{"server error", []larktest.Failure{{Status: 503, Code: 0}}, false, 2},
		{"answer lost after the send", []larktest.Failure{{Status: 502, Code: 0, Deliver: true}}, false, 2},
		{"persistent failure gives up", []larktest.Failure{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}}, true, 5},
		{"permanent error is not retried", []larktest.Failure{{Status: 400, Code: 230002}}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, "")
			hs.fake.FailNext(tt.fail...)
			_, err := hs.a.Send(ctx, out)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			calls := hs.fake.Calls()
			if len(calls) != tt.wantCalls {
				t.Fatalf("%d calls, want %d", len(calls), tt.wantCalls)
			}
			for _, c := range calls {
				if c.UUID() != calls[0].UUID() {
					t.Fatalf("retry changed the uuid: %q, %q", calls[0].UUID(), c.UUID())
				}
			}
			if shown := len(hs.fake.Shown()); !tt.wantErr && shown != 1 {
				t.Fatalf("message shown %d times", shown)
			}
			var ae *APIError
			if tt.wantErr && !errors.As(err, &ae) {
				t.Fatalf("error %T %v is not an *APIError", err, err)
			}
			if ae != nil && ae.Permanent() != (ae.Code == 230002) {
				t.Errorf("%v: Permanent() = %v", ae, ae.Permanent())
			}
		})
	}
	t.Run("rate limit error says when to retry", func(t *testing.T) {
		e := &APIError{Op: "send message", Status: 429, Code: 99991400, After: 3 * time.Second}
		if e.RetryAfter() != 3*time.Second || e.Permanent() {
			t.Errorf("%v: RetryAfter %v, Permanent %v", e, e.RetryAfter(), e.Permanent())
		}
		if e := (&APIError{Status: 400, Code: 99991663}); e.Permanent() || e.RetryAfter() != 0 {
			t.Errorf("a token error must not dead-letter a message")
		}
	})
	t.Run("cancelled context stops retrying", func(t *testing.T) {
		hs := newHarness(t, "")
		hs.fake.FailNext(larktest.Failure{Status: 500}, larktest.Failure{Status: 500})
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := hs.a.Send(ctx, out); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestNotifyRendersMentions(t *testing.T) {
	hs := newHarness(t, "")
	p := hs.env.Person("lina")
	refs, err := hs.env.Bot.Out.Notify(context.Background(), bot.Notice{Group: "coordination", Text: "请 " + bot.MentionTag(p) + " 签收", Key: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	var lark bot.MessageRef
	for _, r := range refs {
		if r.Platform == Name {
			lark = r
		}
	}
	if lark.ChatID != coordChat {
		t.Fatalf("refs %+v", refs)
	}
	c := hs.fake.Calls()[0]
	if contentOf(t, c)["text"] != `请 <at user_id="ou_demo_lina">李娜</at> 签收` || c.UUID() != "n1:lark:"+coordChat {
		t.Fatalf("call %+v", c)
	}
}

func TestRenderCard(t *testing.T) {
	c := &bot.Card{
		Title: "T", Color: bot.Red, Text: "by <at user_id=\"ou_a\">A</at>",
		Fields:  []bot.Field{{Label: "状态", Value: "待签收"}, {Label: "承办", Value: "<at user_id=\"ou_b\">B</at>"}},
		Buttons: []bot.Button{{Label: "签收", Action: "clue.ack", Value: "XS-1", Style: "primary"}, {Label: "退回", Action: "clue.return", Value: "XS-1", Style: "danger"}, {Label: "详情", Action: "clue.show", Value: "XS-1"}},
		Note:    "王明 · 12-01 09:00",
	}
	var got map[string]any
	if err := json.Unmarshal(renderCard(c, ""), &got); err != nil {
		t.Fatal(err)
	}
	want := `{"body":{"elements":[` +
		`{"content":"by <at id=ou_a></at>","tag":"markdown"},` +
		`{"content":"**状态**: 待签收\n**承办**: <at id=ou_b></at>","tag":"markdown"},` +
		`{"columns":[` +
		`{"elements":[{"behaviors":[{"type":"callback","value":{"action":"clue.ack","value":"XS-1"}}],"tag":"button","text":{"content":"签收","tag":"plain_text"},"type":"primary"}],"tag":"column","width":"auto"},` +
		`{"elements":[{"behaviors":[{"type":"callback","value":{"action":"clue.return","value":"XS-1"}}],"tag":"button","text":{"content":"退回","tag":"plain_text"},"type":"danger"}],"tag":"column","width":"auto"},` +
		`{"elements":[{"behaviors":[{"type":"callback","value":{"action":"clue.show","value":"XS-1"}}],"tag":"button","text":{"content":"详情","tag":"plain_text"},"type":"default"}],"tag":"column","width":"auto"}` +
		`],"flex_mode":"flow","horizontal_spacing":"8px","tag":"column_set"},` +
		`{"tag":"hr"},{"content":"王明 · 12-01 09:00","tag":"markdown","text_color":"grey","text_size":"notation"}]},` +
		`"config":{"update_multi":true},"header":{"template":"red","title":{"content":"T","tag":"plain_text"}},"schema":"2.0"}`
	if s := string(mustJSON(got)); s != want {
		t.Errorf("card\n got %s\nwant %s", s, want)
	}
	for color, tpl := range map[bot.Color]string{bot.Blue: "blue", bot.Green: "green", bot.Orange: "orange", bot.Red: "red", bot.Grey: "grey", "": "blue"} {
		if err := json.Unmarshal(renderCard(&bot.Card{Title: "x", Color: color}, ""), &got); err != nil {
			t.Fatal(err)
		}
		if got["header"].(map[string]any)["template"] != tpl {
			t.Errorf("colour %q: template %v", color, got["header"])
		}
	}
}

func TestUUIDFor(t *testing.T) {
	if got := uuidFor("ev1", "reply", "0"); got != "ev1:reply:0" {
		t.Errorf("short key %q", got)
	}
	long := uuidFor(strings.Repeat("k", 60))
	if len(long) != 40 || long != uuidFor(strings.Repeat("k", 60)) {
		t.Errorf("long key %q", long)
	}
	if a, b := uuidFor(""), uuidFor(""); a == b || len(a) != 32 {
		t.Errorf("random uuids %q %q", a, b)
	}
}

func TestConfig(t *testing.T) {
	vars := map[string]string{}
	getenv := func(k string) string { return vars[k] }
	if _, ok := ConfigFrom(getenv); ok {
		t.Fatal("configured without LARK_APP_ID")
	}
	vars = map[string]string{
		"LARK_APP_ID": "cli_1", "LARK_APP_SECRET": "s3cret-value", "LARK_VERIFICATION_TOKEN": "tok-value",
		"LARK_ENCRYPT_KEY": "enc-value", "LARK_MODE": "WS", "LARK_BASE_URL": "https://open.larksuite.com/", "LARK_BOT_OPEN_ID": "ou_bot",
	}
	c, ok := ConfigFrom(getenv)
	if !ok || c.AppID != "cli_1" || c.Mode != ModeWS || c.BotOpenID != "ou_bot" || c.baseURL() != "https://open.larksuite.com" {
		t.Fatalf("config %+v", c)
	}
	s := fmt.Sprint(c) + fmt.Sprintf("%v %+v", c, c)
	for _, secret := range []string{"s3cret-value", "tok-value", "enc-value"} {
		if strings.Contains(s, secret) {
			t.Errorf("printed config shows a secret: %s", s)
		}
	}
	if _, err := New(c); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]Config{
		"no secret":          {AppID: "a"},
		"http without token": {AppID: "a", AppSecret: "b"},
		"unknown mode":       {AppID: "a", AppSecret: "b", VerificationToken: "c", Mode: "smoke"},
	} {
		if _, err := New(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Attachments are uploaded (images and files separately) and posted as
// image and file messages to the chat.
func TestSendUploadsAttachments(t *testing.T) {
	hs := newHarness(t, "")
	ctx := context.Background()
	png := []byte("\x89PNG\r\n\x1a\nfake")
	xlsx := []byte("PK\x03\x04fake")
	_, err := hs.a.Send(ctx, bot.Outgoing{Platform: Name, ChatID: coordChat, Text: "月度通报", Key: "notice-2026-12",
		Files: []bot.File{{Name: "完成率.png", MIME: "image/png", Data: png}, {Name: "整改进度-2026-12.xlsx", MIME: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Data: xlsx}}})
	if err != nil {
		t.Fatal(err)
	}
	ups := hs.fake.Uploads()
	if len(ups) != 2 || ups[0].Kind != "image" || string(ups[0].Data) != string(png) ||
		ups[1].Kind != "file" || ups[1].Name != "整改进度-2026-12.xlsx" || ups[1].Type != "xls" || string(ups[1].Data) != string(xlsx) {
		t.Fatalf("uploads: %+v", ups)
	}
	var types []string
	for _, c := range hs.fake.Calls() {
		if c.IsCreate() {
			types = append(types, c.MsgType())
		}
	}
	if strings.Join(types, ",") != "text,image,file" {
		t.Errorf("messages posted: %v, want text, image, file", types)
	}
	if _, err := hs.a.Send(ctx, bot.Outgoing{Platform: Name, UserID: lina, Files: []bot.File{{Name: "专报.md", MIME: "text/markdown", Data: []byte("# 专报")}}}); err != nil {
		t.Fatalf("attachment-only send: %v", err)
	}
	if ups := hs.fake.Uploads(); len(ups) != 3 || ups[2].Type != "stream" {
		t.Errorf("markdown upload: %+v", ups)
	}
}

// An answer Lark refuses (it is down) is not lost: it goes to the
// durable outbox, and out, with the answer's uuid, when Lark is back.
func TestAnswerLarkRefusedGoesThroughTheOutbox(t *testing.T) {
	hs := newHarness(t, "")
	x := outbox.New(hs.env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}})
	hs.env.Bot.Out.SetSender(x)
	var fails []larktest.Failure
	for range 10 { // the reply's five attempts, then the outbox's first try
		fails = append(fails, larktest.Failure{Status: http.StatusServiceUnavailable})
	}
	hs.fake.FailNext(fails...)
	if status, _ := hs.post("/lark/events", msgEvent(t, "ev_down", "p2p", "oc_dm", wangming, "text", "tally")); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if shown := hs.fake.Shown(); len(shown) != 0 {
		t.Fatalf("shown while Lark refused: %+v", shown)
	}
	if depth, _, err := x.Stats(context.Background()); err != nil || depth != 1 {
		t.Fatalf("outbox depth %d (%v), want the answer waiting", depth, err)
	}
	hs.env.Clock.Advance(time.Minute)
	if n, err := x.Flush(context.Background()); err != nil || n != 1 {
		t.Fatalf("flush: %d, %v", n, err)
	}
	shown := hs.fake.Shown()
	// To the person, where the outbox keeps the order of everything sent
	// to them: the direct chat.
	if len(shown) != 1 || !shown[0].IsCreate() || shown[0].Body["receive_id"] != wangming || shown[0].Body["uuid"] != "ev_down:reply:0" {
		t.Fatalf("shown %+v", shown)
	}
}

// A late card patch Lark refuses waits in the outbox, not lost.
func TestLateCardPatchLarkRefusedGoesThroughTheOutbox(t *testing.T) {
	hs := newHarness(t, "")
	hs.a.cardBudget = 20 * time.Millisecond
	x := outbox.New(hs.env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}})
	hs.env.Bot.Out.SetSender(x)
	hs.postNoWait("/lark/cards", cardEvent(t, "ev_slow_down", lina, "tally.slow", tallyValue), nil)
	var fails []larktest.Failure
	for range 10 { // the patch's five attempts, then the outbox's first try
		fails = append(fails, larktest.Failure{Status: http.StatusServiceUnavailable})
	}
	hs.fake.FailNext(fails...)
	close(hs.gate)
	hs.a.wait()
	if shown := hs.fake.Shown(); len(shown) != 0 {
		t.Fatalf("shown while Lark refused: %+v", shown)
	}
	hs.env.Clock.Advance(time.Minute)
	if n, err := x.Flush(context.Background()); err != nil || n != 1 {
		t.Fatalf("flush: %d, %v", n, err)
	}
	shown := hs.fake.Shown()
	if len(shown) != 1 || shown[0].Method != http.MethodPatch || shown[0].Path != "/open-apis/im/v1/messages/"+cardMsgID {
		t.Fatalf("shown %+v", shown)
	}
}

// A notice carries no key of its own: the outbox derives one from its
// entry, so every attempt to send it — the adapter's retries and the
// outbox's redelivery — carries the same uuid, and Lark shows it once
// even when an attempt's answer was lost after the message was sent.
func TestOutboxRedeliveryKeepsTheUUID(t *testing.T) {
	hs := newHarness(t, "")
	x := outbox.New(hs.env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}})
	hs.env.Bot.Out.SetSender(x)
	var fails []larktest.Failure
	for range 5 { // every attempt of the first try: sent, but the answer lost
		fails = append(fails, larktest.Failure{Status: http.StatusBadGateway, Deliver: true})
	}
	hs.fake.FailNext(fails...)
	ctx := context.Background()
	if _, err := hs.env.Bot.Out.Send(ctx, bot.Outgoing{Platform: Name, ChatID: coordChat, Text: "通知"}); !errors.Is(err, bot.ErrQueued) {
		t.Fatalf("send: %v, want it queued", err)
	}
	hs.env.Clock.Advance(time.Minute)
	if n, err := x.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("flush: %d, %v", n, err)
	}
	calls := hs.fake.Calls()
	if len(calls) != 6 {
		t.Fatalf("%d calls, want five refused and one redelivery", len(calls))
	}
	for _, c := range calls {
		if c.UUID() == "" || c.UUID() != calls[0].UUID() {
			t.Fatalf("uuids differ between attempts: %q, %q", calls[0].UUID(), c.UUID())
		}
	}
	if shown := hs.fake.Messages(coordChat); len(shown) != 1 {
		t.Errorf("shown %d times, want once", len(shown))
	}
}
