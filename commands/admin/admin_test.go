package admin_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/admin"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/consult"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/progress"
)

// newEnv starts a bot on the demo district with the admin commands,
// knowing the platforms the program has (their id forms).
func newEnv(t *testing.T, extra ...*bot.Command) *bottest.Env {
	t.Helper()
	env := bottest.New(t, bottest.WithPlatforms(slack.Platform(), lark.Platform()))
	if err := admin.Module(openWork).Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	env.Must(extra...)
	return env
}

// openWork counts the open work of each domain, as cmd/xunji passes it.
func openWork(b *bot.Bot) []admin.OpenWork {
	clues, items := clue.NewQueries(b.Store, b.Loc), progress.NewQueries(b.Store, b.Loc)
	cosigns, consults := cosign.NewQueries(b.Store), consult.NewQueries(b.Store)
	return []admin.OpenWork{
		{Kind: "clue", Count: count(clues.OpenReceivedBy)},
		{Kind: "item", Count: count(items.OpenItemsOf)},
		{Kind: "cosign", Count: count(cosigns.AwaitingSignatureOf)},
		{Kind: "consult", Count: count(consults.UnansweredBy)},
	}
}

func count[T any](query func(context.Context, string) ([]T, error)) func(context.Context, string) (int, error) {
	return func(ctx context.Context, body string) (int, error) {
		recs, err := query(ctx, body)
		return len(recs), err
	}
}

func TestHelpListsCommandsInChinese(t *testing.T) {
	env := newEnv(t)
	for _, line := range []string{"help", "帮助", "/帮助", "@巡纪 帮助"[len("@巡纪 "):]} {
		got := bottest.Text(env.Command("lina", line))
		for _, want := range []string{env.TZ("help.header"), "名册（人员、roster）", env.TZ("cmd.roster.summary"), "whoami", env.TZ("cmd.lang.summary")} {
			if !strings.Contains(got, want) {
				t.Errorf("%q: answer lacks %q:\n%s", line, want, got)
			}
		}
	}
}

func TestHelpForOneVerbShowsUsageAndExamples(t *testing.T) {
	env := newEnv(t)
	got := bottest.Text(env.Command("lina", "帮助 名册"))
	for _, want := range []string{env.TZ("cmd.roster.add.usage"), env.TZ("cmd.roster.add.example"), "添加（加入、add）"} {
		if !strings.Contains(got, want) {
			t.Errorf("help roster lacks %q:\n%s", want, got)
		}
	}
	got = bottest.Text(env.Command("lina", "help nosuch"))
	if !strings.Contains(got, env.TZ("error.unknown_verb", "verb", "nosuch")) || !strings.Contains(got, env.TZ("cmd.help.example")) {
		t.Errorf("help for an unknown verb: %s", got)
	}
}

// Suggestions and the unknown sub-command answer name commands as the
// reader knows them: Chinese names in Chinese, English ones in English.
func TestUnknownVerbSuggestsClosest(t *testing.T) {
	noop := func(context.Context, *bot.Request) (*bot.Response, error) { return bot.Text("ok"), nil }
	env := newEnv(t, &bot.Command{Name: "widget", Aliases: []string{"部件"}, Subs: []*bot.Subcommand{{Name: "move", Aliases: []string{"移送"}, Run: noop}}})
	got := bottest.Text(env.Command("lina", "rostr"))
	if got != env.TZ("error.unknown_verb_suggest", "verb", "rostr", "suggestions", "名册") {
		t.Errorf("unknown verb answer: %s", got)
	}
	got = bottest.Text(env.Command("lina", "名"))
	bottest.MustContain(t, "a Chinese prefix", got, "名册")
	bottest.MustNotContain(t, "a Chinese prefix", got, "roster", "help")
	got = bottest.Text(env.Command("lina", "widget 移宋"))
	bottest.MustContain(t, "unknown sub-command", got, env.TZ("error.unknown_sub", "sub", "移宋", "verb", "部件"))
	got = bottest.Text(env.Command("lina", "zzzzzzzz"))
	if got != env.TZ("error.unknown_verb", "verb", "zzzzzzzz") {
		t.Errorf("nothing close: %s", got)
	}
	env.Command("lina", "lang en")
	got = bottest.Text(env.Command("lina", "名"))
	bottest.MustContain(t, "english", got, "Did you mean: ", "roster")
	bottest.MustNotContain(t, "english", got, "名册")
	bottest.MustContain(t, "english sub-command", bottest.Text(env.Command("lina", "部件 mov")), `"widget" has no sub-command "mov"`)
}

func TestEmptyAndHostileInputAnswered(t *testing.T) {
	env := newEnv(t)
	for _, line := range []string{"", "   ", "/", "\u200b", "“”", "😀😀😀", strings.Repeat("线", 9000), "\x00\xff", `"`, "：：：", "名册 添加"} {
		resp := env.Command("lina", line)
		if got := bottest.Text(resp); got == "" {
			t.Errorf("input %q got no answer", line)
		}
	}
	if got := bottest.Text(env.Command("lina", "")); got != env.TZ("error.empty") {
		t.Errorf("empty command: %q", got)
	}
}

func TestUnknownUserGetsPoliteAnswerAndNothingChanges(t *testing.T) {
	env := newEnv(t)
	resp := env.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindCommand, Platform: slack.Name, UserID: "U999", UserName: "stranger", Text: "roster add 钱进 room2"})
	got := bottest.Text(resp)
	if !strings.Contains(got, "王明") || !strings.Contains(got, "stranger") {
		t.Errorf("unknown user answer should name the user and the administrator: %s", got)
	}
	if docs, _ := env.Store.List(context.Background(), bot.CollRoster); len(docs) != 0 {
		t.Errorf("roster changed by an unknown user: %d docs", len(docs))
	}
}

func TestWhoami(t *testing.T) {
	env := newEnv(t)
	got := bottest.Text(env.Command("hejun", "我是谁"))
	for _, want := range []string{"何军", "区纪委监委第一监督检查室", "区委组织部", env.TZ("party.consulted_dept")} {
		if !strings.Contains(got, want) {
			t.Errorf("whoami lacks %q: %s", want, got)
		}
	}
}

func TestRosterAddRemovePersistedAndAudited(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	got := bottest.Text(env.Command("wangming", "名册 添加 钱进 第二监督检查室 lark:ou_5a1e9c0d7b"))
	if got != env.TZ("admin.roster.added", "name", "钱进", "body", "区纪委监委第二监督检查室") {
		t.Fatalf("add: %s", got)
	}
	r, err := env.Bot.People.Roster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := r.ByPlatformID(lark.Name, "ou_5a1e9c0d7b")
	if !ok || !p.InBody("room2") {
		t.Fatalf("added person not in roster: %+v", p)
	}
	// The new member can now use the bot from Lark.
	resp := env.Bot.Handle(ctx, &bot.Request{Kind: bot.KindCommand, Platform: lark.Name, UserID: "ou_5a1e9c0d7b", Text: "whoami"})
	if !strings.Contains(bottest.Text(resp), "区纪委监委第二监督检查室") {
		t.Errorf("new member's whoami: %s", bottest.Text(resp))
	}
	// A second body for an existing configured person.
	env.Command("wangming", "roster add 陈静 case")
	r, _ = env.Bot.People.Roster(ctx)
	if p, _ := r.Person("chenjing"); !p.InBody("case") || !p.InBody("group3") {
		t.Errorf("chenjing bodies after add: %v", p.Bodies)
	}
	got = bottest.Text(env.Command("wangming", "名册 移除 钱进"))
	if got != env.TZ("admin.roster.removed", "name", "钱进") {
		t.Fatalf("remove: %s", got)
	}
	r, _ = env.Bot.People.Roster(ctx)
	if _, ok := r.ByPlatformID(lark.Name, "ou_5a1e9c0d7b"); ok {
		t.Error("removed person still in roster")
	}
	entries, err := bottest.AuditLog(ctx, env.Bot, func(e bot.AuditEntry) bool { return strings.HasPrefix(e.Action, "roster.") })
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[0].Person != "wangming" || entries[0].Action != "roster.add" || entries[2].Action != "roster.remove" {
		t.Errorf("audit entries: %+v", entries)
	}
}

func TestRosterChangesRefusedForNonAdminAndAudited(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	got := bottest.Text(env.Command("lina", "roster add 钱进 room2"))
	if !strings.Contains(got, env.TZ("error.forbidden")) {
		t.Errorf("non-admin add: %s", got)
	}
	if docs, _ := env.Store.List(ctx, bot.CollRoster); len(docs) != 0 {
		t.Error("roster changed by a non-administrator")
	}
	refused, _ := bottest.AuditLog(ctx, env.Bot, func(e bot.AuditEntry) bool { return e.Result == bot.ResultRefused })
	if len(refused) != 1 || refused[0].Person != "lina" || refused[0].Action != "roster.add" {
		t.Errorf("refusal not audited: %+v", refused)
	}
}

func TestRosterBadInputAnswersWithExample(t *testing.T) {
	env := newEnv(t)
	cases := map[string]string{
		"roster add 钱进":                         env.TZ("admin.roster.add_usage"),
		"roster add 钱进 nowhere":                 env.TZ("error.no_body", "name", "nowhere"),
		"roster add 钱进 room2 lark:ou_demo_lina": env.TZ("admin.roster.id_taken", "id", "ou_demo_lina", "name", "李娜"),
		"roster remove 王明":                      env.TZ("admin.roster.last_admin", "name", "王明"),
		"roster remove 李娜 room2":                env.TZ("admin.roster.not_member", "name", "李娜", "body", "区纪委监委第二监督检查室"),
	}
	for line, want := range cases {
		got := bottest.Text(env.Command("wangming", line))
		if !strings.HasPrefix(got, want) || !strings.Contains(got, env.TZ("error.example", "example", "")) {
			t.Errorf("%q:\n got %q\nwant %q + example", line, got, want)
		}
	}
}

func TestLangPreferenceSwitchesAnswers(t *testing.T) {
	env := newEnv(t)
	if got := bottest.Text(env.Command("lina", "lang en")); got != env.Catalog.T("en", "admin.lang.set") {
		t.Fatalf("lang en: %s", got)
	}
	if got := bottest.Text(env.Command("lina", "help")); !strings.HasPrefix(got, env.Catalog.T("en", "help.header")) {
		t.Errorf("help after lang en is not English: %s", got)
	}
	// Others keep Chinese.
	if got := bottest.Text(env.Command("zhangwei", "help")); !strings.HasPrefix(got, env.TZ("help.header")) {
		t.Errorf("another person's help changed language: %s", got)
	}
	if got := bottest.Text(env.Command("lina", "语言 klingon")); !strings.Contains(got, env.Catalog.T("en", "admin.lang.bad", "lang", "klingon")) {
		t.Errorf("bad language: %s", got)
	}
}

func TestBadDateArgumentAnswered(t *testing.T) {
	env := newEnv(t)
	env.Must(&bot.Command{Name: "due", Aliases: []string{"期限"}, Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
		d, err := bot.ParseDate(req.Command.Arg(0), req.Time, env.Bot.Loc)
		if err != nil {
			return nil, err
		}
		return bot.Text(d.Format("2006-01-02")), nil
	}})
	got := bottest.Text(env.Command("lina", "due 2026-02-30"))
	if !strings.Contains(got, "2026-02-30") || !strings.Contains(got, "12月31日") {
		t.Errorf("bad date answer: %s", got)
	}
	if got := bottest.Text(env.Command("lina", "期限 12月31日")); got != "2026-12-31" {
		t.Errorf("good date: %s", got)
	}
}

func TestHandlerPanicBecomesAnswer(t *testing.T) {
	cmd := &bot.Command{Name: "boom", Aliases: []string{"炸"}, Run: func(context.Context, *bot.Request) (*bot.Response, error) {
		var m map[string]int
		m["x"]++
		return nil, nil
	}}
	env := newEnv(t, cmd)
	if got := bottest.Text(env.Command("lina", "boom")); got != env.TZ("error.internal") {
		t.Errorf("panic answer: %s", got)
	}
}

func TestDuplicateEventHandledOnce(t *testing.T) {
	n := 0
	cmd := &bot.Command{Name: "count", Aliases: []string{"计数"}, Run: func(context.Context, *bot.Request) (*bot.Response, error) {
		n++
		return bot.Text("ok"), nil
	}}
	env := newEnv(t, cmd)
	for i := 0; i < 3; i++ {
		resp := env.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindCommand, Platform: slack.Name, UserID: "U0LINA", EventID: "Ev111", Text: "count"})
		if i > 0 && !resp.Duplicate {
			t.Errorf("delivery %d not marked duplicate", i+1)
		}
	}
	if n != 1 {
		t.Errorf("handler ran %d times, want 1", n)
	}
}

func TestStoreOutageAnswersUnavailable(t *testing.T) {
	env := newEnv(t)
	env.Store.(*bottest.Mem).Fail = bot.Unavailable(errors.New("connection refused"))
	if got := bottest.Text(env.Command("lina", "whoami")); got != env.TZ("error.unavailable") {
		t.Errorf("outage answer: %s", got)
	}
}

// Help names each command and sub-command in the reader's language
// first: 线索（clue） for a Chinese reader, clue (线索) for an English one.
func TestHelpNamesTheReadersLanguageFirst(t *testing.T) {
	env := newEnv(t)
	got := bottest.Text(env.Command("lina", "帮助"))
	bottest.MustContain(t, "zh help", got, "• 名册（人员、roster） —", "• 帮助（巡纪、help、xunji、?、？） —")
	bottest.MustNotContain(t, "zh help", got, "• roster（", "• help（")
	got = bottest.Text(env.Command("lina", "帮助 名册"))
	bottest.MustContain(t, "zh help roster", got, "名册（人员、roster） —", "• 移除（删除、remove） —")
	env.Command("lina", "lang en")
	got = bottest.Text(env.Command("lina", "help"))
	bottest.MustContain(t, "en help", got, "• roster (名册, 人员) —", "• help (帮助, xunji, 巡纪, ?, ？) —")
}
