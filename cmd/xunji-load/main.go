// Command xunji-load measures how fast xunji acknowledges platform
// events, against a reference server and the bare net/http limit, on
// loopback only.
//
//	go run ./cmd/xunji-load                       # 250…5000 events/s, 5 s each
//	go run ./cmd/xunji-load -rates 1000 -duration 10s
//	go run ./cmd/xunji-load -rates '' -ingest-only -targets slack,reference -repeat 5
//	go run ./cmd/xunji-load -store bolt -rates 1000 -ingest-only -targets slack,reference -repeat 5
//	go build -o /tmp/xunji ./cmd/xunji && go run ./cmd/xunji-load -startup /tmp/xunji
//
// It starts, in this process, the full pipeline — the Slack and Lark
// adapters with signature checks and decryption, the durable inbox and
// dedupe on the real Redis store at REDIS_URL (default
// redis://127.0.0.1:6379/15, under a throw-away key prefix) or, with
// -store bolt, on a bbolt file in a temporary directory, the command —
// the reference server (it verifies a Slack event's signature, claims
// its event id with one Redis SET NX and answers 200: see
// referenceHandler) and a bare handler that only reads the body and
// answers 200. Every event comes from its own chat, so per-chat pacing
// of the answers never holds up the ingest path. It
// offers signed Slack events and encrypted Lark events at each rate
// (open loop), then saturates each target with back-to-back workers, and
// prints throughput and p50/p99 acknowledgement latency as a Markdown
// table; answered/s is the rate at which the phase's events were answered
// through the (fake) platform API, counted until the last answer, and
// CPU/event (at saturation) the whole machine's busy time over the phase
// and its answers per acknowledged event, from /proc/stat; process
// CPU/event is this process's share of it (load generator and servers)
// and Redis CPU/event the Redis server's (INFO cpu), which leave out
// whatever else the machine runs. With
// -ingest-only, events are acknowledged and left in the inbox: the
// acknowledgement path alone. With -startup it instead measures a built
// xunji binary's start-up time and idle memory with the bolt store.
//
// With -repeat n every phase runs n times, the targets of one phase back
// to back, and a summary follows the table: per target and phase the
// minimum and median of the throughput and the p99, and the median ratio
// to the reference's phase of the same round (throughput at saturation,
// p99 at a fixed rate).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	rates := flag.String("rates", "250,500,1000,2000,5000", "offered events per second, comma-separated (empty: saturation only)")
	dur := flag.Duration("duration", 5*time.Second, "length of each phase")
	workers := flag.Int("workers", 32, "concurrent senders in the saturation phase")
	startup := flag.String("startup", "", "measure start-up and idle RSS of this xunji binary instead")
	only := flag.String("targets", "slack,lark,reference,bare", "which targets to load, comma-separated (slack, lark, reference, bare)")
	storeKind := flag.String("store", "redis", "xunji's store: redis (REDIS_URL) or bolt (a file in a temporary directory); the reference always uses Redis")
	repeat := flag.Int("repeat", 1, "run every phase this many times and summarise (min, median, ratio to the reference)")
	ingest := flag.Bool("ingest-only", false, "leave accepted events in the inbox instead of answering them: the acknowledgement path alone")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "xunji-load:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "xunji-load:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *startup != "" {
		if err := measureStartup(*startup, 5); err != nil {
			fmt.Fprintln(os.Stderr, "xunji-load:", err)
			os.Exit(1)
		}
		return
	}
	rs := parseRates(*rates)
	if *repeat < 1 || *repeat > 100 {
		fmt.Fprintln(os.Stderr, "xunji-load: -repeat must be between 1 and 100")
		os.Exit(2)
	}
	if *dur <= 0 || *dur > time.Minute {
		fmt.Fprintln(os.Stderr, "xunji-load: -duration must be between 0 and 1m")
		os.Exit(2)
	}
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/15"
	}
	ctx := context.Background()
	p, err := startPipeline(ctx, pipelineOptions{RedisURL: redisURL, Ingest: *ingest, Store: *storeKind})
	if err != nil {
		fmt.Fprintln(os.Stderr, "xunji-load:", err)
		os.Exit(1)
	}
	defer p.Close()
	targets := selectTargets(*only, p)
	var seq atomic.Int64
	var results []Result
	answered := func(t target, phase func() Result) Result { return p.answered(ctx, t, *ingest, phase) }
	for _, rate := range rs {
		for range *repeat {
			for _, t := range targets {
				results = append(results, answered(t, func() Result { return openLoop(ctx, t, rate, *dur, &seq) }))
			}
		}
	}
	for range *repeat {
		for _, t := range targets {
			results = append(results, answered(t, func() Result { return closedLoop(ctx, t, *workers, *dur, &seq) }))
		}
	}
	printTable(os.Stdout, results, *workers)
	if *repeat > 1 {
		fmt.Println()
		printSummary(os.Stdout, summarize(results, referenceTarget("").Name), *workers)
	}
}

// parseRates reads the comma-separated offered rates, or exits.
func parseRates(rates string) []int {
	var rs []int
	for _, s := range strings.FieldsFunc(rates, func(r rune) bool { return r == ',' }) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 || n > 20000 {
			fmt.Fprintf(os.Stderr, "xunji-load: bad rate %q\n", s)
			os.Exit(2)
		}
		rs = append(rs, n)
	}
	return rs
}

// selectTargets returns the comma-separated targets named in only, on
// p's servers, or exits.
func selectTargets(only string, p *pipeline) []target {
	var targets []target
	for _, name := range strings.Split(only, ",") {
		switch strings.TrimSpace(name) {
		case "slack":
			targets = append(targets, slackTarget(p.XunjiURL))
		case "lark":
			targets = append(targets, larkTarget(p.XunjiURL))
		case "reference":
			targets = append(targets, referenceTarget(p.RefURL))
		case "bare":
			targets = append(targets, bareTarget(p.BareURL))
		default:
			fmt.Fprintf(os.Stderr, "xunji-load: unknown target %q (slack, lark, reference, bare)\n", name)
			os.Exit(2)
		}
	}
	return targets
}

// answered runs a phase and, for xunji's targets when events are answered
// (not ingest), waits until every acknowledged event has been answered
// through the (fake) platform API.
func (p *pipeline) answered(ctx context.Context, t target, ingest bool, phase func() Result) Result {
	start, before := time.Now(), p.Answers.Load()
	busy0, ok0 := machineBusy()
	proc0, okp0 := processCPU()
	rcpu0, okr0 := redisCPU(ctx, p.rdb)
	r := phase()
	if t.Answered && !ingest {
		deadline := time.Now().Add(time.Minute)
		for p.Answers.Load()-before < int64(r.OK) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		r.Answered, r.AnsweredIn = int(p.Answers.Load()-before), time.Since(start)
	}
	// CPU per event only at saturation: at a few hundred events a second,
	// whatever else the machine does weighs more than the events.
	busy1, ok1 := machineBusy()
	proc1, okp1 := processCPU()
	rcpu1, okr1 := redisCPU(ctx, p.rdb)
	if r.OK > 0 && r.Rate == 0 {
		n := time.Duration(r.OK)
		if ok0 && ok1 {
			r.CPUPerEvent = (busy1 - busy0) / n
		}
		if okp0 && okp1 {
			r.ProcCPUPerEvent = (proc1 - proc0) / n
		}
		if okr0 && okr1 {
			r.RedisCPUPerEvent = (rcpu1 - rcpu0) / n
		}
	}
	return r
}

func printTable(w io.Writer, rs []Result, workers int) {
	fmt.Fprintln(w, "| target | offered/s | acknowledged | errors | throughput/s | p50 | p99 | max | answered/s | CPU/event | process CPU/event | Redis CPU/event |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		offered := strconv.Itoa(r.Rate)
		if r.Rate == 0 {
			offered = fmt.Sprintf("max (%d workers)", workers)
		}
		ans := "–"
		if r.AnsweredIn > 0 {
			ans = fmt.Sprintf("%.0f", float64(min(r.Answered, r.OK))/r.AnsweredIn.Seconds())
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", r.Target, offered, r.OK, r.Errors, r.Throughput(),
			ms(r.P50), ms(r.P99), ms(r.Max), ans, us(r.CPUPerEvent), us(r.ProcCPUPerEvent), us(r.RedisCPUPerEvent))
	}
}

// us shows a CPU time per event, "–" for none.
func us(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
