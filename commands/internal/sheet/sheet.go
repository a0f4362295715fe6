// Package sheet writes the workbooks the bot sends (the monthly notice's
// export, 进度 导出 and 进度 汇总, the assessment export) in one shape an
// office can sort, filter and print: every sheet holds exactly one table
// whose first row is a bold, frozen header with an autofilter; cells are
// typed (dates and times as Excel dates in the bot's time zone,
// percentages as numbers with a % format, counts as numbers); columns are
// as wide as their longest text, counting a CJK character twice; and the
// sheet's <dimension> covers the table, so streaming readers see all of
// it.
//
// It wraps excelize rather than the callers doing so, because each of
// those rules is easy to forget in one place of five.
package sheet

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/width"
)

// Date is a day, shown as 2026-12-31 and stored as the whole serial of
// its day in the workbook's time zone (the time of day is dropped, so
// equal days compare equal in a filter); the zero value is an empty cell.
type Date time.Time

// DateTime is a moment, shown as 2026-12-31 09:30 in the workbook's time
// zone; the zero value is an empty cell.
type DateTime time.Time

// Percent is a percentage in points (60 means 60 %). It is stored as the
// fraction Excel expects (0.6) with the format 0%.
type Percent float64

// Table is one sheet: its name, its header and its rows. A row cell is a
// string, an int, a float64, a Date, a DateTime, a Percent or nil.
type Table struct {
	Name   string
	Header []string
	Rows   [][]any
	// PrintHeader, when set, is printed at the top of every page (the
	// period or a confidentiality note that is not part of the table).
	PrintHeader string
}

// Number formats. Dates and times use ISO order, which both Chinese and
// English readers take without ambiguity.
const (
	fmtDate     = "yyyy-mm-dd"
	fmtDateTime = "yyyy-mm-dd hh:mm"
	numFmtInt   = 1 // "0"
	numFmtPct   = 9 // "0%"
	// maxWidth keeps a long note from making a column wider than a screen.
	maxWidth = 60.0
	// filterButton is the room the autofilter's drop-down takes in a
	// header cell, in character widths.
	filterButton = 3
)

// Write renders the tables as a workbook, one sheet each in order, with
// times shown in loc.
func Write(loc *time.Location, tables ...Table) ([]byte, error) {
	if len(tables) == 0 {
		return nil, errors.New("sheet: no table")
	}
	if loc == nil {
		loc = time.UTC
	}
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return nil, err
	}
	for i, t := range tables {
		if i == 0 {
			err = f.SetSheetName("Sheet1", t.Name)
		} else {
			_, err = f.NewSheet(t.Name)
		}
		if err != nil {
			return nil, fmt.Errorf("sheet %q: %w", t.Name, err)
		}
		if err := writeTable(f, st, loc, t); err != nil {
			return nil, fmt.Errorf("sheet %q: %w", t.Name, err)
		}
	}
	// The first sheet is the active one already (it is the new file's
	// Sheet1, renamed). SetActiveSheet would read every streamed sheet's
	// XML back into memory to mark the others unselected: half of the
	// writing time of a large workbook.
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type styles struct{ header, date, dateTime, integer, percent int }

func newStyles(f *excelize.File) (styles, error) {
	var s styles
	var errs []error
	add := func(dst *int, st *excelize.Style) {
		id, err := f.NewStyle(st)
		*dst = id
		errs = append(errs, err)
	}
	dateFmt, dateTimeFmt := fmtDate, fmtDateTime
	add(&s.header, &excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E2F3"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "808080", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "center"},
	})
	add(&s.date, &excelize.Style{CustomNumFmt: &dateFmt})
	add(&s.dateTime, &excelize.Style{CustomNumFmt: &dateTimeFmt})
	add(&s.integer, &excelize.Style{NumFmt: numFmtInt})
	add(&s.percent, &excelize.Style{NumFmt: numFmtPct})
	return s, errors.Join(errs...)
}

// writeTable writes t with excelize's stream writer, so that a big table
// costs its rows' XML and not excelize's model of every cell. The widths
// are fitted in a first pass over the rows, since columns come before
// the rows in a streamed sheet; the dimension, set before the stream
// begins, and the autofilter and print header, set before it ends, are
// written by the stream in their places.
func writeTable(f *excelize.File, st styles, loc *time.Location, t Table) error {
	cols := len(t.Header)
	if cols == 0 {
		return errors.New("no columns")
	}
	widths := make([]float64, cols)
	for c, h := range t.Header {
		widths[c] = Width(h) + filterButton
	}
	for r, row := range t.Rows {
		if len(row) > cols {
			return fmt.Errorf("row %d has %d cells for %d columns", r+1, len(row), cols)
		}
		for c, v := range row {
			_, shown, err := value(st, loc, v)
			if err != nil {
				return fmt.Errorf("row %d column %d: %w", r+1, c+1, err)
			}
			widths[c] = max(widths[c], Width(shown))
		}
	}
	last := cell(cols-1, len(t.Rows))
	// excelize leaves <dimension ref="A1"> as it found it in its template;
	// the stream writes the dimension when it begins.
	if err := f.SetSheetDimension(t.Name, "A1:"+last); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(t.Name)
	if err != nil {
		return err
	}
	for c, w := range widths {
		if err := sw.SetColWidth(c+1, c+1, min(w+1, maxWidth)); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	line := make([]any, cols)
	for c, h := range t.Header {
		line[c] = excelize.Cell{StyleID: st.header, Value: h}
	}
	if err := sw.SetRow("A1", line); err != nil {
		return err
	}
	for r, row := range t.Rows {
		clear(line)
		for c, v := range row {
			if line[c], _, err = value(st, loc, v); err != nil {
				return fmt.Errorf("row %d column %d: %w", r+1, c+1, err)
			}
		}
		if err := sw.SetRow(cell(0, r+1), line[:len(row)]); err != nil {
			return err
		}
	}
	// Both go into the sheet's model, which the stream writes at Flush.
	if err := f.AutoFilter(t.Name, "A1:"+last, nil); err != nil {
		return err
	}
	if t.PrintHeader != "" {
		if err := f.SetHeaderFooter(t.Name, &excelize.HeaderFooterOptions{OddHeader: "&C" + escapeHeader(t.PrintHeader)}); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// value is v as the stream writer takes it (nil for an empty cell) and
// as Excel will show it, for the width.
func value(st styles, loc *time.Location, v any) (any, string, error) {
	switch v := v.(type) {
	case nil:
		return nil, "", nil
	case string:
		return v, v, nil
	case int:
		return excelize.Cell{StyleID: st.integer, Value: int64(v)}, strconv.Itoa(v), nil
	case float64:
		return v, strconv.FormatFloat(v, 'f', -1, 64), nil
	case Percent:
		return excelize.Cell{StyleID: st.percent, Value: float64(v) / 100}, strconv.FormatFloat(math.Round(float64(v)), 'f', 0, 64) + "%", nil
	case Date:
		return timeValue(time.Time(v), loc, st.date, time.DateOnly)
	case DateTime:
		return timeValue(time.Time(v), loc, st.dateTime, "2006-01-02 15:04")
	default:
		return nil, "", fmt.Errorf("sheet: cell of type %T", v)
	}
}

// timeValue is t as an Excel date of its wall clock in loc: Excel dates
// have no zone, and excelize converts by the instant (UTC).
func timeValue(t time.Time, loc *time.Location, style int, layout string) (any, string, error) {
	if t.IsZero() {
		return nil, "", nil
	}
	wall := t.In(loc)
	naive := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, time.UTC)
	if layout == time.DateOnly {
		naive = time.Date(wall.Year(), wall.Month(), wall.Day(), 0, 0, 0, 0, time.UTC)
	}
	return excelize.Cell{StyleID: style, Value: naive}, wall.Format(layout), nil
}

// Width is the display width of s in character widths of the default
// font: East Asian wide and full-width characters count two.
func Width(s string) float64 {
	n := 0.0
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			n += 2
		default:
			n++
		}
	}
	return n
}

// escapeHeader doubles the ampersands, which start codes in a print
// header.
func escapeHeader(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		if r == '&' {
			b.WriteString("&&")
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func cell(col, row int) string {
	ref, _ := excelize.CoordinatesToCellName(col+1, row+1)
	return ref
}
