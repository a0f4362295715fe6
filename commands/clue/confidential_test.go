package clue

import (
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// No one outside the receiving body, the transferring team and the
// inspection office can read a clue's title or substance by any command,
// in a group or in a direct chat, and each refused read is audited.
func TestOutsidersCannotReadTheSubstance(t *testing.T) {
	outsiders := []string{
		"chenjing", // another receiving body (stationed group)
		"hejun",    // another supervision room
		"liuyang",  // a supervisor office
		"sunli",    // the case office
		"gaofeng",  // another inspection team
		"zhoutao",  // the inspected organisation itself
		"zhenghua", // the district committee
	}
	for _, who := range outsiders {
		t.Run(who, func(t *testing.T) {
			env := newEnv(t)
			id := transfer(t, env, transferZH)
			env.Command("zhaoqiang", "线索 签收 "+id)
			env.Command("zhaoqiang", "线索 核查 "+id)
			env.Command("zhaoqiang", "线索 反馈 "+id+" 约谈财务科长")
			p := env.Person(who)
			before := len(env.Adapter.Sent())

			lines := []string{
				"线索 查看 " + id, "clue show " + id, "线索 记录 " + id, "clue history " + id,
				"线索 列表", "线索 列表 我的", "线索 列表 优先", "clue list overdue",
				"线索 签收 " + id, "线索 核查 " + id, "线索 反馈 " + id + " 看看", "线索 办结 " + id + " 予以了结 无",
				"线索 退回 " + id + " 无", "线索 汇总", "线索",
			}
			var seen strings.Builder
			for _, l := range lines {
				seen.WriteString(bottest.Text(env.Command(who, l)))
				seen.WriteString(bottest.Text(direct(env, who, l)))
			}
			seen.WriteString(bottest.Text(env.Click(who, bot.Button{Action: "clue.ack", Value: id})))
			for _, o := range env.Adapter.Sent()[before:] {
				if o.UserID == p.IDs[console.Name] {
					seen.WriteString(outText(o))
				}
			}
			bottest.MustNotContain(t, who, seen.String(), substance, title, "约谈财务科长")

			// Every refused read of this clue is in the audit log.
			refusedReads := audits(t, env, func(e bot.AuditEntry) bool {
				return e.Person == who && e.Record == id && e.Result == bot.ResultRefused && (e.Action == "clue.show" || e.Action == "clue.history")
			})
			if kinds := env.Bot.People.BaseRoster().Kinds(p); canUseClues(kinds) && len(refusedReads) != 8 {
				t.Errorf("%s: %d refused reads audited, want 8", who, len(refusedReads))
			}
			if c := loadClue(t, env, id); c.Status != ClueVerifying {
				t.Errorf("%s changed the clue to %s", who, c.Status)
			}
		})
	}
}

func canUseClues(kinds []bot.PartyKind) bool {
	for _, k := range kinds {
		for _, m := range memberKinds {
			if k == m {
				return true
			}
		}
	}
	return false
}

// The entitled read the substance; in a group chat it comes by direct
// message, never in the group.
func TestEntitledReadersGetTheSubstancePrivately(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	for _, who := range []string{"zhaoqiang", "lina", "zhangwei", "wangming"} {
		p := env.Person(who)
		before := len(env.Adapter.Sent())
		resp := env.Command(who, "线索 查看 "+id)
		bottest.MustNotContain(t, who+" in the group", bottest.Text(resp), substance)
		bottest.MustContain(t, who+" in the group", bottest.Text(resp), "私信")
		sent := env.Adapter.Sent()[before:]
		if len(sent) != 1 || sent[0].UserID != p.IDs[console.Name] {
			t.Fatalf("%s: want one DM, got %+v", who, sent)
		}
		bottest.MustContain(t, who+" DM", outText(sent[0]), substance, title)
		bottest.MustContain(t, who+" direct", bottest.Text(direct(env, who, "线索 查看 "+id)), substance)
	}
	// Titles appear in lists only in a direct chat and only to the entitled.
	bottest.MustNotContain(t, "list in group", bottest.Text(env.Command("lina", "线索 列表")), title)
	bottest.MustContain(t, "list in direct chat", bottest.Text(direct(env, "lina", "线索 列表")), title)
	bottest.MustNotContain(t, "list by outsider", bottest.Text(direct(env, "chenjing", "线索 列表")), title)
}

// Across a whole flow, every message that carries the substance goes
// directly to an entitled person, and the audit log never holds it.
func TestSubstanceOnlyEverGoesToTheEntitled(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	env.Click("zhaoqiang", bot.Button{Action: "clue.ack", Value: id})
	env.Command("zhaoqiang", "线索 核查 "+id)
	env.Command("lina", "线索 查看 "+id)
	env.Command("chenjing", "线索 查看 "+id)
	env.Command("zhaoqiang", "线索 办结 "+id+" 予以了结 查无实据")
	if err := env.Bot.Jobs.Run(t.Context(), env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	r, err := env.Bot.People.Roster(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c := loadClue(t, env, id)
	for _, o := range env.Adapter.Sent() {
		if !strings.Contains(outText(o), substance) && !strings.Contains(outText(o), title) {
			continue
		}
		p, ok := r.ByPlatformID(console.Name, o.UserID)
		if o.ChatID != "" || !ok || !c.Entitled(r, p) {
			t.Errorf("confidential text sent to chat %q user %q", o.ChatID, o.UserID)
		}
	}
	for _, e := range audits(t, env, nil) {
		bottest.MustNotContain(t, "audit "+e.Action, e.Detail, substance, title)
	}
}

// A person not entitled to a clue does not learn that it exists: 陈静
// (another receiving body) and 刘洋 (a supervisor office) list nothing
// and no count; the case office lists it (the ledger) without a title;
// once 刘洋's office verifies jointly, he lists it too.
func TestListShowsOnlyCluesTheReaderMayKnowOf(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	for _, who := range []string{"chenjing", "liuyang"} {
		for _, line := range []string{"线索 列表", "线索 列表 优先", "clue list"} {
			text := bottest.Text(direct(env, who, line))
			bottest.MustNotContain(t, who+" "+line, text, id, "区财政局党组", "1 条", "共")
			bottest.MustContain(t, who+" "+line, text, env.TZ("clue.list.empty"))
		}
	}
	case_ := bottest.Text(direct(env, "sunli", "线索 列表"))
	bottest.MustContain(t, "case office", case_, id, env.TZ("clue.list.header", "count", 1))
	bottest.MustNotContain(t, "case office", case_, title)
	env.Command("zhaoqiang", "线索 签收 "+id)
	env.Command("zhaoqiang", "线索 共同核实 "+id+" 城关镇派出监察员办公室")
	bottest.MustContain(t, "joint body lists it", bottest.Text(direct(env, "liuyang", "线索 列表 我的")), id, title)
	bottest.MustContain(t, "陈静 still nothing", bottest.Text(direct(env, "chenjing", "线索 列表")), env.TZ("clue.list.empty"))
}
