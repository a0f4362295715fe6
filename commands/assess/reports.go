package assess

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/xunji-bot/xunji/bot"
)

// maxUpload bounds an uploaded report, in bytes.
const maxUpload = 1 << 20

// reportPage is how many special reports a page of the list shows.
const reportPage = 30

// listCmd: report list (专报 列表) [from:ZB-…] — the special reports,
// newest first, a page at a time, each with its issue, period, drafting,
// whether an edited version was uploaded, and whether and when it was
// sent; the option from continues after the last report of the page
// before.
func (h *handler) listCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Command.Args) > 0 {
		return nil, bot.UsageError(req, "assess.error.extra_args", "input", req.Command.Rest(0))
	}
	after := strings.ToUpper(strings.TrimSpace(req.Command.Opt("from", "从")))
	page, _, err := h.reports.Scan(ctx, bot.Range{After: after, Limit: reportPage + 1, Reverse: true})
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	if len(page) == 0 {
		if after != "" {
			return bot.Text(h.t(lang, "report.list.end")), nil
		}
		return bot.Text(h.t(lang, "report.list.empty")), nil
	}
	more := len(page) > reportPage
	if more {
		page = page[:reportPage]
	}
	lines := []string{h.t(lang, "report.list.header", "count", len(page))}
	for _, rep := range page {
		lines = append(lines, "• "+h.line(req.Roster, rep, lang))
	}
	if more {
		lines = append(lines, h.t(lang, "report.list.more", "id", page[len(page)-1].ID))
	}
	return bot.Text(strings.Join(lines, "\n")), nil
}

// line is one report in a list.
func (h *handler) line(r *bot.Roster, rep *SpecialReport, lang string) string {
	return h.t(lang, "report.list.line", "id", rep.ID, "issue", IssueNumber(rep.ID), "period", PeriodName(lang, rep.Period),
		"date", LongDate(lang, rep.CreatedAt, h.b.Loc), "person", r.PersonName(rep.CreatedBy, lang), "state", h.state(r, rep, lang))
}

// state says where a report stands: draft, edited version uploaded, sent.
func (h *handler) state(r *bot.Roster, rep *SpecialReport, lang string) string {
	switch {
	case !rep.SentAt.IsZero():
		return h.t(lang, "report.state.sent", "time", bot.FormatTime(rep.SentAt, h.b.Loc), "person", r.PersonName(rep.SentBy, lang))
	case rep.Edited != "":
		return h.t(lang, "report.state.edited", "time", bot.FormatTime(rep.EditedAt, h.b.Loc), "person", r.PersonName(rep.EditedBy, lang))
	}
	return h.t(lang, "report.state.draft")
}

// loadArg reads and loads the report id in argument 0.
func (h *handler) loadArg(ctx context.Context, req *bot.Request) (*SpecialReport, error) {
	id := strings.TrimSpace(req.Command.Arg(0))
	if id == "" {
		return nil, bot.UsageError(req, "report.error.need_id")
	}
	if !reReportID.MatchString(id) {
		return nil, bot.UsageError(req, "report.error.bad_id", "input", id)
	}
	rep, err := h.reports.Get(ctx, strings.ToUpper(id))
	if bot.IsNotFound(err) {
		return nil, bot.Coded(bot.ENOTFOUND, "report.error.not_found", "id", strings.ToUpper(id))
	}
	return rep, err
}

// reportCard is a report's card: its state and, until it is sent, the button
// that sends it.
func (h *handler) reportCard(r *bot.Roster, rep *SpecialReport, lang string) *bot.Card {
	c := &bot.Card{
		Title: h.t(lang, "report.card.title", "id", rep.ID, "period", PeriodName(lang, rep.Period)),
		Color: bot.Blue,
		Text:  h.line(r, rep, lang),
	}
	if rep.SentAt.IsZero() {
		c.Text += "\n\n" + h.t(lang, "report.card.how", "id", rep.ID)
		c.Buttons = []bot.Button{{Label: h.t(lang, "report.button.send"), Action: ActionSend, Value: rep.ID, Style: "primary"}}
	} else {
		c.Color = bot.Green
	}
	return c
}

// showCmd: report show ZB-… (专报 查看) — the card and the document as
// it stands (the uploaded edit, else the draft; once sent, what was
// sent).
func (h *handler) showCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	rep, err := h.loadArg(ctx, req)
	if err != nil {
		return nil, err
	}
	return &bot.Response{Replies: []bot.Reply{{Card: h.reportCard(req.Roster, rep, req.Lang), Files: []bot.File{h.file(rep)}}}}, nil
}

var errAlreadySent = errors.New("report: sent, no more edits")

// localFiles reports whether req's platform reads local files (the
// console): a path may stand for an attachment.
func (h *handler) localFiles(req *bot.Request) bool {
	spec, _ := h.b.Platforms().Get(req.Platform)
	return spec.LocalFiles
}

// uploadCmd: report upload ZB-… (专报 上传) with the edited Markdown
// attached (on a platform that reads local files, the console: a local
// path), as progress import takes a sheet. The upload replaces the version to send; a sent report cannot
// be changed.
func (h *handler) uploadCmd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	rep, err := h.loadArg(ctx, req)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	var data []byte
	switch {
	case len(req.Files) > 0:
		var docs []bot.File
		for _, f := range req.Files {
			if isMarkdown(f.Name, f.MIME) {
				docs = append(docs, f)
			}
		}
		switch len(docs) {
		case 0:
			return nil, bot.UsageError(req, "report.upload.format", "name", req.Files[0].Name)
		case 1:
			data = docs[0].Data
		default:
			return nil, bot.UsageError(req, "report.upload.several", "count", len(docs))
		}
	case !h.localFiles(req):
		return bot.Text(h.t(lang, "report.upload.attach", "id", rep.ID)), nil
	default:
		path := strings.TrimSpace(req.Command.Rest(1))
		if path == "" {
			return nil, bot.UsageError(req, "report.upload.need_file", "id", rep.ID)
		}
		if !isMarkdown(path, "") {
			return nil, bot.UsageError(req, "report.upload.format", "name", filepath.Base(path))
		}
		st, err := os.Stat(path)
		if err != nil || st.IsDir() {
			return nil, bot.UsageError(req, "report.upload.no_file", "path", path)
		}
		if st.Size() > maxUpload {
			return nil, bot.UsageError(req, "report.upload.too_big", "max", maxUpload>>10)
		}
		if data, err = os.ReadFile(path); err != nil {
			return nil, bot.UsageError(req, "report.upload.no_file", "path", path)
		}
	}
	switch {
	case len(data) > maxUpload:
		return nil, bot.UsageError(req, "report.upload.too_big", "max", maxUpload>>10)
	case !utf8.Valid(data):
		return nil, bot.UsageError(req, "report.upload.not_utf8")
	case strings.TrimSpace(string(data)) == "":
		return nil, bot.UsageError(req, "report.upload.empty")
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	now := h.b.Now()
	updated, err := h.reports.Update(ctx, rep.ID, func(v *SpecialReport) error {
		if !v.SentAt.IsZero() {
			return errAlreadySent
		}
		v.Edited, v.EditedBy, v.EditedAt = text, req.Person.ID, now
		return nil
	})
	if errors.Is(err, errAlreadySent) {
		return nil, bot.Coded(bot.ECONFLICT, "report.upload.sent", "id", rep.ID, "time", bot.FormatTime(rep.SentAt, h.b.Loc))
	}
	if err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "report.upload", rep.ID, fmt.Sprintf("chars=%d", utf8.RuneCountInString(text))); err != nil {
		return nil, err
	}
	reply := h.t(lang, "report.uploaded", "id", rep.ID, "chars", utf8.RuneCountInString(text))
	return &bot.Response{Replies: []bot.Reply{{Text: reply, Card: h.reportCard(req.Roster, updated, lang)}}}, nil
}

func isMarkdown(name, mime string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".md", ".markdown", ".txt":
		return true
	}
	mime = strings.ToLower(mime)
	return strings.HasPrefix(mime, "text/markdown") || strings.HasPrefix(mime, "text/x-markdown")
}
