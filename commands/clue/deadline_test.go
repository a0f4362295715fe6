package clue

import (
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
)

// deadlineReminders are the handling-deadline reminders 赵强 received.
func deadlineReminders(env *bottest.Env) []string {
	var out []string
	for _, o := range sentTo(env, "赵强") {
		if strings.Contains(o.Text, "办理期限提醒") {
			out = append(out, o.Text)
		}
	}
	return out
}

// From each instant: a clue acknowledged at once with a deadline ten days
// on is reminded to its receiving body once, at the first office-hour run
// when three working days or fewer are left before the deadline, and
// never again; the job runs twice a day until the deadline.
func TestHandlingDeadlineReminderFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		env := newEnv(t)
		env.Clock.Set(now.UTC())
		id := transfer(t, env, `线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:+10d`)
		env.Command("zhaoqiang", "线索 签收 "+id)
		deadline := bottest.Today(now).AddDate(0, 0, 10)

		left := func(at time.Time) int {
			n := 0
			for d := bottest.Today(at).AddDate(0, 0, 1); !d.After(deadline); d = d.AddDate(0, 0, 1) {
				if bottest.IsWorkday(d) {
					n++
				}
			}
			return n
		}
		var want, got time.Time
		for d := bottest.Today(now); !d.After(deadline); d = d.AddDate(0, 0, 1) {
			for _, h := range []time.Duration{9 * time.Hour, 17 * time.Hour} {
				at := d.Add(h)
				if at.Before(now) {
					continue
				}
				if want.IsZero() && bottest.IsWorkday(at) && left(at) <= 3 {
					want = at
				}
				runAt(t, env, at)
				if got.IsZero() && len(deadlineReminders(env)) > 0 {
					got = at
				}
			}
		}
		if want.IsZero() {
			t.Fatal("the test found no working day before the deadline")
		}
		if !got.Equal(want) {
			t.Fatalf("deadline reminder at %s, want %s", got, want)
		}
		rs := deadlineReminders(env)
		if len(rs) != 1 {
			t.Fatalf("want one deadline reminder, got %d", len(rs))
		}
		bottest.MustContain(t, "reminder", rs[0], "@赵强", id, deadline.Format(time.DateOnly), "线索 处置 "+id)
		bottest.MustNotContain(t, "reminder", rs[0], "内容")
	})
}

// A clue not yet acknowledged gets the acknowledgement reminders only; an
// extension re-arms the deadline reminder for the new deadline.
func TestDeadlineReminderOnlyDuringHandlingAndAgainAfterAnExtension(t *testing.T) {
	env := newEnv(t) // 2026-12-01 09:00, a Tuesday
	id := transfer(t, env, `线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:12-04`)
	runAt(t, env, at(12, 1, 10, 0))
	if n := len(deadlineReminders(env)); n != 0 {
		t.Fatalf("an unacknowledged clue got %d deadline reminders", n)
	}
	env.Command("zhaoqiang", "线索 签收 "+id)
	runAt(t, env, at(12, 1, 10, 15))
	if n := len(deadlineReminders(env)); n != 1 {
		t.Fatalf("want one deadline reminder, got %d", n)
	}
	env.Command("wangming", "线索 延期 "+id+" 12-31 需调取外单位资料")
	runAt(t, env, at(12, 2, 10, 0))
	if n := len(deadlineReminders(env)); n != 1 {
		t.Fatalf("reminded again long before the new deadline: %d", n)
	}
	runAt(t, env, at(12, 28, 10, 0)) // Monday: 12-29, 12-30, 12-31 left
	rs := deadlineReminders(env)
	if len(rs) != 2 || !strings.Contains(rs[1], "2026-12-31") {
		t.Fatalf("want a second reminder for 12-31, got %q", rs)
	}
	runAt(t, env, at(12, 29, 10, 0))
	if n := len(deadlineReminders(env)); n != 2 {
		t.Fatalf("reminded %d times", n)
	}
}
