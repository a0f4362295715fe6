package progress

import (
	"bytes"
	"fmt"
	"image/png"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/internal/sheet/sheettest"
	"github.com/xunji-bot/xunji/commands/progress/chart"
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
	env.Command("chenjing", "进度 销号 "+fin2) // its stationed group confirms: 已销号
	env.Command("wufang", "进度 "+cg+" 30%")
	at(env, 2026, 12, 9, 0, 10)
	runJobs(t, env)
	at(env, 2026, 12, 10, 10, 0)
	return env, fin, fin2, cg, hs
}

// expectFigures recounts the figures from the stored items, the way a
// person would from the export.
func expectFigures(t *testing.T, env *bottest.Env, month string) map[string]OrgFigures {
	t.Helper()
	items, err := bot.Records[Item](env.Store, CollItems).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := loadMonth(t, env, month)
	now := env.Clock.Now()
	out := map[string]OrgFigures{}
	for _, it := range items {
		f := out[it.Unit]
		f.Unit = it.Unit
		f.Total++
		switch it.Status {
		case ItemDone:
			f.Done++
		case ItemAwaiting:
			f.Awaiting++
		default:
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
	var total OrgFigures
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
	fig := func(u string) OrgFigures { f, _ := m.FiguresOf(u); return f }
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
		env.TZ("progress.notice.total", "total", 4, "done", 1, "awaiting", 0, "open", 3, "overdue", 1, "unreported", 1, "rate", 25, "average", 48),
		env.TZ("progress.notice.org", "total", 2, "done", 1, "awaiting", 0, "open", 1, "overdue", 0, "unreported", 0, "rate", 50, "average", 80),
		env.TZ("progress.notice.org", "total", 1, "done", 0, "awaiting", 0, "open", 1, "overdue", 1, "unreported", 0, "rate", 0, "average", 30),
		env.TZ("progress.notice.org", "total", 1, "done", 0, "awaiting", 0, "open", 1, "overdue", 0, "unreported", 1, "rate", 0, "average", 0),
		env.TZ("progress.notice.special", "units", "城关镇党委、区住建局党组"),
		env.TZ("progress.notice.rule", "count", 2),
		env.TZ("progress.change.first"),
	} {
		contains(t, text, s)
	}
	if len(n.Files) != 2 || n.Files[0].MIME != "image/png" || n.Files[1].MIME != XLSXMIME {
		t.Fatalf("attachments %+v", n.Files)
	}
	if n.Files[0].Name != "整改完成情况-2026-12.png" || n.Files[1].Name != "整改进度汇总-2026-12.xlsx" {
		t.Errorf("file names %s, %s", n.Files[0].Name, n.Files[1].Name)
	}
	img, err := png.Decode(bytes.NewReader(n.Files[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 700 {
		t.Errorf("chart %v, want the configured 1200×700", b)
	}
	checkExport(t, env, n.Files[1].Data, map[string]string{fin: "60", cg: "30", hs: "0"}, "线索办理", "线索明细")
	if a := audits(t, env, "progress.notice"); len(a) != 1 || a[0].Record != "2026-12" || !strings.Contains(a[0].Detail, "total=4 done=1 awaiting=0 open=3 overdue=1 unreported=1") {
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
// and one row per progress entry; every sheet is one table (bold frozen
// header, autofilter, dimension, fitted widths) with typed cells: dates
// and times as Excel dates of the Shanghai wall clock, percentages as
// fractions with the 0% format, and the platform by its name.
// Sheets beyond the two of the export (the notice's clue sheets) are
// named in extra.
func checkExport(t *testing.T, env *bottest.Env, data []byte, percents map[string]string, extra ...string) {
	t.Helper()
	f := sheettest.Open(t, data)
	if got := f.GetSheetList(); !slices.Equal(got, append([]string{"整改事项", "进度记录"}, extra...)) {
		t.Fatalf("sheets %v", got)
	}
	for _, name := range extra {
		sheettest.Table(t, data, name)
	}
	rows := sheettest.Table(t, data, "整改事项")
	items, _ := bot.Records[Item](env.Store, CollItems).List(ctx)
	if len(rows) != len(items)+1 {
		t.Fatalf("%d item rows for %d items", len(rows)-1, len(items))
	}
	want := []string{"编号", "责任单位", "整改事项", "监督单位", "整改时限", "即知即改", "状态", "进度（%）", "是否逾期", "最近报送时间", "最近报送人", "最近报送说明", "未报送月份", "登记时间"}
	if !slices.Equal(rows[0], want) {
		t.Errorf("header %v, want %v", rows[0], want)
	}
	loc := env.Bot.Loc
	entries := 0
	r := env.Bot.People.BaseRoster()
	for _, it := range items {
		entries += len(it.Progress)
		idx := slices.IndexFunc(rows, func(row []string) bool { return row[0] == it.ID })
		if idx < 0 {
			t.Errorf("%s missing from the export", it.ID)
			continue
		}
		row := rows[idx]
		b, _ := r.Body(it.Unit)
		if row[1] != b.Name || row[2] != it.Title || row[4] != bot.FormatDate(it.Deadline, loc) || row[7] != strconv.Itoa(it.Percent)+"%" ||
			row[13] != bot.FormatTime(it.CreatedAt, loc) {
			t.Errorf("row %v for %+v", row, it)
		}
		if p, ok := percents[it.ID]; ok && row[7] != p+"%" {
			t.Errorf("%s exported at %s, want %s%%", it.ID, row[7], p)
		}
		if it.Status == ItemDone && row[6] != "已销号" {
			t.Errorf("%s status %q", it.ID, row[6])
		}
		if n := len(it.Progress); n > 0 {
			e := it.Progress[n-1]
			if row[9] != bot.FormatTime(e.Time, loc) || row[10] != r.PersonName(e.Person, "zh-CN") || (e.Note != "" && row[11] != e.Note) {
				t.Errorf("%s last update %v, want %+v", it.ID, row[9:12], e)
			}
		}
		// Typed cells.
		line := idx + 1
		if got := sheettest.Number(t, f, "整改事项", sheettest.Cell(5, line)); got != excelDay(it.Deadline, loc) {
			t.Errorf("%s deadline serial %v, want %v", it.ID, got, excelDay(it.Deadline, loc))
		}
		if got := sheettest.Number(t, f, "整改事项", sheettest.Cell(8, line)); got != float64(it.Percent)/100 {
			t.Errorf("%s percent stored as %v", it.ID, got)
		}
		if got := sheettest.Number(t, f, "整改事项", sheettest.Cell(14, line)); !near(got, excelTime(it.CreatedAt, loc)) {
			t.Errorf("%s created serial %v, want %v", it.ID, got, excelTime(it.CreatedAt, loc))
		}
		for col, fm := range map[int]string{5: "yyyy-mm-dd", 8: "9", 14: "yyyy-mm-dd hh:mm"} {
			if got := sheettest.Format(t, f, "整改事项", sheettest.Cell(col, line)); got != fm {
				t.Errorf("%s column %d format %q, want %q", it.ID, col, got, fm)
			}
		}
	}
	logRows := sheettest.Table(t, data, "进度记录")
	if len(logRows) != entries+1 {
		t.Errorf("%d progress rows for %d entries", len(logRows)-1, entries)
	}
	for i, row := range logRows[1:] {
		if len(row) < 7 || !reNewID.MatchString(row[0]) || row[4] != "控制台" {
			t.Errorf("progress row %v", row)
		}
		sheettest.Number(t, f, "进度记录", sheettest.Cell(3, i+2))
		for col, fm := range map[int]string{3: "yyyy-mm-dd hh:mm", 6: "9", 7: "9"} {
			if got := sheettest.Format(t, f, "进度记录", sheettest.Cell(col, i+2)); got != fm {
				t.Errorf("progress row %d column %d format %q, want %q", i+2, col, got, fm)
			}
		}
	}
}

// excelTime is the Excel serial of t's wall clock in loc, computed apart
// from the code under test: days since 1899-12-30.
func excelTime(t time.Time, loc *time.Location) float64 {
	w := t.In(loc)
	naive := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC)
	return naive.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
}

// excelDay is the serial of t's day in loc.
func excelDay(t time.Time, loc *time.Location) float64 {
	w := t.In(loc)
	return excelTime(time.Date(w.Year(), w.Month(), w.Day(), 0, 0, 0, 0, loc), loc)
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

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
	env.Command("liuyang", "进度 销号 "+cg+" 已核实")
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
	f := func(unit string, total, done, overdue, unreported, sum int) OrgFigures {
		return OrgFigures{Unit: unit, Total: total, Done: done, Open: total - done, Overdue: overdue, Unreported: unreported, PercentSum: sum}
	}
	orgs := []OrgFigures{
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
	rep, _, err := h.report(ctx, env.Bot.People.BaseRoster(), env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range [][2]int{{1200, 700}, {640, 400}} {
		for _, lang := range []string{"zh-CN", "en"} {
			data, err := Chart(env.Bot, env.Bot.People.BaseRoster(), rep, lang, size[0], size[1])
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
	if _, err := Chart(env.Bot, env.Bot.People.BaseRoster(), &Report{Month: "2026-12"}, "zh-CN", 800, 600); err == nil {
		t.Error("a chart without organisations was drawn")
	}
}

// The notice chart ranks the units by completion rate, then average
// progress (not roster order), marks overdue and unreported items, says
// when the figures were taken, and lays out inside its canvas without
// overlaps in both languages and at the smallest configurable size.
func TestChartRanksMarksAndDates(t *testing.T) {
	env, _, _, _, _ := noticeSetup(t)
	h, err := newHandler(env.Bot, env.Config)
	if err != nil {
		t.Fatal(err)
	}
	r := env.Bot.People.BaseRoster()
	rep, _, err := h.report(ctx, r, env.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var roster []string
	for _, f := range rep.Orgs {
		roster = append(roster, f.Unit)
	}
	if want := []string{"finance", "housing", "chengguan"}; !slices.Equal(roster, want) {
		t.Fatalf("report order %v; the test expects roster order %v", roster, want)
	}
	bars, err := chartBars(env.Bot, r, rep, "zh-CN", 1200, 700)
	if err != nil {
		t.Fatal(err)
	}
	// finance 50 % done; chengguan 0 % done at 30 % on average, one item
	// overdue; housing 0 % at 0 %, one not reported.
	if want := []string{"区财政局党组", "城关镇党委", "区住建局党组"}; !slices.Equal(bars.Labels, want) {
		t.Errorf("chart rows %v, want %v", bars.Labels, want)
	}
	if want := []string{"", "逾期 1", "未报送 1"}; !slices.Equal(bars.Marks, want) {
		t.Errorf("chart marks %q, want %q", bars.Marks, want)
	}
	if !slices.Equal(bars.Series[0].Values, []float64{50, 0, 0}) || !slices.Equal(bars.Series[1].Values, []float64{80, 30, 0}) {
		t.Errorf("chart values %v / %v", bars.Series[0].Values, bars.Series[1].Values)
	}
	if want := "数据截至 2026-12-10 10:00"; bars.AsOf != want || bars.Max != 100 {
		t.Errorf("chart as-of %q max %v, want %q and 100", bars.AsOf, bars.Max, want)
	}
	en, err := chartBars(env.Bot, r, rep, "en", 1200, 700)
	if err != nil {
		t.Fatal(err)
	}
	if en.AsOf != "Data as of 2026-12-10 10:00" || !slices.Equal(en.Marks, []string{"", "overdue 1", "not reported 1"}) {
		t.Errorf("English chart as-of %q marks %q", en.AsOf, en.Marks)
	}
	for _, size := range [][2]int{{1200, 700}, {300, 200}} {
		for _, lang := range []string{"zh-CN", "en"} {
			b, err := chartBars(env.Bot, r, rep, lang, size[0], size[1])
			if err != nil {
				t.Fatal(err)
			}
			checkChartLayout(t, b)
		}
	}
}

// checkChartLayout fails when a box of the chart leaves the canvas or
// overlaps another, or the PNG drawn is not the declared size or has no
// ink where a text box is.
func checkChartLayout(t *testing.T, b chart.Bars) {
	t.Helper()
	l, err := b.Layout()
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range l.Boxes {
		if !a.Inside(b.Width, b.Height) {
			t.Errorf("%d×%d: %s %q outside the canvas: %+v", b.Width, b.Height, a.Kind, a.Text, a)
		}
		for _, c := range l.Boxes[i+1:] {
			if a.Overlaps(c) {
				t.Errorf("%d×%d: %s %q overlaps %s %q", b.Width, b.Height, a.Kind, a.Text, c.Kind, c.Text)
			}
		}
	}
	data, err := l.PNG()
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds(); got.Dx() != b.Width || got.Dy() != b.Height {
		t.Errorf("PNG %v, want %d×%d", got, b.Width, b.Height)
	}
	for _, a := range l.Boxes {
		if !a.IsText() {
			continue
		}
		drawn := false
		for y := int(a.Y); y < int(a.Y+a.H+1) && !drawn; y++ {
			for x := int(a.X); x < int(a.X+a.W+1) && !drawn; x++ {
				if r, g, b, _ := img.At(x, y).RGBA(); min(r, g, b) < 0xc000 {
					drawn = true
				}
			}
		}
		if !drawn {
			t.Errorf("%d×%d: nothing drawn for %s %q", b.Width, b.Height, a.Kind, a.Text)
		}
	}
}

func TestReportAndExportCommandsAttachFiles(t *testing.T) {
	env, _, _, _, _ := noticeSetup(t)
	resp := env.Command("lina", "进度 汇总")
	if len(resp.Replies) != 1 || len(resp.Replies[0].Files) != 2 {
		t.Fatalf("report reply %+v", resp.Replies)
	}
	report := resp
	contains(t, bottest.Text(resp), env.TZ("progress.notice.total", "total", 4, "done", 1, "awaiting", 0, "open", 3, "overdue", 1, "unreported", 1, "rate", 25, "average", 48))
	resp = env.Command("zhaoqiang", "progress export")
	if len(resp.Replies) != 1 || len(resp.Replies[0].Files) != 1 {
		t.Fatalf("export reply %+v", resp.Replies)
	}
	checkExport(t, env, resp.Replies[0].Files[0].Data, nil)
	// 进度 汇总 (the export with the clue sheets) and 进度 导出 name their
	// workbooks apart.
	month := MonthID(env.Clock.Now(), env.Bot.Loc)
	if got, want := report.Replies[0].Files[1].Name, "整改进度汇总-"+month+".xlsx"; got != want {
		t.Errorf("report workbook %q, want %q", got, want)
	}
	if got, want := resp.Replies[0].Files[0].Name, "整改进度明细-"+month+".xlsx"; got != want {
		t.Errorf("export workbook %q, want %q", got, want)
	}
	if err := env.Bot.People.SetPrefs(ctx, "wangming", bot.Prefs{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	english := func(line string) *bot.Response { return env.Command("wangming", line) }
	if got, want := english("progress export").Replies[0].Files[0].Name, "rectification-items-"+month+".xlsx"; got != want {
		t.Errorf("English export workbook %q, want %q", got, want)
	}
	if got, want := english("progress report").Replies[0].Files[1].Name, "rectification-summary-"+month+".xlsx"; got != want {
		t.Errorf("English report workbook %q, want %q", got, want)
	}
	resp = env.Command("zhoutao", "进度 导出")
	contains(t, bottest.Text(resp), env.TZ("error.forbidden"))
	if a := audits(t, env, "progress.export"); len(a) != 3 || a[1].Result != bot.ResultOK || a[0].Result != bot.ResultOK || a[2].Result != bot.ResultRefused {
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

// Confidential markers in every seeded clue's title and substance: none
// may appear in anything the notice sends.
const (
	secretTitle     = "绝密标题"
	secretSubstance = "举报内容"
)

// seedClues stores clues directly, as the clue command would have left
// them, around a notice on 10 December 2026 10:00 whose period starts a
// month before. Comments give what the notice should count.
func seedClues(t *testing.T, env *bottest.Env) {
	t.Helper()
	ts := func(m time.Month, d, hh int) time.Time { return time.Date(2026, m, d, hh, 0, 0, 0, bottest.Shanghai) }
	day := func(m time.Month, d int) time.Time { return ts(m, d, 0) }
	var zero time.Time
	for i, c := range []struct {
		body                         string
		status                       clue.ClueStatus
		created, ack, verify, closed time.Time
		deadline                     time.Time
		priority                     bool
	}{
		{"room2", clue.ClueTransferred, ts(11, 20, 9), zero, zero, zero, day(12, 31), false},                     // 1 new, pending
		{"room2", clue.ClueAcknowledged, ts(10, 1, 9), ts(10, 2, 9), zero, zero, day(11, 30), true},              // 2 overdue 10 days, priority
		{"group3", clue.ClueVerifying, ts(11, 15, 9), ts(11, 16, 9), ts(11, 20, 9), zero, day(12, 9), false},     // 3 new, overdue 1 day
		{"group3", clue.ClueConcluded, ts(9, 1, 9), ts(9, 2, 9), ts(9, 3, 9), ts(11, 25, 9), day(10, 31), false}, // 4 concluded in the period
		{"group3", clue.ClueConcluded, ts(9, 1, 9), ts(9, 2, 9), ts(9, 3, 9), ts(10, 25, 9), day(10, 31), false}, // 5 closed before: not counted
		{"sup_chengguan", clue.ClueReturned, ts(12, 1, 9), zero, zero, ts(12, 2, 9), day(12, 31), false},         // 6 new, returned
		{"room2", clue.ClueTransferred, ts(12, 10, 9), zero, zero, zero, day(12, 10), true},                      // 7 new, due today: not overdue
		{"case", clue.ClueAcknowledged, ts(11, 1, 9), ts(11, 2, 9), zero, zero, day(12, 31), true},               // 8 priority
		{"room1", clue.ClueTransferred, ts(8, 1, 9), zero, zero, zero, day(9, 30), false},                        // 9 overdue 71 days
		{"room2", clue.ClueTransferred, ts(11, 10, 10), zero, zero, zero, day(11, 10), false},                    // 10 at the period start: not new; overdue 30 days
		{"room2", clue.ClueTransferred, ts(12, 10, 11), zero, zero, zero, day(12, 31), false},                    // 11 after the notice: not counted
		{"room1", clue.ClueVerifying, ts(11, 12, 9), ts(11, 13, 9), ts(11, 14, 9), zero, time.Time{}, false},     // 12 new, no deadline
	} {
		id := fmt.Sprintf("XS-2026-%04d", i+1)
		cl := &clue.Clue{
			ID: id, FromBody: "team1", Body: c.body, OrganisationName: "区财政局党组",
			Title: fmt.Sprintf("%s%d", secretTitle, i+1), Substance: fmt.Sprintf("%s%d：某某违规发放津贴", secretSubstance, i+1),
			Deadline: c.deadline, Priority: c.priority, Status: c.status, CreatedBy: "lina",
			CreatedAt: c.created, AckAt: c.ack, VerifyAt: c.verify, ClosedAt: c.closed, UpdatedAt: c.created,
		}
		if c.status == clue.ClueConcluded {
			cl.Conclusion = clue.DisposalVerify
		}
		if err := bot.Records[clue.Clue](env.Store, clue.CollClues).Create(ctx, id, cl); err != nil {
			t.Fatal(err)
		}
	}
}

// expectClues recounts the clue figures of the period (from, at] from the
// stored records with the clue.Clue methods, the way a person would:
// every clue transferred by at that is open or was closed in the period.
// It assumes every recorded change happened by at.
func expectClues(t *testing.T, env *bottest.Env, from, at time.Time) (map[string]ClueFigures, ClueFigures, map[string]bool, []*clue.Clue) {
	t.Helper()
	all, err := bot.Records[clue.Clue](env.Store, clue.CollClues).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]ClueFigures{}
	var total ClueFigures
	overdue := map[string]bool{}
	var counted []*clue.Clue
	for _, c := range all {
		if c.CreatedAt.After(at) {
			continue
		}
		closedIn := !c.Open() && c.ClosedAt.After(from) && !c.ClosedAt.After(at)
		if !c.Open() && !closedIn {
			continue
		}
		counted = append(counted, c)
		count := func(f *ClueFigures) {
			if c.CreatedAt.After(from) {
				f.Transferred++
			}
			switch c.Status {
			case clue.ClueTransferred:
				f.Pending++
			case clue.ClueAcknowledged:
				f.Acknowledged++
			case clue.ClueVerifying:
				f.Verifying++
			case clue.ClueConcluded:
				f.Concluded++
			case clue.ClueReturned:
				f.Returned++
			}
			if c.OverdueAt(at, env.Bot.Loc) {
				f.Overdue++
				overdue[c.ID] = true
			}
			if c.Priority && c.Open() {
				f.Priority++
			}
		}
		count(&total)
		g := per[c.Body]
		g.Body = c.Body
		count(&g)
		per[c.Body] = g
	}
	return per, total, overdue, counted
}

// cardField returns the value of the field labelled label.
func cardField(t *testing.T, c *bot.Card, label string) string {
	t.Helper()
	if c == nil {
		t.Fatalf("no card, looking for field %q", label)
	}
	for _, f := range c.Fields {
		if f.Label == label {
			return f.Value
		}
	}
	t.Fatalf("card %q has no field %q", c.Title, label)
	return ""
}

func clueLineZH(env *bottest.Env, f ClueFigures) string {
	return env.TZ("progress.notice.clue.line", "transferred", f.Transferred, "open", f.Open(), "pending", f.Pending,
		"acknowledged", f.Acknowledged, "verifying", f.Verifying, "concluded", f.Concluded, "returned", f.Returned,
		"overdue", f.Overdue, "priority", f.Priority)
}

// noSecrets fails when a clue's title or substance appears in any text,
// card, file name or XLSX cell sent.
func noSecrets(t *testing.T, sent []bot.Outgoing) {
	t.Helper()
	for _, o := range sent {
		texts := []string{outText(o)}
		for _, f := range o.Files {
			texts = append(texts, f.Name)
			if f.MIME == XLSXMIME {
				texts = append(texts, xlsxCells(t, f.Data)...)
			}
		}
		for _, s := range texts {
			for _, secret := range []string{secretTitle, secretSubstance, "违规发放津贴"} {
				notContains(t, s, secret)
			}
		}
	}
}

// xlsxCells returns every cell of every sheet of an XLSX workbook.
func xlsxCells(t *testing.T, data []byte) []string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	for _, sh := range f.GetSheetList() {
		rows, err := f.GetRows(sh)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			out = append(out, row...)
		}
	}
	if len(out) == 0 {
		t.Fatal("empty workbook")
	}
	return out
}

func TestMonthlyNoticeClueSectionAddsUpAndKeepsContentConfidential(t *testing.T) {
	env, _, _, _, _ := noticeSetup(t)
	seedClues(t, env)
	env.Adapter.Reset()
	runTask(t, env, TaskMonthlyNotice)

	now := env.Clock.Now()
	from := now.AddDate(0, -1, 0) // no previous notice: the month before
	per, total, overdue, counted := expectClues(t, env, from, now)
	// The seeded set, counted by hand, so the recount is checked too.
	want := ClueFigures{Transferred: 5, Pending: 4, Acknowledged: 2, Verifying: 2, Concluded: 1, Returned: 1, Overdue: 4, Priority: 3}
	if total != want {
		t.Fatalf("recount %+v, want %+v", total, want)
	}
	if len(counted) != 10 || total.Listed() != len(counted) {
		t.Fatalf("%d clues counted, %d listed", len(counted), total.Listed())
	}

	posted := postedIn(env, "巡察办工作群")
	if len(posted) != 1 {
		t.Fatalf("notice posted %d times", len(posted))
	}
	card := posted[0].Card
	if card.Color != bot.Orange {
		t.Errorf("card colour %s with overdue clues", card.Color)
	}
	contains(t, card.Text, env.TZ("progress.notice.clue.legend"))
	heading := env.TZ("progress.notice.clue.heading", "from", "2026-11-10 10:00", "to", "2026-12-10 10:00")
	contains(t, cardField(t, card, heading), clueLineZH(env, total))

	// One field per receiving body, in roster order, each equal to the recount.
	r := env.Bot.People.BaseRoster()
	var labels []string
	for _, f := range card.Fields {
		if strings.HasPrefix(f.Label, "线索·") {
			labels = append(labels, f.Label)
		}
	}
	var wantLabels []string
	var sum ClueFigures
	for _, body := range []string{"room1", "room2", "group3", "sup_chengguan", "case"} {
		f := per[body]
		label := env.TZ("progress.notice.clue.body", "body", r.BodyName(body, "zh-CN"))
		wantLabels = append(wantLabels, label)
		if got := cardField(t, card, label); got != clueLineZH(env, f) {
			t.Errorf("%s: card %q, records %q", body, got, clueLineZH(env, f))
		}
		sum.Transferred += f.Transferred
		sum.Pending += f.Pending
		sum.Acknowledged += f.Acknowledged
		sum.Verifying += f.Verifying
		sum.Concluded += f.Concluded
		sum.Returned += f.Returned
		sum.Overdue += f.Overdue
		sum.Priority += f.Priority
	}
	if !slices.Equal(labels, wantLabels) {
		t.Errorf("body fields %v, want %v", labels, wantLabels)
	}
	if sum != total || len(per) != len(wantLabels) {
		t.Errorf("bodies sum to %+v over %d bodies, total %+v", sum, len(per), total)
	}

	// The overdue list is exactly the overdue clues: number, body, deadline, days.
	wantOverdue := []string{
		env.TZ("progress.notice.clue.overdue", "id", "XS-2026-0009", "body", "区纪委监委第一监督检查室", "deadline", "2026-09-30", "days", 71),
		env.TZ("progress.notice.clue.overdue", "id", "XS-2026-0002", "body", "区纪委监委第二监督检查室", "deadline", "2026-11-30", "days", 10) +
			env.TZ("progress.notice.clue.priority_mark"),
		env.TZ("progress.notice.clue.overdue", "id", "XS-2026-0010", "body", "区纪委监委第二监督检查室", "deadline", "2026-11-10", "days", 30),
		env.TZ("progress.notice.clue.overdue", "id", "XS-2026-0003", "body", "区纪委监委派驻第三纪检监察组", "deadline", "2026-12-09", "days", 1),
	}
	got := strings.Split(cardField(t, card, env.TZ("progress.notice.clue.overdue_label", "count", len(overdue))), "\n")
	if !slices.Equal(got, wantOverdue) {
		t.Errorf("overdue list\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantOverdue, "\n"))
	}
	for _, line := range got {
		id := line[:len("XS-2026-0000")]
		if !overdue[id] {
			t.Errorf("%s listed as overdue", id)
		}
	}
	if len(got) != len(overdue) {
		t.Errorf("%d listed, %d overdue", len(got), len(overdue))
	}

	// The XLSX has the same figures and one row per counted clue.
	if len(posted[0].Files) != 2 {
		t.Fatalf("attachments %+v", posted[0].Files)
	}
	checkClueSheet(t, env, posted[0].Files[1].Data, per, total, overdue, counted)

	if a := audits(t, env, "progress.notice"); len(a) != 1 ||
		!strings.Contains(a[0].Detail, "clues_transferred=5 clues_open=8 clues_concluded=1 clues_returned=1 clues_overdue=4 overdue_ids=XS-2026-0009,XS-2026-0002,XS-2026-0010,XS-2026-0003") {
		t.Errorf("notice audit %+v", a)
	}
	noSecrets(t, env.Adapter.Sent())

	// The report command shows the same section, without the content either.
	env.Adapter.Reset()
	resp := env.Command("wangming", "进度 汇总")
	if len(resp.Replies) != 1 || len(resp.Replies[0].Files) != 2 {
		t.Fatalf("report reply %+v", resp.Replies)
	}
	contains(t, bottest.Text(resp), clueLineZH(env, total))
	noSecrets(t, []bot.Outgoing{{Card: resp.Replies[0].Card, Text: resp.Replies[0].Text, Files: resp.Replies[0].Files}})
	noSecrets(t, env.Adapter.Sent())
}

// checkClueSheet checks the notice workbook's clue sheet against the
// recount: the per-body rows and total, then one row per counted clue.
func checkClueSheet(t *testing.T, env *bottest.Env, data []byte, per map[string]ClueFigures, total ClueFigures, overdue map[string]bool, counted []*clue.Clue) {
	t.Helper()
	f := sheettest.Open(t, data)
	rows := sheettest.Table(t, data, "线索办理")
	find := func(rows [][]string, first string) int {
		i := slices.IndexFunc(rows, func(row []string) bool { return len(row) > 0 && row[0] == first })
		if i < 0 {
			t.Fatalf("no row starting %q in %v", first, rows)
		}
		return i
	}
	loc := env.Bot.Loc
	notice := loadMonth(t, env, "2026-12").NoticeAt
	figRow := func(name string, c ClueFigures) []string {
		return []string{name, strconv.Itoa(c.Transferred), strconv.Itoa(c.Pending), strconv.Itoa(c.Acknowledged), strconv.Itoa(c.Verifying),
			strconv.Itoa(c.Open()), strconv.Itoa(c.Concluded), strconv.Itoa(c.Returned), strconv.Itoa(c.Overdue), strconv.Itoa(c.Priority),
			rows[1][10], bot.FormatTime(notice, loc)}
	}
	r := env.Bot.People.BaseRoster()
	if want := []string{"承办单位", "本期移送", "待签收", "已签收", "核查中", "在办合计", "本期办结", "本期退回", "逾期", "在办优先处置", "统计起", "统计止"}; !slices.Equal(rows[0], want) {
		t.Errorf("figures header %v, want %v", rows[0], want)
	}
	end := find(rows, "合计")
	if end != len(rows)-1 || end-1 != len(per) {
		t.Errorf("%d body rows for %d bodies, total at row %d of %d", end-1, len(per), end+1, len(rows))
	}
	for i, row := range rows[1:end] {
		var body string
		for id := range per {
			if r.BodyName(id, "zh-CN") == row[0] {
				body = id
			}
		}
		if want := figRow(row[0], per[body]); body == "" || !slices.Equal(row, want) {
			t.Errorf("body row %v, want %v", row, want)
		}
		for col := 2; col <= 10; col++ {
			sheettest.Number(t, f, "线索办理", sheettest.Cell(col, i+2))
		}
		if got := sheettest.Number(t, f, "线索办理", sheettest.Cell(12, i+2)); !near(got, excelTime(notice, loc)) {
			t.Errorf("period end serial %v, want %v", got, excelTime(notice, loc))
		}
	}
	if want := figRow("合计", total); !slices.Equal(rows[end], want) {
		t.Errorf("total row %v, want %v", rows[end], want)
	}
	if hf, err := f.GetHeaderFooter("线索办理"); err != nil || hf == nil || !strings.Contains(hf.OddHeader, "线索内容保密") {
		t.Errorf("print header %+v %v, want the period and the confidentiality note", hf, err)
	}
	rows = sheettest.Table(t, data, "线索明细")
	list := 0
	if !slices.Equal(rows[list], []string{"线索编号", "承办单位", "状态", "优先处置", "移送日期", "办理期限", "逾期天数", "办结/退回日期"}) {
		t.Errorf("clue header %v", rows[list])
	}
	clueRows := rows[list+1:]
	if len(clueRows) != len(counted) {
		t.Fatalf("%d clue rows for %d counted clues", len(clueRows), len(counted))
	}
	for _, c := range counted {
		i := slices.IndexFunc(clueRows, func(row []string) bool { return row[0] == c.ID })
		if i < 0 {
			t.Errorf("%s missing from the clue sheet", c.ID)
			continue
		}
		row := clueRows[i]
		deadline, days := "", "0"
		if !c.Deadline.IsZero() {
			deadline = bot.FormatDate(c.Deadline, loc)
		}
		if overdue[c.ID] {
			d := env.Clock.Now().In(loc)
			dl := c.Deadline.In(loc)
			days = strconv.Itoa(int(time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC).Sub(time.Date(dl.Year(), dl.Month(), dl.Day(), 0, 0, 0, 0, time.UTC)).Hours() / 24))
		}
		if row[1] != r.BodyName(c.Body, "zh-CN") || row[2] != env.TZ("progress.clue_status."+string(c.Status)) ||
			row[3] != env.TZ(map[bool]string{true: "progress.yes", false: "progress.no"}[c.Priority]) ||
			row[4] != bot.FormatDate(c.CreatedAt, loc) || row[5] != deadline || row[6] != days {
			t.Errorf("clue row %v for %s", row, c.ID)
		}
		if closed := !c.Open(); closed != (len(row) > 7 && row[7] == bot.FormatDate(c.ClosedAt, loc)) {
			t.Errorf("clue row %v: closing date for %s (%s)", row, c.ID, c.Status)
		}
		line := i + 2
		if got := sheettest.Number(t, f, "线索明细", sheettest.Cell(5, line)); got != excelDay(c.CreatedAt, loc) {
			t.Errorf("%s transferred on serial %v, want %v", c.ID, got, excelDay(c.CreatedAt, loc))
		}
		if got := sheettest.Format(t, f, "线索明细", sheettest.Cell(5, line)); got != "yyyy-mm-dd" {
			t.Errorf("%s transfer date format %q", c.ID, got)
		}
		sheettest.Number(t, f, "线索明细", sheettest.Cell(7, line))
	}
}

func TestNextNoticeCountsCluesSinceThePreviousNotice(t *testing.T) {
	env, _, _, _, _ := noticeSetup(t)
	seedClues(t, env)
	runTask(t, env, TaskMonthlyNotice)
	first := loadMonth(t, env, "2026-12").NoticeAt

	// XS-2026-0011 was transferred just after the December notice; one
	// more in December, and XS-2026-0001 is concluded in January.
	clues := bot.Records[clue.Clue](env.Store, clue.CollClues)
	late := &clue.Clue{ID: "XS-2026-0013", FromBody: "team1", Body: "case", Title: secretTitle + "13", Substance: secretSubstance + "13",
		Status: clue.ClueTransferred, CreatedBy: "lina", CreatedAt: time.Date(2026, 12, 20, 9, 0, 0, 0, bottest.Shanghai),
		Deadline: time.Date(2027, 1, 8, 0, 0, 0, 0, bottest.Shanghai)}
	if err := clues.Create(ctx, late.ID, late); err != nil {
		t.Fatal(err)
	}
	closedAt := time.Date(2027, 1, 5, 10, 0, 0, 0, bottest.Shanghai)
	if _, err := clues.Update(ctx, "XS-2026-0001", func(c *clue.Clue) error {
		c.Status, c.AckAt, c.VerifyAt, c.ClosedAt, c.UpdatedAt, c.Conclusion = clue.ClueConcluded, closedAt, closedAt, closedAt, closedAt, clue.DisposalTalk
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	at(env, 2027, 1, 12, 10, 0)
	env.Adapter.Reset()
	runTask(t, env, TaskMonthlyNotice)

	now := env.Clock.Now()
	_, total, overdue, _ := expectClues(t, env, first, now)
	if total.Transferred != 2 || total.Concluded != 1 || total.Returned != 0 || !overdue["XS-2026-0013"] {
		t.Fatalf("recount %+v overdue %v", total, overdue)
	}
	card := postedIn(env, "巡察办工作群")[0].Card
	heading := env.TZ("progress.notice.clue.heading", "from", bot.FormatTime(first, env.Bot.Loc), "to", "2027-01-12 10:00")
	contains(t, cardField(t, card, heading), clueLineZH(env, total))
	list := cardField(t, card, env.TZ("progress.notice.clue.overdue_label", "count", len(overdue)))
	if n := strings.Count(list, "\n") + 1; n != len(overdue) {
		t.Errorf("%d overdue listed, %d overdue:\n%s", n, len(overdue), list)
	}
	noSecrets(t, env.Adapter.Sent())
}

func TestClueFiguresAreAsOfTheNoticeTime(t *testing.T) {
	env := newEnv(t)
	loc := env.Bot.Loc
	ts := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 9, 0, 0, 0, loc) }
	// Acknowledged in November, overdue from 1 December, concluded on 15 December.
	c := &clue.Clue{ID: "XS-2026-0001", Body: "room2", Status: clue.ClueConcluded, CreatedAt: ts(11, 1), AckAt: ts(11, 2),
		VerifyAt: ts(12, 12), ClosedAt: ts(12, 15), UpdatedAt: ts(12, 15), Deadline: time.Date(2026, 11, 30, 0, 0, 0, 0, loc), Priority: true}
	r := env.Bot.People.BaseRoster()
	for _, tc := range []struct {
		name     string
		from, at time.Time
		want     ClueFigures
	}{
		{"before the transfer", ts(9, 1), ts(10, 1), ClueFigures{}},
		{"acknowledged and overdue", ts(11, 10), ts(12, 10), ClueFigures{Body: "room2", Acknowledged: 1, Overdue: 1, Priority: 1}},
		{"verifying", ts(12, 10), ts(12, 13), ClueFigures{Body: "room2", Verifying: 1, Overdue: 1, Priority: 1}},
		{"concluded in the period", ts(12, 10), ts(12, 20), ClueFigures{Body: "room2", Concluded: 1}},
		{"concluded before the period", ts(12, 20), ts(1, 1).AddDate(1, 0, 0), ClueFigures{}},
		{"transferred in the period", ts(10, 10), ts(11, 1), ClueFigures{Body: "room2", Transferred: 1, Pending: 1, Priority: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := ClueHandling(r, []*clue.Clue{c}, tc.from, tc.at, loc)
			want := tc.want
			want.Body = ""
			if rep.Total != want {
				t.Errorf("total %+v, want %+v", rep.Total, want)
			}
			if tc.want.Listed() == 0 {
				if len(rep.Bodies) != 0 || len(rep.Rows) != 0 {
					t.Errorf("counted %+v", rep.Rows)
				}
				return
			}
			if len(rep.Bodies) != 1 || rep.Bodies[0] != tc.want {
				t.Errorf("bodies %+v, want %+v", rep.Bodies, tc.want)
			}
			if got := len(rep.Overdue); got != tc.want.Overdue {
				t.Errorf("%d overdue rows", got)
			}
		})
	}
}

// The workbook's platform column names the platform as people call it,
// in their language; an unknown platform shows as its id.
func TestPlatformNames(t *testing.T) {
	env := newEnv(t)
	h := &handler{b: env.Bot}
	for _, c := range []struct {
		lang string
		p    bot.Platform
		want string
	}{
		{"zh-CN", console.Name, "控制台"}, {"zh-CN", slack.Name, "Slack"}, {"zh-CN", lark.Name, "飞书"},
		{"en", console.Name, "Console"}, {"en", slack.Name, "Slack"}, {"en", lark.Name, "Lark"},
		{"zh-CN", "teams", "teams"}, {"zh-CN", "", ""},
	} {
		if got := h.platformName(c.lang, c.p); got != c.want {
			t.Errorf("platformName(%s, %q) = %q, want %q", c.lang, c.p, got, c.want)
		}
	}
}
