package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

const (
	testSecret  = "test-signing-secret-0123456789ab"
	testBotUser = slacktest.BotUserID
	coordChat   = "C0DEMOCOORD"
	waitFor     = slacktest.DefaultTimeout
)

// countingHandler counts the requests that reach the bot.
type countingHandler struct {
	h    bot.Handler
	n    atomic.Int32
	mu   sync.Mutex
	reqs []bot.Request
}

func (c *countingHandler) Handle(ctx context.Context, req *bot.Request) *bot.Response {
	c.n.Add(1)
	c.mu.Lock()
	c.reqs = append(c.reqs, *req)
	c.mu.Unlock()
	return c.h.Handle(ctx, req)
}

func (c *countingHandler) requests() []bot.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]bot.Request(nil), c.reqs...)
}

// durableCounting is countingHandler with the bot's durable inbox, as
// cmd/xunji mounts *bot.Bot. Accept counts as reaching the bot.
type durableCounting struct {
	*countingHandler
	bot *bot.Bot
}

var _ bot.DurableHandler = (*durableCounting)(nil)

func (d *durableCounting) Accept(ctx context.Context, req *bot.Request) (string, bool, error) {
	d.n.Add(1)
	d.mu.Lock()
	d.reqs = append(d.reqs, *req)
	d.mu.Unlock()
	return d.bot.Inbox.Accept(ctx, req)
}

func (d *durableCounting) Process(ctx context.Context, ticket string, req *bot.Request) *bot.Response {
	return d.bot.Inbox.Process(ctx, ticket, req)
}

func (d *durableCounting) Done(ctx context.Context, ticket string, req *bot.Request) {
	d.bot.Inbox.Done(ctx, ticket, req)
}

func (d *durableCounting) WantsFiles(text string) bool { return d.bot.Inbox.WantsFiles(text) }

func (d *durableCounting) TakeTurn(ctx context.Context, req *bot.Request) (context.Context, bool, func()) {
	return d.bot.Inbox.TakeTurn(ctx, req)
}

func (d *durableCounting) DeliverLate(ctx context.Context, req *bot.Request, i int, r bot.Reply) error {
	return d.bot.Inbox.DeliverLate(ctx, req, i, r)
}

// flakyStore is a store whose claims fail while down is set: the store
// is unreachable.
type flakyStore struct {
	bot.Store
	down atomic.Bool
}

func (f *flakyStore) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if f.down.Load() {
		return false, bot.Coded(bot.EUNAVAILABLE, "error.unavailable")
	}
	return f.Store.Claim(ctx, key, ttl)
}

// harness is a bot with the test commands, the Slack adapter mounted on
// an HTTP server, and a fake Slack behind it.
type harness struct {
	t       testing.TB
	env     *bottest.Env
	fake    *slacktest.Server
	a       *Adapter
	h       *countingHandler
	mounted bot.Handler // what Mount got: h, or h with the durable inbox
	srv     *httptest.Server
	secret  string
	release chan struct{} // unblocks the "slow" command
}

func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	return newHarnessWith(t, harnessConfig{opts: opts})
}

// newHarnessSecret is newHarness with another signing secret.
func newHarnessSecret(t *testing.T, secret string, opts ...Option) *harness {
	t.Helper()
	return newHarnessWith(t, harnessConfig{secret: secret, opts: opts})
}

// harnessConfig varies the harness.
type harnessConfig struct {
	secret string    // signing secret; testSecret when empty
	plain  bool      // mount a plain bot.Handler, without the durable inbox
	store  bot.Store // the bot's store; in memory when nil
	opts   []Option
}

func newHarnessWith(t testing.TB, c harnessConfig) *harness {
	t.Helper()
	hs := buildHarness(t, c)
	hs.run()
	return hs
}

// buildHarness builds a harness without running the adapter.
func buildHarness(t testing.TB, c harnessConfig) *harness {
	t.Helper()
	if c.secret == "" {
		c.secret = testSecret
	}
	envOpts := []bottest.Option{bottest.WithPlatforms(Platform())}
	if c.store != nil {
		envOpts = append(envOpts, bottest.WithStore(c.store))
	}
	env := bottest.New(t, envOpts...)
	release := make(chan struct{})
	env.Must(testCommands(env.Store, release)...)
	fake := slacktest.NewServer(t)
	a, err := New(Config{BotToken: "xoxb-test", SigningSecret: c.secret, APIURL: fake.APIURL()}, c.opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.botUserID(context.Background()); err != nil {
		t.Fatal(err)
	}
	env.Bot.Out.AddAdapter(a)
	h := &countingHandler{h: env.Bot.Inbox}
	var mounted bot.Handler = &durableCounting{countingHandler: h, bot: env.Bot}
	if c.plain {
		mounted = h
	}
	mux := http.NewServeMux()
	a.Mount(mux, mounted)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &harness{t: t, env: env, fake: fake, a: a, h: h, mounted: mounted, srv: srv, secret: c.secret, release: release}
}

// run starts the adapter's Run and stops it when the test ends.
func (hs *harness) run() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hs.a.Run(ctx, hs.mounted) }()
	hs.t.Cleanup(func() {
		select {
		case <-hs.release:
		default:
			close(hs.release)
		}
		cancel()
		if err := <-done; err != nil {
			hs.t.Errorf("Run: %v", err)
		}
	})
}

// settle waits for the background work of requests already answered.
func (hs *harness) settle() { hs.a.jobs.wait() }

// post sends body to path, signed now unless header says otherwise.
func (hs *harness) post(path, contentType string, body []byte, header http.Header) *http.Response {
	hs.t.Helper()
	req, err := http.NewRequest(http.MethodPost, hs.srv.URL+path, strings.NewReader(string(body)))
	if err != nil {
		hs.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if header == nil {
		header = slacktest.Sign(hs.secret, time.Now(), body)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		hs.t.Fatal(err)
	}
	hs.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (hs *harness) postEvent(body []byte, header http.Header) *http.Response {
	hs.t.Helper()
	return hs.post(PathEvents, "application/json", body, header)
}

func (hs *harness) postCommand(form url.Values) *http.Response {
	hs.t.Helper()
	return hs.post(PathCommands, "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
}

func (hs *harness) postInteraction(payload []byte) *http.Response {
	hs.t.Helper()
	return hs.post(PathInteractions, "application/x-www-form-urlencoded", []byte("payload="+url.QueryEscape(string(payload))), nil)
}

// withAckWait shortens how long a slash command waits for its answer.
func withAckWait(d time.Duration) Option { return func(a *Adapter) { a.ackWait = d } }

// withRetries sets how often Web API calls are retried.
func withRetries(n int) Option { return func(a *Adapter) { a.retries = n } }

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// messageEvent is a direct message (message.im) "count" by 李娜, edited
// by edit.
func messageEvent(t *testing.T, eventID string, edit func(ev map[string]any)) []byte {
	t.Helper()
	body := slacktest.DirectMessage(eventID, "U0LINA", "D0LINA", "count")
	if edit == nil {
		return body
	}
	return slacktest.EditEvent(body, func(_, ev map[string]any) { edit(ev) })
}

// slashForm is a slash command in the coordination channel whose
// response_url lands on the fake.
func slashForm(t *testing.T, fake *slacktest.Server, command, text, user, trigger string) url.Values {
	t.Helper()
	return slacktest.SlashCommand(command, text, user, coordChat, trigger, fake.ResponseURL(trigger))
}

// clickPayload is the block_actions payload of a click by user on the
// button (action, value) of message ts in channel.
func clickPayload(t *testing.T, fake *slacktest.Server, user, channel, ts, action, value, trigger string) []byte {
	t.Helper()
	return slacktest.BlockActions(slacktest.Click{
		User: user, Channel: channel, MessageTS: ts, ActionID: action, Value: value,
		TriggerID: trigger, ResponseURL: fake.ResponseURL(trigger),
	})
}

// The test commands: "count" shows a counter card whose button adds one
// in the store and updates the card in place; "shout" answers the whole
// channel; "bump" adds one to a counter on every run; "export" answers
// with a file ("export public" to the channel); "slow" waits for the test
// to release it.
const counterColl = "slacktest_counter"

func testCommands(store bot.Store, release <-chan struct{}) []*bot.Command {
	get := func(ctx context.Context, id string) int {
		b, err := store.Get(ctx, counterColl, id)
		if err != nil {
			return 0
		}
		n, _ := strconv.Atoi(string(b))
		return n
	}
	card := func(id string, n int) *bot.Card {
		return &bot.Card{
			Title: "Counter " + id, Color: bot.Blue, Text: "value <" + strconv.Itoa(n) + ">",
			Fields:  []bot.Field{{Label: "Value", Value: strconv.Itoa(n)}},
			Buttons: []bot.Button{{Label: "+1", Action: "count.inc", Value: id, Style: "primary"}},
			Note:    "counted",
		}
	}
	return []*bot.Command{
		{
			Name: "count", Aliases: []string{"计数"},
			Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
				return &bot.Response{Replies: []bot.Reply{{Card: card("c1", get(ctx, "c1"))}}}, nil
			},
			Actions: []*bot.Action{{ID: "count.inc", Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
				n := get(ctx, req.Value) + 1
				if err := store.Put(ctx, counterColl, req.Value, []byte(strconv.Itoa(n))); err != nil {
					return nil, err
				}
				return &bot.Response{Replies: []bot.Reply{{Card: card(req.Value, n), Replace: true}}, Toast: "+1"}, nil
			}}},
		},
		{
			Name: "shout", Aliases: []string{"喊"},
			Run: func(_ context.Context, req *bot.Request) (*bot.Response, error) {
				return &bot.Response{Replies: []bot.Reply{{Text: "hello from " + bot.MentionTag(req.Person), Public: true}}}, nil
			},
		},
		{
			Name: "bump", Aliases: []string{"加"},
			Run: func(ctx context.Context, _ *bot.Request) (*bot.Response, error) {
				n := get(ctx, "bump") + 1
				if err := store.Put(ctx, counterColl, "bump", []byte(strconv.Itoa(n))); err != nil {
					return nil, err
				}
				return bot.Text("bumped to " + strconv.Itoa(n)), nil
			},
		},
		{
			Name: "export", Aliases: []string{"导出"},
			Run: func(_ context.Context, req *bot.Request) (*bot.Response, error) {
				f := bot.File{Name: "进度.csv", MIME: "text/csv", Data: []byte("项目,进度\nZG-1,60%\n")}
				public := len(req.Command.Args) > 0 && req.Command.Args[0] == "public"
				return &bot.Response{Replies: []bot.Reply{{Text: "exported", Files: []bot.File{f}, Public: public}}}, nil
			},
		},
		{
			Name: "slow", Aliases: []string{"慢"},
			Run: func(ctx context.Context, _ *bot.Request) (*bot.Response, error) {
				select {
				case <-release:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return bot.Text("slow done"), nil
			},
		},
	}
}

// counter reads the test counter from the store.
func counter(t *testing.T, store bot.Store, id string) int {
	t.Helper()
	b, err := store.Get(context.Background(), counterColl, id)
	if err != nil {
		if bot.IsNotFound(err) {
			return 0
		}
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(string(b))
	return n
}

// The kit posts to the routes Mount registers.
func TestKitRoutesMatchTheAdapter(t *testing.T) {
	if slacktest.PathEvents != PathEvents || slacktest.PathCommands != PathCommands || slacktest.PathInteractions != PathInteractions {
		t.Fatalf("slacktest routes %s %s %s, adapter %s %s %s", slacktest.PathEvents, slacktest.PathCommands, slacktest.PathInteractions,
			PathEvents, PathCommands, PathInteractions)
	}
}
