package cosign_test

import (
	"testing"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/admin"
)

// English answers count in English: one co-signature, one entry.
func TestEnglishCountsUseTheSingularForOne(t *testing.T) {
	env := newEnv(t)
	if err := admin.Module(nil).Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	id := open(t, env, "lina", newThree)
	env.Direct("lina", "lang en")
	list := bottest.Text(env.Direct("lina", "cosign list"))
	bottest.MustContain(t, "list", list, "1 co-signature:")
	bottest.MustNotContain(t, "list", list, "1 co-signatures")
	show := bottest.Text(env.Direct("lina", "cosign show "+id))
	bottest.MustContain(t, "show", show, "Full history (1 entry):")
	open(t, env, "lina", newThree)
	bottest.MustContain(t, "two", bottest.Text(env.Direct("lina", "cosign list")), "2 co-signatures:")
}
