package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// freePort returns a loopback port nobody listens on now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// until calls cond every 50 ms until it holds or timeout passes, and
// reports whether it held.
func until(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// process is a child process and the end of its wait.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startProcess(cmd *exec.Cmd) (*process, error) {
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to end.
func (p *process) kill() {
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// term sends SIGTERM and waits up to timeout for the process to end, then
// kills it; it reports whether the process ended by itself.
func (p *process) term(timeout time.Duration) bool {
	if p == nil || p.exited() {
		return true
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		p.kill()
		return false
	}
}

func (p *process) signal(s os.Signal) error { return p.cmd.Process.Signal(s) }

// redisServer is a private redis-server on a free loopback port, with an
// append-only file synced on every write: a SIGKILL loses nothing it
// acknowledged, as with a production Redis configured for durability.
type redisServer struct {
	bin, dir string
	port     int
	proc     *process
}

func startRedis(dir string) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server is needed for the Redis store and its faults (apt-get install redis-server), or run with -store bolt: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := &redisServer{bin: bin, dir: dir, port: port}
	return r, r.start()
}

func (r *redisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *redisServer) start() error {
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "yes", "--appendfsync", "always", "--dir", r.dir, "--logfile", filepath.Join(r.dir, "redis.log"))
	p, err := startProcess(cmd)
	if err != nil {
		return err
	}
	r.proc = p
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	if !until(15*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		return !p.exited() && c.Ping(ctx).Err() == nil
	}) {
		p.kill()
		return fmt.Errorf("private redis-server on port %d did not start (see %s)", r.port, filepath.Join(r.dir, "redis.log"))
	}
	return nil
}

func (r *redisServer) close() {
	if r != nil && r.proc != nil {
		_ = r.proc.signal(syscall.SIGCONT)
		r.proc.kill()
	}
}

// replica is one xunji process, restarted on the same ports: port for
// the platforms' callbacks, adminPort for its probes and metrics.
type replica struct {
	name      string
	port      int
	adminPort int
	proc      *process
	alive     atomic.Bool
	log       string
}

func (rep *replica) addr() string { return fmt.Sprintf("127.0.0.1:%d", rep.port) }

// adminAddr is where the replica serves /livez, /readyz and /metrics.
func (rep *replica) adminAddr() string { return fmt.Sprintf("127.0.0.1:%d", rep.adminPort) }

// start runs the binary with env and waits until /readyz answers 200.
func (rep *replica) start(bin string, env []string) error {
	f, err := os.OpenFile(rep.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(f, "---- start %s\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(bin, "-console", "off")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	p, err := startProcess(cmd)
	if err != nil {
		return err
	}
	rep.proc = p
	client := &http.Client{Timeout: time.Second}
	if !until(30*time.Second, func() bool {
		if p.exited() {
			return true
		}
		resp, err := client.Get("http://" + rep.adminAddr() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}) || p.exited() {
		p.kill()
		return fmt.Errorf("%s did not start: %s", rep.name, tail(rep.log, 5))
	}
	rep.alive.Store(true)
	return nil
}

func (rep *replica) kill() {
	rep.alive.Store(false)
	rep.proc.kill()
}

func (rep *replica) term(timeout time.Duration) bool {
	rep.alive.Store(false)
	return rep.proc.term(timeout)
}

// metrics returns the samples of the /metrics page whose name starts
// with prefix, by their full name with labels.
func (rep *replica) metrics(prefix string) (map[string]float64, error) {
	resp, err := (&http.Client{Timeout: 3 * time.Second}).Get("http://" + rep.adminAddr() + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// tail returns the last n lines of a file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// countLines counts the lines of a file that contain s.
func countLines(path, s string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte(s))
}

// front is the load balancer the fake platforms post to: round robin
// over the live replicas, trying the next one when a replica cannot be
// reached, as a balancer with health checks would; 502 when none can.
type front struct {
	mu     sync.Mutex
	next   int
	reps   []*replica
	client *http.Client
	srv    *http.Server
	URL    string
}

func startFront(reps []*replica) (*front, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	f := &front{reps: reps, client: &http.Client{Timeout: 10 * time.Second}, URL: "http://" + ln.Addr().String()}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = f.srv.Serve(ln) }()
	return f, nil
}

func (f *front) close() { _ = f.srv.Close() }

func (f *front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	for range f.reps {
		f.mu.Lock()
		rep := f.reps[f.next%len(f.reps)]
		f.next++
		f.mu.Unlock()
		if !rep.alive.Load() {
			continue
		}
		req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+rep.addr()+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			continue
		}
		req.Header = r.Header.Clone()
		resp, err := f.client.Do(req)
		if err != nil {
			var op *net.OpError
			if errors.As(err, &op) && op.Op == "dial" {
				continue // not listening: the next replica
			}
			http.Error(w, "upstream: "+err.Error(), http.StatusBadGateway)
			return
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(data)
		return
	}
	http.Error(w, "no replica", http.StatusBadGateway)
}
