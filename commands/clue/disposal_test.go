package clue

import (
	"fmt"
	"testing"

	"github.com/xunji-bot/xunji/bot/bottest"
)

// The four disposal methods of the discipline rules, typed in Chinese or
// English, each straight after receipt; 立案审查调查 only after 初步核实.
func TestDisposalByTheFourMethods(t *testing.T) {
	cases := []struct {
		word     string
		want     ClueConclusion
		verified bool // 核查 first
		label    string
		caseOpen bool
	}{
		{"谈话函询", DisposalTalk, false, "已处置办结（谈话函询）", false},
		{"初步核实", DisposalVerify, true, "已处置办结（初步核实）", false},
		{"暂存待查", DisposalShelve, false, "已处置办结（暂存待查）", false},
		{"予以了结", DisposalClosure, false, "已处置办结（予以了结）", false},
		{"立案审查调查", DisposalVerify, true, "已处置办结（初步核实后立案审查调查）", true},
		{"later", DisposalShelve, false, "已处置办结（暂存待查）", false},
	}
	for _, tc := range cases {
		t.Run(tc.word, func(t *testing.T) {
			env := newEnv(t)
			id := transfer(t, env, transferZH)
			env.Command("zhaoqiang", "线索 签收 "+id)
			if tc.verified {
				env.Command("zhaoqiang", "线索 核查 "+id+" 初核")
			}
			bottest.MustContain(t, "dispose", bottest.Text(env.Command("zhaoqiang", fmt.Sprintf("线索 处置 %s %s 说明理由", id, tc.word))), tc.label)
			c := loadClue(t, env, id)
			if c.Status != ClueConcluded || c.Conclusion != tc.want || c.CaseOpened != tc.caseOpen {
				t.Fatalf("stored %s %s case=%v", c.Status, c.Conclusion, c.CaseOpened)
			}
		})
	}
	t.Run("unknown method names the four", func(t *testing.T) {
		env := newEnv(t)
		id := transfer(t, env, transferZH)
		env.Command("zhaoqiang", "线索 签收 "+id)
		bottest.MustContain(t, "bad method", bottest.Text(env.Command("zhaoqiang", "线索 处置 "+id+" 立案 x")),
			"立案审查调查须在初步核实之后", "线索 核查 "+id)
		bottest.MustContain(t, "bad method", bottest.Text(env.Command("zhaoqiang", "线索 处置 "+id+" 不实 x")),
			"无法识别处置方式「不实」", "谈话函询、初步核实、暂存待查、予以了结", "线索 处置 XS-2026-0001 初步核实")
	})
}

// Conclusions stored before the four methods read as one of them: 立案 as
// 初步核实 with a case opened, 不实 as 予以了结, 其他方式处置 as 谈话函询;
// the summary counts them so.
func TestOldConclusionsReadAsDisposalMethods(t *testing.T) {
	env := newUnindexedEnv(t) // a store written by an older version
	old := map[string]string{"XS-2026-0101": "filed", "XS-2026-0102": "unsubstantiated", "XS-2026-0103": "other"}
	for id, concl := range old {
		doc := fmt.Sprintf(`{"id":%q,"from_body":"team1","body":"room2","organisation_name":"区财政局党组","title":"t","substance":"s","status":"concluded","conclusion":%q,"created_by":"lina","created_at":"2026-11-02T01:00:00Z","ack_at":"2026-11-02T02:00:00Z","closed_at":"2026-11-20T02:00:00Z","deadline":"2026-12-01T00:00:00+08:00"}`, id, concl)
		if err := env.Store.Put(t.Context(), CollClues, id, []byte(doc)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := BackfillIndex(t.Context(), env.Bot); err != nil || n != len(old) {
		t.Fatalf("backfill: %d, %v; want %d", n, err, len(old))
	}
	want := map[string]struct {
		d    ClueConclusion
		open bool
	}{"XS-2026-0101": {DisposalVerify, true}, "XS-2026-0102": {DisposalClosure, false}, "XS-2026-0103": {DisposalTalk, false}}
	for id, w := range want {
		c := loadClue(t, env, id)
		if c.Conclusion != w.d || c.CaseOpened != w.open {
			t.Errorf("%s read as %s case=%v, want %s case=%v", id, c.Conclusion, c.CaseOpened, w.d, w.open)
		}
	}
	bottest.MustContain(t, "old record shown", bottest.Text(direct(env, "wangming", "线索 查看 XS-2026-0101")), "初步核实后立案审查调查")
	s, err := Summarise(t.Context(), env.Bot, day(2026, 10, 1, 0), day(2027, 1, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if s.All.ByConclusion[DisposalVerify] != 1 || s.All.CasesOpened != 1 || s.All.ByConclusion[DisposalClosure] != 1 || s.All.ByConclusion[DisposalTalk] != 1 {
		t.Errorf("summary of old records: %+v cases %d", s.All.ByConclusion, s.All.CasesOpened)
	}
}

// A clue disposed of by 初步核实 may later open a case (立案审查调查); one
// disposed of otherwise, or not yet verified, may not, and the answer
// says why.
func TestCaseOpenedLaterAfterAPreliminaryVerification(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	env.Command("zhaoqiang", "线索 签收 "+id)
	bottest.MustContain(t, "too early", bottest.Text(env.Command("zhaoqiang", "线索 立案审查调查 "+id+" 说明")), "立案审查调查须在初步核实之后")
	env.Command("zhaoqiang", "线索 核查 "+id)
	bottest.MustContain(t, "while verifying", bottest.Text(env.Command("zhaoqiang", "线索 立案审查调查 "+id+" 说明")), "线索 处置 "+id+" 立案审查调查")
	env.Command("zhaoqiang", "线索 处置 "+id+" 初步核实 初核完成")
	bottest.MustContain(t, "not a member", bottest.Text(env.Command("chenjing", "线索 立案审查调查 "+id+" 说明")), "只有区纪委监委第二监督检查室的成员")
	bottest.MustContain(t, "case", bottest.Text(env.Command("zhaoqiang", "线索 立案审查调查 "+id+" 初核报告经审批决定立案")), "初步核实后立案审查调查")
	if c := loadClue(t, env, id); c.Conclusion != DisposalVerify || !c.CaseOpened {
		t.Fatalf("stored %s case=%v", c.Conclusion, c.CaseOpened)
	}
	bottest.MustContain(t, "sender told", outText(sentTo(env, "李娜")[len(sentTo(env, "李娜"))-1]), "立案审查调查", "初核报告经审批决定立案")
	bottest.MustContain(t, "twice", bottest.Text(env.Command("zhaoqiang", "线索 立案审查调查 "+id+" 说明")), "不能再变更")

	other := transfer(t, env, transferZH)
	env.Command("zhaoqiang", "线索 签收 "+other)
	env.Command("zhaoqiang", "线索 处置 "+other+" 予以了结 查无实据")
	bottest.MustContain(t, "closed otherwise", bottest.Text(env.Command("zhaoqiang", "线索 立案审查调查 "+other+" 说明")), "已办结（予以了结）", "不能再变更")
}
