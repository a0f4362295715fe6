// Package progress is rectification progress (整改进度): rectification
// items for the inspected organisations, progress logged by the
// responsible unit and its supervising bodies, the monthly collection
// with reminders and "not reported" marking, the stationed groups' and
// supervisor offices' relay checks, the inspection office's monthly
// notice with a chart and an XLSX export, and escalation of units that
// stay overdue or unreported.
package progress

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/config"
)

// Task names the scheduler runs on calendar rules from the configuration.
const (
	TaskCollect         = "progress.collect"          // monthly collection prompt
	TaskMonthlyNotice   = "progress.monthly_notice"   // 区委巡察办每月汇总通报
	TaskStationedCheck  = "progress.stationed_check"  // 派驻纪检监察组每月整改进度督查
	TaskSupervisorCheck = "progress.supervisor_check" // 派出监察员办公室每两个月监督检查
)

// ReminderJobEvery is how often the reminder job looks for due reminders
// and collections past their deadline.
const ReminderJobEvery = 15 * time.Minute

// SupervisingKinds may supervise a rectification item.
var SupervisingKinds = []bot.PartyKind{bot.SupervisionRoom, bot.StationedGroup, bot.SupervisorOffice, bot.GrassrootsCommission}

// creatorKinds may create and import items.
var creatorKinds = []bot.PartyKind{bot.InspectionOffice, bot.InspectionTeam}

// readerKinds may see the figures, the chart and the export.
var readerKinds = append(slices.Clone(creatorKinds), append(slices.Clone(SupervisingKinds), bot.CaseOffice, bot.DistrictCommittee)...)

const (
	maxTitle     = 200  // runes
	maxNote      = 1000 // runes
	maxListed    = 50
	maxButtons   = 10 // item buttons on a collection prompt
	maxImport    = 1000
	maxFileBytes = 5 << 20
)

var reItemID = regexp.MustCompile(`^(?i)ZG-\d{4}-\d{4,}$`)

// handler holds what every sub-command, job and task needs.
type handler struct {
	b          *bot.Bot
	cfg        Settings
	itemGroup  string // group for new items' cards
	noticeGrp  string // the inspection office's group for the monthly notice
	escalation string // group of the leader in charge; "" sends direct messages
	items      bot.Collection[Item]
	months     bot.Collection[ProgressMonth]
	checks     bot.Collection[Check]
	open       time.Duration // office hours, from midnight
	closing    time.Duration
}

func newHandler(b *bot.Bot, cfg *config.Config) (*handler, error) {
	if err := b.AddTexts(texts, textsDir); err != nil {
		return nil, err
	}
	s, err := SettingsOf(cfg)
	if err != nil {
		return nil, err
	}
	open, closing, err := s.Hours()
	if err != nil {
		return nil, fmt.Errorf("progress.office_hours: %w", err)
	}
	h := &handler{
		b: b, cfg: s,
		itemGroup: cfg.NoticeGroup("progress"),
		noticeGrp: noticeGroup(cfg),
		items:     bot.Records[Item](b.Store, CollItems),
		months:    bot.Records[ProgressMonth](b.Store, CollProgressMonths),
		checks:    bot.Records[Check](b.Store, CollProgressChecks),
		open:      open, closing: closing,
	}
	if g, ok := cfg.Notices["escalation"]; ok {
		h.escalation = g
	}
	return h, nil
}

// noticeGroup is the inspection office's group: notices.progress_notice,
// else notices.summary, else "inspection_office".
func noticeGroup(cfg *config.Config) string {
	for _, k := range []string{"progress_notice", "summary"} {
		if g, ok := cfg.Notices[k]; ok {
			return g
		}
	}
	return "inspection_office"
}

// Module is the progress domain: the progress command, the reminder job
// and the calendar tasks progress.collect, progress.monthly_notice,
// progress.stationed_check and progress.supervisor_check, with the
// progress section of the configuration (Settings).
func Module() config.Module {
	return config.Module{Name: "progress", Section: SettingsSection, Check: check, Setup: setup}
}

func setup(b *bot.Bot, cfg *config.Config) error {
	h, err := newHandler(b, cfg)
	if err != nil {
		return err
	}
	if err := b.Router.Register(h.command()); err != nil {
		return err
	}
	if err := b.Jobs.Add(bot.Job{Name: "progress.reminders", Every: ReminderJobEvery, Run: h.remindJob}); err != nil {
		return err
	}
	for _, t := range []bot.Task{
		{Name: TaskCollect, Run: h.collect},
		{Name: TaskMonthlyNotice, Run: h.monthlyNotice},
		{Name: TaskStationedCheck, Run: func(ctx context.Context, at time.Time) error { return h.promptChecks(ctx, CheckStationed, at) }},
		{Name: TaskSupervisorCheck, Run: func(ctx context.Context, at time.Time) error { return h.promptChecks(ctx, CheckSupervisor, at) }},
	} {
		if err := b.Jobs.AddTask(t); err != nil {
			return err
		}
	}
	return nil
}

func (h *handler) command() *bot.Command {
	return &bot.Command{
		Name:    "progress",
		Aliases: []string{"进度", "整改"},
		Default: "log",
		Subs: []*bot.Subcommand{
			{Name: "log", Aliases: []string{"登记", "报送"}, Run: h.log},
			{Name: "new", Aliases: []string{"新建"}, Allow: bot.Kinds(creatorKinds...), Run: h.create},
			{Name: "list", Aliases: []string{"列表"}, Run: h.list},
			{Name: "show", Aliases: []string{"查看"}, Run: h.show},
			{Name: "import", Aliases: []string{"导入"}, Allow: bot.Kinds(creatorKinds...), Run: h.importCmd, Files: true},
			{Name: "export", Aliases: []string{"导出"}, Allow: bot.Kinds(readerKinds...), Run: h.exportCmd},
			{Name: "report", Aliases: []string{"汇总"}, Allow: bot.Kinds(readerKinds...), Run: h.reportCmd},
			{Name: "check", Aliases: []string{"检查", "督查"}, Allow: bot.Kinds(bot.StationedGroup, bot.SupervisorOffice), Run: h.checkCmd},
			{Name: "collect", Aliases: []string{"征集", "收集"}, Allow: bot.Kinds(bot.InspectionOffice), Run: h.collectCmd},
			{Name: "checks", Aliases: []string{"督查通知", "检查通知"}, Allow: bot.Kinds(bot.InspectionOffice), Run: h.checksCmd},
			{Name: "close", Aliases: []string{"销号", "确认销号"}, Allow: bot.Kinds(SupervisingKinds...), Run: h.closeCmd},
			{Name: "reject", Aliases: []string{"退回", "不予销号"}, Allow: bot.Kinds(SupervisingKinds...), Run: h.rejectCmd},
		},
		Actions: []*bot.Action{
			{ID: "progress.done", Run: h.doneButton},
			{ID: "progress.same", Run: h.sameButton},
			{ID: "progress.check_ok", Allow: bot.Kinds(bot.StationedGroup, bot.SupervisorOffice), Run: h.checkOKButton},
			{ID: ActionClose, Run: h.closeButton},
		},
	}
}

// t renders a catalog message.
func (h *handler) t(lang, key string, args ...any) string { return h.b.T(lang, key, args...) }

// argID reads the item id in argument i.
func argID(req *bot.Request, i int) (string, error) { return bot.RecordID(req, i, PrefixItem) }

// load returns an item or a not-found error that names it.
func (h *handler) load(ctx context.Context, id string) (*Item, error) {
	it, err := h.items.Get(ctx, id)
	if bot.IsNotFound(err) {
		return nil, bot.Coded(bot.ENOTFOUND, "progress.error.not_found", "id", id)
	}
	return it, err
}

func (h *handler) bodyNames(r *bot.Roster, ids []string, lang string) string {
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		names = append(names, r.BodyName(id, lang))
	}
	if len(names) == 0 {
		return "-"
	}
	return strings.Join(names, h.t(lang, "list.sep"))
}

// dayStart is midnight of t's day in loc.
func dayStart(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// monthLabel renders "2026年12月" / "December 2026".
func (h *handler) monthLabel(lang, id string) string {
	t, err := time.ParseInLocation("2006-01", id, h.b.Loc)
	if err != nil {
		return id
	}
	if bot.IsEnglish(lang) {
		return t.Format("January 2006")
	}
	return fmt.Sprintf("%d年%d月", t.Year(), t.Month())
}

func tooLong(s string, max int) bool { return len([]rune(s)) > max }

// officeHours reports whether now is a moment to send reminders: a
// working day, within the configured office hours.
func (h *handler) officeHours(now time.Time) bool {
	now = now.In(h.b.Loc)
	since := now.Sub(dayStart(now, h.b.Loc))
	return h.b.Cal.IsWorkday(now) && since >= h.open && since < h.closing
}

// unitBodies returns the responsible units in roster order.
func unitBodies(r *bot.Roster) []bot.Body { return r.BodiesOf(bot.ResponsibleUnit) }

// sortItems orders items by unit in roster order, then by id.
func sortItems(r *bot.Roster, items []*Item) {
	order := map[string]int{}
	for i, b := range r.Bodies {
		order[b.ID] = i
	}
	slices.SortStableFunc(items, func(a, b *Item) int {
		if oa, ob := order[a.Unit], order[b.Unit]; oa != ob {
			return oa - ob
		}
		return strings.Compare(a.ID, b.ID)
	})
}
