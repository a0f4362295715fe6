package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// benchAck measures the acknowledgement of one request over loopback HTTP
// with 16 senders per CPU (32 on two, as xunji-load's saturation phase);
// ns/op is the inverse of throughput and p99-ms the 99th-percentile
// acknowledgement time.
func benchAck(b *testing.B, ingest bool, pick func(p *pipeline) target) {
	benchAckStore(b, "redis", ingest, pick)
}

func benchAckStore(b *testing.B, store string, ingest bool, pick func(p *pipeline) target) {
	p, err := startPipeline(context.Background(), pipelineOptions{RedisURL: redisURL(), Ingest: ingest, Store: store})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	t := pick(p)
	var seq atomic.Int64
	lat := make(chan time.Duration, 1<<20)
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body, h := t.build(int(seq.Add(1)))
			d, ok := send(context.Background(), t.URL, body, h)
			if !ok {
				b.Error("request not acknowledged with 200")
				return
			}
			select {
			case lat <- d:
			default:
			}
		}
	})
	b.StopTimer()
	close(lat)
	var ls []time.Duration
	var oks []bool
	for d := range lat {
		ls = append(ls, d)
		oks = append(oks, true)
	}
	r := summarise(t.Name, 0, 0, ls, oks)
	b.ReportMetric(float64(r.P50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(r.P99.Microseconds())/1000, "p99-ms")
}

func BenchmarkAckSlackSignedEvent(b *testing.B) {
	benchAck(b, false, func(p *pipeline) target { return slackTarget(p.XunjiURL) })
}

func BenchmarkAckLarkEncryptedEvent(b *testing.B) {
	benchAck(b, false, func(p *pipeline) target { return larkTarget(p.XunjiURL) })
}

// The Ingest benchmarks acknowledge events without answering them (the
// answers wait in the inbox): the acknowledgement path alone.
func BenchmarkAckIngestSlackSignedEvent(b *testing.B) {
	benchAck(b, true, func(p *pipeline) target { return slackTarget(p.XunjiURL) })
}

func BenchmarkAckIngestLarkEncryptedEvent(b *testing.B) {
	benchAck(b, true, func(p *pipeline) target { return larkTarget(p.XunjiURL) })
}

// The acknowledgement path with the embedded bolt store.
func BenchmarkAckIngestSlackSignedEventBolt(b *testing.B) {
	benchAckStore(b, "bolt", true, func(p *pipeline) target { return slackTarget(p.XunjiURL) })
}

func BenchmarkAckBareHandler(b *testing.B) {
	benchAck(b, false, func(p *pipeline) target { return bareTarget(p.BareURL) })
}

// BenchmarkAckReference is the yardstick of the Ingest benchmarks: the
// same signed Slack events, verified and claimed with one Redis SET NX
// (see referenceHandler).
func BenchmarkAckReference(b *testing.B) {
	benchAck(b, false, func(p *pipeline) target { return referenceTarget(p.RefURL) })
}

// TestPipelineAcknowledgesAndAnswersEveryEvent runs a short load through
// the whole pipeline: every signed or encrypted event is acknowledged
// with 200 and answered through the (fake) platform API, and none is left
// in the inbox.
func TestPipelineAcknowledgesAndAnswersEveryEvent(t *testing.T) {
	p, err := startPipeline(context.Background(), pipelineOptions{RedisURL: redisURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var seq atomic.Int64
	for _, tg := range []target{slackTarget(p.XunjiURL), larkTarget(p.XunjiURL), bareTarget(p.BareURL)} {
		r := openLoop(context.Background(), tg, 100, 500*time.Millisecond, &seq)
		if r.Sent != 50 || r.OK != 50 || r.Errors != 0 {
			t.Errorf("%s: sent %d, acknowledged %d, errors %d", tg.Name, r.Sent, r.OK, r.Errors)
		}
	}
	// 50 Slack answers and 50 Lark answers.
	deadline := time.Now().Add(10 * time.Second)
	for p.Answers.Load() < 100 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := p.Answers.Load(); got != 100 {
		t.Errorf("%d answers through the platform API, want 100", got)
	}
	waitInbox(t, p, 0)
}

// In ingest-only mode every acknowledged event waits in the inbox and
// none is answered.
func TestIngestOnlyLeavesEveryEventInTheInbox(t *testing.T) {
	p, err := startPipeline(context.Background(), pipelineOptions{RedisURL: redisURL(), Ingest: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var seq atomic.Int64
	for _, tg := range []target{slackTarget(p.XunjiURL), larkTarget(p.XunjiURL)} {
		r := openLoop(context.Background(), tg, 100, 500*time.Millisecond, &seq)
		if r.OK != 50 || r.Errors != 0 {
			t.Errorf("%s: acknowledged %d, errors %d", tg.Name, r.OK, r.Errors)
		}
	}
	waitInbox(t, p, 100)
	if got := p.Answers.Load(); got != 0 {
		t.Errorf("%d calls to the platform API in ingest-only mode", got)
	}
}

func waitInbox(t *testing.T, p *pipeline, want int) {
	t.Helper()
	var docs []bot.Doc
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		docs, err = p.store.List(context.Background(), bot.CollInbox)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) == want || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(docs) != want {
		t.Errorf("%d requests in the inbox, want %d", len(docs), want)
	}
}

// machineBusy reads /proc/stat (the CI machines are Linux): busy time
// grows while this test keeps a CPU busy.
func TestMachineBusyGrowsWithWork(t *testing.T) {
	before, ok := machineBusy()
	if !ok {
		t.Fatal("no /proc/stat")
	}
	deadline := time.Now().Add(100 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		n++
	}
	after, _ := machineBusy()
	if after-before < 50*time.Millisecond {
		t.Errorf("busy time grew by %v over 100 ms of spinning (%d loops)", after-before, n)
	}
}

// benchHandler calls the handler of the target pick chooses directly,
// without a connection: the acknowledgement's own CPU time (verify,
// decode, the store's round trip), without net/http's and the load
// generator's, which both targets share.
func benchHandler(b *testing.B, pick func(p *pipeline) (http.Handler, target)) {
	p, err := startPipeline(context.Background(), pipelineOptions{RedisURL: redisURL(), Ingest: true})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	h, t := pick(p)
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16)
	cpu0, _ := processCPU()
	rcpu0, _ := redisCPU(context.Background(), p.rdb)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body, hdr := t.build(int(seq.Add(1)))
			r := httptest.NewRequest(http.MethodPost, t.URL, bytes.NewReader(body))
			r.Header = hdr
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Errorf("status %d, want 200", w.Code)
				return
			}
		}
	})
	b.StopTimer()
	// CPU time rather than elapsed time: the figure to compare when the
	// machine is busy with other work too.
	cpu1, _ := processCPU()
	rcpu1, _ := redisCPU(context.Background(), p.rdb)
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64((rcpu1-rcpu0).Microseconds())/float64(b.N), "redis-cpu-µs/op")
}

// BenchmarkAckHandlerSlackSignedEvent is xunji's Slack events handler
// with processing off, called directly (see benchHandler).
func BenchmarkAckHandlerSlackSignedEvent(b *testing.B) {
	benchHandler(b, func(p *pipeline) (http.Handler, target) { return p.xunji, slackTarget("http://xunji") })
}

// BenchmarkAckHandlerReference is the reference handler called directly.
func BenchmarkAckHandlerReference(b *testing.B) {
	benchHandler(b, func(p *pipeline) (http.Handler, target) { return p.ref, referenceTarget("http://ref") })
}
