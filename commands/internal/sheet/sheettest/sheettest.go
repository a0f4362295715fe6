// Package sheettest checks, in tests, that a workbook's sheet has the
// shape package sheet promises: one table with a bold frozen header, an
// autofilter and a <dimension> over the whole table (read from the raw
// sheet XML, as a streaming reader would), and columns at least as wide as
// their longest text; and reads typed cells back.
package sheettest

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"path"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/xunji-bot/xunji/commands/internal/sheet"
)

// Open opens the workbook and closes it when the test ends.
func Open(t testing.TB, data []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Table checks that the named sheet of data is one well-formed table and
// returns its rows as shown (formatted), header first.
func Table(t testing.TB, data []byte, name string) [][]string {
	t.Helper()
	f := Open(t, data)
	rows, err := f.GetRows(name)
	if err != nil {
		t.Fatalf("sheet %q: %v (sheets %v)", name, err, f.GetSheetList())
	}
	if len(rows) == 0 || len(rows[0]) == 0 {
		t.Fatalf("sheet %q has no header", name)
	}
	cols := len(rows[0])
	for i, row := range rows {
		if len(row) > cols {
			t.Errorf("sheet %q row %d has %d cells for a %d-column header: a second table? %v", name, i+1, len(row), cols, row)
		}
		if i > 0 && strings.Join(row, "") == "" {
			t.Errorf("sheet %q row %d is empty: tables are stacked", name, i+1)
		}
	}
	last, _ := excelize.CoordinatesToCellName(cols, len(rows))
	ref := "A1:" + last
	raw := SheetXML(t, data, name)
	if got := attr(raw, "dimension", "ref"); got != ref {
		t.Errorf("sheet %q <dimension ref=%q>, want %q", name, got, ref)
	}
	// excelize writes the filter range absolute ($A$1:$D$4); Excel reads
	// both forms.
	if got := attr(raw, "autoFilter", "ref"); strings.ReplaceAll(got, "$", "") != ref {
		t.Errorf("sheet %q <autoFilter ref=%q>, want %q", name, got, ref)
	}
	for c := 1; c <= cols; c++ {
		cell, _ := excelize.CoordinatesToCellName(c, 1)
		id, err := f.GetCellStyle(name, cell)
		if err != nil {
			t.Fatal(err)
		}
		st, err := f.GetStyle(id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Font == nil || !st.Font.Bold {
			t.Errorf("sheet %q header %s (%s) is not bold", name, cell, rows[0][c-1])
		}
	}
	p, err := f.GetPanes(name)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Freeze || p.YSplit != 1 || p.XSplit != 0 || p.TopLeftCell != "A2" {
		t.Errorf("sheet %q panes %+v, want the header row frozen", name, p)
	}
	for c := 0; c < cols; c++ {
		need := 0.0
		for _, row := range rows {
			if c < len(row) {
				need = max(need, sheet.Width(row[c]))
			}
		}
		col, _ := excelize.ColumnNumberToName(c + 1)
		w, err := f.GetColWidth(name, col)
		if err != nil {
			t.Fatal(err)
		}
		if w < min(need, 60) || w > 61 {
			t.Errorf("sheet %q column %s (%s) is %v wide for text %v wide", name, col, rows[0][c], w, need)
		}
	}
	return rows
}

// Number returns the value of a numeric cell, failing when it is not a
// number (a date stored as text, a count as a string).
func Number(t testing.TB, f *excelize.File, name, cell string) float64 {
	t.Helper()
	if ct, _ := f.GetCellType(name, cell); ct != excelize.CellTypeUnset && ct != excelize.CellTypeNumber {
		t.Errorf("%s!%s has cell type %v, want a number", name, cell, ct)
	}
	raw, err := f.GetCellValue(name, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Errorf("%s!%s = %q, not a number", name, cell, raw)
	}
	return v
}

// Format returns the number format of a cell: the custom format code, or
// the built-in format id as a decimal string ("9" for 0%).
func Format(t testing.TB, f *excelize.File, name, cell string) string {
	t.Helper()
	id, err := f.GetCellStyle(name, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt != nil {
		return *st.CustomNumFmt
	}
	return strconv.Itoa(st.NumFmt)
}

// Cell returns the name of the cell at column col (from 1) of the row
// (from 1).
func Cell(col, row int) string {
	c, _ := excelize.CoordinatesToCellName(col, row)
	return c
}

// SheetXML returns the raw XML of the named sheet, found through the
// workbook and its relationships as a reader without excelize would.
func SheetXML(t testing.TB, data []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) []byte {
		t.Helper()
		f, err := zr.Open(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		defer f.Close()
		b, err := io.ReadAll(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := xml.Unmarshal(read("xl/workbook.xml"), &wb); err != nil {
		t.Fatal(err)
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(read("xl/_rels/workbook.xml.rels"), &rels); err != nil {
		t.Fatal(err)
	}
	for _, s := range wb.Sheets {
		if s.Name != name {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID == s.RID {
				p := r.Target
				if strings.HasPrefix(p, "/") {
					p = p[1:]
				} else {
					p = path.Join("xl", p)
				}
				return string(read(p))
			}
		}
	}
	t.Fatalf("no sheet %q in the workbook", name)
	return ""
}

// attr returns the value of attribute a of the first element el in s.
func attr(s, el, a string) string {
	i := strings.Index(s, "<"+el+" ")
	if i < 0 {
		return ""
	}
	end := strings.Index(s[i:], ">")
	if end < 0 {
		return ""
	}
	tag := s[i : i+end]
	j := strings.Index(tag, " "+a+`="`)
	if j < 0 {
		return ""
	}
	v := tag[j+len(a)+3:]
	if k := strings.IndexByte(v, '"'); k >= 0 {
		return v[:k]
	}
	return ""
}
