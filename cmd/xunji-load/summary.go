package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// A summary row gathers the repeated runs of one target in one phase.
type summary struct {
	Target string
	Rate   int
	Runs   int
	// Minimum and median throughput (acknowledged/s) and p99.
	MinTput, MedTput float64
	MinP99, MedP99   time.Duration
	// RatioMin and RatioMed are the minimum and median, over the rounds,
	// of this run's throughput (at saturation) or p99 (at a fixed rate)
	// divided by the reference's in the same round; zero without a
	// reference.
	RatioMin, RatioMed float64
	// MedCPU is the median of this process's and Redis's CPU time per
	// event (saturation only), and CPURatio the reference's median over
	// it: the throughput ratio if both were bound by that CPU alone.
	MedCPU   time.Duration
	CPURatio float64
}

// summarize groups results by phase and target, in the order they first
// ran. Results of one phase come in rounds: every target once, back to
// back, so a target's k-th run is compared with the reference's k-th.
func summarize(rs []Result, reference string) []summary {
	type phase struct {
		target string
		rate   int
	}
	var order []phase
	runs := map[phase][]Result{}
	for _, r := range rs {
		k := phase{r.Target, r.Rate}
		if _, ok := runs[k]; !ok {
			order = append(order, k)
		}
		runs[k] = append(runs[k], r)
	}
	var out []summary
	for _, k := range order {
		group := runs[k]
		s := summary{Target: k.target, Rate: k.rate, Runs: len(group)}
		var tputs []float64
		var p99s []time.Duration
		for _, r := range group {
			tputs = append(tputs, r.Throughput())
			p99s = append(p99s, r.P99)
		}
		s.MinTput, s.MedTput = minMedian(tputs)
		s.MinP99, s.MedP99 = minMedian(p99s)
		_, s.MedCPU = minMedian(cpus(group))
		if ref, ok := runs[phase{reference, k.rate}]; ok && k.target != reference && len(ref) == len(group) {
			var ratios []float64
			for i, r := range group {
				if k.rate == 0 && ref[i].Throughput() > 0 {
					ratios = append(ratios, r.Throughput()/ref[i].Throughput())
				} else if k.rate != 0 && ref[i].P99 > 0 {
					ratios = append(ratios, float64(r.P99)/float64(ref[i].P99))
				}
			}
			s.RatioMin, s.RatioMed = minMedian(ratios)
			if _, refCPU := minMedian(cpus(ref)); refCPU > 0 && s.MedCPU > 0 {
				s.CPURatio = float64(refCPU) / float64(s.MedCPU)
			}
		}
		out = append(out, s)
	}
	return out
}

// cpus are the runs' process and Redis CPU times per event, where
// measured.
func cpus(rs []Result) []time.Duration {
	var out []time.Duration
	for _, r := range rs {
		if c := r.ProcCPUPerEvent + r.RedisCPUPerEvent; c > 0 {
			out = append(out, c)
		}
	}
	return out
}

// minMedian returns the smallest value and the median (the upper one of
// an even count) of vs, zero for none.
func minMedian[T float64 | time.Duration](vs []T) (T, T) {
	if len(vs) == 0 {
		return 0, 0
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	return vs[0], vs[len(vs)/2]
}

func printSummary(w io.Writer, ss []summary, workers int) {
	fmt.Fprintln(w, "| target | offered/s | runs | throughput/s min | median | p99 min | median | vs reference (min / median) | process + Redis CPU/event | CPU vs reference |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, s := range ss {
		offered := strconv.Itoa(s.Rate)
		what := "p99"
		if s.Rate == 0 {
			offered, what = fmt.Sprintf("max (%d workers)", workers), "throughput"
		}
		ratio := "–"
		if s.RatioMed > 0 {
			ratio = fmt.Sprintf("%s %.2f× / %.2f×", what, s.RatioMin, s.RatioMed)
		}
		cpuRatio := "–"
		if s.CPURatio > 0 {
			cpuRatio = fmt.Sprintf("%.2f×", s.CPURatio)
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.0f | %.0f | %s | %s | %s | %s | %s |\n", s.Target, offered, s.Runs, s.MinTput, s.MedTput,
			ms(s.MinP99), ms(s.MedP99), ratio, us(s.MedCPU), cpuRatio)
	}
}
