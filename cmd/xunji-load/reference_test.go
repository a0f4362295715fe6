package main

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
)

// The reference acknowledges a correctly signed event (a duplicate too),
// claims its id once, and refuses a bad signature.
func TestReferenceVerifiesAndClaimsOnce(t *testing.T) {
	opt, err := redis.ParseURL(redisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	prefix := "xunjiload-test:" + strings.ReplaceAll(t.Name(), "/", "_") + ":" + rand.Text() + ":" // unique to this run
	t.Cleanup(func() {
		keys, _ := rdb.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
	})
	h := referenceHandler(rdb, slackSecret, prefix, time.Minute)
	post := func(body []byte, hdr http.Header) int {
		req := httptest.NewRequest(http.MethodPost, "/slack/events", strings.NewReader(string(body)))
		req.Header = hdr
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	body := fill(slackTemplate, "EvRef1", "CREF")
	for i := range 2 { // the second is a platform retry
		if code := post(body, slacktest.Sign(slackSecret, time.Now(), body)); code != http.StatusOK {
			t.Fatalf("delivery %d: status %d, want 200", i+1, code)
		}
	}
	if n, err := rdb.Exists(context.Background(), prefix+"EvRef1").Result(); err != nil || n != 1 {
		t.Fatalf("claim key: exists=%d, %v", n, err)
	}
	if code := post(body, slacktest.Sign("wrong secret", time.Now(), body)); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: status %d, want 401", code)
	}
}

// With -store bolt, ingest-only leaves every acknowledged Slack event in
// the bolt inbox; the reference acknowledges the same events.
func TestBoltIngestAndReference(t *testing.T) {
	p, err := startPipeline(context.Background(), pipelineOptions{RedisURL: redisURL(), Ingest: true, Store: "bolt"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var seq atomic.Int64
	for _, tg := range []target{slackTarget(p.XunjiURL), referenceTarget(p.RefURL)} {
		r := closedLoopN(t, tg, 8, 25, &seq)
		if r.OK != 200 || r.Errors != 0 {
			t.Errorf("%s: acknowledged %d, errors %d", tg.Name, r.OK, r.Errors)
		}
	}
	waitInbox(t, p, 200)
}

// closedLoopN sends n requests from each of workers goroutines.
func closedLoopN(t *testing.T, tg target, workers, n int, seq *atomic.Int64) Result {
	t.Helper()
	lat := make([]time.Duration, workers*n)
	oks := make([]bool, workers*n)
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range n {
				body, h := tg.build(int(seq.Add(1)))
				lat[w*n+i], oks[w*n+i] = send(t.Context(), tg.URL, body, h)
			}
		}()
	}
	for range workers {
		<-done
	}
	return summarise(tg.Name, 0, time.Second, lat, oks)
}

func TestSummarizeComparesRounds(t *testing.T) {
	ref := referenceTarget("").Name
	r := func(target string, rate, ok int, p99 time.Duration) Result {
		return Result{Target: target, Rate: rate, OK: ok, Elapsed: time.Second, P99: p99}
	}
	rs := []Result{
		r("slack", 1000, 1000, 3*time.Millisecond), r(ref, 1000, 1000, time.Millisecond),
		r("slack", 1000, 1000, 2*time.Millisecond), r(ref, 1000, 1000, 2*time.Millisecond),
		r("slack", 0, 800, 0), r(ref, 0, 1000, 0),
		r("slack", 0, 900, 0), r(ref, 0, 1000, 0),
		r("slack", 0, 1200, 0), r(ref, 0, 1000, 0),
	}
	ss := summarize(rs, ref)
	if len(ss) != 4 {
		t.Fatalf("%d summary rows, want 4: %+v", len(ss), ss)
	}
	if s := ss[0]; s.Target != "slack" || s.Runs != 2 || s.RatioMin != 1 || s.RatioMed != 3 || s.MinP99 != 2*time.Millisecond {
		t.Errorf("slack at 1000/s: %+v", s)
	}
	if s := ss[2]; s.Target != "slack" || s.Rate != 0 || s.RatioMin != 0.8 || s.RatioMed != 0.9 || s.MinTput != 800 || s.MedTput != 900 {
		t.Errorf("slack at saturation: %+v", s)
	}
	if s := ss[3]; s.RatioMed != 0 {
		t.Errorf("the reference compared with itself: %+v", s)
	}
}
