package assess

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/meeting"
)

// quarterLabel is 2027Q1 for a day in January–March 2027.
func quarterLabel(d time.Time) string {
	return fmt.Sprintf("%dQ%d", d.Year(), (int(d.Month())-1)/3+1)
}

// From each instant, on a clock read in UTC: "考核" without a period is
// the current month in Shanghai; a clue whose deadline day ended at
// today's midnight counts as concluded late in the current month and
// quarter (also on the quarter's first day, at 00:00), one whose deadline
// day was the previous quarter's second-to-last day counts in that
// quarter only, one due today nowhere yet; a special report's id has
// the year of its drafting day.
func TestAssessPeriodsFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		env := bottest.New(t, bottest.WithClock(bottest.NewClock(now.UTC())))
		if err := Module().Setup(env.Bot, env.Config); err != nil {
			t.Fatal(err)
		}
		today := bottest.Today(now)
		qStart := bottest.QuarterStart(now)
		prevQ := qStart.AddDate(0, 0, -1)
		clue := func(id string, deadline time.Time) {
			created := deadline.AddDate(0, 0, -40).Add(9 * time.Hour)
			create(t, env, clue.CollClues, id, &clue.Clue{ID: id, Body: "room2", FromBody: "team1", OrganisationName: "区财政局党组", Title: "t", Substance: "s",
				CreatedAt: created, AckAt: created.Add(time.Hour), Deadline: deadline, Status: clue.ClueVerifying})
		}
		clue("XS-TEST-0001", today.AddDate(0, 0, -1))  // overdue since today 00:00
		clue("XS-TEST-0002", qStart.AddDate(0, 0, -2)) // overdue since the previous quarter's last day
		clue("XS-TEST-0003", today)                    // due today: not overdue yet

		monthFrom := bottest.Day(today.Year(), today.Month(), 1)
		monthTo := bottest.Day(today.Year(), today.Month()+1, 0)
		text := bottest.Text(env.Command("wangming", "考核"))
		bottest.MustContain(t, "考核", text, env.TZ("assess.card.title", "period", monthFrom.Format("2006-01")),
			env.TZ("assess.period", "label", monthFrom.Format("2006-01"), "from", monthFrom.Format(time.DateOnly), "to", monthTo.Format(time.DateOnly), "asof", now.In(bottest.Shanghai).Format("2006-01-02 15:04")))

		header := func(period string, n int) string {
			return env.TZ("assess.detail.header", "figure", env.TZ("assess.figure.clue_conclude_late"), "body", env.TZ("assess.all_bodies"), "period", period, "count", n)
		}
		text = bottest.Text(env.Command("wangming", "考核 明细:办结超期"))
		bottest.MustContain(t, "this month", text, header(monthFrom.Format("2006-01"), 1), "XS-TEST-0001")
		bottest.MustNotContain(t, "this month", text, "XS-TEST-0002", "XS-TEST-0003")

		q, pq := quarterLabel(qStart), quarterLabel(prevQ)
		text = bottest.Text(env.Command("wangming", "考核 "+q+" 明细:办结超期"))
		bottest.MustContain(t, "this quarter", text, header(q, 1), "XS-TEST-0001")
		bottest.MustNotContain(t, "this quarter", text, "XS-TEST-0002", "XS-TEST-0003")
		text = bottest.Text(env.Command("wangming", "考核 "+q))
		bottest.MustContain(t, "this quarter", text, env.TZ("assess.period", "label", q, "from", qStart.Format(time.DateOnly),
			"to", qStart.AddDate(0, 3, -1).Format(time.DateOnly), "asof", now.In(bottest.Shanghai).Format("2006-01-02 15:04")))

		text = bottest.Text(env.Command("wangming", "考核 "+pq+" 明细:办结超期"))
		bottest.MustContain(t, "previous quarter", text, header(pq, 1), "XS-TEST-0002")
		bottest.MustNotContain(t, "previous quarter", text, "XS-TEST-0001", "XS-TEST-0003")

		text = bottest.Text(env.Command("wangming", "专报 起草 "+q))
		quarter := fmt.Sprintf("%d年第%s季度", qStart.Year(), []string{"一", "二", "三", "四"}[(int(qStart.Month())-1)/3])
		bottest.MustContain(t, "专报", text, env.TZ("report.card.title", "id", fmt.Sprintf("%s-%d-0001", PrefixReport, today.Year()), "period", quarter))
	})
}

// From each instant: a work meeting convened by the office two days
// later is missed, in the assessment of its month, only by the invited
// bodies that neither asked for leave nor were recorded present by the
// office's attendance (会议 签到): room1 answered 参加 but was not
// there, team2 said nothing. group3's leave (请假) is not an absence; the
// case office and the supervisor office of Hexi, not invited to the work
// meeting, are refused when they answer and are never counted absent;
// the office that convenes it is not assessed.
func TestMeetingAbsenceCountsOnlyInviteesWithoutLeaveOrAttendanceFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		env := bottest.New(t, bottest.WithClock(bottest.NewClock(now.UTC())))
		if err := Module().Setup(env.Bot, env.Config); err != nil {
			t.Fatal(err)
		}
		if err := meeting.Module().Setup(env.Bot, env.Config); err != nil {
			t.Fatal(err)
		}
		day := bottest.Today(now).AddDate(0, 0, 2)
		held := day.Add(10 * time.Hour)
		text := bottest.Text(env.Command("wangming", "会议 新建 工作例会 "+day.Format(time.DateOnly)+" 10:00"))
		id := fmt.Sprintf("%s-%d-0001", meeting.PrefixMeeting, day.Year())
		bottest.MustContain(t, "new", text, id)
		mt, err := bot.Records[meeting.Meeting](env.Store, meeting.CollMeetings).Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		button := func(action string) bot.Button { return bot.Button{Action: action, Value: id} }
		for _, p := range []string{"zhaoqiang", "hejun", "lina", "sunli", "luoxia"} {
			env.Click(p, button(meeting.ActionAttend))
		}
		env.Click("chenjing", button(meeting.ActionAbsent))
		if mt.Invitees == nil {
			t.Fatal("the meeting keeps no invitees")
		}

		env.Clock.Set(held.Add(3 * time.Hour))
		bottest.MustContain(t, "attendance", bottest.Text(env.Command("wangming", "会议 签到 "+id+" room2,team1,sup_chengguan,office")), "缺席：区委第二巡察组、区纪委监委第一监督检查室")

		a, err := Compute(context.Background(), env.Bot, env.Config, MonthPeriod(held, env.Bot.Loc), env.Bot.Now())
		if err != nil {
			t.Fatal(err)
		}
		var missed []string
		for _, rec := range a.Behind(FigMeetingMissed, "") {
			if rec.ID != id {
				t.Errorf("record of %s behind the meeting figure", rec.ID)
			}
			missed = append(missed, rec.Body)
		}
		if want := []string{"team2", "room1"}; !slices.Equal(missed, want) {
			t.Errorf("absent %v, want %v", missed, want)
		}
	})
}
