package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	slackgo "github.com/slack-go/slack"
)

// replayWindow is how far a request's timestamp may be from now.
const replayWindow = 5 * time.Minute

// readVerified reads the raw body and checks its signature before
// anything is parsed. On failure it has answered already (401, 413 or
// 400) and returns false.
func (a *Adapter) readVerified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if r.ContentLength > MaxBodyBytes {
		a.refuse(w, "too_large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			a.refuse(w, "too_large", http.StatusRequestEntityTooLarge)
		} else {
			a.refuse(w, "malformed", http.StatusBadRequest)
		}
		return nil, false
	}
	if err := a.verify(r.Header, body); err != nil {
		a.log.Warn("slack request refused", "path", r.URL.Path, "reason", err)
		a.refuse(w, "unauthorized", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// refuse answers a request that does not reach the bot.
func (a *Adapter) refuse(w http.ResponseWriter, reason string, status int) {
	if a.onReject != nil {
		a.onReject(reason)
	}
	http.Error(w, http.StatusText(status), status)
}

// verify checks the v0 signature of body: the timestamp within five
// minutes of now, then the HMAC over the raw bytes.
func (a *Adapter) verify(h http.Header, body []byte) error {
	ts, err := strconv.ParseInt(h.Get("X-Slack-Request-Timestamp"), 10, 64)
	if err != nil {
		return slackgo.ErrMissingHeaders
	}
	if a.now().Sub(time.Unix(ts, 0)).Abs() > replayWindow {
		return slackgo.ErrExpiredTimestamp
	}
	sv, err := slackgo.NewSecretsVerifier(h, a.cfg.SigningSecret)
	if err != nil {
		return err
	}
	if _, err := sv.Write(body); err != nil {
		return err
	}
	return sv.Ensure()
}

// serveEvents is POST /slack/events, the Events API.
func (a *Adapter) serveEvents(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readVerified(w, r)
	if !ok {
		return
	}
	outer, inner, err := decodeEvent(body)
	if err != nil {
		a.refuse(w, "malformed", http.StatusBadRequest)
		return
	}
	// The challenge, sent when the Request URL is set in the app's own
	// settings, names no workspace.
	if outer.Type != "url_verification" && !a.teamAllowed(outer.TeamID, "event", outer.EventID) {
		refuseForeignTeam(w)
		return
	}
	switch outer.Type {
	case "url_verification":
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, outer.Challenge)
		return
	case "app_rate_limited":
		a.log.Warn("slack is rate limiting events to this app")
		w.WriteHeader(http.StatusOK)
		return
	}
	retry := r.Header.Get("X-Slack-Retry-Num")
	req, o, err := a.callbackRequest(outer, inner)
	if err != nil {
		a.ignored(r.Context(), outer, inner, err)
		w.WriteHeader(http.StatusOK)
		return
	}
	ctx, log := a.requestLog(r.Context(), req)
	if retry != "" {
		log.Info("slack event redelivered", "retry", retry, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	h := a.currentHandler()
	if h == nil || !a.handle(ctx, h, req, o, func() { w.WriteHeader(http.StatusOK) }) {
		a.refuse(w, "unavailable", http.StatusServiceUnavailable)
	}
}

// serveCommands is POST /slack/commands, the slash commands.
func (a *Adapter) serveCommands(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readVerified(w, r)
	if !ok {
		return
	}
	// SlashCommandParse reads the form from the body, so give it the
	// verified bytes again.
	r.Body = io.NopCloser(bytes.NewReader(body))
	s, err := slackgo.SlashCommandParse(r)
	if err != nil {
		a.refuse(w, "malformed", http.StatusBadRequest)
		return
	}
	if !a.teamAllowed(s.TeamID, "command", s.TriggerID) {
		refuseForeignTeam(w)
		return
	}
	h := a.currentHandler()
	if h == nil {
		a.refuse(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	accepted := a.slash(r.Context(), h, s, true, func(m *message) {
		if m == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(m)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	})
	if !accepted {
		a.refuse(w, "unavailable", http.StatusServiceUnavailable)
	}
}

// serveInteractions is POST /slack/interactions: Block Kit clicks and
// the submissions of the modals prompt buttons open (prompt.go).
func (a *Adapter) serveInteractions(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readVerified(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		a.refuse(w, "malformed", http.StatusBadRequest)
		return
	}
	var ic slackgo.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil {
		a.refuse(w, "malformed", http.StatusBadRequest)
		return
	}
	if !a.teamAllowed(ic.Team.ID, "interaction", ic.TriggerID) {
		refuseForeignTeam(w)
		return
	}
	h := a.currentHandler()
	// An empty 200 also closes a submitted modal.
	if h == nil || !a.interaction(r.Context(), h, &ic, func() { w.WriteHeader(http.StatusOK) }) {
		a.refuse(w, "unavailable", http.StatusServiceUnavailable)
	}
}
