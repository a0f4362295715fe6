// Package lark connects xunji to Lark / Feishu through the official
// oapi-sdk-go v3: events and card callbacks arrive over HTTP on the shared
// listener (POST /lark/events, POST /lark/cards) or over the SDK's long
// connection (LARK_MODE=ws); messages and cards go out through the Open
// API (im/v1/messages).
//
// The adapter only translates. Identity, dedupe of re-delivered events
// (by header.event_id, through the store) and routing happen in the core,
// bot.Bot.Handle.
package lark

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lark "github.com/larksuite/oapi-sdk-go/v3"
	larkcore "github.com/larksuite/oapi-sdk-go/v3/core"
	larkevent "github.com/larksuite/oapi-sdk-go/v3/event"
	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher"

	"github.com/xunji-bot/xunji/bot"
)

// The event delivery modes.
const (
	// ModeHTTP receives events and card callbacks as HTTP callbacks on the
	// shared listener. It needs a public address.
	ModeHTTP = "http"
	// ModeWS receives them over the SDK's long connection (WebSocket), for
	// deployments without a public address.
	ModeWS = "ws"
)

const (
	// maxBody is the largest callback body accepted.
	maxBody = 1 << 20
	// cardBudget is how long a card callback waits for the core before it
	// answers with a "working on it" toast; Lark allows 3 seconds.
	cardBudget = 2500 * time.Millisecond
	// acceptTimeout bounds storing a message event in the durable inbox,
	// which happens before Lark gets its answer (it waits 3 seconds): a
	// store that does not answer gets a 500 in time, and Lark delivers
	// the event again.
	acceptTimeout = 2 * time.Second
	// cardAcceptTimeout bounds storing a card action in the durable inbox,
	// which comes out of the card's 2.5-second budget.
	cardAcceptTimeout = time.Second
	// workTimeout bounds the background work of one event (the core plus
	// sending its replies, retries included).
	workTimeout = 2 * time.Minute
	// signWindow is how far X-Lark-Request-Timestamp may be from now. Lark
	// re-delivers for about 7.1 hours; the window is longer than that and
	// shorter than bot.DedupeTTL, so a replayed body is refused once its
	// event id may have been forgotten.
	signWindow = 12 * time.Hour
)

// Config configures the adapter. The secrets (AppSecret,
// VerificationToken, EncryptKey) are never logged.
type Config struct {
	AppID     string // LARK_APP_ID
	AppSecret string // LARK_APP_SECRET
	// VerificationToken is checked in every HTTP event and callback
	// (LARK_VERIFICATION_TOKEN); required in ModeHTTP.
	VerificationToken string
	// EncryptKey, when set, means Lark encrypts bodies and signs requests
	// (LARK_ENCRYPT_KEY); both are then verified.
	EncryptKey string
	// BaseURL is the Open API base (LARK_BASE_URL); Feishu
	// (https://open.feishu.cn) when empty, https://open.larksuite.com for
	// Lark, or a private deployment or test server.
	BaseURL string
	// Mode is ModeHTTP (the default) or ModeWS (LARK_MODE).
	Mode string
	// BotOpenID is the bot's own open_id (LARK_BOT_OPEN_ID), to recognise
	// its mentions and its own messages. When empty it is fetched from
	// /open-apis/bot/v3/info on first need.
	BotOpenID string
	// TenantKey is the tenant events and card callbacks must come from
	// (LARK_TENANT_KEY); one from another is refused. Empty accepts every
	// tenant (Run warns).
	TenantKey string
}

// String describes c without its secrets.
func (c Config) String() string {
	return fmt.Sprintf("lark.Config{AppID:%s Mode:%s BaseURL:%s BotOpenID:%s TenantKey:%s AppSecret:%s VerificationToken:%s EncryptKey:%s}",
		c.AppID, c.mode(), c.baseURL(), c.BotOpenID, c.TenantKey, redact(c.AppSecret), redact(c.VerificationToken), redact(c.EncryptKey))
}

// LogValue implements slog.LogValuer without the secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("app_id", c.AppID), slog.String("mode", c.mode()),
		slog.String("base_url", c.baseURL()), slog.Bool("encrypted", c.EncryptKey != ""), slog.String("tenant_key", c.TenantKey))
}

func redact(s string) string {
	if s == "" {
		return `""`
	}
	return "***"
}

func (c Config) mode() string {
	if c.Mode == "" {
		return ModeHTTP
	}
	return c.Mode
}

func (c Config) baseURL() string {
	if c.BaseURL == "" {
		return lark.FeishuBaseUrl
	}
	return strings.TrimRight(c.BaseURL, "/")
}

// ConfigFrom reads the LARK_* variables through getenv. ok is false when
// LARK_APP_ID is unset, i.e. Lark is not configured.
func ConfigFrom(getenv func(string) string) (Config, bool) {
	c := Config{
		AppID:             strings.TrimSpace(getenv("LARK_APP_ID")),
		AppSecret:         strings.TrimSpace(getenv("LARK_APP_SECRET")),
		VerificationToken: strings.TrimSpace(getenv("LARK_VERIFICATION_TOKEN")),
		EncryptKey:        strings.TrimSpace(getenv("LARK_ENCRYPT_KEY")),
		BaseURL:           strings.TrimSpace(getenv("LARK_BASE_URL")),
		Mode:              strings.ToLower(strings.TrimSpace(getenv("LARK_MODE"))),
		BotOpenID:         strings.TrimSpace(getenv("LARK_BOT_OPEN_ID")),
		TenantKey:         strings.TrimSpace(getenv("LARK_TENANT_KEY")),
	}
	return c, c.AppID != ""
}

// Option changes how New builds the adapter.
type Option func(*Adapter)

// WithLogger logs through l instead of slog.Default().
func WithLogger(l *slog.Logger) Option { return func(a *Adapter) { a.log = l } }

// WithRejectHook calls f with a reason ("too_large", "unauthorized",
// "malformed", "foreign_tenant") for every request refused before
// handling, for metrics: HTTP callbacks, and long-connection events from
// another tenant.
func WithRejectHook(f func(reason string)) Option { return func(a *Adapter) { a.onReject = f } }

// Adapter is the Lark / Feishu adapter.
type Adapter struct {
	cfg      Config
	log      *slog.Logger
	onReject func(reason string)
	client   *lark.Client
	disp     *dispatcher.EventDispatcher

	mu      sync.Mutex
	h       bot.Handler
	closing bool
	botID   string // the bot's open_id once known
	// botIDTried is when fetching botID last failed.
	botIDTried time.Time
	wg         sync.WaitGroup

	// Knobs the tests turn.
	cardBudget      time.Duration
	retryBase       time.Duration
	attempts        int
	now             func() time.Time
	wsAutoReconnect bool
	wsUp            atomic.Bool // the long connection is up (wsStateLogger)
}

var _ bot.HTTPAdapter = (*Adapter)(nil)

// New returns an adapter for cfg. It makes no network calls.
func New(cfg Config, opts ...Option) (*Adapter, error) {
	if cfg.AppID == "" || cfg.AppSecret == "" {
		return nil, errors.New("lark: LARK_APP_ID and LARK_APP_SECRET are required")
	}
	switch cfg.mode() {
	case ModeHTTP:
		if cfg.VerificationToken == "" {
			return nil, errors.New("lark: LARK_VERIFICATION_TOKEN is required in http mode")
		}
	case ModeWS:
	default:
		return nil, fmt.Errorf("lark: LARK_MODE %q: want %q or %q", cfg.Mode, ModeHTTP, ModeWS)
	}
	a := &Adapter{
		cfg: cfg, botID: cfg.BotOpenID,
		cardBudget: cardBudget, retryBase: 500 * time.Millisecond, attempts: 5,
		now: time.Now, wsAutoReconnect: true,
	}
	for _, o := range opts {
		o(a)
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	a.log = a.log.With("platform", Name)
	copts := []lark.ClientOptionFunc{
		lark.WithOpenBaseUrl(cfg.baseURL()),
		lark.WithLogger(sdkLogger{a.log}),
		lark.WithLogLevel(larkcore.LogLevelInfo),
	}
	// Downloads of inbound files are bounded (files_in.go).
	// Answers and notices to many chats go out concurrently; the default
	// transport keeps two idle connections per host and would open (and
	// TLS-handshake) a new one for most of them.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	hc := &http.Client{Timeout: 30 * time.Second, Transport: t}
	copts = append(copts, lark.WithHttpClient(limitDownloads{inner: hc}))
	a.client = lark.NewClient(cfg.AppID, cfg.AppSecret, copts...)
	a.disp = dispatcher.NewEventDispatcher(cfg.VerificationToken, cfg.EncryptKey).
		OnP2MessageReceiveV1(a.onMessage).
		OnP2CardActionTrigger(a.onCard)
	a.disp.InitConfig(larkevent.WithLogger(sdkLogger{a.log}), larkevent.WithLogLevel(larkcore.LogLevelInfo))
	return a, nil
}

// Platform implements bot.Adapter: Name.
func (a *Adapter) Platform() bot.Platform { return Name }

// Mention implements bot.Adapter: the text-message markup of a mention,
// <at user_id="ou_…">name</at>. Cards render it as <at id=ou_…></at>.
func (a *Adapter) Mention(userID, name string) string {
	return `<at user_id="` + userID + `">` + name + `</at>`
}

// Mount implements bot.HTTPAdapter: POST /lark/events takes event
// subscriptions (url_verification, im.message.receive_v1) and POST
// /lark/cards card callbacks (card.action.trigger). Both share one SDK
// dispatcher, so either URL works for either kind.
//
// In ws mode nothing is mounted: events come over the long connection,
// and without a verification token HTTP callbacks could not be checked.
func (a *Adapter) Mount(mux *http.ServeMux, h bot.Handler) {
	a.setHandler(h)
	if a.cfg.mode() == ModeWS {
		a.log.Info("lark in long connection mode; /lark/events and /lark/cards not mounted")
		return
	}
	mux.Handle("POST /lark/events", a.httpHandler())
	mux.Handle("POST /lark/cards", a.httpHandler())
}

// Run implements bot.Adapter. In http mode it blocks until ctx is done
// (events arrive through Mount); in ws mode it runs the SDK's long
// connection client. Either way it then waits for the events still being
// processed.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	a.setHandler(h)
	a.mu.Lock()
	a.closing = false // a restart after a Run that returned
	a.mu.Unlock()
	a.log.Info("lark adapter running", "config", a.cfg)
	a.warnAnyTenant()
	// Learn the bot's open_id now rather than on the first message.
	_ = a.track(func(ctx context.Context) { a.botOpenID(ctx) })
	var err error
	if a.cfg.mode() == ModeWS {
		err = a.runWS(ctx)
	} else {
		<-ctx.Done()
	}
	a.drain()
	return err
}

func (a *Adapter) setHandler(h bot.Handler) {
	if h == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.h = h
}

func (a *Adapter) handler() bot.Handler {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.h
}

var errClosing = errors.New("lark: adapter is shutting down")

// track runs fn in the background with a context that outlives the
// request that started it; drain waits for it. After drain has begun it
// refuses new work, so the caller can answer with an error and Lark
// re-delivers the event later.
func (a *Adapter) track(fn func(ctx context.Context)) error {
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		return errClosing
	}
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), workTimeout)
		defer cancel()
		fn(ctx)
	}()
	return nil
}

// drain stops taking new background work and waits for what is running.
func (a *Adapter) drain() {
	a.mu.Lock()
	a.closing = true
	a.mu.Unlock()
	a.wg.Wait()
}

// wait waits for the background work started so far (tests).
func (a *Adapter) wait() { a.wg.Wait() }
