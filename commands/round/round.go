// Package round is the inspection rounds (巡察轮次) and the situation
// exchange during a round (巡中重要情况互通): the inspection office creates
// a round with its team, the inspected organisation, the attached
// discipline bodies and the dates, and may later correct its name, dates
// and attached bodies (edit.go); setting the feedback date tells the
// attached bodies that their day-to-day supervision of the rectification
// starts (DOMAIN.md, "After") — and a job tells them on the feedback day
// when the date was given in advance (feedbackjob.go; dates more than
// FeedbackGraceDays past are not notified); the team reports important situations to
// the attached bodies only, who acknowledge them, and a problem fixed on
// the spot (立行立改) becomes an immediate-fix rectification item with its
// three-party co-signature at one click.
package round

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/internal/index"
)

// Button action ids.
const (
	ActionAck = "round.ack" // value: QK id; the clicker's receiving bodies acknowledge
	ActionFix = "round.fix" // value: QK id; make the immediate-fix item and co-signature
)

// AttachedKinds are the party kinds that may be attached to a round: they
// receive its situation reports and supervise its rectification.
var AttachedKinds = []bot.PartyKind{bot.SupervisionRoom, bot.StationedGroup, bot.SupervisorOffice, bot.GrassrootsCommission}

const (
	maxName      = 100  // runes
	maxSituation = 2000 // runes
	maxListed    = 50
	// maxTitle bounds the item title and co-signature description made
	// from a situation (progress: 200, cosign: 500).
	maxTitle = 200
)

var (
	reRoundID     = regexp.MustCompile(`^(?i)XC-\d{4}-\d{4,}$`)
	reSituationID = regexp.MustCompile(`^(?i)QK-\d{4}-\d{4,}$`)
)

// immediateWords mark a situation as fixed on the spot when typed as the
// last word of "round report".
var immediateWords = []string{"立行立改", "即知即改", "immediate"}

// Option names people type.
var (
	optStart    = []string{"start", "开始", "起"}
	optEnd      = []string{"end", "结束", "止"}
	optFeedback = []string{"feedback", "反馈"}
	optAttached = []string{"attached", "附属", "协同", "联系"}
	optName     = []string{"name", "名称"}
)

type handler struct {
	b          *bot.Bot
	cfg        *config.Config
	rc         Settings
	group      string // coordination group for new rounds
	rounds     bot.Collection[Round]
	situations bot.Collection[Situation]
	notices    bot.Collection[feedbackNotice]
	fix        Fix
}

// ItemMaker makes the immediate-fix rectification item (即知即改) of a
// situation fixed on the spot, as req's person, and returns its id; a
// refusal is a *bot.Error (progress.Maker).
type ItemMaker interface {
	NewImmediateItem(ctx context.Context, req *bot.Request, unit, title string, deadline time.Time, supervisors []string, round string) (string, error)
}

// CosignMaker makes the three-party co-signature of an immediate fix
// about round and item ("" for none), as req's person, and returns its
// id; a refusal is a *bot.Error (cosign.Maker).
type CosignMaker interface {
	NewDefault(ctx context.Context, req *bot.Request, round, item, description string) (string, error)
}

// Fix is what the immediate-fix button needs from the domains that own
// rectification items and co-signatures. They import round, so round
// cannot import them: main passes their makers in. Without Cosigns the
// button refuses; without Items it makes the co-signature only.
type Fix struct {
	Items   ItemMaker
	Cosigns CosignMaker
}

// Module is the round domain: the round command (轮次, 巡察) and the
// feedback-day job (FeedbackJobName), with the round section of the
// configuration (Settings). fix, when not nil, makes the makers the
// immediate-fix button uses once the bot is there (commands/all wires
// the progress and cosign domains' makers in); without it the button
// refuses.
func Module(fix func(b *bot.Bot, c *config.Config) (Fix, error)) config.Module {
	return config.Module{Name: "round", Section: SettingsSection, Check: check,
		Setup: func(b *bot.Bot, c *config.Config) error { return setup(b, c, fix) }}
}

func setup(b *bot.Bot, cfg *config.Config, fix func(b *bot.Bot, c *config.Config) (Fix, error)) error {
	if b == nil || cfg == nil {
		return fmt.Errorf("round: a bot and a configuration are required")
	}
	if err := b.AddTexts(texts, textsDir); err != nil {
		return err
	}
	rc, err := SettingsOf(cfg)
	if err != nil {
		return err
	}
	h := &handler{
		b: b, cfg: cfg, rc: rc, group: noticeGroup(cfg),
		rounds:     bot.Records[Round](b.Store, CollRounds),
		situations: bot.Records[Situation](b.Store, CollSituations),
		notices:    bot.Records[feedbackNotice](b.Store, CollFeedbackNotices),
	}
	if fix != nil {
		if h.fix, err = fix(b, cfg); err != nil {
			return err
		}
	}
	if err := b.Router.Register(h.command()); err != nil {
		return err
	}
	return b.Jobs.Add(bot.Job{Name: FeedbackJobName, Every: FeedbackJobEvery, Run: h.feedbackJob})
}

func noticeGroup(cfg *config.Config) string {
	if g, ok := cfg.Notices["round"]; ok {
		return g
	}
	return cfg.NoticeGroup("clue")
}

func (h *handler) command() *bot.Command {
	office := bot.Kinds(bot.InspectionOffice)
	return &bot.Command{
		Name:    "round",
		Aliases: []string{"轮次", "巡察"},
		Subs: []*bot.Subcommand{
			{Name: "new", Aliases: []string{"新建"}, Allow: office, Run: h.create},
			{Name: "list", Aliases: []string{"列表"}, Run: h.list},
			{Name: "show", Aliases: []string{"查看"}, Run: h.show},
			{Name: "edit", Aliases: []string{"修改", "编辑"}, Allow: office, Run: h.edit},
			{Name: "feedback", Aliases: []string{"反馈"}, Allow: bot.Kinds(bot.InspectionOffice, bot.InspectionTeam), Run: h.feedback},
			{Name: "report", Aliases: []string{"通报", "情况"}, Allow: bot.Kinds(bot.InspectionOffice, bot.InspectionTeam), Run: h.report},
			{Name: "reply", Aliases: []string{"互通", "回报"}, Run: h.reply},
		},
		Actions: []*bot.Action{
			{ID: ActionAck, Run: h.ackButton},
			{ID: ActionFix, Allow: bot.Kinds(bot.InspectionOffice, bot.InspectionTeam), Run: h.fixButton},
		},
	}
}

func (h *handler) t(lang, key string, args ...any) string { return h.b.T(lang, key, args...) }

func (h *handler) argRound(req *bot.Request, i int) (string, error) {
	id := strings.TrimSpace(req.Command.Arg(i))
	if id == "" {
		return "", bot.UsageError(req, "round.error.need_id")
	}
	if !reRoundID.MatchString(id) {
		return "", bot.UsageError(req, "round.error.bad_id", "input", id)
	}
	return strings.ToUpper(id), nil
}

// load returns the round with id (XC-2026-0001), or a not-found error
// that names it.
func (h *handler) load(ctx context.Context, id string) (*Round, error) {
	r, err := h.rounds.Get(ctx, strings.ToUpper(id))
	if bot.IsNotFound(err) {
		return nil, bot.Coded(bot.ENOTFOUND, "round.error.not_found", "id", id)
	}
	return r, err
}

func (h *handler) bodyNames(r *bot.Roster, ids []string, lang string) string {
	if len(ids) == 0 {
		return "-"
	}
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		names = append(names, r.BodyName(id, lang))
	}
	return strings.Join(names, h.t(lang, "list.sep"))
}

func dayStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

func tooLong(s string, n int) bool { return len([]rune(s)) > n }

// checkOptions refuses options that are not in known, naming them.
func checkOptions(req *bot.Request, known ...[]string) error {
	var bad []string
	for k := range req.Command.Options {
		if !slices.ContainsFunc(known, func(names []string) bool { return slices.Contains(names, k) }) {
			bad = append(bad, k)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return bot.UsageError(req, "round.error.unknown_option", "option", strings.Join(bad, ", "))
}

// create: round new <team> <organisation> start:… end:… [feedback:…] attached:a,b [name:…]
func (h *handler) create(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	lang, r := req.Lang, req.Roster
	rd, err := h.newRound(req)
	if err != nil {
		return nil, err
	}
	// The key document of the triple (a Get: a unit of work making the
	// same round at once conflicts with this one).
	if o, err := roundWith(ctx, h.b.Store, rd.Team, rd.Organisation, rd.Start); err != nil {
		return nil, err
	} else if o != "" {
		return nil, bot.UsageError(req, "round.error.duplicate", "id", o)
	}
	id, err := bot.NewID(ctx, h.b.Store, PrefixRound, rd.Start.Year())
	if err != nil {
		return nil, err
	}
	rd.ID, rd.CreatedBy, rd.CreatedAt = id, req.Person.ID, h.b.Now()
	if err := createRound(ctx, h.b.Store, rd); err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "round.create", id, fmt.Sprintf("team=%s organisation=%s attached=%s start=%s end=%s feedback=%s",
		rd.Team, rd.Organisation, strings.Join(rd.Attached, ","), bot.FormatDate(rd.Start, h.b.Loc), bot.FormatDate(rd.End, h.b.Loc), bot.FormatDate(rd.Feedback, h.b.Loc))); err != nil {
		return nil, err
	}
	if _, err := h.b.Out.Notify(ctx, bot.Notice{Group: h.group, Card: h.card(r, rd, h.b.Lang), Key: "round:" + id + ":created"}); err != nil {
		h.b.Log.Warn("round: announcement failed", "round", id, "err", err)
	}
	return &bot.Response{Replies: []bot.Reply{{Text: h.t(lang, "round.created", "id", id, "name", rd.Name), Card: h.card(r, rd, lang)}}}, nil
}

// newRound reads the round a create command describes, checked on its
// own; it has no id yet.
func (h *handler) newRound(req *bot.Request) (*Round, error) {
	p := req.Command
	lang := req.Lang
	r := req.Roster
	if err := checkOptions(req, optStart, optEnd, optFeedback, optAttached, optName); err != nil {
		return nil, err
	}
	if len(p.Args) < 1 {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "round.arg.team"))
	}
	if len(p.Args) < 2 {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "round.arg.organisation"))
	}
	if len(p.Args) > 2 {
		return nil, bot.UsageError(req, "round.error.extra_args", "input", p.Rest(2))
	}
	team, ok := r.FindBody(p.Arg(0), bot.InspectionTeam)
	if !ok {
		return nil, bot.UsageError(req, "round.error.unknown_team", "input", p.Arg(0), "choices", h.choices(r, lang, bot.InspectionTeam))
	}
	org, ok := r.FindBody(p.Arg(1), bot.ResponsibleUnit)
	if !ok {
		return nil, bot.UsageError(req, "round.error.unknown_organisation", "input", p.Arg(1), "choices", h.choices(r, lang, bot.ResponsibleUnit))
	}
	start, end, feedback, err := h.roundDates(req)
	if err != nil {
		return nil, err
	}
	attached, err := h.attachedBodies(req)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(p.Opt(optName...))
	if name == "" {
		name = h.t(h.b.Lang, "round.default_name", "team", team.DisplayName(h.b.Lang), "organisation", org.DisplayName(h.b.Lang))
	}
	if tooLong(name, maxName) {
		return nil, bot.UsageError(req, "round.error.too_long", "what", h.t(lang, "round.arg.name"), "max", maxName)
	}
	return &Round{Name: name, Team: team.ID, Organisation: org.ID, Attached: attached, Start: start, End: end, Feedback: feedback}, nil
}

// roundDates reads the start, end and (optional) feedback dates of a
// create command, in order.
func (h *handler) roundDates(req *bot.Request) (start, end, feedback time.Time, err error) {
	p := req.Command
	now := h.b.Now().In(h.b.Loc)
	date := func(keys []string, required bool) (time.Time, error) {
		s := p.Opt(keys...)
		if s == "" {
			if required {
				return time.Time{}, bot.UsageError(req, "round.error.need_date", "option", keys[0]+" / "+keys[1])
			}
			return time.Time{}, nil
		}
		d, err := bot.ParseDate(s, now, h.b.Loc)
		if err != nil {
			return time.Time{}, bot.DateError(req, err, s, "2026-09-01, 9月1日")
		}
		return d, nil
	}
	if start, err = date(optStart, true); err != nil {
		return
	}
	if end, err = date(optEnd, true); err != nil {
		return
	}
	if feedback, err = date(optFeedback, false); err != nil {
		return
	}
	if end.Before(start) {
		return start, end, feedback, bot.UsageError(req, "round.error.end_before_start")
	}
	if !feedback.IsZero() && feedback.Before(end) {
		return start, end, feedback, bot.UsageError(req, "round.error.feedback_before_end", "end", bot.FormatDate(end, h.b.Loc))
	}
	return start, end, feedback, nil
}

// attachedBodies resolves the attached: option to body ids, without
// repeats, answering an unknown body or an empty list with the choices.
func (h *handler) attachedBodies(req *bot.Request) ([]string, error) {
	r, lang := req.Roster, req.Lang
	var attached []string
	for _, s := range splitList(req.Command.Opt(optAttached...)) {
		b, ok := r.FindBody(s, AttachedKinds...)
		if !ok {
			return nil, bot.UsageError(req, "round.error.unknown_attached", "input", s, "choices", h.choices(r, lang, AttachedKinds...))
		}
		if !slices.Contains(attached, b.ID) {
			attached = append(attached, b.ID)
		}
	}
	if len(attached) == 0 {
		return nil, bot.UsageError(req, "round.error.need_attached", "choices", h.choices(r, lang, AttachedKinds...))
	}
	return attached, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '，' || r == '、' || r == ';' || r == '；' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (h *handler) choices(r *bot.Roster, lang string, kinds ...bot.PartyKind) string {
	var names []string
	for _, k := range kinds {
		for _, b := range r.BodiesOf(k) {
			names = append(names, b.DisplayName(lang))
		}
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, h.t(lang, "list.sep"))
}

// card shows a round; nothing in it is confidential.
func (h *handler) card(r *bot.Roster, rd *Round, lang string) *bot.Card {
	return &bot.Card{
		Title: h.t(lang, "round.card.title", "id", rd.ID, "name", rd.Name),
		Color: bot.Blue,
		Fields: []bot.Field{
			{Label: h.t(lang, "round.field.team"), Value: r.BodyName(rd.Team, lang)},
			{Label: h.t(lang, "round.field.organisation"), Value: r.BodyName(rd.Organisation, lang)},
			{Label: h.t(lang, "round.field.attached"), Value: h.bodyNames(r, rd.Attached, lang)},
			{Label: h.t(lang, "round.field.dates"), Value: h.t(lang, "round.dates", "start", bot.FormatDate(rd.Start, h.b.Loc), "end", bot.FormatDate(rd.End, h.b.Loc))},
			{Label: h.t(lang, "round.field.feedback"), Value: bot.FormatDate(rd.Feedback, h.b.Loc)},
			{Label: h.t(lang, "round.field.phase"), Value: h.t(lang, "round.phase."+phase(rd, h.b.Now(), h.b.Loc))},
		},
		Note: h.t(lang, "round.card.note", "person", r.PersonName(rd.CreatedBy, lang), "time", bot.FormatTime(rd.CreatedAt, h.b.Loc)),
	}
}

// phase names where a round stands at now: before, during, after the
// inspection, and in day-to-day supervision from the feedback day.
func phase(rd *Round, now time.Time, loc *time.Location) string {
	today := dayStart(now, loc)
	switch {
	case !rd.Feedback.IsZero() && !today.Before(dayStart(rd.Feedback, loc)):
		return "supervision"
	case today.Before(dayStart(rd.Start, loc)):
		return "before"
	case !rd.End.IsZero() && today.After(dayStart(rd.End, loc)):
		return "after"
	}
	return "during"
}

// list: every round, newest first, maxListed at a time; the option from
// continues after the last round of the page before.
func (h *handler) list(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	after := strings.ToUpper(strings.TrimSpace(req.Command.Opt("from", "从")))
	if len(req.Command.Args) > 0 || len(req.Command.Options) > 1 || (len(req.Command.Options) == 1 && after == "") {
		return nil, bot.UsageError(req, "round.error.extra_args", "input", strings.TrimSpace(req.Command.Rest(0)))
	}
	page, _, err := h.rounds.Scan(ctx, bot.Range{After: after, Limit: maxListed + 1, Reverse: true})
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	if len(page) == 0 {
		if after != "" {
			return bot.Text(h.t(lang, "round.list.end")), nil
		}
		return bot.Text(h.t(lang, "round.list.empty")), nil
	}
	more := len(page) > maxListed
	if more {
		page = page[:maxListed]
	}
	var s strings.Builder
	s.WriteString(h.t(lang, "round.list.header", "count", len(page)))
	for _, rd := range page {
		s.WriteString("\n• " + h.t(lang, "round.list.line", "id", rd.ID, "team", req.Roster.BodyName(rd.Team, lang),
			"organisation", req.Roster.BodyName(rd.Organisation, lang), "start", bot.FormatDate(rd.Start, h.b.Loc),
			"feedback", bot.FormatDate(rd.Feedback, h.b.Loc), "phase", h.t(lang, "round.phase."+phase(rd, h.b.Now(), h.b.Loc))))
	}
	if more {
		s.WriteString("\n" + h.t(lang, "round.list.more", "id", page[len(page)-1].ID))
	}
	return bot.Text(s.String()), nil
}

// show: the round's card and, for those who may read them, its
// situation reports with their acknowledgements.
func (h *handler) show(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := h.argRound(req, 0)
	if err != nil {
		return nil, err
	}
	rd, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	card := h.card(req.Roster, rd, lang)
	sits, err := h.situationsOf(ctx, rd.ID)
	if err != nil {
		return nil, err
	}
	// Reports the reader may not read are left out without a trace: no
	// count, no "N more", so an inspected unit does not learn that
	// reports about it exist.
	var lines []string
	for _, s := range sits {
		if s.Round != rd.ID || !s.MayRead(req.Roster, req.Person) {
			continue
		}
		lines = append(lines, h.situationLine(req.Roster, s, lang))
	}
	if len(lines) > 0 {
		card.Text = h.t(lang, "round.show.situations", "count", len(lines)) + "\n• " + strings.Join(lines, "\n• ")
	}
	if len(lines) > 0 && !req.Direct {
		// Situation texts are for the attached bodies only: not in a group.
		refs, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: req.Person.ID, Card: card})
		if err != nil || len(refs) == 0 {
			return bot.Text(h.t(lang, "round.dm_failed")), nil
		}
		return bot.Text(h.t(lang, "round.sent_privately")), nil
	}
	return &bot.Response{Replies: []bot.Reply{{Card: card}}}, nil
}

func (h *handler) situationLine(r *bot.Roster, s *Situation, lang string) string {
	if s.From != "" {
		return h.t(lang, "round.reply.line", "id", s.ID, "time", bot.FormatTime(s.CreatedAt, h.b.Loc), "body", r.BodyName(s.From, lang), "text", s.Text,
			"acked", s.Acknowledged(), "total", len(s.To))
	}
	line := h.t(lang, "round.situation.line", "id", s.ID, "time", bot.FormatTime(s.CreatedAt, h.b.Loc), "text", s.Text,
		"acked", s.Acknowledged(), "total", len(s.To))
	if s.Immediate {
		line += h.t(lang, "round.situation.immediate_mark")
	}
	if s.Cosign != "" {
		line += h.t(lang, "round.situation.fixed", "item", orDash(s.Item), "cosign", s.Cosign)
	}
	return line
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// feedback: round feedback <id> <date> sets the feedback date and tells
// the attached bodies that their day-to-day supervision starts that day.
func (h *handler) feedback(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	id, err := h.argRound(req, 0)
	if err != nil {
		return nil, err
	}
	lang := req.Lang
	ds := req.Command.Arg(1)
	if ds == "" {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(lang, "round.arg.feedback"))
	}
	if len(req.Command.Args) > 2 || len(req.Command.Options) > 0 {
		return nil, bot.UsageError(req, "round.error.extra_args", "input", strings.TrimSpace(req.Command.Rest(2)))
	}
	day, err := bot.ParseDate(ds, h.b.Now(), h.b.Loc)
	if err != nil {
		return nil, bot.DateError(req, err, ds, "2026-11-20, 11月20日")
	}
	cur, err := h.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !req.Roster.HasKind(req.Person, bot.InspectionOffice) && !req.Person.InBody(cur.Team) && !req.Person.Admin {
		return nil, h.b.Refuse(ctx, req, "round.feedback", id, "round.error.not_team", "id", id)
	}
	if day.Before(dayStart(cur.End, h.b.Loc)) {
		return nil, bot.UsageError(req, "round.error.feedback_before_end", "end", bot.FormatDate(cur.End, h.b.Loc))
	}
	var before time.Time
	rd, err := updateRound(ctx, h.b.Store, id, func(v *Round) error {
		before = v.Feedback
		v.Feedback = day
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "round.feedback", id, fmt.Sprintf("from=%s to=%s", bot.FormatDate(before, h.b.Loc), bot.FormatDate(day, h.b.Loc))); err != nil {
		return nil, err
	}
	r := req.Roster
	// Record the notice before sending it, so that the feedback-day job
	// (feedbackjob.go) does not send it again; the command itself always
	// tells the bodies, since a person asked for it.
	if _, err := h.claimFeedbackNotice(ctx, id, bot.FormatDate(day, h.b.Loc), req.Person.ID); err != nil {
		return nil, err
	}
	failed := h.tellFeedback(ctx, r, rd, rd.Attached, lang)
	out := h.t(lang, "round.feedback.set", "id", id, "date", bot.FormatDate(day, h.b.Loc), "bodies", h.bodyNames(r, rd.Attached, lang))
	if len(failed) > 0 {
		out += "\n" + h.t(lang, "round.notify_failed", "bodies", strings.Join(failed, h.t(lang, "list.sep")))
	}
	return bot.Text(out), nil
}

// tellFeedback tells each body attached to rd that its day-to-day
// supervision starts on rd's feedback day, and returns the names (in
// lang) of the bodies that could not be told. The feedback command and
// the feedback-day job both send it.
func (h *handler) tellFeedback(ctx context.Context, r *bot.Roster, rd *Round, bodies []string, lang string) []string {
	date := bot.FormatDate(rd.Feedback, h.b.Loc)
	var failed []string
	for _, body := range bodies {
		text := func(l string) string {
			return h.t(l, "round.feedback.notice", "id", rd.ID, "name", rd.Name, "organisation", r.BodyName(rd.Organisation, l),
				"body", r.BodyName(body, l), "date", date)
		}
		if _, err := h.tellBody(ctx, r, body, "round:"+rd.ID+":feedback:"+date, func(l string) bot.Notice { return bot.Notice{Text: text(l)} }); err != nil {
			h.b.Log.Warn("round: feedback notice failed", "round", rd.ID, "body", body, "err", err)
			failed = append(failed, r.BodyName(body, lang))
		}
	}
	return failed
}

// tellBody sends a notice to one body: to its own chat group when it has
// one, else to each member directly in the member's language. It returns
// the references of the posted messages.
func (h *handler) tellBody(ctx context.Context, r *bot.Roster, body, key string, build func(lang string) bot.Notice) ([]bot.MessageRef, error) {
	if b, ok := r.Body(body); ok && b.Group != "" {
		n := build(h.b.Lang)
		n.Group, n.Key = b.Group, key
		return h.b.Out.Notify(ctx, n)
	}
	var refs []bot.MessageRef
	var errs []error
	members := r.Members(body)
	if len(members) == 0 {
		return nil, fmt.Errorf("round: body %s has no members", body)
	}
	for _, m := range members {
		n := build(h.b.People.LangOf(ctx, m))
		n.PersonID, n.Key = m.ID, key
		got, err := h.b.Out.Notify(ctx, n)
		refs = append(refs, got...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return refs, fmt.Errorf("round: notice to %s: %w", body, errs[0])
	}
	return refs, nil
}

// situationsOf returns the situation reports of round, in id order, from
// the round's index.
func (h *handler) situationsOf(ctx context.Context, round string) ([]*Situation, error) {
	ids, _, err := index.Page(ctx, h.b.Store, CollRoundIndex, idxSituation+round+index.Sep, "", 0, false)
	if err != nil {
		return nil, err
	}
	out := make([]*Situation, 0, len(ids))
	for _, id := range ids {
		s, err := h.situations.Get(ctx, index.Last(id))
		if bot.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
