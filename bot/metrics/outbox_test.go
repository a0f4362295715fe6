package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/xunji-bot/xunji/bot/outbox"
)

// An outbox entry left in flight by a process that died mid-send is sent
// again and counted as a possible duplicate, by platform.
func TestPossibleDuplicatesAreCounted(t *testing.T) {
	env := bottest.New(t)
	sa := &bottest.Recorder{P: slack.Name}
	env.Bot.Out.AddAdapter(sa)
	m := metrics.New()
	x := outbox.New(env.Bot, outbox.Options{Pace: map[bot.Platform]time.Duration{}, Uncertain: m.PossibleDuplicate})
	ctx := context.Background()
	// What a process killed between Slack's acceptance and the record
	// leaves behind: the entry with its in-flight mark.
	began := env.Clock.Now()
	doc, _ := json.Marshal(outbox.Entry{ID: "000000000001", Msg: bot.Outgoing{Platform: slack.Name, ChatID: "C1", Text: "hi"},
		Created: began, NextAt: began, Sending: &began})
	if err := env.Store.Create(ctx, outbox.Coll, "000000000001", doc); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	if n, err := x.Flush(ctx); n != 1 || err != nil {
		t.Fatalf("flushed %d, %v", n, err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if want := `xunji_outbox_possible_duplicates_total{platform="slack"} 1`; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %s", want)
	}
	if len(sa.Sent()) != 1 {
		t.Errorf("sent %+v", sa.Sent())
	}
}

// authErr is a platform refusal of the app's credentials with a code.
type authErr struct{ code string }

func (e authErr) Error() string     { return "refused: " + e.code }
func (e authErr) AuthFailure() bool { return true }
func (e authErr) APICode() string   { return e.code }

// Failed deliveries are counted by platform and code, auth failures also
// as such with a gauge that a success clears, and dead letters by reason.
func TestDeliveryFailuresAndDeadLettersAreCounted(t *testing.T) {
	m := metrics.New()
	m.DeliveryFailed(slack.Name, authErr{"token_revoked"})
	m.DeliveryFailed(lark.Name, errors.New("no code"))
	m.DeadLetter(slack.Name, "channel_not_found")
	if !m.AuthFailing(slack.Name) || m.AuthFailing(lark.Name) {
		t.Errorf("auth failing: slack %v, lark %v; want slack only", m.AuthFailing(slack.Name), m.AuthFailing(lark.Name))
	}
	page := scrape(m)
	for _, want := range []string{
		`xunji_platform_api_errors_total{code="token_revoked",platform="slack"} 1`,
		`xunji_platform_api_errors_total{code="other",platform="lark"} 1`,
		`xunji_platform_auth_failures_total{platform="slack"} 1`,
		`xunji_platform_auth_failing{platform="slack"} 1`,
		`xunji_outbox_dead_letters_total{platform="slack",reason="channel_not_found"} 1`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	m.Delivered(slack.Name)
	if m.AuthFailing(slack.Name) || !strings.Contains(scrape(m), `xunji_platform_auth_failing{platform="slack"} 0`) {
		t.Error("a delivery did not clear the auth failure")
	}
}

func scrape(m *metrics.Metrics) string {
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	return string(body)
}
