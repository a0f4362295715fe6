package consult

import (
	"testing"

	"github.com/xunji-bot/xunji/bot/bottest"
)

// "No relevant information" after a department's real answer would
// contradict it: refused with the supplement form as the example, and
// nothing is stored. A first "nothing relevant" followed by a real
// answer (a supplement) stays allowed.
func TestNoneAfterARealAnswerIsRefused(t *testing.T) {
	env := newEnv(t)
	id := start(t, env)
	env.Direct("hejun", `征询 回复 `+id+` "`+answerText+`"`)
	got := bottest.Text(env.Direct("hejun", "征询 回复 "+id+" 无相关情况"))
	bottest.MustContain(t, "answer", got, env.TZ("consult.error.none_after_answer", "id", id, "dept", "区委组织部"), `征询 回复 `+id+` "回复内容"`)
	c := load(t, env, id)
	if a := c.Depts[c.Dept("org_dept")].Answers; len(a) != 1 || a[0].None {
		t.Fatalf("answers after the refused none: %+v", a)
	}
	// The other way round is a supplement.
	env.Direct("maping", "征询 回复 "+id+" 无相关情况")
	env.Direct("maping", `征询 回复 `+id+` "另有1件已办结"`)
	c = load(t, env, id)
	if a := c.Depts[c.Dept("audit")].Answers; len(a) != 2 || !a[0].None || a[1].None {
		t.Fatalf("audit bureau answers: %+v", a)
	}
}
