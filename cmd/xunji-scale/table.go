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
	var sizeOrder []string
	seen := map[string]bool{}
	backends := []string{}
	seenB := map[string]bool{}
	get := map[[2]string]*Result{}
	for _, r := range rs {
		if !seen[r.Size] {
			seen[r.Size] = true
			sizeOrder = append(sizeOrder, r.Size)
		}
		if !seenB[r.Backend] {
			seenB[r.Backend] = true
			backends = append(backends, r.Backend)
		}
		get[[2]string{r.Size, r.Backend}] = r
	}
	cell := func(size string, f func(r *Result) (string, bool)) string {
		var parts []string
		for _, b := range backends {
			r := get[[2]string{size, b}]
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
	fmt.Fprintf(w, "\nmedian of %d runs, server side; each cell %s\n\n", runs, strings.Join(backends, " / "))
	head := "| operation |"
	sep := "|---|"
	for _, s := range sizeOrder {
		head += " " + s + " |"
		sep += "---|"
	}
	head += " target at L |"
	sep += "---|"
	hasS := seen["S"]
	growth := []string{}
	if hasS {
		for _, s := range sizeOrder {
			if s != "S" && s != "T" {
				growth = append(growth, s)
				head += " " + s + "/S |"
				sep += "---|"
			}
		}
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	if len(rs[0].Ops) == 0 {
		return
	}
	for i, o := range rs[0].Ops {
		line := "| " + o.Name + " |"
		for _, s := range sizeOrder {
			line += " " + cell(s, func(r *Result) (string, bool) {
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
		for _, s := range growth {
			line += " " + cell(s, func(r *Result) (string, bool) {
				base := get[[2]string{"S", r.Backend}]
				if base == nil || i >= len(base.Ops) || base.Ops[i].Median == 0 {
					return "–", false
				}
				g := float64(r.Ops[i].Median) / float64(base.Ops[i].Median)
				return fmt.Sprintf("%.1f×", g), o.Flat && g > targetGrowth
			}) + " |"
		}
		fmt.Fprintln(w, line)
	}
	row := func(name, target string, f func(r *Result) (string, bool)) {
		line := "| " + name + " |"
		for _, s := range sizeOrder {
			line += " " + cell(s, f) + " |"
		}
		line += " " + target + " |" + strings.Repeat(" |", len(growth))
		fmt.Fprintln(w, line)
	}
	row("RSS after start", "", func(r *Result) (string, bool) { return mb(r.RSSStart), false })
	row("RSS after the operation with the highest peak", "", func(r *Result) (string, bool) { return mb(r.RSSAfterHeavy), false })
	row("peak RSS (VmHWM)", "≤ 150 MB", func(r *Result) (string, bool) { return mb(r.PeakRSS), r.PeakRSS > targetRSS })
	if seenB["redis"] {
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
	fmt.Fprintln(w)
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
