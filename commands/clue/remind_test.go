package clue

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
)

func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, bottest.Shanghai)
}

// runAt moves the clock and runs the jobs, as the scheduler would.
func runAt(t *testing.T, env *bottest.Env, now time.Time) {
	t.Helper()
	env.Clock.Set(now)
	if err := env.Bot.Jobs.Run(t.Context(), now); err != nil {
		t.Fatal(err)
	}
}

func count(msgs []bot.Outgoing) int { return len(msgs) }

// Reminder and escalation times count working days only, and priority
// clues use the shorter cycle (defaults: 48h and 96h, factor 2).
func TestReminderTimes(t *testing.T) {
	env := newEnv(t)
	cfg, err := SettingsOf(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		created          time.Time
		priority         bool
		remind, escalate time.Time
	}{
		{"Tuesday morning", at(12, 1, 9, 0), false, at(12, 3, 9, 0), at(12, 7, 9, 0)},
		{"Tuesday morning, priority", at(12, 1, 9, 0), true, at(12, 2, 9, 0), at(12, 3, 9, 0)},
		{"Friday: the weekend does not count", at(12, 4, 10, 0), false, at(12, 8, 10, 0), at(12, 10, 10, 0)},
		{"Saturday: counts from Monday", at(12, 5, 15, 0), false, at(12, 9, 0, 0), at(12, 11, 0, 0)},
	}
	for _, tc := range tests {
		c := &Clue{CreatedAt: tc.created, Priority: tc.priority}
		r, e := ReminderTimes(env.Bot.Cal, env.Bot.Loc, c, cfg.AckReminder, cfg.AckEscalate, cfg.PriorityFactor)
		if !r.Equal(tc.remind) || !e.Equal(tc.escalate) {
			t.Errorf("%s: reminder %v escalation %v, want %v %v", tc.name, r, e, tc.remind, tc.escalate)
		}
	}
}

// An unacknowledged clue: the receiving body is reminded once after two
// working days, the inspection office told once after four; re-runs send
// nothing more.
func TestUnacknowledgedClueIsRemindedThenEscalatedOnce(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, `线索 移送 第二监督检查室 区财政局党组 标题 内容`)
	env.Adapter.Reset()

	runAt(t, env, at(12, 3, 8, 45)) // before office hours and before due
	runAt(t, env, at(12, 2, 17, 0)) // not yet due
	if n := len(env.Adapter.Sent()); n != 0 {
		t.Fatalf("%d messages before the reminder was due", n)
	}
	runAt(t, env, at(12, 3, 9, 0))
	rem := sentTo(env, "赵强")
	if len(rem) != 1 {
		t.Fatalf("want one reminder to 赵强, got %d", len(rem))
	}
	bottest.MustContain(t, "reminder", rem[0].Text, "@赵强", "签收提醒", id, "线索 签收 "+id)
	bottest.MustNotContain(t, "reminder", rem[0].Text, "内容")
	runAt(t, env, at(12, 3, 9, 15))
	runAt(t, env, at(12, 4, 11, 0))
	if n := count(sentTo(env, "赵强")); n != 1 {
		t.Fatalf("reminder repeated: %d", n)
	}
	if n := count(postedIn(env, officeChat)); n != 0 {
		t.Fatalf("escalated too early")
	}
	runAt(t, env, at(12, 7, 9, 0))
	runAt(t, env, at(12, 7, 9, 15))
	esc := postedIn(env, officeChat)
	if len(esc) != 1 {
		t.Fatalf("want one notice to the inspection office, got %d", len(esc))
	}
	bottest.MustContain(t, "escalation", esc[0].Text, id, "区纪委监委第二监督检查室", "4 个工作日未签收")
	c := loadClue(t, env, id)
	if !c.RemindedAt.Equal(at(12, 3, 9, 0)) || !c.EscalatedAt.Equal(at(12, 7, 9, 0)) {
		t.Errorf("recorded %v %v", c.RemindedAt, c.EscalatedAt)
	}
	n := len(audits(t, env, func(e bot.AuditEntry) bool {
		return e.Record == id && (e.Action == "clue.remind" || e.Action == "clue.escalate") && e.Person == ""
	}))
	if n != 2 {
		t.Errorf("%d reminder audit entries, want 2", n)
	}
}

// Reminders never go out at night or on a day off: a reminder due in
// the evening waits for the next working morning.
func TestRemindersWaitForOfficeHours(t *testing.T) {
	env := newEnv(t)
	env.Clock.Set(at(12, 1, 17, 30))
	transfer(t, env, `线索 移送 第二监督检查室 区财政局党组 标题 内容`) // due Thursday 17:30
	env.Adapter.Reset()
	for _, now := range []time.Time{at(12, 3, 17, 0), at(12, 3, 18, 0), at(12, 3, 23, 0), at(12, 4, 3, 0), at(12, 4, 8, 59)} {
		runAt(t, env, now)
	}
	if n := len(env.Adapter.Sent()); n != 0 {
		t.Fatalf("%d messages outside office hours", n)
	}
	runAt(t, env, at(12, 4, 9, 0))
	if n := count(sentTo(env, "赵强")); n != 1 {
		t.Fatalf("want the reminder on Friday morning, got %d", n)
	}

	// Escalation due Monday 17:30 (the weekend does not count) waits past
	// the evening to Tuesday morning.
	runAt(t, env, at(12, 5, 10, 0)) // Saturday
	runAt(t, env, at(12, 7, 18, 30))
	if n := count(postedIn(env, officeChat)); n != 0 {
		t.Fatal("escalated out of hours")
	}
	runAt(t, env, at(12, 8, 9, 0))
	if n := count(postedIn(env, officeChat)); n != 1 {
		t.Fatalf("want the escalation on Tuesday morning, got %d", n)
	}
}

// Priority clues use the shorter cycle; acknowledged clues are never
// reminded.
func TestPriorityCycleAndAcknowledgedClues(t *testing.T) {
	env := newEnv(t)
	prio := transfer(t, env, transferZH)
	acked := transfer(t, env, `线索 移送 第二监督检查室 区财政局党组 标题 内容`)
	env.Command("zhaoqiang", "线索 签收 "+acked)
	env.Adapter.Reset()
	runAt(t, env, at(12, 2, 9, 0))
	rem := sentTo(env, "赵强")
	if len(rem) != 1 {
		t.Fatalf("want one reminder (the priority clue), got %d", len(rem))
	}
	bottest.MustContain(t, "priority reminder", rem[0].Text, prio)
	runAt(t, env, at(12, 3, 9, 0))
	esc := postedIn(env, officeChat)
	if len(esc) != 1 {
		t.Fatalf("want the priority clue escalated after two working days, got %d", len(esc))
	}
	bottest.MustContain(t, "priority escalation", esc[0].Text, prio)
	runAt(t, env, at(12, 10, 9, 0))
	if c := loadClue(t, env, acked); !c.RemindedAt.IsZero() || !c.EscalatedAt.IsZero() {
		t.Errorf("acknowledged clue was reminded: %+v", c)
	}
}

func TestReminderJobIsRegistered(t *testing.T) {
	env := newEnv(t)
	found := false
	for _, j := range env.Bot.Jobs.All() {
		if j.Name == "clue.reminders" {
			found = j.Every == ReminderJobEvery
		}
	}
	if !found {
		t.Fatalf("no clue.reminders job every %v in %+v", ReminderJobEvery, env.Bot.Jobs.All())
	}
}

// Without an inspection-office group, the escalation goes to the
// office's members directly.
func TestEscalationWithoutOfficeGroupGoesToMembers(t *testing.T) {
	cfg := config.Demo()
	for i := range cfg.Bodies {
		if cfg.Bodies[i].Kind == string(bot.InspectionOffice) {
			cfg.Bodies[i].Group = ""
		}
	}
	env := bottest.New(t, bottest.WithConfig(cfg))
	if err := Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	id := transfer(t, env, transferZH)
	runAt(t, env, at(12, 3, 9, 0)) // priority: escalated after two working days
	got := sentTo(env, "王明")
	if len(got) != 1 {
		t.Fatalf("want one escalation to 王明, got %d", len(got))
	}
	bottest.MustContain(t, "escalation DM", got[0].Text, id, "2 个工作日未签收")
	bottest.MustNotContain(t, "escalation DM", got[0].Text, substance, title)
}

// failingOutboxCommits is a store whose commits that queue a message
// fail while fail is set.
type failingOutboxCommits struct {
	*bottest.Mem
	fail atomic.Bool
}

func (f *failingOutboxCommits) Commit(ctx context.Context, c *bot.Commit) error {
	for _, w := range c.Writes {
		if f.fail.Load() && w.Coll == "outbox" {
			return bot.Unavailable(errors.New("store down"))
		}
	}
	return f.Mem.Commit(ctx, c)
}

// A reminder is marked sent only together with its message: when the
// message cannot be queued, the clue is not marked reminded, and the next
// run sends the reminder, once.
func TestReminderMarkedOnlyWithItsMessage(t *testing.T) {
	st := &failingOutboxCommits{Mem: bottest.NewMem()}
	env := bottest.New(t, bottest.WithStore(st))
	if err := Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	id := transfer(t, env, `线索 移送 第二监督检查室 区财政局党组 标题 内容`)
	env.Adapter.Reset()
	st.fail.Store(true)
	env.Clock.Set(at(12, 3, 9, 0))
	if err := env.Bot.Jobs.Run(t.Context(), at(12, 3, 9, 0)); err == nil {
		t.Error("the reminder job reported no error while the store failed")
	}
	st.fail.Store(false)
	if c := loadClue(t, env, id); !c.RemindedAt.IsZero() || len(sentTo(env, "赵强")) != 0 {
		t.Fatalf("reminder marked %v with %d messages while its message could not be queued", c.RemindedAt, len(sentTo(env, "赵强")))
	}
	runAt(t, env, at(12, 3, 9, 15))
	runAt(t, env, at(12, 3, 9, 30))
	if n := len(sentTo(env, "赵强")); n != 1 {
		t.Fatalf("%d reminders after the store recovered, want 1", n)
	}
	if c := loadClue(t, env, id); !c.RemindedAt.Equal(at(12, 3, 9, 15)) {
		t.Errorf("reminded at %v, want the run after the failure", c.RemindedAt)
	}
}
