package bot_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/storage/bolt"
)

type tally struct {
	N int `json:"n"`
}

// stores runs f on the in-memory store and on bbolt, both units of work
// capable stores (Redis is covered by storage/storetest and the command
// tests on Redis).
func stores(t *testing.T, f func(t *testing.T, env *bottest.Env)) {
	t.Run("mem", func(t *testing.T) { f(t, bottest.New(t)) })
	t.Run("bolt", func(t *testing.T) {
		clock := bottest.NewClock(bottest.Start)
		s, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), bolt.WithNow(clock.Now))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		f(t, bottest.New(t, bottest.WithStore(s), bottest.WithClock(clock)))
	})
}

func TestUnitCommitsAllOrNothing(t *testing.T) {
	stores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot
		tallies := bot.Records[tally](b.Store, "tallies")
		var after atomic.Int32

		// Dropped: an internal error after two writes leaves neither, and
		// nothing leaves the process.
		err := b.RunUnit(ctx, func(ctx context.Context) error {
			if err := tallies.Create(ctx, "a", &tally{N: 1}); err != nil {
				return err
			}
			if _, err := bot.NewID(ctx, b.Store, "TT", 2026); err != nil {
				return err
			}
			if err := b.Audit.Record(ctx, nil, "test.drop", "a", ""); err != nil {
				return err
			}
			bot.AfterCommit(ctx, func(context.Context) { after.Add(1) })
			return errors.New("disk on fire")
		})
		if err == nil || after.Load() != 0 {
			t.Fatalf("dropped unit: err %v, after-commit ran %d times", err, after.Load())
		}
		if _, err := tallies.Get(ctx, "a"); !bot.IsNotFound(err) {
			t.Errorf("a dropped unit's record is there: %v", err)
		}
		if es, _ := bottest.AuditLog(ctx, b, nil); len(es) != 0 {
			t.Errorf("a dropped unit's audit entry is there: %+v", es)
		}

		// Committed: reads see the unit's own writes, the record number
		// left by the dropped unit is taken now (no gap), and the
		// after-commit work runs once, after the commit.
		err = b.RunUnit(ctx, func(ctx context.Context) error {
			if err := tallies.Create(ctx, "a", &tally{N: 1}); err != nil {
				return err
			}
			if _, err := tallies.Update(ctx, "a", func(v *tally) error { v.N++; return nil }); err != nil {
				return err
			}
			list, err := tallies.List(ctx)
			if err != nil || len(list) != 1 || list[0].N != 2 {
				t.Errorf("list inside the unit: %v %+v", err, list)
			}
			id, err := bot.NewID(ctx, b.Store, "TT", 2026)
			if err != nil || id != "TT-2026-0001" {
				t.Errorf("record number after a dropped unit: %s %v", id, err)
			}
			bot.AfterCommit(ctx, func(ctx context.Context) {
				if bot.InUnit(ctx) {
					t.Error("after-commit work runs inside the unit")
				}
				if v, err := tallies.Get(ctx, "a"); err != nil || v.N != 2 {
					t.Errorf("after-commit work does not see the commit: %v %+v", err, v)
				}
				after.Add(1)
			})
			if got, _ := b.Store.Get(context.WithoutCancel(context.Background()), "tallies", "a"); got != nil {
				t.Error("a write is visible outside the unit before its commit")
			}
			return nil
		})
		if err != nil || after.Load() != 1 {
			t.Fatalf("committed unit: err %v, after-commit ran %d times", err, after.Load())
		}
		if id, _ := bot.NewID(ctx, b.Store, "TT", 2026); id != "TT-2026-0002" {
			t.Errorf("the next record number is %s, want TT-2026-0002", id)
		}

		// A refusal is an error meant for the user: its audit entry stays.
		err = b.RunUnit(ctx, func(ctx context.Context) error {
			return b.Refuse(ctx, &bot.Request{Platform: console.Name, UserID: "x"}, "test.refuse", "a", "error.forbidden")
		})
		if bot.ErrorCode(err) != bot.EUNAUTHORIZED {
			t.Fatalf("refusal: %v", err)
		}
		es, _ := bottest.AuditLog(ctx, b, func(e bot.AuditEntry) bool { return e.Action == "test.refuse" })
		if len(es) != 1 || es[0].Result != bot.ResultRefused {
			t.Errorf("the refusal's audit entry: %+v", es)
		}
	})
}

// Units that read and write the same record at once: each is run again
// on fresh data until it commits alone, so no increment and no record
// number is lost or given twice, and the work after each commit runs
// once per unit.
func TestConcurrentUnitsConflictAndRunAgain(t *testing.T) {
	stores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot
		tallies := bot.Records[tally](b.Store, "tallies")
		if err := tallies.Create(ctx, "n", &tally{}); err != nil {
			t.Fatal(err)
		}
		const workers, per = 8, 10
		var runs, after atomic.Int32
		var mu sync.Mutex
		ids := map[string]bool{}
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range per {
					var id string
					err := b.RunUnit(ctx, func(ctx context.Context) error {
						runs.Add(1)
						if _, err := tallies.Update(ctx, "n", func(v *tally) error { v.N++; return nil }); err != nil {
							return err
						}
						var err error
						id, err = bot.NewID(ctx, b.Store, "TT", 2026)
						bot.AfterCommit(ctx, func(context.Context) { after.Add(1) })
						return err
					})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if ids[id] {
						t.Errorf("record number %s given twice", id)
					}
					ids[id] = true
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		v, err := tallies.Get(ctx, "n")
		if err != nil || v.N != workers*per {
			t.Fatalf("tally %+v (%v) after %d committed units", v, err, workers*per)
		}
		if after.Load() != workers*per {
			t.Errorf("after-commit work ran %d times for %d units", after.Load(), workers*per)
		}
		for i := 1; i <= workers*per; i++ {
			if id := fmt.Sprintf("TT-2026-%04d", i); !ids[id] {
				t.Errorf("record number %s missing: numbers have a gap", id)
			}
		}
		t.Logf("%d units committed in %d runs", workers*per, runs.Load())
	})
}

// makingEnv is a bot whose command "make" numbers and stores a record
// and answers twice.
func makingEnv(t *testing.T, opts ...bottest.Option) *bottest.Env {
	env := bottest.New(t, opts...)
	env.Must(&bot.Command{Name: "make", Aliases: []string{"做"}, Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		id, err := bot.NewID(ctx, env.Bot.Store, "TT", 2026)
		if err != nil {
			return nil, err
		}
		if err := bot.Records[tally](env.Bot.Store, "made").Create(ctx, id, &tally{N: 1}); err != nil {
			return nil, err
		}
		return &bot.Response{Replies: []bot.Reply{{Text: id, Public: true}, {Text: "made " + id}}}, nil
	}})
	return env
}

// Two processes handle the same inbox entry at once (one lost its lease
// while it worked): the command's effects and its answers happen once.
func TestTwoProcessesCompleteAnEntryOnce(t *testing.T) {
	stores(t, func(t *testing.T, a *bottest.Env) {
		a = makingEnv(t, bottest.WithStore(a.Store), bottest.WithClock(a.Clock))
		b := makingEnv(t, bottest.WithStore(a.Store), bottest.WithClock(a.Clock))
		ctx := context.Background()
		const requests = 20
		direct := 0
		for i := range requests {
			req := &bot.Request{Kind: bot.KindCommand, Platform: console.Name, UserID: "李娜", ChatID: "C1", EventID: fmt.Sprintf("Ev-race-%d", i), Text: "make"}
			ticket, _, err := a.Bot.Inbox.Accept(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			// b takes the entry over as recovery would once a's lease is
			// over, while a still processes it.
			a.Clock.Advance(2 * bot.InboxGrace)
			var wg sync.WaitGroup
			var ra *bot.Response
			wg.Go(func() { ra = a.Bot.Inbox.Process(ctx, ticket, req) })
			wg.Go(func() { _, _ = b.Bot.Inbox.Recover(ctx, bot.InboxGrace) })
			wg.Wait()
			if !ra.Duplicate {
				direct += len(ra.Replies) // what a's adapter delivers
			}
			// Done after a duplicate too, as Serve does: a Process that
			// took the lease and then found the entry completed by b
			// renews the lease until Done.
			a.Bot.Inbox.Done(ctx, ticket, req)
		}
		late := len(b.Adapter.Sent()) + len(a.Adapter.Sent())
		made, err := a.Store.List(ctx, "made")
		if err != nil || len(made) != requests {
			t.Errorf("%d records made for %d requests (%v)", len(made), requests, err)
		}
		if direct+late != 2*requests {
			t.Errorf("%d answers (%d direct, %d late) for %d requests of 2 answers", direct+late, direct, late, requests)
		}
		if docs, _ := a.Store.List(ctx, bot.CollInbox); len(docs) != 0 {
			t.Errorf("%d entries left in the inbox", len(docs))
		}
		t.Logf("%d requests answered by the first process, %d by recovery", direct/2, late/2)
	})
}

// The roster cache never holds a unit's uncommitted change: a roster
// change in a unit that is dropped is not seen afterwards, one that
// commits is seen at once.
func TestRosterCacheFollowsCommits(t *testing.T) {
	env := bottest.New(t)
	ctx := context.Background()
	b := env.Bot
	p := &bot.Person{ID: "qianjin", Name: "钱进", Bodies: []string{"room2"}, IDs: map[bot.Platform]string{console.Name: "钱进"}}
	has := func(ctx context.Context) bool {
		r, err := b.People.Roster(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, ok := r.Person(p.ID)
		return ok
	}
	_ = has(ctx) // the cache is warm
	err := b.RunUnit(ctx, func(ctx context.Context) error {
		if err := b.People.SavePerson(ctx, p); err != nil {
			return err
		}
		if !has(ctx) {
			t.Error("the unit does not see its own roster change")
		}
		return errors.New("dropped")
	})
	if err == nil || has(ctx) {
		t.Fatalf("a dropped roster change is seen (err %v)", err)
	}
	if err := b.RunUnit(ctx, func(ctx context.Context) error { return b.People.SavePerson(ctx, p) }); err != nil {
		t.Fatal(err)
	}
	if !has(ctx) {
		t.Error("a committed roster change is not seen at once")
	}
}

// A unit that loses many rounds in a row — as one does when the inbox
// recovery after a crash hands every waiting transfer of both platforms
// to the bot at once, and each round only one of them can take the next
// record number — still commits, rather than answer "temporarily
// unavailable" to a request nobody will send again.
func TestAUnitThatLosesManyRoundsStillCommits(t *testing.T) {
	stores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot
		const lost = 50
		runs := 0
		var id string
		err := b.RunUnit(ctx, func(uctx context.Context) error {
			runs++
			var err error
			if id, err = bot.NewID(uctx, b.Store, "TT", 2026); err != nil {
				return err
			}
			if runs <= lost {
				// Another unit takes the number first and commits.
				if err := b.RunUnit(context.Background(), func(octx context.Context) error {
					_, err := bot.NewID(octx, b.Store, "TT", 2026)
					return err
				}); err != nil {
					t.Fatalf("the competing unit: %v", err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("gave up after %d runs: %v", runs, err)
		}
		if runs != lost+1 || id != fmt.Sprintf("TT-2026-%04d", lost+1) {
			t.Errorf("committed %s after %d runs, want TT-2026-%04d after %d", id, runs, lost+1, lost+1)
		}
	})
}

// A unit that numbers a record and creates it under that number finds
// the record there when another unit committed the same number after
// this one read the counter: a stale read, so the unit runs again on
// fresh data instead of failing (the clue transfer lost under load in
// the fault suite: "conflict: clues/XS-2026-0009 exists").
func TestACreateThatMeetsACommittedNumberRunsTheUnitAgain(t *testing.T) {
	stores(t, func(t *testing.T, env *bottest.Env) {
		ctx := context.Background()
		b := env.Bot
		made := bot.Records[tally](b.Store, "made")
		runs := 0
		var id string
		err := b.RunUnit(ctx, func(ctx context.Context) error {
			runs++
			var err error
			if id, err = bot.NewID(ctx, b.Store, "TT", 2026); err != nil {
				return err
			}
			if runs == 1 {
				// Another process takes the same number and commits first.
				if err := b.RunUnit(context.Background(), func(ctx context.Context) error {
					other, err := bot.NewID(ctx, b.Store, "TT", 2026)
					if err != nil {
						return err
					}
					return made.Create(ctx, other, &tally{N: 2})
				}); err != nil {
					return err
				}
			}
			return made.Create(ctx, id, &tally{N: 1})
		})
		if err != nil {
			t.Fatalf("the unit failed: %v", err)
		}
		if runs != 2 || id != "TT-2026-0002" {
			t.Fatalf("ran %d times and took %s; want 2 runs and TT-2026-0002", runs, id)
		}
		if v, err := made.Get(ctx, "TT-2026-0001"); err != nil || v.N != 2 {
			t.Errorf("the other process's record: %+v, %v", v, err)
		}
		if v, err := made.Get(ctx, "TT-2026-0002"); err != nil || v.N != 1 {
			t.Errorf("this unit's record: %+v, %v", v, err)
		}
	})
}
