// Command xunji-fault runs the fault suite: it builds the real xunji
// binary (or takes -bin), starts it against fake Slack and Lark servers
// (adapters/slack/slacktest, adapters/lark/larktest) and a private
// redis-server on a free loopback port (or a bbolt file), sends clue
// transfers as the platforms would, injects one fault per scenario while
// they are in flight, and reports what came out:
//
//	go run ./cmd/xunji-fault                                  # every scenario, Slack and Lark, Redis
//	go run ./cmd/xunji-fault -scenario kill9,sigterm -store bolt
//	go run ./cmd/xunji-fault -scenario platform -platform lark -v
//
// Scenarios (see scenarios.go): baseline (no fault), kill9, sigterm, redis-stop,
// redis-freeze, platform, replicas; the Redis ones and replicas are
// skipped with -store bolt.
//
// Each platform's commands are 李娜's "线索 移送 第二监督检查室 …" in the
// coordination group (demo roster), posted through a round-robin front
// to the replicas, each delivered again every second until acknowledged
// with 200 within 3 s (the platforms' retry, compressed). Every transfer
// should give one clue record, one group card, one direct message of
// the substance to 赵强 (the receiving body's member) and one answer to
// 李娜; the table shows, per platform, sent / acknowledged / answered,
// the records, cards and DMs, duplicates and losses, and whether every
// chat showed its messages in commit order. The process exits 1 when a
// target is missed: exactly N records, N cards and N DMs, nothing lost,
// no duplicate on Lark, order kept in every chat.
//
// Everything listens on 127.0.0.1 only, every wait has a deadline, and
// every process started is stopped before the command returns.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Main runs the command with args and returns its exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	o, scs, bin, keep, code := parseFlags(args, stderr)
	if code >= 0 {
		return code
	}
	dir, err := os.MkdirTemp("", "xunji-fault-")
	if err != nil {
		fmt.Fprintln(stderr, "xunji-fault:", err)
		return 1
	}
	o.Dir = dir
	if keep {
		fmt.Fprintln(stderr, "xunji-fault: working directory", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	// An interrupt ends the run between steps; the children die with
	// this process in any case (see childAttr).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	o.Bin = bin
	if o.Bin == "" {
		if o.Bin, err = build(ctx, dir); err != nil {
			fmt.Fprintln(stderr, "xunji-fault:", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "xunji fault suite: store %s, platforms %s, %d clue transfers per platform, platform latency %s\n",
		o.Store, strings.Join(o.Platforms, "+"), o.N, o.Latency)
	var all []result
	failed := false
	for _, sc := range scs {
		if ctx.Err() != nil {
			break
		}
		if sc.Redis && o.Store != "redis" {
			fmt.Fprintf(stdout, "\n### %s: skipped (needs -store redis)\n", sc.Name)
			continue
		}
		fmt.Fprintf(stdout, "\n### %s: %s\n\n", sc.Name, sc.Doc)
		start := time.Now()
		res, notes, err := runScenario(o, sc)
		if err != nil {
			fmt.Fprintf(stdout, "ERROR: %v\n", err)
			failed = true
			continue
		}
		if !printScenario(stdout, res, notes, start) {
			failed = true
		}
		all = append(all, res...)
	}
	if len(all) > 1 {
		fmt.Fprintf(stdout, "\n### summary\n\n")
		printTable(stdout, all)
	}
	if failed || ctx.Err() != nil {
		fmt.Fprintln(stdout, "\nxunji-fault: targets missed")
		return 1
	}
	fmt.Fprintln(stdout, "\nxunji-fault: every target met")
	return 0
}

// parseFlags reads the command line: the run's options (without Dir and
// Bin), the scenarios, the -bin and -keep flags. code is the exit code
// when the command should end now (-h, or a flag refused), else -1.
func parseFlags(args []string, stderr io.Writer) (o options, scs []scenario, bin string, keep bool, code int) {
	fs := flag.NewFlagSet("xunji-fault", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.String("scenario", "all", "scenarios to run, comma-separated: baseline, kill9, sigterm, redis-stop, redis-freeze, platform, replicas, or all")
	platform := fs.String("platform", "both", "slack, lark or both (both: one xunji serving the two at once)")
	store := fs.String("store", "redis", "redis (a private redis-server) or bolt (a bbolt file); the Redis faults and replicas need redis")
	binPath := fs.String("bin", "", "the xunji binary to test; built from ./cmd/xunji when empty")
	n := fs.Int("n", 10, "clue transfers per platform")
	latency := fs.Duration("latency", 500*time.Millisecond, "how long the fake platforms take to answer each send")
	gap := fs.Duration("gap", 300*time.Millisecond, "pause between two commands of one platform")
	keepDir := fs.Bool("keep", false, "keep the working directory (logs, store) after the run")
	verbose := fs.Bool("v", false, "print progress")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, nil, "", false, 0
		}
		return o, nil, "", false, 2
	}
	o = options{Store: *store, N: *n, Latency: *latency, Gap: *gap, Verbose: io.Discard}
	if *verbose {
		o.Verbose = stderr
	}
	switch *platform {
	case "both":
		o.Platforms = []string{"slack", "lark"}
	case "slack", "lark":
		o.Platforms = []string{*platform}
	default:
		fmt.Fprintf(stderr, "xunji-fault: -platform %q: slack, lark or both\n", *platform)
		return o, nil, "", false, 2
	}
	if o.Store != "redis" && o.Store != "bolt" {
		fmt.Fprintf(stderr, "xunji-fault: -store %q: redis or bolt\n", o.Store)
		return o, nil, "", false, 2
	}
	if o.N < 1 || o.N > 200 {
		fmt.Fprintln(stderr, "xunji-fault: -n must be between 1 and 200")
		return o, nil, "", false, 2
	}
	scs, err := selectScenarios(*list)
	if err != nil {
		fmt.Fprintln(stderr, "xunji-fault:", err)
		return o, nil, "", false, 2
	}
	return o, scs, *binPath, *keepDir, -1
}

// printScenario prints a scenario's results (its table, notes and time
// since start, what it missed) and reports whether it met every target.
func printScenario(stdout io.Writer, res []result, notes []string, start time.Time) (met bool) {
	met = true
	printTable(stdout, res)
	fmt.Fprintf(stdout, "\n%s, %.0f s", strings.Join(notes, "; "), time.Since(start).Seconds())
	fmt.Fprintln(stdout)
	for _, x := range res {
		if x.Other > 0 || x.Cross > 0 {
			fmt.Fprintf(stdout, "%s: %d other messages to the sender, %d DMs or answers of the other platform's transfers\n", x.Platform, x.Other, x.Cross)
			for _, t := range x.OtherTexts {
				fmt.Fprintf(stdout, "  other: %.200s\n", strings.ReplaceAll(t, "\n", " ⏎ "))
			}
		}
		if len(x.Missed) > 0 {
			met = false
			fmt.Fprintf(stdout, "MISSED (%s): %s\n", x.Platform, strings.Join(x.Missed, "; "))
			for _, d := range x.Disorder {
				fmt.Fprintf(stdout, "  order shown in %s\n", d)
			}
		}
	}
	return met
}

// build compiles ./cmd/xunji of this module into dir.
func build(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(out))
	if err != nil || mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run from the xunji module, or give -bin: go env GOMOD: %v", err)
	}
	bin := filepath.Join(dir, "xunji")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/xunji")
	cmd.Dir = filepath.Dir(mod)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/xunji: %v\n%s", err, msg)
	}
	return bin, nil
}

func printTable(w io.Writer, rs []result) {
	fmt.Fprintln(w, "| scenario | platform | sent | acked | answered | clues | cards | DMs | duplicated | lost | order | left | possible dup. | targets |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
	for _, x := range rs {
		order := fmt.Sprintf("kept (%d chats)", x.Chats)
		if x.Inversions > 0 {
			order = fmt.Sprintf("%d pairs inverted", x.Inversions)
		}
		dup := fmt.Sprint(x.Dup())
		if x.Dup() > 0 {
			dup = fmt.Sprintf("%d (records %d, cards %d, DMs %d, answers %d)", x.Dup(), x.DupRecords, x.DupCards, x.DupDMs, x.DupAnswers)
		}
		targets := "met"
		if len(x.Missed) > 0 {
			targets = "MISSED"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %d | %d | %d | %s | %d | %s | %d | %d | %s |\n", x.Scenario, x.Platform, x.Sent, x.Acked, x.Answered,
			x.Clues, x.Cards, x.DMs, dup, x.Lost, order, x.Left, x.PossibleDup, targets)
	}
}
