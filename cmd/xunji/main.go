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

	Config  *config.Config
	Store   bot.Store
	Bot     *bot.Bot
	Log     *slog.Logger
	Outbox  *outbox.Outbox
	Metrics *metrics.Metrics

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

	var adapters []bot.Adapter
	var httpAdapters []bot.HTTPAdapter
	platforms, err := m.platformAdapters()
	if err != nil {
		return err
	}
	for _, a := range platforms {
		adapters = append(adapters, a)
		if ha, ok := a.(bot.HTTPAdapter); ok {
			httpAdapters = append(httpAdapters, ha)
		}
	}
	useConsole := m.Console == "on" || (m.Console == "auto" && len(adapters) == 0)
	var con *console.Adapter
	if useConsole {
		con = console.New(console.Options{In: m.Stdin, Out: m.Stdout, As: m.As, Chat: m.consoleChat(), Tr: b.Translator(), Lang: b.Lang})
		adapters = append(adapters, con)
	}
	if len(adapters) == 0 {
		return errors.New("no adapter to run: configure Slack or Lark, or run with -console on")
	}
	// The console comes first: the demo seed below queues its cards for
	// it alone, before the platform adapters exist, so a demo started
	// with Slack or Lark credentials does not post demo records to their
	// (made-up) demo channels.
	if con != nil {
		b.Out.AddAdapter(con)
	}
	if err := m.checkCredentials(ctx, platforms); err != nil {
		return err
	}
	// A store written by a version without the audit index gets its
	// index documents once (a marker records it), before any command
	// reads a record's history from the index.
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
	// Every notice goes through the durable outbox.
	var lease time.Duration
	if v := m.Getenv("XUNJI_OUTBOX_LEASE"); v != "" { // for tests of crash recovery
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
		sentTTL = map[bot.Platform]time.Duration{bot.Slack: d, bot.Lark: d, bot.Console: d}
	}
	m.Outbox = outbox.New(b, outbox.Options{Uncertain: m.Metrics.PossibleDuplicate, Lease: lease, SentTTL: sentTTL,
		Failed: m.Metrics.DeliveryFailed, Delivered: m.Metrics.Delivered, Buried: m.Metrics.DeadLetter})
	b.Out.SetSender(m.Outbox)
	m.Metrics.WatchOutbox(m.Outbox.Stats)
	// The demo is seeded once the console and the outbox exist, so that
	// its cards and DMs are queued for the console and shown at start
	// (the README's walkthrough presses the seeded clue card's button).
	if m.ConfigPath == "" {
		if err := seedDemo(ctx, b); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
		// Deliver them before the console reads its first line, so that
		// their buttons are numbered when the user presses one.
		if con != nil {
			if _, err := m.Outbox.Flush(ctx); err != nil {
				m.Log.Warn("demo: delivering the seeded cards", "err", err)
			}
		}
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

	// The shared HTTP listener: platform callbacks only; the probes and
	// the metrics are on the admin listener.
	var srv *http.Server
	addr := m.Getenv("XUNJI_HTTP_ADDR")
	if addr == "" && len(httpAdapters) > 0 {
		addr = m.Config.HTTP.Addr
	}
	if addr != "" {
		mux := http.NewServeMux()
		for _, ha := range httpAdapters {
			ha.Mount(mux, b.Inbox)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("http: %w", err)
		}
		m.HTTPAddr = ln.Addr().String()
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, MaxHeaderBytes: 64 << 10}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				m.Log.Error("http server stopped", "err", err)
				cancel()
			}
		}()
		m.Log.Info("listening", "addr", m.HTTPAddr)
	}

	// The admin listener: /livez, /readyz, /metrics. It runs whenever the
	// program serves platforms (or XUNJI_ADMIN_ADDR is set); "off" turns it
	// off.
	var admin *http.Server
	adminAddr := m.Getenv("XUNJI_ADMIN_ADDR")
	if adminAddr == "" && len(platforms) > 0 {
		adminAddr = defaultAdminAddr
	}
	if adminAddr != "" && adminAddr != "off" {
		if admin, err = m.startAdmin(adminAddr, cancel); err != nil {
			if srv != nil {
				_ = srv.Close()
			}
			return err
		}
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

func (m *Main) setup(ctx context.Context) error {
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

	demo := m.ConfigPath == ""
	if demo {
		m.Config = config.Demo()
	} else {
		c, err := config.Load(m.ConfigPath)
		if err != nil {
			return err
		}
		m.Config = c
	}
	if p := m.Getenv("XUNJI_STORE_PATH"); p != "" {
		m.Config.Store.Path = p
	}
	if u := m.Getenv("REDIS_URL"); u != "" {
		if m.Config.Store.Kind != "redis" {
			// Replicas that each fell back to a file of their own would
			// each send every scheduled notice: refuse rather than guess.
			where := "the demo configuration"
			if !demo {
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

	cat, err := i18n.Load()
	if err != nil {
		return err
	}
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
	var grace time.Duration
	if v := m.Getenv("XUNJI_INBOX_GRACE"); v != "" { // for tests of crash recovery
		if grace, err = time.ParseDuration(v); err != nil {
			return fmt.Errorf("XUNJI_INBOX_GRACE: %w", err)
		}
	}
	b, err := bot.New(bot.Options{
		Store: m.Store, Translator: cat, Roster: m.Config.Roster(), Groups: m.Config.ChatGroups(),
		Location: m.Config.Location(), Lang: i18n.Norm(m.Config.Lang), Logger: m.Log, Calendar: m.Config.Calendar(),
		InboxGrace: grace, Now: m.Clock.Now,
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
	if err := b.Jobs.Add(m.calendar.Job()); err != nil {
		return err
	}
	return nil
}

// platformAdapters returns the Slack and Lark adapters configured by
// environment variables.
func (m *Main) platformAdapters() ([]bot.Adapter, error) {
	var out []bot.Adapter
	if c, ok := slack.ConfigFrom(m.Getenv); ok {
		a, err := slack.New(c, slack.WithLogger(m.Log), slack.WithRejectHook(func(reason string) { m.Metrics.Rejected(bot.Slack, reason) }))
		if err != nil {
			return nil, fmt.Errorf("slack: %w", err)
		}
		m.Log.Info("slack adapter", "config", c)
		out = append(out, a)
	}
	if c, ok := lark.ConfigFrom(m.Getenv); ok {
		a, err := lark.New(c, lark.WithLogger(m.Log), lark.WithRejectHook(func(reason string) { m.Metrics.Rejected(bot.Lark, reason) }))
		if err != nil {
			return nil, fmt.Errorf("lark: %w", err)
		}
		m.Log.Info("lark adapter", "config", c)
		out = append(out, a)
	}
	return out, nil
}

func (m *Main) consoleChat() string {
	if g := m.Bot.People.Group(m.Config.NoticeGroup("clue")); g != nil && g[bot.Console] != "" {
		return g[bot.Console]
	}
	return "console"
}

// within runs check and returns its error, or an unavailable error as
// soon as ctx ends if check has not returned by then (it is left to
// finish on its own).
func within(ctx context.Context, check func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return bot.ErrUnavailable(err)
	}
	done := make(chan error, 1)
	go func() { done <- check(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return bot.ErrUnavailable(ctx.Err())
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
