package main

import (
	"context"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/commands/all"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/i18n"
)

func fullBot(t testing.TB) *bottest.Env {
	t.Helper()
	env := bottest.New(t)
	if err := all.Register(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	return env
}

// fullCatalog returns the texts of the whole program: the core's and
// every domain's, as a bot with every command registered has them.
func fullCatalog(t testing.TB) *i18n.Catalog {
	t.Helper()
	return fullBot(t).Catalog
}

// Help is generated from the catalog: every command and sub-command of
// the whole program must have its texts in both languages.
func TestEveryCommandDocumentedInBothLanguages(t *testing.T) {
	env := fullBot(t)
	for _, lang := range i18n.Langs {
		for _, c := range env.Bot.Router.Commands() {
			keys := []string{"cmd." + c.Name + ".summary"}
			if len(c.Subs) == 0 {
				keys = append(keys, "cmd."+c.Name+".usage", "cmd."+c.Name+".example")
			}
			for _, s := range c.Subs {
				k := "cmd." + c.Name + "." + s.Name
				keys = append(keys, k+".summary", k+".usage", k+".example")
			}
			for _, k := range keys {
				if !env.Catalog.Has(lang, k) {
					t.Errorf("%s: missing %s", lang, k)
				}
			}
			hasChinese := false
			for _, a := range c.Aliases {
				for _, r := range a {
					if r >= 0x4e00 && r <= 0x9fff {
						hasChinese = true
					}
				}
			}
			if !hasChinese {
				t.Errorf("command %s has no Chinese alias", c.Name)
			}
		}
	}
}

// Every verb's help, in both languages, for every person, answers
// without an internal error.
func TestHelpForEveryVerb(t *testing.T) {
	env := fullBot(t)
	internal := env.TZ("error.internal")
	for _, c := range env.Bot.Router.Commands() {
		for _, line := range []string{"帮助 " + c.Name, c.Name, c.Aliases[0] + " ？？", c.Name + " " + strings.Repeat("x", 300)} {
			if got := bottest.Text(env.Command("wangming", line)); got == "" || strings.Contains(got, internal) {
				t.Errorf("%q answered %q", line, got)
			}
		}
	}
}

// FuzzCommandLine sends arbitrary lines, as several people, to the bot
// with every command registered: nothing may crash a handler (a recovered
// panic answers error.internal, which the fuzzer treats as a failure).
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{
		"help", "线索 移送 第二监督检查室 区财政局党组 \"t\" \"s\" 期限:12-31 优先", "clue show XS-2026-0001",
		"会签 新建 \"x\" 轮次:XC-2026-0001", "名册 添加 钱进 room2 lark:ou_x", "进度 ZG-2026-0001 60%",
		"meeting move HY-2026-0001 12-31", "线索 办结 XS-2026-0001 立案 x", "\"", "：", "😀", "+99999d",
	} {
		f.Add(s, uint8(0))
	}
	people := []string{"wangming", "lina", "zhaoqiang", "zhoutao", "zhenghua", "hejun"}
	f.Fuzz(func(t *testing.T, line string, who uint8) {
		env := fullBot(t)
		internal := env.TZ("error.internal")
		p := people[int(who)%len(people)]
		for _, l := range []string{line, "线索 " + line, "会签 " + line, "名册 " + line} {
			resp := env.Command(p, l)
			if got := bottest.Text(resp); strings.Contains(got, internal) {
				t.Fatalf("%s: %q → internal error", p, l)
			}
		}
		_ = env.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindAction, Platform: console.Name, UserID: "李娜", Action: line, Value: line})
	})
}
