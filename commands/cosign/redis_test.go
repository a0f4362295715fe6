package cosign_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/storage/redis"
)

// openRedis opens a store on the test Redis under prefix and deletes the
// prefix's keys at cleanup. It fails rather than skips without a server,
// so a missing Redis is never mistaken for a passing test.
func openRedis(t *testing.T, prefix string) *redis.Store {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/15"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := redis.Open(ctx, url, redis.WithPrefix(prefix))
	if err != nil {
		t.Fatalf("cannot reach Redis at %s: %v (start redis-server or set REDIS_URL)", url, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c := s.Client()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for len(keys) > 0 {
			n := min(500, len(keys))
			if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
				t.Errorf("cleanup: %v", err)
				break
			}
			keys = keys[n:]
		}
		_ = s.Close()
	})
	return s
}

func clickRequest(env *bottest.Env, person string, b bot.Button) *bot.Request {
	p := env.Person(person)
	return &bot.Request{Kind: bot.KindAction, Platform: console.Name, UserID: p.IDs[console.Name], UserName: p.Name, ChatID: coordination, Action: b.Action, Value: b.Value}
}

// Two bot processes share one Redis. In each round the inspection team
// signs, then the supervising body presses on one process while the
// responsible unit presses on the other at the same instant — and the
// responsible unit double-clicks on the first process too. Every time
// both parties are counted, the double click is refused once, and the
// completion is announced exactly once across both processes.
func TestConcurrentCompletionAcrossProcessesOnRedis(t *testing.T) {
	var raw [6]byte
	_, _ = rand.Read(raw[:])
	prefix := "xunjitest:" + hex.EncodeToString(raw[:]) + ":"
	env1 := newEnv(t, bottest.WithStore(openRedis(t, prefix)))
	env2 := newEnv(t, bottest.WithStore(openRedis(t, prefix)))
	ctx := context.Background()

	const rounds = 50
	for round := range rounds {
		id := open(t, env1, "lina", newThree)
		if resp := env1.Click("lina", signButton(id)); !strings.Contains(resp.Toast, "已签 1/3") {
			t.Fatalf("round %d: first signature: %s", round, bottest.Text(resp))
		}
		reqs := []struct {
			env *bottest.Env
			req *bot.Request
		}{
			{env1, clickRequest(env1, "chenjing", signButton(id))},
			{env2, clickRequest(env2, "zhoutao", signButton(id))},
			{env1, clickRequest(env1, "zhoutao", signButton(id))},
		}
		resps := make([]*bot.Response, len(reqs))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, r := range reqs {
			wg.Go(func() {
				<-start
				resps[i] = r.env.Bot.Handle(ctx, r.req)
			})
		}
		close(start)
		wg.Wait()

		if !strings.Contains(resps[0].Toast, "已代表监督方") {
			t.Fatalf("round %d: supervising body not counted: %s", round, bottest.Text(resps[0]))
		}
		unit := 0
		for _, r := range resps[1:] {
			switch {
			case strings.Contains(r.Toast, "已代表责任单位"):
				unit++
			case !strings.Contains(r.Toast, "不能重复签字") && !strings.Contains(r.Toast, "完成，不能再签字"):
				// The double click is refused whether it lands before or
				// after the completion; anything else is wrong.
				t.Fatalf("round %d: unexpected answer: %s", round, bottest.Text(r))
			}
		}
		if unit != 1 {
			t.Fatalf("round %d: responsible unit counted %d times", round, unit)
		}
		c := get(t, env1, id)
		if c.State != cosign.CosignComplete || c.Confirmed() != 3 {
			t.Fatalf("round %d: state %s with %d confirmed", round, c.State, c.Confirmed())
		}
		// A message queued behind the other process's delivery to the same
		// chat goes with the next flush.
		for _, e := range []*bottest.Env{env1, env2} {
			if _, err := e.Outbox.Flush(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := completions(env1, id, "zhoutao") + completions(env2, id, "zhoutao"); n != 1 {
			t.Fatalf("round %d: completion announced %d times across both processes", round, n)
		}
		es := audit(t, env2, id)
		if countAudit(es, "cosign.confirm", bot.ResultOK) != 3 || countAudit(es, "cosign.complete", bot.ResultOK) != 1 || countAudit(es, "cosign.sign", bot.ResultRefused) != 1 {
			t.Fatalf("round %d: audit %+v", round, es)
		}
	}
	if n := len(ids(t, env2)); n != rounds {
		t.Errorf("%d requests in the shared store, want %d", n, rounds)
	}
}
