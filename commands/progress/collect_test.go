package progress

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
)

// The collection of January 2027 runs over the month end and the make-up
// working day of Sunday 31 January; February's runs over the Spring
// Festival (5–13 February off) and the make-up working day of Sunday 14
// February. Reminders: 3 working days before the deadline day at 10:00
// and on the deadline day at 15:00.
func TestMonthlyCollectionRemindersAndNotReportedAcrossHolidays(t *testing.T) {
	env := newEnv(t, withConfig(func(c *config.Config) {
		changeSettings(c, func(s *Settings) {
			s.Reminders = []Reminder{{BeforeDays: 3, At: "10:00"}, {BeforeDays: 0, At: "15:00"}}
		})
	}))
	fin := create(t, env, financeItem)
	fin2 := create(t, env, financeItem2)
	cg := create(t, env, chengguanItem)
	hs := create(t, env, housingItem)
	env.Command("zhoutao", "进度 "+fin2+" 已完成") // done items are not asked about

	// January: prompt on Wednesday 27th; five working days are 28, 29,
	// Sunday 31 (make-up), 1 and 2 February.
	at(env, 2027, 1, 27, 9, 0)
	env.Adapter.Reset()
	runTask(t, env, TaskCollect)
	jan := loadMonth(t, env, "2027-01")
	if got := bot.FormatDate(jan.Deadline, env.Bot.Loc); got != "2027-02-02" {
		t.Fatalf("January deadline %s, want 2027-02-02 (over the month end and the make-up Sunday)", got)
	}
	var units []string
	for _, u := range jan.Units {
		units = append(units, u.Unit)
	}
	if !slices.Equal(units, []string{"finance", "housing", "chengguan"}) {
		t.Errorf("units asked %v", units)
	}
	if fu := jan.Unit("finance"); !slices.Equal(fu.Items, []string{fin}) {
		t.Errorf("finance asked about %v, want only the open item", fu.Items)
	}
	for _, who := range []string{"周涛", "马萍", "吴芳"} {
		if len(sentTo(env, who)) != 1 {
			t.Errorf("%s got %d prompts, want 1", who, len(sentTo(env, who)))
		}
	}
	contains(t, outText(sentTo(env, "周涛")[0]), fin)
	contains(t, outText(sentTo(env, "周涛")[0]), "2027-02-02")
	runTask(t, env, TaskCollect) // a repeated run does nothing
	if len(sentTo(env, "周涛")) != 1 {
		t.Error("a repeated collection prompted again")
	}
	// January's reminder 3 working days before 2 February is Friday 29
	// January, not the weekend.
	at(env, 2027, 1, 29, 10, 0)
	env.Command("zhoutao", "进度 "+fin+" 30%")
	env.Command("wufang", "进度 "+cg+" 20%")
	env.Adapter.Reset()
	runJobs(t, env)
	if len(sentTo(env, "周涛")) != 0 || len(sentTo(env, "吴芳")) != 0 || len(sentTo(env, "马萍")) != 1 {
		t.Errorf("January reminder: only housing had not reported: %+v", env.Adapter.Sent())
	}
	// Housing reports on Monday 1 February: it counts for January.
	at(env, 2027, 2, 1, 11, 0)
	env.Command("maping", "进度 "+hs+" 10%")
	at(env, 2027, 2, 3, 0, 5)
	runJobs(t, env)
	jan = loadMonth(t, env, "2027-01")
	if !jan.Closed() || len(jan.Unreported()) != 0 {
		t.Errorf("January: closed %v, unreported %v", jan.Closed(), jan.Unreported())
	}

	// February: prompt on Wednesday 3rd; the five working days are 4,
	// Sunday 14 (make-up), 15, 16, 17.
	at(env, 2027, 2, 3, 9, 0)
	runTask(t, env, TaskCollect)
	feb := loadMonth(t, env, "2027-02")
	if got := bot.FormatDate(feb.Deadline, env.Bot.Loc); got != "2027-02-17" {
		t.Fatalf("February deadline %s, want 2027-02-17", got)
	}
	if !feb.WindowStart.Equal(time.Date(2027, 2, 3, 0, 0, 0, 0, bottest.Shanghai)) {
		t.Errorf("February counts updates from %v, want the day after January's deadline", feb.WindowStart)
	}
	// Finance reports on the make-up Sunday morning.
	at(env, 2027, 2, 14, 9, 30)
	env.Command("zhoutao", "进度 "+fin+" 50% 资金清理完成")
	env.Adapter.Reset()

	steps := []struct {
		when      time.Time
		reminded  []string // console ids reminded at this step
		closed    bool
		beforeRun func()
	}{
		{when: time.Date(2027, 2, 5, 10, 0, 0, 0, bottest.Shanghai)},  // Spring Festival: nothing
		{when: time.Date(2027, 2, 8, 10, 30, 0, 0, bottest.Shanghai)}, // still the holiday
		{when: time.Date(2027, 2, 13, 10, 0, 0, 0, bottest.Shanghai)}, // Saturday off
		{when: time.Date(2027, 2, 14, 9, 45, 0, 0, bottest.Shanghai)}, // make-up day, before the reminder time
		// The first reminder falls on the make-up Sunday at 10:00; finance
		// has reported, the other two have not.
		{when: time.Date(2027, 2, 14, 10, 0, 0, 0, bottest.Shanghai), reminded: []string{"马萍", "吴芳"}},
		{when: time.Date(2027, 2, 14, 10, 15, 0, 0, bottest.Shanghai)}, // not twice
		{when: time.Date(2027, 2, 16, 11, 0, 0, 0, bottest.Shanghai), beforeRun: func() { env.Command("wufang", "进度 "+cg+" 进度不变") }},
		{when: time.Date(2027, 2, 17, 14, 45, 0, 0, bottest.Shanghai)},
		// The deadline day's reminder goes to housing only.
		{when: time.Date(2027, 2, 17, 15, 0, 0, 0, bottest.Shanghai), reminded: []string{"马萍"}},
		{when: time.Date(2027, 2, 17, 21, 0, 0, 0, bottest.Shanghai)}, // night: nothing, and not yet closed
		{when: time.Date(2027, 2, 18, 0, 15, 0, 0, bottest.Shanghai), closed: true},
		{when: time.Date(2027, 2, 18, 10, 0, 0, 0, bottest.Shanghai), closed: true}, // no reminder after the deadline
	}
	for _, s := range steps {
		env.Clock.Set(s.when)
		if s.beforeRun != nil {
			s.beforeRun()
		}
		env.Adapter.Reset()
		runJobs(t, env)
		var got []string
		for _, o := range env.Adapter.Sent() {
			if o.UserID != "" {
				got = append(got, o.UserID)
			}
		}
		slices.Sort(got)
		want := slices.Clone(s.reminded)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: reminded %v, want %v", s.when.Format("01-02 15:04"), got, want)
		}
		for _, o := range env.Adapter.Sent() {
			contains(t, outText(o), "2027-02-17")
		}
		if m := loadMonth(t, env, "2027-02"); m.Closed() != s.closed {
			t.Errorf("%s: closed %v, want %v", s.when.Format("01-02 15:04"), m.Closed(), s.closed)
		}
	}
	feb = loadMonth(t, env, "2027-02")
	if got := feb.Unreported(); !slices.Equal(got, []string{"housing"}) {
		t.Errorf("unreported %v, want [housing]", got)
	}
	if u := feb.Unit("housing"); !slices.Equal(u.Missing, []string{hs}) || !slices.Equal(u.Reminded, []int{0, 1}) {
		t.Errorf("housing report %+v", u)
	}
	if got, err := NewQueries(env.Store, env.Bot.Loc).Unreported(ctx, "2027-02"); err != nil || !slices.Equal(got, []string{"housing"}) {
		t.Errorf("Unreported() = %v, %v", got, err)
	}
	if got := loadItem(t, env, hs).Unreported; !slices.Equal(got, []string{"2027-02"}) {
		t.Errorf("item marked unreported for %v", got)
	}
	if got := loadItem(t, env, fin).Unreported; len(got) != 0 {
		t.Errorf("finance item marked unreported for %v", got)
	}
	if a := audits(t, env, "progress.unreported"); len(a) != 1 || a[0].Record != "2027-02" || !strings.Contains(a[0].Detail, "unit=housing") {
		t.Errorf("unreported audit %+v", a)
	}
	if n := len(audits(t, env, "progress.remind")); n != 4 {
		t.Errorf("%d reminders audited, want 4 (one in January, three in February)", n)
	}
}

func TestCollectionPromptGoesToTheUnitGroupAndButtonsReport(t *testing.T) {
	env := newEnv(t, withConfig(func(c *config.Config) {
		c.Groups["finance"] = config.GroupConfig{Name: "财政局整改群"}
		for i := range c.Bodies {
			if c.Bodies[i].ID == "finance" {
				c.Bodies[i].Group = "finance"
			}
		}
		changeSettings(c, func(s *Settings) { s.Contacts = map[string][]string{"chengguan": {"wufang"}} })
	}))
	fin := create(t, env, financeItem)
	create(t, env, chengguanItem)
	env.Adapter.Reset()
	runTask(t, env, TaskCollect) // Tuesday 1 December 2026, 09:00
	posted := postedIn(env, "财政局整改群")
	if len(posted) != 1 || len(sentTo(env, "周涛")) != 0 {
		t.Fatalf("finance prompt: group %d, DM %d", len(posted), len(sentTo(env, "周涛")))
	}
	card := posted[0].Card
	btn := bottest.FindButton(t, card, "progress.same")
	resp := env.Click("zhoutao", btn)
	if resp.Replies[0].Replace {
		t.Error("a click on the prompt replaced the prompt with one item's card")
	}
	if it := loadItem(t, env, fin); len(it.Progress) != 1 || it.Progress[0].Percent != 0 {
		t.Errorf("same button: %+v", it.Progress)
	}
	m := loadMonth(t, env, "2026-12")
	if len(m.Unit("finance").Prompts) != 1 || len(m.Unit("chengguan").Prompts) != 1 {
		t.Errorf("prompt references not kept: %+v", m.Units)
	}
}

func TestRegisterRefusesUnknownContacts(t *testing.T) {
	c := config.Demo()
	changeSettings(c, func(s *Settings) { s.Contacts = map[string][]string{"finance": {"nobody"}} })
	env := bottest.New(t, bottest.WithConfig(c))
	if err := Module().Setup(env.Bot, c); err == nil {
		t.Error("unknown contact accepted")
	}
}

// A reminder whose time passed while no job ran waits for the next
// office hour of a working day: never at night, never on a holiday.
func TestOverdueReminderWaitsForOfficeHoursOnAWorkingDay(t *testing.T) {
	env := newEnv(t, withConfig(func(c *config.Config) {
		changeSettings(c, func(s *Settings) { s.Reminders = []Reminder{{BeforeDays: 4, At: "10:00"}} })
	}))
	create(t, env, housingItem)
	at(env, 2027, 2, 3, 9, 0)
	runTask(t, env, TaskCollect) // deadline 17 February; the reminder is due Thursday 4 February 10:00
	for _, s := range []struct {
		when time.Time
		sent bool
	}{
		{time.Date(2027, 2, 4, 9, 59, 0, 0, bottest.Shanghai), false},
		{time.Date(2027, 2, 4, 20, 0, 0, 0, bottest.Shanghai), false}, // due, but night
		{time.Date(2027, 2, 5, 10, 0, 0, 0, bottest.Shanghai), false}, // Spring Festival
		{time.Date(2027, 2, 10, 11, 0, 0, 0, bottest.Shanghai), false},
		{time.Date(2027, 2, 13, 10, 0, 0, 0, bottest.Shanghai), false}, // Saturday
		{time.Date(2027, 2, 14, 8, 30, 0, 0, bottest.Shanghai), false}, // make-up Sunday, before office hours
		{time.Date(2027, 2, 14, 9, 0, 0, 0, bottest.Shanghai), true},
		{time.Date(2027, 2, 15, 9, 0, 0, 0, bottest.Shanghai), false}, // once
	} {
		env.Clock.Set(s.when)
		env.Adapter.Reset()
		runJobs(t, env)
		if got := len(sentTo(env, "马萍")) > 0; got != s.sent {
			t.Errorf("%s: reminder sent %v, want %v", s.when.Format("01-02 15:04"), got, s.sent)
		}
	}
}
