package slack

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// blocksOf decodes the blocks a call carried.
func blocksOf(t *testing.T, c slacktest.Call) []map[string]any {
	t.Helper()
	raw := c.Field("blocks")
	if raw == "" {
		return nil
	}
	var blocks []map[string]any
	if err := json.Unmarshal([]byte(raw), &blocks); err != nil {
		t.Fatalf("blocks %q: %v", raw, err)
	}
	return blocks
}

// allText flattens every text in the blocks, for assertions.
func allText(v any) string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				out = append(out, s)
			}
			for k, y := range x {
				if k != "text" {
					walk(y)
				} else if _, ok := y.(string); !ok {
					walk(y)
				}
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		case []map[string]any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	return strings.Join(out, "\n")
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantStatus(t *testing.T, resp *http.Response, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d", resp.StatusCode, want)
	}
}

func TestURLVerificationEchoesTheChallenge(t *testing.T) {
	hs := newHarness(t)
	resp := hs.postEvent(fixture(t, "events_url_verification.json"), nil)
	wantStatus(t, resp, http.StatusOK)
	if got, want := readAll(t, resp), "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"; got != want {
		t.Errorf("body %q, want the challenge %q", got, want)
	}
	if n := hs.h.n.Load(); n != 0 {
		t.Errorf("url_verification reached the bot %d times", n)
	}
}

func TestFixtureSigningVectorsFollowTheV0Scheme(t *testing.T) {
	var vectors struct {
		Vectors []struct {
			Name          string            `json:"name"`
			SigningSecret string            `json:"signing_secret"`
			Headers       map[string]string `json:"headers"`
			BodyFile      string            `json:"body_file"`
			ContentType   string            `json:"content_type"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(fixture(t, "slack_signing_vectors.json"), &vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors.Vectors) != 2 {
		t.Fatalf("%d vectors, want 2", len(vectors.Vectors))
	}
	for _, v := range vectors.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			body := fixture(t, v.BodyFile)
			ts := v.Headers["X-Slack-Request-Timestamp"]
			if got := slacktest.Signature(v.SigningSecret, ts, body); got != v.Headers["X-Slack-Signature"] {
				t.Fatalf("recomputed signature %s, fixture says %s", got, v.Headers["X-Slack-Signature"])
			}
			path := PathEvents
			if strings.HasPrefix(v.ContentType, "application/x-www-form-urlencoded") {
				path = PathCommands
			}
			hs := newHarnessSecret(t, v.SigningSecret)

			// The original request is genuine but from 2018: refused.
			orig := http.Header{}
			for k, val := range v.Headers {
				orig.Set(k, val)
			}
			wantStatus(t, hs.post(path, v.ContentType, body, orig), http.StatusUnauthorized)
			if n := hs.h.n.Load(); n != 0 {
				t.Fatalf("stale request reached the bot %d times", n)
			}

			// The same bytes signed now are accepted and handled.
			wantStatus(t, hs.post(path, v.ContentType, body, nil), http.StatusOK)
			hs.settle()
			if n := hs.h.n.Load(); n != 1 {
				t.Fatalf("fresh request reached the bot %d times, want 1", n)
			}
		})
	}
}

func TestForgedRequestsAreRefusedAndNeverHandled(t *testing.T) {
	body := slacktest.AppMention("EvForged", "U0WANGMING", coordChat, "<@U0XUNJIBOT> bump")
	fresh := strconv.FormatInt(time.Now().Unix(), 10)
	cases := []struct {
		name   string
		body   []byte
		header http.Header
	}{
		{"wrong secret", body, slacktest.Sign("some-other-secret", time.Now(), body)},
		{"body changed after signing", []byte(strings.Replace(string(body), "bump", "shout", 1)), slacktest.Sign(testSecret, time.Now(), body)},
		{"no signature headers", body, http.Header{}},
		{"timestamp without signature", body, http.Header{"X-Slack-Request-Timestamp": {fresh}}},
		{"signature not v0", body, http.Header{"X-Slack-Request-Timestamp": {fresh}, "X-Slack-Signature": {strings.Replace(slacktest.Signature(testSecret, fresh, body), "v0=", "v1=", 1)}}},
		{"signature not hex", body, http.Header{"X-Slack-Request-Timestamp": {fresh}, "X-Slack-Signature": {"v0=zz"}}},
		{"timestamp not a number", body, http.Header{"X-Slack-Request-Timestamp": {"soon"}, "X-Slack-Signature": {slacktest.Signature(testSecret, "soon", body)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			var reasons []string
			hs := newHarness(t, WithRejectHook(func(r string) { mu.Lock(); reasons = append(reasons, r); mu.Unlock() }))
			for _, path := range []string{PathEvents, PathCommands, PathInteractions} {
				wantStatus(t, hs.post(path, "application/json", c.body, c.header), http.StatusUnauthorized)
			}
			mu.Lock()
			if got := strings.Join(reasons, ","); got != "unauthorized,unauthorized,unauthorized" {
				t.Errorf("reject hook saw %q", got)
			}
			mu.Unlock()
			hs.settle()
			if n := hs.h.n.Load(); n != 0 {
				t.Errorf("forged request reached the bot %d times", n)
			}
			if got := counter(t, hs.env.Store, "bump"); got != 0 {
				t.Errorf("counter %d after forged requests, want 0", got)
			}
			if calls := hs.fake.CallsOf("chat.postEphemeral"); len(calls) != 0 {
				t.Errorf("forged request was answered: %v", calls)
			}
		})
	}
}

func TestRequestsOutsideTheFiveMinuteWindowAreRefused(t *testing.T) {
	body := slacktest.AppMention("EvStale", "U0WANGMING", coordChat, "<@U0XUNJIBOT> bump")
	cases := []struct {
		name     string
		signedAt time.Time
		opts     []Option
	}{
		{"signed six minutes ago", time.Now().Add(-6 * time.Minute), nil},
		{"signed six minutes ahead", time.Now().Add(6 * time.Minute), nil},
		{"signed now by a clock six minutes behind ours", time.Now(), []Option{WithNow(func() time.Time { return time.Now().Add(6 * time.Minute) })}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t, c.opts...)
			wantStatus(t, hs.postEvent(body, slacktest.Sign(testSecret, c.signedAt, body)), http.StatusUnauthorized)
			hs.settle()
			if n := hs.h.n.Load(); n != 0 {
				t.Errorf("stale request reached the bot %d times", n)
			}
			if got := counter(t, hs.env.Store, "bump"); got != 0 {
				t.Errorf("counter %d after a stale request, want 0", got)
			}
		})
	}
	t.Run("signed four minutes ago is still accepted", func(t *testing.T) {
		hs := newHarness(t)
		wantStatus(t, hs.postEvent(body, slacktest.Sign(testSecret, time.Now().Add(-4*time.Minute), body)), http.StatusOK)
		hs.settle()
		if got := counter(t, hs.env.Store, "bump"); got != 1 {
			t.Errorf("counter %d, want 1", got)
		}
	})
}

func TestBodiesOverOneMebibyteAreRefused(t *testing.T) {
	big := make([]byte, MaxBodyBytes+1)
	for i := range big {
		big[i] = ' '
	}
	t.Run("with a content length", func(t *testing.T) {
		hs := newHarness(t)
		for _, path := range []string{PathEvents, PathCommands, PathInteractions} {
			wantStatus(t, hs.post(path, "application/json", big, nil), http.StatusRequestEntityTooLarge)
		}
		if n := hs.h.n.Load(); n != 0 {
			t.Errorf("oversized request reached the bot %d times", n)
		}
	})
	t.Run("chunked, without a content length", func(t *testing.T) {
		hs := newHarness(t)
		req, err := http.NewRequest(http.MethodPost, hs.srv.URL+PathEvents, struct{ io.Reader }{strings.NewReader(string(big))})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range slacktest.Sign(testSecret, time.Now(), big) {
			req.Header[k] = v
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		wantStatus(t, resp, http.StatusRequestEntityTooLarge)
		if n := hs.h.n.Load(); n != 0 {
			t.Errorf("oversized request reached the bot %d times", n)
		}
	})
}

func TestAppMentionRunsTheCommandAndAnswersPrivately(t *testing.T) {
	hs := newHarness(t)
	resp := hs.postEvent(slacktest.AppMention("EvMention1", "U0LINA", coordChat, "<@U0XUNJIBOT> count"), nil)
	wantStatus(t, resp, http.StatusOK)

	call := hs.fake.Await("chat.postEphemeral", 1)[0]
	if call.Field("channel") != coordChat || call.Field("user") != "U0LINA" {
		t.Errorf("ephemeral to channel %q user %q, want %s U0LINA", call.Field("channel"), call.Field("user"), coordChat)
	}
	blocks := blocksOf(t, call)
	if len(blocks) == 0 || blocks[0]["type"] != "header" {
		t.Fatalf("want a card starting with a header, got %v", blocks)
	}
	if text := allText(blocks); !strings.Contains(text, "🔵 Counter c1") || !strings.Contains(text, "value &lt;0&gt;") {
		t.Errorf("card text %q lacks the coloured title or the escaped text", text)
	}
	reqs := hs.h.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests reached the bot, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Kind != bot.KindCommand || got.Platform != Name || got.Text != "count" || got.UserID != "U0LINA" ||
		got.ChatID != coordChat || got.Direct || got.EventID != "EvMention1" {
		t.Errorf("request %+v", got)
	}
}

func TestPublicReplyIsPostedToTheChannelWithSlackMentions(t *testing.T) {
	hs := newHarness(t)
	body := slacktest.AppMention("EvShout", "U0LINA", coordChat, "<@U0XUNJIBOT> shout")
	m := map[string]any{}
	_ = json.Unmarshal(body, &m)
	m["event"].(map[string]any)["thread_ts"] = "1764550000.000100"
	wantStatus(t, hs.postEvent(mustJSON(t, m), nil), http.StatusOK)
	call := hs.fake.Await("chat.postMessage", 1)[0]
	if call.Field("channel") != coordChat || call.Field("thread_ts") != "1764550000.000100" {
		t.Errorf("posted to %q thread %q", call.Field("channel"), call.Field("thread_ts"))
	}
	if got, want := call.Field("text"), "hello from <@U0LINA>"; got != want {
		t.Errorf("text %q, want %q", got, want)
	}
	hs.settle()
	if n := len(hs.fake.CallsOf("chat.postEphemeral")); n != 0 {
		t.Errorf("%d ephemeral posts for a public reply", n)
	}
}

func TestDirectMessageIsACommand(t *testing.T) {
	hs := newHarness(t)
	wantStatus(t, hs.postEvent(messageEvent(t, "EvDM1", nil), nil), http.StatusOK)
	call := hs.fake.Await("chat.postMessage", 1)[0]
	if call.Field("channel") != "D0LINA" {
		t.Errorf("answered in %q, want the direct message D0LINA", call.Field("channel"))
	}
	if !strings.Contains(allText(blocksOf(t, call)), "Counter c1") {
		t.Errorf("no counter card in %v", call.Form)
	}
	if reqs := hs.h.requests(); len(reqs) != 1 || !reqs[0].Direct || reqs[0].Text != "count" {
		t.Errorf("requests %+v", reqs)
	}
}

func TestEventsThatAreNotCommandsAreIgnored(t *testing.T) {
	cases := []struct {
		name string
		body func(t *testing.T) []byte
	}{
		{"the bot's own direct message", func(t *testing.T) []byte {
			return messageEvent(t, "EvOwn", func(ev map[string]any) { ev["user"] = testBotUser })
		}},
		{"a message from a bot", func(t *testing.T) []byte {
			return messageEvent(t, "EvBot", func(ev map[string]any) { ev["bot_id"] = "B0OTHER" })
		}},
		{"an edited message", func(t *testing.T) []byte {
			return messageEvent(t, "EvEdit", func(ev map[string]any) {
				ev["subtype"] = "message_changed"
				ev["message"] = map[string]any{"type": "message", "user": "U0LINA", "text": "count", "ts": "1610241741.000200"}
			})
		}},
		{"a channel join", func(t *testing.T) []byte {
			return messageEvent(t, "EvJoin", func(ev map[string]any) { ev["subtype"] = "channel_join" })
		}},
		{"a channel message without a mention (fixture as is)", func(t *testing.T) []byte {
			return slacktest.Fixture("events_message_channels.json")
		}},
		{"a mention by a bot", func(t *testing.T) []byte {
			m := map[string]any{}
			_ = json.Unmarshal(slacktest.AppMention("EvBotMention", "U0LINA", coordChat, "<@U0XUNJIBOT> count"), &m)
			m["event"].(map[string]any)["bot_id"] = "B0OTHER"
			return mustJSON(t, m)
		}},
		{"an event type the bot does not handle", func(t *testing.T) []byte {
			return slacktest.EditEvent(slacktest.Fixture("events_app_mention.json"), func(outer, _ map[string]any) {
				outer["event"] = map[string]any{"type": "reaction_added", "user": "U0LINA", "reaction": "thumbsup"}
			})
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hs := newHarness(t)
			wantStatus(t, hs.postEvent(c.body(t), nil), http.StatusOK)
			hs.settle()
			if n := hs.h.n.Load(); n != 0 {
				t.Errorf("ignored event reached the bot %d times", n)
			}
		})
	}
}

func TestEventIsAcknowledgedBeforeTheWorkFinishes(t *testing.T) {
	hs := newHarness(t)
	// "slow" blocks until released, so the 200 can only come first.
	wantStatus(t, hs.postEvent(slacktest.AppMention("EvSlow", "U0LINA", coordChat, "<@U0XUNJIBOT> slow"), nil), http.StatusOK)
	if n := len(hs.fake.CallsOf("chat.postEphemeral")); n != 0 {
		t.Fatalf("answered before the work finished: %d posts", n)
	}
	close(hs.release)
	call := hs.fake.Await("chat.postEphemeral", 1)[0]
	if call.Field("text") != "slow done" {
		t.Errorf("text %q", call.Field("text"))
	}
}

func TestRetriedEventHasOneEffect(t *testing.T) {
	hs := newHarness(t)
	body := slacktest.AppMention("EvRetry", "U0WANGMING", coordChat, "<@U0XUNJIBOT> bump")
	for retry := range 3 {
		header := slacktest.Sign(testSecret, time.Now(), body)
		if retry > 0 {
			header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
			header.Set("X-Slack-Retry-Reason", "http_timeout")
		}
		wantStatus(t, hs.postEvent(body, header), http.StatusOK)
	}
	hs.settle()
	if got := counter(t, hs.env.Store, "bump"); got != 1 {
		t.Errorf("counter %d after three deliveries, want 1", got)
	}
	if n := len(hs.fake.CallsOf("chat.postEphemeral")); n != 1 {
		t.Errorf("%d answers after three deliveries, want 1", n)
	}
	for _, r := range hs.h.requests() {
		if r.EventID != "EvRetry" {
			t.Errorf("request event id %q, want EvRetry", r.EventID)
		}
	}
}

func TestSlashCommandAnswerIsEphemeralUnlessPublic(t *testing.T) {
	cases := []struct {
		command, text string
		wantType      string
		wantText      string
	}{
		{"/count", "", "ephemeral", "Counter c1"},
		{"/shout", "", "in_channel", "hello from <@U0LINA>"},
	}
	for _, c := range cases {
		t.Run(c.command, func(t *testing.T) {
			hs := newHarness(t)
			resp := hs.postCommand(slashForm(t, hs.fake, c.command, c.text, "U0LINA", "trig-"+c.command))
			wantStatus(t, resp, http.StatusOK)
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			var m map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
				t.Fatal(err)
			}
			if m["response_type"] != c.wantType {
				t.Errorf("response_type %v, want %s", m["response_type"], c.wantType)
			}
			if text := m["text"].(string) + "\n" + allText(m["blocks"]); !strings.Contains(text, c.wantText) {
				t.Errorf("answer %q lacks %q", text, c.wantText)
			}
			hs.settle()
			if n := len(hs.fake.CallsOf("response_url")); n != 0 {
				t.Errorf("%d response_url posts for an answer that fitted in the acknowledgement", n)
			}
		})
	}
}

func TestSlashCommandNamesTheVerb(t *testing.T) {
	cases := []struct{ command, text, want string }{
		{"/clue", "list", "clue list"},
		{"/progress", "ZG-2026-0001 60%", "progress ZG-2026-0001 60%"},
		{"/count", "", "count"},
		{"/xunji", "help", "help"},
		{"/xunji", "count", "count"},
		{"/xunji", "", "help"},
		{"/xunji", "clue add a &amp; b", "clue add a & b"},
	}
	hs := newHarness(t)
	for i, c := range cases {
		wantStatus(t, hs.postCommand(slashForm(t, hs.fake, c.command, c.text, "U0LINA", "trig-verb-"+strconv.Itoa(i))), http.StatusOK)
	}
	hs.settle()
	reqs := hs.h.requests()
	if len(reqs) != len(cases) {
		t.Fatalf("%d requests, want %d", len(reqs), len(cases))
	}
	for i, c := range cases {
		if reqs[i].Text != c.want {
			t.Errorf("%s %q → %q, want %q", c.command, c.text, reqs[i].Text, c.want)
		}
		if reqs[i].EventID != "trig-verb-"+strconv.Itoa(i) || reqs[i].UserName != "username" ||
			reqs[i].ResponseURL != hs.fake.ResponseURL("trig-verb-"+strconv.Itoa(i)) {
			t.Errorf("request %+v: want the trigger id as event id, the user name and the response_url", reqs[i])
		}
	}
}

func TestSlowSlashCommandAnswersThroughResponseURL(t *testing.T) {
	hs := newHarness(t, withAckWait(20*time.Millisecond))
	resp := hs.postCommand(slashForm(t, hs.fake, "/slow", "", "U0LINA", "trig-slow"))
	wantStatus(t, resp, http.StatusOK)
	if body := readAll(t, resp); body != "" {
		t.Errorf("acknowledgement body %q, want empty", body)
	}
	close(hs.release)
	call := hs.fake.Await("response_url", 1)[0]
	if call.Path != "/response/trig-slow" || call.Field("response_type") != "ephemeral" || call.Field("text") != "slow done" {
		t.Errorf("response_url call %+v", call)
	}
}

func TestButtonClickUpdatesTheCardAndChangesState(t *testing.T) {
	hs := newHarness(t)
	const ts = "1764550800.000042"
	payload := clickPayload(t, hs.fake, "U0LINA", coordChat, ts, "count.inc", "c1", "trig-click-1")
	wantStatus(t, hs.postInteraction(payload), http.StatusOK)

	update := hs.fake.Await("chat.update", 1)[0]
	if update.Field("channel") != coordChat || update.Field("ts") != ts {
		t.Errorf("updated %q/%q, want %s/%s", update.Field("channel"), update.Field("ts"), coordChat, ts)
	}
	if text := allText(blocksOf(t, update)); !strings.Contains(text, "*Value*\n1") {
		t.Errorf("updated card %q does not show the new value", text)
	}
	toast := hs.fake.Await("response_url", 1)[0]
	if toast.Field("text") != "+1" || toast.Field("response_type") != "ephemeral" || toast.Field("replace_original") != "false" {
		t.Errorf("toast %+v", toast.JSON)
	}
	if got := counter(t, hs.env.Store, "c1"); got != 1 {
		t.Errorf("counter %d, want 1", got)
	}
	req := hs.h.requests()[0]
	if req.Kind != bot.KindAction || req.Action != "count.inc" || req.Value != "c1" || req.EventID != "trig-click-1" ||
		req.Message != (bot.MessageRef{Platform: Name, ChatID: coordChat, ID: ts}) {
		t.Errorf("request %+v", req)
	}

	// The same click delivered again changes nothing.
	wantStatus(t, hs.postInteraction(payload), http.StatusOK)
	hs.settle()
	if got := counter(t, hs.env.Store, "c1"); got != 1 {
		t.Errorf("counter %d after a repeated click, want 1", got)
	}
	if n := len(hs.fake.CallsOf("chat.update")); n != 1 {
		t.Errorf("%d updates after a repeated click, want 1", n)
	}

	// A new click counts again.
	wantStatus(t, hs.postInteraction(clickPayload(t, hs.fake, "U0LINA", coordChat, ts, "count.inc", "c1", "trig-click-2")), http.StatusOK)
	hs.fake.Await("chat.update", 2)
	if got := counter(t, hs.env.Store, "c1"); got != 2 {
		t.Errorf("counter %d after a second click, want 2", got)
	}
}

func TestClickOnAnEphemeralCardReplacesItThroughResponseURL(t *testing.T) {
	hs := newHarness(t)
	m := map[string]any{}
	_ = json.Unmarshal(clickPayload(t, hs.fake, "U0LINA", coordChat, "1764550800.000043", "count.inc", "c2", "trig-eph"), &m)
	m["container"].(map[string]any)["is_ephemeral"] = true
	wantStatus(t, hs.postInteraction(mustJSON(t, m)), http.StatusOK)
	calls := hs.fake.Await("response_url", 2)
	var replaced bool
	for _, c := range calls {
		if c.Field("replace_original") == "true" && strings.Contains(allText(c.JSON["blocks"]), "*Value*\n1") {
			replaced = true
		}
	}
	if !replaced {
		t.Errorf("no replace_original with the new card among %+v", calls)
	}
	if n := len(hs.fake.CallsOf("chat.update")); n != 0 {
		t.Errorf("chat.update called %d times on an ephemeral message", n)
	}
}

func TestUnknownUserGetsThePoliteAnswer(t *testing.T) {
	hs := newHarness(t)
	wantStatus(t, hs.postEvent(slacktest.AppMention("EvStranger", "U0STRANGER", coordChat, "<@U0XUNJIBOT> bump"), nil), http.StatusOK)
	call := hs.fake.Await("chat.postEphemeral", 1)[0]
	want := hs.env.TZ("error.not_in_roster", "user", "<@U0STRANGER>", "admins", admins(t, hs), "id", "slack:U0STRANGER")
	if call.Field("user") != "U0STRANGER" || call.Field("text") != want {
		t.Errorf("answer to %q: %q, want %q", call.Field("user"), call.Field("text"), want)
	}
	if got := counter(t, hs.env.Store, "bump"); got != 0 {
		t.Errorf("a stranger's command ran: counter %d", got)
	}
}

func admins(t *testing.T, hs *harness) string {
	t.Helper()
	r, err := hs.env.Bot.People.Roster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range r.Admins() {
		names = append(names, p.DisplayName("zh-CN"))
	}
	return strings.Join(names, hs.env.TZ("list.sep"))
}

func TestRunWaitsForWorkInFlightAndThenRefusesNewEvents(t *testing.T) {
	env := buildHarness(t, harnessConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- env.a.Run(ctx, env.mounted) }()

	wantStatus(t, env.postEvent(slacktest.AppMention("EvInFlight", "U0LINA", coordChat, "<@U0XUNJIBOT> slow"), nil), http.StatusOK)
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a command was still running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(env.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(waitFor):
		t.Fatal("Run did not return after the work finished")
	}
	if n := len(env.fake.CallsOf("chat.postEphemeral")); n != 1 {
		t.Errorf("%d answers delivered during shutdown, want 1", n)
	}
	// Shut down: Slack is told to try again later, and nothing runs.
	wantStatus(t, env.postEvent(slacktest.AppMention("EvLate", "U0LINA", coordChat, "<@U0XUNJIBOT> bump"), nil), http.StatusServiceUnavailable)
	if got := counter(t, env.env.Store, "bump"); got != 0 {
		t.Errorf("counter %d after shutdown, want 0", got)
	}
}

func TestPlainHandlerWithoutAnInboxIsServedToo(t *testing.T) {
	hs := newHarnessWith(t, harnessConfig{plain: true})
	body := slacktest.AppMention("EvPlain", "U0WANGMING", coordChat, "<@U0XUNJIBOT> bump")
	for retry := range 3 {
		header := slacktest.Sign(testSecret, time.Now(), body)
		if retry > 0 {
			header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		}
		wantStatus(t, hs.postEvent(body, header), http.StatusOK)
	}
	const ts = "1764550800.000099"
	wantStatus(t, hs.postInteraction(clickPayload(t, hs.fake, "U0LINA", coordChat, ts, "count.inc", "p1", "trig-plain")), http.StatusOK)
	hs.fake.Await("chat.update", 1)
	hs.settle()
	if got := counter(t, hs.env.Store, "bump"); got != 1 {
		t.Errorf("bump counter %d after three deliveries, want 1", got)
	}
	if got := counter(t, hs.env.Store, "p1"); got != 1 {
		t.Errorf("click counter %d, want 1", got)
	}
}

func TestRequestsAreRefusedWhileTheStoreIsDownAndRedeliveryWorks(t *testing.T) {
	store := &flakyStore{Store: bottest.NewMem()}
	hs := newHarnessWith(t, harnessConfig{store: store})
	event := slacktest.AppMention("EvStoreDown", "U0WANGMING", coordChat, "<@U0XUNJIBOT> bump")
	click := clickPayload(t, hs.fake, "U0LINA", coordChat, "1764550800.000123", "count.inc", "s1", "trig-store-down")

	store.down.Store(true)
	wantStatus(t, hs.postEvent(event, nil), http.StatusServiceUnavailable)
	wantStatus(t, hs.postInteraction(click), http.StatusServiceUnavailable)
	wantStatus(t, hs.postCommand(slashForm(t, hs.fake, "/bump", "", "U0WANGMING", "trig-store-down-cmd")), http.StatusServiceUnavailable)
	hs.settle()
	if got := counter(t, store.Store, "bump"); got != 0 {
		t.Fatalf("counter %d while the store was down", got)
	}

	// Slack delivers again once the store is back: handled once.
	store.down.Store(false)
	header := slacktest.Sign(testSecret, time.Now(), event)
	header.Set("X-Slack-Retry-Num", "1")
	wantStatus(t, hs.postEvent(event, header), http.StatusOK)
	wantStatus(t, hs.postInteraction(click), http.StatusOK)
	hs.fake.Await("chat.update", 1)
	hs.settle()
	if got := counter(t, store.Store, "bump"); got != 1 {
		t.Errorf("bump counter %d after redelivery, want 1", got)
	}
	if got := counter(t, store.Store, "s1"); got != 1 {
		t.Errorf("click counter %d after redelivery, want 1", got)
	}
}

func TestPrivateFilesGoToTheDirectMessageAndPublicOnesToTheChannel(t *testing.T) {
	cases := []struct {
		text, wantChannel string
	}{
		{"", "D0LINA"},
		{"public", coordChat},
	}
	for _, c := range cases {
		t.Run("export "+c.text, func(t *testing.T) {
			hs := newHarness(t)
			resp := hs.postCommand(slashForm(t, hs.fake, "/export", c.text, "U0LINA", "trig-export-"+c.text))
			wantStatus(t, resp, http.StatusOK)
			if body := readAll(t, resp); !strings.Contains(body, "exported") {
				t.Errorf("acknowledgement %q lacks the reply text", body)
			}
			done := hs.fake.Await("files.completeUploadExternal", 1)[0]
			if done.Field("channel_id") != c.wantChannel {
				t.Errorf("file shared in %q, want %q", done.Field("channel_id"), c.wantChannel)
			}
			up := hs.fake.Await("upload", 1)[0]
			if up.Field("filename") != "进度.csv" || up.Field("content") != "项目,进度\nZG-1,60%\n" {
				t.Errorf("uploaded %q with %q", up.Field("filename"), up.Field("content"))
			}
			hs.settle()
			if n := len(hs.fake.CallsOf("response_url")); n != 0 {
				t.Errorf("the text was sent again through response_url (%d calls)", n)
			}
		})
	}
}
