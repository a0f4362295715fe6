package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// The operator's side of the program: the start-up credentials check,
// the adapters' supervision, and the admin listener with its probes.

// probeTimeout bounds a probe's answer (/livez, /readyz).
const probeTimeout = time.Second

// defaultAdminAddr is where the admin listener serves /livez, /readyz
// and /metrics unless XUNJI_ADMIN_ADDR says otherwise: loopback, off the
// public webhook port.
const defaultAdminAddr = "127.0.0.1:9090"

// defaultShutdownTimeout bounds a shutdown (XUNJI_SHUTDOWN_TIMEOUT).
const defaultShutdownTimeout = 25 * time.Second

// credentialsTimeout bounds the start-up credentials check of one adapter.
const credentialsTimeout = 15 * time.Second

// Adapter restarts back off from backoffMin, doubling, up to backoffMax;
// a run that lasted backoffMax starts the next wait from backoffMin again.
const (
	backoffMin = time.Second
	backoffMax = time.Minute
)

// checkCredentials asks every adapter that can (bot.CredentialChecker)
// whether its platform accepts the app's credentials. A refusal stops the
// start: a bot that cannot answer anyone must not look healthy. A check
// that cannot reach the platform only warns: the platform may be down
// for a while, and the outbox waits for it.
func (m *Main) checkCredentials(ctx context.Context, adapters []bot.Adapter) error {
	for _, a := range adapters {
		cc, ok := a.(bot.CredentialChecker)
		if !ok {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, credentialsTimeout)
		err := cc.CheckCredentials(cctx)
		cancel()
		switch {
		case err == nil:
		case bot.IsAuthFailure(err):
			spec, _ := m.Bot.Platforms().Get(a.Platform())
			m.Log.Error("platform refused the app's credentials", "platform", a.Platform(), "code", bot.APICode(err), "err", err)
			return fmt.Errorf("%s refused the app's credentials (%s): check %s: %w",
				a.Platform(), bot.APICode(err), spec.CredentialEnv, err)
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			m.Log.Warn("could not check the app's credentials; starting anyway", "platform", a.Platform(), "err", err)
		}
	}
	return nil
}

// adapterState is what the probes know of one adapter.
type adapterState struct {
	running  atomic.Bool
	restarts atomic.Int64
}

// supervise runs a until ctx is done. When its Run returns on its own
// (a long connection given up, credentials revoked) the adapter is not
// running — /readyz fails — and it is started again after a backoff that
// doubles up to backoffMax. The console is not restarted: its end is the
// end of the session (onEnd).
func (m *Main) supervise(ctx context.Context, a bot.Adapter, st *adapterState, restart bool, onEnd func()) {
	wait := m.backoff(backoffMin)
	for {
		st.running.Store(true)
		began := time.Now()
		err := a.Run(ctx, m.Bot.Inbox)
		st.running.Store(false)
		if ctx.Err() != nil {
			return
		}
		if !restart {
			if err != nil {
				m.Log.Error("adapter stopped", "platform", a.Platform(), "err", err)
			}
			onEnd()
			return
		}
		if time.Since(began) >= backoffMax {
			wait = m.backoff(backoffMin)
		}
		m.Log.Error("adapter stopped; restarting", "platform", a.Platform(), "err", err, "in", wait.String(), "restarts", st.restarts.Load())
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, m.backoff(backoffMax))
		st.restarts.Add(1)
		m.Metrics.AdapterRestarted(a.Platform())
	}
}

// backoff scales d by XUNJI_ADAPTER_BACKOFF's share of backoffMin, for
// tests; d itself otherwise.
func (m *Main) backoff(d time.Duration) time.Duration {
	if m.adapterBackoff > 0 {
		return d / backoffMin * m.adapterBackoff
	}
	return d
}

// startAdmin serves /livez, /readyz and /metrics on addr.
func (m *Main) startAdmin(addr string, cancel func()) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /livez", m.livez)
	mux.HandleFunc("GET /readyz", m.readyz)
	mux.Handle("GET /metrics", m.Metrics.Handler())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener (XUNJI_ADMIN_ADDR): %w", err)
	}
	m.AdminAddr = ln.Addr().String()
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Log.Error("admin server stopped", "err", err)
			cancel()
		}
	}()
	m.Log.Info("admin listening", "addr", m.AdminAddr, "paths", "/livez /readyz /metrics")
	return srv, nil
}

// livez reports whether the process works: its outbox loop and adapter
// supervisors are alive. It checks nothing outside the process, so that
// a store or platform outage (which /readyz reports) never restarts it.
func (m *Main) livez(w http.ResponseWriter, r *http.Request) {
	report := map[string]string{"status": "ok", "outbox": "running"}
	code := http.StatusOK
	if !m.outboxAlive.Load() {
		report["outbox"], report["status"] = "stopped", "failed"
		code = http.StatusServiceUnavailable
	}
	for p, st := range m.states {
		report[string(p)] = "supervised"
		if st.restarts.Load() > 0 {
			report[string(p)] = fmt.Sprintf("supervised, restarted %d times", st.restarts.Load())
		}
	}
	writeProbe(w, code, report)
}

// readyz reports whether this process can do its work: the store
// answers, every adapter runs (and, holding a connection of its own, is
// connected), and no platform refuses the app's credentials. It answers
// within probeTimeout whatever the checks do: a check still running
// then counts as failed. The holiday calendar's coverage is reported in
// the body but does not fail it (calendar.go).
func (m *Main) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), probeTimeout)
	defer cancel()
	var mu sync.Mutex
	report := map[string]any{"store": "ok"}
	ok := true
	set := func(k string, v any, fine bool) {
		mu.Lock()
		defer mu.Unlock()
		report[k] = v
		ok = ok && fine
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := within(ctx, m.Store.Ping); err != nil {
			set("store", bot.ErrorCode(err), false)
		}
	})
	for _, p := range m.Bot.Platforms().Names() {
		a, found := m.Bot.Out.Adapter(p)
		if !found {
			continue
		}
		wg.Go(func() {
			state := "ok"
			if st := m.states[p]; st != nil && !st.running.Load() {
				state = "stopped"
			} else if hc, can := a.(bot.HealthChecker); can {
				if err := within(ctx, func(context.Context) error { return hc.Health() }); err != nil {
					state = "disconnected"
				}
			}
			if state == "ok" && m.Metrics.AuthFailing(p) {
				state = "credentials_refused"
			}
			set(string(p), state, state == "ok")
		})
	}
	wg.Wait()
	if cov := m.calendarReport(); cov != nil {
		report["calendar"] = cov
	}
	report["status"] = "ok"
	code := http.StatusOK
	if !ok {
		report["status"] = "unavailable"
		code = http.StatusServiceUnavailable
	}
	writeProbe(w, code, report)
}

func writeProbe(w http.ResponseWriter, code int, report any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(report)
}

// calendarReport is the holiday calendar's coverage of the next 90 days
// for /readyz. A gap does not make the process unready — it serves
// correctly, only with weekends for the holidays it does not know, and
// every replica would fail alike — so it is reported as "incomplete" in
// the body (and logged, and told to the office) while the probe stays
// 200.
func (m *Main) calendarReport() map[string]any {
	if m.calendar == nil {
		return nil
	}
	now := time.Now
	if m.Clock != nil {
		now = m.Clock.Now
	}
	cov := m.calendar.Coverage(now())
	r := map[string]any{"status": "ok", "through": cov.Through}
	if !cov.OK() {
		r["status"] = "incomplete"
		r["uncovered_years"] = cov.Uncovered
		r["fix"] = "load the State Council's holiday table of those years in holidays.table"
	}
	return r
}
