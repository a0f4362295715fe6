// Package slack connects xunji to Slack through slack-go.
//
// Two ways in, chosen by Config.Mode:
//
//   - "http" (the default): Slack POSTs to three routes on the shared
//     listener (Mount): /slack/events (Events API), /slack/commands (slash
//     commands) and /slack/interactions (Block Kit buttons). Every request's
//     v0 signature is checked on the raw body before anything is parsed.
//   - "socket": the adapter opens a Socket Mode websocket with an app-level
//     token (xapp-…) and receives the same events, commands and clicks
//     there; Run drives it.
//
// Either way Slack gets its acknowledgement at once and the command runs
// afterwards in the background; its answer goes out through the
// command's response_url or the Web API. When the handler has a durable
// inbox (bot.DurableHandler, as bot.Bot.Inbox does) the request is stored
// before the acknowledgement, so a crash loses nothing; when it cannot be
// stored Slack gets 503 and delivers it again. Platform retries never
// apply an action twice: every request carries the platform's event id
// (event_id, or trigger_id for commands and clicks), which the core
// claims in the store.
//
// The adapter itself shows no text of its own: every word a user reads
// comes from the core's answer.
package slack

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

	slackgo "github.com/slack-go/slack"

	"github.com/xunji-bot/xunji/bot"
)

// The connection modes.
const (
	// ModeHTTP receives events on the shared HTTP listener.
	ModeHTTP = "http"
	// ModeSocket receives events over a Socket Mode websocket.
	ModeSocket = "socket"
)

// The routes Mount registers.
const (
	PathEvents       = "/slack/events"
	PathCommands     = "/slack/commands"
	PathInteractions = "/slack/interactions"
)

// MaxBodyBytes is the largest request body the HTTP routes accept.
const MaxBodyBytes = 1 << 20

// Config configures the adapter. Only BotToken is always required;
// SigningSecret is required in HTTP mode and AppToken in socket mode.
type Config struct {
	BotToken      string // xoxb-… bot token for the Web API
	SigningSecret string // signing secret that signs HTTP requests
	AppToken      string // xapp-… app-level token for Socket Mode
	// APIURL is the Web API base URL; empty means https://slack.com/api/.
	// A missing trailing "/" is added.
	APIURL string
	// Mode is ModeHTTP (the default) or ModeSocket.
	Mode string
	// BotUserID is the bot's own user id (U…); when empty it is looked up
	// with auth.test when Run starts.
	BotUserID string
	// TeamID is the workspace (T…) requests must come from; a request
	// from another is refused. Empty accepts every workspace (Run warns).
	TeamID string
}

// ConfigFrom reads the configuration, through getenv, from
// SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL,
// SLACK_MODE, SLACK_BOT_USER_ID and SLACK_TEAM_ID. ok is false when
// SLACK_BOT_TOKEN is unset, meaning Slack is not configured.
func ConfigFrom(getenv func(string) string) (Config, bool) {
	get := func(k string) string { return strings.TrimSpace(getenv(k)) }
	c := Config{
		BotToken:      get("SLACK_BOT_TOKEN"),
		SigningSecret: get("SLACK_SIGNING_SECRET"),
		AppToken:      get("SLACK_APP_TOKEN"),
		APIURL:        get("SLACK_API_URL"),
		Mode:          strings.ToLower(get("SLACK_MODE")),
		BotUserID:     get("SLACK_BOT_USER_ID"),
		TeamID:        get("SLACK_TEAM_ID"),
	}
	return c, c.BotToken != ""
}

// String describes c without its secrets.
func (c Config) String() string {
	return fmt.Sprintf("slack.Config{Mode:%s APIURL:%s BotUserID:%s TeamID:%s BotToken:%s SigningSecret:%s AppToken:%s}",
		c.mode(), c.apiURL(), c.BotUserID, c.TeamID, redact(c.BotToken), redact(c.SigningSecret), redact(c.AppToken))
}

// LogValue implements slog.LogValuer without the secrets.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("mode", c.mode()), slog.String("api_url", c.apiURL()),
		slog.String("bot_user_id", c.BotUserID), slog.String("team_id", c.TeamID))
}

func (c Config) mode() string {
	if c.Mode == "" {
		return ModeHTTP
	}
	return c.Mode
}

func (c Config) apiURL() string {
	if c.APIURL == "" {
		return slackgo.APIURL
	}
	return c.APIURL
}

func redact(s string) string {
	if s == "" {
		return `""`
	}
	return "***"
}

// Option changes how New builds the adapter.
type Option func(*Adapter)

// WithLogger sets the logger; slog.Default() when not given.
func WithLogger(l *slog.Logger) Option { return func(a *Adapter) { a.log = l } }

// WithNow sets the clock the replay window of request signatures is
// measured with (slack-go checks the system clock as well).
func WithNow(now func() time.Time) Option { return func(a *Adapter) { a.now = now } }

// WithRejectHook calls f with a reason ("too_large", "unauthorized",
// "malformed", "unavailable", "foreign_team") for every request refused
// before it reaches the bot, e.g. to count them in metrics: HTTP requests,
// and Socket Mode envelopes from another workspace.
func WithRejectHook(f func(reason string)) Option { return func(a *Adapter) { a.onReject = f } }

// Adapter is the Slack adapter.
type Adapter struct {
	cfg        Config
	log        *slog.Logger
	now        func() time.Time
	httpClient *http.Client
	api        *slackgo.Client
	onReject   func(reason string)

	jobs jobs
	pace *pacer
	// connected is whether the Socket Mode websocket is up.
	connected atomic.Bool

	// ackWait is how long a slash command waits for its answer so that the
	// answer can ride on the acknowledgement; past it the acknowledgement
	// goes out empty and the answer follows through response_url.
	ackWait time.Duration
	// workTimeout bounds one request's background work.
	workTimeout time.Duration
	// retries is how often a Web API call is retried (429, 5xx, network).
	retries int

	mu      sync.Mutex
	handler bot.Handler       // set by Mount
	botUser string            // the bot's own user id
	dms     map[string]string // user id → direct message channel id
}

var _ bot.HTTPAdapter = (*Adapter)(nil)

// New returns an adapter for cfg. It makes no network calls.
func New(cfg Config, opts ...Option) (*Adapter, error) {
	cfg.Mode = cfg.mode()
	switch {
	case cfg.BotToken == "":
		return nil, errors.New("slack: a bot token (SLACK_BOT_TOKEN) is required")
	case cfg.Mode != ModeHTTP && cfg.Mode != ModeSocket:
		return nil, fmt.Errorf("slack: mode %q: want %q or %q", cfg.Mode, ModeHTTP, ModeSocket)
	case cfg.Mode == ModeHTTP && cfg.SigningSecret == "":
		return nil, errors.New("slack: HTTP mode needs the signing secret (SLACK_SIGNING_SECRET)")
	case cfg.Mode == ModeSocket && !strings.HasPrefix(cfg.AppToken, "xapp-"):
		return nil, errors.New("slack: socket mode needs an app-level token xapp-… (SLACK_APP_TOKEN)")
	}
	if cfg.APIURL != "" && !strings.HasSuffix(cfg.APIURL, "/") {
		cfg.APIURL += "/"
	}
	a := &Adapter{
		cfg:         cfg,
		ackWait:     2 * time.Second,
		workTimeout: 5 * time.Minute,
		retries:     3,
		botUser:     cfg.BotUserID,
		dms:         map[string]string{},
		pace:        newPacer(time.Second, 3),
	}
	for _, o := range opts {
		o(a)
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	// Answers and notices to many channels go out concurrently; the
	// default transport keeps two idle connections per host and would
	// open (and TLS-handshake) a new one for most of them.
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	a.httpClient = &http.Client{Timeout: 30 * time.Second, Transport: t}
	a.log = a.log.With("adapter", "slack")
	a.api = slackgo.New(cfg.BotToken, a.clientOptions()...)
	return a, nil
}

func (a *Adapter) clientOptions() []slackgo.Option {
	opts := []slackgo.Option{slackgo.OptionHTTPClient(a.httpClient)}
	if a.cfg.APIURL != "" {
		opts = append(opts, slackgo.OptionAPIURL(a.cfg.APIURL))
	}
	if a.cfg.AppToken != "" {
		opts = append(opts, slackgo.OptionAppLevelToken(a.cfg.AppToken))
	}
	// Retries wrap the HTTP client, so they must come after it: 429 after
	// Retry-After, and connection errors and 5xx with backoff.
	rc := slackgo.RetryConfig{
		MaxRetries:         a.retries,
		RetryAfterDuration: 5 * time.Second,
		RetryAfterJitter:   250 * time.Millisecond,
		BackoffInitial:     200 * time.Millisecond,
		BackoffMax:         5 * time.Second,
		BackoffJitter:      100 * time.Millisecond,
	}
	rc.Handlers = append(slackgo.AllBuiltinRetryHandlers(rc), slackgo.NewServerErrorRetryHandler(rc))
	return append(opts, slackgo.OptionRetryConfig(rc))
}

// Platform implements bot.Adapter.
func (a *Adapter) Platform() bot.Platform { return Name }

// Mention implements bot.Adapter: Slack renders <@U…> as the user's name.
func (a *Adapter) Mention(userID, _ string) string { return "<@" + userID + ">" }

// Mount implements bot.HTTPAdapter: it registers the Events API, slash
// command and interactivity routes in HTTP mode, and nothing in socket
// mode.
func (a *Adapter) Mount(mux *http.ServeMux, h bot.Handler) {
	a.mu.Lock()
	a.handler = h
	a.mu.Unlock()
	if a.cfg.Mode != ModeHTTP {
		a.log.Info("socket mode: no HTTP routes mounted")
		return
	}
	mux.HandleFunc("POST "+PathEvents, a.serveEvents)
	mux.HandleFunc("POST "+PathCommands, a.serveCommands)
	mux.HandleFunc("POST "+PathInteractions, a.serveInteractions)
}

// Run implements bot.Adapter. It learns the bot's user id (auth.test)
// unless configured, and fails when Slack refuses the bot token. In HTTP mode it then waits for ctx and the
// background work of requests already acknowledged; in socket mode it
// runs the Socket Mode client until ctx is done, then waits the same way.
func (a *Adapter) Run(ctx context.Context, h bot.Handler) error {
	a.mu.Lock()
	if a.handler == nil {
		a.handler = h
	}
	if h == nil {
		h = a.handler
	}
	a.mu.Unlock()
	if h == nil {
		return errors.New("slack: Run needs a handler")
	}
	a.warnAnyTeam()
	a.jobs.open() // a restart after a Run that returned
	if _, err := a.botUserID(ctx); err != nil {
		if ctx.Err() != nil {
			// Stopped while asking: a shutdown, not a failure.
			a.jobs.close()
			return nil
		}
		var perm bot.Permanent
		if errors.As(err, &perm) || bot.IsAuthFailure(err) {
			a.jobs.close()
			return err
		}
		// Slack unreachable for now: run without knowing the bot's id; the
		// bot's own messages are still recognised by their bot_id.
		a.log.Warn("slack auth.test failed; continuing", "err", err)
	}
	if a.cfg.Mode == ModeSocket {
		err := a.runSocket(ctx, h)
		a.jobs.close()
		return err
	}
	a.log.Info("slack adapter ready", "mode", a.cfg.Mode)
	<-ctx.Done()
	a.jobs.close()
	return nil
}

var _ bot.CredentialChecker = (*Adapter)(nil)

// CheckCredentials implements bot.CredentialChecker: it asks auth.test
// whether Slack accepts the bot token (and learns the bot's user id). A
// refused token is a bot.AuthFailure naming Slack's error code.
func (a *Adapter) CheckCredentials(ctx context.Context) error {
	res, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return classify("auth.test", err)
	}
	a.mu.Lock()
	if a.botUser == "" {
		a.botUser = res.UserID
	}
	a.mu.Unlock()
	a.log.Info("slack credentials accepted", "user", res.UserID, "team", res.TeamID)
	return nil
}

// botUserID returns the bot's own user id, asking auth.test the first
// time when it was not configured.
func (a *Adapter) botUserID(ctx context.Context) (string, error) {
	a.mu.Lock()
	id := a.botUser
	a.mu.Unlock()
	if id != "" {
		return id, nil
	}
	res, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return "", classify("auth.test", err)
	}
	a.mu.Lock()
	a.botUser = res.UserID
	a.mu.Unlock()
	a.log.Info("slack bot identity", "user", res.UserID, "team", res.TeamID)
	return res.UserID, nil
}

// knownBotUser returns the bot's user id if it is known yet.
func (a *Adapter) knownBotUser() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.botUser
}

func (a *Adapter) currentHandler() bot.Handler {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.handler
}

// jobs tracks background work so that shutdown can wait for it. Once
// closed it takes no more work: the HTTP routes then answer 503 and Slack
// retries the event against a running instance.
type jobs struct {
	mu     sync.Mutex
	wg     sync.WaitGroup
	closed bool
}

// start runs f in a goroutine and reports whether it was accepted.
func (j *jobs) start(f func()) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return false
	}
	j.wg.Go(f)
	return true
}

// open takes work again after close (an adapter restarted).
func (j *jobs) open() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closed = false
}

// isClosed reports whether the adapter is shutting down.
func (j *jobs) isClosed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.closed
}

// close refuses new work and waits for the work in flight.
func (j *jobs) close() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.wg.Wait()
}

// wait waits for the work in flight without closing; for tests.
func (j *jobs) wait() { j.wg.Wait() }
