package clue

import (
	"testing"

	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/admin"
)

// Configuration checked the clue group, but an administrator may since
// have put a member of an inspected unit into a body that sits there:
// the transfer then posts no group card at all and says why; the DM to
// the receiving body still goes.
func TestNoGroupCardWhenTheRosterMadeTheClueGroupUnsafe(t *testing.T) {
	env := newEnv(t)
	if err := admin.Module(nil).Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	bottest.MustContain(t, "roster add", bottest.Text(env.Command("wangming", "名册 添加 周涛 第一监督检查室")), "周涛")
	text := bottest.Text(env.Command("lina", transferZH))
	bottest.MustContain(t, "transfer", text, "XS-2026-0001", "线索群中有被巡察单位的人员（周涛、区财政局党组）", "未发布群公告")
	if p := postedIn(env, clueChat); len(p) != 0 {
		t.Fatalf("card posted in an unsafe clue group: %+v", p)
	}
	if p := postedIn(env, coordChat); len(p) != 0 {
		t.Fatalf("card posted in the coordination group: %+v", p)
	}
	if n := len(sentTo(env, "赵强")); n != 1 {
		t.Errorf("want the DM to the receiving body, got %d", n)
	}
}
