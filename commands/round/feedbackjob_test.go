package round_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/round"
)

// bareEnv is a bot with the round command and no seeded round.
func bareEnv(t *testing.T, opts ...bottest.Option) *bottest.Env {
	t.Helper()
	env := bottest.New(t, opts...)
	if err := round.Module(nil).Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	return env
}

// at is a time in 2026, Asia/Shanghai.
func at(month, day, hour, min int) time.Time {
	return time.Date(2026, time.Month(month), day, hour, min, 0, 0, bottest.Shanghai)
}

// runAt moves the clock to t, runs the jobs and returns what they sent.
func runAt(t *testing.T, env *bottest.Env, tm time.Time) []bot.Outgoing {
	t.Helper()
	env.Adapter.Reset()
	env.Clock.Set(tm)
	if err := env.Bot.Jobs.Run(context.Background(), tm); err != nil {
		t.Fatal(err)
	}
	return env.Adapter.Sent()
}

// recipients maps each recipient of sent to its text.
func recipients(sent []bot.Outgoing) map[string]string {
	got := map[string]string{}
	for _, o := range sent {
		got[o.UserID+o.ChatID] = outText(o)
	}
	return got
}

func keys(m map[string]string) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// newRound creates a round of team2 at housing, attached to room1 (何军)
// and sup_hexi (罗霞), with feedback date feedback, and forgets the
// creation announcement.
func newRound(t *testing.T, env *bottest.Env, feedback string) string {
	t.Helper()
	resp := env.Command("wangming", "轮次 新建 第二巡察组 区住建局党组 开始:2026-11-01 结束:2026-11-30 反馈:"+feedback+" 协同:第一监督检查室,河西街道派出监察员办公室")
	id := "XC-2026-0001"
	bottest.MustContain(t, "create", bottest.Text(resp), id)
	env.Adapter.Reset()
	return id
}

func TestFeedbackJobTellsTheAttachedBodiesOnceOnTheDay(t *testing.T) {
	env := bareEnv(t)
	id := newRound(t, env, "2026-12-03") // a Thursday
	for _, tm := range []time.Time{at(12, 1, 10, 0), at(12, 2, 17, 59), at(12, 3, 0, 30), at(12, 3, 8, 59)} {
		if sent := runAt(t, env, tm); len(sent) != 0 {
			t.Fatalf("%s: sent before the feedback day's office hours: %v", tm, recipients(sent))
		}
	}
	got := recipients(runAt(t, env, at(12, 3, 9, 0)))
	if keys(got) != "何军,罗霞" {
		t.Fatalf("want the notice to 何军 (room1) and 罗霞 (sup_hexi) only, got %v", got)
	}
	bottest.MustContain(t, "room1", got["何军"], "巡后监督", id, "2026-12-03", "区纪委监委第一监督检查室")
	bottest.MustContain(t, "sup_hexi", got["罗霞"], "河西街道派出监察员办公室")
	for _, tm := range []time.Time{at(12, 3, 9, 15), at(12, 3, 17, 45), at(12, 4, 10, 0), at(12, 10, 10, 0)} {
		if sent := runAt(t, env, tm); len(sent) != 0 {
			t.Errorf("%s: sent again: %v", tm, recipients(sent))
		}
	}
	if n := len(audits(t, env, "round.feedback_notice", bot.ResultOK)); n != 1 {
		t.Errorf("want the notice audited once, got %d", n)
	}
}

func TestFeedbackJobSendsNothingAtNightOrOnTheWeekend(t *testing.T) {
	env := bareEnv(t)
	newRound(t, env, "2026-12-05") // a Saturday
	for _, tm := range []time.Time{at(12, 4, 10, 0), at(12, 5, 10, 0), at(12, 6, 15, 0), at(12, 6, 23, 0), at(12, 7, 8, 30)} {
		if sent := runAt(t, env, tm); len(sent) != 0 {
			t.Fatalf("%s: sent outside working hours: %v", tm, recipients(sent))
		}
	}
	got := recipients(runAt(t, env, at(12, 7, 9, 0))) // Monday
	if keys(got) != "何军,罗霞" {
		t.Fatalf("want the notice on Monday to 何军 and 罗霞, got %v", got)
	}
	bottest.MustContain(t, "weekend", got["何军"], "2026-12-05")
	if sent := runAt(t, env, at(12, 7, 18, 0)); len(sent) != 0 {
		t.Errorf("sent at 18:00: %v", recipients(sent))
	}
}

func TestFeedbackJobSkipsWhatTheCommandAlreadyTold(t *testing.T) {
	tests := []struct {
		name, created, command string
		runs                   []time.Time
	}{
		{"same date", "2026-12-03", "2026-12-03", []time.Time{at(12, 3, 9, 0), at(12, 4, 10, 0)}},
		{"date moved", "2026-12-03", "2026-12-04", []time.Time{at(12, 3, 9, 0), at(12, 4, 9, 0), at(12, 8, 10, 0)}},
		{"no date at creation", "", "2026-12-02", []time.Time{at(12, 2, 9, 0), at(12, 3, 10, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := bareEnv(t)
			line := "轮次 新建 第二巡察组 区住建局党组 开始:2026-11-01 结束:2026-11-30 协同:第一监督检查室,河西街道派出监察员办公室"
			if tc.created != "" {
				line += " 反馈:" + tc.created
			}
			bottest.MustContain(t, "create", bottest.Text(env.Command("wangming", line)), "XC-2026-0001")
			env.Adapter.Reset()
			bottest.MustContain(t, "feedback", bottest.Text(env.Command("gaofeng", "轮次 反馈 XC-2026-0001 "+tc.command)), tc.command)
			if n := len(recipients(env.Adapter.Sent())); n != 2 {
				t.Fatalf("the command told %d recipients, want 2", n)
			}
			for _, tm := range tc.runs {
				if sent := runAt(t, env, tm); len(sent) != 0 {
					t.Errorf("%s: the job told again: %v", tm, recipients(sent))
				}
			}
		})
	}
}

func TestFeedbackJobTellsALateSeededRoundOnceButNotAnOldOne(t *testing.T) {
	env := newEnv(t) // the demo round XC-2026-0001, feedback 2026-11-20, attached room2 and group3
	d := func(m, day int) time.Time { return time.Date(2026, time.Month(m), day, 0, 0, 0, 0, env.Bot.Loc) }
	old := &round.Round{ID: "XC-2026-0002", Name: "区委第二巡察组巡察城关镇党委", Team: "team2", Organisation: "chengguan",
		Attached: []string{"room1"}, Start: d(8, 1), End: d(8, 31), Feedback: d(10, 20), CreatedBy: "wangming"}
	if err := round.Seed(context.Background(), env.Store, old); err != nil {
		t.Fatal(err)
	}
	got := recipients(runAt(t, env, bottest.Start))
	if keys(got) != "赵强,陈静" {
		t.Fatalf("want the late notice to 赵强 (room2) and 陈静 (group3) only, got %v", got)
	}
	bottest.MustContain(t, "late", got["赵强"], roundID, "2026-11-20", "区纪委监委第二监督检查室")
	if sent := runAt(t, env, bottest.Start.Add(time.Hour)); len(sent) != 0 {
		t.Errorf("sent again: %v", recipients(sent))
	}
	es := audits(t, env, "round.feedback_notice", bot.ResultOK)
	if len(es) != 1 || es[0].Record != roundID || !strings.Contains(es[0].Detail, "late=true") {
		t.Errorf("audit: %+v", es)
	}
}

func TestFeedbackJobOnTwoReplicasSendsOnce(t *testing.T) {
	store := bottest.NewMem()
	a := bareEnv(t, bottest.WithStore(store))
	b := bareEnv(t, bottest.WithStore(store))
	newRound(t, a, "2026-12-03")
	tm := at(12, 3, 9, 0)
	a.Clock.Set(tm)
	b.Clock.Set(tm)
	a.Adapter.Reset()
	var wg sync.WaitGroup
	for _, env := range []*bottest.Env{a, b} {
		wg.Go(func() {
			if err := env.Bot.Jobs.Run(context.Background(), tm); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	sent := append(a.Adapter.Sent(), b.Adapter.Sent()...)
	if len(sent) != 2 || keys(recipients(sent)) != "何军,罗霞" {
		t.Errorf("want one notice each to 何军 and 罗霞 from one replica, got %d: %v", len(sent), recipients(sent))
	}
	if len(a.Adapter.Sent()) > 0 && len(b.Adapter.Sent()) > 0 {
		t.Error("both replicas sent")
	}
}
