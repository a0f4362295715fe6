package progress

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/xunji-bot/xunji/bot"
)

// Import columns and the header names offices use for them (case and
// surrounding spaces ignored). Unit, title, deadline and supervisor are
// required; immediate and round are optional; other columns are ignored.
var importColumns = map[string][]string{
	"unit":       {"责任单位", "整改责任单位", "被巡察单位", "被巡察党组织", "单位", "unit", "organisation", "organization", "responsible unit"},
	"title":      {"整改事项", "整改问题", "问题", "事项", "问题描述", "title", "item", "problem"},
	"deadline":   {"整改时限", "完成时限", "时限", "期限", "deadline", "due", "due date"},
	"supervisor": {"监督单位", "监督主体", "督促单位", "监督", "supervisor", "supervisors", "supervising body"},
	"immediate":  {"即知即改", "立行立改", "是否即知即改", "immediate", "immediate fix"},
	"round":      {"巡察轮次", "轮次", "round"},
}

var requiredColumns = []string{"unit", "title", "deadline", "supervisor"}

var (
	yesWords = []string{"是", "y", "yes", "true", "1", "√", "✓", "即知即改", "立行立改"}
	noWords  = []string{"否", "n", "no", "false", "0", "×", "-", ""}
)

// RowError is what is wrong with one row of an import sheet: Row is the
// row number a person sees in the sheet (the header is row 1 when it is
// the first line), Key and Args the catalog message.
type RowError struct {
	Row  int
	Key  string
	Args []any
}

// ImportError lists every bad row of a refused import; nothing was
// imported.
type ImportError struct {
	Rows []RowError
}

func (e *ImportError) Error() string {
	var s []string
	for _, r := range e.Rows {
		s = append(s, fmt.Sprintf("row %d: %s", r.Row, r.Key))
	}
	return "progress: import refused: " + strings.Join(s, "; ")
}

// Import creates rectification items from a CSV or XLSX sheet (format
// "csv" or "xlsx"), the form offices already keep: a header row naming
// the columns (责任单位, 整改事项, 整改时限, 监督单位, optional 即知即改 and
// 巡察轮次), then one item per row. It is all or nothing: if any row is
// bad it returns an *ImportError listing every bad row and creates
// nothing. req names the importing person (a member of an inspection
// team or the inspection office, or an administrator) for the records
// and the audit. It returns the ids created, in row order.
func Import(ctx context.Context, b *bot.Bot, req *bot.Request, data []byte, format string) ([]string, error) {
	r, err := importRoster(ctx, b, req)
	if err != nil {
		return nil, err
	}
	rows, err := readSheet(data, format)
	if err != nil {
		return nil, err
	}
	h := &handler{b: b, items: bot.Records[Item](b.Store, CollItems)}
	lang := req.Lang
	if lang == "" {
		lang = b.Lang
	}
	hdr, cols, err := sheetHeader(b, rows, lang)
	if err != nil {
		return nil, err
	}
	taken := h.titles(ctx)
	now := b.Now().In(b.Loc)
	items, err := h.importRows(r, req, rows[hdr+1:], hdr+1, cols, taken, now, lang)
	if err != nil {
		return nil, err
	}
	return h.storeImport(ctx, req, items, now, format)
}

// importRoster returns the roster of an import by the person of req, refusing
// (and auditing) a person who may not create items.
func importRoster(ctx context.Context, b *bot.Bot, req *bot.Request) (*bot.Roster, error) {
	if req == nil || req.Person == nil {
		return nil, bot.Coded(bot.EUNAUTHORIZED, "error.forbidden")
	}
	r := req.Roster
	if r == nil {
		var err error
		if r, err = b.People.Roster(ctx); err != nil {
			return nil, err
		}
	}
	if !req.Person.Admin && !r.HasKind(req.Person, creatorKinds...) {
		if err := b.Audit.Result(ctx, req, "progress.import", "", "", bot.ResultRefused); err != nil {
			return nil, err
		}
		return nil, bot.Coded(bot.EUNAUTHORIZED, "error.forbidden")
	}
	return r, nil
}

// sheetHeader finds the header, the first row with any content, and the
// column of each import column it names; every required one must be
// there.
func sheetHeader(b *bot.Bot, rows [][]string, lang string) (int, map[string]int, error) {
	hdr := -1
	for i, row := range rows {
		if !blank(row) {
			hdr = i
			break
		}
	}
	if hdr < 0 {
		return 0, nil, bot.Coded(bot.EINVALID, "progress.import.empty")
	}
	cols := map[string]int{}
	for j, name := range rows[hdr] {
		name = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
		for col, names := range importColumns {
			if _, dup := cols[col]; !dup && hasWord(names, name) {
				cols[col] = j
			}
		}
	}
	var missing []string
	for _, c := range requiredColumns {
		if _, ok := cols[c]; !ok {
			missing = append(missing, importColumns[c][0])
		}
	}
	if len(missing) > 0 {
		return 0, nil, bot.Coded(bot.EINVALID, "progress.import.columns", "columns", strings.Join(missing, b.T(lang, "list.sep")))
	}
	return hdr, cols, nil
}

// importRows checks the rows of a sheet below its header (first is the
// index of the first of them) and returns their items, or an
// *ImportError listing every bad row.
func (h *handler) importRows(r *bot.Roster, req *bot.Request, rows [][]string, first int, cols map[string]int, taken *titles, now time.Time, lang string) ([]*Item, error) {
	cell := func(row []string, col string) string {
		j, ok := cols[col]
		if !ok || j >= len(row) {
			return ""
		}
		return strings.TrimSpace(row[j])
	}
	var items []*Item
	var bad []RowError
	for i, row := range rows {
		if blank(row) {
			continue
		}
		if len(items)+len(bad) >= maxImport {
			return nil, bot.Coded(bot.EINVALID, "progress.import.too_many", "max", maxImport)
		}
		n := first + i + 1 // the row's number in the sheet
		in := itemInput{Unit: cell(row, "unit"), Title: cell(row, "title"), Deadline: sheetDate(cell(row, "deadline")),
			Supervisors: cell(row, "supervisor"), Round: cell(row, "round")}
		imm := cell(row, "immediate")
		switch {
		case hasWord(yesWords, imm):
			in.Immediate = true
		case hasWord(noWords, imm):
		default:
			bad = append(bad, RowError{Row: n, Key: "progress.import.bad_immediate", Args: []any{"input", imm}})
			continue
		}
		it, key, args := h.validate(r, in, now, taken, lang)
		if taken.err != nil {
			return nil, taken.err
		}
		if key != "" {
			bad = append(bad, RowError{Row: n, Key: key, Args: args})
			continue
		}
		it.Source = creatorBody(r, req.Person)
		items = append(items, it)
	}
	if len(bad) > 0 {
		return nil, &ImportError{Rows: bad}
	}
	if len(items) == 0 {
		return nil, bot.Coded(bot.EINVALID, "progress.import.empty")
	}
	return items, nil
}

// storeImport stores the items of an import, all or none, and audits
// them. It returns the ids created, in row order.
func (h *handler) storeImport(ctx context.Context, req *bot.Request, items []*Item, now time.Time, format string) ([]string, error) {
	b := h.b
	var created []string
	for i, it := range items {
		if err := h.store(ctx, req, it, now, "import"); err != nil {
			// Nothing half-imported: take back what this import created.
			for _, c := range items[:i] {
				if derr := remove(ctx, b.Store, c); derr != nil {
					err = errors.Join(err, derr)
				}
			}
			return nil, err
		}
		created = append(created, it.ID)
	}
	for _, it := range items {
		if err := b.Audit.Record(ctx, req, "progress.create", it.ID, "import "+auditDetail(it, b.Loc)); err != nil {
			return created, err
		}
	}
	if err := b.Audit.Record(ctx, req, "progress.import", "", fmt.Sprintf("format=%s items=%d first=%s last=%s", format, len(created), created[0], created[len(created)-1])); err != nil {
		return created, err
	}
	return created, nil
}

func blank(row []string) bool {
	for _, c := range row {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// sheetDate turns a spreadsheet's date cell into what bot.ParseDate
// reads: an Excel serial day number (a raw XLSX date cell) becomes
// 2006-01-02, and a trailing time of day ("2026/12/31 0:00:00") is
// dropped.
func sheetDate(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 20000 && f < 80000 {
		if t, err := excelize.ExcelDateToTime(f, false); err == nil {
			return t.Format("2006-01-02")
		}
	}
	if d, _, ok := strings.Cut(s, " "); ok {
		return d
	}
	return s
}

// readSheet returns the rows of the first sheet of an XLSX file, or of a
// CSV file (UTF-8 with or without BOM, or GB 18030/GBK as Excel saves it
// on Chinese Windows).
func readSheet(data []byte, format string) ([][]string, error) {
	switch strings.ToLower(strings.TrimPrefix(format, ".")) {
	case "csv":
		data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(data) {
			dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
			if err != nil {
				return nil, bot.Coded(bot.EINVALID, "progress.import.unreadable", "format", "CSV")
			}
			data = dec
		}
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		cr.LazyQuotes = true
		var rows [][]string
		for {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, bot.Coded(bot.EINVALID, "progress.import.unreadable", "format", "CSV")
			}
			rows = append(rows, rec)
			if len(rows) > maxImport+100 {
				return nil, bot.Coded(bot.EINVALID, "progress.import.too_many", "max", maxImport)
			}
		}
		return rows, nil
	case "xlsx":
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return nil, bot.Coded(bot.EINVALID, "progress.import.unreadable", "format", "XLSX")
		}
		defer f.Close()
		sheets := f.GetSheetList()
		if len(sheets) == 0 {
			return nil, bot.Coded(bot.EINVALID, "progress.import.empty")
		}
		rows, err := f.GetRows(sheets[0], excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, bot.Coded(bot.EINVALID, "progress.import.unreadable", "format", "XLSX")
		}
		if len(rows) > maxImport+100 {
			return nil, bot.Coded(bot.EINVALID, "progress.import.too_many", "max", maxImport)
		}
		return rows, nil
	}
	return nil, bot.Coded(bot.EINVALID, "progress.import.format", "format", format)
}

// importCmd: progress import — with a CSV or XLSX file sent with the
// command (req.Files, which the chat platforms' adapters fill), or, on a
// platform that reads local files (the console), with a local path:
// progress import <path>.
func (h *handler) importCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Files) > 0 {
		return h.importFile(ctx, req)
	}
	if spec, _ := h.b.Platforms().Get(req.Platform); !spec.LocalFiles {
		return bot.Text(h.t(req.Lang, h.attachHelpKey(req, spec))), nil
	}
	path := strings.TrimSpace(req.Command.Rest(0))
	if path == "" {
		return nil, bot.UsageError(req, "progress.import.need_path")
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "csv" && format != "xlsx" {
		return nil, bot.UsageError(req, "progress.import.format", "format", filepath.Ext(path))
	}
	st, err := os.Stat(path)
	if err != nil || st.IsDir() {
		return nil, bot.UsageError(req, "progress.import.no_file", "path", path)
	}
	if st.Size() > maxFileBytes {
		return nil, bot.UsageError(req, "progress.import.too_big", "max", maxFileBytes>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, bot.UsageError(req, "progress.import.no_file", "path", path)
	}
	return h.runImport(ctx, req, data, format)
}

// attachHelpKey names the text that tells how to send a sheet with the
// command on the request's platform: the platform's variant of it
// (PlatformSpec.AttachHint) when the catalog has one, else the general
// text.
func (h *handler) attachHelpKey(req *bot.Request, spec bot.PlatformSpec) string {
	const key = "progress.import.attach"
	if v := spec.Hint(req); v != "" && h.b.Translator().Has(req.Lang, key+"_"+v) {
		return key + "_" + v
	}
	return key
}

// importFile imports the one CSV or XLSX file sent with the command.
// These answers carry no usage example: the sub-command's example is the
// console's local path form.
func (h *handler) importFile(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	var sheets []bot.File
	for _, f := range req.Files {
		if sheetFormat(f) != "" {
			sheets = append(sheets, f)
		}
	}
	switch {
	case len(sheets) == 0:
		ext := filepath.Ext(req.Files[0].Name)
		if ext == "" {
			ext = req.Files[0].Name
		}
		return nil, bot.Coded(bot.EINVALID, "progress.import.format", "format", ext)
	case len(sheets) > 1:
		return nil, bot.Coded(bot.EINVALID, "progress.import.one_file", "count", len(sheets))
	}
	f := sheets[0]
	switch {
	case len(f.Data) == 0:
		// The adapter lists a file it could not take (too large, or the
		// download failed) without its content.
		return nil, bot.Coded(bot.EINVALID, "progress.import.not_received", "name", f.Name, "max", maxFileBytes>>20)
	case len(f.Data) > maxFileBytes:
		return nil, bot.Coded(bot.EINVALID, "progress.import.too_big", "max", maxFileBytes>>20)
	}
	return h.runImport(ctx, req, f.Data, sheetFormat(f))
}

// sheetFormat is "csv" or "xlsx" for a file the import reads, by its
// name's extension or else its MIME type; "" otherwise.
func sheetFormat(f bot.File) string {
	switch strings.ToLower(filepath.Ext(f.Name)) {
	case ".csv":
		return "csv"
	case ".xlsx":
		return "xlsx"
	}
	mime, _, _ := strings.Cut(strings.ToLower(f.MIME), ";")
	switch strings.TrimSpace(mime) {
	case "text/csv", "application/csv", "text/comma-separated-values":
		return "csv"
	case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
		return "xlsx"
	}
	return ""
}

// runImport imports data and answers with the ids created, or with every
// bad row.
func (h *handler) runImport(ctx context.Context, req *bot.Request, data []byte, format string) (*bot.Response, error) {
	ids, err := Import(ctx, h.b, req, data, format)
	var ie *ImportError
	if errors.As(err, &ie) {
		var s strings.Builder
		s.WriteString(h.t(req.Lang, "progress.import.refused", "count", len(ie.Rows)))
		for _, r := range ie.Rows {
			s.WriteString("\n• " + h.t(req.Lang, "progress.import.row", "row", r.Row, "error", h.t(req.Lang, r.Key, r.Args...)))
		}
		return bot.Text(s.String()), nil
	}
	if err != nil {
		return nil, err
	}
	return bot.Text(h.t(req.Lang, "progress.import.done", "count", len(ids), "first", ids[0], "last", ids[len(ids)-1])), nil
}
