package clue

import (
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
)

func day(y int, m time.Month, d, h int) time.Time {
	return time.Date(y, m, d, h, 0, 0, 0, bottest.Shanghai)
}

// seed stores a known set of clues around the fourth quarter of 2026.
func seed(t *testing.T, env *bottest.Env) []*Clue {
	t.Helper()
	var zero time.Time
	mk := func(id, body string, created, ack, verify, closed time.Time, st ClueStatus, concl ClueConclusion, deadline time.Time, prio bool) *Clue {
		return &Clue{ID: id, Body: body, FromBody: "team1", CreatedBy: "lina", OrganisationName: "区财政局党组",
			Title: "t-" + id, Substance: "s-" + id, CreatedAt: created, AckAt: ack, VerifyAt: verify, ClosedAt: closed,
			Status: st, Conclusion: concl, Deadline: deadline, Priority: prio}
	}
	clues := []*Clue{
		// A: room2, concluded (preliminary verification, case opened) in the period: 1 day to acknowledge, 30 to conclude.
		mk("XS-2026-0001", "room2", day(2026, 10, 10, 9), day(2026, 10, 11, 9), day(2026, 10, 12, 9), day(2026, 11, 9, 9), ClueConcluded, DisposalVerify, day(2026, 11, 30, 0), false),
		// B: room2, still verifying, deadline 12-01 passed: overdue. 2 days to acknowledge.
		mk("XS-2026-0002", "room2", day(2026, 11, 1, 9), day(2026, 11, 3, 9), day(2026, 11, 4, 9), zero, ClueVerifying, "", day(2026, 12, 1, 0), false),
		// C: group3, unacknowledged, deadline next year: not overdue.
		mk("XS-2026-0003", "group3", day(2026, 12, 1, 9), zero, zero, zero, ClueTransferred, "", day(2027, 1, 15, 0), false),
		// D: group3, transferred before the period, returned within it.
		mk("XS-2026-0004", "group3", day(2026, 9, 1, 9), day(2026, 9, 2, 9), zero, day(2026, 10, 5, 9), ClueReturned, "", day(2026, 10, 1, 0), false),
		// E: room2, closed before the period: not in it.
		mk("XS-2026-0005", "room2", day(2026, 8, 1, 9), day(2026, 8, 2, 9), day(2026, 8, 3, 9), day(2026, 9, 15, 9), ClueConcluded, DisposalTalk, day(2026, 9, 30, 0), false),
		// F: transferred after the period: not in it.
		mk("XS-2027-0001", "sup_chengguan", day(2027, 1, 5, 9), zero, zero, zero, ClueTransferred, "", day(2027, 2, 5, 0), false),
		// G: room2, transferred in December, acknowledged only in January:
		// unacknowledged at the end of the period.
		mk("XS-2026-0006", "room2", day(2026, 12, 20, 9), day(2027, 1, 2, 9), zero, zero, ClueAcknowledged, "", day(2027, 1, 19, 0), false),
		// H: group3, priority, closed (予以了结): half a day to
		// acknowledge, 20 days to conclude.
		mk("XS-2026-0007", "group3", day(2026, 10, 1, 0), day(2026, 10, 1, 12), day(2026, 10, 2, 0), day(2026, 10, 21, 0), ClueConcluded, DisposalClosure, day(2026, 10, 31, 0), true),
	}
	clues[0].CaseOpened = true
	for _, c := range clues {
		if err := Seed(t.Context(), env.Store, c); err != nil {
			t.Fatal(err)
		}
	}
	return clues
}

const dayDur = 24 * time.Hour

func TestSummaryFiguresOfASeededQuarter(t *testing.T) {
	env := newEnv(t)
	seed(t, env)
	from, to := day(2026, 10, 1, 0), day(2027, 1, 1, 0)
	s, err := Summarise(t.Context(), env.Bot, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Bodies) != 2 || s.Bodies[0].Body != "room2" || s.Bodies[1].Body != "group3" {
		t.Fatalf("bodies %+v", s.Bodies)
	}
	room2, group3 := s.Bodies[0], s.Bodies[1]
	check := func(name string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("room2 total", room2.Total, 3)
	check("room2 new", room2.New, 3)
	check("room2 concluded", room2.ByStatus[ClueConcluded], 1)
	check("room2 verifying", room2.ByStatus[ClueVerifying], 1)
	check("room2 transferred (G at the end of the period)", room2.ByStatus[ClueTransferred], 1)
	check("room2 acknowledged", room2.ByStatus[ClueAcknowledged], 0)
	check("room2 overdue", room2.Overdue, 1)
	check("room2 avg ack", room2.AvgAck, 36*time.Hour)
	check("room2 avg conclude", room2.AvgConclude, 30*dayDur)
	check("room2 filed", room2.ByConclusion[DisposalVerify], 1)

	check("group3 total", group3.Total, 3)
	check("group3 new", group3.New, 2)
	check("group3 returned", group3.ByStatus[ClueReturned], 1)
	check("group3 concluded", group3.ByStatus[ClueConcluded], 1)
	check("group3 transferred", group3.ByStatus[ClueTransferred], 1)
	check("group3 overdue", group3.Overdue, 0)
	check("group3 priority", group3.Priority, 1)
	check("group3 avg ack", group3.AvgAck, 18*time.Hour)
	check("group3 avg conclude", group3.AvgConclude, 20*dayDur)

	check("total", s.All.Total, 6)
	check("total acknowledged", s.All.Acknowledged, 4)
	check("total avg ack", s.All.AvgAck, 27*time.Hour)
	check("total avg conclude", s.All.AvgConclude, 25*dayDur)
}

// The figures add up: each body's statuses sum to its total, the bodies
// sum to the total, and every count equals a count over the records.
func TestSummaryAddsUpToTheRecords(t *testing.T) {
	env := newEnv(t)
	clues := seed(t, env)
	periods := [][2]time.Time{
		{day(2026, 10, 1, 0), day(2027, 1, 1, 0)},
		{day(2026, 7, 1, 0), day(2026, 10, 1, 0)},
		{day(2026, 1, 1, 0), day(2028, 1, 1, 0)},
		{day(2026, 11, 2, 0), day(2026, 11, 3, 0)},
	}
	for _, p := range periods {
		from, to := p[0], p[1]
		s, err := Summarise(t.Context(), env.Bot, from, to)
		if err != nil {
			t.Fatal(err)
		}
		end := to.Add(-time.Nanosecond)
		var inPeriod int
		perBody := map[string]int{}
		perBodyStatus := map[string]map[ClueStatus]int{}
		for _, c := range clues {
			if c.CreatedAt.Before(to) && !(c.Status.Closed() && c.ClosedAt.Before(from)) {
				inPeriod++
				perBody[c.Body]++
				if perBodyStatus[c.Body] == nil {
					perBodyStatus[c.Body] = map[ClueStatus]int{}
				}
				perBodyStatus[c.Body][c.StatusAt(end)]++
			}
		}
		if s.All.Total != inPeriod {
			t.Errorf("%v: total %d, records %d", from, s.All.Total, inPeriod)
		}
		sum, sumStatus := 0, map[ClueStatus]int{}
		for _, f := range s.Bodies {
			sum += f.Total
			if f.Total != perBody[f.Body] {
				t.Errorf("%v %s: total %d, records %d", from, f.Body, f.Total, perBody[f.Body])
			}
			bs := 0
			for _, st := range ClueStatuses {
				bs += f.ByStatus[st]
				sumStatus[st] += f.ByStatus[st]
				if f.ByStatus[st] != perBodyStatus[f.Body][st] {
					t.Errorf("%v %s %s: %d, records %d", from, f.Body, st, f.ByStatus[st], perBodyStatus[f.Body][st])
				}
			}
			if bs != f.Total {
				t.Errorf("%v %s: statuses sum to %d, total %d", from, f.Body, bs, f.Total)
			}
			cs := 0
			for _, c := range ClueConclusions {
				cs += f.ByConclusion[c]
			}
			if cs != f.ByStatus[ClueConcluded] {
				t.Errorf("%v %s: conclusions sum to %d, concluded %d", from, f.Body, cs, f.ByStatus[ClueConcluded])
			}
		}
		if sum != s.All.Total {
			t.Errorf("%v: bodies sum to %d, total %d", from, sum, s.All.Total)
		}
		for _, st := range ClueStatuses {
			if sumStatus[st] != s.All.ByStatus[st] {
				t.Errorf("%v %s: bodies sum to %d, total %d", from, st, sumStatus[st], s.All.ByStatus[st])
			}
		}
	}
}

// summaryDMs are the summary cards person (a console name) received.
func summaryDMs(env *bottest.Env, person string) []string {
	var out []string
	for _, o := range sentTo(env, person) {
		if o.Card != nil && strings.Contains(o.Card.Title, "问题线索办理情况汇总") {
			out = append(out, bottest.CardText(o.Card))
		}
	}
	return out
}

// The case office's summary is the central ledger: each clue with its
// receiving body, status, disposal method and dates, plus the figures;
// never a title, substance or inspected unit; only by DM to the office
// and the case office, never in a group.
func TestSummaryCommand(t *testing.T) {
	env := newEnv(t)
	seed(t, env)
	env.Clock.Set(day(2027, 1, 4, 10))
	resp := env.Command("sunli", "线索 汇总 2026年第四季度 发布")
	bottest.MustContain(t, "answer in the group", bottest.Text(resp), "已通过私信发送", "已发送 2 处")
	dms := summaryDMs(env, "孙丽")
	if len(dms) != 2 { // the answer, and the posted copy
		t.Fatalf("want two summaries to 孙丽, got %d", len(dms))
	}
	text := dms[0]
	bottest.MustContain(t, "summary", text, "2026-10-01 至 2026-12-31", "区纪委监委第二监督检查室", "共 3 条（本期新移送 3）", "逾期 1",
		"平均签收用时 1.5 天", "平均办结用时 30.0 天", "合计", "共 6 条", "平均签收用时 1.1 天", "平均办结用时 25.0 天", "初步核实 1", "其中立案审查调查 1",
		"统一登记台账（6 条）",
		"XS-2026-0001｜区纪委监委第二监督检查室｜已办结（初步核实后立案审查调查）｜移送 2026-10-10｜签收 2026-10-11｜办结 2026-11-09",
		"XS-2026-0002｜区纪委监委第二监督检查室｜核查中｜移送 2026-11-01｜签收 2026-11-03｜办结 -",
		"XS-2026-0004｜区纪委监委派驻第三纪检监察组｜已退回｜移送 2026-09-01｜签收 2026-09-02｜办结 2026-10-05",
		"XS-2026-0006｜区纪委监委第二监督检查室｜已移送（待签收）｜移送 2026-12-20｜签收 -｜办结 -",
		"XS-2026-0007｜区纪委监委派驻第三纪检监察组｜已办结（予以了结）")
	bottest.MustNotContain(t, "summary", text, "t-XS", "s-XS", "区财政局党组", "XS-2026-0005", "XS-2027-0001")
	if got := summaryDMs(env, "王明"); len(got) != 1 || !strings.Contains(got[0], "XS-2026-0001｜") {
		t.Fatalf("the office got %d summaries", len(got))
	}
	for _, chat := range []string{officeChat, coordChat, clueChat} {
		if p := postedIn(env, chat); len(p) != 0 {
			t.Errorf("the ledger was posted in %s: %+v", chat, p)
		}
	}
	for _, who := range []string{"赵强", "陈静", "李娜", "周涛"} {
		if n := len(summaryDMs(env, who)); n != 0 {
			t.Errorf("%s got the ledger", who)
		}
	}
	for _, line := range []string{"clue summary 2026Q4", "线索 汇总 从:10-01 至:2026-12-31"} {
		bottest.MustContain(t, line, bottest.Text(direct(env, "wangming", line)), "共 6 条", "XS-2026-0007")
	}
	bottest.MustContain(t, "bad quarter", bottest.Text(env.Command("sunli", "线索 汇总 第五季度")), "无法识别季度", "正确格式示例")
	bottest.MustContain(t, "bad period", bottest.Text(env.Command("sunli", "线索 汇总 从:2026-12-01 至:2026-11-01")), "开始日期必须早于")
	bottest.MustContain(t, "team member", bottest.Text(env.Command("lina", "线索 汇总")), "没有权限")
}

// The scheduler hook summarises the previous quarter and sends it once,
// however often it runs, by DM to the office and the case office.
func TestSummaryJobPostsThePreviousQuarterOnce(t *testing.T) {
	env := newEnv(t)
	seed(t, env)
	task, ok := env.Bot.Jobs.Task(SummaryTask)
	if !ok {
		t.Fatalf("task %s not registered", SummaryTask)
	}
	job := task.Run
	now := day(2027, 1, 4, 9)
	env.Clock.Set(now)
	for range 3 {
		if err := job(t.Context(), now); err != nil {
			t.Fatal(err)
		}
	}
	for _, who := range []string{"王明", "孙丽"} {
		got := summaryDMs(env, who)
		if len(got) != 1 {
			t.Fatalf("want one summary to %s, got %d", who, len(got))
		}
		bottest.MustContain(t, "job summary", got[0], "2026-10-01 至 2026-12-31", "共 6 条", "XS-2026-0002｜")
	}
	if p := postedIn(env, officeChat); len(p) != 0 {
		t.Errorf("the ledger was posted in the office group: %+v", p)
	}
	if n := len(audits(t, env, func(e bot.AuditEntry) bool { return e.Action == "clue.summary" && e.Person == "" })); n != 1 {
		t.Errorf("%d summary audit entries", n)
	}
}

func TestOverdueExport(t *testing.T) {
	env := newEnv(t)
	seed(t, env)
	tests := []struct {
		now  time.Time
		want []string
	}{
		{day(2026, 12, 1, 12), nil}, // the deadline day itself is not overdue
		{day(2026, 12, 2, 0), []string{"XS-2026-0002"}},
		{day(2027, 1, 20, 9), []string{"XS-2026-0002", "XS-2026-0003", "XS-2026-0006"}},
	}
	for _, tc := range tests {
		got, err := NewQueries(env.Store, env.Bot.Loc).OverdueAt(t.Context(), tc.now)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%v: overdue %v, want %v", tc.now, ids, tc.want)
		}
	}
}

func TestQuarter(t *testing.T) {
	from, to := Quarter(day(2026, 12, 31, 23), bottest.Shanghai)
	if !from.Equal(day(2026, 10, 1, 0)) || !to.Equal(day(2027, 1, 1, 0)) {
		t.Errorf("Q4: %v %v", from, to)
	}
	from, to = Quarter(day(2027, 1, 1, 0), bottest.Shanghai)
	if !from.Equal(day(2027, 1, 1, 0)) || !to.Equal(day(2027, 4, 1, 0)) {
		t.Errorf("Q1: %v %v", from, to)
	}
}

// With a group of its own, the case office gets the ledger there too;
// no other group gets it.
func TestSummaryGoesToTheCaseOfficesOwnGroup(t *testing.T) {
	yaml := strings.Replace(string(config.DemoYAML()),
		"  committee: {name: 区委分管领导", "  case_group: {name: 案管室工作群, ids: {console: 案管室工作群}}\n  committee: {name: 区委分管领导", 1)
	yaml = strings.Replace(yaml, "name_en: Case Supervision & Management Office}", "name_en: Case Supervision & Management Office, group: case_group}", 1)
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	env := bottest.New(t, bottest.WithConfig(cfg))
	if err := Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	seed(t, env)
	env.Clock.Set(day(2027, 1, 4, 10))
	bottest.MustContain(t, "post", bottest.Text(direct(env, "sunli", "线索 汇总 2026Q4 发布")), "已发送 3 处")
	posted := postedIn(env, "案管室工作群")
	if len(posted) != 1 || !strings.Contains(bottest.CardText(posted[0].Card), "XS-2026-0001｜") {
		t.Fatalf("the case office's group got %+v", posted)
	}
	for _, chat := range []string{officeChat, coordChat, clueChat} {
		if p := postedIn(env, chat); len(p) != 0 {
			t.Errorf("the ledger was posted in %s", chat)
		}
	}
}
