// Package cosign is the co-signature capability: the three-party
// signature that closes an immediate-fix item (三方共同签字) and, by the
// same mechanism configured with another template, the six-party joint
// evaluation (六方联评) of a rectification plan, its results and its
// report. A request (QZ-2026-0001) is a card in the group with one line
// per party; the parties' members sign with a button, one party per
// press; when every party has confirmed, supervision of the rectification
// is handed over and the group is told exactly once, even with several
// bot processes sharing a store.
package cosign

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// Button action ids.
const (
	ActionSign    = "cosign.sign"    // value: QZ id
	ActionSignAs  = "cosign.sign_as" // value: "QZ id|body id", for a person in two parties
	ActionDecline = "cosign.decline" // value: QZ id
	ActionReopen  = "cosign.reopen"  // value: QZ id
)

// JobName is the name of the reminder job.
const JobName = "cosign.remind"

// JobEvery is how often the reminder job looks for unsigned requests.
const JobEvery = 10 * time.Minute

var (
	reCosignID = regexp.MustCompile(`^QZ-\d{4}-\d{4,}$`)
	reItemID   = regexp.MustCompile(`^ZG-\d{4}-\d{4,}$`)
	reRoundID  = regexp.MustCompile(`^XC-\d{4}-\d{4,}$`)
)

// collByItem indexes co-signature requests by rectification item.
const collByItem = "cosign_items"

// maxDescription bounds a request's description, in characters.
const maxDescription = 500

// Builtin returns the built-in templates: "three", the three-party
// co-signature of an immediate-fix item, and "six", the six-party joint
// evaluation of a rectification plan, its results or its report.
func Builtin() []Template {
	return []Template{
		{
			Name: "three", Aliases: []string{"三方", "三方共同签字", "共同签字"},
			Order: OrderFree, Subjects: []string{SubjectImmediateFix}, HandoverTo: "supervisor",
			Roles: []Role{
				{Key: "inspection_team", Kinds: []bot.PartyKind{bot.InspectionTeam}, Options: []string{"team", "巡察组"}},
				{Key: "supervisor", Kinds: []bot.PartyKind{bot.SupervisorOffice, bot.StationedGroup}, Options: []string{"supervisor", "监督方", "监督"}},
				{Key: "responsible_unit", Kinds: []bot.PartyKind{bot.ResponsibleUnit}, Options: []string{"unit", "责任单位", "单位"}},
			},
		},
		{
			Name: "six", Aliases: []string{"六方", "六方联评", "联评"},
			Order: OrderFree, Subjects: []string{SubjectPlan, SubjectResults, SubjectReport},
			Roles: []Role{
				{Key: "inspection_office", Kinds: []bot.PartyKind{bot.InspectionOffice}, Options: []string{"office", "巡察办"}},
				{Key: "inspection_team", Kinds: []bot.PartyKind{bot.InspectionTeam}, Options: []string{"team", "巡察组"}},
				{Key: "supervision_room", Kinds: []bot.PartyKind{bot.SupervisionRoom}, Options: []string{"room", "监督检查室"}},
				{Key: "stationed_group", Kinds: []bot.PartyKind{bot.StationedGroup}, Options: []string{"group", "派驻组"}},
				{Key: "supervisor_office", Kinds: []bot.PartyKind{bot.SupervisorOffice}, Options: []string{"supervisor", "监督", "监察员办"}},
				{Key: "responsible_unit", Kinds: []bot.PartyKind{bot.ResponsibleUnit}, Options: []string{"unit", "责任单位", "单位"}},
			},
		},
	}
}

// commonOptions are the options of "cosign new" besides the role options.
var commonOptions = map[string][]string{
	"template": {"template", "模板"},
	"kind":     {"kind", "类别"},
	"item":     {"item", "事项"},
	"round":    {"round", "轮次"},
}

// subjectNames are the words users type for each subject kind.
var subjectNames = map[string][]string{
	SubjectImmediateFix: {"immediate_fix", "immediate", "即知即改", "立行立改"},
	SubjectPlan:         {"plan", "方案", "整改方案"},
	SubjectResults:      {"results", "result", "成效", "整改成效"},
	SubjectReport:       {"report", "报告", "整改报告"},
}

// ValidateTemplates checks templates given as configuration: unique names
// and aliases, known party kinds, subjects and order, distinct role keys
// and option names, and a hand-over role that exists.
func ValidateTemplates(ts []Template) error {
	if len(ts) == 0 {
		return fmt.Errorf("cosign: no templates")
	}
	names := map[string]bool{}
	for i, t := range ts {
		where := fmt.Sprintf("cosign.templates[%d]", i)
		if t.Name == "" {
			return fmt.Errorf("%s.name: is required", where)
		}
		for _, n := range append([]string{t.Name}, t.Aliases...) {
			if names[strings.ToLower(n)] {
				return fmt.Errorf("%s: name %q used twice", where, n)
			}
			names[strings.ToLower(n)] = true
		}
		if t.Order != OrderFree && t.Order != OrderSequential {
			return fmt.Errorf("%s.order: must be %s or %s, not %q", where, OrderFree, OrderSequential, t.Order)
		}
		if len(t.Subjects) == 0 {
			return fmt.Errorf("%s.subjects: at least one of %s", where, strings.Join(SubjectKinds, ", "))
		}
		for _, s := range t.Subjects {
			if !slices.Contains(SubjectKinds, s) {
				return fmt.Errorf("%s.subjects: unknown subject %q (one of %s)", where, s, strings.Join(SubjectKinds, ", "))
			}
		}
		if len(t.Roles) < 2 {
			return fmt.Errorf("%s.roles: a co-signature needs at least two parties", where)
		}
		keys, opts := map[string]bool{}, map[string]bool{}
		for _, o := range commonOptions {
			for _, n := range o {
				opts[n] = true
			}
		}
		for j, r := range t.Roles {
			rw := fmt.Sprintf("%s.roles[%d]", where, j)
			if r.Key == "" || keys[r.Key] {
				return fmt.Errorf("%s.key: missing or used twice", rw)
			}
			keys[r.Key] = true
			if len(r.Kinds) == 0 {
				return fmt.Errorf("%s.kinds: at least one party kind", rw)
			}
			for _, k := range r.Kinds {
				if !k.Valid() {
					return fmt.Errorf("%s.kinds: unknown party kind %q", rw, k)
				}
			}
			if len(r.Options) == 0 {
				return fmt.Errorf("%s.options: at least one option name", rw)
			}
			for _, o := range r.Options {
				o = strings.ToLower(o)
				if o == "" || opts[o] {
					return fmt.Errorf("%s.options: %q empty or used twice", rw, o)
				}
				opts[o] = true
			}
		}
		if t.HandoverTo != "" && !keys[t.HandoverTo] {
			return fmt.Errorf("%s.handover_to: no role %q", where, t.HandoverTo)
		}
	}
	return nil
}

// handler holds what the commands, jobs and tasks need.
type handler struct {
	b         *bot.Bot
	cfg       *config.Config
	settings  Settings
	templates []Template // the built-in ones, then the configuration's
	coll      bot.Collection[Cosign]
	byItem    bot.Collection[itemCosign] // "item id:subject" → its latest request
}

// Module is the co-signature domain: the cosign command (会签) and the
// reminder job, with the cosign section of the configuration (Settings:
// the reminder, and templates added to the built-in ones).
func Module() config.Module {
	return config.Module{Name: "cosign", Section: SettingsSection, Check: check, Setup: setup}
}

func setup(b *bot.Bot, cfg *config.Config) error {
	if err := b.AddTexts(texts, textsDir); err != nil {
		return err
	}
	m, err := newHandler(b, cfg)
	if err != nil {
		return err
	}
	if err := b.Router.Register(m.command()); err != nil {
		return err
	}
	return b.Jobs.Add(bot.Job{Name: JobName, Every: JobEvery, Run: m.remind})
}

func newHandler(b *bot.Bot, cfg *config.Config) (*handler, error) {
	if b == nil || cfg == nil {
		return nil, fmt.Errorf("cosign: a bot and a configuration are required")
	}
	s, err := SettingsOf(cfg)
	if err != nil {
		return nil, err
	}
	return &handler{b: b, cfg: cfg, settings: s, templates: s.AllTemplates(), coll: bot.Records[Cosign](b.Store, CollCosigns), byItem: bot.Records[itemCosign](b.Store, collByItem)}, nil
}

func (m *handler) command() *bot.Command {
	return &bot.Command{
		Name: "cosign", Aliases: []string{"会签", "共同签字"},
		Default: "show",
		Subs: []*bot.Subcommand{
			{Name: "new", Aliases: []string{"新建", "发起"}, Allow: bot.Kinds(bot.InspectionOffice, bot.InspectionTeam), Run: m.create},
			{Name: "show", Aliases: []string{"查看", "详情"}, Run: m.inChat(m.show)},
			{Name: "list", Aliases: []string{"列表", "清单"}, Run: m.list},
			{Name: "sign", Aliases: []string{"签字", "确认"}, Run: m.inChat(m.signCmd)},
			{Name: "decline", Aliases: []string{"退回", "拒签"}, Run: m.inChat(m.declineCmd), Options: []string{"as", "代表", "reason", "原因", "理由"}},
			{Name: "reopen", Aliases: []string{"重新发起", "重发"}, Run: m.inChat(m.reopenCmd), Options: []string{}},
			{Name: "withdraw", Aliases: []string{"撤回", "撤销"}, Run: m.inChat(m.withdrawCmd), Options: []string{}},
			{Name: "templates", Aliases: []string{"模板"}, Run: m.templatesCmd},
		},
		Actions: []*bot.Action{
			{ID: ActionSign, Run: m.signButton},
			{ID: ActionSignAs, Run: m.signAsButton},
			{ID: ActionDecline, Run: m.declineButton},
			{ID: ActionReopen, Run: m.reopenButton},
		},
	}
}

// template returns the template named or aliased name.
func (m *handler) template(name string) (Template, bool) {
	for _, t := range m.templates {
		if strings.EqualFold(t.Name, name) || slices.ContainsFunc(t.Aliases, func(a string) bool { return strings.EqualFold(a, name) }) {
			return t, true
		}
	}
	return Template{}, false
}
