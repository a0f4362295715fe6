package console_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/admin"
)

// counter is a tiny command with a card whose button changes state.
func counter(presses *int) *bot.Command {
	card := func(n int) *bot.Card {
		return &bot.Card{Title: "计数", Color: bot.Blue, Fields: []bot.Field{{Label: "次数", Value: strings.Repeat("|", n)}},
			Buttons: []bot.Button{{Label: "加一", Action: "count.inc", Value: "c1"}}}
	}
	return &bot.Command{
		Name: "count", Aliases: []string{"计数"},
		Run: func(context.Context, *bot.Request) (*bot.Response, error) {
			return &bot.Response{Replies: []bot.Reply{{Card: card(*presses), Public: true}}}, nil
		},
		Actions: []*bot.Action{{ID: "count.inc", Run: func(_ context.Context, req *bot.Request) (*bot.Response, error) {
			*presses++
			return &bot.Response{Toast: "+1 by " + req.Person.Name, Replies: []bot.Reply{{Card: card(*presses), Replace: true}}}, nil
		}}},
	}
}

func TestCardButtonsPressedByNumberAndPersonSwitch(t *testing.T) {
	env := bottest.New(t)
	presses := 0
	env.Must(counter(&presses))
	var out bytes.Buffer
	a := console.New(console.Options{
		In:  strings.NewReader("计数\n1\n切换 赵强\n#1\n9\n切换\n"),
		Out: &out, As: "王明", Chat: "巡纪协作群", Tr: env.Bot.Translator(), Lang: "zh-CN",
	})
	env.Bot.Out.AddAdapter(a)
	if err := a.Run(context.Background(), env.Bot.Inbox); err != nil {
		t.Fatal(err)
	}
	if presses != 2 {
		t.Errorf("button pressed %d times, want 2", presses)
	}
	got := out.String()
	for _, want := range []string{
		"┌ 🔵 计数", "[1] 加一", // the card with a numbered button
		env.TZ("console.updated", "id", "1"), "次数：||", // updated in place after two presses
		env.TZ("console.as", "name", "赵强"), "赵强> ",
		env.TZ("console.no_button", "n", 9),
		env.TZ("console.as_usage"),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("console output lacks %q:\n%s", want, got)
		}
	}
}

func TestNoticesShowTheirTarget(t *testing.T) {
	env := bottest.New(t)
	var out bytes.Buffer
	dir := t.TempDir()
	a := console.New(console.Options{Out: &out, Tr: env.Bot.Translator(), Lang: "zh-CN", FilesDir: dir})
	ref, err := a.Send(context.Background(), bot.Outgoing{Platform: console.Name, ChatID: "巡纪协作群", Text: "通知"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(context.Background(), bot.Outgoing{Platform: console.Name, UserID: "赵强", Text: "私信内容", Files: []bot.File{{Name: "../进度.xlsx", Data: []byte("PK")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(context.Background(), bot.Outgoing{Platform: console.Name, Update: &ref, Card: &bot.Card{Title: "新卡片"}}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{env.TZ("console.to_chat", "chat", "巡纪协作群"), "通知", env.TZ("console.to_person", "name", "赵强"), "私信内容", env.TZ("console.updated", "id", ref.ID), "新卡片"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	saved := filepath.Join(dir, "进度.xlsx")
	if data, err := os.ReadFile(saved); err != nil || string(data) != "PK" {
		t.Errorf("attachment not saved inside the files directory: %v %q", err, data)
	}
	if !strings.Contains(got, env.TZ("console.file_saved", "path", saved, "size", 2)) {
		t.Errorf("no saved-file line:\n%s", got)
	}
	if a.Mention("赵强", "赵强") != "@赵强" {
		t.Error("console mention")
	}
}

// A card's fields read "label：value" in Chinese and "label: value" in
// English: an English reader gets no full-width colon.
func TestFieldColonFollowsTheLabelsLanguage(t *testing.T) {
	env := bottest.New(t)
	var out bytes.Buffer
	a := console.New(console.Options{Out: &out, Tr: env.Bot.Translator(), Lang: "en"})
	card := &bot.Card{Title: "Clue XS-2026-0001", Fields: []bot.Field{{Label: "Receiving body", Value: "Room 2"}, {Label: "承办单位", Value: "第二监督检查室"}}}
	if _, err := a.Send(context.Background(), bot.Outgoing{Platform: console.Name, ChatID: "g", Card: card}); err != nil {
		t.Fatal(err)
	}
	bottest.MustContain(t, "English field", out.String(), "│ Receiving body: Room 2", "│ 承办单位：第二监督检查室")
	bottest.MustNotContain(t, "English field", out.String(), "Receiving body：")
}

// The console's own answers (dm, group, as) and its private-chat prompt
// are in the acting person's language: English after "lang en", Chinese
// again once switched to someone who kept Chinese.
func TestConsoleAnswersInThePersonsLanguage(t *testing.T) {
	env := bottest.New(t)
	if err := admin.Module(nil).Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	a := console.New(console.Options{
		In:  strings.NewReader("lang en\ndm\ngroup\nas 赵强\n私聊\n群聊\n"),
		Out: &out, As: "王明", Chat: "巡纪协作群", Tr: env.Bot.Translator(), Lang: "zh-CN",
	})
	env.Bot.Out.AddAdapter(a)
	if err := a.Run(context.Background(), env.Bot.Inbox); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	en := func(key string, args ...any) string { return env.Catalog.T("en", key, args...) }
	// In order: 王明's English answers, then 赵强's Chinese ones.
	want := []string{
		en("console.dm"), en("console.prompt_dm", "name", "王明"), en("console.group", "chat", "巡纪协作群"),
		en("console.as", "name", "赵强"),
		env.TZ("console.dm"), env.TZ("console.prompt_dm", "name", "赵强"), env.TZ("console.group", "chat", "巡纪协作群"),
	}
	rest := got
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("console output lacks %q after the earlier answers:\n%s", w, got)
		}
		rest = rest[i+len(w):]
	}
}
