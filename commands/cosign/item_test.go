package cosign_test

import (
	"context"
	"testing"

	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/commands/cosign"
	"github.com/xunji-bot/xunji/commands/progress"
)

// addItem stores an immediate-fix rectification item of unit, supervised
// by supervisors, as "progress new" would.
func addItem(t *testing.T, env *bottest.Env, id, title, unit string, supervisors ...string) {
	t.Helper()
	it := &progress.Item{ID: id, Title: title, Unit: unit, Supervisors: supervisors, Immediate: true, Status: progress.ItemOpen, CreatedBy: "lina", CreatedAt: env.Clock.Now()}
	if err := bot.Records[progress.Item](env.Store, progress.CollItems).Create(context.Background(), id, it); err != nil {
		t.Fatal(err)
	}
}

func item(t *testing.T, env *bottest.Env, id string) *progress.Item {
	t.Helper()
	it, err := bot.Records[progress.Item](env.Store, progress.CollItems).Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func TestNewRefusesAnUnknownItem(t *testing.T) {
	env := newEnv(t)
	got := bottest.Text(env.Direct("lina", `会签 新建 事项:ZG-2026-0099 巡察组:第一巡察组 监督:派驻第三纪检监察组 单位:区财政局党组`))
	mustContain(t, got, "找不到整改事项 ZG-2026-0099", "正确格式示例：会签 新建")
	if n := len(ids(t, env)); n != 0 {
		t.Errorf("%d requests created for an unknown item", n)
	}
}

func TestSecondOpenCosignForTheSameItemIsRefusedNamingTheOpenOne(t *testing.T) {
	env := newEnv(t)
	addItem(t, env, "ZG-2026-0003", "公务用车登记不规范", "finance", "group3")
	line := `会签 新建 事项:ZG-2026-0003 巡察组:第一巡察组`
	first := open(t, env, "lina", line)
	got := bottest.Text(env.Direct("zhangwei", line))
	mustContain(t, got, "整改事项 ZG-2026-0003 已有进行中的共同签字 "+first, "正确格式示例：会签 新建")
	if n := len(ids(t, env)); n != 1 {
		t.Fatalf("%d requests for one item, want 1", n)
	}
	// Declined and waiting to be reopened is still in progress.
	env.Direct("zhoutao", "会签 退回 "+first+" 台账未补齐")
	mustContain(t, bottest.Text(env.Direct("lina", line)), "已有进行中的共同签字 "+first+"（已退回）")
	// Once withdrawn, a new request may replace it.
	env.Direct("lina", "会签 撤回 "+first)
	second := open(t, env, "lina", line)
	// And once signed by every party, none is needed any more.
	for _, p := range []string{"lina", "chenjing", "zhoutao"} {
		env.Click(p, signButton(second))
	}
	mustContain(t, bottest.Text(env.Direct("lina", line)), "已于", "完成共同签字 "+second)
}

// The three-party signature of an immediate-fix item is the supervising
// body's confirmation that the fix is done (销号): the item becomes 100%
// and done, audited, and its history says which request closed it.
func TestCompletedSignatureClosesTheImmediateFixItem(t *testing.T) {
	env := newEnv(t)
	if err := progress.Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	addItem(t, env, "ZG-2026-0003", "公务用车登记不规范", "finance", "group3")
	id := open(t, env, "lina", `会签 新建 事项:ZG-2026-0003 巡察组:第一巡察组`)
	env.Click("lina", signButton(id))
	env.Click("chenjing", signButton(id))
	if it := item(t, env, "ZG-2026-0003"); it.Percent != 0 || it.Status != progress.ItemOpen {
		t.Fatalf("item changed before the last signature: %d%% %s", it.Percent, it.Status)
	}
	env.Click("zhoutao", signButton(id))
	it := item(t, env, "ZG-2026-0003")
	if it.Percent != 100 || it.Status != progress.ItemDone || !it.DoneAt.Equal(env.Clock.Now()) {
		t.Fatalf("item after completion: %d%% %s done %v", it.Percent, it.Status, it.DoneAt)
	}
	if n := len(it.Progress); n != 1 || it.Progress[0].From != 0 || it.Progress[0].Person != "zhoutao" {
		t.Fatalf("progress entries %+v", it.Progress)
	}
	mustContain(t, it.Progress[0].Note, id)
	show := bottest.Text(env.Direct("lina", "进度 查看 ZG-2026-0003"))
	mustContain(t, show, "100%", id)
	if n := countAudit(audit(t, env, "ZG-2026-0003"), "progress.log", bot.ResultOK); n != 1 {
		t.Errorf("%d progress.log audit entries for the item, want 1", n)
	}
}

// A person in two parties (陈静: the stationed group and, here, the
// finance bureau) who declines for a party he is not a member of is
// refused for that reason, privately and audited, not told he belongs
// to no party or asked to choose.
func TestDecliningForAnotherPartysBodyIsRefusedForThatReason(t *testing.T) {
	env := newEnv(t, bottest.WithConfig(withMembership("chenjing", "finance")))
	id := open(t, env, "lina", newThree)
	got := bottest.Text(env.Direct("chenjing", "会签 退回 "+id+" 代表:第一巡察组 台账未补齐"))
	mustContain(t, got, "您不是巡察组：区委第一巡察组的成员，不能代表其签字或退回 "+id, "已记录")
	bottest.MustNotContain(t, "answer", got, "不是 "+id+" 的签字方成员")
	// Signing as that party is refused the same way.
	mustContain(t, bottest.Text(env.Direct("chenjing", "会签 签字 "+id+" 代表:第一巡察组")), "您不是巡察组：区委第一巡察组的成员")
	if c := get(t, env, id); c.State != cosign.CosignOpen || c.Confirmed() != 0 {
		t.Fatalf("request changed: %s %+v", c.State, c.Parties)
	}
	if n := countAudit(audit(t, env, id), "cosign.decline", bot.ResultRefused); n != 1 {
		t.Errorf("%d refused decline audit entries, want 1", n)
	}
	// The request's history names the attempt and why it was refused.
	mustContain(t, bottest.Text(env.Direct("lina", "会签 查看 "+id)), "陈静", "代表非本人所在的签字方")
	// A party of his he has signed for already: the signature is named.
	env.Direct("chenjing", "会签 签字 "+id+" 代表:派驻第三纪检监察组")
	mustContain(t, bottest.Text(env.Direct("chenjing", "会签 退回 "+id+" 代表:派驻第三纪检监察组 改主意")), "不能重复签字")
}

// A six-party evaluation of an item's plan is another subject: it may run
// beside the item's three-party signature, and completing it does not
// close the item.
func TestJointEvaluationOfAnItemNeitherBlocksNorClosesIt(t *testing.T) {
	env := newEnv(t)
	if err := progress.Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	addItem(t, env, "ZG-2026-0003", "公务用车登记不规范", "finance", "group3")
	open(t, env, "lina", `会签 新建 事项:ZG-2026-0003 巡察组:第一巡察组`)
	six := open(t, env, "lina", `会签 新建 事项:ZG-2026-0003 模板:六方 类别:方案 巡察组:第一巡察组 监督检查室:第二监督检查室 监督:城关镇派出监察员办公室`)
	mustContain(t, bottest.Text(env.Direct("lina", `会签 新建 事项:ZG-2026-0003 模板:六方 类别:方案 巡察组:第一巡察组 监督检查室:第二监督检查室 监督:城关镇派出监察员办公室`)), "已有进行中的共同签字 "+six)
	c := get(t, env, six)
	for _, p := range c.Parties {
		signer := env.Bot.People.BaseRoster().Members(p.Body)[0]
		env.Click(signer.ID, bot.Button{Action: "cosign.sign_as", Value: six + "|" + p.Body})
	}
	if c := get(t, env, six); c.State != cosign.CosignComplete {
		t.Fatalf("six-party evaluation not complete: %s %+v", c.State, c.Parties)
	}
	if it := item(t, env, "ZG-2026-0003"); it.Status != progress.ItemOpen || it.Percent != 0 {
		t.Fatalf("a plan evaluation closed the item: %d%% %s", it.Percent, it.Status)
	}
}
