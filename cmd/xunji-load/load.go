package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
)

// A target is one kind of request and where it goes.
type target struct {
	Name string
	URL  string
	// build returns request i's body and headers, signed or sealed now.
	build func(i int) ([]byte, http.Header)
	// Answered: xunji answers each request through the platform API.
	Answered bool
}

var runID = time.Now().UnixNano()

// The bodies are built once from the kits' real-shaped events and then
// only get a fresh id per request, so the sender spends its CPU on
// sending, not on building JSON.
var (
	slackTemplate = slacktest.AppMention("EVENTID", "U0LINA", "CHANNELID", "<@UXUNJI> whoami")
	larkTemplate  = larktest.MessageEvent(larktest.Message{EventID: "EVENTID", ChatType: "p2p", ChatID: "CHANNELID",
		Sender: "ou_demo_lina", Text: "whoami", Token: larkToken})
)

func fill(tmpl []byte, event, channel string) []byte {
	b := bytes.ReplaceAll(tmpl, []byte("EVENTID"), []byte(event))
	return bytes.ReplaceAll(b, []byte("CHANNELID"), []byte(channel))
}

func slackTarget(base string) target {
	return target{Name: "slack (signed event)", URL: base + "/slack/events", Answered: true, build: func(i int) ([]byte, http.Header) {
		// Each event from its own channel: Slack allows about one post a
		// second per channel, and the adapter paces its answers to that.
		body := fill(slackTemplate, fmt.Sprintf("Ev%d-%d", runID, i), fmt.Sprintf("CL%d", i))
		h := slacktest.Sign(slackSecret, time.Now(), body)
		h.Set("Content-Type", "application/json")
		return body, h
	}}
}

func larkTarget(base string) target {
	return target{Name: "lark (encrypted event)", URL: base + "/lark/events", Answered: true, build: func(i int) ([]byte, http.Header) {
		plain := fill(larkTemplate, fmt.Sprintf("ev-%d-%d", runID, i), fmt.Sprintf("oc_load_%d", i))
		body, h := larktest.Seal(larkKey, plain, time.Now())
		h.Set("Content-Type", "application/json")
		return body, h
	}}
}

// referenceTarget sends the Slack target's signed events to the
// reference server (see referenceHandler).
func referenceTarget(base string) target {
	t := slackTarget(base)
	t.Name, t.URL, t.Answered = "reference (verify + SET NX, 200)", base+"/slack/events", false
	return t
}

func bareTarget(base string) target {
	t := slackTarget(base)
	t.Name, t.URL, t.Answered = "bare net/http (reads body, 200)", base+"/", false
	return t
}

// Result is one measured phase.
type Result struct {
	Target   string
	Rate     int // offered requests per second; 0 for the saturation phase
	Sent     int
	OK       int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
	Max      time.Duration
	// Answered is how many answers the platform API received from the
	// phase's start until AnsweredIn, when every acknowledged event had
	// its answer (zero for the bare target and in ingest-only mode).
	Answered   int
	AnsweredIn time.Duration
	// CPUPerEvent is the machine's busy CPU time over the phase per
	// acknowledged event (zero where /proc/stat is missing).
	CPUPerEvent time.Duration
	// ProcCPUPerEvent is this process's CPU time (load generator and
	// servers) and RedisCPUPerEvent the Redis server's, over the phase per
	// acknowledged event: unlike CPUPerEvent they leave out the machine's
	// other work.
	ProcCPUPerEvent, RedisCPUPerEvent time.Duration
}

// Throughput is acknowledged requests per second.
func (r Result) Throughput() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConns: 2000, MaxIdleConnsPerHost: 2000, IdleConnTimeout: time.Minute}}

// send posts one prepared request and returns its acknowledgement time.
func send(ctx context.Context, url string, body []byte, h http.Header) (time.Duration, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, false
	}
	req.Header = h
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return time.Since(start), false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(start), resp.StatusCode == http.StatusOK
}

type prepared struct {
	body []byte
	h    http.Header
}

func prepare(t target, from, n int) []prepared {
	out := make([]prepared, n)
	for i := range out {
		out[i].body, out[i].h = t.build(from + i)
	}
	return out
}

// openLoop offers rate requests a second for d, whatever the answers take
// (so a slow server shows as latency, not as a lower offered rate).
func openLoop(ctx context.Context, t target, rate int, d time.Duration, seq *atomic.Int64) Result {
	n := int(float64(rate) * d.Seconds())
	reqs := prepare(t, int(seq.Add(int64(n)))-n, n)
	lat := make([]time.Duration, n)
	oks := make([]bool, n)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; i < n; i++ {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait) // pacing the offered load
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lat[i], oks[i] = send(ctx, t.URL, reqs[i].body, reqs[i].h)
		}(i)
	}
	wg.Wait()
	return summarise(t.Name, rate, time.Since(start), lat, oks)
}

// closedLoop runs workers that send back to back for d: the most the
// target acknowledges.
func closedLoop(ctx context.Context, t target, workers int, d time.Duration, seq *atomic.Int64) Result {
	var mu sync.Mutex
	var lat []time.Duration
	var oks []bool
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := int(seq.Add(1))
				body, h := t.build(i)
				l, ok := send(ctx, t.URL, body, h)
				mu.Lock()
				lat = append(lat, l)
				oks = append(oks, ok)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return summarise(t.Name, 0, time.Since(start), lat, oks)
}

func summarise(name string, rate int, elapsed time.Duration, lat []time.Duration, oks []bool) Result {
	r := Result{Target: name, Rate: rate, Sent: len(lat), Elapsed: elapsed}
	var good []time.Duration
	for i, l := range lat {
		if oks[i] {
			r.OK++
			good = append(good, l)
		} else {
			r.Errors++
		}
	}
	slices.Sort(good)
	if len(good) > 0 {
		r.P50 = good[len(good)/2]
		r.P99 = good[min(len(good)-1, len(good)*99/100)]
		r.Max = good[len(good)-1]
	}
	return r
}
