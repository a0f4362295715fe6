package progress

import (
	"bytes"
	"fmt"
	"image/png"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// noticeSetup builds December 2026: finance with one item at 60% and one
// done, Chengguan with one overdue item, Housing silent in the
// collection; the collection closes on 9 December.
func noticeSetup(t *testing.T) (env *bottest.Env, fin, fin2, cg, hs string) {
	t.Helper()
	env = newEnv(t)
	fin = create(t, env, financeItem)
	fin2 = create(t, env, financeItem2)
	cg = create(t, env, `城关镇党委 "村级财务公开不及时" 期限:2026-12-09 监督:城关镇派出监察员办公室`)
	hs = create(t, env, housingItem)
	runTask(t, env, TaskCollect) // 1 December 09:00, deadline 8 December
	at(env, 2026, 12, 3, 10, 0)
	env.Command("zhoutao", "进度 "+fin+" 60% 已完成制度修订")
	env.Command("zhoutao", "进度 "+fin2+" 已完成")
	env.Command("wufang", "进度 "+cg+" 30%")
	at(env, 2026, 12, 9, 0, 10)
	runJobs(t, env)
	at(env, 2026, 12, 10, 10, 0)
	return env, fin, fin2, cg, hs
}

// expectFigures recounts the figures from the stored items, the way a
// person would from the export.
func expectFigures(t *testing.T, env *bottest.Env, month string) map[string]bot.OrgFigures {
	t.Helper()
	items, err := bot.Records[bot.Item](env.Store, bot.CollItems).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := loadMonth(t, env, month)
	now := env.Clock.Now()
	out := map[string]bot.OrgFigures{}
	for _, it := range items {
		f := out[it.Unit]
		f.Unit = it.Unit
		f.Total++
		if it.Status == bot.ItemDone {
			f.Done++
		} else {
			f.Open++
			if bot.FormatDate(now, env.Bot.Loc) > bot.FormatDate(it.Deadline, env.Bot.Loc) {
				f.Overdue++
			}
		}
		if it.Immediate {
			f.Immediate++
		}
		f.PercentSum += it.Percent
		if slices.Contains(it.Unreported, month) {
			f.Unreported++
		}
		out[it.Unit] = f
	}
	if len(m.Unreported()) == 0 && len(out) == 0 {
		t.Fatal("nothing to check")
	}
	return out
}

func TestMonthlyNoticeFiguresMatchTheRecords(t *testing.T) {
	env, fin, _, cg, hs := noticeSetup(t)
	env.Adapter.Reset()
	runTask(t, env, TaskMonthlyNotice)

	want := expectFigures(t, env, "2026-12")
	m := loadMonth(t, env, "2026-12")
	if len(m.Figures) != 3 {
		t.Fatalf("figures %+v", m.Figures)
	}
	var total bot.OrgFigures
	for _, f := range m.Figures {
		if f != want[f.Unit] {
			t.Errorf("%s: notice %+v, records %+v", f.Unit, f, want[f.Unit])
		}
		total.Total += f.Total
		total.Done += f.Done
		total.Open += f.Open
	}
	if total.Total != 4 || total.Done != 1 || total.Open != 3 {
		t.Errorf("totals %+v", total)
	}
	fig := func(u string) bot.OrgFigures { f, _ := m.FiguresOf(u); return f }
	if f := fig("finance"); f.Rate() != 50 || f.Average() != 80 || f.Immediate != 1 {
		t.Errorf("finance rate %d average %d", f.Rate(), f.Average())
	}
	if f := fig("chengguan"); f.Overdue != 1 || f.Unreported != 0 {
		t.Errorf("chengguan %+v", f)
	}
	if f := fig("housing"); f.Unreported != 1 || f.Overdue != 0 {
		t.Errorf("housing %+v", f)
	}
	// The rule: weak units by completion rate, then most overdue.
	if !slices.Equal(m.Special, []string{"chengguan", "housing"}) {
		t.Errorf("special %v", m.Special)
	}
	if len(m.Escalated) != 0 {
		t.Errorf("escalated in the first month: %v", m.Escalated)
	}

	posted := postedIn(env, "巡察办工作群")
	if len(posted) != 1 {
		t.Fatalf("notice posted %d times to the office group", len(posted))
	}
	n := posted[0]
	text := outText(n)
	for _, s := range []string{
		env.TZ("progress.notice.title", "month", "2026年12月"),
		env.TZ("progress.notice.total", "total", 4, "done", 1, "open", 3, "overdue", 1, "unreported", 1, "rate", 25, "average", 48),
		env.TZ("progress.notice.org", "total", 2, "done", 1, "open", 1, "overdue", 0, "unreported", 0, "rate", 50, "average", 80),
		env.TZ("progress.notice.org", "total", 1, "done", 0, "open", 1, "overdue", 1, "unreported", 0, "rate", 0, "average", 30),
		env.TZ("progress.notice.org", "total", 1, "done", 0, "open", 1, "overdue", 0, "unreported", 1, "rate", 0, "average", 0),
		env.TZ("progress.notice.special", "units", "城关镇党委、区住建局党组"),
		env.TZ("progress.notice.rule", "count", 2),
		env.TZ("progress.change.first"),
	} {
		contains(t, text, s)
	}
	if len(n.Files) != 2 || n.Files[0].MIME != "image/png" || n.Files[1].MIME != XLSXMIME {
		t.Fatalf("attachments %+v", n.Files)
	}
	if n.Files[0].Name != "整改完成情况-2026-12.png" || n.Files[1].Name != "整改进度明细-2026-12.xlsx" {
		t.Errorf("file names %s, %s", n.Files[0].Name, n.Files[1].Name)
	}
	img, err := png.Decode(bytes.NewReader(n.Files[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 700 {
		t.Errorf("chart %v, want the configured 1200×700", b)
	}
	checkExport(t, env, n.Files[1].Data, map[string]string{fin: "60", cg: "30", hs: "0"})
	if a := audits(t, env, "progress.notice"); len(a) != 1 || a[0].Record != "2026-12" || !strings.Contains(a[0].Detail, "total=4 done=1 open=3 overdue=1 unreported=1") {
		t.Errorf("notice audit %+v", a)
	}

	// A repeated run posts nothing.
	env.Adapter.Reset()
	runTask(t, env, TaskMonthlyNotice)
	if len(env.Adapter.Sent()) != 0 {
		t.Errorf("repeated notice sent %d messages", len(env.Adapter.Sent()))
	}
}

// checkExport opens the XLSX with excelize and checks its rows against
// the stored items: one row per item with the right unit and progress,
// and one row per progress entry.
func checkExport(t *testing.T, env *bottest.Env, data []byte, percents map[string]string) {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !slices.Equal(got, []string{"整改事项", "进度记录"}) {
		t.Fatalf("sheets %v", got)
	}
	rows, err := f.GetRows("整改事项")
	if err != nil {
		t.Fatal(err)
	}
	items, _ := bot.Records[bot.Item](env.Store, bot.CollItems).List(ctx)
	if len(rows) != len(items)+1 {
		t.Fatalf("%d item rows for %d items", len(rows)-1, len(items))
	}
	if rows[0][0] != "编号" || rows[0][1] != "责任单位" || rows[0][7] != "进度（%）" {
		t.Errorf("header %v", rows[0])
	}
	entries := 0
	r := env.Bot.BaseRoster()
	for _, it := range items {
		entries += len(it.Progress)
		idx := slices.IndexFunc(rows, func(row []string) bool { return row[0] == it.ID })
		if idx < 0 {
			t.Errorf("%s missing from the export", it.ID)
			continue
		}
		row := rows[idx]
		b, _ := r.Body(it.Unit)
		if row[1] != b.Name || row[2] != it.Title || row[4] != bot.FormatDate(it.Deadline, env.Bot.Loc) || row[7] != strconv.Itoa(it.Percent) {
			t.Errorf("row %v for %+v", row, it)
		}
		if p, ok := percents[it.ID]; ok && row[7] != p {
			t.Errorf("%s exported at %s%%, want %s", it.ID, row[7], p)
		}
		if it.Status == bot.ItemDone && row[6] != "已完成" {
			t.Errorf("%s status %q", it.ID, row[6])
		}
	}
	logRows, err := f.GetRows("进度记录")
	if err != nil {
		t.Fatal(err)
	}
	if len(logRows) != entries+1 {
		t.Errorf("%d progress rows for %d entries", len(logRows)-1, entries)
	}
	for _, row := range logRows[1:] {
		if len(row) < 7 || !reNewID.MatchString(row[0]) || row[4] != "console" {
			t.Errorf("progress row %v", row)
		}
	}
}

func TestSecondMonthShowsChangesAndEscalates(t *testing.T) {
	env, fin, _, cg, _ := noticeSetup(t)
	runTask(t, env, TaskMonthlyNotice)

	at(env, 2027, 1, 4, 9, 0) // first working day after New Year
	runTask(t, env, TaskCollect)
	if d := bot.FormatDate(loadMonth(t, env, "2027-01").Deadline, env.Bot.Loc); d != "2027-01-11" {
		t.Errorf("January deadline %s", d)
	}
	at(env, 2027, 1, 5, 10, 0)
	env.Command("wufang", "进度 "+cg+" 100% 已全部公开")
	env.Command("zhoutao", "进度 "+fin+" 80%")
	at(env, 2027, 1, 12, 10, 0)
	env.Adapter.Reset()
	runTask(t, env, TaskMonthlyNotice) // closes January's collection first

	m := loadMonth(t, env, "2027-01")
	if !m.Closed() || !slices.Equal(m.Unreported(), []string{"housing"}) {
		t.Fatalf("January closed %v unreported %v", m.Closed(), m.Unreported())
	}
	if !slices.Equal(m.Escalated, []string{"housing"}) {
		t.Errorf("escalated %v, want housing (unreported two months running)", m.Escalated)
	}
	want := expectFigures(t, env, "2027-01")
	for _, f := range m.Figures {
		if f != want[f.Unit] {
			t.Errorf("%s: notice %+v, records %+v", f.Unit, f, want[f.Unit])
		}
	}
	committee := postedIn(env, "区委分管领导")
	if len(committee) != 1 {
		t.Fatalf("escalation posts %d", len(committee))
	}
	contains(t, committee[0].Text, env.TZ("progress.escalate.text", "unit", "区住建局党组", "months", 2, "month", "2027年1月",
		"overdue", 0, "unreported", 1, "open", 1, "rate", 0))
	if a := audits(t, env, "progress.escalate"); len(a) != 1 || a[0].Record != "housing" {
		t.Errorf("escalation audit %+v", a)
	}
	text := outText(postedIn(env, "巡察办工作群")[0])
	contains(t, text, env.TZ("progress.notice.escalate", "months", 2, "units", "区住建局党组"))
	contains(t, text, env.TZ("progress.change.text", "rate", "+100", "done", 1, "added", 0, "overdue", "-1"))
	contains(t, text, env.TZ("progress.change.text", "rate", "0", "done", 0, "added", 0, "overdue", "0"))
	if !slices.Equal(m.Special, []string{"housing"}) {
		t.Errorf("special %v", m.Special)
	}
}

func TestSpecialCandidatesRule(t *testing.T) {
	f := func(unit string, total, done, overdue, unreported, sum int) bot.OrgFigures {
		return bot.OrgFigures{Unit: unit, Total: total, Done: done, Open: total - done, Overdue: overdue, Unreported: unreported, PercentSum: sum}
	}
	orgs := []bot.OrgFigures{
		f("a", 4, 2, 1, 0, 300), // 50%
		f("b", 4, 1, 1, 0, 200), // 25%, 1 overdue
		f("c", 4, 1, 2, 0, 200), // 25%, 2 overdue: before b
		f("d", 4, 0, 0, 0, 0),   // 0% but nothing overdue or unreported: not weak
		f("e", 4, 1, 1, 0, 100), // ties b on rate and overdue; lower average: before b
		f("g", 4, 1, 1, 1, 200), // more unreported: before b and e
	}
	for _, tc := range []struct {
		n    int
		want []string
	}{
		{1, []string{"c"}}, {3, []string{"c", "g", "e"}}, {10, []string{"c", "g", "e", "b", "a"}}, {0, nil},
	} {
		if got := SpecialCandidates(orgs, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("n=%d: %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestChartFileHasTheExpectedSize(t *testing.T) {
	env, _, _, _, _ := noticeSetup(t)
	h, err := newHandler(env.Bot, env.Config)
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := h.report(ctx, env.Bot.BaseRoster(), env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{1200, 700}, {640, 400}} {
		for _, lang := range []string{"zh-CN", "en"} {
			data, err := Chart(env.Bot, env.Bot.BaseRoster(), rep, lang, size[0], size[1])
			if err != nil {
				t.Fatal(err)
			}
			if len(data) < 1000 {
				t.Errorf("chart of %d bytes", len(data))
			}
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != size[0] || b.Dy() != size[1] {
				t.Errorf("%s: chart %v, want %dx%d", lang, b, size[0], size[1])
			}
		}
	}
	if _, err := Chart(env.Bot, env.Bot.BaseRoster(), &Report{Month: "2026-12"}, "zh-CN", 800, 600); err == nil {
		t.Error("a chart without organisations was drawn")
	}
}

func TestReportAndExportCommandsAttachFiles(t *testing.T) {
	env, _, _, _, _ := noticeSetup(t)
	resp := env.Command("lina", "进度 汇总")
	if len(resp.Replies) != 1 || len(resp.Replies[0].Files) != 2 {
		t.Fatalf("report reply %+v", resp.Replies)
	}
	contains(t, bottest.Text(resp), env.TZ("progress.notice.total", "total", 4, "done", 1, "open", 3, "overdue", 1, "unreported", 1, "rate", 25, "average", 48))
	resp = env.Command("zhaoqiang", "progress export")
	if len(resp.Replies) != 1 || len(resp.Replies[0].Files) != 1 {
		t.Fatalf("export reply %+v", resp.Replies)
	}
	checkExport(t, env, resp.Replies[0].Files[0].Data, nil)
	resp = env.Command("zhoutao", "进度 导出")
	contains(t, bottest.Text(resp), env.TZ("error.forbidden"))
	if a := audits(t, env, "progress.export"); len(a) != 2 || a[0].Result != bot.ResultOK || a[1].Result != bot.ResultRefused {
		t.Errorf("export audit %+v", a)
	}
	// English export has English sheet names.
	data, err := Export(ctx, env.Bot, env.Clock.Now(), "en")
	if err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := fmt.Sprint(f.GetSheetList()); got != "[Items Progress]" {
		t.Errorf("English sheets %s", got)
	}
}
