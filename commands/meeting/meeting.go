// Package meeting is the meetings capability (定期交流机制): the monthly
// work meeting (工作例会), the quarterly joint meeting (联席会) and the
// annual summary and review meeting (总结点评会), convened by schedules
// (the task meeting.notice) or ad hoc by the inspection office.
//
// A meeting (HY-2026-0001) is a card in the group with its date, time,
// place and agenda — standing items, items open from last time (overdue
// clues, unsigned co-signatures, unreported units, the last meeting's
// decisions) — and 参加 / 请假 buttons whose answers are counted on the
// card. A reminder goes out before it. The inspection office lists,
// moves, cancels and attaches minutes to meetings by command.
//
// The package also registers the administrators' "schedule" verb
// (日程), which lists every configured schedule with its next runs.
package meeting

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/schedule"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/progress"
)

// TaskNotice is the task a schedule names to convene a meeting.
const TaskNotice = "meeting.notice"

// Button action ids; the value is the meeting id.
const (
	ActionAttend = "meeting.attend"
	ActionAbsent = "meeting.absent"
)

// JobRemind is the reminder job; it runs every JobEvery.
const (
	JobRemind = "meeting.remind"
	JobEvery  = time.Minute
)

// DefaultRemind is the reminder lead of an ad-hoc meeting, and of a
// scheduled one whose schedule sets none.
const DefaultRemind = time.Hour

// Limits of typed texts, in characters.
const (
	maxNote   = 2000
	maxText   = 200
	maxAgenda = 20
)

var reMeetingID = regexp.MustCompile(`^HY-\d{4}-\d{4,}$`)

// kindNames are the words users type for each kind.
var kindNames = map[MeetingKind][]string{
	MeetingWork:   {"work", "monthly", "工作例会", "例会", "月度例会"},
	MeetingJoint:  {"joint", "quarterly", "联席会", "联席会议", "季度联席会"},
	MeetingReview: {"review", "annual", "总结点评会", "点评会", "年度总结"},
	MeetingOther:  {"other", "adhoc", "ad-hoc", "专题会", "其他"},
}

// ParseKind returns the kind named s (work, 工作例会, joint, 联席会 …).
func ParseKind(s string) (MeetingKind, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, k := range MeetingKinds {
		if slices.Contains(kindNames[k], s) {
			return k, true
		}
	}
	return "", false
}

// handler holds what the commands, jobs and tasks need.
type handler struct {
	b        *bot.Bot
	cfg      *config.Config
	settings Settings
	// The clue domain's discipline-only group and who sits there.
	clueGroup  string
	clueBodies []string
	coll       bot.Collection[Meeting]
	scheds     []*schedule.Schedule
	// The other domains' queries the agenda asks.
	clues   clue.Queries
	cosigns cosign.Queries
	items   progress.Queries
}

// Module is the meeting domain: the meeting (会议) and schedule (日程)
// commands, the meeting.notice task and the reminder job, with the
// meetings section of the configuration (Settings). Its setup validates
// the configured schedules (errors name the key), so a bad rule stops
// the start-up.
func Module() config.Module {
	return config.Module{Name: "meeting", Section: SettingsSection, Check: check, Setup: setup}
}

func setup(b *bot.Bot, cfg *config.Config) error {
	if err := b.AddTexts(texts, textsDir); err != nil {
		return err
	}
	scheds, err := schedule.Compile(cfg.Schedules, b.Loc, b.Cal, cfg.Groups)
	if err != nil {
		return err
	}
	settings, err := SettingsOf(cfg)
	if err != nil {
		return err
	}
	group, bodies, err := clueGroup(cfg)
	if err != nil {
		return err
	}
	m := &handler{
		b: b, cfg: cfg, settings: settings, clueGroup: group, clueBodies: bodies, coll: bot.Records[Meeting](b.Store, CollMeetings), scheds: scheds,
		clues: clue.NewQueries(b.Store, b.Loc), cosigns: cosign.NewQueries(b.Store), items: progress.NewQueries(b.Store, b.Loc),
	}
	if err := b.Router.Register(m.command(), m.scheduleCommand()); err != nil {
		return err
	}
	if err := b.Jobs.AddTask(bot.Task{Name: TaskNotice, Run: m.notice}); err != nil {
		return err
	}
	return b.Jobs.Add(bot.Job{Name: JobRemind, Every: JobEvery, Run: m.remind})
}

func (m *handler) command() *bot.Command {
	office := bot.Kinds(bot.InspectionOffice)
	return &bot.Command{
		Name: "meeting", Aliases: []string{"会议", "开会"},
		Default: "show",
		Subs: []*bot.Subcommand{
			{Name: "list", Aliases: []string{"列表", "清单"}, Run: m.list},
			{Name: "next", Aliases: []string{"下次", "下一次"}, Run: m.next},
			{Name: "show", Aliases: []string{"查看", "详情"}, Run: m.show},
			{Name: "new", Aliases: []string{"新建", "召开"}, Allow: office, Run: m.create},
			{Name: "move", Aliases: []string{"改期", "调整"}, Allow: office, Run: m.move},
			{Name: "cancel", Aliases: []string{"取消"}, Allow: office, Run: m.cancel},
			{Name: "note", Aliases: []string{"纪要", "决定"}, Allow: office, Run: m.note},
			{Name: "attendance", Aliases: []string{"签到", "出席", "attend"}, Allow: office, Run: m.attendance},
		},
		Actions: []*bot.Action{
			{ID: ActionAttend, Run: m.answerButton(AnswerAttend)},
			{ID: ActionAbsent, Run: m.answerButton(AnswerLeave)},
		},
	}
}

// load returns the meeting with the id typed or carried by a button.
func (m *handler) load(ctx context.Context, req *bot.Request, id string) (*Meeting, error) {
	id = strings.ToUpper(strings.TrimSpace(id))
	if id == "" {
		return nil, bot.UsageError(req, "meeting.err.no_id")
	}
	if !reMeetingID.MatchString(id) {
		return nil, bot.UsageError(req, "meeting.err.id", "id", id)
	}
	mt, err := m.coll.Get(ctx, id)
	if bot.IsNotFound(err) {
		return nil, bot.Coded(bot.ENOTFOUND, "meeting.err.not_found", "id", id)
	}
	return mt, err
}

// kindName is the kind in lang, or the meeting's own title.
func (m *handler) kindName(lang string, k MeetingKind) string {
	return m.b.T(lang, "meeting.kind."+string(k))
}

func (m *handler) title(lang string, mt *Meeting) string {
	if mt.Title != "" {
		return mt.Title
	}
	return m.kindName(lang, mt.Kind)
}

func (m *handler) personName(r *bot.Roster, id, lang string) string {
	if id == "" {
		return m.b.T(lang, "meeting.scheduler")
	}
	if r != nil {
		if p, ok := r.Person(id); ok {
			return p.DisplayName(lang)
		}
	}
	return id
}

// afterWord returns the raw text of the command line after word, so
// free text keeps its colons and quotes ("决定：下月起…").
func afterWord(req *bot.Request, word string) string {
	line := bot.CleanLine(req.Text)
	for i := 0; i+len(word) <= len(line); i++ {
		if strings.EqualFold(line[i:i+len(word)], word) {
			return strings.TrimSpace(line[i+len(word):])
		}
	}
	return ""
}

// invitees resolves the configured invitees of kind on the current
// roster; the meeting keeps them, so a later change of the configuration
// does not rewrite who was invited to a past meeting.
func (m *handler) invitees(ctx context.Context, kind MeetingKind) ([]string, error) {
	r, err := m.b.People.Roster(ctx)
	if err != nil {
		return nil, err
	}
	return m.settings.InviteesOf(r, string(kind)), nil
}

// inviteesOf returns the meeting's invitees; a meeting stored before
// invitee lists takes the configured list of its kind.
func (m *handler) inviteesOf(r *bot.Roster, mt *Meeting) []string {
	if mt.Invitees != nil {
		return mt.Invitees
	}
	return m.settings.InviteesOf(r, string(mt.Kind))
}

// invited reports whether p belongs to an invited body.
func (m *handler) invited(r *bot.Roster, mt *Meeting, p *bot.Person) bool {
	return p != nil && slices.ContainsFunc(m.inviteesOf(r, mt), p.InBody)
}

// bodyNames joins the names of bodies in lang.
func (m *handler) bodyNames(lang string, r *bot.Roster, ids []string) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		names = append(names, r.BodyName(id, lang))
	}
	return m.joinNames(lang, names)
}

// history appends a step to the meeting's history.
func history(mt *Meeting, req *bot.Request, now time.Time, action, note string) {
	h := bot.History{Time: now, Action: action, Note: note}
	if req != nil {
		h.Platform = req.Platform
		if req.Person != nil {
			h.Person = req.Person.ID
		}
	}
	mt.History = append(mt.History, h)
	mt.UpdatedAt = now
}
