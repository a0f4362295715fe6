package progress

import (
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/clue"
)

// The monthly notice also goes to the collaborating bodies the speech
// names (progress.notice_to, by default the supervision rooms, stationed
// groups, supervisor offices, grassroots commissions and the case
// office), each only what it is entitled to: the items it supervises and
// the clues it received — all clues for the case office, which keeps
// their ledger — never a clue's title or substance, never another
// body's clue. The office's own notice is unchanged; a repeated run
// sends nothing again.
func TestMonthlyNoticeReachesTheCollaboratingBodiesWithWhatEachMayKnow(t *testing.T) {
	env, _, _, _, _ := noticeSetup(t)
	clue := func(id, body string, deadline time.Time) {
		c := &clue.Clue{ID: id, FromBody: "team1", Body: body, OrganisationName: "区财政局党组", Title: "机密标题" + id, Substance: "机密内容" + id,
			Status: clue.ClueTransferred, CreatedBy: "lina", CreatedAt: at(env, 2026, 11, 20, 9, 0)}
		c.Deadline = deadline
		if err := bot.Records[clue.Clue](env.Store, clue.CollClues).Create(ctx, id, c); err != nil {
			t.Fatal(err)
		}
	}
	clue("XS-2026-0001", "room2", bottest.Day(2026, 12, 31))
	clue("XS-2026-0002", "group3", bottest.Day(2026, 12, 1)) // overdue: listed by number
	at(env, 2026, 12, 10, 10, 0)
	env.Adapter.Reset()
	runTask(t, env, TaskMonthlyNotice)

	card := func(person string) string {
		t.Helper()
		dms := sentTo(env, person)
		if len(dms) != 1 || dms[0].Card == nil {
			t.Fatalf("%s got %d notices, want 1", person, len(dms))
		}
		text := outText(dms[0])
		for _, secret := range []string{"机密标题", "机密内容"} {
			notContains(t, text, secret)
		}
		return text
	}
	room2 := card("赵强")
	contains(t, room2, env.TZ("progress.notice.title_for", "month", "2026年12月", "body", "区纪委监委第二监督检查室"))
	contains(t, room2, env.TZ("progress.notice.scoped_total", "total", 1, "done", 0, "awaiting", 0, "open", 1, "overdue", 0, "unreported", 0, "rate", 0, "average", 60))
	contains(t, room2, "线索·区纪委监委第二监督检查室")
	for _, other := range []string{"城关镇党委", "区住建局党组", "派驻第三纪检监察组", "XS-2026-0002", "建议专项督查"} {
		notContains(t, room2, other)
	}
	group3 := card("陈静")
	contains(t, group3, env.TZ("progress.notice.scoped_total", "total", 2, "done", 1, "awaiting", 0, "open", 1, "overdue", 0, "unreported", 0, "rate", 50, "average", 80))
	contains(t, group3, "XS-2026-0002")
	notContains(t, group3, "第二监督检查室")
	hexi := card("罗霞")
	contains(t, hexi, env.TZ("progress.notice.scoped_no_items"))
	contains(t, hexi, env.TZ("progress.notice.clue.none"))
	caseOffice := card("孙丽")
	contains(t, caseOffice, env.TZ("progress.notice.scoped_legend_case", "body", "区纪委监委案件监督管理室"))
	contains(t, caseOffice, "线索·区纪委监委第二监督检查室")
	contains(t, caseOffice, "XS-2026-0002")
	notContains(t, caseOffice, "区财政局党组: ")
	contains(t, card("何军"), "区住建局党组") // room1 supervises the housing item
	contains(t, card("刘洋"), "城关镇党委")
	for _, p := range []string{"周涛", "吴芳", "李娜", "郑华"} {
		if n := len(sentTo(env, p)); n != 0 {
			t.Errorf("%s, not a collaborating body, got %d notices", p, n)
		}
	}
	contains(t, outText(postedIn(env, "巡察办工作群")[0]), "建议专项督查")
	if a := audits(t, env, "progress.notice.body"); len(a) != 6 {
		t.Errorf("collaborator notices audited %d times, want 6", len(a))
	}
	runTask(t, env, TaskMonthlyNotice)
	if n := len(sentTo(env, "赵强")); n != 1 {
		t.Errorf("a repeated run sent room2 %d notices", n)
	}
}

// notice_to is configurable: an empty list keeps the notice in the
// office's group; a body of another kind or an unknown name stops the
// start-up with the key named.
func TestNoticeToIsConfigurable(t *testing.T) {
	env := newEnv(t, withConfig(func(c *config.Config) { changeSettings(c, func(s *Settings) { s.NoticeTo = []string{} }) }))
	create(t, env, financeItem)
	env.Adapter.Reset()
	runTask(t, env, TaskMonthlyNotice)
	if n := len(sentTo(env, "赵强")) + len(sentTo(env, "孙丽")); n != 0 {
		t.Errorf("notice_to: [] still sent %d notices to bodies", n)
	}
	for _, bad := range [][]string{{"finance"}, {"nobody"}} {
		cfg := config.Demo()
		changeSettings(cfg, func(s *Settings) { s.NoticeTo = bad })
		env := bottest.New(t, bottest.WithConfig(cfg))
		if err := Module().Setup(env.Bot, cfg); err == nil || !strings.Contains(err.Error(), "progress.notice_to[0]") {
			t.Errorf("notice_to %v: error %v", bad, err)
		}
	}
}
