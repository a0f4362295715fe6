package meeting_test

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
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/internal/index/indextest"
	"github.com/xunji-bot/xunji/commands/meeting"
)

func indexEnv(t *testing.T, opts ...bottest.Option) *bottest.Env {
	t.Helper()
	cfg := config.Demo()
	cfg.Schedules = nil
	env := bottest.New(t, append(opts, bottest.WithConfig(cfg))...)
	if err := meeting.Module().Setup(env.Bot, cfg); err != nil {
		t.Fatal(err)
	}
	return env
}

// monthly is meeting n, the work meeting of the n-th month from January
// 2024 at 15:00.
func monthly(n int) *meeting.Meeting {
	at := time.Date(2024, time.Month(n), 3, 15, 0, 0, 0, bottest.Shanghai)
	return &meeting.Meeting{ID: fmt.Sprintf("HY-%d-%04d", at.Year(), n), Kind: meeting.MeetingWork, Time: at, Group: "coordination",
		State: meeting.MeetingScheduled, RemindBefore: time.Hour, RemindAt: at.Add(-time.Hour), Run: fmt.Sprintf("run-%d", n)}
}

func seedMeetings(t *testing.T, env *bottest.Env, ms ...*meeting.Meeting) {
	t.Helper()
	err := env.Bot.RunUnit(context.Background(), func(ctx context.Context) error {
		for _, mt := range ms {
			if err := meeting.Seed(ctx, env.Bot.Store, mt); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func scheduled(t *testing.T, env *bottest.Env, from, to time.Time) []string {
	t.Helper()
	ms, err := meeting.NewQueries(env.Store).ScheduledBetween(context.Background(), from, to)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mt := range ms {
		out = append(out, mt.ID)
	}
	return out
}

// A meeting's index documents commit with it, and a failed unit leaves
// none; cancelling takes it out of the scheduled index.
func TestMeetingIndexCommitsWithTheMeeting(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		ctx := context.Background()
		boom := errors.New("boom")
		if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
			if err := meeting.Seed(ctx, env.Bot.Store, monthly(1)); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatalf("failed unit: %v", err)
		}
		if docs, err := bot.ScanDocs(ctx, env.Store, meeting.CollMeetingIndex, bot.Range{}); err != nil || len(docs) != 0 {
			t.Fatalf("a failed unit left %d index documents (%v)", len(docs), err)
		}
		seedMeetings(t, env, monthly(1), monthly(2), monthly(3))
		jan, apr := time.Date(2024, 1, 1, 0, 0, 0, 0, bottest.Shanghai), time.Date(2024, 4, 1, 0, 0, 0, 0, bottest.Shanghai)
		if got := scheduled(t, env, jan, apr); !slices.Equal(got, []string{"HY-2024-0001", "HY-2024-0002", "HY-2024-0003"}) {
			t.Fatalf("scheduled in Q1: %v", got)
		}
		if got := scheduled(t, env, monthly(2).Time, monthly(3).Time); !slices.Equal(got, []string{"HY-2024-0002"}) {
			t.Errorf("scheduled in [2nd, 3rd): %v", got)
		}
		env.Clock.Set(time.Date(2024, 2, 1, 9, 0, 0, 0, bottest.Shanghai))
		resp := bottest.Text(env.Command("wangming", "会议 取消 HY-2024-0002 改期"))
		if got := scheduled(t, env, jan, apr); !slices.Equal(got, []string{"HY-2024-0001", "HY-2024-0003"}) {
			t.Errorf("after cancelling HY-2024-0002 (%s), scheduled in Q1: %v", resp, got)
		}
	})
}

// "meeting list all" pages from the newest meeting with a cursor that
// shows each meeting once.
func TestMeetingListAllPagesFromTheNewest(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		var ms []*meeting.Meeting
		for n := 1; n <= 35; n++ {
			ms = append(ms, monthly(n))
		}
		seedMeetings(t, env, ms...)
		first := bottest.Text(env.Command("wangming", "会议 列表 全部"))
		bottest.MustContain(t, "first page", first, "HY-2026-0035", "HY-2024-0006", "会议 列表 全部 从:HY-2024-0006")
		bottest.MustNotContain(t, "first page", first, "HY-2024-0005")
		second := bottest.Text(env.Command("wangming", "会议 列表 全部 从:HY-2024-0006"))
		bottest.MustContain(t, "second page", second, "HY-2024-0005", "HY-2024-0001")
		bottest.MustNotContain(t, "second page", second, "HY-2024-0006", "从:")
		if strings.Count(second, "HY-2024-") != 5 {
			t.Errorf("second page:\n%s", second)
		}
	})
}

// A store written before the index gets it from the backfill, once; the
// run key document then makes the scheduled run's meeting found by a Get.
func TestMeetingBackfillOnce(t *testing.T) {
	indextest.Backends(t, func(t *testing.T, opts ...bottest.Option) {
		env := indexEnv(t, opts...)
		ctx := context.Background()
		if err := env.Bot.RunUnit(ctx, func(ctx context.Context) error {
			for n := 1; n <= 12; n++ {
				mt := monthly(n)
				if err := bot.Records[meeting.Meeting](env.Bot.Store, meeting.CollMeetings).Put(ctx, mt.ID, mt); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		jan, next := time.Date(2024, 1, 1, 0, 0, 0, 0, bottest.Shanghai), time.Date(2025, 1, 1, 0, 0, 0, 0, bottest.Shanghai)
		if got := scheduled(t, env, jan, next); len(got) != 0 {
			t.Fatalf("without the index: %v", got)
		}
		if n, err := meeting.BackfillIndex(ctx, env.Bot); err != nil || n != 12 {
			t.Fatalf("backfill read %d, %v; want 12", n, err)
		}
		if got := scheduled(t, env, jan, next); len(got) != 12 {
			t.Errorf("after the backfill: %v", got)
		}
		if _, err := env.Store.Get(ctx, meeting.CollMeetingIndex, "run\x00run-7"); err != nil {
			t.Errorf("run key document of HY-2024-0007: %v", err)
		}
		if n, err := meeting.BackfillIndex(ctx, env.Bot); err != nil || n != 0 {
			t.Errorf("second backfill read %d, %v; want 0", n, err)
		}
	})
}
