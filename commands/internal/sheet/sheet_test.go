package sheet_test

import (
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot/bottest"
	. "github.com/xunji-bot/xunji/commands/internal/sheet"
	"github.com/xunji-bot/xunji/commands/internal/sheet/sheettest"
)

// excelSerial is the Excel (1900 system) serial of the wall clock of t in
// loc, computed independently of excelize: days since 1899-12-30.
func excelSerial(t time.Time, loc *time.Location) float64 {
	w := t.In(loc)
	naive := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC)
	return naive.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
}

// From each instant, read on a clock in UTC: dates and times are Excel
// dates of the wall clock in Shanghai with a date or date-time format;
// percentages are fractions with the 0% format; counts are numbers.
func TestCellsAreTypedFromEachInstant(t *testing.T) {
	bottest.ForEachInstant(t, func(t *testing.T, now time.Time) {
		now = now.UTC()
		data, err := Write(bottest.Shanghai, Table{
			Name:   "表",
			Header: []string{"编号", "日期", "时间", "进度（%）", "数量", "空"},
			Rows:   [][]any{{"ZG-2026-0001", Date(now), DateTime(now), Percent(60), 3, Date{}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		f := sheettest.Open(t, data)
		num := func(ref string) float64 { t.Helper(); return sheettest.Number(t, f, "表", ref) }
		wantSerial := excelSerial(now, bottest.Shanghai)
		if got, want := num("B2"), float64(int(wantSerial)); got != want {
			// A Date is the whole day, in Shanghai.
			t.Errorf("date serial %v, want %v", got, want)
		}
		if got := num("C2"); got < wantSerial-1e-6 || got > wantSerial+1e-6 {
			t.Errorf("time serial %v, want %v", got, wantSerial)
		}
		if got := num("D2"); got != 0.6 {
			t.Errorf("percent stored as %v, want 0.6", got)
		}
		if got := num("E2"); got != 3 {
			t.Errorf("count %v, want 3", got)
		}
		if got, _ := f.GetCellValue("表", "F2"); got != "" {
			t.Errorf("zero date written as %q", got)
		}
		for ref, want := range map[string]string{"B2": "yyyy-mm-dd", "C2": "yyyy-mm-dd hh:mm", "D2": "9" /* 0% */, "E2": "1" /* 0 */} {
			if got := sheettest.Format(t, f, "表", ref); got != want {
				t.Errorf("%s number format %q, want %q", ref, got, want)
			}
		}
		// What a person sees is the Shanghai wall clock.
		shown, _ := f.GetCellValue("表", "C2")
		if want := now.In(bottest.Shanghai).Format("2006-01-02 15:04"); shown != want {
			t.Errorf("time shown as %q, want %q", shown, want)
		}
		shown, _ = f.GetCellValue("表", "B2")
		if want := now.In(bottest.Shanghai).Format(time.DateOnly); shown != want {
			t.Errorf("date shown as %q, want %q", shown, want)
		}
	})
}

// Each sheet is one table: a bold frozen header with an autofilter over
// the whole table, fitted widths and a dimension that covers it.
func TestTableShape(t *testing.T) {
	long := strings.Repeat("很长的说明", 20)
	data, err := Write(bottest.Shanghai,
		Table{
			Name:   "整改事项",
			Header: []string{"编号", "责任单位", "说明", "N"},
			Rows: [][]any{
				{"ZG-2026-0001", "区财政局党组", "短", 1},
				{"ZG-2026-0002", "城关镇党委", long, 2},
				{"ZG-2026-0003", "Finance", nil, 3},
			},
			PrintHeader: "统计区间 A&B",
		},
		Table{Name: "空表", Header: []string{"编号", "时间"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	f := sheettest.Open(t, data)
	if got := f.GetSheetList(); len(got) != 2 || got[0] != "整改事项" || got[1] != "空表" {
		t.Fatalf("sheets %v", got)
	}
	// Bold frozen header, autofilter and dimension over the table, widths
	// at least the text's.
	if rows := sheettest.Table(t, data, "整改事项"); len(rows) != 4 {
		t.Errorf("%d rows, want the header and 3", len(rows))
	}
	if rows := sheettest.Table(t, data, "空表"); len(rows) != 1 {
		t.Errorf("%d rows, want the header alone", len(rows))
	}
	// Exact widths: the longest text, CJK counted twice, plus one; the
	// header has room for the filter button; long notes are capped.
	for col, want := range map[string]float64{
		"A": 12 + 1, // ZG-2026-0001
		"B": 12 + 1, // 区财政局党组
		"C": 60,     // capped
		"D": 1 + 3 + 1,
	} {
		got, err := f.GetColWidth("整改事项", col)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("column %s width %v, want %v", col, got, want)
		}
	}
	if got := Width("区财政局党组"); got != 12 {
		t.Errorf("Width of six CJK characters = %v, want 12", got)
	}
	if got := Width("（%）"); got != 5 {
		t.Errorf("Width of full-width brackets and %% = %v, want 5", got)
	}
	if hf, err := f.GetHeaderFooter("整改事项"); err != nil || hf == nil || hf.OddHeader != "&C统计区间 A&&B" {
		t.Errorf("print header %+v, %v", hf, err)
	}
}

func TestWriteRefusesWhatItCannotType(t *testing.T) {
	if _, err := Write(nil, Table{Name: "x", Header: []string{"a"}, Rows: [][]any{{time.Now}}}); err == nil {
		t.Error("a func cell was accepted")
	}
	if _, err := Write(nil, Table{Name: "x", Header: []string{"a"}, Rows: [][]any{{"1", "2"}}}); err == nil {
		t.Error("a row wider than the header was accepted")
	}
	if _, err := Write(nil); err == nil {
		t.Error("a workbook without a table was accepted")
	}
}
