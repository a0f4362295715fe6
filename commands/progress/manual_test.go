package progress

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/schedule"
)

// From each instant, on a clock read in UTC: the office previews this
// month's collection (which units, which items, the deadline CollectDays
// working days on) and nothing is sent or stored; others may not; it
// starts it by hand, the units are asked, the start is audited under its
// name, and neither a second start nor the scheduled run asks again.
func TestOfficePreviewsAndStartsTheCollectionByHandFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		env := newEnv(t, bottest.WithClock(bottest.NewClock(now.UTC())))
		today := bottest.Today(now)
		deadline := today.AddDate(1, 0, 0).Format(time.DateOnly)
		fin := create(t, env, `区财政局党组 "专项资金管理制度不健全" 期限:`+deadline+` 监督:第二监督检查室`)
		cg := create(t, env, `城关镇党委 "村级财务公开不及时" 期限:`+deadline+` 监督:城关镇派出监察员办公室`)
		month := MonthID(now, env.Bot.Loc)
		label := fmt.Sprintf("%d年%d月", today.Year(), today.Month())
		due := bottest.WorkdaysAfter(now, 5).Format(time.DateOnly)
		env.Adapter.Reset()

		text := bottest.Text(env.Command("wangming", "进度 征集 预览"))
		contains(t, text, env.TZ("progress.collect.preview", "month", label, "units", 2, "items", 2, "deadline", due))
		contains(t, text, "区财政局党组（1 项）："+fin)
		contains(t, text, "城关镇党委（1 项）："+cg)
		if n := len(env.Adapter.Sent()); n != 0 {
			t.Errorf("a preview sent %d messages", n)
		}
		if _, err := bot.Records[ProgressMonth](env.Store, CollProgressMonths).Get(ctx, month); !bot.IsNotFound(err) {
			t.Errorf("a preview stored the month: %v", err)
		}
		contains(t, bottest.Text(env.Command("zhaoqiang", "进度 征集 发起")), env.TZ("error.forbidden"))
		contains(t, bottest.Text(env.Command("wangming", "进度 征集")), "进度 征集 预览")
		contains(t, bottest.Text(env.Command("wangming", "进度 征集 马上")), "「马上」无法识别")

		text = bottest.Text(env.Command("wangming", "进度 征集 发起"))
		contains(t, text, env.TZ("progress.collect.started", "month", label, "units", 2, "items", 2, "deadline", due))
		m := loadMonth(t, env, month)
		if !m.StartedAt.Equal(now) || len(m.Units) != 2 || bot.FormatDate(m.Deadline, env.Bot.Loc) != due {
			t.Errorf("started month %+v", m)
		}
		if n := len(sentTo(env, "周涛")) + len(sentTo(env, "吴芳")); n != 2 {
			t.Errorf("prompts sent %d, want one to each unit's member", n)
		}
		okAudits := func() []bot.AuditEntry {
			var out []bot.AuditEntry
			for _, e := range audits(t, env, "progress.collect") {
				if e.Result == bot.ResultOK {
					out = append(out, e)
				}
			}
			return out
		}
		if a := okAudits(); len(a) != 1 || a[0].Person != "wangming" || a[0].Record != month {
			t.Errorf("collect audit %+v", a)
		}
		contains(t, bottest.Text(env.Command("wangming", "进度 征集 发起")), env.TZ("progress.collect.already", "month", label,
			"time", now.In(bottest.Shanghai).Format("2006-01-02 15:04"), "deadline", due, "units", 2))
		runTask(t, env, TaskCollect)
		if n := len(sentTo(env, "周涛")) + len(sentTo(env, "吴芳")); n != 2 || len(okAudits()) != 1 {
			t.Errorf("the scheduled run asked again: %d prompts", n)
		}
	})
}

// From each instant: the collection's schedule missed its planned time
// (first working day of next month, 09:00) while the bot was down; an
// item created at 09:30 is collected by the catch-up run at 10:00, which
// takes the items as of when it runs and sets the deadline from then.
func TestCatchUpCollectionTakesItemsAsOfTheRunFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		cfg := config.Demo()
		cfg.Schedules = []config.ScheduleConfig{{Name: "progress_collect", Title: "月度整改进度收集", Rule: "monthly: first working day 09:00", Job: TaskCollect}}
		env := newEnv(t, bottest.WithConfig(cfg), bottest.WithClock(bottest.NewClock(now.UTC())))
		runner, err := schedule.New(env.Bot, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := runner.Tick(ctx, now); err != nil { // the schedule's baseline
			t.Fatal(err)
		}
		today := bottest.Today(now)
		next := bottest.Day(today.Year(), today.Month()+1, 1)
		planned := bottest.NthWorkday(next.Year(), next.Month(), 1).Add(9 * time.Hour)
		deadline := next.AddDate(1, 0, 0).Format(time.DateOnly)
		early := create(t, env, `区财政局党组 "专项资金管理制度不健全" 期限:`+deadline+` 监督:第二监督检查室`)

		env.Clock.Set(planned.Add(30 * time.Minute)) // down at 09:00; the item is created at 09:30
		late := create(t, env, `城关镇党委 "村级财务公开不及时" 期限:`+deadline+` 监督:城关镇派出监察员办公室`)
		run := planned.Add(time.Hour)
		env.Clock.Set(run)
		if err := runner.Tick(ctx, run); err != nil {
			t.Fatal(err)
		}
		m := loadMonth(t, env, MonthID(planned, env.Bot.Loc))
		var asked []string
		for _, u := range m.Units {
			asked = append(asked, u.Items...)
		}
		if got := strings.Join(asked, ","); got != early+","+late {
			t.Errorf("the catch-up asked about %s, want %s,%s", got, early, late)
		}
		if !m.StartedAt.Equal(run) || bot.FormatDate(m.Deadline, env.Bot.Loc) != bottest.WorkdaysAfter(run, 5).Format(time.DateOnly) {
			t.Errorf("catch-up started %s with deadline %s", m.StartedAt, bot.FormatDate(m.Deadline, env.Bot.Loc))
		}
		if len(sentTo(env, "吴芳")) != 1 {
			t.Error("the unit of the item created at 09:30 was not asked")
		}
	})
}

// The office previews the relay check prompts by kind and sends them by
// hand; a body already prompted this month is marked so and not
// prompted again, by hand or by the schedule.
func TestOfficePreviewsAndSendsCheckPromptsByHand(t *testing.T) {
	env := newEnv(t)
	fin := create(t, env, financeItem)
	cg := create(t, env, chengguanItem)
	env.Adapter.Reset()

	text := bottest.Text(env.Command("wangming", "进度 督查通知 预览"))
	contains(t, text, env.TZ("progress.checks.preview", "month", "2026年12月"))
	contains(t, text, env.TZ("progress.checks.body", "body", "区纪委监委派驻第三纪检监察组", "count", 1, "items", fin, "state", env.TZ("progress.checks.state.pending")))
	contains(t, text, env.TZ("progress.checks.body", "body", "城关镇派出监察员办公室", "count", 1, "items", cg, "state", env.TZ("progress.checks.state.pending")))
	if len(env.Adapter.Sent()) != 0 {
		t.Error("a preview sent something")
	}
	contains(t, bottest.Text(env.Command("wangming", "进度 督查通知 发起 全部")), "「全部」无法识别")

	text = bottest.Text(env.Command("wangming", "进度 督查通知 发起 派驻"))
	contains(t, text, env.TZ("progress.checks.body", "body", "区纪委监委派驻第三纪检监察组", "count", 1, "items", fin, "state", env.TZ("progress.checks.state.sent")))
	notContains(t, text, "城关镇派出监察员办公室")
	if len(sentTo(env, "陈静")) != 1 || len(sentTo(env, "刘洋")) != 0 {
		t.Fatalf("prompts: 陈静 %d, 刘洋 %d", len(sentTo(env, "陈静")), len(sentTo(env, "刘洋")))
	}
	if a := audits(t, env, "progress.check.prompt"); len(a) != 1 || a[0].Person != "wangming" || a[0].Result != bot.ResultOK {
		t.Errorf("prompt audit %+v", a)
	}
	runTask(t, env, TaskStationedCheck)
	text = bottest.Text(env.Command("wangming", "进度 督查通知 预览 派驻"))
	contains(t, text, env.TZ("progress.checks.state.already"))
	if len(sentTo(env, "陈静")) != 1 {
		t.Error("the stationed group was prompted twice")
	}
	contains(t, bottest.Text(env.Command("chenjing", "进度 督查通知 发起")), env.TZ("error.forbidden"))
}
