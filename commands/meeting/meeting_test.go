package meeting_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
	"github.com/xunji-bot/xunji/bot/schedule"
	"github.com/xunji-bot/xunji/commands/clue"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/meeting"
	"github.com/xunji-bot/xunji/commands/progress"
)

// The demo group where meeting notices go (notices.meeting), and the
// inspection office's group, as console chat ids.
const (
	coordination = "巡纪协作群"
	officeGroup  = "巡察办工作群"
)

var workMeeting = config.ScheduleConfig{
	Name: "work_meeting", Title: "月度工作例会", Rule: "monthly: first working day 09:00", Job: meeting.TaskNotice,
	Notice: "3wd", Remind: "1h",
	Meeting: config.MeetingScheduleConfig{Kind: "work", Place: "区委巡察办三楼会议室", Agenda: []string{"通报上月整改和线索办理情况"}},
}

type fixture struct {
	*bottest.Env
	runner *schedule.Runner
}

func newEnv(t *testing.T, scs ...config.ScheduleConfig) *fixture {
	t.Helper()
	cfg := config.Demo()
	cfg.Schedules = scs
	env := bottest.New(t, bottest.WithConfig(cfg))
	if err := meeting.Module().Setup(env.Bot, cfg); err != nil {
		t.Fatal(err)
	}
	r, err := schedule.New(env.Bot, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{Env: env, runner: r}
}

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, bottest.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// tickAt moves the clock to s and runs the schedules and the jobs there.
func (f *fixture) tickAt(t *testing.T, s string) {
	t.Helper()
	f.Clock.Set(at(s))
	if err := f.runner.Tick(context.Background(), at(s)); err != nil {
		t.Fatalf("schedules at %s: %v", s, err)
	}
	if err := f.Bot.Jobs.Run(context.Background(), at(s)); err != nil {
		t.Fatalf("jobs at %s: %v", s, err)
	}
}

// cards returns the new (not updated) cards posted to chat.
func (f *fixture) cards(chat string) []*bot.Card {
	var out []*bot.Card
	for _, m := range f.Adapter.Sent() {
		if m.ChatID == chat && m.Card != nil && m.Update == nil {
			out = append(out, m.Card)
		}
	}
	return out
}

// texts returns the texts posted to chat.
func (f *fixture) texts(chat string) []string {
	var out []string
	for _, m := range f.Adapter.Sent() {
		if m.ChatID == chat && m.Text != "" {
			out = append(out, m.Text)
		}
	}
	return out
}

func (f *fixture) meeting(t *testing.T, id string) *meeting.Meeting {
	t.Helper()
	mt, err := bot.Records[meeting.Meeting](f.Store, meeting.CollMeetings).Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return mt
}

func field(t *testing.T, c *bot.Card, label string) string {
	t.Helper()
	for _, f := range c.Fields {
		if strings.HasPrefix(f.Label, label) {
			return f.Label + ": " + f.Value
		}
	}
	t.Fatalf("card %q has no field %q", c.Title, label)
	return ""
}

// seedOpenItems stores an overdue clue, an unsigned co-signature and a
// closed progress collection with an unreported unit.
func seedOpenItems(t *testing.T, f *fixture) {
	t.Helper()
	ctx := context.Background()
	c := &clue.Clue{ID: "XS-2026-0001", FromBody: "team1", Body: "room2", Title: "机密标题", Substance: "机密内容",
		Deadline: at("2026-12-10 00:00"), Status: clue.ClueTransferred, CreatedAt: at("2026-11-20 10:00")}
	if err := bot.Records[clue.Clue](f.Store, clue.CollClues).Create(ctx, c.ID, c); err != nil {
		t.Fatal(err)
	}
	cs := &cosign.Cosign{ID: "QZ-2026-0001", Template: "three", State: cosign.CosignOpen, Order: cosign.OrderFree, Parties: []cosign.CosignParty{
		{Role: "inspection_team", Body: "team1", State: cosign.PartyConfirmed},
		{Role: "supervisor", Body: "group3", State: cosign.PartyWaiting, RemindAt: at("2026-12-15 09:00")},
	}}
	if err := cosign.Seed(ctx, f.Store, cs); err != nil {
		t.Fatal(err)
	}
	pm := &progress.ProgressMonth{ID: "2026-11", StartedAt: at("2026-11-02 09:00"), ClosedAt: at("2026-11-10 18:00"),
		Units: []progress.UnitReport{{Unit: "finance", Missing: []string{"ZG-2026-0001"}}, {Unit: "chengguan"}, {Unit: "housing", Missing: []string{"ZG-2026-0003"}}}}
	if err := bot.Records[progress.ProgressMonth](f.Store, progress.CollProgressMonths).Create(ctx, pm.ID, pm); err != nil {
		t.Fatal(err)
	}
}

func TestScheduledNoticeIsACardWithTheOpenItemsAndAnswerButtons(t *testing.T) {
	f := newEnv(t, workMeeting)
	f.tickAt(t, "2026-12-01 09:00") // December's meeting was announced before this process: the baseline
	seedOpenItems(t, f)
	// Decisions of the last work meeting appear on the next agenda.
	if resp := f.Command("wangming", "会议 新建 工作例会 12-15 15:00 地点:三楼会议室"); !strings.Contains(bottest.Text(resp), "HY-2026-0001") {
		t.Fatalf("new: %s", bottest.Text(resp))
	}
	f.Command("wangming", "会议 纪要 HY-2026-0001 决定：12月底前完成区财政局党组整改专项督查")
	f.Adapter.Reset()

	// 3 working days before Monday 2027-01-04 (New Year's Day off) is
	// Tuesday 2026-12-29.
	f.tickAt(t, "2026-12-28 09:00")
	if n := len(f.cards(coordination)); n != 0 {
		t.Fatalf("notice sent a day early")
	}
	f.tickAt(t, "2026-12-29 09:00")
	cards := f.cards(coordination)
	if len(cards) != 1 {
		t.Fatalf("group got %d cards, want 1: %v", len(cards), f.Adapter.Sent())
	}
	c := cards[0]
	text := bottest.CardText(c)
	for _, want := range []string{
		"月度工作例会通知 HY-2027-0001", "2027-01-04 09:00（周一）", "区委巡察办三楼会议室",
		"1. 通报上月整改和线索办理情况",
		"HY-2026-0001", "12月底前完成区财政局党组整改专项督查",
		"2026-11 整改进度未报送", "区财政局党组、区住建局党组",
		"参加（0人）", "请假（0人）",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("card lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "机密") {
		t.Errorf("the card shows a clue's confidential title or substance:\n%s", text)
	}
	// The coordination group, where the inspected units' contacts sit,
	// does not learn that an overdue clue exists: not its number, not a
	// count.
	bottest.MustNotContain(t, "coordination group agenda", text, "XS-2026-0001", "逾期未办结线索")
	// Nor that a co-signature is waiting: not everyone sitting there may
	// know of it (see TestUnsignedCosignsOnTheAgendaOnlyWhereEveryoneMayKnow).
	bottest.MustNotContain(t, "coordination group agenda", text, "QZ-2026-0001", "三方签字未完成")
	bottest.FindButton(t, c, meeting.ActionAttend)
	bottest.FindButton(t, c, meeting.ActionAbsent)
	mt := f.meeting(t, "HY-2027-0001")
	if mt.Schedule != "work_meeting" || mt.Kind != meeting.MeetingWork || !mt.RemindAt.Equal(at("2027-01-04 08:00")) || len(mt.Cards) != 1 {
		t.Errorf("meeting record %+v", mt)
	}
}

func TestNoticeTaskIsIdempotentPerRun(t *testing.T) {
	f := newEnv(t, workMeeting)
	task, ok := f.Bot.Jobs.Task(meeting.TaskNotice)
	if !ok {
		t.Fatal("meeting.notice not registered")
	}
	run := &schedule.Run{Schedule: "work_meeting", Task: meeting.TaskNotice, At: at("2027-01-04 09:00"), Planned: at("2027-01-04 09:00"), Key: "work_meeting@2027-01-04T09:00:00+08:00", Remind: time.Hour}
	ctx := schedule.WithRun(context.Background(), run)
	for range 2 {
		if err := task.Run(ctx, run.At); err != nil {
			t.Fatal(err)
		}
	}
	ms, _ := bot.Records[meeting.Meeting](f.Store, meeting.CollMeetings).List(context.Background())
	if len(ms) != 1 || len(f.cards(coordination)) != 1 {
		t.Errorf("two runs of one occurrence made %d meetings and %d cards", len(ms), len(f.cards(coordination)))
	}
}

func TestMeetingOnAHolidayMovesToTheNextWorkingDayAndTheNoticeSaysSo(t *testing.T) {
	review := config.ScheduleConfig{Name: "new_year_review", Rule: "annually: January 1 10:00", Job: meeting.TaskNotice, Notice: "2wd", Meeting: config.MeetingScheduleConfig{Kind: "review"}}
	f := newEnv(t, review)
	f.tickAt(t, "2026-12-01 09:00")
	// 2027-01-01 is New Year's Day (Friday); the meeting moves to Monday
	// 2027-01-04; its notice goes out two working days before, 2026-12-30.
	f.tickAt(t, "2026-12-30 10:00")
	cards := f.cards(coordination)
	if len(cards) != 1 {
		t.Fatalf("%d cards", len(cards))
	}
	text := bottest.CardText(cards[0])
	for _, want := range []string{"总结点评会通知", "2027-01-04 10:00（周一）", "原定 2027-01-01 适逢元旦假期，顺延至下一个工作日 2027-01-04"} {
		if !strings.Contains(text, want) {
			t.Errorf("card lacks %q:\n%s", want, text)
		}
	}
}

// announce posts an ad-hoc work meeting on 2026-12-15 15:00 and returns
// its card.
func announce(t *testing.T, f *fixture) *bot.Card {
	t.Helper()
	resp := f.Command("wangming", "会议 新建 工作例会 12-15 15:00 地点:三楼会议室 议程:\"线索办理；整改督查\"")
	if !strings.Contains(bottest.Text(resp), "HY-2026-0001") {
		t.Fatalf("new: %s", bottest.Text(resp))
	}
	cards := f.cards(coordination)
	if len(cards) == 0 {
		t.Fatal("no card posted")
	}
	return cards[len(cards)-1]
}

func TestAttendanceIsCountedOnTheCardOneAnswerPerPerson(t *testing.T) {
	f := newEnv(t)
	c := announce(t, f)
	attend, absent := bottest.FindButton(t, c, meeting.ActionAttend), bottest.FindButton(t, c, meeting.ActionAbsent)

	f.Click("lina", attend)
	f.Click("zhangwei", attend)
	f.Click("zhaoqiang", absent)
	resp := f.Click("lina", absent) // changes her answer
	if !strings.Contains(resp.Toast, "请假") {
		t.Errorf("toast %q", resp.Toast)
	}
	resp = f.Click("lina", absent) // the same answer again
	if !strings.Contains(resp.Toast, "已回复过") {
		t.Errorf("repeat toast %q", resp.Toast)
	}
	if len(resp.Replies) != 1 || !resp.Replies[0].Replace || resp.Replies[0].Card == nil {
		t.Fatalf("a click must replace the card: %+v", resp.Replies)
	}
	card := resp.Replies[0].Card
	if got := field(t, card, "参加"); got != "参加（1人）: 张伟" {
		t.Errorf("attend field %q", got)
	}
	if got := field(t, card, "请假"); got != "请假（2人）: 赵强、李娜" {
		t.Errorf("absent field %q", got)
	}
	mt := f.meeting(t, "HY-2026-0001")
	if a, b := mt.Count(); a != 1 || b != 2 || len(mt.Answers) != 3 {
		t.Errorf("count %d/%d over %d answers", a, b, len(mt.Answers))
	}
	log, _ := bottest.AuditLog(context.Background(), f.Bot, func(e bot.AuditEntry) bool { return strings.HasPrefix(e.Action, "meeting.a") })
	if len(log) != 4 {
		t.Errorf("audited %d answers, want 4 (the repeat changes nothing)", len(log))
	}
}

func TestAnswersCloseWhenTheMeetingStartsOrIsCancelled(t *testing.T) {
	f := newEnv(t)
	c := announce(t, f)
	attend := bottest.FindButton(t, c, meeting.ActionAttend)
	f.Clock.Set(at("2026-12-15 15:00"))
	resp := f.Click("lina", attend)
	if !strings.Contains(resp.Toast, "已经开始或结束") || len(f.meeting(t, "HY-2026-0001").Answers) != 0 {
		t.Errorf("answer after the start: %q", resp.Toast)
	}

	f2 := newEnv(t)
	c2 := announce(t, f2)
	f2.Command("wangming", "会议 取消 HY-2026-0001 与区委常委会冲突")
	resp = f2.Click("lina", bottest.FindButton(t, c2, meeting.ActionAttend))
	if !strings.Contains(resp.Toast, "已取消") {
		t.Errorf("answer after cancel: %q", resp.Toast)
	}
}

func TestMoveUpdatesTheCardTellsTheGroupAndMovesTheReminder(t *testing.T) {
	f := newEnv(t)
	announce(t, f)
	f.Adapter.Reset()
	resp := f.Command("wangming", "会议 改期 HY-2026-0001 12-16 10:00")
	if !strings.Contains(bottest.Text(resp), "已改期至 2026-12-16 10:00（周三）") {
		t.Fatalf("move: %s", bottest.Text(resp))
	}
	var updated *bot.Card
	for _, m := range f.Adapter.Sent() {
		if m.Update != nil && m.Card != nil {
			updated = m.Card
		}
	}
	if updated == nil || !strings.Contains(bottest.CardText(updated), "2026-12-16 10:00") || !strings.Contains(bottest.CardText(updated), "原定 2026-12-15 15:00") {
		t.Errorf("card not updated: %v", f.Adapter.Sent())
	}
	if texts := f.texts(coordination); len(texts) != 1 || !strings.Contains(texts[0], "改期至 2026-12-16 10:00") {
		t.Errorf("group told %v", texts)
	}
	f.Adapter.Reset()
	// No reminder at the old time; one an hour before the new time.
	f.tickAt(t, "2026-12-15 14:00")
	f.tickAt(t, "2026-12-16 08:59")
	if texts := f.texts(coordination); len(texts) != 0 {
		t.Fatalf("reminder too early: %v", texts)
	}
	f.tickAt(t, "2026-12-16 09:00")
	f.tickAt(t, "2026-12-16 09:01")
	texts := f.texts(coordination)
	if len(texts) != 1 || !strings.Contains(texts[0], "会议提醒") || !strings.Contains(texts[0], "HY-2026-0001") {
		t.Errorf("reminders %v, want one", texts)
	}
}

func TestOnlyTheInspectionOfficeMovesCancelsNotesAndCalls(t *testing.T) {
	f := newEnv(t)
	announce(t, f)
	for _, line := range []string{
		"会议 改期 HY-2026-0001 12-16", "会议 取消 HY-2026-0001", "会议 纪要 HY-2026-0001 内容", "会议 新建 联席会 12-20",
	} {
		resp := f.Command("lina", line)
		if !strings.Contains(bottest.Text(resp), "没有权限") {
			t.Errorf("%q by an inspection team member: %s", line, bottest.Text(resp))
		}
	}
	log, _ := bottest.AuditLog(context.Background(), f.Bot, func(e bot.AuditEntry) bool { return e.Result == bot.ResultRefused })
	if len(log) != 4 {
		t.Errorf("%d refusals audited, want 4", len(log))
	}
}

func TestCancelGreysTheCardAndTellsTheGroup(t *testing.T) {
	f := newEnv(t)
	announce(t, f)
	f.Adapter.Reset()
	resp := f.Command("wangming", "会议 取消 HY-2026-0001 与区委常委会时间冲突：另行通知")
	if !strings.Contains(bottest.Text(resp), "已取消") {
		t.Fatalf("cancel: %s", bottest.Text(resp))
	}
	mt := f.meeting(t, "HY-2026-0001")
	if mt.State != meeting.MeetingCancelled || mt.Reason != "与区委常委会时间冲突：另行通知" {
		t.Errorf("meeting %s %q", mt.State, mt.Reason)
	}
	var card *bot.Card
	for _, m := range f.Adapter.Sent() {
		if m.Update != nil {
			card = m.Card
		}
	}
	if card == nil || card.Color != bot.Grey || len(card.Buttons) != 0 || !strings.Contains(card.Title, "已取消") {
		t.Errorf("updated card %+v", card)
	}
	if texts := f.texts(coordination); len(texts) != 1 || !strings.Contains(texts[0], "与区委常委会时间冲突：另行通知") {
		t.Errorf("group told %v", texts)
	}
	f.tickAt(t, "2026-12-15 14:00")
	if texts := f.texts(coordination); len(texts) != 1 {
		t.Errorf("a cancelled meeting was reminded: %v", texts)
	}
	if resp := f.Command("wangming", "会议 取消 HY-2026-0001"); !strings.Contains(bottest.Text(resp), "已取消") {
		t.Errorf("cancel twice: %s", bottest.Text(resp))
	}
}

func TestListNextAndShow(t *testing.T) {
	f := newEnv(t, workMeeting)
	if resp := f.Command("zhaoqiang", "会议 下次"); !strings.Contains(bottest.Text(resp), "没有已通知") || !strings.Contains(bottest.Text(resp), "月度工作例会：下次会议 2027-01-04 09:00（周一），通知于 2026-12-29 09:00 发出") {
		t.Errorf("next with none: %s", bottest.Text(resp))
	}
	announce(t, f)
	f.Command("wangming", "会议 纪要 HY-2026-0001 \"决定：每月通报\"")
	resp := f.Command("zhaoqiang", "会议 下次")
	if len(resp.Replies) != 1 || resp.Replies[0].Card == nil {
		t.Fatalf("next: %s", bottest.Text(resp))
	}
	bottest.FindButton(t, resp.Replies[0].Card, meeting.ActionAttend)
	if text := bottest.Text(f.Command("zhaoqiang", "meeting list")); !strings.Contains(text, "HY-2026-0001") {
		t.Errorf("list: %s", text)
	}
	if text := bottest.Text(f.Command("zhaoqiang", "会议 HY-2026-0001")); !strings.Contains(text, "决定：每月通报") || !strings.Contains(text, "王明") {
		t.Errorf("show: %s", text)
	}
}

func TestBadInputAnswersWhatWasWrongWithAnExample(t *testing.T) {
	f := newEnv(t)
	announce(t, f)
	tests := []struct{ line, want string }{
		{"会议 改期", "请写明会议编号"},
		{"会议 改期 HY-2026-9", "不是会议编号"},
		{"会议 改期 HY-2026-0099 12-20", "找不到会议 HY-2026-0099"},
		{"会议 改期 HY-2026-0001", "请写明会议日期"},
		{"会议 改期 HY-2026-0001 明年", "无法识别日期"},
		{"会议 改期 HY-2026-0001 12-20 25:00", "无法识别时间"},
		{"会议 改期 HY-2026-0001 2026-11-20", "已经过去"},
		{"会议 新建", "请写明会议类型"},
		{"会议 新建 茶话会 12-20", "不是会议类型"},
		{"会议 新建 联席会 12-20 14:30 三楼", "无法识别多余的内容"},
		{"会议 纪要 HY-2026-0001", "请写明纪要"},
		{"会议 列表 昨天", "无法识别"},
	}
	for _, tt := range tests {
		text := bottest.Text(f.Command("wangming", tt.line))
		if !strings.Contains(text, tt.want) {
			t.Errorf("%q: %s\nwant %q", tt.line, text, tt.want)
		}
		if !strings.Contains(text, "正确格式示例") && !strings.Contains(text, "找不到") {
			t.Errorf("%q: no example in %s", tt.line, text)
		}
	}
}

func TestScheduleListingShowsTheNextThreeRunsToAdministrators(t *testing.T) {
	joint := config.ScheduleConfig{Name: "joint_meeting", Title: "季度联席会", Rule: "每季度 第二周 周二 14:30", Job: meeting.TaskNotice, Notice: "5wd", Meeting: config.MeetingScheduleConfig{Kind: "joint"}}
	spring := config.ScheduleConfig{Name: "feb_check", Rule: "monthly: 2nd Tuesday 10:00", Job: "progress.stationed_check"}
	f := newEnv(t, workMeeting, joint, spring)
	f.tickAt(t, "2026-12-01 09:00")
	f.Clock.Set(at("2027-01-20 09:00"))
	text := bottest.Text(f.Command("wangming", "日程"))
	for _, want := range []string{
		"定时任务共 3 项（时区 Asia/Shanghai",
		// Rules read in Chinese whatever language they were written in.
		"【月度工作例会】work_meeting", "规则：每月第一个工作日 09:00", "meeting.notice → 巡纪协作群",
		"规则：每季度第二个周二 14:30", "规则：每月第二个周二 10:00", "提前：5 个工作日",
		// Three working days before 2027-02-01 count the make-up Sunday 01-31.
		"1. 2027-02-01 09:00（周一），2027-01-28 09:00（周四） 运行",
		"【季度联席会】joint_meeting", "1. 2027-04-13 14:30（周二）",
		"2027-02-14 10:00（周日），原定 2027-02-09（春节）顺延",
		"没有功能注册任务 progress.stationed_check",
		"上次：2026-12-01 09:00（周二） 起算点（新任务）",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("listing lacks %q:\n%s", want, text)
		}
	}
	if text := bottest.Text(f.Command("lina", "日程")); !strings.Contains(text, "没有权限") {
		t.Errorf("a non-administrator saw the schedules: %s", text)
	}
	if text := bottest.Text(f.Command("wangming", "schedule nope")); !strings.Contains(text, "work_meeting") {
		t.Errorf("unknown name: %s", text)
	}
}

func TestRegisterRefusesABadScheduleNamingTheKey(t *testing.T) {
	cfg := config.Demo()
	cfg.Schedules = []config.ScheduleConfig{workMeeting, {Name: "x", Rule: "每月 第一个工作日", Job: meeting.TaskNotice, Meeting: config.MeetingScheduleConfig{Kind: "party"}}}
	env := bottest.New(t, bottest.WithConfig(cfg))
	err := meeting.Module().Setup(env.Bot, cfg)
	if err == nil || !strings.Contains(err.Error(), "schedules[1].meeting.kind") {
		t.Errorf("err = %v", err)
	}
}

func TestEverySubCommandDocumentedInBothLanguagesAndHelpAnswers(t *testing.T) {
	f := newEnv(t, workMeeting)
	internal := f.TZ("error.internal")
	for _, name := range []string{"meeting", "schedule"} {
		c := f.Bot.Router.Find(name)
		if c == nil {
			t.Fatalf("%s not registered", name)
		}
		keys := []string{"cmd." + c.Name + ".summary"}
		if len(c.Subs) == 0 {
			keys = append(keys, "cmd."+c.Name+".usage", "cmd."+c.Name+".example")
		}
		for _, s := range c.Subs {
			k := "cmd." + c.Name + "." + s.Name
			keys = append(keys, k+".summary", k+".usage", k+".example")
		}
		for _, lang := range []string{"zh-CN", "en"} {
			for _, k := range keys {
				if !f.Catalog.Has(lang, k) {
					t.Errorf("%s: missing %s", lang, k)
				}
			}
		}
		for _, line := range []string{c.Name, c.Aliases[0] + " ？？", c.Name + " " + strings.Repeat("x", 300)} {
			if got := bottest.Text(f.Command("wangming", line)); got == "" || strings.Contains(got, internal) {
				t.Errorf("%q answered %q", line, got)
			}
		}
	}
}

// FuzzMeetingLine sends arbitrary meeting lines: nothing may crash a
// handler (a recovered panic answers error.internal).
func FuzzMeetingLine(f *testing.F) {
	for _, s := range []string{
		"会议 新建 工作例会 12-15 15:00 地点:三楼 议程:\"a；b\"", "meeting move HY-2026-0001 12-31 9:60", "会议 取消 HY-2026-0001 ：",
		"会议 纪要 HY-2026-0001 决定：x", "meeting new joint +99999d", "日程 work_meeting", "会议 下次", "meeting list all", "\"", "😀",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		env := newEnv(t, workMeeting)
		env.Command("wangming", "会议 新建 工作例会 12-15 15:00")
		internal := env.TZ("error.internal")
		for _, who := range []string{"wangming", "lina"} {
			if got := bottest.Text(env.Command(who, line)); strings.Contains(got, internal) {
				t.Fatalf("%q as %s answered %q", line, who, got)
			}
		}
	})
}

func TestTheScheduleTemplateIsTheNoticeText(t *testing.T) {
	tpl := workMeeting
	tpl.Template = "请各成员单位分管同志于{date}（{weekday}）{time}到{place}参加{title}（{id}）。"
	f := newEnv(t, tpl)
	f.tickAt(t, "2026-12-01 09:00")
	f.tickAt(t, "2026-12-29 09:00")
	cards := f.cards(coordination)
	if len(cards) != 1 {
		t.Fatalf("%d cards", len(cards))
	}
	if want := "请各成员单位分管同志于2027-01-04（周一）09:00到区委巡察办三楼会议室参加月度工作例会（HY-2027-0001）。"; cards[0].Text != want {
		t.Errorf("text %q, want %q", cards[0].Text, want)
	}
}

func TestNoteKeepsColonsAndQuotesAndTakesALowerCaseID(t *testing.T) {
	f := newEnv(t)
	announce(t, f)
	f.Command("wangming", "会议 纪要 hy-2026-0001 ɐɐ 决定：下月起“每周”通报 key:value")
	mt := f.meeting(t, "HY-2026-0001")
	if len(mt.Notes) != 1 || mt.Notes[0].Text != "ɐɐ 决定：下月起“每周”通报 key:value" {
		t.Errorf("notes %+v", mt.Notes)
	}
}

// The items open from last time are a snapshot of the notice's moment,
// kept in every language: a reader who prefers English sees them in
// English, the group's card in the deployment's Chinese.
func TestOpenItemsInTheReadersLanguage(t *testing.T) {
	f := newEnv(t, workMeeting)
	f.tickAt(t, "2026-12-01 09:00")
	seedOpenItems(t, f)
	f.tickAt(t, "2026-12-29 09:00")
	cards := f.cards(coordination)
	if len(cards) != 1 {
		t.Fatalf("group got %d cards", len(cards))
	}
	zh := bottest.CardText(cards[0])
	bottest.MustContain(t, "group card", zh, "2026-11 整改进度未报送")
	if err := f.Bot.People.SetPrefs(context.Background(), "lina", bot.Prefs{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	resp := f.Command("lina", "meeting show HY-2027-0001")
	var en string
	for _, r := range resp.Replies {
		en += r.Text + "\n" + bottest.CardText(r.Card)
	}
	bottest.MustContain(t, "English view", en, "Rectification progress not reported for 2026-11")
	bottest.MustNotContain(t, "English view", en, "整改进度未报送")
	mt := f.meeting(t, "HY-2027-0001")
	if len(mt.OpenItemsIn["zh-CN"]) == 0 || len(mt.OpenItemsIn["en"]) != len(mt.OpenItemsIn["zh-CN"]) || strings.Join(mt.OpenItems, "|") != strings.Join(mt.OpenItemsIn["zh-CN"], "|") {
		t.Errorf("open items %q, by language %q", mt.OpenItems, mt.OpenItemsIn)
	}
}

// A meeting held in the discipline-only clue group (which validation and
// the current roster keep free of inspected units) lists the overdue
// clues on its agenda, in each reader's language; the card carries no
// clue's title or substance.
func TestOverdueCluesOnTheAgendaOnlyInTheDisciplineGroup(t *testing.T) {
	inClueGroup := workMeeting
	inClueGroup.Group = "discipline"
	f := newEnv(t, inClueGroup)
	f.tickAt(t, "2026-12-01 09:00")
	seedOpenItems(t, f)
	f.tickAt(t, "2026-12-29 09:00")
	if n := len(f.cards(coordination)); n != 0 {
		t.Fatalf("the coordination group got %d cards of a meeting held elsewhere", n)
	}
	var text string
	for _, c := range f.Adapter.Sent() {
		if c.Card != nil && strings.Contains(bottest.CardText(c.Card), "HY-2027-0001") {
			text = bottest.CardText(c.Card)
		}
	}
	bottest.MustContain(t, "discipline group agenda", text, "XS-2026-0001", "区纪委监委第二监督检查室", "2026-12-10")
	bottest.MustNotContain(t, "discipline group agenda", text, "机密")
	if err := f.Bot.People.SetPrefs(context.Background(), "zhaoqiang", bot.Prefs{Lang: "en"}); err != nil {
		t.Fatal(err)
	}
	resp := f.Command("zhaoqiang", "meeting show HY-2027-0001")
	var en string
	for _, r := range resp.Replies {
		en += r.Text + "\n" + bottest.CardText(r.Card)
	}
	bottest.MustContain(t, "English view", en, "Overdue clue XS-2026-0001")
}

// Only members of the invited bodies answer a meeting notice: the case
// office and an unrelated supervisor office (not on the demo's work
// meeting list) are told they are not invited, and nothing is recorded.
// After the start the office records who actually attended; the card
// then shows attended, on leave and absent bodies.
func TestOnlyInviteesAnswerAndTheOfficeRecordsAttendance(t *testing.T) {
	f := newEnv(t)
	c := announce(t, f)
	bottest.MustContain(t, "invitees on the card", field(t, c, "受邀单位"), "区纪委监委第二监督检查室", "城关镇派出监察员办公室")
	bottest.MustNotContain(t, "invitees on the card", field(t, c, "受邀单位"), "案件监督管理室", "河西街道")
	attend, leave := bottest.FindButton(t, c, meeting.ActionAttend), bottest.FindButton(t, c, meeting.ActionAbsent)

	for _, outsider := range []string{"sunli", "luoxia"} {
		resp := f.Click(outsider, attend)
		bottest.MustContain(t, outsider+" toast", resp.Toast, "未受邀参加会议 HY-2026-0001", "受邀单位：")
		if len(resp.Replies) != 0 {
			t.Errorf("%s: a refused click must leave the card alone: %+v", outsider, resp.Replies)
		}
	}
	f.Click("zhaoqiang", attend)
	f.Click("hejun", attend)
	f.Click("chenjing", leave)
	mt := f.meeting(t, "HY-2026-0001")
	if len(mt.Answers) != 3 || mt.AnswerOf("sunli") != "" || mt.AnswerOf("luoxia") != "" {
		t.Errorf("answers %+v", mt.Answers)
	}
	refused, _ := bottest.AuditLog(context.Background(), f.Bot, func(e bot.AuditEntry) bool {
		return e.Action == "meeting.attend" && e.Result == bot.ResultRefused && e.Detail == "not_invited"
	})
	if len(refused) != 2 {
		t.Errorf("refused answers audited %d times, want 2", len(refused))
	}

	text := bottest.Text(f.Command("wangming", "会议 签到 HY-2026-0001 第二监督检查室"))
	bottest.MustContain(t, "attendance before the start", text, "尚未开始", "会议 签到 HY-2026-0001")

	f.Clock.Set(at("2026-12-15 17:00"))
	text = bottest.Text(f.Command("lina", "会议 签到 HY-2026-0001 第二监督检查室"))
	bottest.MustContain(t, "attendance by a team member", text, "没有权限")
	if len(f.meeting(t, "HY-2026-0001").Attendance) != 0 {
		t.Errorf("a team member recorded attendance: %s", text)
	}
	text = bottest.Text(f.Command("wangming", "会议 签到 HY-2026-0001 案件监督管理室"))
	bottest.MustContain(t, "attendance of a body not invited", text, "未受邀参加会议 HY-2026-0001", "会议 签到 HY-2026-0001 第二监督检查室")
	text = bottest.Text(f.Command("wangming", "会议 签到 HY-2026-0001"))
	bottest.MustContain(t, "attendance without bodies", text, "请写明到会的单位")

	text = bottest.Text(f.Command("wangming", "会议 签到 HY-2026-0001 第二监督检查室，区委第一巡察组、区委巡察办"))
	bottest.MustContain(t, "attendance", text, "已登记 HY-2026-0001 的签到情况",
		"出席：区委巡察办、区委第一巡察组、区纪委监委第二监督检查室；请假：区纪委监委派驻第三纪检监察组；缺席：区委第二巡察组、区纪委监委第一监督检查室、城关镇派出监察员办公室")
	mt = f.meeting(t, "HY-2026-0001")
	if len(mt.Attendance) != 3 || mt.Attendance[0].By != "wangming" {
		t.Errorf("attendance %+v", mt.Attendance)
	}
	if mt.PresenceOf(f.Bot.People.BaseRoster(), "room1") != meeting.PresenceAbsent {
		t.Error("room1 answered 参加 but was not recorded present: it is absent once attendance is taken")
	}
	var updated *bot.Card
	for _, m := range f.Adapter.Sent() {
		if m.Update != nil && m.Card != nil {
			updated = m.Card
		}
	}
	if updated == nil {
		t.Fatal("the posted card was not updated with the attendance")
	}
	bottest.MustContain(t, "updated card", field(t, updated, "签到情况"), "请假：区纪委监委派驻第三纪检监察组")
	log, _ := bottest.AuditLog(context.Background(), f.Bot, func(e bot.AuditEntry) bool { return e.Action == "meeting.attendance" && e.Result == bot.ResultOK })
	if len(log) != 1 || log[0].Detail != "bodies=room2,team1,office" {
		t.Errorf("attendance audit %+v", log)
	}
}

// The settings validate meetings.invitees against the meeting kinds:
// every kind may be configured, any other name is refused.
func TestConfigKnowsEveryMeetingKind(t *testing.T) {
	for _, k := range meeting.MeetingKinds {
		cfg := config.Demo()
		meeting.SetSettings(cfg, meeting.Settings{Invitees: map[string][]string{string(k): {"supervision_room"}}})
		if _, err := meeting.SettingsOf(cfg); err != nil {
			t.Errorf("kind %s refused: %v", k, err)
		}
	}
	cfg := config.Demo()
	meeting.SetSettings(cfg, meeting.Settings{Invitees: map[string][]string{"weekly": {"supervision_room"}}})
	if _, err := meeting.SettingsOf(cfg); err == nil || !strings.Contains(err.Error(), "meetings.invitees.weekly") {
		t.Errorf("unknown kind: %v", err)
	}
}
