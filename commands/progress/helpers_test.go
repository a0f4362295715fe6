package progress

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/config"
)

var ctx = context.Background()

// newEnv starts a bot on the demo district with the progress command,
// knowing the platforms the program has (their import hints).
func newEnv(t *testing.T, opts ...bottest.Option) *bottest.Env {
	t.Helper()
	opts = append([]bottest.Option{bottest.WithPlatforms(slack.Platform(), lark.Platform())}, opts...)
	env := bottest.New(t, opts...)
	if err := Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	return env
}

// withConfig returns an option with the demo configuration changed by fn.
func withConfig(fn func(*config.Config)) bottest.Option {
	c := config.Demo()
	fn(c)
	return bottest.WithConfig(c)
}

// changeSettings changes the progress settings of c (the demo's, which
// are valid) with fn.
func changeSettings(c *config.Config, fn func(*Settings)) {
	s, err := SettingsOf(c)
	if err != nil {
		panic(err)
	}
	fn(&s)
	SetSettings(c, s)
}

var reNewID = regexp.MustCompile(`ZG-\d{4}-\d{4}`)

// create runs "进度 新建 …" as lina and returns the new id.
func create(t *testing.T, env *bottest.Env, args string) string {
	t.Helper()
	resp := env.Command("lina", "进度 新建 "+args)
	id := reNewID.FindString(bottest.Text(resp))
	if id == "" {
		t.Fatalf("no item created: %s", bottest.Text(resp))
	}
	return id
}

func loadItem(t *testing.T, env *bottest.Env, id string) *Item {
	t.Helper()
	it, err := bot.Records[Item](env.Store, CollItems).Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func loadMonth(t *testing.T, env *bottest.Env, id string) *ProgressMonth {
	t.Helper()
	m, err := bot.Records[ProgressMonth](env.Store, CollProgressMonths).Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// at moves the fake clock to a Shanghai wall time.
func at(env *bottest.Env, y int, m time.Month, d, hh, mm int) time.Time {
	t := time.Date(y, m, d, hh, mm, 0, 0, bottest.Shanghai)
	env.Clock.Set(t)
	return t
}

// runTask runs a registered task at the clock's time.
func runTask(t *testing.T, env *bottest.Env, name string) {
	t.Helper()
	task, ok := env.Bot.Jobs.Task(name)
	if !ok {
		t.Fatalf("task %q not registered", name)
	}
	if err := task.Run(ctx, env.Clock.Now()); err != nil {
		t.Fatalf("task %s: %v", name, err)
	}
}

// runJobs runs the periodic jobs at the clock's time.
func runJobs(t *testing.T, env *bottest.Env) {
	t.Helper()
	if err := env.Bot.Jobs.Run(ctx, env.Clock.Now()); err != nil {
		t.Fatalf("jobs: %v", err)
	}
}

func outText(o bot.Outgoing) string { return o.Text + "\n" + bottest.CardText(o.Card) }

// sentTo returns the direct messages to the console user uid.
func sentTo(env *bottest.Env, uid string) []bot.Outgoing {
	var out []bot.Outgoing
	for _, o := range env.Adapter.Sent() {
		if o.UserID == uid && o.Update == nil {
			out = append(out, o)
		}
	}
	return out
}

// postedIn returns the new messages in chat.
func postedIn(env *bottest.Env, chat string) []bot.Outgoing {
	var out []bot.Outgoing
	for _, o := range env.Adapter.Sent() {
		if o.ChatID == chat && o.Update == nil {
			out = append(out, o)
		}
	}
	return out
}

// audits returns the audit entries of action.
func audits(t *testing.T, env *bottest.Env, action string) []bot.AuditEntry {
	t.Helper()
	es, err := bottest.AuditLog(ctx, env.Bot, func(e bot.AuditEntry) bool { return e.Action == action })
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func contains(t *testing.T, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%q\ndoes not contain %q", got, want)
	}
}

func notContains(t *testing.T, got, want string) {
	t.Helper()
	if strings.Contains(got, want) {
		t.Errorf("%q\ncontains %q", got, want)
	}
}

// Demo items used across tests.
const (
	financeItem   = `区财政局党组 "专项资金管理制度不健全" 期限:2027-03-31 监督:第二监督检查室,派驻第三纪检监察组`
	financeItem2  = `区财政局党组 "公务用车登记不规范" 期限:2026-12-20 监督:派驻第三纪检监察组 即知即改`
	chengguanItem = `城关镇党委 "村级财务公开不及时" 期限:2027-01-31 监督:城关镇派出监察员办公室`
	housingItem   = `区住建局党组 "工程项目招投标监管薄弱" 期限:2027-06-30 监督:第一监督检查室`
)
