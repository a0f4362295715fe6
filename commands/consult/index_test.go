package consult_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/consult"
	"github.com/xunji-bot/xunji/commands/internal/index/indextest"
)

func indexEnv(t *testing.T, opts ...bottest.Option) *bottest.Env {
	t.Helper()
	env := bottest.New(t, opts...)
	if err := consult.Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	return env
}

// request is information request n of round XC-2026-0001 asking depts;
// those in answered have answered.
func request(n int, depts []string, answered ...string) *consult.Consultation {
	c := &consult.Consultation{ID: fmt.Sprintf("ZX-2026-%04d", n), Round: "XC-2026-0001", Team: "team1", Organisation: "finance",
		Request: "近年审计、信访情况", Deadline: time.Date(2026, 9, 10, 0, 0, 0, 0, bottest.Shanghai), CreatedBy: "wangming"}
	for _, d := range depts {
		dept := consult.ConsultDept{Body: d}
		if slices.Contains(answered, d) {
			dept.Answers = []consult.ConsultAnswer{{Text: "无", None: true, By: "x", At: c.Deadline}}
		}
		c.Depts = append(c.Depts, dept)
	}
	return c
}

func seedConsults(t *testing.T, env *bottest.Env, cs ...*consult.Consultation) {
	t.Helper()
	err := env.Bot.RunUnit(context.Background(), func(ctx context.Context) error {
		for _, c := range cs {
			if err := consult.Seed(ctx, env.Bot.Store, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func unanswered(t *testing.T, env *bottest.Env, body string) []string {
	t.Helper()
	cs, err := consult.NewQueries(env.Store).UnansweredBy(context.Background(), body)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// A body's unanswered requests come from its own index entries, written
// with the request in its unit of work (none from a failed unit).
func TestUnansweredByReadsTheBodysIndex(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		boom := errors.New("boom")
		if err := env.Bot.RunUnit(context.Background(), func(ctx context.Context) error {
			if err := consult.Seed(ctx, env.Bot.Store, request(9, []string{"audit"})); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("failed unit: %v", err)
		}
		if got := unanswered(t, env, "audit"); len(got) != 0 {
			t.Fatalf("a failed unit left %v", got)
		}
		seedConsults(t, env,
			request(1, []string{"audit", "org"}),
			request(2, []string{"audit", "org"}, "audit"),
			request(3, []string{"org"}))
		if got := unanswered(t, env, "audit"); !slices.Equal(got, []string{"ZX-2026-0001"}) {
			t.Errorf("audit has not answered %v, want ZX-2026-0001", got)
		}
		if got := unanswered(t, env, "org"); !slices.Equal(got, []string{"ZX-2026-0001", "ZX-2026-0002", "ZX-2026-0003"}) {
			t.Errorf("org has not answered %v", got)
		}
		if got := unanswered(t, env, "petition"); len(got) != 0 {
			t.Errorf("petition has not answered %v", got)
		}
	})
}

// The list pages from the newest request with a cursor and never says
// how many it left out.
func TestConsultListPagesWithACursor(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		var cs []*consult.Consultation
		for n := 1; n <= 55; n++ {
			cs = append(cs, request(n, []string{"audit"}))
		}
		seedConsults(t, env, cs...)
		for _, line := range []string{"征询 列表", "征询 列表 XC-2026-0001"} {
			first := bottest.Text(env.Command("wangming", line))
			bottest.MustContain(t, line, first, "ZX-2026-0055", "ZX-2026-0006", line+" 从:ZX-2026-0006")
			bottest.MustNotContain(t, line, first, "ZX-2026-0005", "未列出")
			second := bottest.Text(env.Command("wangming", line+" 从:ZX-2026-0006"))
			bottest.MustContain(t, line+" second page", second, "ZX-2026-0005", "ZX-2026-0001")
			bottest.MustNotContain(t, line+" second page", second, "ZX-2026-0006", "从:")
			if n := strings.Count(second, "ZX-2026-"); n != 5 {
				t.Errorf("%s: second page has %d requests:\n%s", line, n, second)
			}
		}
	})
}

// A store written before the index gets it from the backfill, once.
func TestConsultBackfillOnce(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		ctx := context.Background()
		if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
			for n := 1; n <= 7; n++ {
				c := request(n, []string{"audit", "org"})
				if err := bot.Records[consult.Consultation](env.Bot.Store, consult.CollConsults).Put(ctx, c.ID, c); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got := unanswered(t, env, "audit"); len(got) != 0 {
			t.Fatalf("without the index: %v", got)
		}
		if n, err := consult.BackfillIndex(ctx, env.Bot); err != nil || n != 7 {
			t.Fatalf("backfill read %d, %v; want 7", n, err)
		}
		if got := unanswered(t, env, "audit"); len(got) != 7 {
			t.Errorf("after the backfill: %v", got)
		}
		if n, err := consult.BackfillIndex(ctx, env.Bot); err != nil || n != 0 {
			t.Errorf("second backfill read %d, %v; want 0", n, err)
		}
	})
}
