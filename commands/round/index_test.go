package round_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/internal/index/indextest"
	"github.com/xunji-bot/xunji/commands/round"
)

func indexEnv(t *testing.T, opts ...bottest.Option) *bottest.Env {
	t.Helper()
	env := bottest.New(t, opts...)
	if err := round.Module(nil).Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	return env
}

// numbered is round n: team1 in finance from the n-th day of 2020.
func numbered(n int) *round.Round {
	start := time.Date(2020, 1, n, 0, 0, 0, 0, bottest.Shanghai)
	return &round.Round{ID: fmt.Sprintf("XC-2020-%04d", n), Name: fmt.Sprintf("第%d轮", n), Team: "team1", Organisation: "finance",
		Attached: []string{"room2"}, Start: start, End: start.AddDate(0, 2, 0), Feedback: start.AddDate(0, 2, 20), CreatedBy: "wangming"}
}

// The uniqueness of team, organisation and start is a key document read
// with a Get: written with the round, moved when the start changes.
func TestRoundUniquenessIsAKeyDocument(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		const create = "轮次 新建 第一巡察组 区财政局党组 开始:2027-03-01 结束:2027-04-30 协同:第二监督检查室"
		first := bottest.Text(env.Command("wangming", create))
		bottest.MustContain(t, "create", first, "XC-2027-0001")
		bottest.MustContain(t, "again", bottest.Text(env.Command("wangming", create)), "已存在：XC-2027-0001")
		env.Command("wangming", "轮次 修改 XC-2027-0001 开始:2027-03-02")
		// The old triple is free again, the new one taken.
		bottest.MustContain(t, "old start", bottest.Text(env.Command("wangming", create)), "XC-2027-0002")
		bottest.MustContain(t, "new start", bottest.Text(env.Command("wangming", strings.Replace(create, "03-01", "03-02", 1))), "已存在：XC-2027-0001")
	})
}

// The list pages from the newest round with a cursor and never says how
// many it left out.
func TestRoundListPagesWithACursor(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		err := env.Bot.RunUnit(context.Background(), func(ctx context.Context) error {
			for n := 1; n <= 55; n++ {
				if err := round.Seed(ctx, env.Bot.Store, numbered(n)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		first := bottest.Text(env.Command("wangming", "轮次 列表"))
		bottest.MustContain(t, "first page", first, "XC-2020-0055", "XC-2020-0006", "轮次 列表 从:XC-2020-0006")
		bottest.MustNotContain(t, "first page", first, "XC-2020-0005", "未列出")
		second := bottest.Text(env.Command("wangming", "轮次 列表 从:XC-2020-0006"))
		bottest.MustContain(t, "second page", second, "XC-2020-0005", "XC-2020-0001")
		bottest.MustNotContain(t, "second page", second, "XC-2020-0006", "从:")
		if n := strings.Count(second, "XC-2020-"); n != 5 {
			t.Errorf("second page has %d rounds:\n%s", n, second)
		}
	})
}

// A store written before the index gets it from the backfill, once: the
// uniqueness check then sees the older rounds.
func TestRoundBackfillOnce(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		ctx := context.Background()
		rd := numbered(1)
		rd.ID, rd.Start = "XC-2027-0001", time.Date(2027, 3, 1, 0, 0, 0, 0, bottest.Shanghai)
		sit := &round.Situation{ID: "QK-2027-0001", Round: rd.ID, Team: "team1", Text: "情况", To: []round.SituationAck{{Body: "room2"}}, CreatedBy: "lina"}
		if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
			if err := bot.Records[round.Round](env.Bot.Store, round.CollRounds).Put(ctx, rd.ID, rd); err != nil {
				return err
			}
			return bot.Records[round.Situation](env.Bot.Store, round.CollSituations).Put(ctx, sit.ID, sit)
		}); err != nil {
			t.Fatal(err)
		}
		if n, err := round.BackfillIndex(ctx, env.Bot); err != nil || n != 2 {
			t.Fatalf("backfill read %d, %v; want 2 (a round and a report)", n, err)
		}
		bottest.MustContain(t, "duplicate after the backfill",
			bottest.Text(env.Command("wangming", "轮次 新建 第一巡察组 区财政局党组 开始:2027-03-01 结束:2027-04-30 协同:第二监督检查室")), "已存在：XC-2027-0001")
		bottest.MustContain(t, "the report under its round", bottest.Text(env.Direct("wangming", "轮次 查看 XC-2027-0001")), "QK-2027-0001")
		if n, err := round.BackfillIndex(ctx, env.Bot); err != nil || n != 0 {
			t.Errorf("second backfill read %d, %v; want 0", n, err)
		}
	})
}
