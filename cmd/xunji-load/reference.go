package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	slackgo "github.com/slack-go/slack"
)

// referenceHandler is the yardstick of the acknowledgement path: about
// the least a Slack Events API endpoint can do and still acknowledge an
// event durably and only once. It reads the body, checks the timestamp
// and the v0 signature (with slack-go's verifier, as the adapter does),
// reads the event id and claims it with one Redis SET NX (through
// go-redis's automatic pipeline, as the Redis store sends its commands),
// and answers 200 — for a first delivery and a duplicate alike. It keeps
// nothing else: no request is stored for processing, nothing is parsed
// beyond the event id.
func referenceHandler(rdb redis.Cmdable, secret, prefix string, ttl time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if !referenceVerify(r.Header, body, secret) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var ev struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(body, &ev); err != nil || ev.EventID == "" {
			http.Error(w, "no event id", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := rdb.SetNX(ctx, prefix+ev.EventID, 1, ttl).Err(); err != nil {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// referenceVerify is the adapter's check: timestamp within five minutes,
// then the HMAC over the raw body.
func referenceVerify(h http.Header, body []byte, secret string) bool {
	ts, err := strconv.ParseInt(h.Get("X-Slack-Request-Timestamp"), 10, 64)
	if err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	sv, err := slackgo.NewSecretsVerifier(h, secret)
	if err != nil {
		return false
	}
	if _, err := sv.Write(body); err != nil {
		return false
	}
	return sv.Ensure() == nil
}
