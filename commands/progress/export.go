package progress

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/xunji-bot/xunji/bot"
)

// XLSXMIME is the media type of the export.
const XLSXMIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Export returns an XLSX workbook of every rectification item as of at,
// in lang: a sheet of items (one row each, in roster order of the units)
// and a sheet of every progress entry (one row each, by item then time).
func Export(ctx context.Context, b *bot.Bot, at time.Time, lang string) ([]byte, error) {
	r, err := b.Roster(ctx)
	if err != nil {
		return nil, err
	}
	items, err := bot.Records[bot.Item](b.Store, bot.CollItems).List(ctx)
	if err != nil {
		return nil, err
	}
	sortItems(r, items)
	h := &handler{b: b}
	f := excelize.NewFile()
	defer f.Close()

	itemSheet := b.T(lang, "progress.xlsx.items")
	logSheet := b.T(lang, "progress.xlsx.log")
	if err := f.SetSheetName("Sheet1", itemSheet); err != nil {
		return nil, err
	}
	if _, err := f.NewSheet(logSheet); err != nil {
		return nil, err
	}
	head := func(keys ...string) []any {
		out := make([]any, len(keys))
		for i, k := range keys {
			out[i] = b.T(lang, "progress.xlsx.col."+k)
		}
		return out
	}
	rows := [][]any{head("id", "unit", "title", "supervisors", "deadline", "immediate", "status", "percent", "overdue", "last_update", "unreported", "created")}
	for _, it := range items {
		if it.CreatedAt.After(at) {
			continue
		}
		last := ""
		if n := len(it.Progress); n > 0 {
			e := it.Progress[n-1]
			last = fmt.Sprintf("%s %s %s", bot.FormatTime(e.Time, b.Loc), r.PersonName(e.Person, lang), e.Note)
		}
		rows = append(rows, []any{
			it.ID, r.BodyName(it.Unit, lang), it.Title, h.bodyNames(r, it.Supervisors, lang), bot.FormatDate(it.Deadline, b.Loc),
			h.yesNo(lang, it.Immediate), b.T(lang, "progress.xlsx.status."+string(it.Status)), it.Percent,
			h.yesNo(lang, it.OverdueAt(at, b.Loc)), strings.TrimSpace(last), strings.Join(it.Unreported, ","), bot.FormatTime(it.CreatedAt, b.Loc),
		})
	}
	if err := writeRows(f, itemSheet, rows); err != nil {
		return nil, err
	}
	rows = [][]any{head("id", "unit", "time", "person", "platform", "from", "percent", "note", "correction")}
	for _, it := range items {
		for _, e := range it.Progress {
			rows = append(rows, []any{it.ID, r.BodyName(it.Unit, lang), bot.FormatTime(e.Time, b.Loc), r.PersonName(e.Person, lang),
				string(e.Platform), e.From, e.Percent, e.Note, e.Reason})
		}
	}
	if err := writeRows(f, logSheet, rows); err != nil {
		return nil, err
	}
	for _, s := range []string{itemSheet, logSheet} {
		_ = f.SetPanes(s, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	}
	_ = f.SetColWidth(itemSheet, "A", "A", 15)
	_ = f.SetColWidth(itemSheet, "B", "D", 28)
	_ = f.SetColWidth(logSheet, "H", "H", 40)
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeRows(f *excelize.File, sheet string, rows [][]any) error {
	for i, row := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			return err
		}
		if err := f.SetSheetRow(sheet, cell, &row); err != nil {
			return err
		}
	}
	return nil
}

// exportCmd: progress export — the XLSX of all items and progress.
func (h *handler) exportCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	now := h.b.Now()
	data, err := Export(ctx, h.b, now, req.Lang)
	if err != nil {
		return nil, err
	}
	month := bot.MonthID(now, h.b.Loc)
	if err := h.b.Audit(ctx, req, "progress.export", month, fmt.Sprintf("bytes=%d", len(data))); err != nil {
		return nil, err
	}
	name := h.t(req.Lang, "progress.file.export", "month", month)
	return &bot.Response{Replies: []bot.Reply{{
		Text:  h.t(req.Lang, "progress.exported", "file", name),
		Files: []bot.File{{Name: name, MIME: XLSXMIME, Data: data}},
	}}}, nil
}
