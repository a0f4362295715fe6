package e2e_test

import (
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// Lark has no message in a group that only one person sees. A clue
// transfer typed in the coordination group, where inspected
// organisations' people sit, is answered to the sender directly: nothing
// shown in that group names the clue.
func TestLarkPrivateAnswersToGroupCommandsGoDirect(t *testing.T) {
	l := newLark(t, "")
	answer := l.command("lina", transferLine)
	bottest.MustContain(t, "transfer answer", answer, "XS-2026-0001", "区纪委监委第二监督检查室")
	inGroup := l.fake.Find(func(c larktest.Call) bool {
		// Replies to the messages typed in the group, and messages posted
		// to it.
		_, direct := l.p2p[c.Target]
		return (c.IsReply() && !direct) || (c.IsCreate() && c.ReceiveID() == larkCoord)
	})
	for _, c := range inGroup {
		bottest.MustNotContain(t, "coordination group", c.Text(), "XS-2026-0001", clueTitle)
	}
	bottest.MustContain(t, "李娜's direct messages", strings.Join(l.dms("lina"), "\n"), "XS-2026-0001", "区纪委监委第二监督检查室")
}
