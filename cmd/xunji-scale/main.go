// Command xunji-scale is the scale benchmark of issue 16: it generates a
// district's records at three sizes — S, one district's year (200
// clues, 494 rectification items, 50 co-signatures, 20,000 audit
// entries, with the meetings, progress months, checks and consultations
// that go with them); M, ten times S; L, fifty times S — on both storage
// backends, and times the operations through the bot's own
// request handling on each, with the resident memory and, on Redis, the
// slowest single Redis command.
//
// Each (size, backend) runs in a child process of its own (the command
// runs itself again), so that its memory figures are its own. The
// generated data is kept between runs — bolt files in -dir, Redis keys
// under a prefix of their own with -keep — and made again with -regen.
//
//	go run ./cmd/xunji-scale -sizes S,M -runs 5
//
// It exits 0 when targets are missed: it is a measurement; the table
// marks the misses.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type options struct {
	Sizes    []string
	Backends []string
	Runs     int
	Batch    int
	Dir      string
	RedisURL string
	Prefix   string
	Regen    bool
	Keep     bool
	Child    string // "", "gen" or "measure": what a child process does
}

func main() {
	o := options{}
	var sizesFlag, backendsFlag string
	flag.StringVar(&sizesFlag, "sizes", "S,M", "sizes to measure, of S, M, L")
	flag.StringVar(&backendsFlag, "backends", "bolt,redis", "backends to measure, of bolt, redis")
	flag.IntVar(&o.Runs, "runs", 5, "runs of each operation; the median is reported")
	flag.IntVar(&o.Batch, "batch", 2000, "records written per unit of work when generating")
	flag.StringVar(&o.Dir, "dir", filepath.Join(os.TempDir(), "xunji-scale"), "directory of the generated bolt files")
	flag.StringVar(&o.RedisURL, "redis", envOr("REDIS_URL", "redis://127.0.0.1:6379/15"), "Redis URL of the Redis backend")
	flag.StringVar(&o.Prefix, "prefix", "xunjiscale:", "Redis key prefix; each size adds its name")
	flag.BoolVar(&o.Regen, "regen", false, "generate the data again even when it is kept from an earlier run")
	flag.BoolVar(&o.Keep, "keep", false, "keep the Redis data for the next run (bolt files are always kept)")
	flag.StringVar(&o.Child, "child", "", "internal: run one size and backend in this process (gen, measure)")
	flag.Parse()
	o.Sizes = split(sizesFlag)
	o.Backends = split(backendsFlag)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if o.Child != "" {
		if err := child(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "xunji-scale:", err)
			os.Exit(1)
		}
		return
	}
	load := loadavg()
	results, err := parent(ctx, o, os.Stderr)
	printTable(os.Stdout, results, o.Runs)
	// Timings on a shared machine are only as good as its idleness.
	fmt.Printf("load average (1, 5, 15 min) before: %s, after: %s on %d CPUs\n", load, loadavg(), runtime.NumCPU())
	if err != nil {
		fmt.Fprintln(os.Stderr, "xunji-scale:", err)
		os.Exit(1)
	}
}

// loadavg is the machine's load average, "" off Linux.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (o options) target(size, backend string) target {
	return target{Backend: backend, Size: size, Dir: o.Dir, RedisURL: o.RedisURL, Prefix: o.Prefix + size + ":"}
}

// child generates or measures one size on one backend and writes the
// outcome as JSON to standard output.
func child(ctx context.Context, o options) error {
	if len(o.Sizes) != 1 || len(o.Backends) != 1 {
		return fmt.Errorf("a child runs one size and one backend")
	}
	t := o.target(o.Sizes[0], o.Backends[0])
	var out any
	switch o.Child {
	case "gen":
		st, made, err := generate(ctx, t, o.Regen, o.Batch)
		if err != nil {
			return err
		}
		out = struct {
			Stats     *Stats
			Generated bool
		}{st, made}
	case "measure":
		res, err := measure(ctx, t, o.Runs, true)
		if err != nil {
			return err
		}
		out = res
	default:
		return fmt.Errorf("unknown -child %q", o.Child)
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// parent runs a generating child and a measuring child per size and
// backend, and returns the measurements.
func parent(ctx context.Context, o options, log io.Writer) ([]*Result, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	for _, s := range o.Sizes {
		if _, ok := sizes[s]; !ok {
			return nil, fmt.Errorf("unknown size %q (S, M, L)", s)
		}
	}
	var results []*Result
	for _, size := range o.Sizes {
		for _, backend := range o.Backends {
			args := []string{"-sizes", size, "-backends", backend, "-dir", o.Dir, "-redis", o.RedisURL, "-prefix", o.Prefix,
				"-batch", fmt.Sprint(o.Batch), "-runs", fmt.Sprint(o.Runs)}
			if o.Regen {
				args = append(args, "-regen")
			}
			fmt.Fprintf(log, "%s %s: generating (or reusing)…\n", size, backend)
			var gen struct {
				Stats     *Stats
				Generated bool
			}
			if err := runChild(ctx, self, append(args, "-child", "gen"), &gen); err != nil {
				return results, fmt.Errorf("%s %s: generate: %w", size, backend, err)
			}
			if gen.Generated {
				fmt.Fprintf(log, "%s %s: generated in %s: %v\n", size, backend, gen.Stats.Elapsed.Round(time.Millisecond), gen.Stats.Counts)
			} else {
				fmt.Fprintf(log, "%s %s: reusing the data generated earlier (-regen to make it again)\n", size, backend)
			}
			fmt.Fprintf(log, "%s %s: measuring, %d runs of each operation…\n", size, backend, o.Runs)
			var res Result
			err := runChild(ctx, self, append(args, "-child", "measure"), &res)
			if backend == "redis" && !o.Keep {
				if rerr := o.target(size, backend).remove(context.WithoutCancel(ctx)); rerr != nil {
					fmt.Fprintf(log, "%s %s: removing the Redis data: %v\n", size, backend, rerr)
				}
			}
			if err != nil {
				return results, fmt.Errorf("%s %s: measure: %w", size, backend, err)
			}
			res.Generated = gen.Generated
			if gen.Generated {
				res.Stats.Elapsed = gen.Stats.Elapsed
			}
			results = append(results, &res)
		}
	}
	return results, nil
}

// runChild runs the command again with args and decodes its JSON output
// into out; its standard error goes to ours.
func runChild(ctx context.Context, self string, args []string, out any) error {
	cmd := exec.CommandContext(ctx, self, args...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return err
	}
	return json.Unmarshal(stdout.Bytes(), out)
}
