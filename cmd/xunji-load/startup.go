package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// measureStartup runs the xunji binary at bin n times on a fresh bolt
// file with the console adapter (the zero-configuration default) and
// reports the median time until it is ready for input and its resident
// memory after a second idle.
func measureStartup(bin string, n int) error {
	var starts []time.Duration
	var rss []int
	for i := 0; i < n; i++ {
		dir, err := os.MkdirTemp("", "xunji-startup")
		if err != nil {
			return err
		}
		cmd := exec.Command(bin)
		cmd.Dir = dir
		// The demo on the embedded store: a REDIS_URL for the load's Redis
		// would stop it.
		env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "REDIS_URL=") })
		cmd.Env = append(env, "XUNJI_STORE_PATH="+filepath.Join(dir, "x.db"))
		stdin, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			return err
		}
		r := bufio.NewReader(out)
		if _, err := r.ReadString('\n'); err != nil { // the console's welcome line: ready
			return fmt.Errorf("xunji did not start: %w", err)
		}
		starts = append(starts, time.Since(start))
		time.Sleep(time.Second) // idle
		kb, err := vmRSS(cmd.Process.Pid)
		if err != nil {
			return err
		}
		rss = append(rss, kb)
		stdin.Close()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	slices.Sort(starts)
	slices.Sort(rss)
	fmt.Printf("start-up to console ready (median of %d, first start with the demo seed included): %s\n", n, ms(starts[n/2]))
	fmt.Printf("idle resident memory (median): %.1f MB\n", float64(rss[n/2])/1024)
	return nil
}

func vmRSS(pid int) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
