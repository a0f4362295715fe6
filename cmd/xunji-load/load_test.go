package main

import (
	"context"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

func redisURL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/15"
}

// benchAck measures the acknowledgement of one request over loopback HTTP
// with parallel senders; ns/op is the inverse of throughput and p99-ms the
// 99th-percentile acknowledgement time.
func benchAck(b *testing.B, pick func(p *pipeline) target) {
	p, err := startPipeline(context.Background(), redisURL())
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	t := pick(p)
	var seq atomic.Int64
	lat := make(chan time.Duration, 1<<20)
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
	benchAck(b, func(p *pipeline) target { return slackTarget(p.XunjiURL) })
}

func BenchmarkAckLarkEncryptedEvent(b *testing.B) {
	benchAck(b, func(p *pipeline) target { return larkTarget(p.XunjiURL) })
}

func BenchmarkAckBareHandler(b *testing.B) {
	benchAck(b, func(p *pipeline) target { return bareTarget(p.BareURL) })
}

// TestPipelineAcknowledgesEveryEvent runs a short load through the whole
// pipeline: every signed or encrypted event is acknowledged with 200.
func TestPipelineAcknowledgesEveryEvent(t *testing.T) {
	p, err := startPipeline(context.Background(), redisURL())
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
}
