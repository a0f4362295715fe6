package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	redisstore "github.com/xunji-bot/xunji/storage/redis"
)

// TestReplicaChild is the xunji process started by
// TestThreeReplicasBehindOneAddress; run alone it does nothing.
func TestReplicaChild(t *testing.T) {
	if os.Getenv("XUNJI_REPLICA") != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := childMain(t)
	if err := m.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	go func() {
		<-m.Ready()
		fmt.Println("READY", m.HTTPAddr)
	}()
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	_ = m.Close()
}

type replica struct {
	cmd  *exec.Cmd
	addr string
	dead atomic.Bool
}

// roundRobin is the load balancer in front of the replicas: it spreads
// requests over the live ones and skips one that stopped answering, as a
// real balancer with health checks would.
type roundRobin struct {
	mu   sync.Mutex
	next int
	rs   []*replica
}

func (lb *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	for range lb.rs {
		lb.mu.Lock()
		rep := lb.rs[lb.next%len(lb.rs)]
		lb.next++
		lb.mu.Unlock()
		if rep.dead.Load() {
			continue
		}
		target, _ := url.Parse("http://" + rep.addr)
		failed := false
		p := httputil.NewSingleHostReverseProxy(target)
		p.ErrorHandler = func(http.ResponseWriter, *http.Request, error) { failed = true }
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(strings.NewReader(string(body)))
		r2.ContentLength = int64(len(body))
		rec := &bufferedWriter{header: http.Header{}}
		p.ServeHTTP(rec, r2)
		if failed {
			continue
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body)
		return
	}
	http.Error(w, "no replica", http.StatusBadGateway)
}

type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedWriter) Header() http.Header { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = 200
	}
	b.body = append(b.body, p...)
	return len(p), nil
}
func (b *bufferedWriter) WriteHeader(s int) { b.status = s }

// TestThreeReplicasBehindOneAddress starts three real xunji processes on
// one Redis, serving Lark behind one address: each command is answered
// once whichever replica Lark's retries reach, a button pressed (and
// re-delivered to every replica) counts once, and killing a replica with
// SIGKILL loses no command.
func TestThreeReplicasBehindOneAddress(t *testing.T) {
	fake := larktest.NewServer(t)
	prefix := fmt.Sprintf("xunjitest:replicas:%d:", time.Now().UnixNano())
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/15"
	}
	dir := t.TempDir()
	demo, err := os.ReadFile("../../bot/config/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(demo), "store:\n  kind: bolt\n  path: xunji-demo.db\n", "store:\n  kind: redis\n  prefix: \""+prefix+"\"\n", 1)
	cfgPath := filepath.Join(dir, "xunji.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := redisstore.Open(context.Background(), redisURL, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatalf("Redis at %s: %v", redisURL, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := store.Client().Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			store.Client().Del(ctx, keys...)
		}
		_ = store.Close()
	})

	clock := clockAt(bottest.Start) // one time for every replica
	var reps []*replica
	for i := 0; i < 3; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaChild$")
		cmd.Env = append(os.Environ(),
			"XUNJI_REPLICA=1", "XUNJI_CONFIG="+cfgPath, "REDIS_URL="+redisURL,
			"XUNJI_HTTP_ADDR=127.0.0.1:0", "XUNJI_ADMIN_ADDR=127.0.0.1:0", "XUNJI_INBOX_GRACE=2s", fmt.Sprintf("XUNJI_INSTANCE=replica-%d", i),
			"LARK_APP_ID=cli_test", "LARK_APP_SECRET="+larktest.AppSecret, "LARK_VERIFICATION_TOKEN="+larktest.VerificationToken,
			"LARK_BASE_URL="+fake.URL, "LARK_BOT_OPEN_ID="+larktest.BotOpenID, clock.env())
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r := &replica{cmd: cmd}
		t.Cleanup(func() { _ = r.cmd.Process.Kill(); _ = r.cmd.Wait() })
		ready := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if addr, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
					ready <- addr
				}
			}
		}()
		select {
		case r.addr = <-ready:
		case <-time.After(30 * time.Second):
			t.Fatalf("replica %d did not start", i)
		}
		reps = append(reps, r)
	}
	lb := &roundRobin{rs: reps}
	front := &http.Server{Handler: lb}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = front.Serve(ln) }()
	t.Cleanup(func() { _ = front.Close() })
	client := &larktest.Client{URL: "http://" + ln.Addr().String()}
	post := func(body []byte) {
		t.Helper()
		res, err := client.Event(body)
		if err != nil || res.Status != 200 {
			t.Fatalf("event: %v %d %s", err, res.Status, res.Body)
		}
	}
	// answers counts the messages Lark shows that carry token.
	answers := func(token string) int {
		n := 0
		for _, c := range fake.Shown() {
			if strings.Contains(c.Text(), token) {
				n++
			}
		}
		return n
	}

	// 1. Commands, each delivered twice (a Lark retry reaching another
	// replica), are answered once.
	for i := 0; i < 6; i++ {
		ev := fmt.Sprintf("ev-cmd-%d", i)
		body := larktest.P2PMessage(ev, "ou_demo_lina", fmt.Sprintf("probe%d", i))
		post(body)
		post(body)
	}
	for i := 0; i < 6; i++ {
		tok := fmt.Sprintf("probe%d", i)
		if err := fake.Wait(func() bool { return answers(tok) >= 1 }, 30*time.Second); err != nil {
			t.Fatalf("command %s not answered: %v", tok, err)
		}
	}

	// 2. A clue transferred through one replica; its acknowledge button
	// re-delivered to every replica counts once.
	post(larktest.GroupMention("ev-transfer", "oc_demo_coordination", "ou_demo_lina",
		`线索 移送 第二监督检查室 区财政局党组 "违规发放补贴" "以加班费名义发放补贴" 期限:+30d`))
	card := fake.AwaitCall("clue card", func(c larktest.Call) bool {
		return c.IsCard() && strings.Contains(c.Text(), "XS-")
	})
	button, ok := card.Button("clue.ack")
	if !ok {
		t.Fatalf("the clue card has no acknowledge button: %s", card.Text())
	}
	click := larktest.CardActionEvent(larktest.CardAction{EventID: "ev-click", Operator: "ou_demo_zhaoqiang", ChatID: "oc_demo_discipline",
		MessageID: card.MessageID, Action: "clue.ack", Value: button.Value})
	for i := 0; i < 3; i++ {
		if res, err := client.Card(click); err != nil || res.Status != 200 {
			t.Fatalf("click %d: %v %d", i, err, res.Status)
		}
	}
	acks, err := auditOf(store, "clue.ack")
	if err != nil {
		t.Fatal(err)
	}
	if acks != 1 {
		t.Errorf("the acknowledge button counted %d times across three replicas, want 1", acks)
	}

	// 3. Kill a replica right after it acknowledged commands, before or
	// while it works on them: the others take them over from the inbox.
	direct := &larktest.Client{URL: "http://" + reps[1].addr}
	for i := 20; i < 24; i++ {
		if res, err := direct.Event(larktest.P2PMessage(fmt.Sprintf("ev-cmd-%d", i), "ou_demo_lina", fmt.Sprintf("probe%d", i))); err != nil || res.Status != 200 {
			t.Fatalf("event to the replica to be killed: %v %d", err, res.Status)
		}
	}
	_ = reps[1].cmd.Process.Signal(os.Kill)
	_ = reps[1].cmd.Wait()
	reps[1].dead.Store(true)
	for i := 10; i < 16; i++ {
		post(larktest.P2PMessage(fmt.Sprintf("ev-cmd-%d", i), "ou_demo_lina", fmt.Sprintf("probe%d", i)))
	}
	for _, i := range []int{10, 11, 12, 13, 14, 15, 20, 21, 22, 23} {
		tok := fmt.Sprintf("probe%d", i)
		if err := fake.Wait(func() bool { return answers(tok) >= 1 }, 30*time.Second); err != nil {
			t.Fatalf("after a replica died, command %s not answered: %v", tok, err)
		}
	}
	for _, i := range []int{0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23} {
		if n := answers(fmt.Sprintf("probe%d」", i)); n != 1 {
			t.Errorf("command probe%d answered %d times, want 1", i, n)
		}
	}
}

func auditOf(s bot.Store, action string) (int, error) {
	docs, err := s.List(context.Background(), bot.CollAudit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range docs {
		if strings.Contains(string(d.Data), `"action":"`+action+`"`) && strings.Contains(string(d.Data), `"result":"ok"`) {
			n++
		}
	}
	return n, nil
}
