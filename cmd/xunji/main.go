// Command xunji runs the inspection–discipline collaboration bot.
//
// With no configuration it starts the console adapter on an embedded
// bbolt store and the demo district, so it can be tried offline:
//
//	go run ./cmd/xunji
//
// With a configuration file (-config or XUNJI_CONFIG) and platform
// secrets in the environment it serves Slack and/or Lark.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/xunji-bot/xunji/commands/all"

	"github.com/jonboulle/clockwork"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/i18n"
	"github.com/xunji-bot/xunji/bot/metrics"
	"github.com/xunji-bot/xunji/bot/outbox"
	"github.com/xunji-bot/xunji/bot/schedule"
	boltstore "github.com/xunji-bot/xunji/storage/bolt"
	redisstore "github.com/xunji-bot/xunji/storage/redis"
)

func main() {
	if code, handled := dispatch(os.Args[1:], os.Stdout, os.Stderr, os.Getenv); handled {
		os.Exit(code) // -version, backup, restore, migrate (version.go)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain()
	if err := m.ParseFlags(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "xunji:", err)
		os.Exit(2)
	}
	err := m.Run(ctx)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "xunji:", err)
		os.Exit(1)
	}
}

// Main is the program: configuration, store, bot, adapters, scheduler
// and HTTP listener, wired here and nowhere else.
type Main struct {
	ConfigPath string
	As         string // console person
	Console    string // "auto", "on" or "off"
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	Getenv     func(string) string
	// Clock is the program's clock: the bot's dates, the outbox and the
	// scheduler all read it. The real clock unless a test sets another.
	Clock clockwork.Clock

	Config *config.Config
	// Platforms are the platforms the program has adapters for
	// (platforms()); the configuration's ids are checked against them.
	Platforms *bot.Platforms
	Store     bot.Store
	Bot       *bot.Bot
	Log       *slog.Logger
	Outbox    *outbox.Outbox
	Metrics   *metrics.Metrics

	// HTTPAddr is the bound listener address once Run has started it.
	HTTPAddr string
	// AdminAddr is the bound admin listener address (/livez, /readyz,
	// /metrics) once Run has started it.
	AdminAddr string
	ready     chan struct{}
	closers   []func() error

	states         map[bot.Platform]*adapterState
	outboxAlive    atomic.Bool
	adapterBackoff time.Duration // XUNJI_ADAPTER_BACKOFF, for tests
	inboxGrace     time.Duration // XUNJI_INBOX_GRACE, for tests
	shutdownBound  time.Duration
	// shutdownBy is when the shutdown bound that began when Run's context
	// ended runs out; Close gives up waiting then.
	shutdownBy    time.Time
	wrapStore     func(bot.Store) bot.Store // for tests: a store whose Close blocks
	extraCommands []*bot.Command            // registered after the real ones, for tests
	calendar      *schedule.CalendarWatch
}

// NewMain returns a Main reading the process's streams and environment.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Console: "auto", Clock: clockwork.NewRealClock(), ready: make(chan struct{})}
}

// ParseFlags reads the command line.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("xunji", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&m.ConfigPath, "config", m.Getenv("XUNJI_CONFIG"), "configuration file (env XUNJI_CONFIG); none: the demo district")
	fs.StringVar(&m.As, "as", "王明", "console: the roster member to act as")
	fs.StringVar(&m.Console, "console", "auto", "console adapter: auto (when no platform is configured), on or off")
	return fs.Parse(args)
}

// Ready is closed once Run has started everything (for tests).
func (m *Main) Ready() <-chan struct{} { return m.ready }

// Run starts the bot and blocks until ctx is done or the console input
// ends; in-flight work finishes before it returns.
func (m *Main) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := m.setup(ctx); err != nil {
		return err
	}
	b := m.Bot
	platforms, err := m.platformAdapters()
	if err != nil {
		return err
	}
	con, adapters, err := m.withConsole(platforms)
	if err != nil {
		return err
	}
	if err := m.checkCredentials(ctx, platforms); err != nil {
		return err
	}
	if err := m.backfill(ctx); err != nil {
		return err
	}
	if err := m.startOutbox(ctx, con != nil); err != nil {
		return err
	}
	for _, a := range platforms {
		b.Out.AddAdapter(a)
	}
	// A calendar gap is logged at start-up (and daily by its job) and told
	// to the office once per missing year.
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	if _, err := m.calendar.Check(cctx, m.Clock.Now()); err != nil {
		m.Log.Warn("the holiday calendar's gap could not be reported yet; the hourly check tries again", "err", err)
	}
	ccancel()
	srv, admin, err := m.startListeners(platforms, cancel)
	if err != nil {
		return err
	}
	sched, err := m.startJobs(ctx)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	outboxCtx, stopOutbox := context.WithCancel(context.Background())
	outboxDone := make(chan struct{})
	m.outboxAlive.Store(true)
	go func() {
		defer close(outboxDone)
		defer m.outboxAlive.Store(false)
		_ = m.Outbox.Run(outboxCtx)
	}()
	m.states = map[bot.Platform]*adapterState{}
	for _, a := range adapters {
		st := &adapterState{}
		st.running.Store(true) // from now: /readyz must not see it stopped before it starts
		m.states[a.Platform()] = st
		isConsole := a == bot.Adapter(con)
		// The console's input ended: the session is over.
		wg.Go(func() { m.supervise(ctx, a, st, !isConsole, cancel) })
	}
	m.Log.Info("xunji started", "adapters", len(adapters), "store", m.Config.Store.Kind, "tz", m.Config.Timezone)
	close(m.ready)
	<-ctx.Done()
	m.shutdown(srv, admin, &wg, sched, stopOutbox, outboxDone)
	return nil
}

// withConsole returns the console adapter when the program runs one
// (-console on, or auto with no platform configured), and every adapter
// to supervise. The console is added to the bot at once: the demo seed
// queues its cards for it alone, before the platform adapters are
// added, so a demo started with platform credentials does not post demo
// records to their (made-up) demo channels.
func (m *Main) withConsole(platforms []bot.Adapter) (*console.Adapter, []bot.Adapter, error) {
	adapters := slices.Clone(platforms)
	var con *console.Adapter
	if m.Console == "on" || (m.Console == "auto" && len(adapters) == 0) {
		b := m.Bot
		con = console.New(console.Options{In: m.Stdin, Out: m.Stdout, As: m.As, Chat: m.consoleChat(), Tr: b.Translator(), Lang: b.Lang})
		adapters = append(adapters, con)
		b.Out.AddAdapter(con)
	}
	if len(adapters) == 0 {
		return nil, nil, errors.New("no adapter to run: configure Slack or Lark, or run with -console on")
	}
	return con, adapters, nil
}

// backfill builds the indexes a store written by an older version lacks,
// each once (a marker records it), before any command reads them.
func (m *Main) backfill(ctx context.Context) error {
	b := m.Bot
	// The audit index, before any command reads a record's history.
	if n, err := bot.BackfillAuditIndex(ctx, b.Store); err != nil {
		return fmt.Errorf("building the audit index: %w", err)
	} else if n > 0 {
		m.Log.Info("audit index built for the existing audit log", "entries", n)
	}
	// Likewise the domains' indexes (each once, with its own marker).
	if n, err := all.BackfillIndexes(ctx, b); err != nil {
		return fmt.Errorf("building the record indexes: %w", err)
	} else if len(n) > 0 {
		m.Log.Info("record indexes built for the existing records", "records", n)
	}
	return nil
}

// startOutbox makes the durable outbox the bot's sender (every notice
// goes through it) and, for the demo, seeds the demo records, delivering
// their cards to the console (withConsole) at once.
func (m *Main) startOutbox(ctx context.Context, withConsole bool) error {
	b := m.Bot
	var lease time.Duration
	if v := m.Getenv("XUNJI_OUTBOX_LEASE"); v != "" { // for tests of crash recovery
		var err error
		if lease, err = time.ParseDuration(v); err != nil || lease < time.Second {
			return fmt.Errorf("XUNJI_OUTBOX_LEASE: %q is not a duration of at least 1s", v)
		}
	}
	var sentTTL map[bot.Platform]time.Duration
	if v := m.Getenv("XUNJI_OUTBOX_SENT_TTL"); v != "" { // how long a queued card's delivery record is kept
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Hour {
			return fmt.Errorf("XUNJI_OUTBOX_SENT_TTL: %q is not a duration of at least 1h", v)
		}
		sentTTL = map[bot.Platform]time.Duration{}
		for _, p := range m.Platforms.Names() {
			sentTTL[p] = d
		}
	}
	m.Outbox = outbox.New(b, outbox.Options{Uncertain: m.Metrics.PossibleDuplicate, Lease: lease, SentTTL: sentTTL,
		Failed: m.Metrics.DeliveryFailed, Delivered: m.Metrics.Delivered, Buried: m.Metrics.DeadLetter})
	b.Out.SetSender(m.Outbox)
	m.Metrics.WatchOutbox(m.Outbox.Stats)
	// The demo is seeded once the console and the outbox exist, so that
	// its cards and DMs are queued for the console and shown at start
	// (the README's walkthrough presses the seeded clue card's button).
	if m.ConfigPath != "" {
		return nil
	}
	if err := seedDemo(ctx, b); err != nil {
		return fmt.Errorf("demo data: %w", err)
	}
	// Deliver them before the console reads its first line, so that
	// their buttons are numbered when the user presses one.
	if withConsole {
		if _, err := m.Outbox.Flush(ctx); err != nil {
			m.Log.Warn("demo: delivering the seeded cards", "err", err)
		}
	}
	return nil
}

// startListeners starts the shared HTTP listener (platform callbacks
// only) when an adapter takes callbacks or XUNJI_HTTP_ADDR is set, and
// the admin listener (/livez, /readyz, /metrics) whenever the program
// serves platforms or XUNJI_ADMIN_ADDR is set ("off" turns it off).
func (m *Main) startListeners(platforms []bot.Adapter, cancel func()) (srv, admin *http.Server, err error) {
	var httpAdapters []bot.HTTPAdapter
	for _, a := range platforms {
		if ha, ok := a.(bot.HTTPAdapter); ok {
			httpAdapters = append(httpAdapters, ha)
		}
	}
	addr := m.Getenv("XUNJI_HTTP_ADDR")
	if addr == "" && len(httpAdapters) > 0 {
		addr = m.Config.HTTP.Addr
	}
	if addr != "" {
		if srv, err = m.startHTTP(addr, httpAdapters, cancel); err != nil {
			return nil, nil, err
		}
	}
	adminAddr := m.Getenv("XUNJI_ADMIN_ADDR")
	if adminAddr == "" && len(platforms) > 0 {
		adminAddr = defaultAdminAddr
	}
	if adminAddr != "" && adminAddr != "off" {
		if admin, err = m.startAdmin(adminAddr, cancel); err != nil {
			if srv != nil {
				_ = srv.Close()
			}
			return nil, nil, err
		}
	}
	return srv, admin, nil
}

// startHTTP serves the adapters' callbacks on addr.
func (m *Main) startHTTP(addr string, adapters []bot.HTTPAdapter, cancel func()) (*http.Server, error) {
	mux := http.NewServeMux()
	for _, ha := range adapters {
		ha.Mount(mux, m.Bot.Inbox)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("http: %w", err)
	}
	m.HTTPAddr = ln.Addr().String()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("http server stopped", "err", err)
			cancel()
		}
	}()
	m.Log.Info("listening", "addr", m.HTTPAddr)
	return srv, nil
}

// shutdown stops everything within the shutdown bound
// (XUNJI_SHUTDOWN_TIMEOUT, 25 s by default): in-flight HTTP requests,
// the adapters' background work, the scheduler, then the outbox. Work
// still running at the bound is abandoned: a request's inbox entry is
// removed only when it is done, so another replica or the next start
// recovers it; an outbox entry stays stored likewise.
func (m *Main) shutdown(srv, admin *http.Server, wg *sync.WaitGroup, sched interface{ Shutdown() error }, stopOutbox func(), outboxDone <-chan struct{}) {
	bound := m.shutdownBound
	if bound <= 0 {
		bound = defaultShutdownTimeout
	}
	m.Log.Info("shutting down", "bound", bound)
	m.shutdownBy = time.Now().Add(bound) // Close, after Run, is within it too
	ctx, done := context.WithTimeout(context.Background(), bound)
	defer done()
	if srv != nil {
		_ = srv.Shutdown(ctx) // waits for in-flight HTTP requests
	}
	step := func(what string, f func()) bool {
		finished := make(chan struct{})
		go func() { defer close(finished); f() }()
		select {
		case <-finished:
			return true
		case <-ctx.Done():
			m.Log.Error("shutdown bound reached; work still running is left for recovery (inbox and outbox entries stay stored)",
				"waiting_for", what, "bound", bound)
			return false
		}
	}
	ok := step("adapters", wg.Wait) // adapters wait for their background work
	if ok && sched != nil {
		ok = step("scheduler", func() { _ = sched.Shutdown() })
	}
	// The outbox stops last, after the work that may still queue messages;
	// what it could not send stays stored for the next start.
	stopOutbox()
	if ok {
		step("outbox", func() { <-outboxDone })
	}
	if admin != nil {
		_ = admin.Close()
	}
}

// platforms lists every platform the program has an adapter for. Adding
// a platform is a folder under adapters/ and a line here.
func platforms() *bot.Platforms {
	return bot.NewPlatforms(
		slack.Platform(),
		lark.Platform(),
		console.Platform(),
	)
}

// setup reads the configuration and the environment, opens the store and
// builds the bot with every command.
func (m *Main) setup(ctx context.Context) error {
	if err := m.setupLog(); err != nil {
		return err
	}
	m.Platforms = platforms()
	if err := m.loadConfig(); err != nil {
		return err
	}
	if err := m.openStore(ctx); err != nil {
		return err
	}
	if err := m.readTimings(); err != nil {
		return err
	}
	return m.newBot()
}

// setupLog makes the program's JSON logger (XUNJI_LOG_LEVEL).
func (m *Main) setupLog() error {
	level := slog.LevelInfo
	if m.Console == "on" || m.ConfigPath == "" {
		level = slog.LevelWarn // keep the terminal for the conversation
	}
	if v := m.Getenv("XUNJI_LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return fmt.Errorf("XUNJI_LOG_LEVEL: %q is not a level: use DEBUG, INFO, WARN or ERROR", v)
		}
	}
	m.Log = slog.New(slog.NewJSONHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	redisstore.SetLogger(m.Log) // the Redis client's own lines too
	return nil
}

// loadConfig reads the configuration (the demo's without one) and checks
// its platform ids against the platforms the program has.
func (m *Main) loadConfig() error {
	if m.ConfigPath == "" {
		m.Config = config.Demo()
	} else {
		c, err := all.Load(m.ConfigPath) // the core and every domain's settings
		if err != nil {
			return err
		}
		m.Config = c
	}
	if err := m.Config.ValidatePlatforms(m.Platforms); err != nil {
		if m.ConfigPath != "" {
			return fmt.Errorf("config %s: %w", m.ConfigPath, err)
		}
		return err
	}
	if old := m.Config.Deprecated(); len(old) > 0 {
		m.Log.Warn("configuration: platform ids as flat keys (slack: …) are deprecated; write them as an ids map (ids: {slack: …})",
			"entries", old)
	}
	return nil
}

// openStore opens the configured store (XUNJI_STORE_PATH and REDIS_URL
// override the file's settings).
func (m *Main) openStore(ctx context.Context) error {
	if p := m.Getenv("XUNJI_STORE_PATH"); p != "" {
		m.Config.Store.Path = p
	}
	if u := m.Getenv("REDIS_URL"); u != "" {
		if m.Config.Store.Kind != "redis" {
			// Replicas that each fell back to a file of their own would
			// each send every scheduled notice: refuse rather than guess.
			where := "the demo configuration"
			if m.ConfigPath != "" {
				where = m.ConfigPath
			}
			return fmt.Errorf("REDIS_URL is set but the store is %s (store.kind in %s): set store.kind: redis to use Redis, or unset REDIS_URL to use the embedded store", m.Config.Store.Kind, where)
		}
		m.Config.Store.RedisURL = u
	}
	switch m.Config.Store.Kind {
	case "redis":
		s, err := redisstore.Open(ctx, m.Config.Store.RedisURL, redisstore.WithPrefix(m.Config.Store.Prefix),
			redisstore.WithReplicas(m.Config.Store.Replicas, time.Second))
		if err != nil {
			return fmt.Errorf("store: %w", err)
		}
		m.Store = s
	default:
		s, err := boltstore.Open(m.Config.Store.Path)
		if err != nil {
			return fmt.Errorf("store %s: %w", m.Config.Store.Path, err)
		}
		m.Store = s
	}
	if m.wrapStore != nil {
		m.Store = m.wrapStore(m.Store)
	}
	m.closers = append(m.closers, m.Store.Close)
	return nil
}

// readTimings reads the durations the environment may set: the shutdown
// bound, and for tests the adapters' restart backoff and the inbox grace.
func (m *Main) readTimings() error {
	m.shutdownBound = defaultShutdownTimeout
	if v := m.Getenv("XUNJI_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return fmt.Errorf("XUNJI_SHUTDOWN_TIMEOUT: %q is not a duration of at least 1s, like 25s", v)
		}
		m.shutdownBound = d
	}
	if v := m.Getenv("XUNJI_ADAPTER_BACKOFF"); v != "" { // for tests of adapter restarts
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("XUNJI_ADAPTER_BACKOFF: %q is not a positive duration", v)
		}
		m.adapterBackoff = d
	}
	if v := m.Getenv("XUNJI_INBOX_GRACE"); v != "" { // for tests of crash recovery
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("XUNJI_INBOX_GRACE: %w", err)
		}
		m.inboxGrace = d
	}
	return nil
}

// newBot builds the bot with its metrics, commands and calendar watch.
func (m *Main) newBot() error {
	cat, err := i18n.Load()
	if err != nil {
		return err
	}
	b, err := bot.New(bot.Options{
		Store: m.Store, Translator: cat, Roster: m.Config.Roster(m.Platforms), Groups: m.Config.ChatGroups(m.Platforms),
		Location: m.Config.Location(), Lang: i18n.Norm(m.Config.Lang), Logger: m.Log, Calendar: m.Config.Calendar(),
		InboxGrace: m.inboxGrace, Now: m.Clock.Now, Platforms: m.Platforms,
	})
	if err != nil {
		return err
	}
	m.Bot = b
	m.Metrics = metrics.New()
	bi := buildInfo()
	m.Metrics.BuildInfo(bi.Version, bi.Commit, bi.GoVersion)
	b.Router.Use(m.Metrics.Middleware())
	b.Inbox.OnDuplicate(func(req *bot.Request) { m.Metrics.Deduplicated(req.Platform) })
	if err := all.Register(b, m.Config); err != nil {
		return err
	}
	if err := b.Router.Register(m.extraCommands...); err != nil {
		return err
	}
	// The holiday calendar must know the next 90 days' official holidays.
	m.calendar = schedule.NewCalendarWatch(b, m.Config)
	return b.Jobs.Add(m.calendar.Job())
}

// platformAdapters returns the adapters of the platforms the environment
// configures.
func (m *Main) platformAdapters() ([]bot.Adapter, error) {
	var out []bot.Adapter
	for _, spec := range m.Platforms.All() {
		if spec.Open == nil {
			continue
		}
		a, err := spec.Open(bot.PlatformEnv{Getenv: m.Getenv, Log: m.Log,
			Rejected: func(reason string) { m.Metrics.Rejected(spec.Name, reason) }})
		if err != nil {
			return nil, err
		}
		if a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

func (m *Main) consoleChat() string {
	if g := m.Bot.People.Group(m.Config.NoticeGroup("clue")); g != nil && g[console.Name] != "" {
		return g[console.Name]
	}
	return "console"
}

// within runs check and returns its error, or an unavailable error as
// soon as ctx ends if check has not returned by then (it is left to
// finish on its own).
func within(ctx context.Context, check func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return bot.Unavailable(err)
	}
	done := make(chan error, 1)
	go func() { done <- check(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return bot.Unavailable(ctx.Err())
	}
}

// Close releases the store; it is safe to call after a failed Run.
// After a shutdown it returns by the end of the shutdown bound that
// began when Run's context ended (XUNJI_SHUTDOWN_TIMEOUT), otherwise
// within one such bound: a store whose Close hangs (a Redis that does
// not answer) does not keep the process from exiting, and Close then
// says so. What was committed is stored already; nothing waits on it.
func (m *Main) Close() error {
	closers := m.closers
	m.closers = nil
	if len(closers) == 0 {
		return nil
	}
	by := m.shutdownBy
	if by.IsZero() {
		bound := m.shutdownBound
		if bound <= 0 {
			bound = defaultShutdownTimeout
		}
		by = time.Now().Add(bound)
	}
	done := make(chan error, 1)
	go func() {
		var errs []error
		for i := len(closers) - 1; i >= 0; i-- {
			errs = append(errs, closers[i]())
		}
		done <- errors.Join(errs...)
	}()
	t := time.NewTimer(time.Until(by))
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		err := errors.New("closing the store did not finish within the shutdown bound (XUNJI_SHUTDOWN_TIMEOUT); exiting without waiting for it")
		if m.Log != nil {
			m.Log.Error("shutdown bound reached", "waiting_for", "store close", "err", err)
		}
		return err
	}
}
