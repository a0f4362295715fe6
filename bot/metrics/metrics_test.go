package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/metrics"
)

func TestMetricsCountAndExpose(t *testing.T) {
	env := bottest.New(t)
	m := metrics.New()
	env.Bot.Router.Use(m.Middleware())
	env.Must(&bot.Command{Name: "ping", Aliases: []string{"乒"}, Run: func(context.Context, *bot.Request) (*bot.Response, error) {
		return bot.Text("pong"), nil
	}})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		env.Bot.Handle(ctx, &bot.Request{Kind: bot.KindCommand, Platform: slack.Name, UserID: "U0LINA", EventID: "Ev1", Text: "ping"})
	}
	m.Rejected(slack.Name, "signature")
	m.Scheduled("monthly_meeting", "run")
	m.WatchOutbox(func(context.Context) (int, time.Duration, error) { return 4, 90 * time.Second, nil })

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`xunji_events_received_total{kind="command",platform="slack"} 3`,
		`xunji_events_deduplicated_total{platform="slack"} 2`,
		`xunji_events_rejected_total{platform="slack",reason="signature"} 1`,
		`xunji_command_duration_seconds_count{kind="command",verb="ping"} 1`,
		`xunji_scheduled_runs_total{result="run",schedule="monthly_meeting"} 1`,
		`xunji_outbox_depth 4`,
		`xunji_outbox_oldest_age_seconds 90`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// A platform retry dropped by the durable inbox (Accept answering
// duplicate, before any middleware runs) is counted once it is wired to
// the bot's OnDuplicate, as cmd/xunji does.
func TestInboxDuplicatesAreCounted(t *testing.T) {
	env := bottest.New(t)
	m := metrics.New()
	env.Bot.Router.Use(m.Middleware())
	env.Bot.Inbox.OnDuplicate(func(req *bot.Request) { m.Deduplicated(req.Platform) })
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		req := &bot.Request{Kind: bot.KindCommand, Platform: lark.Name, UserID: "ou_demo_lina", EventID: "ev_inbox_1", Text: "help"}
		_, dup, err := env.Bot.Inbox.Accept(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if dup != (i > 0) {
			t.Fatalf("delivery %d: duplicate %v", i+1, dup)
		}
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if want := `xunji_events_deduplicated_total{platform="lark"} 2`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
}

func TestBuildInfoIsOneWithTheBuildAsLabels(t *testing.T) {
	m := metrics.New()
	m.BuildInfo("v1.4.0", "abc1234", "go1.26.8")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	want := `xunji_build_info{commit="abc1234",goversion="go1.26.8",version="v1.4.0"} 1`
	if !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s:\n%s", want, body)
	}
}
