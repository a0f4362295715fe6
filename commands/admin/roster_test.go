package admin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/progress"
)

func roster(t *testing.T, env *bottest.Env) *bot.Roster {
	t.Helper()
	r, err := env.Bot.People.Roster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func auditOf(t *testing.T, env *bottest.Env, action, result string) []bot.AuditEntry {
	t.Helper()
	es, err := bottest.AuditLog(context.Background(), env.Bot, func(e bot.AuditEntry) bool { return e.Action == action && e.Result == result })
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestAdministratorAppointsAnotherAdministrator(t *testing.T) {
	env := newEnv(t)
	// The only administrator cannot be removed, and says how to appoint one.
	got := bottest.Text(env.Command("wangming", "名册 移除 王明"))
	bottest.MustContain(t, "last admin", got, env.TZ("admin.roster.last_admin", "name", "王明"), "管理员:是")

	got = bottest.Text(env.Command("wangming", "名册 添加 李娜 区委巡察办 管理员:是"))
	bottest.MustContain(t, "appoint", got, env.TZ("admin.roster.appointed", "name", "李娜"))
	if p, _ := roster(t, env).Person("lina"); !p.Admin || !p.InBody("office") || !p.InBody("team1") {
		t.Fatalf("lina after appointment: %+v", p)
	}
	if es := auditOf(t, env, "roster.admin", bot.ResultOK); len(es) != 1 || es[0].Record != "lina" || es[0].Detail != "admin=true" || es[0].Person != "wangming" {
		t.Fatalf("appointment audit: %+v", es)
	}
	// The new administrator may change the roster; the old one may go.
	got = bottest.Text(env.Command("lina", "名册 移除 王明"))
	bottest.MustContain(t, "remove", got, env.TZ("admin.roster.removed", "name", "王明"))
	// English, and revoking: the last administrator cannot be revoked.
	got = bottest.Text(env.Command("lina", "roster add 李娜 office admin:no"))
	bottest.MustContain(t, "revoke last", got, env.TZ("admin.roster.last_admin_revoke", "name", "李娜"))
	if p, _ := roster(t, env).Person("lina"); !p.Admin {
		t.Fatal("the last administrator was revoked")
	}
	// A new person can be appointed at once; then revoked, audited.
	env.Command("lina", "名册 添加 钱进 区委巡察办 管理员:是")
	p, ok := roster(t, env).FindPerson("钱进")
	if !ok || !p.Admin {
		t.Fatalf("new administrator: %+v", p)
	}
	got = bottest.Text(env.Command("lina", "名册 添加 钱进 区委巡察办 管理员:否"))
	bottest.MustContain(t, "revoke", got, env.TZ("admin.roster.revoked", "name", "钱进"))
	// Already a member: only the flag changed, no membership was added.
	bottest.MustNotContain(t, "revoke", got, env.TZ("admin.roster.added", "name", "钱进", "body", "区委巡察办"))
	if es := auditOf(t, env, "roster.add", bot.ResultOK); len(es) != 2 {
		t.Errorf("roster.add audited %d times, want 2 (李娜 to the office, 钱进)", len(es))
	}
	if es := auditOf(t, env, "roster.admin", bot.ResultOK); len(es) != 3 || es[2].Detail != "admin=false" {
		t.Fatalf("admin audit: %+v", es)
	}
	// A value that is neither yes nor no, and a mistyped option, are
	// refused with an example rather than ignored.
	bottest.MustContain(t, "bad value", bottest.Text(env.Command("lina", "名册 添加 张伟 区委巡察办 管理员:也许")), "也许", "是 或 否", "正确格式示例")
	bottest.MustContain(t, "bad option", bottest.Text(env.Command("lina", "名册 添加 张伟 区委巡察办 管里员:是")), "无法识别的选项：管里员", "正确格式示例")
	if p, _ := roster(t, env).Person("zhangwei"); p.Admin || p.InBody("office") {
		t.Fatalf("refused additions changed zhangwei: %+v", p)
	}
}

func TestNamesWithBidiCharactersAreRefused(t *testing.T) {
	env := newEnv(t)
	// Zero-width and control characters never reach a command (the line
	// is cleaned first); bidi controls do, and would make a name display
	// as another in every list and card.
	for _, name := range []string{"钱\u202E进", "钱\u202D进", "钱\u2066进", "\u200F钱进", "钱进\u200E", "钱\u061C进"} {
		got := bottest.Text(env.Command("wangming", "名册 添加 "+name+" 第二监督检查室"))
		bottest.MustContain(t, "answer", got, "不可用", "正确格式示例")
		for _, r := range name {
			if r > 0x7f && r != '钱' && r != '进' && strings.ContainsRune(got, r) {
				t.Errorf("the answer echoes %U: %q", r, got)
			}
		}
		if _, ok := roster(t, env).FindPerson(name); ok {
			t.Errorf("%q was added", name)
		}
	}
	bottest.MustContain(t, "escaped", bottest.Text(env.Command("wangming", "名册 添加 钱\u202E进 第二监督检查室")), "钱U+202E进")
}

func TestAccountIDsValidatedPerPlatform(t *testing.T) {
	env := newEnv(t)
	for _, tc := range []struct{ opt, example string }{
		{"slack:bad", "slack:U04ABCDEF12"},
		{"slack:u04abcdef", "slack:U04ABCDEF12"},
		{"slack:C0DEMOCOORD", "slack:U04ABCDEF12"}, // a channel, not a user
		{"lark:ou_xyz", "lark:ou_7d8a"},
		{"lark:oc_5a1e9c", "lark:ou_7d8a"}, // a chat id
		{"console:钱{进", "console:钱进"},
	} {
		got := bottest.Text(env.Command("wangming", "名册 添加 钱进 第二监督检查室 "+tc.opt))
		bottest.MustContain(t, tc.opt, got, "格式不对", tc.example, "正确格式示例")
		if _, ok := roster(t, env).FindPerson("钱进"); ok {
			t.Fatalf("%s: the person was added", tc.opt)
		}
	}
	got := bottest.Text(env.Command("wangming", "名册 添加 钱进 第二监督检查室 slack:U04ABCDEF12 lark:ou_7d8a6e6df7621556 console:qianjin"))
	bottest.MustContain(t, "valid ids", got, env.TZ("admin.roster.added", "name", "钱进", "body", "区纪委监委第二监督检查室"))
	p, ok := roster(t, env).FindPerson("钱进")
	if !ok || p.IDs[slack.Name] != "U04ABCDEF12" || p.IDs[lark.Name] != "ou_7d8a6e6df7621556" || p.IDs[console.Name] != "qianjin" {
		t.Fatalf("ids: %+v", p)
	}
	// English answers give the example in English.
	env.Command("wangming", "lang en")
	bottest.MustContain(t, "english", bottest.Text(env.Command("wangming", "roster add QianJin room1 slack:bad")), "is not in the right form", "slack:U04ABCDEF12")
}

// 赵强 is the second supervision room's only member; the room has a clue
// to handle. Removing him warns the administrator (privately: the answer
// names the kind of work) and changes nothing until confirmed.
func TestRemovingABodysLastMemberWithOpenWorkWarns(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	c := &clue.Clue{ID: "XS-2026-0001", Body: "room2", FromBody: "team1", Status: clue.ClueTransferred}
	if err := bot.Records[clue.Clue](env.Store, clue.CollClues).Create(ctx, c.ID, c); err != nil {
		t.Fatal(err)
	}
	item := &progress.Item{ID: "ZG-2026-0001", Unit: "finance", Supervisors: []string{"room2"}, Status: progress.ItemOpen}
	// Seeded as the progress commands store it, with its index documents.
	if err := progress.Seed(ctx, env.Store, item); err != nil {
		t.Fatal(err)
	}
	want := "区纪委监委第二监督检查室：承办中的问题线索 1 条、未完成的整改事项 1 项"
	// In a direct chat the answer says it; in a group (where not every
	// platform can answer one person privately) it goes by DM and the
	// group reads only that confirmation is needed.
	got := bottest.Text(env.Direct("wangming", "名册 移除 赵强"))
	bottest.MustContain(t, "direct", got, want, "强制:是", "名册 移除 赵强 强制:是")
	env.Adapter.Reset()
	resp := env.Command("wangming", "名册 移除 赵强 第二监督检查室")
	if got := bottest.Text(resp); got != env.TZ("admin.roster.sent_privately") {
		t.Errorf("group answer: %q", got)
	}
	var dms []string
	for _, o := range env.Adapter.Sent() {
		if o.ChatID != "" {
			bottest.MustNotContain(t, "group message", o.Text+bottest.CardText(o.Card), "线索", "整改")
		}
		if o.UserID == "王明" {
			dms = append(dms, o.Text)
		}
	}
	if len(dms) != 1 {
		t.Fatalf("%d DMs to the administrator, want 1", len(dms))
	}
	bottest.MustContain(t, "dm", dms[0], want, "名册 移除 赵强 第二监督检查室 强制:是")
	if p, ok := roster(t, env).Person("zhaoqiang"); !ok || !p.InBody("room2") {
		t.Fatal("removed without confirmation")
	}
	if es := auditOf(t, env, "roster.remove", bot.ResultRefused); len(es) != 2 || es[0].Record != "zhaoqiang" {
		t.Errorf("unconfirmed removals audit: %+v", es)
	}
	got = bottest.Text(env.Command("wangming", "名册 移除 赵强 第二监督检查室 强制:是"))
	bottest.MustContain(t, "forced", got, env.TZ("admin.roster.removed", "name", "赵强"))
	if _, ok := roster(t, env).Person("zhaoqiang"); ok {
		t.Fatal("not removed with force")
	}
	if es := auditOf(t, env, "roster.remove", bot.ResultOK); len(es) != 1 || !strings.Contains(es[0].Detail, "force") {
		t.Errorf("forced removal audit: %+v", es)
	}
	// A body with members left, or without open work, needs no confirmation.
	bottest.MustContain(t, "no work", bottest.Text(env.Command("wangming", "名册 移除 郑华")), env.TZ("admin.roster.removed", "name", "郑华"))
}

// The English roster uses ASCII punctuation and English names.
func TestEnglishRosterUsesASCIIPunctuation(t *testing.T) {
	env := newEnv(t)
	env.Command("lina", "lang en")
	got := bottest.Text(env.Command("lina", "roster"))
	bottest.MustContain(t, "roster", got, "[inspection team]", "• 1st Inspection Team (team1): Li Na, Zhang Wei")
	bottest.MustNotContain(t, "roster", got, "：", "【", "】", "区委第一巡察组")
}

// whoami names the platform in the reader's language.
func TestWhoamiNamesThePlatformInTheReadersLanguage(t *testing.T) {
	env := newEnv(t)
	bottest.MustContain(t, "zh", bottest.Text(env.Command("lina", "我是谁")), "控制台")
	env.Command("lina", "lang en")
	got := bottest.Text(env.Command("lina", "whoami"))
	bottest.MustContain(t, "en", got, "console")
	bottest.MustNotContain(t, "en", got, "控制台")
}
