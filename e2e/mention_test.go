package e2e_test

import (
	"context"
	"testing"

	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// personByID returns the roster person with platform id uid, or nil.
func personByID(t *testing.T, env *bottest.Env, p bot.Platform, uid string) *bot.Person {
	t.Helper()
	r, err := env.Bot.People.Roster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	person, _ := r.ByPlatformID(p, uid)
	return person
}

// Onboarding on Slack: a newcomer is shown their own account id; the
// administrator adds them by @-mention (<@U…|name>, as Slack writes it);
// a mention is resolved to the roster person wherever a person is typed,
// and to that person's body where a body is.
func TestMentionsAndOnboardingOnSlack(t *testing.T) {
	s := newSlack(t)
	env := s.e
	const newcomer = "U0QIANJIN"
	got := s.directAs(newcomer, "帮助")
	bottest.MustContain(t, "newcomer", got, "slack:"+newcomer, "王明")

	got = s.command("wangming", "名册 添加 <@"+newcomer+"|钱进> 第二监督检查室")
	bottest.MustContain(t, "add by mention", got, env.TZ("admin.roster.added", "name", "钱进", "body", "区纪委监委第二监督检查室"))
	p := personByID(t, env, slack.Name, newcomer)
	if p == nil || p.Name != "钱进" || !p.InBody("room2") {
		t.Fatalf("newcomer in the roster as %+v", p)
	}
	got = s.directAs(newcomer, "我是谁")
	bottest.MustContain(t, "newcomer recognised", got, "区纪委监委第二监督检查室")
	bottest.MustNotContain(t, "newcomer recognised", got, "slack:"+newcomer)

	// A mention where a person is typed (roster show), in a direct
	// message and as an app mention's text, with and without the name.
	got = s.direct("wangming", "名册 <@U0ZHAOQIANG>")
	bottest.MustContain(t, "roster show by mention", got, "赵强", "区纪委监委第二监督检查室")
	// Where a body is typed: the co-signature's responsible unit given as
	// the finance bureau's contact, 周涛.
	// Typed in the coordination group, where other organisations sit, the
	// answer naming the request reaches 李娜 directly.
	s.command("lina", `会签 新建 "公务用车登记不规范" 巡察组:第一巡察组 监督:派驻第三纪检监察组 单位:<@U0ZHOUTAO|周涛>`)
	bottest.MustContain(t, "body by mention", awaitDMs(s, "lina", "QZ-2026-0001"), "QZ-2026-0001", "区财政局党组")
}

// directAs sends a direct message from a Slack user who may not be in
// the roster and returns the answer.
func (s *slackPlatform) directAs(uid, line string) string {
	s.t.Helper()
	before := len(s.fake.DMs(uid))
	res, err := s.client.Event(slacktest.DirectMessage(s.ids.next("Ev"), uid, slacktest.DMChannel(uid), line))
	if err != nil {
		s.t.Fatal(err)
	}
	if res.Status != 200 {
		s.t.Fatalf("message.im: status %d", res.Status)
	}
	s.fake.AwaitFunc("answer in the DM of "+uid, func() bool { return len(s.fake.DMs(uid)) > before })
	return slackText(s.fake.DMs(uid)[before:])
}

// The same on Lark, plain and encrypted: in a text message a mention is
// a key (@_user_2) with the open_id in the mentions array; a rich-text
// (post) message that @-mentions the bot is read like a text one.
func TestMentionsAndOnboardingOnLark(t *testing.T) {
	for _, key := range []string{"", "mention encrypt key"} {
		t.Run("encrypted="+map[bool]string{true: "yes", false: "no"}[key != ""], func(t *testing.T) {
			l := newLark(t, key)
			env := l.e
			const newcomer = "ou_qianjin"
			ev := l.ids.next("ev")
			got := l.message(larktest.P2PMessage(ev, newcomer, "帮助"), ev, newcomer)
			bottest.MustContain(t, "newcomer", got, "lark:"+newcomer, "王明")

			qian := larktest.Mention{Key: "@_user_2", OpenID: newcomer, Name: "钱进"}
			ev = l.ids.next("ev")
			got = l.message(larktest.MessageEvent(larktest.Message{
				EventID: ev, ChatType: "group", ChatID: larkCoord, Sender: l.userID("wangming"),
				Text: "@_user_1 名册 添加 @_user_2 第二监督检查室", Mentions: []larktest.Mention{larktest.BotMention("@_user_1"), qian},
			}), ev, l.userID("wangming"))
			bottest.MustContain(t, "add by mention", got, env.TZ("admin.roster.added", "name", "钱进", "body", "区纪委监委第二监督检查室"))
			p := personByID(t, env, lark.Name, newcomer)
			if p == nil || p.Name != "钱进" || !p.InBody("room2") {
				t.Fatalf("newcomer in the roster as %+v", p)
			}
			got = l.direct("wangming", "名册 钱进")
			bottest.MustContain(t, "roster show by name", got, "钱进", "区纪委监委第二监督检查室")

			// A post message: @巡纪 名册 @赵强, formatted text.
			zhao := larktest.Mention{Key: "@_user_2", OpenID: l.userID("zhaoqiang"), Name: "赵强"}
			ev = l.ids.next("ev")
			got = l.message(larktest.MessageEvent(larktest.Message{
				EventID: ev, ChatType: "group", ChatID: larkCoord, Sender: l.userID("wangming"), MsgType: "post",
				Text: "@_user_1 名册 @_user_2", Mentions: []larktest.Mention{larktest.BotMention("@_user_1"), zhao},
			}), ev, l.userID("wangming"))
			bottest.MustContain(t, "post message with a mention", got, "赵强", "区纪委监委第二监督检查室")

			// A mention where a body is typed.
			zhou := larktest.Mention{Key: "@_user_2", OpenID: l.userID("zhoutao"), Name: "周涛"}
			ev = l.ids.next("ev")
			got = l.message(larktest.MessageEvent(larktest.Message{
				EventID: ev, ChatType: "group", ChatID: larkCoord, Sender: l.userID("lina"),
				Text:     `@_user_1 会签 新建 "公务用车登记不规范" 巡察组:第一巡察组 监督:派驻第三纪检监察组 单位:@_user_2`,
				Mentions: []larktest.Mention{larktest.BotMention("@_user_1"), zhou},
			}), ev, l.userID("lina"))
			bottest.MustNotContain(t, "answer in the group", got, "QZ-2026-0001")
			bottest.MustContain(t, "body by mention", awaitDMs(l, "lina", "QZ-2026-0001"), "QZ-2026-0001", "区财政局党组")
		})
	}
}

// On Lark an administrator can also add a person by the mobile number or
// e-mail their organisation registered: the adapter asks the contact API
// (batch_get_id, through the SDK client) for the open_id.
func TestAddByMobileOrEmailOnLark(t *testing.T) {
	l := newLark(t, "contact encrypt key")
	env := l.e
	l.fake.AddUser("ou_qianjin", "+8613800000000", "qianjin@example.gov.cn")
	l.fake.AddUser("ou_sunmei", "", "sunmei@example.gov.cn")

	got := l.command("wangming", "名册 添加 钱进 第二监督检查室 手机:+8613800000000")
	bottest.MustContain(t, "add by mobile", got, env.TZ("admin.roster.added", "name", "钱进", "body", "区纪委监委第二监督检查室"))
	if p := personByID(t, env, lark.Name, "ou_qianjin"); p == nil || p.Name != "钱进" {
		t.Fatalf("added by mobile as %+v", p)
	}
	got = l.direct("wangming", "名册 添加 孙梅 第一监督检查室 邮箱:sunmei@example.gov.cn")
	bottest.MustContain(t, "add by e-mail", got, env.TZ("admin.roster.added", "name", "孙梅", "body", "区纪委监委第一监督检查室"))
	if p := personByID(t, env, lark.Name, "ou_sunmei"); p == nil || p.Name != "孙梅" {
		t.Fatalf("added by e-mail as %+v", p)
	}
	// The new person is recognised when they write.
	ev := l.ids.next("ev")
	got = l.message(larktest.P2PMessage(ev, "ou_qianjin", "我是谁"), ev, "ou_qianjin")
	bottest.MustContain(t, "recognised", got, "区纪委监委第二监督检查室")

	// Nobody with that number: refused, nobody added.
	got = l.command("wangming", "名册 添加 赵六 第二监督检查室 手机:+8613900000000")
	bottest.MustContain(t, "unknown mobile", got, env.TZ("admin.roster.no_contact", "value", "+8613900000000"), "正确格式示例")
	r, err := env.Bot.People.Roster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.FindPerson("赵六"); ok {
		t.Error("a person was added for an unknown mobile number")
	}
}

// A mention echoed in an answer (a person not in the roster) is shown as
// the platform's mention, never as the internal @{…} word.
func TestEchoedMentionIsShownAsAMention(t *testing.T) {
	s := newSlack(t)
	got := s.direct("wangming", "名册 <@U0NOBODY|nobody>")
	bottest.MustContain(t, "echo", got, "<@U0NOBODY>")
	bottest.MustNotContain(t, "echo", got, "@{slack:")
}
