package bot_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// recordEnv is a bot whose "record" command writes one document and
// answers; fail, when set, is what the command returns after writing.
func recordEnv(t *testing.T, runs *atomic.Int32, fail *atomic.Pointer[error], opts ...bottest.Option) *bottest.Env {
	env := bottest.New(t, opts...)
	env.Must(&bot.Command{Name: "record", Aliases: []string{"记录"}, Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		runs.Add(1)
		if err := env.Bot.Store.Put(ctx, "records", req.EventID, []byte(`{}`)); err != nil {
			return nil, err
		}
		if outage, ok := ctx.Value(outageKey{}).(func()); ok {
			outage() // the store goes away before the unit commits
		}
		if p := fail.Load(); p != nil {
			return nil, *p
		}
		return &bot.Response{Replies: []bot.Reply{{Text: "recorded " + req.EventID, Public: true}}}, nil
	}})
	return env
}

func recordReq(event string) *bot.Request {
	return &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: "李娜", ChatID: "C1", EventID: event, Text: "record"}
}

// The store failing while a command commits: nothing is applied, the
// sender is told the command is kept (and not to send it again), and
// the request stays in the inbox; once the store is back, recovery
// carries it out exactly once and delivers its answer.
func TestAStoreOutageKeepsTheRequestForRecovery(t *testing.T) {
	var runs atomic.Int32
	var fail atomic.Pointer[error]
	clock := bottest.NewClock(bottest.Start)
	mem := bottest.NewMem()
	mem.Now = clock.Now
	env := recordEnv(t, &runs, &fail, bottest.WithStore(mem), bottest.WithClock(clock))
	ctx := context.Background()
	req := recordReq("Ev-kept")
	ticket, dup, err := env.Bot.Inbox.Accept(ctx, req)
	if err != nil || dup {
		t.Fatalf("accept: %v dup=%v", err, dup)
	}
	// The store goes away while the command runs, after its write was
	// staged in the unit: the commit is what meets the outage.
	down := bot.Unavailable(errors.New("store down"))
	answer := bottest.Text(env.Bot.Inbox.Process(withOutage(ctx, mem, down), ticket, req))
	want := env.Bot.T("zh-CN", "error.kept")
	if answer != want {
		t.Fatalf("answer during the outage: %q, want %q", answer, want)
	}
	// The store is back by the time the adapter has delivered the answer:
	// the request must not be completed as if it had been carried out.
	mem.Fail = nil
	env.Bot.Inbox.Done(ctx, ticket, req)
	if _, err := mem.Get(ctx, "records", "Ev-kept"); !bot.IsNotFound(err) {
		t.Fatalf("the record was written although the commit failed: %v", err)
	}
	if docs, _ := mem.List(ctx, bot.CollInbox); len(docs) != 1 {
		t.Fatalf("%d inbox entries after the outage, want the request kept", len(docs))
	}
	// Recovery, after the lease taken at acceptance has run out.
	clock.Advance(2 * bot.InboxGrace)
	if got, err := env.Bot.Inbox.Recover(ctx, bot.InboxGrace); err != nil || got != 1 {
		t.Fatalf("recovered %d, err %v", got, err)
	}
	if _, err := mem.Get(ctx, "records", "Ev-kept"); err != nil {
		t.Fatalf("the record after recovery: %v", err)
	}
	if docs, _ := mem.List(ctx, bot.CollInbox); len(docs) != 0 {
		t.Fatalf("%d inbox entries after recovery", len(docs))
	}
	env.Outbox.Flush(ctx)
	var got []string
	for _, m := range env.Adapter.Sent() {
		got = append(got, m.Text)
	}
	if len(got) != 1 || got[0] != "recorded Ev-kept" {
		t.Fatalf("sent after recovery: %q, want the command's answer once", got)
	}
	if runs.Load() != 2 {
		t.Errorf("the command ran %d times, want 2 (the failed commit and recovery)", runs.Load())
	}
	// Nothing is left to do twice.
	clock.Advance(2 * bot.InboxGrace)
	if n, err := env.Bot.Inbox.Recover(ctx, bot.InboxGrace); err != nil || n != 0 || runs.Load() != 2 {
		t.Errorf("a second recovery handled %d (runs %d), err %v", n, runs.Load(), err)
	}
}

// withOutage makes the "record" command take the store mem down (every
// call fails with err) once its write is staged in its unit of work.
func withOutage(ctx context.Context, mem *bottest.Mem, err error) context.Context {
	return context.WithValue(ctx, outageKey{}, func() { mem.Fail = err })
}

type outageKey struct{}

// A request whose command keeps failing inside (an internal error after
// it wrote) is not committed by recovery, is counted, and after the
// tenth failed recovery is given up: its sender is told nothing was
// done, and the inbox entry goes.
func TestRecoveryGivesUpARequestThatKeepsFailing(t *testing.T) {
	var runs atomic.Int32
	var fail atomic.Pointer[error]
	broken := errors.New("the command cannot be carried out")
	fail.Store(&broken)
	clock := bottest.NewClock(bottest.Start)
	mem := bottest.NewMem()
	mem.Now = clock.Now
	env := recordEnv(t, &runs, &fail, bottest.WithStore(mem), bottest.WithClock(clock))
	ctx := context.Background()
	if _, _, err := env.Bot.Inbox.Accept(ctx, recordReq("Ev-broken")); err != nil {
		t.Fatal(err)
	}
	// The accepting process died; every recovery fails inside the command.
	for i := 1; i <= 10; i++ {
		clock.Advance(2 * bot.InboxGrace)
		if _, err := env.Bot.Inbox.Recover(ctx, bot.InboxGrace); err == nil {
			t.Fatalf("recovery %d: no error from a failing command", i)
		}
		if _, err := mem.Get(ctx, "records", "Ev-broken"); !bot.IsNotFound(err) {
			t.Fatalf("recovery %d committed the failing command's write: %v", i, err)
		}
		env.Outbox.Flush(ctx)
		if sent := env.Adapter.Sent(); len(sent) != 0 {
			t.Fatalf("recovery %d answered: %+v", i, sent)
		}
	}
	if runs.Load() != 10 {
		t.Fatalf("the command ran %d times in 10 recoveries", runs.Load())
	}
	clock.Advance(2 * bot.InboxGrace)
	if got, err := env.Bot.Inbox.Recover(ctx, bot.InboxGrace); err != nil || got != 1 {
		t.Fatalf("the eleventh round: %d handled, err %v; want the request given up", got, err)
	}
	if runs.Load() != 10 {
		t.Errorf("the command ran again when given up (%d runs)", runs.Load())
	}
	if docs, _ := mem.List(ctx, bot.CollInbox); len(docs) != 0 {
		t.Fatalf("%d inbox entries after giving up", len(docs))
	}
	env.Outbox.Flush(ctx)
	sent := env.Adapter.Sent()
	if len(sent) != 1 || !strings.Contains(sent[0].Text, "已放弃") || sent[0].UserID != "李娜" {
		t.Fatalf("sent when giving up: %+v, want one private apology to the sender", sent)
	}
	clock.Advance(time.Hour)
	if n, _ := env.Bot.Inbox.Recover(ctx, bot.InboxGrace); n != 0 {
		t.Errorf("recovered %d after the request was given up", n)
	}
}
