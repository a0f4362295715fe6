package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/i18n"
	"github.com/xunji-bot/xunji/commands/admin"
	boltstore "github.com/xunji-bot/xunji/storage/bolt"
	redisstore "github.com/xunji-bot/xunji/storage/redis"

	"github.com/redis/go-redis/v9"
)

// The secrets of the in-process pipeline; nothing leaves loopback.
const (
	slackSecret = "load-signing-secret"
	larkKey     = "load encrypt key"
	larkToken   = "load-verification-token"
)

// pipeline is the full xunji request path in this process: the Slack
// and Lark adapters (signature checks, decryption, durable inbox on the
// real Redis store or a bolt file, dedupe, identity, the command) on one
// loopback listener, a fake platform API that answers their replies, and
// the reference and bare handlers to compare with.
type pipeline struct {
	XunjiURL string // Slack and Lark routes
	// xunji and ref are the handlers behind XunjiURL and RefURL, for
	// benchmarks that call them without a connection.
	xunji, ref http.Handler
	BareURL    string // reads the body, answers 200
	RefURL     string // the reference: verifies, one SET NX, answers 200
	// Answers counts the calls the adapters made to the fake platform API,
	// but for Lark's tenant token (which the SDK caches per process).
	Answers atomic.Int64
	store   bot.Store
	rdb     *redis.Client // the run's Redis: the reference's, and the store's with -store redis
	prefix  string
	stop    []func()
}

// pipelineOptions choose what startPipeline builds.
type pipelineOptions struct {
	RedisURL string
	// Ingest: requests are accepted into the inbox and not processed
	// (see ingestOnly).
	Ingest bool
	// Store is "redis" (the default) or "bolt": a bbolt file in a
	// temporary directory, removed at Close.
	Store string
}

// ingestOnly is the bot with its processing switched off: requests are
// verified, decoded, deduplicated and stored in the durable inbox, then
// left there (this process lets go of them, as of requests it has
// handled). It measures the acknowledgement path alone.
type ingestOnly struct{ *bot.Inbox }

func (h ingestOnly) Process(_ context.Context, ticket string, _ *bot.Request) *bot.Response {
	h.LeaveToRecovery(ticket)
	return &bot.Response{Duplicate: true}
}

func (ingestOnly) Done(context.Context, string, *bot.Request) {}

// startPipeline starts the pipeline. On failure it stops what it
// started.
func startPipeline(ctx context.Context, o pipelineOptions) (*pipeline, error) {
	p := &pipeline{prefix: fmt.Sprintf("xunjiload:%d:", time.Now().UnixNano())}
	if err := p.start(ctx, o); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *pipeline) start(ctx context.Context, o pipelineOptions) error {
	if err := p.openStores(ctx, o); err != nil {
		return err
	}
	if err := p.startXunji(o); err != nil {
		return err
	}
	return p.startOthers()
}

// openStores opens the run's Redis client and xunji's store.
func (p *pipeline) openStores(ctx context.Context, o pipelineOptions) error {
	rs, err := redisstore.Open(ctx, o.RedisURL, redisstore.WithPrefix(p.prefix))
	if err != nil {
		return fmt.Errorf("redis %s: %w", o.RedisURL, err)
	}
	p.rdb = rs.Client()
	p.stop = append(p.stop, func() { p.cleanup(); _ = rs.Close() })
	switch o.Store {
	case "", "redis":
		p.store = rs
	case "bolt":
		dir, err := os.MkdirTemp("", "xunji-load")
		if err != nil {
			return err
		}
		p.stop = append(p.stop, func() { _ = os.RemoveAll(dir) })
		bs, err := boltstore.Open(filepath.Join(dir, "xunji.db"))
		if err != nil {
			return err
		}
		p.store = bs
		p.stop = append(p.stop, func() { _ = bs.Close() })
	default:
		return fmt.Errorf("unknown store %q (redis, bolt)", o.Store)
	}
	return nil
}

// startXunji starts the fake platform API and xunji on it: a bot with
// the Slack and Lark adapters mounted on one HTTP server.
func (p *pipeline) startXunji(o pipelineOptions) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := p.store
	api, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/tenant_access_token/internal") {
			p.Answers.Add(1)
		}
		fakePlatform(w, r)
	}))
	if err != nil {
		return err
	}
	p.stop = append(p.stop, api.close)

	cfg := config.Demo()
	ps := bot.NewPlatforms(slack.Platform(), lark.Platform(), console.Platform())
	b, err := bot.New(bot.Options{Store: store, Translator: i18n.MustLoad(), Roster: cfg.Roster(ps), Groups: cfg.ChatGroups(ps),
		Location: cfg.Location(), Lang: cfg.Lang, Logger: quiet, Calendar: cfg.Calendar(), Platforms: ps})
	if err != nil {
		return err
	}
	if err := admin.Module(nil).Setup(b, cfg); err != nil {
		return err
	}
	sa, err := slack.New(slack.Config{BotToken: "xoxb-load", SigningSecret: slackSecret, APIURL: api.url + "/api/", BotUserID: "UXUNJI"}, slack.WithLogger(quiet))
	if err != nil {
		return err
	}
	la, err := lark.New(lark.Config{AppID: "cli_load", AppSecret: "secret", VerificationToken: larkToken, EncryptKey: larkKey, BaseURL: api.url, BotOpenID: "ou_bot_xunji"}, lark.WithLogger(quiet))
	if err != nil {
		return err
	}
	var h bot.Handler = b.Inbox
	if o.Ingest {
		h = ingestOnly{b.Inbox}
	}
	mux := http.NewServeMux()
	for _, a := range []bot.HTTPAdapter{sa, la} {
		b.Out.AddAdapter(a)
		a.Mount(mux, h)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, a := range []bot.Adapter{sa, la} {
		wg.Add(1)
		go func(a bot.Adapter) { defer wg.Done(); _ = a.Run(runCtx, h) }(a)
	}
	p.xunji = mux
	xs, err := serve(mux)
	if err != nil {
		cancel()
		return err
	}
	p.XunjiURL = xs.url
	p.stop = append(p.stop, func() { xs.close(); cancel(); wg.Wait() })
	return nil
}

// startOthers starts the servers xunji is compared with: a bare one that
// only acknowledges, and the reference.
func (p *pipeline) startOthers() error {
	bare, err := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	if err != nil {
		return err
	}
	p.BareURL = bare.url
	p.stop = append(p.stop, bare.close)

	// The reference claims through its own automatic pipeline on the
	// run's Redis client, as the Redis store does through its own.
	ap, err := p.rdb.AutoPipeline()
	if err != nil {
		return err
	}
	p.stop = append(p.stop, func() { _ = ap.Close() })
	p.ref = referenceHandler(ap, slackSecret, p.prefix+"ref:", bot.DedupeTTL)
	ref, err := serve(p.ref)
	if err != nil {
		return err
	}
	p.RefURL = ref.url
	p.stop = append(p.stop, ref.close)
	return nil
}

// Close stops everything, removes the run's keys from Redis and the bolt
// file.
func (p *pipeline) Close() {
	for i := len(p.stop) - 1; i >= 0; i-- {
		p.stop[i]()
	}
}

func (p *pipeline) cleanup() {
	ctx := context.Background()
	c := p.rdb
	iter := c.Scan(ctx, 0, p.prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 1000 {
			c.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}

type server struct {
	url   string
	close func()
}

func serve(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.Serve(ln) }()
	return &server{url: "http://" + ln.Addr().String(), close: func() { _ = s.Close() }}, nil
}

// fakePlatform answers every Slack Web API and Lark Open API call the
// adapters make with success. Its answers are prepared once: a real
// platform's work is not on this machine, so the fake's should cost as
// little as possible.
func fakePlatform(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasPrefix(r.URL.Path, "/api/"):
		_, _ = w.Write(slackOK)
	case strings.HasSuffix(r.URL.Path, "/tenant_access_token/internal"):
		_, _ = w.Write(larkTenantToken)
	default:
		_, _ = w.Write(larkOK)
	}
}

var (
	slackOK = mustJSON(map[string]any{"ok": true, "channel": "C0DEMOCOORD", "ts": "1700000000.000100", "user_id": "UXUNJI",
		"channel_id": "D0LOAD", "message_ts": "1700000000.000100"})
	larkTenantToken = mustJSON(map[string]any{"code": 0, "msg": "ok", "tenant_access_token": "t-load", "expire": 7200})
	larkOK          = mustJSON(map[string]any{"code": 0, "msg": "success", "data": map[string]any{"message_id": "om_load", "chat_id": "oc_load"}})
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
