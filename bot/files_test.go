package bot_test

import (
	"context"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

func TestWantsFiles(t *testing.T) {
	env := bottest.New(t)
	run := func(context.Context, *bot.Request) (*bot.Response, error) { return bot.Text("ok"), nil }
	env.Must(
		&bot.Command{Name: "sheet", Aliases: []string{"台账"}, Default: "log", Subs: []*bot.Subcommand{
			{Name: "log", Aliases: []string{"登记"}, Run: run},
			{Name: "import", Aliases: []string{"导入"}, Run: run, Files: true},
		}},
		&bot.Command{Name: "upload", Aliases: []string{"上传"}, Run: run, Files: true},
		&bot.Command{Name: "plain", Aliases: []string{"普通"}, Run: run},
	)
	for text, want := range map[string]bool{
		"sheet import":        true,
		"台账 导入":               true,
		"  SHEET   IMPORT  x": true,
		"sheet log":           false,
		"sheet ZG-1 60%":      false, // the default sub-command
		"sheet":               false,
		"upload":              true,
		"上传 a b":              true,
		"plain":               false,
		"nosuch import":       false,
		"":                    false,
		"🙂":                   false,
	} {
		if got := env.Bot.Router.WantsFiles(text); got != want {
			t.Errorf("WantsFiles(%q) = %v, want %v", text, got, want)
		}
	}
	if !bot.WantsFiles(plainHandler{}, "plain") {
		t.Error("a handler that cannot tell should get every file")
	}
}

// plainHandler is a Handler that cannot tell which commands read files.
type plainHandler struct{}

func (plainHandler) Handle(context.Context, *bot.Request) *bot.Response { return nil }
