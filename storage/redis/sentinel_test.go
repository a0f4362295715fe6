package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// server is a private redis-server this test starts and stops.
type server struct {
	cmd  *exec.Cmd
	port int
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServer runs redis-server with args on a free port and waits until
// it answers.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is needed (apt-get install redis-server): %v", err)
	}
	port := freePort(t)
	dir := t.TempDir()
	var all []string
	if len(args) > 0 && strings.HasSuffix(args[0], ".conf") { // a sentinel
		all = append(all, args[0], "--sentinel", "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--dir", dir)
	} else {
		all = append(all, args...)
		all = append(all, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	}
	cmd := exec.Command(bin, all...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, port: port}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	c := redis.NewClient(&redis.Options{Addr: s.addr()})
	defer c.Close()
	if !bottest.Eventually(10*time.Second, func() bool { return c.Ping(context.Background()).Err() == nil }) {
		t.Fatalf("redis-server %v did not start", all)
	}
	return s
}

func (s *server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

// A server in cluster mode is refused at start-up, with what to use
// instead: the store's atomic steps are scripts over several keys.
func TestOpenRefusesRedisCluster(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"))
	_, err := Open(context.Background(), "redis://"+s.addr()+"/0")
	if !errors.Is(err, ErrCluster) || !strings.Contains(err.Error(), "Sentinel") || !strings.Contains(err.Error(), "standalone") {
		t.Fatalf("open on a cluster node: %v", err)
	}
}

// Sentinel: the store is opened by a failover URL, and when the primary
// is failed over to its replica the bot keeps acknowledging and
// answering: every acknowledged request is handled exactly once, none
// is lost.
func TestSentinelFailoverLosesNothing(t *testing.T) {
	primary := startServer(t)
	replica := startServer(t, "--replicaof", "127.0.0.1", fmt.Sprint(primary.port))
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("sentinel monitor xj 127.0.0.1 %d 1\nsentinel down-after-milliseconds xj 1000\nsentinel failover-timeout xj 10000\n", primary.port)), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinel := startServer(t, conf)
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinel.addr()})
	defer sc.Close()
	ctx := context.Background()
	if !bottest.Eventually(15*time.Second, func() bool {
		r, err := sc.Replicas(ctx, "xj").Result()
		return err == nil && len(r) == 1
	}) {
		t.Fatal("the sentinel does not see the replica")
	}

	store, err := Open(ctx, fmt.Sprintf("redis://%s?master_name=xj", sentinel.addr()), WithPrefix("xjsentinel:"), WithReplicas(1, 500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	// Claims expire in Redis's real time: a short grace lets recovery
	// take over requests whose store step failed within the test.
	const grace = time.Second
	env := bottest.New(t, bottest.WithStore(store), bottest.WithInboxGrace(grace))
	env.Must(&bot.Command{Name: "make", Aliases: []string{"做"}, Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		id, err := bot.NewID(ctx, env.Bot.Store, "TT", 2026)
		if err != nil {
			return nil, err
		}
		if err := env.Bot.Store.Create(ctx, "made", id, []byte(req.EventID)); err != nil {
			return nil, err
		}
		return bot.Text("made " + id), nil
	}})

	// The platform sends events and retries each until acknowledged;
	// each acknowledged one is answered, at once or, when the store
	// refused during the failover, by recovery through the outbox.
	acked, direct := 0, 0
	unconfirmed := map[string]bool{} // events answered "not done" or "could not confirm"
	how := map[string]string{}       // what became of each event, for the failure message
	recoverAll := func() bool {
		env.Clock.Advance(2 * grace)
		_, _ = env.Bot.Inbox.Recover(ctx, grace)
		_, _ = env.Outbox.Flush(ctx)
		docs, err := store.List(ctx, bot.CollInbox)
		return err == nil && len(docs) == 0
	}
	send := func(i int) {
		req := &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: "李娜", ChatID: "C1", EventID: fmt.Sprintf("Ev-sentinel-%d", i), Text: "make"}
		var ticket string
		if !bottest.Eventually(30*time.Second, func() bool {
			tk, dup, err := env.Bot.Inbox.Accept(ctx, req)
			if err == nil && !dup {
				ticket = tk
			}
			return err == nil // a duplicate: stored by an earlier try
		}) {
			t.Fatalf("event %d never acknowledged", i)
		}
		acked++
		if ticket == "" {
			how[req.EventID] = "duplicate at acceptance"
			return // waits in the inbox for recovery
		}
		resp := env.Bot.Inbox.Process(ctx, ticket, req)
		how[req.EventID] = "answered " + bottest.Text(resp)
		switch text := bottest.Text(resp); {
		case strings.HasPrefix(text, "made "):
			direct++
		case text == env.TZ("error.unconfirmed"), text == env.TZ("error.unavailable"):
			unconfirmed[req.EventID] = true // told to check, or to try again
		}
		env.Bot.Inbox.Done(ctx, ticket, req)
	}
	for i := range 10 {
		send(i)
	}
	// Fail the primary over while events keep coming.
	promoted := make(chan error, 1)
	go func() {
		if err := sc.Failover(ctx, "xj").Err(); err != nil {
			promoted <- err
			return
		}
		if !bottest.Eventually(20*time.Second, func() bool {
			addr, err := sc.GetMasterAddrByName(ctx, "xj").Result()
			return err == nil && len(addr) == 2 && addr[1] == fmt.Sprint(replica.port)
		}) {
			promoted <- errors.New("the replica was not promoted")
			return
		}
		promoted <- nil
	}()
	n, after := 10, -1
	for after < 10 {
		send(n)
		n++
		if after >= 0 {
			after++
			continue
		}
		select {
		case err := <-promoted:
			if err != nil {
				t.Fatal(err)
			}
			after = 0
		default:
		}
		if n > 5000 {
			t.Fatal("no failover after 5000 events")
		}
	}
	t.Logf("%d events, %d of them while the primary was failed over", n, n-20)
	if !bottest.Eventually(10*time.Second, recoverAll) {
		info, _ := store.Client().Info(ctx, "replication").Result()
		docs, _ := store.List(ctx, bot.CollInbox)
		_, err := store.Client().Do(ctx, "wait", 1, 200).Result()
		t.Fatalf("%d requests left in the inbox; new primary: %s; wait: %v", len(docs), info, err)
	}
	made, err := store.List(ctx, "made")
	if err != nil {
		t.Fatal(err)
	}
	late := 0
	for _, o := range env.Adapter.Sent() {
		if strings.HasPrefix(o.Text, "made ") {
			late++
		}
	}
	// Every acknowledged event made its record once, or its sender was
	// told that it was not done or that the store could not confirm it
	// (a commit the replica had not confirmed when the primary moved);
	// none made two, none was lost silently.
	per := map[string]int{}
	for _, d := range made {
		per[string(d.Data)]++
	}
	for i := range n {
		ev := fmt.Sprintf("Ev-sentinel-%d", i)
		switch {
		case per[ev] > 1:
			t.Errorf("%s made %d records", ev, per[ev])
		case per[ev] == 0 && !unconfirmed[ev]:
			t.Errorf("%s was acknowledged and is lost: no record, and its sender was not told (%s)", ev, how[ev])
		case per[ev] == 1 && unconfirmed[ev]:
			t.Logf("%s was done although its sender was told it may not be", ev)
		}
	}
	if acked != n {
		t.Errorf("acknowledged %d of %d", acked, n)
	}
	if direct+late+len(unconfirmed) < n {
		t.Errorf("%d answered at once, %d late and %d unconfirmed, for %d events", direct, late, len(unconfirmed), n)
	}
	t.Logf("%d records, %d senders told not done or unconfirmed", len(made), len(unconfirmed))
	if info, _ := store.Client().Info(ctx, "replication").Result(); !strings.Contains(info, "role:master") {
		t.Errorf("the store does not write to the new primary: %s", info)
	}
}
