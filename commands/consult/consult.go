// Package consult is the information requests before a round (巡前征询):
// the inspection office asks the consulted departments (organisation
// department, audit, staffing office, finance, petitions — configurable)
// what they know about the organisation to be inspected; each
// department's contacts get a card, answer with a line of text or "no
// relevant information" at one click; unanswered departments are
// reminded after the deadline and then reported to the office. The
// answers are confidential to the inspection office and the round's
// team, like clue substance.
package consult

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/commands/round"
)

// Button action ids; the value is "ZX-2026-0001|<department body id>".
const (
	ActionReply = "consult.reply" // records the answer typed in a form, or answers with the command to type
	ActionNone  = "consult.none"  // answers "no relevant information"
)

// JobName is the reminder job; it runs every JobEvery.
const (
	JobName  = "consult.remind"
	JobEvery = 15 * time.Minute
)

const (
	maxRequest = 1000 // runes
	maxAnswer  = 4000 // runes
	maxListed  = 50
)

var (
	reID      = regexp.MustCompile(`^(?i)ZX-\d{4}-\d{4,}$`)
	reRoundID = regexp.MustCompile(`^(?i)XC-\d{4}-\d{4,}$`)
)

// noneWords answer "no relevant information".
var noneWords = []string{"无相关情况", "无", "none", "no relevant information", "nothing"}

var (
	optDeadline = []string{"deadline", "期限"}
	optRequest  = []string{"request", "内容", "事项"}
	optDept     = []string{"dept", "部门"}
)

type handler struct {
	b        *bot.Bot
	cfg      *config.Config
	cc       Settings
	consults bot.Collection[Consultation]
	rounds   round.Queries
}

// Module is the consult domain: the consult command (征询) and its
// reminder job, with the consult section of the configuration (Settings).
func Module() config.Module {
	return config.Module{Name: "consult", Section: SettingsSection, Check: check, Setup: setup}
}

func setup(b *bot.Bot, cfg *config.Config) error {
	if b == nil || cfg == nil {
		return fmt.Errorf("consult: a bot and a configuration are required")
	}
	if err := b.AddTexts(texts, textsDir); err != nil {
		return err
	}
	cc, err := SettingsOf(cfg)
	if err != nil {
		return err
	}
	h := &handler{
		b: b, cfg: cfg, cc: cc,
		consults: bot.Records[Consultation](b.Store, CollConsults),
		rounds:   round.NewQueries(b.Store),
	}
	if err := b.Router.Register(h.command()); err != nil {
		return err
	}
	return b.Jobs.Add(bot.Job{Name: JobName, Every: JobEvery, Run: h.remind})
}

func (h *handler) command() *bot.Command {
	readers := bot.Kinds(bot.InspectionOffice, bot.InspectionTeam, bot.ConsultedDept)
	return &bot.Command{
		Name:    "consult",
		Aliases: []string{"征询"},
		Allow:   readers,
		Subs: []*bot.Subcommand{
			{Name: "new", Aliases: []string{"新建", "发起"}, Allow: bot.Kinds(bot.InspectionOffice), Run: h.create},
			{Name: "reply", Aliases: []string{"回复", "答复"}, Allow: bot.Kinds(bot.ConsultedDept), Run: h.replyCmd, Options: optDept},
			{Name: "show", Aliases: []string{"查看"}, Run: h.show},
			{Name: "list", Aliases: []string{"列表"}, Run: h.list},
		},
		Actions: []*bot.Action{
			{ID: ActionReply, Run: h.replyButton},
			{ID: ActionNone, Run: h.noneButton},
		},
	}
}

func (h *handler) t(lang, key string, args ...any) string { return h.b.T(lang, key, args...) }

func dayStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

func (h *handler) load(ctx context.Context, id string) (*Consultation, error) {
	c, err := h.consults.Get(ctx, id)
	if bot.IsNotFound(err) {
		return nil, bot.Coded(bot.ENOTFOUND, "consult.error.not_found", "id", id)
	}
	return c, err
}

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
	return bot.UsageError(req, "consult.error.unknown_option", "option", strings.Join(bad, ", "))
}

func (h *handler) deptChoices(r *bot.Roster, lang string) string {
	var names []string
	for _, b := range r.BodiesOf(bot.ConsultedDept) {
		names = append(names, b.DisplayName(lang))
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, h.t(lang, "list.sep"))
}

// create: consult new <round> [department …] [deadline:…] [request:"…"]
func (h *handler) create(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	p := req.Command
	lang := req.Lang
	r := req.Roster
	if err := checkOptions(req, optDeadline, optRequest); err != nil {
		return nil, err
	}
	rd, err := h.consultRound(ctx, req)
	if err != nil {
		return nil, err
	}
	depts, err := h.consultDepts(req)
	if err != nil {
		return nil, err
	}
	now := h.b.Now().In(h.b.Loc)
	deadline, err := h.consultDeadline(req, now)
	if err != nil {
		return nil, err
	}
	request := strings.TrimSpace(p.Opt(optRequest...))
	if request == "" {
		request = h.t(h.b.Lang, "consult.default_request", "organisation", r.BodyName(rd.Organisation, h.b.Lang))
	}
	if len([]rune(request)) > maxRequest {
		return nil, bot.UsageError(req, "consult.error.too_long", "what", h.t(lang, "consult.arg.request"), "max", maxRequest)
	}
	id, err := bot.NewID(ctx, h.b.Store, PrefixConsult, now.Year())
	if err != nil {
		return nil, err
	}
	c := &Consultation{
		ID: id, Round: rd.ID, Team: rd.Team, Organisation: rd.Organisation, Request: request, Deadline: deadline,
		CreatedBy: req.Person.ID, CreatedAt: h.b.Now(),
		History: []bot.History{{Time: h.b.Now(), Person: req.Person.ID, Platform: req.Platform, Action: "create"}},
	}
	for _, d := range depts {
		c.Depts = append(c.Depts, ConsultDept{Body: d})
	}
	if err := create(ctx, h.b.Store, c); err != nil {
		return nil, err
	}
	if err := h.b.Audit.Record(ctx, req, "consult.create", id, fmt.Sprintf("round=%s depts=%s deadline=%s", rd.ID, strings.Join(depts, ","), bot.FormatDate(deadline, h.b.Loc))); err != nil {
		return nil, err
	}
	failed := h.sendRequests(ctx, r, c, rd, lang)
	names := make([]string, 0, len(depts))
	for _, d := range depts {
		names = append(names, r.BodyName(d, lang))
	}
	text := h.t(lang, "consult.created", "id", id, "round", rd.ID, "organisation", r.BodyName(rd.Organisation, lang),
		"depts", strings.Join(names, h.t(lang, "list.sep")), "deadline", bot.FormatDate(deadline, h.b.Loc))
	if len(failed) > 0 {
		text += "\n" + h.t(lang, "consult.notify_failed", "depts", strings.Join(failed, h.t(lang, "list.sep")))
	}
	return bot.Text(text), nil
}

// consultRound reads the round a consult new command names.
func (h *handler) consultRound(ctx context.Context, req *bot.Request) (*round.Round, error) {
	rid := strings.TrimSpace(req.Command.Arg(0))
	if rid == "" {
		return nil, bot.UsageError(req, "error.missing_arg", "what", h.t(req.Lang, "consult.arg.round"))
	}
	if !reRoundID.MatchString(rid) {
		return nil, bot.UsageError(req, "consult.error.bad_round", "input", rid)
	}
	rid = strings.ToUpper(rid)
	rd, err := h.rounds.Get(ctx, rid)
	if bot.IsNotFound(err) {
		return nil, bot.UsageError(req, "consult.error.no_round", "id", rid)
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// consultDepts reads the departments a consult new command names, by
// default the configured ones, else every consulted department; each
// must have members to answer.
func (h *handler) consultDepts(req *bot.Request) ([]string, error) {
	lang, r := req.Lang, req.Roster
	var depts []string
	for _, w := range req.Command.Args[1:] {
		for _, s := range splitList(w) {
			b, ok := r.FindBody(s, bot.ConsultedDept)
			if !ok {
				return nil, bot.UsageError(req, "consult.error.unknown_dept", "input", s, "choices", h.deptChoices(r, lang))
			}
			if !slices.Contains(depts, b.ID) {
				depts = append(depts, b.ID)
			}
		}
	}
	if len(depts) == 0 {
		depts = slices.Clone(h.cc.Departments)
		if len(depts) == 0 {
			for _, b := range r.BodiesOf(bot.ConsultedDept) {
				depts = append(depts, b.ID)
			}
		}
	}
	if len(depts) == 0 {
		return nil, bot.Coded(bot.EINVALID, "consult.error.no_depts")
	}
	for _, d := range depts {
		if len(r.Members(d)) == 0 {
			return nil, bot.UsageError(req, "consult.error.no_members", "dept", r.BodyName(d, lang))
		}
	}
	return depts, nil
}

// consultDeadline reads the deadline: option of consult new, by default
// the configured number of working days from today.
func (h *handler) consultDeadline(req *bot.Request, now time.Time) (time.Time, error) {
	today := dayStart(now, h.b.Loc)
	s := req.Command.Opt(optDeadline...)
	if s == "" {
		return dayStart(h.b.Cal.AddWorkdays(today, h.cc.DeadlineDays), h.b.Loc), nil
	}
	d, err := bot.ParseDate(s, now, h.b.Loc)
	if err != nil {
		return time.Time{}, bot.DateError(req, err, s, "2026-12-10, 12-10, +5d")
	}
	if d.Before(today) {
		return time.Time{}, bot.UsageError(req, "consult.error.past_deadline", "date", bot.FormatDate(d, h.b.Loc))
	}
	return d, nil
}

// sendRequests sends the request card of consultation c to each of its
// departments, keeping the references, and returns the names (in lang)
// of the departments it could not reach.
func (h *handler) sendRequests(ctx context.Context, r *bot.Roster, c *Consultation, rd *round.Round, lang string) []string {
	var failed []string
	for _, cd := range c.Depts {
		d := cd.Body
		refs, err := h.tellDept(ctx, r, d, "consult:"+c.ID+":"+d, func(l string) bot.Notice {
			return bot.Notice{Card: h.deptCard(r, c, rd, d, l)}
		})
		if err != nil {
			h.b.Log.Warn("consult: request card failed", "consult", c.ID, "dept", d, "err", err)
			failed = append(failed, r.BodyName(d, lang))
		}
		if len(refs) > 0 {
			if _, err := update(ctx, h.b.Store, c.ID, func(v *Consultation) error {
				if i := v.Dept(d); i >= 0 {
					v.Depts[i].Cards = append(v.Depts[i].Cards, refs...)
				}
				return nil
			}); err != nil {
				h.b.Log.Warn("consult: keeping card references failed", "consult", c.ID, "err", err)
			}
		}
	}
	return failed
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

// tellDept sends a notice to a department's contacts: its own chat group
// when it has one, else each member directly, in the member's language.
func (h *handler) tellDept(ctx context.Context, r *bot.Roster, body, key string, build func(lang string) bot.Notice) ([]bot.MessageRef, error) {
	if b, ok := r.Body(body); ok && b.Group != "" {
		n := build(h.b.Lang)
		n.Group, n.Key = b.Group, key
		return h.b.Out.Notify(ctx, n)
	}
	var refs []bot.MessageRef
	var errs []error
	for _, m := range r.Members(body) {
		n := build(h.b.People.LangOf(ctx, m))
		n.PersonID, n.Key = m.ID, key
		got, err := h.b.Out.Notify(ctx, n)
		refs = append(refs, got...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return refs, fmt.Errorf("consult: notice to %s: %w", body, errs[0])
	}
	return refs, nil
}

// deptCard is the request as a department's contacts see it: the
// request, the deadline and the department's own state — never another
// department's answer, and not the answer text (the card may sit in a
// group).
func (h *handler) deptCard(r *bot.Roster, c *Consultation, rd *round.Round, dept, lang string) *bot.Card {
	i := c.Dept(dept)
	card := &bot.Card{
		Title: h.t(lang, "consult.card.title", "id", c.ID, "dept", r.BodyName(dept, lang)),
		Color: bot.Blue,
		Text:  h.t(lang, "consult.card.text", "request", c.Request),
		Fields: []bot.Field{
			{Label: h.t(lang, "consult.field.round"), Value: c.Round + " " + roundName(rd)},
			{Label: h.t(lang, "consult.field.organisation"), Value: r.BodyName(c.Organisation, lang)},
			{Label: h.t(lang, "consult.field.deadline"), Value: bot.FormatDate(c.Deadline, h.b.Loc)},
		},
		Note: h.t(lang, "consult.card.note", "person", r.PersonName(c.CreatedBy, lang), "time", bot.FormatTime(c.CreatedAt, h.b.Loc)),
	}
	state := h.t(lang, "consult.state.waiting")
	if i >= 0 {
		d := c.Depts[i]
		if a, ok := d.Latest(); ok {
			key := "consult.state.answered"
			if a.None {
				key = "consult.state.none"
			}
			state = h.t(lang, key, "person", r.PersonName(a.By, lang), "time", bot.FormatTime(a.At, h.b.Loc))
			card.Color = bot.Green
		} else if c.LateAt(i, h.b.Now(), h.b.Loc) {
			state = h.t(lang, "consult.state.overdue")
			card.Color = bot.Orange
		}
		value := c.ID + "|" + dept
		if !d.Answered() {
			card.Buttons = []bot.Button{
				{Label: h.t(lang, "consult.button.reply"), Action: ActionReply, Value: value, Prompt: h.t(lang, "consult.reply.prompt"), Style: "primary"},
				{Label: h.t(lang, "consult.button.none"), Action: ActionNone, Value: value},
			}
		} else {
			card.Buttons = []bot.Button{{Label: h.t(lang, "consult.button.supplement"), Action: ActionReply, Value: value, Prompt: h.t(lang, "consult.reply.prompt")}}
		}
	}
	card.Fields = append(card.Fields, bot.Field{Label: h.t(lang, "consult.field.state"), Value: state})
	return card
}

func roundName(rd *round.Round) string {
	if rd == nil {
		return ""
	}
	return rd.Name
}

// refreshDept updates every posted card of one department.
func (h *handler) refreshDept(ctx context.Context, r *bot.Roster, c *Consultation, dept string) {
	i := c.Dept(dept)
	if i < 0 || len(c.Depts[i].Cards) == 0 {
		return
	}
	rd, _ := h.rounds.Get(ctx, c.Round)
	if err := h.b.Out.UpdateCards(ctx, c.Depts[i].Cards, h.deptCard(r, c, rd, dept, h.b.Lang)); err != nil {
		h.b.Log.Warn("consult: updating cards failed", "consult", c.ID, "err", err)
	}
}
