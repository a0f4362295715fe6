package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/round"
)

// seedRound stores the demo round, as the consultation tests do.
func seedRound(t *testing.T, env *bottest.Env) {
	t.Helper()
	d := func(m, day int) time.Time { return time.Date(2026, time.Month(m), day, 0, 0, 0, 0, env.Bot.Loc) }
	r := &round.Round{ID: "XC-2026-0001", Name: "区委第一巡察组巡察区财政局党组", Team: "team1", Organisation: "finance",
		Attached: []string{"room2", "group3"}, Start: d(9, 1), End: d(10, 31), Feedback: d(11, 20), CreatedBy: "wangming"}
	if err := round.Seed(context.Background(), env.Store, r); err != nil {
		t.Fatal(err)
	}
}

func clueOf(t *testing.T, env *bottest.Env, id string) *clue.Clue {
	t.Helper()
	c, err := bot.Records[clue.Clue](env.Store, clue.CollClues).Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A full-width colon separates an option like an ASCII one, but not in
// quoted text; a reason or an answer written "label：text" is text where
// the sub-command takes free text (会签 退回, 征询 回复, 线索 退回).
func TestFullWidthColon(t *testing.T) {
	env := fullBot(t)
	seedRound(t, env)
	got := bottest.Text(env.Command("lina", `线索 移送 第二监督检查室 区财政局党组 "违规发放补贴" "期限：写在引号里" 期限：12-31`))
	bottest.MustContain(t, "transfer", got, "XS-2026-0001")
	c := clueOf(t, env, "XS-2026-0001")
	if want := bottest.Day(2026, 12, 31); !c.Deadline.Equal(want) {
		t.Errorf("deadline %s from 期限：12-31, want %s", c.Deadline, want)
	}
	if c.Substance != "期限：写在引号里" {
		t.Errorf("quoted substance %q: the colon inside quotes must stay text", c.Substance)
	}

	// 会签 退回 … 原因：台账未补齐 — the reason is the text, 代表： still an option.
	got = bottest.Text(env.Direct("wangming", `会签 新建 "公务用车登记不规范" 巡察组:第一巡察组 监督:派驻第三纪检监察组 单位:区财政局党组`))
	bottest.MustContain(t, "cosign new", got, "QZ-2026-0001")
	got = bottest.Text(env.Direct("zhoutao", "会签 退回 QZ-2026-0001 原因：台账未补齐"))
	bottest.MustNotContain(t, "decline with 原因：", got, env.TZ("cosign.err.no_reason"))
	cs, err := bot.Records[cosign.Cosign](env.Store, cosign.CollCosigns).Get(context.Background(), "QZ-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range cs.Parties {
		found = found || strings.Contains(p.Reason, "台账未补齐")
	}
	if !found {
		t.Errorf("decline reason not recorded: %s\n%+v", got, cs.Parties)
	}

	// 征询 回复 … 补充：… is the answer, not an unknown option.
	got = bottest.Text(env.Command("wangming", `征询 新建 XC-2026-0001 区委组织部 区审计局 期限:2026-12-03`))
	bottest.MustContain(t, "consult new", got, "ZX-2026-0001")
	got = bottest.Text(env.Command("maping", "征询 回复 ZX-2026-0001 补充：另有1件已办结"))
	bottest.MustNotContain(t, "reply with 补充：", got, "不认识的选项")
	bottest.MustContain(t, "reply with 补充：", got, env.TZ("consult.answered.text", "dept", "区审计局", "id", "ZX-2026-0001"))
}

// Quotes must pair up: a stray or open quote is refused with the command's
// example, never stored as part of the text.
func TestUnbalancedQuoteIsRefused(t *testing.T) {
	for _, line := range []string{
		`线索 移送 第二监督检查室 区财政局党组 "标题 "内容"`,
		`线索 移送 第二监督检查室 区财政局党组 "标题" "内容`,
		`线索 移送 第二监督检查室 区财政局党组 “标题” 内容”`,
		`线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:"12-31`,
	} {
		env := fullBot(t)
		got := bottest.Text(env.Command("lina", line))
		bottest.MustContain(t, line, got, "引号不成对", env.TZ("error.example", "example", env.TZ("cmd.clue.transfer.example")))
		if _, err := bot.Records[clue.Clue](env.Store, clue.CollClues).Get(context.Background(), "XS-2026-0001"); !bot.IsNotFound(err) {
			t.Errorf("%s: a clue was stored (%v)", line, err)
		}
	}
	// Balanced quotes inside a word are fine: 关于“三公”经费.
	env := fullBot(t)
	got := bottest.Text(env.Command("lina", `线索 移送 第二监督检查室 区财政局党组 关于“三公”经费 内容`))
	bottest.MustContain(t, "balanced quotes in a word", got, "XS-2026-0001")
}

// An option typed twice is refused naming it, not silently the last one.
func TestDuplicateOptionIsRefused(t *testing.T) {
	env := fullBot(t)
	got := bottest.Text(env.Command("lina", `线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:12-21 期限:12-23`))
	bottest.MustContain(t, "duplicate", got, env.TZ("error.duplicate_option", "option", "期限"), "正确格式示例")
	if _, err := bot.Records[clue.Clue](env.Store, clue.CollClues).Get(context.Background(), "XS-2026-0001"); !bot.IsNotFound(err) {
		t.Errorf("a clue was stored (%v)", err)
	}
}

// Lengths count characters, as the messages say: a 3,000-character
// Chinese substance (9,000 bytes) is accepted, a 4,001-character one is
// refused with the 4,000-字 limit.
func TestSubstanceLengthCountsCharacters(t *testing.T) {
	env := fullBot(t)
	ok := strings.Repeat("补", 3000)
	got := bottest.Text(env.Command("lina", `线索 移送 第二监督检查室 区财政局党组 标题 "`+ok+`"`))
	bottest.MustContain(t, "3,000 characters", got, "XS-2026-0001")
	if c := clueOf(t, env, "XS-2026-0001"); c.Substance != ok {
		t.Errorf("substance of %d characters stored, want 3000", len([]rune(c.Substance)))
	}
	got = bottest.Text(env.Command("lina", `线索 移送 第二监督检查室 区财政局党组 标题 "`+strings.Repeat("补", 4001)+`"`))
	bottest.MustContain(t, "4,001 characters", got, "4000 个字")
	bottest.MustNotContain(t, "4,001 characters", got, "XS-2026-0002")
	// The whole line is bounded in characters too, and says so.
	got = bottest.Text(env.Command("lina", strings.Repeat("补", bot.MaxLineLen+1)))
	bottest.MustContain(t, "line limit", got, env.TZ("error.too_long", "max", bot.MaxLineLen), "个字")
}

// 12-01 typed on 12-06 is past this year: refused with both readings and
// the way to write the year, at every test instant (December, New Year's
// Eve, …), for clue and consultation deadlines.
func TestPastMonthDayIsAmbiguous(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		env := fullBot(t)
		env.Clock.Set(now)
		seedRound(t, env)
		today := bottest.Today(now)
		yesterday := today.AddDate(0, 0, -1)
		typed := yesterday.Format("1-02")
		past := yesterday.Format("2006-01-02")
		next := bottest.Day(yesterday.Year()+1, yesterday.Month(), yesterday.Day()).Format("2006-01-02")
		if yesterday.Year() < today.Year() {
			// New Year's Day: nothing of this year is past; 12-31 is this
			// year's, still to come, and taken without a question.
			got := bottest.Text(env.Command("lina", "线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:"+typed))
			bottest.MustContain(t, "clue deadline "+typed, got, "XS-")
			if c := clueOf(t, env, strings.Fields(got[strings.Index(got, "XS-"):])[0][:12]); !c.Deadline.Equal(bottest.Day(today.Year(), 12, 31)) {
				t.Errorf("deadline %s, want %d-12-31", c.Deadline, today.Year())
			}
			return
		}
		want := env.TZ("error.ambiguous_date", "input", typed, "past", past, "next", next)
		got := bottest.Text(env.Command("lina", "线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:"+typed))
		bottest.MustContain(t, "clue deadline "+typed, got, want, "正确格式示例")
		got = bottest.Text(env.Command("wangming", "征询 新建 XC-2026-0001 区委组织部 期限:"+typed))
		bottest.MustContain(t, "consult deadline "+typed, got, want)
		// Written with its year, next year's day is taken.
		got = bottest.Text(env.Command("lina", "线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:"+next))
		bottest.MustContain(t, "clue deadline "+next, got, "XS-")
	})
}

// The case: 期限:12-01 typed on 2026-12-06.
func TestTwelveFirstTypedOnDecemberSixth(t *testing.T) {
	env := fullBot(t)
	env.Clock.Set(time.Date(2026, 12, 6, 10, 0, 0, 0, bottest.Shanghai))
	got := bottest.Text(env.Command("lina", "线索 移送 第二监督检查室 区财政局党组 标题 内容 期限:12-01"))
	bottest.MustContain(t, "12-01 on 12-06", got, "2026-12-01", "2027-12-01", "请写上年份")
	bottest.MustNotContain(t, "12-01 on 12-06", got, "XS-")
}

// A word after a verb that is none of its sub-commands is answered as
// such, for every domain command (those with a default sub-command too),
// with the list of sub-commands; a near miss names the closest.
func TestMistypedSubcommandOfEveryCommand(t *testing.T) {
	env := fullBot(t)
	for _, c := range env.Bot.Router.Commands() {
		if len(c.Subs) == 0 || c.Hidden {
			continue
		}
		for _, who := range []string{"wangming", "lina"} {
			got := bottest.Text(env.Command(who, c.Aliases[0]+" 搞定 QZ-2026-0001"))
			if c.Run != nil {
				// 名册 <单位或姓名> takes a name after the verb: the answer
				// says nothing matches it, with the right form.
				bottest.MustContain(t, c.Name, got, "搞定", "正确格式示例")
				continue
			}
			bottest.MustContain(t, c.Name, got, env.TZ("error.unknown_sub", "verb", c.LocalName("zh-CN"), "sub", "搞定"), "可用的子命令", c.Subs[0].LocalName("zh-CN"))
		}
	}
	got := bottest.Text(env.Command("lina", "会签 搞定 QZ-2026-0001"))
	bottest.MustNotContain(t, "会签 搞定", got, "不是共同签字编号")
	got = bottest.Text(env.Command("lina", "线索 移宋 第二监督检查室"))
	bottest.MustContain(t, "near miss", got, env.TZ("error.unknown_sub_suggest", "verb", "线索", "sub", "移宋", "suggestions", "移送"))
	// A record id after a verb with a default sub-command still goes there.
	got = bottest.Text(env.Command("lina", "会签 QZ-2026-0001"))
	bottest.MustContain(t, "default sub-command", got, "QZ-2026-0001")
	bottest.MustNotContain(t, "default sub-command", got, "可用的子命令")
}

// 帮助 线索 移送 prints the help of that sub-command only.
func TestHelpForOneSubcommand(t *testing.T) {
	env := fullBot(t)
	got := bottest.Text(env.Command("lina", "帮助 线索 移送"))
	bottest.MustContain(t, "help clue transfer", got, env.TZ("cmd.clue.transfer.summary"), env.TZ("cmd.clue.transfer.usage"), env.TZ("cmd.clue.transfer.example"))
	bottest.MustNotContain(t, "help clue transfer", got, env.TZ("cmd.clue.list.summary"), env.TZ("cmd.clue.summary"))
	got = bottest.Text(env.Command("lina", "帮助 线索 搞定"))
	bottest.MustContain(t, "help of no sub-command", got, env.TZ("error.unknown_sub", "verb", "线索", "sub", "搞定"))
}

// The console reads a line as a group chat would: a leading @巡纪 is the
// mention of the bot and is dropped; "私聊" switches to a private chat
// with the bot (shown in the prompt), where the clue tip "建议在与巡纪的
// 私聊中移送" is followed and a clue's substance is answered in place;
// "切换" to a name not in the roster is refused with the names.
func TestConsoleMentionDirectModeAndSwitch(t *testing.T) {
	cat := fullCatalog(t)
	out := runConsole(t, t.TempDir(), strings.Join([]string{
		"@巡纪 线索 列表",
		"切换 钱多多",
		"切换 李娜",
		"线索 移送 第二监督检查室 区财政局党组 群里移送 群里的内容",
		"私聊",
		"线索 移送 第二监督检查室 区财政局党组 私聊移送 私聊的内容",
		"线索 查看 XS-2026-0003",
		"群聊",
		"我是谁",
	}, "\n")+"\n")
	for _, want := range []string{
		"XS-2026-0001", // 线索 列表 answered: the demo clue
		cat.T("zh-CN", "console.as_unknown", "name", "钱多多", "names", "王明、李娜"),
		cat.T("zh-CN", "console.dm"),
		cat.T("zh-CN", "console.prompt_dm", "name", "李娜"),
		"私聊的内容", // the substance, shown in the private chat
		cat.T("zh-CN", "console.group", "chat", "巡纪协作群"),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console output lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{
		cat.T("zh-CN", "error.unknown_verb_suggest", "verb", "@巡纪", "suggestions", "help"),
		cat.T("zh-CN", "console.as", "name", "钱多多"),
		"钱多多> ",
	} {
		if strings.Contains(out, bad) {
			t.Errorf("console output has %q:\n%s", bad, out)
		}
	}
	// The tip to move to a private chat comes once: after the group
	// transfer, not after the private one.
	if n := strings.Count(out, cat.T("zh-CN", "clue.tip.direct")); n != 1 {
		t.Errorf("tip shown %d times, want once (the group transfer):\n%s", n, out)
	}
}

// An organisation a typing slip away from one in the roster is refused
// naming it, not made a new organisation; one far from every roster name
// is still taken by the name typed (rosters list only the bodies the bot
// talks to).
func TestOrganisationTypoIsRefused(t *testing.T) {
	env := fullBot(t)
	got := bottest.Text(env.Command("lina", "线索 移送 第二监督检查室 区财政局党租 标题 内容"))
	bottest.MustContain(t, "typo", got, env.TZ("clue.error.close_org", "name", "区财政局党租", "bodies", "区财政局党组"), "正确格式示例")
	if _, err := bot.Records[clue.Clue](env.Store, clue.CollClues).Get(context.Background(), "XS-2026-0001"); !bot.IsNotFound(err) {
		t.Errorf("a clue was stored for the typo (%v)", err)
	}
	got = bottest.Text(env.Command("lina", "线索 移送 第二监督检查室 区教育局党组 标题 内容"))
	bottest.MustContain(t, "organisation outside the roster", got, "XS-2026-0001")
	if c := clueOf(t, env, "XS-2026-0001"); c.OrganisationName != "区教育局党组" || c.Organisation != "" {
		t.Errorf("organisation %q (%q), want 区教育局党组 by name", c.OrganisationName, c.Organisation)
	}
}

// The rectification commands refuse an organisation typo naming the
// close one, too.
func TestProgressUnitTypoNamesTheCloseUnit(t *testing.T) {
	env := fullBot(t)
	want := env.TZ("progress.error.close_unit", "input", "区财政局党租", "bodies", "区财政局党组")
	got := bottest.Text(env.Command("wangming", `进度 新建 区财政局党租 "标题" 期限:2027-02-28 监督:第二监督检查室`))
	bottest.MustContain(t, "progress new", got, want)
	got = bottest.Text(env.Command("wangming", "进度 列表 区财政局党租"))
	bottest.MustContain(t, "progress list", got, want)
}

// Without a platform that can look people up (no Lark here), adding by
// mobile number says so and how to add instead.
func TestAddByMobileWithoutLark(t *testing.T) {
	env := fullBot(t)
	got := bottest.Text(env.Command("wangming", "名册 添加 钱进 第二监督检查室 手机:+8613800000000"))
	bottest.MustContain(t, "no finder", got, env.TZ("error.no_user_finder"))
	r, err := env.Bot.People.Roster(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.FindPerson("钱进"); ok {
		t.Error("added without an id")
	}
}
