package meeting_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/schedule"
	"github.com/xunji-bot/xunji/commands/meeting"
)

// newEnvAt is newEnv on a clock stopped at now, read in UTC (a server
// whose zone is not the deployment's).
func newEnvAt(t *testing.T, now time.Time, scs ...config.ScheduleConfig) *fixture {
	t.Helper()
	cfg := config.Demo()
	cfg.Schedules = scs
	env := bottest.New(t, bottest.WithConfig(cfg), bottest.WithClock(bottest.NewClock(now.UTC())))
	if err := meeting.Module().Setup(env.Bot, cfg); err != nil {
		t.Fatal(err)
	}
	r, err := schedule.New(env.Bot, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{Env: env, runner: r}
}

// when is the expected rendering of a meeting time: 2027-01-04 09:00（周一）.
func (f *fixture) when(t time.Time) string {
	t = t.In(bottest.Shanghai)
	return f.TZ("meeting.when", "time", t.Format("2006-01-02 15:04"), "weekday", f.TZ(fmt.Sprintf("meeting.weekday.%d", int(t.Weekday()))))
}

// workMeetings are the work meeting's occurrences (first working day
// 09:00, notice three working days before) around now: At and Fire.
func workMeetings(now time.Time) [][2]time.Time {
	y, m, _ := now.In(bottest.Shanghai).Date()
	var out [][2]time.Time
	for i := -1; i <= 4; i++ {
		first := bottest.Day(y, m+time.Month(i), 1)
		at := bottest.NthWorkday(first.Year(), first.Month(), 1).Add(9 * time.Hour)
		out = append(out, [2]time.Time{at, bottest.WorkdaysBefore(at, 3)})
	}
	return out
}

// From each instant: "会议 下次" names the next scheduled meeting and when
// its notice goes out; a meeting's id carries the year of the meeting's
// date (not of the day it was created), for ad-hoc and scheduled
// meetings alike, so one made on New Year's Eve for January is HY-<next
// year>; dates typed without a year are the next such day; a day off is
// pointed out; a time already past is refused.
func TestMeetingDatesFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		f := newEnvAt(t, now, workMeeting)
		ctx := context.Background()
		today := bottest.Today(now)
		seq := map[int]int{}
		nextID := func(at time.Time) string {
			y := at.In(bottest.Shanghai).Year()
			seq[y]++
			return fmt.Sprintf("HY-%d-%04d", y, seq[y])
		}
		occ := workMeetings(now)
		var latest, next [2]time.Time
		for _, o := range occ {
			if o[1].After(now) {
				next = o
				break
			}
			latest = o
		}

		// First sight of the schedule: a notice due today still goes out.
		f.tickAt(t, now.In(bottest.Shanghai).Format("2006-01-02 15:04"))
		if ms, _ := bot.Records[meeting.Meeting](f.Store, meeting.CollMeetings).List(ctx); bottest.Today(latest[1]).Equal(today) {
			if id := nextID(latest[0]); len(ms) != 1 || ms[0].ID != id {
				t.Fatalf("the notice due today made %v, want %s", ms, id)
			}
		} else {
			if len(ms) != 0 {
				t.Fatalf("first sight made meetings %v", ms)
			}
			text := bottest.Text(f.Command("zhaoqiang", "会议 下次"))
			bottest.MustContain(t, "会议 下次", text, f.TZ("meeting.next.none"),
				f.TZ("meeting.list.scheduled", "title", "月度工作例会", "time", f.when(next[0]), "notice", next[1].Format("2006-01-02 15:04")))
		}

		// An ad-hoc meeting tomorrow at 10:00.
		tomorrow := today.AddDate(0, 0, 1).Add(10 * time.Hour)
		id1 := nextID(tomorrow)
		text := bottest.Text(f.Command("wangming", "会议 新建 专题会 明天 10:00"))
		bottest.MustContain(t, "new tomorrow", text, id1, f.when(tomorrow))
		if warn := f.TZ("meeting.dayoff_warning", "date", tomorrow.Format("2006-01-02")); bottest.IsWorkday(tomorrow) {
			bottest.MustNotContain(t, "new tomorrow (a working day)", text, warn)
		} else {
			bottest.MustContain(t, "new tomorrow (a day off)", text, warn)
		}
		if mt := f.meeting(t, id1); !mt.Time.Equal(tomorrow) {
			t.Errorf("%s at %s, want %s", id1, mt.Time, tomorrow)
		}

		// A joint meeting on 5 January of next year, typed with its year.
		jan5 := bottest.Day(today.Year()+1, time.January, 5).Add(14*time.Hour + 30*time.Minute)
		id2 := nextID(jan5)
		text = bottest.Text(f.Command("wangming", fmt.Sprintf("会议 新建 联席会 %d-01-05 14:30", jan5.Year())))
		bottest.MustContain(t, "new next January", text, id2, f.when(jan5))

		// "会议 下次" is now the card of tomorrow's meeting.
		resp := f.Command("zhaoqiang", "会议 下次")
		if len(resp.Replies) != 1 || resp.Replies[0].Card == nil {
			t.Fatalf("next: %s", bottest.Text(resp))
		}
		bottest.MustContain(t, "会议 下次 card", bottest.CardText(resp.Replies[0].Card), id1, f.when(tomorrow))

		// Moved to "1-5" (no year): when this year's 5 January is still to
		// come, that day, keeping 14:30 and the id; when it has passed, the
		// date is ambiguous and refused with both readings.
		moved := nextMonthDay(today, time.January, 5).Add(14*time.Hour + 30*time.Minute)
		text = bottest.Text(f.Command("wangming", "会议 改期 "+id2+" 1-5"))
		switch thisJan5 := bottest.Day(today.Year(), time.January, 5); {
		case thisJan5.Before(today):
			bottest.MustContain(t, "move to a past 1-5", text, f.TZ("error.ambiguous_date", "input", "1-5", "past", thisJan5.Format("2006-01-02"), "next", bottest.Day(today.Year()+1, time.January, 5).Format("2006-01-02")))
			if mt := f.meeting(t, id2); !mt.Time.Equal(jan5) {
				t.Errorf("meeting %s moved to %s by an ambiguous date", id2, mt.Time)
			}
		default:
			bottest.MustContain(t, "move to 1-5", text, f.TZ("meeting.moved", "id", id2, "time", f.when(moved), "from", f.when(jan5)))
			if mt := f.meeting(t, id2); !mt.Time.Equal(moved) || mt.ID != id2 {
				t.Errorf("moved meeting %s at %s, want %s", mt.ID, mt.Time, moved)
			}
		}

		// Today at 00:00 is never to come.
		text = bottest.Text(f.Command("wangming", "会议 改期 "+id1+" 今天 00:00"))
		bottest.MustContain(t, "move to the past", text, f.TZ("meeting.err.past", "time", today.Format("2006-01-02 15:04")))

		// Tomorrow's meeting is reminded once, an hour before.
		f.Adapter.Reset()
		for _, at := range []time.Time{tomorrow.Add(-61 * time.Minute), tomorrow.Add(-time.Hour), tomorrow.Add(-59 * time.Minute)} {
			f.Clock.Set(at.UTC())
			if err := f.Bot.Jobs.Run(ctx, at.UTC()); err != nil {
				t.Fatal(err)
			}
			if texts := f.texts(coordination); len(texts) != 0 && at.Before(tomorrow.Add(-time.Hour)) {
				t.Fatalf("reminded at %s: %v", at, texts)
			}
		}
		if texts := f.texts(coordination); len(texts) != 1 || !strings.Contains(texts[0], id1) {
			t.Errorf("reminders %v, want one for %s", texts, id1)
		}

		// The scheduled notice for the next work meeting: the id has the
		// meeting's year even when the notice goes out the year before.
		f.Adapter.Reset()
		f.tickAt(t, next[1].In(bottest.Shanghai).Format("2006-01-02 15:04"))
		cards := f.cards(coordination)
		if len(cards) != 1 {
			t.Fatalf("notice at %s: %d cards", next[1], len(cards))
		}
		id3 := nextID(next[0])
		bottest.MustContain(t, "scheduled notice", bottest.CardText(cards[0]), "月度工作例会通知 "+id3, f.when(next[0]))
		if mt := f.meeting(t, id3); !mt.Time.Equal(next[0]) || !mt.CreatedAt.Equal(next[1]) {
			t.Errorf("scheduled meeting %s at %s created %s, want at %s created %s", id3, mt.Time, mt.CreatedAt, next[0], next[1])
		}
	})
}

// nextMonthDay is the first day on or after today that is month m, day d.
func nextMonthDay(today time.Time, m time.Month, d int) time.Time {
	for y := today.Year(); ; y++ {
		if t := bottest.Day(y, m, d); t.Month() == m && !t.Before(today) {
			return t
		}
	}
}
