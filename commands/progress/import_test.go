package progress

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// importer returns a request as lina, as the console command builds it.
func importer(t *testing.T, env *bottest.Env, person string) *bot.Request {
	t.Helper()
	r, err := env.Bot.People.Roster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &bot.Request{Platform: console.Name, Person: env.Person(person), Roster: r, Lang: "zh-CN"}
}

func itemCount(t *testing.T, env *bottest.Env) int {
	t.Helper()
	all, err := bot.Records[Item](env.Store, CollItems).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return len(all)
}

const goodCSV = "\ufeff序号,责任单位,整改事项,整改时限,监督单位,即知即改,备注\n" +
	"1,区财政局党组,专项资金管理制度不健全,2027-03-31,第二监督检查室、派驻第三纪检监察组,否,\n" +
	"2,区财政局党组,公务用车登记不规范,2026/12/20,派驻第三纪检监察组,是,已整改\n" +
	",,,,,,\n" +
	"3,城关镇党委,\"村级财务公开不及时, 群众有反映\",2027年1月31日,城关镇派出监察员办公室,,\n"

func TestImportCSV(t *testing.T) {
	env := newEnv(t)
	ids, err := Import(ctx, env.Bot, importer(t, env, "lina"), []byte(goodCSV), "csv")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"ZG-2026-0001", "ZG-2026-0002", "ZG-2026-0003"}) {
		t.Fatalf("ids %v", ids)
	}
	a := loadItem(t, env, ids[0])
	if a.Unit != "finance" || !slices.Equal(a.Supervisors, []string{"room2", "group3"}) || a.Immediate || a.Source != "team1" {
		t.Errorf("row 2: %+v", a)
	}
	if b := loadItem(t, env, ids[1]); !b.Immediate || bot.FormatDate(b.Deadline, env.Bot.Loc) != "2026-12-20" {
		t.Errorf("row 3: %+v", b)
	}
	if c := loadItem(t, env, ids[2]); c.Title != "村级财务公开不及时, 群众有反映" || bot.FormatDate(c.Deadline, env.Bot.Loc) != "2027-01-31" {
		t.Errorf("row 5: %+v", c)
	}
	if n := len(audits(t, env, "progress.create")); n != 3 {
		t.Errorf("%d creations audited", n)
	}
	if a := audits(t, env, "progress.import"); len(a) != 1 || a[0].Person != "lina" {
		t.Errorf("import audit %+v", a)
	}
	// The same sheet again: every row is now a duplicate, nothing imported.
	_, err = Import(ctx, env.Bot, importer(t, env, "lina"), []byte(goodCSV), "csv")
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 3 || ie.Rows[0].Key != "progress.error.duplicate" {
		t.Fatalf("re-import: %v", err)
	}
	if itemCount(t, env) != 3 {
		t.Error("re-import created items")
	}
}

func TestImportIsAllOrNothingWithRowErrors(t *testing.T) {
	env := newEnv(t)
	bad := "责任单位,整改事项,整改时限,监督单位,即知即改\n" +
		"区财政局党组,专项资金管理制度不健全,2027-03-31,第二监督检查室,否\n" + // row 2: fine
		"不存在的单位,某问题,2027-03-31,第二监督检查室,否\n" + // row 3
		"区财政局党组,另一个问题,2027-02-30,第二监督检查室,否\n" + // row 4
		"区财政局党组,专项资金管理制度不健全,2027-03-31,第二监督检查室,否\n" + // row 5: repeats row 2
		"城关镇党委,村务,2027-03-31,区委组织部,否\n" + // row 6
		"城关镇党委,村务2,2027-03-31,城关镇派出监察员办公室,也许\n" + // row 7
		"城关镇党委,,2027-03-31,城关镇派出监察员办公室,否\n" // row 8
	_, err := Import(ctx, env.Bot, importer(t, env, "lina"), []byte(bad), "csv")
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("err %v", err)
	}
	want := map[int]string{3: "progress.error.unknown_unit", 4: "progress.error.bad_deadline", 5: "progress.error.duplicate_row",
		6: "progress.error.unknown_supervisor", 7: "progress.import.bad_immediate", 8: "error.missing_arg"}
	if len(ie.Rows) != len(want) {
		t.Errorf("row errors %+v", ie.Rows)
	}
	for _, r := range ie.Rows {
		if want[r.Row] != r.Key {
			t.Errorf("row %d: %s, want %s", r.Row, r.Key, want[r.Row])
		}
	}
	if itemCount(t, env) != 0 {
		t.Error("a refused import created items")
	}
	for _, tc := range []struct {
		data, format, key string
	}{
		{"整改事项,整改时限\n问题,2027-01-01\n", "csv", "progress.import.columns"},
		{"", "csv", "progress.import.empty"},
		{"责任单位,整改事项,整改时限,监督单位\n", "csv", "progress.import.empty"},
		{"not a zip", "xlsx", "progress.import.unreadable"},
		{"a", "ods", "progress.import.format"},
	} {
		_, err := Import(ctx, env.Bot, importer(t, env, "lina"), []byte(tc.data), tc.format)
		var e *bot.Error
		if !errors.As(err, &e) || e.Key != tc.key {
			t.Errorf("%q: %v, want %s", tc.data, err, tc.key)
		}
	}
	// Only the inspection side may import.
	if _, err := Import(ctx, env.Bot, importer(t, env, "zhoutao"), []byte(goodCSV), "csv"); bot.ErrorCode(err) != bot.EUNAUTHORIZED {
		t.Errorf("unit member import: %v", err)
	}
}

func TestImportGBKCSVAsExcelSavesIt(t *testing.T) {
	env := newEnv(t)
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(strings.TrimPrefix(goodCSV, "\ufeff"))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := Import(ctx, env.Bot, importer(t, env, "wangming"), []byte(gbk), "csv")
	if err != nil || len(ids) != 3 {
		t.Fatalf("GBK import: %v %v", ids, err)
	}
	if it := loadItem(t, env, ids[0]); it.Title != "专项资金管理制度不健全" {
		t.Errorf("title %q", it.Title)
	}
}

// xlsxSheet builds an XLSX the way an office keeps it, with a real date
// cell for the deadline.
func xlsxSheet(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	_ = f.SetColStyle("Sheet1", "C", style)
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportXLSX(t *testing.T) {
	env := newEnv(t)
	data := xlsxSheet(t, [][]any{
		{"责任单位", "整改问题", "完成时限", "监督单位", "立行立改", "巡察轮次"},
		{"区住建局党组", "工程项目招投标监管薄弱", time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), "第一监督检查室", "否", "XC-2026-0001"},
		{"城关镇党委", "村级财务公开不及时", "2027-01-31", "城关镇派出监察员办公室", "是", ""},
	})
	ids, err := Import(ctx, env.Bot, importer(t, env, "lina"), data, "xlsx")
	if err != nil {
		t.Fatal(err)
	}
	a := loadItem(t, env, ids[0])
	if bot.FormatDate(a.Deadline, env.Bot.Loc) != "2027-06-30" || a.Round != "XC-2026-0001" || a.Unit != "housing" {
		t.Errorf("row 2 %+v", a)
	}
	if b := loadItem(t, env, ids[1]); !b.Immediate || b.Unit != "chengguan" {
		t.Errorf("row 3 %+v", b)
	}
	bad := xlsxSheet(t, [][]any{
		{"责任单位", "整改问题", "完成时限", "监督单位"},
		{"区住建局党组", "另一个问题", "2027-06-30", "第一监督检查室"},
		{"区住建局党组", "工程项目招投标监管薄弱", "2027-06-30", "第一监督检查室"},
	})
	_, err = Import(ctx, env.Bot, importer(t, env, "lina"), bad, "xlsx")
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 1 || ie.Rows[0].Row != 3 {
		t.Fatalf("bad xlsx: %v", err)
	}
	if itemCount(t, env) != 2 {
		t.Error("the good row of a refused sheet was imported")
	}
}

func TestImportCommandReadsALocalPathInTheConsole(t *testing.T) {
	env := newEnv(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "整改台账.csv")
	if err := os.WriteFile(good, []byte(goodCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	badPath := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(badPath, []byte("责任单位,整改事项,整改时限,监督单位\n不存在,问题,2027-01-01,第二监督检查室\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := bottest.Text(env.Command("lina", "进度 导入 "+badPath))
	contains(t, got, env.TZ("progress.import.refused", "count", 1))
	contains(t, got, env.TZ("progress.import.row", "row", 2, "error", env.TZ("progress.error.unknown_unit", "input", "不存在")))
	got = bottest.Text(env.Command("lina", "进度 导入 "+good))
	contains(t, got, env.TZ("progress.import.done", "count", 3, "first", "ZG-2026-0001", "last", "ZG-2026-0003"))
	contains(t, bottest.Text(env.Command("lina", "进度 导入 "+filepath.Join(dir, "none.csv"))), "none.csv")
	contains(t, bottest.Text(env.Command("lina", "进度 导入 a.txt")), env.TZ("progress.import.format", "format", ".txt"))

	// A chat platform never reads the bot's disk.
	p := env.Person("lina")
	resp := env.Bot.Handle(ctx, &bot.Request{Kind: bot.KindCommand, Platform: slack.Name, UserID: p.IDs[slack.Name], Text: "进度 导入 " + good})
	contains(t, bottest.Text(resp), env.TZ("progress.import.attach_slack"))
	if itemCount(t, env) != 3 {
		t.Error("a chat command imported a local file")
	}
}
