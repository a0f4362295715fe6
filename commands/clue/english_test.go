package clue

import (
	"testing"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/admin"
)

// English answers name the inspected organisation by its configured
// English name (the typed Chinese name only when the roster has no such
// body) and count in English.
func TestEnglishAnswersUseEnglishNamesAndPlurals(t *testing.T) {
	env := newEnv(t)
	if err := admin.Module(nil).Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	transfer(t, env, transferZH)
	env.Command("lina", `线索 移送 第二监督检查室 区粮食局党组 "t2" "s2" 期限:12-31`)
	direct(env, "lina", "lang en")
	got := bottest.Text(direct(env, "lina", "clue list"))
	bottest.MustContain(t, "list", got, "2 clues, newest first:", "District Finance Bureau Party Group", "区粮食局党组")
	bottest.MustNotContain(t, "list", got, "区财政局党组")
	got = bottest.Text(direct(env, "lina", "clue list priority"))
	bottest.MustContain(t, "one", got, "1 clue, newest first:")
}
