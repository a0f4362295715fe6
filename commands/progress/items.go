package progress

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/round"
)

// immediateWords mark an immediate-fix item (即知即改) as the last word of
// "progress new", and as a yes in an import sheet's column.
var immediateWords = []string{"immediate", "即知即改", "立行立改"}

var newOptions = []string{"deadline", "期限", "时限", "supervisor", "supervisors", "监督", "监督单位", "round", "轮次", "immediate", "即知即改"}

// create: progress new <organisation> <title…> deadline:… supervisor:a,b [immediate] [round:…]
func (h *handler) create(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	p := req.Command
	lang := req.Lang
	for k := range p.Options {
		if !slices.Contains(newOptions, k) {
			return nil, bot.UsageError(req, "progress.error.unknown_option", "option", k)
		}
	}
	args := slices.Clone(p.Args)
	immediate := p.HasOpt("immediate", "即知即改")
	for len(args) > 0 && isImmediateWord(args[len(args)-1]) {
		immediate = true
		args = args[:len(args)-1]
	}
	switch len(args) {
	case 0:
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "progress.arg.unit"))
	case 1:
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "progress.arg.title"))
	}
	now := h.b.Now().In(h.b.Loc)
	in := itemInput{Unit: args[0], Title: strings.Join(args[1:], " "), Deadline: p.Opt("deadline", "期限", "时限"),
		Supervisors: p.Opt("supervisor", "supervisors", "监督", "监督单位"), Round: p.Opt("round", "轮次"), Immediate: immediate}
	it, err := h.createItem(ctx, req, in, now)
	if err != nil {
		return nil, err
	}
	text := h.t(lang, "progress.created", "id", it.ID, "unit", req.Roster.BodyName(it.Unit, lang), "deadline", bot.FormatDate(it.Deadline, h.b.Loc))
	return &bot.Response{Replies: []bot.Reply{{Text: text, Card: h.card(req.Roster, it, lang, now)}}}, nil
}

// createItem checks and stores the item in as req's person creates it,
// audits it and posts its card to the items' group.
func (h *handler) createItem(ctx context.Context, req *bot.Request, in itemInput, now time.Time) (*Item, error) {
	taken := h.titles(ctx)
	it, key, kv := h.validate(req.Roster, in, now, taken, req.Lang)
	if taken.err != nil {
		return nil, taken.err
	}
	if key != "" {
		return nil, bot.UsageError(req, key, kv...)
	}
	if err := h.checkNew(ctx, req, it, now); err != nil {
		return nil, err
	}
	it.Source = creatorBody(req.Roster, req.Person)
	if err := h.store(ctx, req, it, now, "create"); err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "progress.create", it.ID, auditDetail(it, h.b.Loc)); err != nil {
		return nil, err
	}
	card := h.card(req.Roster, it, h.b.Lang, now)
	refs, err := h.b.Out.Notify(ctx, bot.Notice{Group: h.itemGroup, Card: card, Key: "progress:" + it.ID + ":card"})
	if err != nil {
		h.b.Log.Warn("progress: item card failed", "item", it.ID, "err", err)
	}
	if len(refs) > 0 {
		if _, err := update(ctx, h.b.Store, it.ID, func(v *Item) error { v.Cards = append(v.Cards, refs...); return nil }); err != nil {
			h.b.Log.Warn("progress: could not keep card references", "item", it.ID, "err", err)
		}
	}
	return it, nil
}

// Maker makes rectification items for other domains: the immediate-fix
// item of a round's situation report.
type Maker struct{ h *handler }

// NewMaker returns the item maker of the progress domain configured by
// cfg, as the progress module sets it up.
func NewMaker(b *bot.Bot, cfg *config.Config) (*Maker, error) {
	h, err := newHandler(b, cfg)
	if err != nil {
		return nil, err
	}
	return &Maker{h: h}, nil
}

// NewImmediateItem makes an immediate-fix item (即知即改) of unit, with
// the checks, record, audit and card of "progress new … immediate" typed
// by req's person, and returns its id. A refusal is a *bot.Error.
func (m *Maker) NewImmediateItem(ctx context.Context, req *bot.Request, unit, title string, deadline time.Time, supervisors []string, round string) (string, error) {
	h := m.h
	if !slices.ContainsFunc(creatorKinds, func(k bot.PartyKind) bool { return req.Roster.HasKind(req.Person, k) }) {
		return "", bot.Coded(bot.EUNAUTHORIZED, "error.forbidden")
	}
	in := itemInput{Unit: unit, Title: title, Deadline: bot.FormatDate(deadline, h.b.Loc),
		Supervisors: strings.Join(supervisors, ","), Round: round, Immediate: true}
	it, err := h.createItem(ctx, req, in, h.b.Now().In(h.b.Loc))
	if err != nil {
		return "", err
	}
	return it.ID, nil
}

// reRoundID is an inspection round id.
var reRoundID = regexp.MustCompile(`^XC-\d{4}-\d{4,}$`)

// checkNew refuses a typed item whose round does not exist or whose
// deadline has already passed: an item created that way would be
// attached to nothing, or overdue from its first day. (An import may
// carry older items with past deadlines; it does not go through here.)
func (h *handler) checkNew(ctx context.Context, req *bot.Request, it *Item, now time.Time) error {
	if it.Round != "" {
		if !reRoundID.MatchString(it.Round) {
			return bot.UsageError(req, "progress.error.bad_round", "input", it.Round)
		}
		_, err := round.NewQueries(h.b.Store).Get(ctx, it.Round)
		if bot.IsNotFound(err) {
			return bot.UsageError(req, "progress.error.unknown_round", "round", it.Round)
		}
		if err != nil {
			return err
		}
	}
	local := now.In(h.b.Loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, h.b.Loc)
	if it.Deadline.Before(today) {
		return bot.UsageError(req, "progress.error.past_deadline", "deadline", bot.FormatDate(it.Deadline, h.b.Loc), "today", bot.FormatDate(today, h.b.Loc))
	}
	return nil
}

func isImmediateWord(s string) bool {
	return slices.ContainsFunc(immediateWords, func(w string) bool { return strings.EqualFold(w, s) })
}

// itemInput is an item as typed or read from a sheet row.
type itemInput struct {
	Unit, Title, Deadline, Supervisors, Round string
	Immediate                                 bool
}

// validate resolves an input into an item (without id), or returns the
// catalog key and arguments of what is wrong. taken maps unit|title of
// the existing items (by their title keys) and of earlier rows of the
// same import; validate adds the new item's. A store error is left in
// taken.err.
func (h *handler) validate(r *bot.Roster, in itemInput, now time.Time, taken *titles, lang string) (*Item, string, []any) {
	unitName := strings.TrimSpace(in.Unit)
	unit, ok := r.FindBody(unitName, bot.ResponsibleUnit)
	if !ok {
		if close := closeUnits(r, unitName, lang, h.t(lang, "list.sep")); close != "" {
			return nil, "progress.error.close_unit", []any{"input", unitName, "bodies", close}
		}
		return nil, "progress.error.unknown_unit", []any{"input", unitName}
	}
	title := strings.TrimSpace(in.Title)
	switch {
	case title == "":
		return nil, "error.missing_arg", []any{"what", h.t(lang, "progress.arg.title")}
	case tooLong(title, maxTitle):
		return nil, "progress.error.too_long", []any{"what", h.t(lang, "progress.arg.title"), "max", maxTitle}
	}
	if strings.TrimSpace(in.Deadline) == "" {
		return nil, "progress.error.need_deadline", nil
	}
	deadline, err := bot.ParseDate(in.Deadline, now, h.b.Loc)
	if e, ok := bot.AmbiguousDate(err); ok {
		return nil, e.Key, e.Args
	}
	if err != nil {
		return nil, "progress.error.bad_deadline", []any{"input", in.Deadline}
	}
	if strings.TrimSpace(in.Supervisors) == "" {
		return nil, "progress.error.need_supervisor", nil
	}
	var sups []string
	for _, s := range splitList(in.Supervisors) {
		b, ok := r.FindBody(s, SupervisingKinds...)
		if !ok {
			return nil, "progress.error.unknown_supervisor", []any{"input", s}
		}
		if !slices.Contains(sups, b.ID) {
			sups = append(sups, b.ID)
		}
	}
	if id, dup := taken.owner(unit.ID, title); dup {
		if id == "" {
			return nil, "progress.error.duplicate_row", []any{"title", title}
		}
		return nil, "progress.error.duplicate", []any{"id", id, "title", title}
	}
	return &Item{
		Round: strings.ToUpper(strings.TrimSpace(in.Round)), Unit: unit.ID, Title: title, Deadline: deadline,
		Supervisors: sups, Immediate: in.Immediate, Status: ItemOpen,
	}, "", nil
}

// titles answers whether a unit's title is taken: by an existing item
// (a Get of its title key document, not a scan of the items) or by an
// earlier row of the same import.
type titles struct {
	ctx   context.Context
	s     bot.Store
	batch map[string]bool
	err   error // the first store error met
}

func (h *handler) titles(ctx context.Context) *titles {
	return &titles{ctx: ctx, s: h.b.Store, batch: map[string]bool{}}
}

// owner returns the id of the item holding unit's title ("" for a row of
// this batch) and whether it is taken; a title not taken is added to the
// batch.
func (t *titles) owner(unit, title string) (string, bool) {
	k := titleKey(unit, title)
	if t.batch[k] {
		return "", true
	}
	id, err := titleOwner(t.ctx, t.s, unit, title)
	if err != nil {
		t.err = cmp.Or(t.err, err)
		return "", false
	}
	if id != "" {
		return id, true
	}
	t.batch[k] = true
	return "", false
}

// store gives it an id and creates it.
func (h *handler) store(ctx context.Context, req *bot.Request, it *Item, now time.Time, action string) error {
	id, err := bot.NewID(ctx, h.b.Store, PrefixItem, now.Year())
	if err != nil {
		return err
	}
	it.ID = id
	it.CreatedAt, it.UpdatedAt = now, now
	if req != nil && req.Person != nil {
		it.CreatedBy = req.Person.ID
		it.History = append(it.History, bot.History{Time: now, Person: req.Person.ID, Platform: req.Platform, Action: action})
	}
	return insert(ctx, h.b.Store, it)
}

func auditDetail(it *Item, loc *time.Location) string {
	return fmt.Sprintf("unit=%s deadline=%s supervisors=%s immediate=%t", it.Unit, bot.FormatDate(it.Deadline, loc), strings.Join(it.Supervisors, ","), it.Immediate)
}

// splitList splits "a,b、c，d" into its trimmed parts.
func splitList(s string) []string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' })
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// creatorBody is the inspection team or office body p creates items for.
func creatorBody(r *bot.Roster, p *bot.Person) string {
	for _, k := range creatorKinds {
		for _, id := range p.Bodies {
			if b, ok := r.Body(id); ok && b.Kind == k {
				return id
			}
		}
	}
	return ""
}

// statusLabel renders "60% · 整改中（已逾期）".
func (h *handler) statusLabel(lang string, it *Item, now time.Time) string {
	s := h.t(lang, "progress.status."+string(it.Status), "percent", it.Percent)
	if it.OverdueAt(now, h.b.Loc) {
		s += h.t(lang, "progress.overdue_mark")
	}
	return s
}

func (h *handler) yesNo(lang string, v bool) string {
	if v {
		return h.t(lang, "progress.yes")
	}
	return h.t(lang, "progress.no")
}

// card is the item's card, with the buttons to log from it.
func (h *handler) card(r *bot.Roster, it *Item, lang string, now time.Time) *bot.Card {
	c := &bot.Card{
		Title: h.t(lang, "progress.card.title", "id", it.ID),
		Text:  it.Title,
		Color: bot.Blue,
		Fields: []bot.Field{
			{Label: h.t(lang, "progress.field.unit"), Value: r.BodyName(it.Unit, lang)},
			{Label: h.t(lang, "progress.field.deadline"), Value: bot.FormatDate(it.Deadline, h.b.Loc)},
			{Label: h.t(lang, "progress.field.supervisors"), Value: h.bodyNames(r, it.Supervisors, lang)},
			{Label: h.t(lang, "progress.field.immediate"), Value: h.yesNo(lang, it.Immediate)},
			{Label: h.t(lang, "progress.field.progress"), Value: h.statusLabel(lang, it, now)},
		},
	}
	switch {
	case it.Awaiting():
		c.Color = bot.Orange
	case !it.Open():
		c.Color = bot.Green
	case it.OverdueAt(now, h.b.Loc):
		c.Color = bot.Red
	}
	if n := len(it.Progress); n > 0 {
		e := it.Progress[n-1]
		c.Note = h.t(lang, "progress.card.last", "time", bot.FormatTime(e.Time, h.b.Loc), "person", r.PersonName(e.Person, lang), "percent", e.Percent, "note", orDash(e.Note))
	} else {
		c.Note = h.t(lang, "progress.card.hint", "id", it.ID)
	}
	if it.Awaiting() {
		c.Note += "\n" + h.t(lang, "progress.card.awaiting", "id", it.ID, "bodies", h.bodyNames(r, it.Supervisors, lang))
		c.Buttons = []bot.Button{{Label: h.t(lang, "progress.button.close"), Action: ActionClose, Value: it.ID, Style: "primary"}}
	}
	if it.Open() {
		c.Buttons = []bot.Button{
			{Label: h.t(lang, "progress.button.same"), Action: "progress.same", Value: it.ID},
			{Label: h.t(lang, "progress.button.done"), Action: "progress.done", Value: it.ID, Style: "primary"},
		}
	}
	return c
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// refreshCards updates the item's group cards after a change.
func (h *handler) refreshCards(ctx context.Context, r *bot.Roster, it *Item, now time.Time) {
	if len(it.Cards) == 0 {
		return
	}
	if err := h.b.Out.UpdateCards(ctx, it.Cards, h.card(r, it, h.b.Lang, now)); err != nil {
		h.b.Log.Warn("progress: card update failed", "item", it.ID, "err", err)
	}
}

// show: progress show ZG-…
func (h *handler) show(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := argID(req, 0)
	if err != nil {
		return nil, err
	}
	it, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	lang, r, now := req.Lang, req.Roster, h.b.Now()
	var s strings.Builder
	s.WriteString(h.t(lang, "progress.history.header", "id", it.ID))
	if len(it.Progress) == 0 {
		s.WriteString("\n" + h.t(lang, "progress.history.none"))
	}
	for _, e := range it.Progress {
		key := "progress.history.entry"
		if e.Correction {
			key = "progress.history.correction"
		}
		s.WriteString("\n• " + h.t(lang, key, "time", bot.FormatTime(e.Time, h.b.Loc), "person", r.PersonName(e.Person, lang),
			"platform", h.b.People.PlatformName(lang, e.Platform), "from", e.From, "percent", e.Percent, "note", orDash(e.Note), "reason", e.Reason))
	}
	for _, ev := range it.History {
		switch ev.Action {
		case "check", "close", "reject":
			s.WriteString("\n• " + h.t(lang, "progress.history."+ev.Action, "time", bot.FormatTime(ev.Time, h.b.Loc), "person", r.PersonName(ev.Person, lang), "note", orDash(ev.Note)))
		}
	}
	if len(it.Unreported) > 0 {
		var ms []string
		for _, m := range it.Unreported {
			ms = append(ms, h.monthLabel(lang, m))
		}
		s.WriteString("\n" + h.t(lang, "progress.history.unreported", "months", strings.Join(ms, h.t(lang, "list.sep"))))
	}
	return &bot.Response{Replies: []bot.Reply{{Card: h.card(r, it, lang, now), Text: s.String()}}}, nil
}

// listFilter is what "progress list" selects.
type listFilter struct {
	mine, overdue, open, awaiting, done bool
	unit                                string
}

var (
	mineWords     = []string{"mine", "my", "我的"}
	overdueWords  = []string{"overdue", "逾期"}
	openWords     = []string{"open", "在办", "整改中", "未完成"}
	awaitingWords = []string{"awaiting", "待销号"}
	doneWords     = []string{"done", "closed", "已销号", "已完成", "完成"}
)

func hasWord(words []string, w string) bool {
	return slices.ContainsFunc(words, func(x string) bool { return strings.EqualFold(x, w) })
}

// list: progress list [mine] [overdue] [open|awaiting|done] [<organisation>|unit:…] [from:ZG-…]
//
// A page of at most maxListed items, newest first, read from the index
// that fits the filter best (the person's bodies' for mine, the unit's,
// the status's); a next page starts after the id the reply names.
func (h *handler) list(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	p := req.Command
	lang, r := req.Lang, req.Roster
	var f listFilter
	for k := range p.Options {
		if k != "unit" && k != "单位" && k != "from" && k != "从" {
			return nil, bot.UsageError(req, "progress.error.unknown_option", "option", k)
		}
	}
	unitArg := p.Opt("unit", "单位")
	var words []string
	for _, a := range p.Args {
		switch {
		case hasWord(mineWords, a):
			f.mine = true
		case hasWord(overdueWords, a):
			f.overdue = true
		case hasWord(openWords, a):
			f.open = true
		case hasWord(awaitingWords, a):
			f.awaiting = true
		case hasWord(doneWords, a):
			f.done = true
		case unitArg == "":
			unitArg = a
		default:
			return nil, bot.UsageError(req, "progress.error.bad_filter", "input", a)
		}
		words = append(words, a)
	}
	after := strings.ToUpper(strings.TrimSpace(p.Opt("from", "从")))
	if after != "" && !reItemID.MatchString(after) {
		return nil, bot.UsageError(req, "progress.error.bad_cursor", "input", after)
	}
	if unitArg != "" {
		b, ok := r.FindBody(unitArg, bot.ResponsibleUnit)
		if !ok {
			if close := closeUnits(r, unitArg, req.Lang, h.t(req.Lang, "list.sep")); close != "" {
				return nil, bot.UsageError(req, "progress.error.close_unit", "input", unitArg, "bodies", close)
			}
			return nil, bot.UsageError(req, "progress.error.unknown_unit", "input", unitArg)
		}
		f.unit = b.ID
		if v := p.Opt("unit", "单位"); v != "" {
			words = append(words, "unit:"+v)
		}
	}
	now := h.b.Now()
	keep := func(it *Item) bool { return f.match(it, req.Person, now, h.b.Loc) }
	page, err := pageIndexed(ctx, h.b.Store, listPrefixes(f, req.Person), after, maxListed, keep)
	if err != nil {
		return nil, err
	}
	if len(page.items) == 0 {
		return bot.Text(h.t(lang, "progress.list.empty")), nil
	}
	var s strings.Builder
	s.WriteString(h.t(lang, "progress.list.header"))
	for _, it := range page.items {
		s.WriteString("\n• " + h.t(lang, "progress.list.line", "id", it.ID, "unit", r.BodyName(it.Unit, lang), "status", h.statusLabel(lang, it, now),
			"deadline", bot.FormatDate(it.Deadline, h.b.Loc), "title", it.Title))
	}
	if page.next != "" {
		filters := strings.Join(words, " ")
		if filters != "" {
			filters += " "
		}
		s.WriteString("\n" + h.t(lang, "progress.list.more", "filters", filters, "id", page.next))
	}
	return bot.Text(s.String()), nil
}

// match reports whether f selects item it for the reader p at now.
func (f listFilter) match(it *Item, p *bot.Person, now time.Time, loc *time.Location) bool {
	switch {
	case f.mine && !it.MayLog(p) && it.CreatedBy != p.ID && !(it.Source != "" && p.InBody(it.Source)):
	case f.overdue && !it.OverdueAt(now, loc):
	case f.open && !it.Open():
	case f.awaiting && !it.Awaiting():
	case f.done && it.Status != ItemDone:
	case f.unit != "" && it.Unit != f.unit:
	default:
		return true
	}
	return false
}

// listPrefixes are the CollItemIndex prefixes whose union holds every
// item f can select, the narrowest available: the person's bodies and
// own items for mine, the unit's items, one status, or every status.
func listPrefixes(f listFilter, p *bot.Person) []string {
	switch {
	case f.mine:
		out := []string{ixPerson + p.ID + "\x00"}
		for _, b := range p.Bodies {
			out = append(out, ixBody+b+"\x00")
		}
		return out
	case f.unit != "":
		return []string{ixBody + f.unit + "\x00"}
	case f.open || f.overdue:
		return []string{ixStatus + string(ItemOpen) + "\x00"}
	case f.awaiting:
		return []string{ixStatus + string(ItemAwaiting) + "\x00"}
	case f.done:
		return []string{ixStatus + string(ItemDone) + "\x00"}
	}
	return []string{ixStatus + string(ItemOpen) + "\x00", ixStatus + string(ItemAwaiting) + "\x00", ixStatus + string(ItemDone) + "\x00"}
}

// errStop aborts an update whose precondition no longer holds.
var errStop = errors.New("progress: precondition no longer holds")

// closeUnits names the responsible units a typing slip away from s
// (区财政局党租), "" when none is.
func closeUnits(r *bot.Roster, s, lang, sep string) string {
	var names []string
	for _, b := range r.CloseBodies(s, bot.ResponsibleUnit) {
		names = append(names, b.DisplayName(lang))
	}
	return strings.Join(names, sep)
}
