package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Targets of the issue, at L.
const (
	targetRSS        = 150 * 1024 // kB
	targetRedisBlock = 5000       // µs
	targetGrowth     = 1.5        // M/S and L/S of single-record commands: ≈ 1×
)

// printTable prints the table: operation × size, "bolt / Redis"
// in each cell, the target next to it; ✗ marks a miss. Targets are for
// L; a time over the target at S or M is a miss at L too.
func printTable(w io.Writer, rs []*Result, runs int) {
	if len(rs) == 0 {
		return
	}
	t := newTable(rs)
	fmt.Fprintf(w, "\nmedian of %d runs, server side; each cell %s\n\n", runs, strings.Join(t.backends, " / "))
	t.printHeader(w)
	if len(rs[0].Ops) == 0 {
		return
	}
	t.printOps(w, rs[0].Ops)
	t.printResources(w)
	fmt.Fprintln(w)
	printNotes(w, rs)
}

// table is the results arranged by size and backend, in the order met.
type table struct {
	sizes    []string
	backends []string
	hasSize  map[string]bool
	hasBack  map[string]bool
	get      map[[2]string]*Result // by size and backend
	growth   []string              // the sizes with a growth column (X/S)
}

func newTable(rs []*Result) *table {
	t := &table{hasSize: map[string]bool{}, hasBack: map[string]bool{}, get: map[[2]string]*Result{}}
	for _, r := range rs {
		if !t.hasSize[r.Size] {
			t.hasSize[r.Size] = true
			t.sizes = append(t.sizes, r.Size)
		}
		if !t.hasBack[r.Backend] {
			t.hasBack[r.Backend] = true
			t.backends = append(t.backends, r.Backend)
		}
		t.get[[2]string{r.Size, r.Backend}] = r
	}
	if t.hasSize["S"] {
		for _, s := range t.sizes {
			if s != "S" && s != "T" {
				t.growth = append(t.growth, s)
			}
		}
	}
	return t
}

// cell is one table cell: f of each backend's result at size, joined.
func (t *table) cell(size string, f func(r *Result) (string, bool)) string {
	var parts []string
	for _, b := range t.backends {
		r := t.get[[2]string{size, b}]
		if r == nil {
			parts = append(parts, "–")
			continue
		}
		s, miss := f(r)
		if miss {
			s += " ✗"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " / ")
}

func (t *table) printHeader(w io.Writer) {
	head := "| operation |"
	sep := "|---|"
	for _, s := range t.sizes {
		head += " " + s + " |"
		sep += "---|"
	}
	head += " target at L |"
	sep += "---|"
	for _, s := range t.growth {
		head += " " + s + "/S |"
		sep += "---|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
}

// printOps prints a row per operation: its median at each size, the
// target and the growth from S.
func (t *table) printOps(w io.Writer, ops []OpResult) {
	for i, o := range ops {
		line := "| " + o.Name + " |"
		for _, s := range t.sizes {
			line += " " + t.cell(s, func(r *Result) (string, bool) {
				if i >= len(r.Ops) {
					return "?", false
				}
				op := r.Ops[i]
				if op.Err != "" {
					return "error", true
				}
				return dur(op.Median), op.Median > op.Target
			}) + " |"
		}
		line += " ≤ " + dur(o.Target)
		if o.Flat {
			line += ", ≈ 1× growth"
		}
		line += " |"
		for _, s := range t.growth {
			line += " " + t.cell(s, func(r *Result) (string, bool) {
				base := t.get[[2]string{"S", r.Backend}]
				if base == nil || i >= len(base.Ops) || base.Ops[i].Median == 0 {
					return "–", false
				}
				g := float64(r.Ops[i].Median) / float64(base.Ops[i].Median)
				return fmt.Sprintf("%.1f×", g), o.Flat && g > targetGrowth
			}) + " |"
		}
		fmt.Fprintln(w, line)
	}
}

// printResources prints the rows of memory, Redis latency and
// generation time.
func (t *table) printResources(w io.Writer) {
	row := func(name, target string, f func(r *Result) (string, bool)) {
		line := "| " + name + " |"
		for _, s := range t.sizes {
			line += " " + t.cell(s, f) + " |"
		}
		line += " " + target + " |" + strings.Repeat(" |", len(t.growth))
		fmt.Fprintln(w, line)
	}
	row("RSS after start", "", func(r *Result) (string, bool) { return mb(r.RSSStart), false })
	row("RSS after the operation with the highest peak", "", func(r *Result) (string, bool) { return mb(r.RSSAfterHeavy), false })
	row("peak RSS (VmHWM)", "≤ 150 MB", func(r *Result) (string, bool) { return mb(r.PeakRSS), r.PeakRSS > targetRSS })
	if t.hasBack["redis"] {
		row("slowest Redis command (SLOWLOG ≥ 1 ms)", "≤ 5 ms", func(r *Result) (string, bool) {
			switch {
			case r.Backend != "redis":
				return "–", false
			case r.SlowlogErr != "":
				return "n/a", false
			case r.SlowestMicros == 0:
				return "< 1 ms", false
			}
			return fmt.Sprintf("%.1f ms", float64(r.SlowestMicros)/1000), r.SlowestMicros > targetRedisBlock
		})
	}
	row("generation", "≤ ~3 min at L", func(r *Result) (string, bool) {
		if !r.Generated {
			return "kept", false
		}
		return r.Stats.Elapsed.Round(100 * time.Millisecond).String(), r.Stats.Elapsed > 3*time.Minute
	})
}

// printNotes prints, under the table, each run's slowest Redis command,
// peak memory per operation and failed operations.
func printNotes(w io.Writer, rs []*Result) {
	for _, r := range rs {
		if r.Slowest != "" {
			fmt.Fprintf(w, "%s %s: slowest Redis command %.1f ms (%d over 5 ms): %s\n", r.Size, r.Backend, float64(r.SlowestMicros)/1000, r.SlowOver, r.Slowest)
		}
		if r.SlowlogErr != "" {
			fmt.Fprintf(w, "%s %s: SLOWLOG unavailable: %s\n", r.Size, r.Backend, r.SlowlogErr)
		}
		if r.Heavy != "" {
			var peaks []string
			for _, o := range r.Ops {
				if o.PeakRSS > 0 {
					peaks = append(peaks, fmt.Sprintf("%s %s", o.Name, mb(o.PeakRSS)))
				}
			}
			if len(peaks) > 0 {
				fmt.Fprintf(w, "%s %s: peak RSS per operation: %s\n", r.Size, r.Backend, strings.Join(peaks, ", "))
			}
		}
		for _, o := range r.Ops {
			if o.Err != "" {
				fmt.Fprintf(w, "%s %s: %s failed: %s\n", r.Size, r.Backend, o.Name, o.Err)
			}
		}
	}
}

func dur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func mb(kb int) string {
	if kb == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB", float64(kb)/1024)
}
