package progress

import (
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// 销号: an item the responsible unit reports complete awaits (待销号) its
// supervising bodies, who get a completion notice with 确认销号; the unit
// cannot close it, an item still in progress cannot be closed, a refusal
// needs a reason and returns the item to 整改中 with the unit told why;
// reported again and confirmed by a supervising body, it is closed
// (已销号). Every step is audited and shown in the item's history; the
// figures count 待销号 apart from 已销号.
func TestClosingNeedsTheSupervisingBodysConfirmation(t *testing.T) {
	env := newEnv(t)
	id := create(t, env, financeItem) // supervised by room2 (赵强) and group3 (陈静)

	text := bottest.Text(env.Command("zhaoqiang", "进度 销号 "+id))
	contains(t, text, env.TZ("progress.error.not_awaiting", "id", id, "percent", 0))
	contains(t, text, "进度 销号 ZG-2026-0001 经现场核查整改到位")

	env.Adapter.Reset()
	text = bottest.Text(env.Command("zhoutao", "进度 "+id+" 100% 制度已修订印发"))
	contains(t, text, env.TZ("progress.logged_awaiting", "id", id, "from", 0, "percent", 100))
	it := loadItem(t, env, id)
	if it.Status != ItemAwaiting || it.Open() || it.CompletedAt.IsZero() {
		t.Fatalf("after 100%%: %+v", it)
	}
	for _, p := range []string{"赵强", "陈静"} {
		dms := sentTo(env, p)
		if len(dms) != 1 || dms[0].Card == nil {
			t.Fatalf("%s got %d completion notices", p, len(dms))
		}
		c := dms[0].Card
		contains(t, c.Title, env.TZ("progress.closure.title", "id", id))
		if len(c.Buttons) != 1 || c.Buttons[0].Action != ActionClose || c.Buttons[0].Value != id {
			t.Errorf("%s's notice buttons %+v", p, c.Buttons)
		}
	}
	if n := len(sentTo(env, "周涛")) + len(sentTo(env, "何军")); n != 0 {
		t.Errorf("%d completion notices to people outside the supervising bodies", n)
	}
	if len(it.ClosureCards) != 2 {
		t.Errorf("completion notices kept %d, want 2", len(it.ClosureCards))
	}

	text = bottest.Text(env.Command("zhoutao", "进度 销号 "+id))
	contains(t, text, env.TZ("error.forbidden"))
	text = bottest.Text(env.Command("zhaoqiang", "进度 退回 "+id))
	contains(t, text, env.TZ("progress.error.reject_reason", "id", id))
	contains(t, text, "进度 退回 ZG-2026-0001 制度已修订但尚未印发执行")

	env.Adapter.Reset()
	text = bottest.Text(env.Command("zhaoqiang", "进度 退回 "+id+" 制度未印发执行，佐证材料不全"))
	contains(t, text, env.TZ("progress.rejected", "id", id, "unit", "区财政局党组"))
	it = loadItem(t, env, id)
	if it.Status != ItemOpen || !it.CompletedAt.IsZero() || it.Percent != 100 {
		t.Fatalf("after 退回: %+v", it)
	}
	group := postedIn(env, "巡纪协作群")
	if len(group) != 1 {
		t.Fatalf("group messages after 退回: %d", len(group))
	}
	contains(t, group[0].Text, env.TZ("progress.rejected_notice", "id", id, "title", "专项资金管理制度不健全", "unit", "区财政局党组", "person", "赵强", "reason", "制度未印发执行，佐证材料不全"))
	updated := 0
	for _, o := range env.Adapter.Sent() {
		if o.Update != nil && o.Card != nil && o.Card.Title == env.TZ("progress.closure.title", "id", id) {
			updated++
			if len(o.Card.Buttons) != 0 {
				t.Error("a refused completion notice still offers 确认销号")
			}
		}
	}
	if updated != 2 {
		t.Errorf("completion notices updated %d times, want 2", updated)
	}

	env.Adapter.Reset()
	env.Command("zhoutao", "进度 "+id+" 已完成 材料已补齐")
	if it := loadItem(t, env, id); it.Status != ItemAwaiting {
		t.Fatalf("reported again: %s", it.Status)
	}
	if len(sentTo(env, "陈静")) != 1 {
		t.Error("the second report sent no new completion notice")
	}
	text = bottest.Text(env.Command("chenjing", "进度 销号 "+id+" 经现场核查整改到位"))
	contains(t, text, env.TZ("progress.closed", "id", id, "unit", "区财政局党组"))
	it = loadItem(t, env, id)
	if it.Status != ItemDone || it.ClosedBy != "chenjing" || it.DoneAt.IsZero() {
		t.Fatalf("after 销号: %+v", it)
	}
	contains(t, outText(postedIn(env, "巡纪协作群")[0]), env.TZ("progress.closed_notice", "id", id, "title", "专项资金管理制度不健全", "unit", "区财政局党组", "person", "陈静"))
	text = bottest.Text(env.Command("zhaoqiang", "进度 销号 "+id))
	contains(t, text, env.TZ("progress.error.already_closed", "id", id))

	text = bottest.Text(env.Command("lina", "进度 查看 "+id))
	contains(t, text, "赵强 不予销号、退回整改：制度未印发执行，佐证材料不全")
	contains(t, text, "陈静 确认销号：经现场核查整改到位")
	for action, want := range map[string]int{"progress.close": 2, "progress.reject": 1} { // the unit's refused try and the confirmation
		if n := len(audits(t, env, action)); n != want {
			t.Errorf("%s audited %d times, want %d", action, n, want)
		}
	}
	if a := audits(t, env, "progress.close"); a[0].Result != bot.ResultRefused || a[1].Person != "chenjing" || a[1].Result != bot.ResultOK {
		t.Errorf("close audit %+v", a)
	}
}

// The figures count an item awaiting confirmation neither as done nor as
// in progress, and not as overdue; the completion rate counts closed
// items only; the monthly collection does not ask about it; the
// stationed group's check lists it.
func TestAwaitingItemsCountApartFromClosedOnes(t *testing.T) {
	env := newEnv(t)
	a := create(t, env, financeItem2) // deadline 2026-12-20, group3
	b := create(t, env, financeItem)
	env.Command("zhoutao", "进度 "+a+" 已完成")
	at(env, 2026, 12, 22, 10, 0) // after a's deadline

	items, err := bot.Records[Item](env.Store, CollItems).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	orgs, total := Figures(env.Bot.People.BaseRoster(), items, nil, env.Clock.Now(), env.Bot.Loc)
	if len(orgs) != 1 || total.Total != 2 || total.Awaiting != 1 || total.Done != 0 || total.Open != 1 || total.Overdue != 0 || total.Rate() != 0 {
		t.Errorf("figures with one item awaiting: %+v", total)
	}
	text := bottest.Text(env.Command("wangming", "进度 汇总"))
	contains(t, text, env.TZ("progress.notice.total", "total", 2, "done", 0, "awaiting", 1, "open", 1, "overdue", 0, "unreported", 0, "rate", 0, "average", 50))

	at(env, 2027, 1, 4, 9, 0)
	runTask(t, env, TaskCollect)
	if u := loadMonth(t, env, "2027-01").Unit("finance"); u == nil || strings.Join(u.Items, ",") != b {
		t.Errorf("January collection asks finance about %+v, want only %s", u, b)
	}
	runTask(t, env, TaskStationedCheck)
	var check *bot.Card
	for _, o := range sentTo(env, "陈静") {
		if o.Card != nil && strings.Contains(o.Card.Title, "督查") {
			check = o.Card
		}
	}
	if check == nil {
		t.Fatal("no stationed check prompt")
	}
	contains(t, bottest.CardText(check), a)
	contains(t, bottest.CardText(check), "待销号")

	env.Command("chenjing", "进度 销号 "+a)
	items, _ = bot.Records[Item](env.Store, CollItems).List(ctx)
	_, total = Figures(env.Bot.People.BaseRoster(), items, nil, env.Clock.Now(), env.Bot.Loc)
	if total.Done != 1 || total.Awaiting != 0 || total.Rate() != 50 {
		t.Errorf("figures after 销号: %+v", total)
	}
	// As of a moment while it awaited, it still counts as awaiting.
	_, then := Figures(env.Bot.People.BaseRoster(), items, nil, bottest.Day(2026, 12, 22).Add(10*60*60*1e9), env.Bot.Loc)
	if then.Awaiting != 1 || then.Done != 0 {
		t.Errorf("figures as of 2026-12-22: %+v", then)
	}
}
