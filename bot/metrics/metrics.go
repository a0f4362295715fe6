// Package metrics exposes xunji's Prometheus metrics
// (github.com/prometheus/client_golang): events received, deduplicated
// and rejected by reason, command latency, outbox depth and age, dead
// letters, platform API errors and refused credentials, adapter
// restarts, and scheduled runs.
package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/xunji-bot/xunji/bot"
)

// Metrics holds the collectors on a registry of their own.
type Metrics struct {
	Registry   *prometheus.Registry
	received   *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	rejected   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	scheduled  *prometheus.CounterVec
	uncertain  *prometheus.CounterVec
	apiErrors  *prometheus.CounterVec
	authFails  *prometheus.CounterVec
	authGauge  *prometheus.GaugeVec
	dead       *prometheus.CounterVec
	restarts   *prometheus.CounterVec

	mu          sync.Mutex
	authFailing map[bot.Platform]bool
}

// New returns metrics registered with the Go and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xunji_events_received_total", Help: "Requests received from the platforms, by platform and kind.",
		}, []string{"platform", "kind"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xunji_events_deduplicated_total", Help: "Platform retries dropped because the event was already handled.",
		}, []string{"platform"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xunji_events_rejected_total", Help: "Requests refused before handling, by reason (too_large, unauthorized, malformed, unavailable, foreign_team, foreign_tenant).",
		}, []string{"platform", "reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "xunji_command_duration_seconds", Help: "Time to handle a request, by kind and verb.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"kind", "verb"}),
		scheduled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xunji_scheduled_runs_total", Help: "Scheduled runs by schedule and result (ok, late = caught up, missed, failed, baseline).",
		}, []string{"schedule", "result"}),
		uncertain: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xunji_outbox_possible_duplicates_total",
			Help: "Outbox entries sent again after an attempt that ended unrecorded (its process died mid-send), by platform: the platform may show them twice unless it dedupes (Lark does by uuid; Slack cannot).",
		}, []string{"platform"}),
		apiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xunji_platform_api_errors_total", Help: "Failed platform API calls of the outbox, by platform and the platform's error code (Slack's error string, Lark's numeric code, http_NNN, transport, other).",
		}, []string{"platform", "code"}),
		authFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xunji_platform_auth_failures_total", Help: "Deliveries refused for the app's credentials or scopes (Slack invalid_auth, token_revoked, missing_scope…; Lark token and permission codes): alert on any increase. The messages stay queued.",
		}, []string{"platform"}),
		authGauge: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "xunji_platform_auth_failing", Help: "1 while the platform's last delivery was refused for the app's credentials or scopes, 0 once one succeeds; /readyz fails meanwhile.",
		}, []string{"platform"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xunji_outbox_dead_letters_total", Help: "Outbox entries given up on, by platform and reason (the platform's error code, or expired after the outbox's maximum age).",
		}, []string{"platform", "reason"}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "xunji_adapter_restarts_total", Help: "Platform adapters restarted after they stopped on their own, by platform.",
		}, []string{"platform"}),
		authFailing: map[bot.Platform]bool{},
	}
	r.MustRegister(m.received, m.duplicates, m.rejected, m.latency, m.scheduled, m.uncertain,
		m.apiErrors, m.authFails, m.authGauge, m.dead, m.restarts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// BuildInfo registers xunji_build_info{version,commit,goversion}, a
// gauge that is always 1: the labels say which build is running, and
// dashboards join on them (the Prometheus convention for build facts).
func (m *Metrics) BuildInfo(version, commit, goVersion string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "xunji_build_info", Help: "The running build: version, VCS commit and Go version; always 1.",
	}, []string{"version", "commit", "goversion"})
	g.WithLabelValues(version, commit, goVersion).Set(1)
	m.Registry.MustRegister(g)
}

var kindNames = map[bot.Kind]string{bot.KindCommand: "command", bot.KindAction: "action", bot.KindSchedule: "schedule"}

// Middleware counts and times every request.
func (m *Metrics) Middleware() bot.Middleware {
	return func(next bot.RunFunc) bot.RunFunc {
		return func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
			start := time.Now()
			kind := kindNames[req.Kind]
			m.received.WithLabelValues(string(req.Platform), kind).Inc()
			resp, err := next(ctx, req)
			if resp != nil && resp.Duplicate {
				m.duplicates.WithLabelValues(string(req.Platform)).Inc()
				return resp, err
			}
			verb := "-"
			switch {
			case req.Command != nil && req.Command.Verb != nil:
				verb = req.Command.Verb.Name
			case req.Kind == bot.KindAction:
				verb = req.Action
			}
			m.latency.WithLabelValues(kind, verb).Observe(time.Since(start).Seconds())
			return resp, err
		}
	}
}

// Deduplicated counts a platform retry dropped because its event was
// accepted before: wire it to bot.Bot.OnDuplicate, which reports the
// retries the durable inbox drops (Middleware counts those dropped by
// the core's Handle).
func (m *Metrics) Deduplicated(p bot.Platform) {
	m.duplicates.WithLabelValues(string(p)).Inc()
}

// Rejected counts a request refused before handling.
func (m *Metrics) Rejected(p bot.Platform, reason string) {
	m.rejected.WithLabelValues(string(p), reason).Inc()
}

// Scheduled counts a scheduled run's result.
func (m *Metrics) Scheduled(schedule, result string) {
	m.scheduled.WithLabelValues(schedule, result).Inc()
}

// PossibleDuplicate counts an outbox entry sent again after an attempt
// that ended unrecorded (outbox.Options.Uncertain).
func (m *Metrics) PossibleDuplicate(p bot.Platform) {
	m.uncertain.WithLabelValues(string(p)).Inc()
}

// DeliveryFailed counts a failed delivery attempt by its platform error
// code, and an auth failure also as such (outbox.Options.Failed).
func (m *Metrics) DeliveryFailed(p bot.Platform, err error) {
	m.apiErrors.WithLabelValues(string(p), bot.APICode(err)).Inc()
	if bot.IsAuthFailure(err) {
		m.authFails.WithLabelValues(string(p)).Inc()
		m.setAuthFailing(p, true)
	}
}

// Delivered clears the platform's auth failure (outbox.Options.Delivered).
func (m *Metrics) Delivered(p bot.Platform) { m.setAuthFailing(p, false) }

func (m *Metrics) setAuthFailing(p bot.Platform, failing bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.authFailing[p] == failing {
		return
	}
	m.authFailing[p] = failing
	v := 0.0
	if failing {
		v = 1
	}
	m.authGauge.WithLabelValues(string(p)).Set(v)
}

// AuthFailing reports whether p's last delivery was refused for the
// app's credentials or scopes (for readiness).
func (m *Metrics) AuthFailing(p bot.Platform) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.authFailing[p]
}

// DeadLetter counts an outbox entry given up on (outbox.Options.Buried).
func (m *Metrics) DeadLetter(p bot.Platform, reason string) {
	m.dead.WithLabelValues(string(p), reason).Inc()
}

// AdapterRestarted counts an adapter restarted after it stopped.
func (m *Metrics) AdapterRestarted(p bot.Platform) {
	m.restarts.WithLabelValues(string(p)).Inc()
}

// WatchOutbox exports the outbox depth and the age of its oldest entry,
// read from stats at scrape time.
func (m *Metrics) WatchOutbox(stats func(context.Context) (int, time.Duration, error)) {
	read := func() (int, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, age, err := stats(ctx)
		if err != nil {
			return -1, -1
		}
		return n, age
	}
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "xunji_outbox_depth", Help: "Messages waiting in the outbox (-1: store unreachable)."},
			func() float64 { n, _ := read(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "xunji_outbox_oldest_age_seconds", Help: "Age of the oldest waiting message (-1: store unreachable)."},
			func() float64 { _, a := read(); return a.Seconds() }),
	)
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}
