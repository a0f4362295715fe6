package lark

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	larkim "github.com/larksuite/oapi-sdk-go/v3/service/im/v1"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

const (
	testToken  = larktest.VerificationToken
	testBotID  = larktest.BotOpenID
	coordChat  = "oc_demo_coordination"
	wangming   = "ou_demo_wangming"
	lina       = "ou_demo_lina"
	cardMsgID  = "om_card_1"
	tallyValue = "T-1"
)

// contentOf returns the message content a call carried, decoded.
func contentOf(t *testing.T, c larktest.Call) map[string]any {
	t.Helper()
	m, err := c.Content()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// countingHandler is the core, counting the requests that reach it.
type countingHandler struct {
	*bot.Inbox
	n atomic.Int32
}

func (c *countingHandler) Handle(ctx context.Context, req *bot.Request) *bot.Response {
	c.n.Add(1)
	return c.Inbox.Handle(ctx, req)
}

// Accept counts too: a message event enters the core through the inbox.
func (c *countingHandler) Accept(ctx context.Context, req *bot.Request) (string, bool, error) {
	c.n.Add(1)
	return c.Inbox.Accept(ctx, req)
}

// harness is a core bot with the Lark adapter mounted on a test server.
type harness struct {
	t     testing.TB
	env   *bottest.Env
	fake  *larktest.Server
	a     *Adapter
	srv   *httptest.Server
	h     *countingHandler
	gate  chan struct{}
	key   string
	token string
}

var appSeq atomic.Int32

// testConfig returns a config for fake; each gets its own app id, so the
// SDK's process-wide token cache does not carry tokens between tests.
func testConfig(fake *larktest.Server, key string) Config {
	return Config{
		AppID: fmt.Sprintf("cli_test_%d", appSeq.Add(1)), AppSecret: larktest.AppSecret,
		VerificationToken: testToken, EncryptKey: key, BaseURL: fake.URL,
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t testing.TB, key string, mod ...func(*Config)) *harness {
	t.Helper()
	return newHarnessOpts(t, key, nil, mod...)
}

// newHarnessOpts is newHarness with adapter options after the harness's
// own (a logger, say).
func newHarnessOpts(t testing.TB, key string, opts []Option, mod ...func(*Config)) *harness {
	t.Helper()
	hs := &harness{t: t, env: bottest.New(t, bottest.WithPlatforms(Platform())), fake: larktest.NewServer(t), gate: make(chan struct{}), key: key, token: testToken}
	hs.env.Must(tallyCommand(hs.env.Store, hs.gate))
	cfg := testConfig(hs.fake, key)
	for _, m := range mod {
		m(&cfg)
	}
	a, err := New(cfg, append([]Option{WithLogger(quietLogger())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	a.retryBase = 0
	hs.a = a
	hs.env.Bot.Out.AddAdapter(a)
	hs.h = &countingHandler{Inbox: hs.env.Bot.Inbox}
	mux := http.NewServeMux()
	a.Mount(mux, hs.h)
	hs.srv = httptest.NewServer(mux)
	t.Cleanup(hs.srv.Close)
	return hs
}

// post sends body to path, encrypted and signed when the harness has a
// key, and waits for the work it started in the background.
func (hs *harness) post(path string, body []byte) (int, string) {
	hs.t.Helper()
	hdr := http.Header{}
	if hs.key != "" {
		body, hdr = larktest.Seal(hs.key, body, hs.a.now())
	}
	return hs.postRaw(path, body, hdr)
}

func (hs *harness) postRaw(path string, body []byte, hdr http.Header) (int, string) {
	hs.t.Helper()
	status, resp := hs.postNoWait(path, body, hdr)
	hs.a.wait()
	return status, resp
}

// postNoWait posts body and returns the answer without waiting for the
// background work.
func (hs *harness) postNoWait(path string, body []byte, hdr http.Header) (int, string) {
	hs.t.Helper()
	req, err := http.NewRequest(http.MethodPost, hs.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		hs.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		hs.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type mention = larktest.Mention

// msgEvent builds an im.message.receive_v1 event.
func msgEvent(t *testing.T, eventID, chatType, chatID, sender, msgType, text string, ms ...mention) []byte {
	t.Helper()
	return larktest.MessageEvent(larktest.Message{
		EventID: eventID, ChatType: chatType, ChatID: chatID, Sender: sender,
		MsgType: msgType, Text: text, Mentions: ms,
	})
}

// cardEvent builds a card.action.trigger callback on the card message
// cardMsgID in the coordination chat.
func cardEvent(t *testing.T, eventID, operator, action, value string) []byte {
	t.Helper()
	return larktest.CardActionEvent(larktest.CardAction{
		EventID: eventID, Operator: operator, ChatID: coordChat, MessageID: cardMsgID,
		Action: action, Value: value,
	})
}

// tallyCommand is a small command with card actions: "tally" counts and
// shows a card; its buttons count again (tally.inc) or wait for gate
// first (tally.slow). The count lives in the store.
func tallyCommand(st bot.Store, gate chan struct{}) *bot.Command {
	card := func(req *bot.Request, n int64) *bot.Card {
		return &bot.Card{
			Title: "Tally", Color: bot.Green, Text: "counted by " + bot.MentionTag(req.Person),
			Fields:  []bot.Field{{Label: "count", Value: strconv.FormatInt(n, 10)}},
			Buttons: []bot.Button{{Label: "+1", Action: "tally.inc", Value: tallyValue, Style: "primary"}},
			Note:    "note " + req.Person.Name,
		}
	}
	count := func(ctx context.Context, req *bot.Request, replace bool) (*bot.Response, error) {
		n, err := st.NextSeq(ctx, "test.tally")
		if err != nil {
			return nil, err
		}
		r := &bot.Response{Replies: []bot.Reply{{Card: card(req, n), Public: true, Replace: replace}}}
		if replace {
			r.Toast = "count " + strconv.FormatInt(n, 10)
		}
		return r, nil
	}
	return &bot.Command{
		Name: "tally", Aliases: []string{"计数"},
		Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) { return count(ctx, req, false) },
		Actions: []*bot.Action{
			{ID: "tally.inc", Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) { return count(ctx, req, true) }},
			{ID: "tally.slow", Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
				<-gate
				return count(ctx, req, true)
			}},
		},
	}
}

// tally returns the stored count without changing it.
func (hs *harness) tally() int64 {
	hs.t.Helper()
	n, err := hs.env.Store.NextSeq(context.Background(), "test.tally")
	if err != nil {
		hs.t.Fatal(err)
	}
	return n - 1
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

type larkimMention = larkim.MentionEvent

func toMentions(xs []mention) []*larkim.MentionEvent {
	var out []*larkim.MentionEvent
	for _, x := range xs {
		out = append(out, &larkim.MentionEvent{Key: &x.Key, Id: &larkim.UserId{OpenId: &x.OpenID}, Name: &x.Name})
	}
	return out
}

func fixtureMap(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFixture(t, name), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The kit posts to the routes Mount registers.
func TestKitRoutesMatchTheAdapter(t *testing.T) {
	mux := http.NewServeMux()
	a, err := New(Config{AppID: "cli_routes", AppSecret: larktest.AppSecret, VerificationToken: testToken}, WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	a.Mount(mux, bottest.New(t, bottest.WithPlatforms(Platform())).Bot)
	for _, path := range []string{larktest.PathEvents, larktest.PathCards} {
		if _, pattern := mux.Handler(httptest.NewRequest(http.MethodPost, path, nil)); pattern != "POST "+path {
			t.Errorf("%s: mounted pattern %q", path, pattern)
		}
	}
}
