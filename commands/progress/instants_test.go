package progress

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/internal/sheet/sheettest"
)

// From each instant, on a clock read in UTC: an item's id carries the
// year of its creation day in Shanghai and its deadline "+30d" is 30 days
// from that day; the next month's collection (its first working day)
// names that month, gives the units five working days, reminds the day
// before and on the deadline day, and closes the day after, marking the
// unit not reported; that month's notice (its 7th working day) is titled
// with the month and counts the item overdue exactly when its deadline
// day has passed.
func TestMonthlyCollectionAndNoticeFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		env := newEnv(t, bottest.WithClock(bottest.NewClock(now.UTC())), withConfig(func(c *config.Config) {
			changeSettings(c, func(s *Settings) {
				s.ChartWidth, s.ChartHeight = 300, 200 // the smallest: a chart is slow to draw under -race
			})
		}))
		today := bottest.Today(now)
		y, m, d := today.Date()

		deadline := bottest.Day(y, m, d+30)
		resp := env.Command("lina", `进度 新建 区财政局党组 "专项资金管理制度不健全" 期限:+30d 监督:第二监督检查室`)
		id := fmt.Sprintf("ZG-%d-0001", y)
		contains(t, bottest.Text(resp), env.TZ("progress.created", "id", id, "unit", "区财政局党组", "deadline", deadline.Format(time.DateOnly)))
		if it := loadItem(t, env, id); !it.Deadline.Equal(deadline) {
			t.Errorf("%s deadline %s, want %s", id, it.Deadline, deadline)
		}

		// Next month's collection.
		next := bottest.Day(y, m+1, 1)
		collectAt := bottest.NthWorkday(next.Year(), next.Month(), 1).Add(9 * time.Hour)
		month := collectAt.Format("2006-01")
		label := fmt.Sprintf("%d年%d月", next.Year(), next.Month())
		due := bottest.Today(bottest.WorkdaysAfter(collectAt, 5))
		env.Clock.Set(collectAt.UTC())
		env.Adapter.Reset()
		runTask(t, env, TaskCollect)
		pm := loadMonth(t, env, month)
		if !pm.Deadline.Equal(due) || !pm.WindowStart.Equal(next) || !pm.StartedAt.Equal(collectAt) {
			t.Errorf("collection %s: deadline %s, window from %s, started %s; want %s, %s, %s", month, pm.Deadline, pm.WindowStart, pm.StartedAt, due, next, collectAt)
		}
		prompts := sentTo(env, "周涛")
		if len(prompts) != 1 {
			t.Fatalf("周涛 got %d prompts", len(prompts))
		}
		contains(t, outText(prompts[0]), env.TZ("progress.prompt.title", "month", label, "unit", "区财政局党组"))
		contains(t, outText(prompts[0]), env.TZ("progress.prompt.text", "deadline", due.Format(time.DateOnly), "count", 1))

		// Reminders: one working day before the deadline day at 10:00,
		// on the deadline day at 15:00; closed the day after.
		remind1 := bottest.WorkdaysBefore(due, 1).Add(10 * time.Hour)
		remind2 := due.Add(15 * time.Hour)
		steps := []struct {
			at    time.Time
			sent  int
			close bool
		}{
			{remind1.Add(-time.Minute), 0, false},
			{remind1, 1, false},
			{remind2.Add(-time.Minute), 0, false},
			{remind2, 1, false},
			{due.Add(23*time.Hour + 59*time.Minute), 0, false},
			{due.AddDate(0, 0, 1).Add(15 * time.Minute), 0, true},
		}
		for _, s := range steps {
			env.Clock.Set(s.at.UTC())
			env.Adapter.Reset()
			runJobs(t, env)
			if n := len(sentTo(env, "周涛")); n != s.sent {
				t.Errorf("%s: 周涛 got %d reminders, want %d", s.at.Format("2006-01-02 15:04"), n, s.sent)
			}
			if pm := loadMonth(t, env, month); pm.Closed() != s.close {
				t.Errorf("%s: collection closed %v, want %v", s.at.Format("2006-01-02 15:04"), pm.Closed(), s.close)
			}
		}
		if pm := loadMonth(t, env, month); !slices.Equal(pm.Unreported(), []string{"finance"}) {
			t.Errorf("unreported %v, want [finance]", pm.Unreported())
		}
		if it := loadItem(t, env, id); !slices.Equal(it.Unreported, []string{month}) {
			t.Errorf("%s not reported in %v, want [%s]", id, it.Unreported, month)
		}

		// The month's notice.
		noticeAt := bottest.NthWorkday(next.Year(), next.Month(), 7).Add(15 * time.Hour)
		env.Clock.Set(noticeAt.UTC())
		env.Adapter.Reset()
		runTask(t, env, TaskMonthlyNotice)
		title := env.TZ("progress.notice.title", "month", label)
		var cards int
		for _, o := range env.Adapter.Sent() {
			if o.Card != nil && o.Card.Title == title {
				cards++
			}
		}
		if cards != 1 {
			t.Errorf("%d notices titled %q: %v", cards, title, env.Adapter.Sent())
		}
		pm = loadMonth(t, env, month)
		overdue := 0
		if bottest.Today(noticeAt).After(deadline) {
			overdue = 1
		}
		i := slices.IndexFunc(pm.Figures, func(f OrgFigures) bool { return f.Unit == "finance" })
		if !pm.NoticeAt.Equal(noticeAt) || i < 0 || pm.Figures[i].Total != 1 || pm.Figures[i].Overdue != overdue || pm.Figures[i].Unreported != 1 {
			t.Errorf("notice of %s at %s: %+v; want at %s, finance 1 item, %d overdue, 1 unreported", month, pm.NoticeAt, pm.Figures, noticeAt, overdue)
		}

		// The chart says when its figures were taken, in Shanghai, and
		// marks the unit; the workbook's dates are the Shanghai days.
		h, err := newHandler(env.Bot, env.Config)
		if err != nil {
			t.Fatal(err)
		}
		rep, _, err := h.report(ctx, env.Bot.People.BaseRoster(), env.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		bars, err := chartBars(env.Bot, env.Bot.People.BaseRoster(), rep, "zh-CN", 300, 200)
		if err != nil {
			t.Fatal(err)
		}
		if want := "数据截至 " + noticeAt.In(bottest.Shanghai).Format("2006-01-02 15:04"); bars.AsOf != want {
			t.Errorf("chart as-of %q, want %q", bars.AsOf, want)
		}
		wantMark := "未报送 1"
		if overdue == 1 {
			wantMark = "逾期 1 · 未报送 1"
		}
		if !slices.Equal(bars.Marks, []string{wantMark}) {
			t.Errorf("chart marks %q, want [%q]", bars.Marks, wantMark)
		}
		checkChartLayout(t, bars)
		var book []byte
		for _, o := range env.Adapter.Sent() {
			for _, f := range o.Files {
				if f.MIME == XLSXMIME {
					book = f.Data
				}
			}
		}
		if book == nil {
			t.Fatal("the notice has no workbook")
		}
		x := sheettest.Open(t, book)
		sheettest.Table(t, book, "整改事项")
		if got := sheettest.Number(t, x, "整改事项", "E2"); got != excelDay(deadline, bottest.Shanghai) {
			t.Errorf("deadline serial %v, want %v (%s)", got, excelDay(deadline, bottest.Shanghai), deadline.Format(time.DateOnly))
		}
		if got := sheettest.Number(t, x, "整改事项", "N2"); !near(got, excelTime(now, bottest.Shanghai)) {
			t.Errorf("created serial %v, want %v (%s)", got, excelTime(now, bottest.Shanghai), now.In(bottest.Shanghai))
		}
	})
}

// From each instant, on a clock read in UTC: the stationed group that
// recorded its check three months ago but none of the two monthly checks
// since, and the Chengguan supervisor office whose two-month check of
// three months ago went unrecorded, are reported to the leader in charge
// (约谈提醒) by this month's notice, with the months missed; the Hexi
// supervisor office, never asked to check, is not. Each is audited once.
func TestMissingChecksEscalateFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		env := newEnv(t, bottest.WithClock(bottest.NewClock(now.UTC())))
		today := bottest.Today(now)
		month := func(back int) time.Time {
			return bottest.Day(today.Year(), today.Month()-time.Month(back), 1).Add(10 * time.Hour)
		}
		label := func(t time.Time) string { return fmt.Sprintf("%d年%d月", t.Year(), t.Month()) }
		deadline := today.AddDate(1, 0, 0).Format(time.DateOnly)

		env.Clock.Set(month(3))
		create(t, env, `区财政局党组 "公务用车登记不规范" 期限:`+deadline+` 监督:派驻第三纪检监察组`)
		create(t, env, `城关镇党委 "村级财务公开不及时" 期限:`+deadline+` 监督:城关镇派出监察员办公室`)
		runTask(t, env, TaskStationedCheck)
		runTask(t, env, TaskSupervisorCheck)
		env.Command("chenjing", "进度 检查 通过")
		recorded, err := bot.Records[Check](env.Store, CollProgressChecks).Get(ctx, CheckID(CheckStationed, "group3", MonthID(month(3), env.Bot.Loc)))
		if err != nil || recorded.Result != CheckPassed {
			t.Fatalf("the stationed group's first check: %+v, %v", recorded, err)
		}
		for _, back := range []int{2, 1} {
			env.Clock.Set(month(back))
			runTask(t, env, TaskStationedCheck)
		}

		env.Clock.Set(now)
		env.Adapter.Reset()
		runTask(t, env, TaskMonthlyNotice)
		m := loadMonth(t, env, MonthID(now, env.Bot.Loc))
		if want := []string{"group3", "sup_chengguan"}; !slices.Equal(m.EscalatedBodies, want) {
			t.Fatalf("escalated bodies %v, want %v (checks %v)", m.EscalatedBodies, want, m.EscalatedChecks)
		}
		committee := postedIn(env, "区委分管领导")
		if len(committee) != 2 {
			t.Fatalf("escalations posted %d, want 2", len(committee))
		}
		contains(t, committee[0].Text, env.TZ("progress.escalate.checks_text", "body", "区纪委监委派驻第三纪检监察组", "months", 2,
			"periods", label(month(1))+"、"+label(month(2))))
		contains(t, committee[1].Text, env.TZ("progress.escalate.checks_text", "body", "城关镇派出监察员办公室", "months", 2, "periods", label(month(3))))
		contains(t, outText(postedIn(env, "巡察办工作群")[0]), env.TZ("progress.notice.escalate_checks", "months", 2,
			"bodies", "区纪委监委派驻第三纪检监察组、城关镇派出监察员办公室"))
		if a := audits(t, env, "progress.check.escalate"); len(a) != 2 || a[0].Record != "group3" || a[1].Record != "sup_chengguan" {
			t.Errorf("escalation audit %+v", a)
		}
		runTask(t, env, TaskMonthlyNotice)
		if a := audits(t, env, "progress.check.escalate"); len(a) != 2 {
			t.Errorf("a repeated notice escalated again: %d audits", len(a))
		}
	})
}
