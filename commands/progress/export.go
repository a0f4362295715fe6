package progress

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/commands/internal/sheet"
)

// XLSXMIME is the media type of the export.
const XLSXMIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Export returns an XLSX workbook of every rectification item as of at,
// in lang: a sheet of items (one row each, in roster order of the units)
// and a sheet of every progress entry (one row each, by item then time).
func Export(ctx context.Context, b *bot.Bot, at time.Time, lang string) ([]byte, error) {
	var items []*Item
	for _, st := range []ItemStatus{ItemOpen, ItemAwaiting, ItemDone} {
		if err := eachIndexed(ctx, b.Store, ixStatus+string(st)+"\x00", func(it *Item) error {
			items = append(items, it)
			return nil
		}); err != nil {
			return nil, err
		}
	}
	tables, err := exportTables(ctx, b, items, at, lang)
	if err != nil {
		return nil, err
	}
	return sheet.Write(b.Loc, tables...)
}

// exportTables are the two tables of Export over items (which it
// sorts): every item for 进度 导出, the report's for the notice.
func exportTables(ctx context.Context, b *bot.Bot, items []*Item, at time.Time, lang string) ([]sheet.Table, error) {
	r, err := b.People.Roster(ctx)
	if err != nil {
		return nil, err
	}
	items = slices.Clone(items)
	sortItems(r, items)
	h := &handler{b: b}
	head := func(keys ...string) []string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = b.T(lang, "progress.xlsx.col."+k)
		}
		return out
	}
	itemTable := sheet.Table{
		Name:   b.T(lang, "progress.xlsx.items"),
		Header: head("id", "unit", "title", "supervisors", "deadline", "immediate", "status", "percent", "overdue", "last_update", "last_by", "last_note", "unreported", "created"),
	}
	for _, it := range items {
		if it.CreatedAt.After(at) {
			continue
		}
		var last sheet.DateTime
		var lastBy, lastNote string
		if n := len(it.Progress); n > 0 {
			e := it.Progress[n-1]
			last, lastBy, lastNote = sheet.DateTime(e.Time), r.PersonName(e.Person, lang), e.Note
		}
		itemTable.Rows = append(itemTable.Rows, []any{
			it.ID, r.BodyName(it.Unit, lang), it.Title, h.bodyNames(r, it.Supervisors, lang), sheet.Date(it.Deadline),
			h.yesNo(lang, it.Immediate), b.T(lang, "progress.xlsx.status."+string(it.Status)), sheet.Percent(it.Percent),
			h.yesNo(lang, it.OverdueAt(at, b.Loc)), last, lastBy, lastNote, strings.Join(it.Unreported, ","), sheet.DateTime(it.CreatedAt),
		})
	}
	logTable := sheet.Table{
		Name:   b.T(lang, "progress.xlsx.log"),
		Header: head("id", "unit", "time", "person", "platform", "from", "percent", "note", "correction"),
	}
	for _, it := range items {
		for _, e := range it.Progress {
			logTable.Rows = append(logTable.Rows, []any{it.ID, r.BodyName(it.Unit, lang), sheet.DateTime(e.Time), r.PersonName(e.Person, lang),
				h.platformName(lang, e.Platform), sheet.Percent(e.From), sheet.Percent(e.Percent), e.Note, e.Reason})
		}
	}
	return []sheet.Table{itemTable, logTable}, nil
}

// platformName is the platform's name for people (控制台, Slack, 飞书);
// a platform the catalog does not know shows as its id.
func (h *handler) platformName(lang string, p bot.Platform) string {
	if p == "" {
		return ""
	}
	key := "progress.xlsx.platform." + string(p)
	if !h.b.Translator().Has(lang, key) {
		return string(p)
	}
	return h.t(lang, key)
}

// exportCmd: progress export — the XLSX of all items and progress.
func (h *handler) exportCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	now := h.b.Now()
	data, err := Export(ctx, h.b, now, req.Lang)
	if err != nil {
		return nil, err
	}
	month := MonthID(now, h.b.Loc)
	if err := h.b.Audit.Record(ctx, req, "progress.export", month, fmt.Sprintf("bytes=%d", len(data))); err != nil {
		return nil, err
	}
	name := h.t(req.Lang, "progress.file.export", "month", month)
	return &bot.Response{Replies: []bot.Reply{{
		Text:  h.t(req.Lang, "progress.exported", "file", name),
		Files: []bot.File{{Name: name, MIME: XLSXMIME, Data: data}},
	}}}, nil
}
