// Package clue is the clue-transfer capability (问题线索移送): an inspection
// team or the inspection office transfers a problem clue to a receiving
// body; the coordination group sees a card without the substance, the
// receiving body gets the substance by direct message, acknowledges,
// verifies and concludes or returns it; unacknowledged clues are
// reminded and escalated; the case office's quarterly summary is
// computed from the records.
package clue

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// ReceivingKinds are the party kinds a clue may be transferred to.
var ReceivingKinds = []bot.PartyKind{
	bot.SupervisionRoom, bot.StationedGroup, bot.SupervisorOffice, bot.CaseOffice, bot.GrassrootsCommission,
}

// senderKinds may transfer clues.
var senderKinds = []bot.PartyKind{bot.InspectionTeam, bot.InspectionOffice}

// memberKinds may use the clue command at all: the inspection side and
// the discipline bodies. Inspected organisations, consulted departments
// and the committee are refused (and audited) by the router.
var memberKinds = append(slices.Clone(senderKinds), ReceivingKinds...)

// ReminderJobEvery is how often the reminder job looks for due reminders.
const ReminderJobEvery = 15 * time.Minute

const (
	maxTitle     = 100  // runes
	maxSubstance = 4000 // runes
	maxNote      = 1000 // runes
	maxListed    = 50
)

var reID = regexp.MustCompile(`^(?i)XS-\d{4}-\d{4,}$`)

// handler holds what every sub-command needs.
type handler struct {
	b            *bot.Bot
	cfg          Settings
	clueGroup    string   // discipline-only group for announcements; "" for none
	clueBodies   []string // the bodies that sit in it (Settings.GroupBodies)
	summaryGroup string   // inspection office group for the summary
	clues        bot.Collection[Clue]
}

func newHandler(b *bot.Bot, cfg *config.Config) (*handler, error) {
	s, err := SettingsOf(cfg)
	if err != nil {
		return nil, err
	}
	group, _ := s.GroupOf(cfg)
	return &handler{
		b: b, cfg: s,
		clueGroup:  group,
		clueBodies: s.GroupBodies(cfg),
		clues:      bot.Records[Clue](b.Store, CollClues),
	}, nil
}

// SummaryTask is the name of the quarterly summary task for schedules.
const SummaryTask = "clue.quarterly_summary"

// Module is the clue domain: the clue command, its reminder job (every
// ReminderJobEvery) and the quarterly summary task (SummaryTask), with
// the clue section of the configuration (Settings).
func Module() config.Module {
	return config.Module{Name: "clue", Section: SettingsSection, Check: check, Setup: setup}
}

func setup(b *bot.Bot, cfg *config.Config) error {
	if err := b.AddTexts(texts, textsDir); err != nil {
		return err
	}
	h, err := newHandler(b, cfg)
	if err != nil {
		return err
	}
	if err := b.Router.Register(h.command()); err != nil {
		return err
	}
	if err := b.Jobs.Add(bot.Job{Name: "clue.reminders", Every: ReminderJobEvery, Run: h.remind}); err != nil {
		return err
	}
	return b.Jobs.AddTask(bot.Task{Name: SummaryTask, Run: h.summaryJob()})
}

// noOptions declares that a sub-command whose note is free text reads no
// option: a word such as 原因：不属于本室 is part of the note.
var noOptions = []string{}

func (h *handler) command() *bot.Command {
	receivers := bot.Kinds(ReceivingKinds...)
	return &bot.Command{
		Name:    "clue",
		Aliases: []string{"线索"},
		Allow:   bot.Kinds(memberKinds...),
		Subs: []*bot.Subcommand{
			{Name: "transfer", Aliases: []string{"移送", "移交"}, Allow: bot.Kinds(senderKinds...), Run: h.transfer},
			{Name: "show", Aliases: []string{"查看"}, Run: h.show},
			{Name: "list", Aliases: []string{"列表"}, Run: h.list},
			{Name: "ack", Aliases: []string{"签收"}, Allow: receivers, Run: h.step("ack", ClueAcknowledged, false), Options: noOptions},
			{Name: "verify", Aliases: []string{"核查"}, Allow: receivers, Run: h.step("verify", ClueVerifying, false), Options: noOptions},
			{Name: "feedback", Aliases: []string{"反馈"}, Allow: receivers, Run: h.step("feedback", "", true), Options: noOptions},
			{Name: "conclude", Aliases: []string{"处置", "办结", "dispose"}, Allow: receivers, Run: h.conclude, Options: noOptions},
			{Name: "case", Aliases: []string{"立案审查调查", "立案"}, Allow: receivers, Run: h.openCase, Options: noOptions},
			{Name: "return", Aliases: []string{"退回"}, Allow: receivers, Run: h.step("return", ClueReturned, true), Options: noOptions},
			{Name: "joint", Aliases: []string{"共同核实", "联合核实"}, Allow: bot.Kinds(append([]bot.PartyKind{bot.InspectionOffice}, ReceivingKinds...)...), Run: h.joint, Options: noOptions},
			{Name: "reassign", Aliases: []string{"改派", "再移送"}, Allow: bot.Kinds(bot.InspectionOffice), Run: h.reassign},
			{Name: "extend", Aliases: []string{"延期"}, Allow: bot.Kinds(bot.InspectionOffice), Run: h.extend, Options: noOptions},
			{Name: "history", Aliases: []string{"记录"}, Run: h.history},
			{Name: "summary", Aliases: []string{"汇总"}, Allow: bot.Kinds(bot.CaseOffice, bot.InspectionOffice), Run: h.summary},
		},
		Actions: []*bot.Action{{ID: "clue.ack", Allow: receivers, Run: h.ackButton}},
	}
}

// t renders a catalog message.
func (h *handler) t(lang, key string, args ...any) string { return h.b.T(lang, key, args...) }

// argID reads the clue id in argument i.
func argID(req *bot.Request, i int) (string, error) {
	id := strings.TrimSpace(req.Command.Arg(i))
	if id == "" {
		return "", bot.UsageError(req, "clue.error.need_id")
	}
	if !reID.MatchString(id) {
		return "", bot.UsageError(req, "clue.error.bad_id", "input", id)
	}
	return strings.ToUpper(id), nil
}

// load returns a clue or a not-found error that names it.
func (h *handler) load(ctx context.Context, id string) (*Clue, error) {
	c, err := h.clues.Get(ctx, id)
	if bot.IsNotFound(err) {
		return nil, bot.Coded(bot.ENOTFOUND, "clue.error.not_found", "id", id)
	}
	return c, err
}

func (h *handler) roster(ctx context.Context, req *bot.Request) (*bot.Roster, error) {
	if req != nil && req.Roster != nil {
		return req.Roster, nil
	}
	return h.b.People.Roster(ctx)
}

func (h *handler) statusLabel(lang string, c *Clue) string {
	s := h.t(lang, "clue.status."+string(c.Status))
	if c.Status == ClueConcluded && c.Conclusion != "" {
		s = h.t(lang, "clue.status.concluded_as", "conclusion", h.disposalLabel(lang, c))
	}
	return s
}

// disposalLabel names a concluded clue's disposal method, with
// 立案审查调查 when the preliminary verification opened a case.
func (h *handler) disposalLabel(lang string, c *Clue) string {
	if c.Conclusion == "" {
		return ""
	}
	if c.CaseOpened {
		return h.t(lang, "clue.conclusion.case_opened")
	}
	return h.t(lang, "clue.conclusion."+string(c.Conclusion))
}

func (h *handler) yesNo(lang string, v bool) string {
	if v {
		return h.t(lang, "clue.yes")
	}
	return h.t(lang, "clue.no")
}

func cardColor(c *Clue) bot.Color {
	switch c.Status {
	case ClueTransferred:
		return bot.Orange // not red for priority: the group card must not tell
	case ClueConcluded:
		return bot.Green
	case ClueReturned:
		return bot.Grey
	}
	return bot.Blue
}

func (h *handler) ackBtn(lang, id string) bot.Button {
	return bot.Button{Label: h.t(lang, "clue.button.ack"), Action: "clue.ack", Value: id, Style: "primary"}
}

// ackButtonOn returns the clue id of card's acknowledge button, if it
// has one.
func ackButtonOn(card *bot.Card) (string, bool) {
	if card == nil {
		return "", false
	}
	for _, b := range card.Buttons {
		if b.Action == "clue.ack" {
			return b.Value, true
		}
	}
	return "", false
}

// publicFields are what anyone who sees the group card may read: the
// receiving body, the deadline and the status. Never the title or the
// substance, and not the inspected unit or the priority flag either: a
// card read by the wrong person must not tell a unit that a (priority)
// clue about it exists.
func (h *handler) publicFields(r *bot.Roster, lang string, c *Clue) []bot.Field {
	return []bot.Field{
		{Label: h.t(lang, "clue.field.body"), Value: r.BodyName(c.Body, lang)},
		{Label: h.t(lang, "clue.field.deadline"), Value: bot.FormatDate(c.Deadline, h.b.Loc)},
		{Label: h.t(lang, "clue.field.status"), Value: h.statusLabel(lang, c)},
	}
}

// entitledFields are the public fields plus the inspected unit and the
// priority flag, for cards only entitled readers get.
func (h *handler) entitledFields(r *bot.Roster, lang string, c *Clue) []bot.Field {
	return append([]bot.Field{
		{Label: h.t(lang, "clue.field.organisation"), Value: c.OrganisationName},
		{Label: h.t(lang, "clue.field.priority"), Value: h.yesNo(lang, c.Priority)},
	}, h.publicFields(r, lang, c)...)
}

// groupSafe reports whether the clue group is still discipline-only with
// the current roster (an administrator may have changed it since the
// configuration was checked): the first member of a sitting body who
// also belongs to a responsible unit, if any.
func (h *handler) groupSafe(r *bot.Roster) (person, unit string, ok bool) {
	person, unit, seated := r.SeatsResponsibleUnit(h.clueBodies)
	return person, unit, !seated
}

// note is the small print of a card: who transferred and acknowledged
// the clue, and when.
func (h *handler) note(r *bot.Roster, lang string, c *Clue) string {
	lines := []string{h.t(lang, "clue.note.transferred", "person", mention(r, c.CreatedBy), "from", r.BodyName(c.FromBody, lang), "time", bot.FormatTime(c.CreatedAt, h.b.Loc))}
	if c.AckBy != "" {
		lines = append(lines, h.t(lang, "clue.note.acknowledged", "person", mention(r, c.AckBy), "time", bot.FormatTime(c.AckAt, h.b.Loc)))
	}
	if c.Status.Closed() {
		lines = append(lines, h.t(lang, "clue.note.closed."+string(c.Status), "person", mention(r, c.ClosedBy), "time", bot.FormatTime(c.ClosedAt, h.b.Loc)))
	}
	return strings.Join(lines, "\n")
}

func mention(r *bot.Roster, id string) string {
	if r != nil {
		if p, ok := r.Person(id); ok {
			return bot.MentionTag(p)
		}
	}
	return id
}

// groupCard is the announcement in the discipline-only clue group, in
// the deployment language: id, receiving body, deadline and status —
// never the title, the substance, the inspected unit or the priority.
func (h *handler) groupCard(r *bot.Roster, c *Clue) *bot.Card {
	lang := h.b.Lang
	card := &bot.Card{
		Title:  h.t(lang, "clue.card.title", "id", c.ID),
		Color:  cardColor(c),
		Text:   h.t(lang, "clue.card.confidential"),
		Fields: h.publicFields(r, lang, c),
		Note:   h.note(r, lang, c),
	}
	if c.Status == ClueTransferred {
		card.Buttons = []bot.Button{h.ackBtn(lang, c.ID)}
	}
	return card
}

// detailCard is the full clue for an entitled reader, in lang: the
// public fields, the title and substance, and the history.
func (h *handler) detailCard(r *bot.Roster, lang string, c *Clue, withButton bool) *bot.Card {
	fields := []bot.Field{{Label: h.t(lang, "clue.field.title"), Value: c.Title}}
	fields = append(fields, h.entitledFields(r, lang, c)...)
	fields = append(fields, bot.Field{Label: h.t(lang, "clue.field.from"), Value: r.BodyName(c.FromBody, lang)})
	if c.Round != "" {
		fields = append(fields, bot.Field{Label: h.t(lang, "clue.field.round"), Value: c.Round})
	}
	var text strings.Builder
	text.WriteString(h.t(lang, "clue.detail.substance", "substance", c.Substance))
	if len(c.History) > 0 {
		text.WriteString("\n\n")
		text.WriteString(h.t(lang, "clue.detail.history"))
		for _, e := range c.History {
			text.WriteString("\n• ")
			text.WriteString(h.historyLine(r, lang, e))
		}
	}
	card := &bot.Card{
		Title:  h.t(lang, "clue.card.detail_title", "id", c.ID),
		Color:  cardColor(c),
		Text:   text.String(),
		Fields: fields,
		Note:   h.note(r, lang, c),
	}
	if withButton && c.Status == ClueTransferred {
		card.Buttons = []bot.Button{h.ackBtn(lang, c.ID)}
	}
	return card
}

func (h *handler) historyLine(r *bot.Roster, lang string, e bot.History) string {
	who := r.PersonName(e.Person, lang)
	if e.Person == "" {
		who = h.t(lang, "clue.scheduler")
	}
	s := h.t(lang, "clue.history.line", "time", bot.FormatTime(e.Time, h.b.Loc), "person", who, "action", h.t(lang, "clue.action."+e.Action))
	if e.Note != "" {
		s += h.t(lang, "clue.history.note", "note", e.Note)
	}
	return s
}

// privately shows a confidential card only to the requester: directly
// in a one-to-one chat, else by direct message with a pointer in the
// chat, so a group never sees it even where a platform has no
// sender-only replies.
func (h *handler) privately(ctx context.Context, req *bot.Request, card *bot.Card) (*bot.Response, error) {
	if req.Direct {
		return &bot.Response{Replies: []bot.Reply{{Card: card}}}, nil
	}
	refs, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: req.Person.ID, Card: card})
	if err != nil || len(refs) == 0 {
		h.b.Log.Warn("clue: direct message failed", "person", req.Person.ID, "err", err)
		return bot.Text(h.t(req.Lang, "clue.dm_failed")), nil
	}
	if id, ok := ackButtonOn(card); ok {
		// Its button may replace it with the substance (ackButton).
		h.recordDMs(ctx, id, directMessages(req.Person.ID, refs))
	}
	return bot.Text(h.t(req.Lang, "clue.sent_privately")), nil
}

// dayStart is midnight of the day of t in loc.
func dayStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// tooLong reports whether s is longer than n runes.
func tooLong(s string, n int) bool { return len([]rune(s)) > n }

// orgName names the clue's inspected organisation in lang: the roster
// body's name in that language (its English name when one is
// configured), else the name as typed at the transfer.
func orgName(r *bot.Roster, c *Clue, lang string) string {
	if c.Organisation != "" {
		if b, ok := r.Body(c.Organisation); ok {
			return b.DisplayName(lang)
		}
	}
	return c.OrganisationName
}
