package clue

import (
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/admin"
)

// A typed command refused before its handler runs (the person's bodies
// may not use it) is audited with the record it named, so the attempt
// shows in that clue's trail for the people entitled to read it.
func TestRefusedTypedCommandIsInTheClueTrail(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	// 周涛 of the inspected organisation may not use clue commands at all;
	// 李娜 of the transferring team may not conclude (lower case id).
	for _, tc := range []struct{ person, line string }{
		{"zhoutao", "线索 办结 " + strings.ToLower(id) + " 予以了结 无"},
		{"lina", "线索 办结 " + id + " 予以了结 无"},
	} {
		got := bottest.Text(env.Command(tc.person, tc.line))
		bottest.MustContain(t, tc.line, got, env.TZ("error.forbidden"))
	}
	refused := audits(t, env, func(e bot.AuditEntry) bool { return e.Result == bot.ResultRefused })
	if len(refused) != 2 || refused[0].Record != id || refused[1].Record != id {
		t.Fatalf("refusals audited %+v, want two against %s", refused, id)
	}
	trail := bottest.Text(direct(env, "zhaoqiang", "线索 记录 "+id))
	bottest.MustContain(t, "trail", trail, "周涛", "李娜", "——已拒绝")
	if n := strings.Count(trail, "——已拒绝"); n != 2 {
		t.Errorf("%d refused lines in the trail, want 2:\n%s", n, trail)
	}
}

// A refused typed command shows in the trail as what was tried (查看内容,
// read the content), in the reader's language, never as the bare
// command name "clue".
func TestRefusedAttemptIsNamedInTheTrailInBothLanguages(t *testing.T) {
	env := newEnv(t)
	if err := admin.Module(nil).Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	id := transfer(t, env, transferZH)
	got := bottest.Text(env.Command("zhoutao", "线索 查看 "+id))
	bottest.MustContain(t, "refusal", got, env.TZ("error.forbidden"))
	refused := audits(t, env, func(e bot.AuditEntry) bool { return e.Result == bot.ResultRefused })
	if len(refused) != 1 || refused[0].Action != "clue.show" || refused[0].Record != id {
		t.Fatalf("refusals audited %+v, want one clue.show against %s", refused, id)
	}
	trail := bottest.Text(direct(env, "zhaoqiang", "线索 记录 "+id))
	bottest.MustContain(t, "zh trail", trail, "周涛 查看内容（控制台）——已拒绝")
	bottest.MustNotContain(t, "zh trail", trail, " clue")
	direct(env, "zhaoqiang", "lang en")
	trail = bottest.Text(direct(env, "zhaoqiang", "clue history "+id))
	bottest.MustContain(t, "en trail", trail, "Zhou Tao read the content (console) — refused")
	bottest.MustNotContain(t, "en trail", trail, " clue (")
}
