package meeting_test

import (
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/schedule"
	"github.com/xunji-bot/xunji/commands/meeting"
)

// newEnvIn is newEnv with a group "signers" where the given bodies sit
// (console chat 签字方群), holding the work meeting.
func newEnvIn(t *testing.T, bodies ...string) *fixture {
	t.Helper()
	cfg := config.Demo()
	cfg.Groups["signers"] = config.GroupConfig{Name: "签字方群", IDs: map[string]string{string(console.Name): "签字方群"}, Bodies: bodies}
	sc := workMeeting
	sc.Group = "signers"
	cfg.Schedules = []config.ScheduleConfig{sc}
	env := bottest.New(t, bottest.WithConfig(cfg))
	if err := meeting.Module().Setup(env.Bot, cfg); err != nil {
		t.Fatal(err)
	}
	r, err := schedule.New(env.Bot, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{Env: env, runner: r}
}

// agendaIn is the text of the work meeting's notice card posted to chat.
func agendaIn(t *testing.T, f *fixture, chat string) string {
	t.Helper()
	f.tickAt(t, "2026-12-01 09:00")
	seedOpenItems(t, f)
	f.tickAt(t, "2026-12-29 09:00")
	cards := f.cards(chat)
	if len(cards) != 1 {
		t.Fatalf("%s got %d notice cards, want 1", chat, len(cards))
	}
	return bottest.CardText(cards[0])
}

// An overdue co-signature (QZ-2026-0001: team1 and group3, see
// seedOpenItems) is listed on the agenda of a meeting held in a group
// where everyone sitting may know of it — the inspection office and the
// parties — and left out altogether (no line, no count) once a member
// of another organisation sits there. The coordination group, where
// nobody is known to sit, never lists it
// (TestScheduledNoticeIsACardWithTheOpenItemsAndAnswerButtons).
func TestUnsignedCosignsOnTheAgendaOnlyWhereEveryoneMayKnow(t *testing.T) {
	text := agendaIn(t, newEnvIn(t, "office", "team1", "group3"), "签字方群")
	bottest.MustContain(t, "agenda of the parties' group", text, "三方签字未完成 QZ-2026-0001（待签：区纪委监委派驻第三纪检监察组）")

	text = agendaIn(t, newEnvIn(t, "office", "team1", "group3", "housing"), "签字方群")
	bottest.MustNotContain(t, "agenda with another organisation sitting", text, "QZ-2026-0001", "三方签字未完成", "待签")
	bottest.MustContain(t, "the rest of the agenda is still there", text, "2026-11 整改进度未报送")
}
