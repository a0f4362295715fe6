package progress

import (
	"slices"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

func TestCreateItemPostsItsCardAndAudits(t *testing.T) {
	env := newEnv(t)
	id := create(t, env, financeItem)
	if id != "ZG-2026-0001" {
		t.Errorf("id %s, want ZG-2026-0001", id)
	}
	it := loadItem(t, env, id)
	if it.Unit != "finance" || it.Title != "专项资金管理制度不健全" || !slices.Equal(it.Supervisors, []string{"room2", "group3"}) ||
		it.Immediate || it.Source != "team1" || it.CreatedBy != "lina" || bot.FormatDate(it.Deadline, env.Bot.Loc) != "2027-03-31" {
		t.Errorf("item %+v", it)
	}
	posted := postedIn(env, "巡纪协作群")
	if len(posted) != 1 || posted[0].Card == nil || !strings.Contains(bottest.CardText(posted[0].Card), id) {
		t.Fatalf("item card not posted to the coordination group: %+v", posted)
	}
	if len(loadItem(t, env, id).Cards) != 1 {
		t.Error("the card reference is not kept")
	}
	if len(audits(t, env, "progress.create")) != 1 {
		t.Error("creation not audited")
	}
	imm := create(t, env, financeItem2)
	if !loadItem(t, env, imm).Immediate {
		t.Error("即知即改 not recorded")
	}
}

func TestOnlyTeamsAndOfficeCreateItems(t *testing.T) {
	env := newEnv(t)
	resp := env.Command("zhoutao", "进度 新建 "+financeItem)
	contains(t, bottest.Text(resp), env.TZ("error.forbidden"))
	if n := len(audits(t, env, "progress.new")); n != 1 {
		t.Errorf("refusal audited %d times, want 1", n)
	}
	create(t, env, financeItem) // lina, inspection team
	resp = env.Command("wangming", "progress new 城关镇党委 \"村务公开\" deadline:2027-01-31 supervisor:sup_chengguan")
	contains(t, bottest.Text(resp), "ZG-2026-0002")
}

func TestLogProgressAuthorisedAndUnauthorised(t *testing.T) {
	tests := []struct {
		name    string
		person  string
		allowed bool
	}{
		{"member of the responsible unit", "zhoutao", true},
		{"member of a supervising body", "zhaoqiang", true},
		{"member of the other supervising body", "chenjing", true},
		{"member of another responsible unit", "wufang", false},
		{"the inspection team that created it", "lina", false},
		{"a supervision room that does not supervise it", "hejun", false},
		{"the administrator", "wangming", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			id := create(t, env, financeItem)
			resp := env.Command(tc.person, "/progress "+id+" 60% 已完成制度修订")
			it := loadItem(t, env, id)
			refused := audits(t, env, "progress.log")
			if !tc.allowed {
				contains(t, bottest.Text(resp), "区财政局党组")
				if it.Percent != 0 || len(it.Progress) != 0 {
					t.Errorf("unauthorised update stored: %+v", it.Progress)
				}
				if len(refused) != 1 || refused[0].Result != bot.ResultRefused || refused[0].Person != tc.person {
					t.Errorf("refusal not audited: %+v", refused)
				}
				return
			}
			contains(t, bottest.Text(resp), env.TZ("progress.logged", "id", id, "from", 0, "percent", 60))
			if it.Percent != 60 || len(it.Progress) != 1 {
				t.Fatalf("item %+v", it)
			}
			e := it.Progress[0]
			if e.Person != tc.person || e.Platform != console.Name || e.Note != "已完成制度修订" || !e.Time.Equal(env.Clock.Now()) || e.From != 0 {
				t.Errorf("entry %+v", e)
			}
			if len(refused) != 1 || refused[0].Result != bot.ResultOK || refused[0].Detail != "from=0 to=60" {
				t.Errorf("log not audited: %+v", refused)
			}
		})
	}
}

func TestLogForms(t *testing.T) {
	env := newEnv(t)
	id := create(t, env, financeItem)
	for _, line := range []string{
		"进度 " + id + " 20%",
		"progress log " + id + " 30 note",
		"进度 登记 " + id + " ４０％ 全角数字",
		"进度 " + id + " 进度不变 本月无新进展",
		"进度 " + id + " 50% 已完成：制度修订",
	} {
		if resp := env.Command("zhoutao", line); !strings.Contains(bottest.Text(resp), id) {
			t.Errorf("%s: %s", line, bottest.Text(resp))
		}
	}
	it := loadItem(t, env, id)
	var got []int
	for _, e := range it.Progress {
		got = append(got, e.Percent)
	}
	if !slices.Equal(got, []int{20, 30, 40, 40, 50}) {
		t.Errorf("percentages %v", got)
	}
	if note := it.Progress[4].Note; note != "已完成：制度修订" {
		t.Errorf("note with a colon became %q", note)
	}
	resp := env.Command("zhoutao", "整改 "+id+" 已完成 全部整改到位")
	contains(t, bottest.Text(resp), "待其确认销号")
	it = loadItem(t, env, id)
	if it.Status != ItemAwaiting || it.Percent != 100 || it.CompletedAt.IsZero() || !it.DoneAt.IsZero() {
		t.Errorf("done word did not send the item for closing: %+v", it)
	}
	env.Command("zhaoqiang", "进度 销号 "+id+" 现场核实")
	it = loadItem(t, env, id)
	if it.Status != ItemDone || it.DoneAt.IsZero() || it.ClosedBy != "zhaoqiang" {
		t.Errorf("the supervising room's 销号 did not close the item: %+v", it)
	}
}

func TestPercentGoingDownIsRefused(t *testing.T) {
	env := newEnv(t)
	id := create(t, env, financeItem)
	env.Command("zhoutao", "进度 "+id+" 60%")

	resp := env.Command("zhoutao", "进度 "+id+" 40% 填错了")
	contains(t, bottest.Text(resp), env.TZ("progress.error.lower", "id", id, "percent", 60, "input", 40))
	if it := loadItem(t, env, id); it.Percent != 60 || len(it.Progress) != 1 {
		t.Fatalf("lower percentage stored: %+v", it)
	}
	// A unit member cannot correct even with a reason.
	resp = env.Command("zhoutao", "进度 "+id+" 40% 原因:填错了")
	contains(t, bottest.Text(resp), "60%")
	if it := loadItem(t, env, id); it.Percent != 60 {
		t.Fatalf("unit member corrected: %+v", it)
	}
	refused := 0
	for _, e := range audits(t, env, "progress.log") {
		if e.Result == bot.ResultRefused {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("%d refusals audited, want 2", refused)
	}
	// A supervisor must give a reason…
	resp = env.Command("zhaoqiang", "进度 "+id+" 40%")
	contains(t, bottest.Text(resp), env.TZ("progress.error.lower_needs_reason", "id", id, "percent", 60))
	contains(t, bottest.Text(resp), env.TZ("progress.example.correct"))
	// …and then corrects it.
	resp = env.Command("zhaoqiang", "进度 "+id+" 40% 经核查 原因:部分制度尚未印发")
	contains(t, bottest.Text(resp), env.TZ("progress.corrected", "id", id, "from", 60, "percent", 40))
	it := loadItem(t, env, id)
	e := it.Progress[len(it.Progress)-1]
	if it.Percent != 40 || !e.Correction || e.Reason != "部分制度尚未印发" || e.Person != "zhaoqiang" || e.Note != "经核查" {
		t.Errorf("correction %+v", e)
	}
	if c := audits(t, env, "progress.correct"); len(c) != 1 || !strings.Contains(c[0].Detail, "from=60 to=40") {
		t.Errorf("correction audit %+v", c)
	}
	// A correction below 100% reopens a done item.
	env.Command("zhoutao", "进度 "+id+" 100%")
	env.Command("chenjing", "进度 "+id+" 90% 原因:佐证材料不全")
	if it := loadItem(t, env, id); it.Status != ItemOpen || !it.DoneAt.IsZero() || it.Percent != 90 {
		t.Errorf("correction did not reopen: %+v", it)
	}
}

func TestButtonsOnTheItemCard(t *testing.T) {
	env := newEnv(t)
	id := create(t, env, financeItem)
	env.Command("zhoutao", "进度 "+id+" 30%")
	card := postedIn(env, "巡纪协作群")[0].Card

	resp := env.Click("wufang", bottest.FindButton(t, card, "progress.same"))
	contains(t, bottest.Text(resp), "区财政局党组")
	if len(loadItem(t, env, id).Progress) != 1 {
		t.Fatal("an outsider's click was stored")
	}
	resp = env.Click("zhoutao", bottest.FindButton(t, card, "progress.same"))
	if len(resp.Replies) != 1 || !resp.Replies[0].Replace || resp.Toast == "" {
		t.Errorf("click answer %+v", resp)
	}
	resp = env.Click("zhoutao", bottest.FindButton(t, card, "progress.done"))
	it := loadItem(t, env, id)
	if it.Status != ItemAwaiting || len(it.Progress) != 3 || it.Progress[1].Percent != 30 {
		t.Errorf("buttons: %+v", it.Progress)
	}
	awaiting := resp.Replies[0].Card
	if len(awaiting.Buttons) != 1 || awaiting.Buttons[0].Action != ActionClose {
		t.Fatalf("an item awaiting closing shows %+v, want only 确认销号", awaiting.Buttons)
	}
	resp = env.Click("zhoutao", awaiting.Buttons[0])
	contains(t, bottest.Text(resp), "只有 "+id+" 的监督单位")
	if loadItem(t, env, id).Status != ItemAwaiting {
		t.Fatal("the responsible unit closed its own item")
	}
	resp = env.Click("chenjing", awaiting.Buttons[0])
	if it := loadItem(t, env, id); it.Status != ItemDone || it.ClosedBy != "chenjing" {
		t.Fatalf("确认销号 by the stationed group: %+v", it)
	}
	if len(resp.Replies[0].Card.Buttons) != 0 {
		t.Error("a closed item's card still has buttons")
	}
	var updates int
	for _, o := range env.Adapter.Sent() {
		if o.Update != nil {
			updates++
		}
	}
	if updates < 3 {
		t.Errorf("group card updated %d times, want one per change", updates)
	}
}

func TestBadInputAnswersWhatAndAnExample(t *testing.T) {
	env := newEnv(t)
	id := create(t, env, financeItem)
	tests := []struct{ line, want string }{
		{"进度 " + id, env.TZ("progress.error.need_percent")},
		{"进度 " + id + " 150%", env.TZ("progress.error.bad_percent", "input", "150%")},
		{"进度 " + id + " 很多", env.TZ("progress.error.bad_percent", "input", "很多")},
		{"进度 XS-2026-0001 50%", env.TZ("error.bad_id", "input", "XS-2026-0001", "example", "ZG-2026-0001")},
		{"进度 " + id + " 50% 原因:", env.TZ("progress.error.need_reason")},
		{"进度 新建 区财政局党组 \"标题\" 监督:第二监督检查室", env.TZ("progress.error.need_deadline")},
		{"进度 新建 区财政局党组 \"标题\" 期限:2027-02-30 监督:第二监督检查室", env.TZ("progress.error.bad_deadline", "input", "2027-02-30")},
		{"进度 新建 区财政局党组 \"标题\" 期限:2027-02-28", env.TZ("progress.error.need_supervisor")},
		{"进度 新建 区财政局党组 \"标题\" 期限:2027-02-28 监督:区委组织部", env.TZ("progress.error.unknown_supervisor", "input", "区委组织部")},
		{"进度 新建 不存在的单位 \"标题\" 期限:2027-02-28 监督:第二监督检查室", env.TZ("progress.error.unknown_unit", "input", "不存在的单位")},
		{"进度 新建 " + financeItem, env.TZ("progress.error.duplicate", "id", id, "title", "专项资金管理制度不健全")},
		{"进度 新建 区财政局党组", env.TZ("error.missing_arg", "what", env.TZ("progress.arg.title"))},
		{"进度 新建 区财政局党组 \"标题\" 期限:2027-02-28 监督:room2 颜色:红", env.TZ("progress.error.unknown_option", "option", "颜色")},
		{"进度 列表 随便", env.TZ("progress.error.unknown_unit", "input", "随便")},
		{"进度 查看", env.TZ("error.need_id", "example", "ZG-2026-0001")},
		{"进度 检查", env.TZ("progress.check.need_result")},
	}
	for _, tc := range tests {
		person := "zhoutao"
		switch {
		case strings.HasPrefix(tc.line, "进度 新建"):
			person = "lina"
		case strings.HasPrefix(tc.line, "进度 检查"):
			person = "chenjing"
		}
		got := bottest.Text(env.Command(person, tc.line))
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.line, got, tc.want)
		}
		if !strings.Contains(got, "正确格式示例") {
			t.Errorf("%s: no example in %q", tc.line, got)
		}
	}
	got := bottest.Text(env.Command("zhoutao", "进度 ZG-2026-0099 50%"))
	contains(t, got, env.TZ("progress.error.not_found", "id", "ZG-2026-0099"))
}

func TestListAndShow(t *testing.T) {
	env := newEnv(t)
	a := create(t, env, financeItem)
	b := create(t, env, financeItem2)
	c := create(t, env, chengguanItem)
	env.Command("zhoutao", "进度 "+a+" 60% 已完成制度修订")
	env.Command("zhoutao", "进度 "+b+" 已完成")
	got := bottest.Text(env.Command("lina", "进度 列表 待销号"))
	contains(t, got, b)
	notContains(t, got, a)
	env.Command("chenjing", "进度 销号 "+b)
	at(env, 2026, 12, 22, 10, 0) // b was closed; nothing else is overdue yet

	list := func(person, line string) string { return bottest.Text(env.Command(person, line)) }
	got = list("zhoutao", "进度 列表 我的")
	contains(t, got, a)
	contains(t, got, b)
	notContains(t, got, c)
	got = list("liuyang", "progress list mine")
	contains(t, got, c)
	notContains(t, got, a)
	got = list("lina", "进度 列表 城关镇党委")
	contains(t, got, c)
	notContains(t, got, a)
	got = list("lina", "进度 列表 已完成")
	contains(t, got, b)
	notContains(t, got, a)
	contains(t, list("lina", "进度 列表 逾期"), env.TZ("progress.list.empty"))
	at(env, 2027, 2, 1, 10, 0)
	got = list("lina", "进度 列表 逾期")
	contains(t, got, c)
	contains(t, got, env.TZ("progress.overdue_mark"))
	notContains(t, got, a)

	got = list("wufang", "进度 查看 "+a)
	contains(t, got, "60%")
	contains(t, got, "已完成制度修订")
	contains(t, got, "周涛")
	contains(t, got, "周涛（控制台）") // the platform by its Chinese name
	contains(t, got, "第二监督检查室")
}

func TestHelpTextsComplete(t *testing.T) {
	env := newEnv(t)
	cmd := env.Bot.Router.Find("进度")
	if cmd == nil || env.Bot.Router.Find("整改") != cmd {
		t.Fatal("progress verb not registered under 进度 and 整改")
	}
	for _, lang := range []string{"zh-CN", "en"} {
		if !env.Catalog.Has(lang, "cmd.progress.summary") {
			t.Errorf("%s: cmd.progress.summary missing", lang)
		}
		for _, s := range cmd.Subs {
			for _, k := range []string{"summary", "usage", "example"} {
				if !env.Catalog.Has(lang, "cmd.progress."+s.Name+"."+k) {
					t.Errorf("%s: cmd.progress.%s.%s missing", lang, s.Name, k)
				}
			}
		}
	}
	for _, s := range cmd.Subs {
		if len(s.Aliases) == 0 {
			t.Errorf("sub-command %s has no Chinese alias", s.Name)
		}
		if ex := env.TZ("cmd.progress." + s.Name + ".example"); !strings.HasPrefix(ex, "进度 ") {
			t.Errorf("Chinese example of %s does not use the Chinese verb: %s", s.Name, ex)
		}
	}
	if got := env.Bot.Jobs.TaskNames(); !slices.Equal(got, []string{TaskCollect, TaskMonthlyNotice, TaskStationedCheck, TaskSupervisorCheck}) {
		t.Errorf("tasks %v", got)
	}
}

func TestOddInputNeverFailsInternally(t *testing.T) {
	env := newEnv(t)
	id := create(t, env, financeItem)
	internal := env.TZ("error.internal")
	for _, line := range []string{
		"进度", "进度 " + id + " -5%", "进度 " + id + " 60%% x", "进度 " + id + " ％", "进度 " + id + " 1e2",
		"进度 " + id + " 60 原因:\"", "进度 新建 \"", "进度 新建 区财政局党组 \"\" 期限:2027-01-01 监督:room2",
		"进度 新建 区财政局党组 t 期限:+99999d 监督:room2", "进度 新建 区财政局党组 t 期限:2027-01-01 监督:,,,",
		"进度 列表 单位:", "进度 查看 zg-2026-0001", "进度 检查 ZG-2026-0001", "进度 检查 发现问题", "进度 检查 通过 月份:1999-01",
		"进度 导入", "进度 汇总 多余", "进度 " + strings.Repeat("长", 3000),
	} {
		for _, who := range []string{"zhoutao", "lina", "chenjing", "wangming"} {
			if got := bottest.Text(env.Command(who, line)); strings.Contains(got, internal) || got == "" {
				t.Errorf("%s as %s: %q", line, who, got)
			}
		}
	}
	for _, v := range []string{"", "x", "ZG-2026-0099", "ZG-2026-0001@", "@2026-12"} {
		for _, a := range []string{"progress.done", "progress.same", "progress.check_ok"} {
			if got := bottest.Text(env.Click("zhoutao", bot.Button{Action: a, Value: v})); strings.Contains(got, internal) {
				t.Errorf("%s %q: %q", a, v, got)
			}
		}
	}
}
