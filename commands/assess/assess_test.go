package assess

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/internal/sheet/sheettest"
	"github.com/xunji-bot/xunji/commands/meeting"
	"github.com/xunji-bot/xunji/commands/progress"
)

func newEnv(t *testing.T) *bottest.Env {
	t.Helper()
	env := bottest.New(t)
	if err := Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	seed(t, env)
	return env
}

func at(env *bottest.Env, m, d, h int) time.Time {
	return time.Date(2026, time.Month(m), d, h, 0, 0, 0, env.Bot.Loc)
}

func create[T any](t *testing.T, env *bottest.Env, coll, id string, v *T) {
	t.Helper()
	ctx := context.Background()
	var err error
	// Records of the domains with indexes are stored through their Seed,
	// which writes the index documents their queries read.
	switch r := any(v).(type) {
	case *cosign.Cosign:
		err = cosign.Seed(ctx, env.Store, r)
	case *meeting.Meeting:
		err = meeting.Seed(ctx, env.Store, r)
	default:
		err = bot.Records[T](env.Store, coll).Create(ctx, id, v)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// seed stores a data set whose figures are worked out by hand in want
// below; the clock ends at Tuesday 2026-12-15 10:00.
func seed(t *testing.T, env *bottest.Env) {
	t.Helper()
	ctx := context.Background()
	addClue := func(id, body string, created time.Time, priority bool, ack time.Time, deadline time.Time, status clue.ClueStatus, closed time.Time) {
		create(t, env, clue.CollClues, id, &clue.Clue{ID: id, Body: body, FromBody: "team1", OrganisationName: "区财政局党组", Title: "t", Substance: "s",
			CreatedAt: created, Priority: priority, AckAt: ack, Deadline: deadline, Status: status, ClosedAt: closed})
	}
	none := time.Time{}
	// Acknowledged after the reminder time (Wed 11-04 09:00); concluded in time.
	addClue("XS-2026-0001", "room2", at(env, 11, 2, 9), false, at(env, 11, 5, 10), at(env, 11, 30, 0), clue.ClueConcluded, at(env, 11, 20, 10))
	// Acknowledged in time; still verifying after its deadline day 11-15.
	addClue("XS-2026-0002", "room2", at(env, 11, 2, 9), false, at(env, 11, 3, 9), at(env, 11, 15, 0), clue.ClueVerifying, none)
	// Priority (reminder after one working day, 11-11 09:00), never acknowledged.
	addClue("XS-2026-0003", "group3", at(env, 11, 10, 9), true, none, at(env, 12, 31, 0), clue.ClueTransferred, none)
	// All in time.
	addClue("XS-2026-0004", "room1", at(env, 11, 2, 9), false, at(env, 11, 2, 10), at(env, 11, 20, 0), clue.ClueConcluded, at(env, 11, 19, 10))
	// Late to acknowledge in September (Q3), overdue from 10-01 (Q4).
	addClue("XS-2026-0005", "group3", at(env, 9, 1, 9), false, none, at(env, 9, 30, 0), clue.ClueTransferred, none)

	month := func(id string, closed time.Time, units ...progress.UnitReport) {
		create(t, env, progress.CollProgressMonths, id, &progress.ProgressMonth{ID: id, StartedAt: closed.AddDate(0, 0, -7), ClosedAt: closed, Units: units})
	}
	month("2026-09", at(env, 9, 9, 18), progress.UnitReport{Unit: "finance", Items: []string{"ZG-2026-0001"}, Missing: []string{"ZG-2026-0001"}})
	month("2026-11", at(env, 11, 9, 18),
		progress.UnitReport{Unit: "finance", Items: []string{"ZG-2026-0001", "ZG-2026-0002", "ZG-2026-0003"}, Missing: []string{"ZG-2026-0001", "ZG-2026-0002"}},
		progress.UnitReport{Unit: "chengguan", Items: []string{"ZG-2026-0004"}},
		progress.UnitReport{Unit: "housing", Items: []string{"ZG-2026-0005"}, Missing: []string{"ZG-2026-0005"}})
	// Collecting, not closed: nothing counts yet.
	create(t, env, progress.CollProgressMonths, "2026-12", &progress.ProgressMonth{ID: "2026-12", StartedAt: at(env, 12, 1, 9),
		Units: []progress.UnitReport{{Unit: "finance", Items: []string{"ZG-2026-0001"}, Missing: nil}}})

	party := func(body, state string, signed, remind time.Time) cosign.CosignParty {
		return cosign.CosignParty{Body: body, State: state, At: signed, Since: remind.AddDate(0, 0, -2), RemindAt: remind}
	}
	create(t, env, cosign.CollCosigns, "QZ-2026-0001", &cosign.Cosign{ID: "QZ-2026-0001", State: cosign.CosignOpen, Parties: []cosign.CosignParty{
		party("team1", cosign.PartyConfirmed, at(env, 11, 18, 10), at(env, 11, 20, 9)),
		party("group3", cosign.PartyWaiting, none, at(env, 11, 20, 9)),
		party("finance", cosign.PartyConfirmed, at(env, 11, 21, 10), at(env, 11, 20, 9)),
	}})
	create(t, env, cosign.CollCosigns, "QZ-2026-0002", &cosign.Cosign{ID: "QZ-2026-0002", State: cosign.CosignWithdrawn,
		Parties: []cosign.CosignParty{party("sup_chengguan", cosign.PartyWaiting, none, at(env, 11, 25, 9))},
		History: []cosign.CosignEvent{{Time: at(env, 11, 24, 9), Action: "withdraw"}}})
	create(t, env, cosign.CollCosigns, "QZ-2026-0003", &cosign.Cosign{ID: "QZ-2026-0003", State: cosign.CosignOpen, Parties: []cosign.CosignParty{
		party("chengguan", cosign.PartyWaiting, none, at(env, 12, 3, 9)),
		party("sup_chengguan", cosign.PartyWaiting, none, at(env, 12, 20, 9)), // not due yet
	}})

	check := func(kind progress.CheckKind, body, period string, result progress.CheckResult, recorded time.Time) {
		id := progress.CheckID(kind, body, period)
		if err := progress.SeedCheck(context.Background(), env.Store, &progress.Check{ID: id, Kind: kind, Body: body, Period: period, Result: result, RecordedAt: recorded}); err != nil {
			t.Fatal(err)
		}
	}
	check(progress.CheckStationed, "group3", "2026-10", progress.CheckPending, none)
	check(progress.CheckStationed, "group3", "2026-11", progress.CheckPassed, at(env, 11, 20, 10))
	check(progress.CheckSupervisor, "sup_chengguan", "2026-10", progress.CheckIssues, at(env, 12, 2, 10)) // after its two months
	check(progress.CheckStationed, "group3", "2026-12", progress.CheckPending, none)                      // cycle not over

	attend := func(p string) meeting.MeetingAnswer {
		return meeting.MeetingAnswer{Person: p, Answer: meeting.AnswerAttend}
	}
	// A work meeting stored before invitee lists: the demo's work-meeting
	// invitees apply (the office, the teams, room1, room2, group3,
	// sup_chengguan). group3 asked for leave (excused); team2 neither
	// answered nor came (absent); the case office (sunli) and sup_hexi
	// (luoxia) were not invited and are not expected.
	create(t, env, meeting.CollMeetings, "HY-2026-0001", &meeting.Meeting{ID: "HY-2026-0001", Kind: meeting.MeetingWork, Time: at(env, 11, 2, 15), State: meeting.MeetingScheduled,
		Answers: []meeting.MeetingAnswer{attend("zhaoqiang"), attend("hejun"), attend("liuyang"), attend("lina"), {Person: "chenjing", Answer: meeting.AnswerLeave}}})
	create(t, env, meeting.CollMeetings, "HY-2026-0002", &meeting.Meeting{ID: "HY-2026-0002", Kind: meeting.MeetingJoint, Time: at(env, 11, 10, 15), State: meeting.MeetingCancelled})
	create(t, env, meeting.CollMeetings, "HY-2026-0003", &meeting.Meeting{ID: "HY-2026-0003", Kind: meeting.MeetingWork, Time: at(env, 12, 20, 15), State: meeting.MeetingScheduled})

	env.Clock.Set(at(env, 11, 13, 10))
	must(t, env.Bot.Audit.Record(ctx, nil, "clue.escalate", "XS-2026-0003", "body=group3"))
	must(t, env.Bot.Audit.Record(ctx, nil, "clue.remind", "XS-2026-0003", "body=group3"))
	env.Clock.Set(at(env, 11, 25, 10))
	must(t, env.Bot.Audit.Record(ctx, nil, "cosign.escalate", "QZ-2026-0001", "bodies=group3"))
	env.Clock.Set(at(env, 12, 15, 10))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// want is figure → body → record ids, worked out by hand from seed.
type want map[string]map[string][]string

var wantQ4 = want{
	FigClueAckLate:      {"room2": {"XS-2026-0001"}, "group3": {"XS-2026-0003"}},
	FigClueConcludeLate: {"room2": {"XS-2026-0002"}, "group3": {"XS-2026-0005"}},
	FigProgressMissing:  {"finance": {"ZG-2026-0001@2026-11", "ZG-2026-0002@2026-11"}, "housing": {"ZG-2026-0005@2026-11"}},
	FigCosignUnsigned:   {"group3": {"QZ-2026-0001"}, "finance": {"QZ-2026-0001"}, "chengguan": {"QZ-2026-0003"}},
	FigCheckMissing:     {"group3": {"stationed:group3:2026-10"}, "sup_chengguan": {"supervisor:sup_chengguan:2026-10"}},
	FigMeetingMissed:    {"team2": {"HY-2026-0001"}},
}

func TestFiguresEqualTheRecordsBehindThem(t *testing.T) {
	env := newEnv(t)
	tests := []struct {
		period string
		want   want
		escal  int
	}{
		{"2026年第四季度", wantQ4, 2},
		{"2026Q4", wantQ4, 2},
		{"2026年11月", want{
			FigClueAckLate:      {"room2": {"XS-2026-0001"}, "group3": {"XS-2026-0003"}},
			FigClueConcludeLate: {"room2": {"XS-2026-0002"}},
			FigProgressMissing:  wantQ4[FigProgressMissing],
			FigCosignUnsigned:   {"group3": {"QZ-2026-0001"}, "finance": {"QZ-2026-0001"}},
			FigCheckMissing:     {"group3": {"stationed:group3:2026-10"}},
			FigMeetingMissed:    {"team2": {"HY-2026-0001"}},
		}, 2},
		{"2026-12", want{
			FigCosignUnsigned: {"chengguan": {"QZ-2026-0003"}},
			FigCheckMissing:   {"sup_chengguan": {"supervisor:sup_chengguan:2026-10"}},
		}, 0},
		{"2026Q3", want{
			FigClueAckLate:     {"group3": {"XS-2026-0005"}},
			FigProgressMissing: {"finance": {"ZG-2026-0001@2026-09"}},
		}, 0},
		{"2026年", want{
			FigClueAckLate:      {"room2": {"XS-2026-0001"}, "group3": {"XS-2026-0003", "XS-2026-0005"}},
			FigClueConcludeLate: wantQ4[FigClueConcludeLate],
			FigProgressMissing:  {"finance": {"ZG-2026-0001@2026-09", "ZG-2026-0001@2026-11", "ZG-2026-0002@2026-11"}, "housing": {"ZG-2026-0005@2026-11"}},
			FigCosignUnsigned:   wantQ4[FigCosignUnsigned],
			FigCheckMissing:     wantQ4[FigCheckMissing],
			FigMeetingMissed:    wantQ4[FigMeetingMissed],
		}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.period, func(t *testing.T) {
			p, ok := ParsePeriod(tc.period, env.Bot.Loc)
			if !ok {
				t.Fatalf("period %q not parsed", tc.period)
			}
			a, err := Compute(context.Background(), env.Bot, env.Config, p, env.Bot.Now())
			if err != nil {
				t.Fatal(err)
			}
			sum := 0
			for _, f := range Figures {
				total := 0
				for _, body := range a.Rows {
					var ids []string
					for _, r := range a.Behind(f, body) {
						ids = append(ids, r.ID)
					}
					slices.Sort(ids)
					exp := slices.Clone(tc.want[f][body])
					slices.Sort(exp)
					if !slices.Equal(ids, exp) {
						t.Errorf("%s %s: records %v, want %v", f, body, ids, exp)
					}
					if a.Count(f, body) != len(exp) {
						t.Errorf("%s %s: figure %d, want %d records", f, body, a.Count(f, body), len(exp))
					}
					total += a.Count(f, body)
				}
				if a.Total(f) != total {
					t.Errorf("%s: total %d is not the sum of the bodies' %d", f, a.Total(f), total)
				}
				sum += total
			}
			if sum != len(a.Records) {
				t.Errorf("figures sum to %d, records %d", sum, len(a.Records))
			}
			for f, bodies := range tc.want {
				for body := range bodies {
					if !slices.Contains(a.Rows, body) {
						t.Errorf("%s: body %s has no row", f, body)
					}
				}
			}
			if len(a.Escalations) != tc.escal {
				t.Errorf("escalations %d, want %d", len(a.Escalations), tc.escal)
			}
		})
	}
}

func TestAssessCommandDrillsDownAndExports(t *testing.T) {
	env := newEnv(t)
	text := bottest.Text(env.Command("wangming", "考核 2026年第四季度"))
	bottest.MustContain(t, "card", text, "督查推进考核 · 2026Q4", "线索签收超时: 2", "整改进度未报: 3", "签字超时: 3", "缺席会议: 1",
		"区纪委监委派驻第三纪检监察组：线索签收超时 1、线索办结超期 1、签字超时 1、督查未记录 1\n", "区委第二巡察组：缺席会议 1", "区财政局党组：整改进度未报 2、签字超时 1")

	text = bottest.Text(env.Command("zhenghua", "考核 2026Q4 明细:签收超时 单位:第二监督检查室"))
	bottest.MustContain(t, "detail", text, "共 1 项", "XS-2026-0001", "2026-11-05 10:00 才签收")
	bottest.MustNotContain(t, "detail", text, "XS-2026-0003")
	text = bottest.Text(env.Command("wangming", "考核 2026Q4 明细:进度未报"))
	bottest.MustContain(t, "detail all", text, "共 3 项", "ZG-2026-0001@2026-11", "ZG-2026-0005@2026-11")

	resp := env.Command("wangming", "考核 2026Q4 导出")
	var file *bot.File
	for _, r := range resp.Replies {
		for i := range r.Files {
			file = &r.Files[i]
		}
	}
	if file == nil || !strings.HasSuffix(file.Name, ".xlsx") {
		t.Fatalf("no xlsx file in %+v", resp)
	}
	x := sheettest.Open(t, file.Data)
	if got := x.GetSheetList(); !slices.Equal(got, []string{"考核指标", "明细", "考核期间"}) {
		t.Errorf("sheets %v", got)
	}
	// One table per sheet: bold frozen header, autofilter, dimension,
	// fitted widths; counts are numbers.
	rows := sheettest.Table(t, file.Data, "考核指标")
	if rows[0][0] != "单位" || rows[0][len(Figures)+1] != "合计" {
		t.Errorf("figures header %v", rows[0])
	}
	for i := range rows[1:] {
		for col := 2; col <= len(Figures)+2; col++ {
			sheettest.Number(t, x, "考核指标", sheettest.Cell(col, i+2))
			if got := sheettest.Format(t, x, "考核指标", sheettest.Cell(col, i+2)); got != "1" {
				t.Errorf("count format %q at row %d column %d, want 1 (0)", got, i+2, col)
			}
		}
	}
	if hf, err := x.GetHeaderFooter("考核指标"); err != nil || hf == nil || !strings.Contains(hf.OddHeader, "2026Q4") {
		t.Errorf("print header %+v %v, want the period", hf, err)
	}
	period := sheettest.Table(t, file.Data, "考核期间")
	if want := []string{"考核期间", "起始日期", "截止日期", "数据截至"}; !slices.Equal(period[0], want) {
		t.Errorf("period header %v, want %v", period[0], want)
	}
	if want := []string{"2026Q4", "2026-10-01", "2026-12-31", bot.FormatTime(env.Clock.Now(), env.Bot.Loc)}; len(period) != 2 || !slices.Equal(period[1], want) {
		t.Errorf("period rows %v, want %v", period, want)
	}
	for col, fm := range map[int]string{2: "yyyy-mm-dd", 3: "yyyy-mm-dd", 4: "yyyy-mm-dd hh:mm"} {
		sheettest.Number(t, x, "考核期间", sheettest.Cell(col, 2))
		if got := sheettest.Format(t, x, "考核期间", sheettest.Cell(col, 2)); got != fm {
			t.Errorf("period column %d format %q, want %q", col, got, fm)
		}
	}
	// Every cell of the figures sheet equals the count of its records.
	byName := map[string][]string{}
	for _, row := range rows[1:] {
		byName[row[0]] = row
	}
	r := env.Bot.People.BaseRoster()
	for _, body := range []string{"room1", "room2", "group3", "sup_chengguan", "finance", "housing", "chengguan"} {
		b, _ := r.Body(body)
		row := byName[b.Name]
		if row == nil {
			t.Fatalf("no row for %s in %v", b.Name, rows)
		}
		for i, f := range Figures {
			if got, exp := row[i+1], fmt.Sprint(len(wantQ4[f][body])); got != exp {
				t.Errorf("xlsx %s %s = %s, want %s", b.Name, f, got, exp)
			}
		}
	}
	total := byName["合计"]
	if total == nil || total[len(Figures)+1] != "13" {
		t.Errorf("xlsx total row %v, want 13 in all", total)
	}
	recs := sheettest.Table(t, file.Data, "明细")
	for i, rec := range recs[1:] {
		sheettest.Number(t, x, "明细", sheettest.Cell(4, i+2))
		if got := sheettest.Format(t, x, "明细", sheettest.Cell(4, i+2)); got != "yyyy-mm-dd hh:mm" {
			t.Errorf("record %v time format %q", rec, got)
		}
	}
	if len(recs)-1 != 13 {
		t.Errorf("xlsx records sheet has %d records, want 13", len(recs)-1)
	}

	// Only the inspection office and the district committee.
	for _, who := range []string{"zhaoqiang", "lina", "zhoutao"} {
		bottest.MustContain(t, who, bottest.Text(env.Command(who, "考核 2026Q4")), "没有权限")
	}
	for _, line := range []string{"考核 2026Q5", "考核 明年", "考核 2026Q4 明细:迟到", "考核 2026Q4 单位:第二监督检查室", "考核 2026Q4 颜色:红"} {
		bottest.MustContain(t, line, bottest.Text(env.Command("wangming", line)), "示例")
	}
}

func TestSpecialReportPostedOnlyToTheCommitteeAndAudited(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	// Drafting is for the inspection office.
	bottest.MustContain(t, "committee drafts", bottest.Text(env.Command("zhenghua", "专报 2026Q4")), "没有权限")
	bottest.MustContain(t, "team drafts", bottest.Text(env.Command("lina", "专报 起草 2026Q4")), "没有权限")

	env.Adapter.Reset()
	resp := env.Direct("wangming", `专报 起草 2026年第四季度 备注:"建议对派驻第三纪检监察组进行约谈提醒"`)
	if len(env.Adapter.Sent()) != 0 {
		t.Errorf("drafting sent messages: %+v", env.Adapter.Sent())
	}
	if len(resp.Replies) != 1 || len(resp.Replies[0].Files) != 1 {
		t.Fatalf("want one reply with the document, got %+v", resp)
	}
	doc := resp.Replies[0].Files[0]
	if !strings.HasSuffix(doc.Name, ".md") || !strings.HasPrefix(doc.MIME, "text/markdown") {
		t.Errorf("document %s (%s)", doc.Name, doc.MIME)
	}
	md := string(doc.Data)
	bottest.MustContain(t, "markdown", md, "**巡纪协作专报**\n\n第1期\n\n报送单位：区委巡察办　　　　　　2026年12月15日\n\n---",
		"# 关于2026年第四季度巡纪协作工作问题和不足的专报", "统计期间：2026年10月1日 至 2026年12月31日", "本期巡纪协作中发现问题 13 项",
		"### （一）线索签收超时：2 项", "| 区纪委监委第二监督检查室 | 1 | XS-2026-0001 |", "| 区财政局党组 | 2 | ZG-2026-0001@2026-11、ZG-2026-0002@2026-11 |",
		"线索逾期未签收，已报告巡察办：XS-2026-0003", "建议对派驻第三纪检监察组进行约谈提醒")
	bottest.MustNotContain(t, "markdown", md, "clue.remind", "XS-2026-0004", "2026Q4", "考核 ", "2026-12-15", "2026-10-01", "2026-11-13")
	card := resp.Replies[0].Card
	bottest.MustContain(t, "summary", bottest.CardText(card), "ZB-2026-0001", "协作问题 13 项", "发送区委")

	// A non-office click is refused; the office's click sends it to 郑华 only.
	bottest.MustContain(t, "committee clicks", bottest.Text(env.Click("zhenghua", bottest.FindButton(t, card, ActionSend))), "没有权限")
	resp = env.Click("wangming", bottest.FindButton(t, card, ActionSend))
	bottest.MustContain(t, "sent", bottest.Text(resp), "已发送给区委联系人：郑华")
	sent := env.Adapter.Sent()
	if len(sent) != 1 || sent[0].UserID != "郑华" || sent[0].ChatID != "" {
		t.Fatalf("want one direct message to 郑华, got %+v", sent)
	}
	if len(sent[0].Files) != 1 || string(sent[0].Files[0].Data) != md {
		t.Error("the committee did not get the document as drafted")
	}
	bottest.MustContain(t, "notice", sent[0].Text, "专报", "ZB-2026-0001", "13")
	// Once only.
	bottest.MustContain(t, "again", bottest.Text(env.Command("wangming", "专报 发送 ZB-2026-0001")), "不再重复发送")
	if len(env.Adapter.Sent()) != 1 {
		t.Error("sent twice")
	}
	rep, err := bot.Records[SpecialReport](env.Store, CollReports).Get(ctx, "ZB-2026-0001")
	if err != nil {
		t.Fatal(err)
	}
	if rep.SentBy != "wangming" || !slices.Equal(rep.SentTo, []string{"zhenghua"}) || rep.SentAt.IsZero() {
		t.Errorf("report record: %+v", rep)
	}
	es, err := bottest.AuditLog(ctx, env.Bot, func(e bot.AuditEntry) bool { return strings.HasPrefix(e.Action, "report") })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+":"+e.Result+":"+e.Person)
	}
	exp := []string{"report.special:refused:zhenghua", "report.special:refused:lina", // the sub-command tried
		"report.draft:ok:wangming", "report.send:refused:zhenghua", "report.send:ok:wangming"}
	if !slices.Equal(got, exp) {
		t.Errorf("audit %v, want %v", got, exp)
	}
	for _, line := range []string{"专报 起草 2026Q9", "专报 发送", "专报 发送 ZB-x", "专报 起草 2026Q4 颜色:红"} {
		bottest.MustContain(t, line, bottest.Text(env.Command("wangming", line)), "示例")
	}
	bottest.MustContain(t, "missing", bottest.Text(env.Command("wangming", "专报 发送 ZB-2026-0404")), "找不到专报")
}

func TestParsePeriod(t *testing.T) {
	loc := bottest.Shanghai
	tests := []struct {
		in, label, from, to string
	}{
		{"2026-11", "2026-11", "2026-11-01", "2026-12-01"},
		{"2026年11月", "2026-11", "2026-11-01", "2026-12-01"},
		{"2026年1月", "2026-01", "2026-01-01", "2026-02-01"},
		{"2026Q4", "2026Q4", "2026-10-01", "2027-01-01"},
		{"2026q1", "2026Q1", "2026-01-01", "2026-04-01"},
		{"2026年第四季度", "2026Q4", "2026-10-01", "2027-01-01"},
		{"2026年第2季度", "2026Q2", "2026-04-01", "2026-07-01"},
		{"2026", "2026", "2026-01-01", "2027-01-01"},
		{"2026年", "2026", "2026-01-01", "2027-01-01"},
	}
	for _, tc := range tests {
		p, ok := ParsePeriod(tc.in, loc)
		if !ok || p.Label != tc.label || bot.FormatDate(p.From, loc) != tc.from || bot.FormatDate(p.To, loc) != tc.to {
			t.Errorf("%s: %+v %v", tc.in, p, ok)
		}
	}
	for _, bad := range []string{"", "2026-13", "2026Q5", "1999", "2026年第五季度", "Q4", "11月", "2026-11-01"} {
		if _, ok := ParsePeriod(bad, loc); ok {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestHelpTexts(t *testing.T) {
	env := newEnv(t)
	for _, lang := range []string{"zh-CN", "en"} {
		for _, k := range []string{"cmd.assess.summary", "cmd.assess.usage", "cmd.assess.example", "cmd.report.summary"} {
			if !env.Catalog.Has(lang, k) {
				t.Errorf("%s: missing %s", lang, k)
			}
		}
		for _, s := range env.Bot.Router.Find("report").Subs {
			for _, k := range []string{"summary", "usage", "example"} {
				if key := "cmd.report." + s.Name + "." + k; !env.Catalog.Has(lang, key) {
					t.Errorf("%s: missing %s", lang, key)
				}
			}
		}
	}
}
