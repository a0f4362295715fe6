package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
)

const (
	platformsSlackSecret = "platforms-test-signing-secret"
	platformsLarkKey     = "platforms-test-encrypt-key"
)

// platformsMain runs the program with the Slack and Lark adapters in
// HTTP mode against fakes, on a bolt store of its own, with the extra
// environment variables given; it returns the running program.
func platformsMain(t *testing.T, extra map[string]string) (*Main, *slacktest.Server, *larktest.Server) {
	t.Helper()
	sfake := slacktest.NewServer(t)
	lfake := larktest.NewServer(t)
	vars := map[string]string{
		"XUNJI_STORE_PATH":        filepath.Join(t.TempDir(), "x.db"),
		"XUNJI_HTTP_ADDR":         "127.0.0.1:0",
		"XUNJI_ADMIN_ADDR":        "127.0.0.1:0",
		"SLACK_BOT_TOKEN":         "xoxb-platforms-test",
		"SLACK_SIGNING_SECRET":    platformsSlackSecret,
		"SLACK_API_URL":           sfake.APIURL(),
		"SLACK_BOT_USER_ID":       slacktest.BotUserID,
		"LARK_APP_ID":             "cli_platforms_test",
		"LARK_APP_SECRET":         larktest.AppSecret,
		"LARK_VERIFICATION_TOKEN": larktest.VerificationToken,
		"LARK_ENCRYPT_KEY":        platformsLarkKey,
		"LARK_BASE_URL":           lfake.URL,
		"LARK_BOT_OPEN_ID":        larktest.BotOpenID,
	}
	for k, v := range extra {
		vars[k] = v
	}
	m := NewMain()
	m.Stdin = blockingReader{}
	m.Stdout = io.Discard
	m.Stderr = io.Discard
	m.Getenv = env(vars)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		_ = m.Close()
	})
	select {
	case <-m.Ready():
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	}
	return m, sfake, lfake
}

// scrape returns the /metrics page.
func scrape(t *testing.T, m *Main) string {
	t.Helper()
	resp, err := http.Get("http://" + m.AdminAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// postSlack posts a signed Slack request with the extra headers. It signs
// at the system clock's time: slack-go checks the replay window against
// it, and the program builds its adapter without a clock of the test's.
func postSlack(t *testing.T, m *Main, path, contentType string, body []byte, hdr http.Header) int {
	t.Helper()
	r, err := slacktest.NewRequest("http://"+m.HTTPAddr, path, contentType, body, platformsSlackSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		r.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Every platform retry the inbox drops is counted in
// xunji_events_deduplicated_total: Slack events (redelivered with
// X-Slack-Retry-Num), slash commands and clicks, and Lark message events
// and card callbacks, each delivered twice.
func TestPlatformRetriesAreCountedAsDeduplicated(t *testing.T) {
	m, sfake, _ := platformsMain(t, nil)
	retry := http.Header{"X-Slack-Retry-Num": {"1"}, "X-Slack-Retry-Reason": {"http_timeout"}}
	ev := slacktest.DirectMessage("EvDEDUPE1", "U0DEMOLINA", slacktest.DMChannel("U0DEMOLINA"), "help")
	cmd := []byte(slacktest.SlashCommand("/xunji", "help", "U0DEMOLINA", "C0DEMOCOORD", "trig-dedupe-1", sfake.ResponseURL("trig-dedupe-1")).Encode())
	click := slacktest.InteractionBody(slacktest.BlockActions(slacktest.Click{
		User: "U0DEMOLINA", Channel: "C0DEMOCOORD", MessageTS: "1700000000.000100",
		ActionID: "clue.ack", Value: "XS-2026-0999", TriggerID: "trig-dedupe-2", ResponseURL: sfake.ResponseURL("trig-dedupe-2"),
	}))
	for i, hdr := range []http.Header{nil, retry} {
		for _, r := range []struct {
			path, ct string
			body     []byte
		}{
			{slacktest.PathEvents, slacktest.ContentJSON, ev},
			{slacktest.PathCommands, slacktest.ContentForm, cmd},
			{slacktest.PathInteractions, slacktest.ContentForm, click},
		} {
			if code := postSlack(t, m, r.path, r.ct, r.body, hdr); code != http.StatusOK {
				t.Fatalf("slack %s delivery %d: status %d", r.path, i+1, code)
			}
		}
	}

	lc := &larktest.Client{URL: "http://" + m.HTTPAddr, EncryptKey: platformsLarkKey}
	msg := larktest.P2PMessage("ev_dedupe_msg", "ou_demo_lina", "help")
	card := larktest.CardActionEvent(larktest.CardAction{
		EventID: "ev_dedupe_card", Operator: "ou_demo_lina", ChatID: "oc_demo_coordination", MessageID: "om_card_dedupe",
		Action: "clue.ack", Value: "XS-2026-0999",
	})
	for i := range 2 {
		for _, body := range [][]byte{msg, card} {
			res, err := lc.Event(body)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != http.StatusOK {
				t.Fatalf("lark delivery %d: %d %s", i+1, res.Status, res.Body)
			}
		}
	}

	page := scrape(t, m)
	for _, want := range []string{
		`xunji_events_deduplicated_total{platform="slack"} 3`,
		`xunji_events_deduplicated_total{platform="lark"} 2`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(page, "xunji_events_"))
		}
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// SLACK_TEAM_ID and LARK_TENANT_KEY reach the adapters: a request from
// another workspace or tenant is refused with 403 and counted in
// xunji_events_rejected_total, and one from the configured workspace or
// tenant is accepted.
func TestRequestsFromAnotherWorkspaceOrTenantAreRefusedAndCounted(t *testing.T) {
	m, _, _ := platformsMain(t, map[string]string{"SLACK_TEAM_ID": slacktest.TeamID, "LARK_TENANT_KEY": larktest.TenantKey})
	foreign := slacktest.EditEvent(slacktest.DirectMessage("EvFOREIGN1", "U0DEMOLINA", slacktest.DMChannel("U0DEMOLINA"), "help"),
		func(outer, _ map[string]any) { outer["team_id"] = "T0OTHER" })
	if code := postSlack(t, m, slacktest.PathEvents, slacktest.ContentJSON, foreign, nil); code != http.StatusForbidden {
		t.Errorf("slack event from another workspace: %d, want 403", code)
	}
	own := slacktest.DirectMessage("EvOWN1", "U0DEMOLINA", slacktest.DMChannel("U0DEMOLINA"), "help")
	if code := postSlack(t, m, slacktest.PathEvents, slacktest.ContentJSON, own, nil); code != http.StatusOK {
		t.Errorf("slack event from the configured workspace: %d, want 200", code)
	}

	lc := &larktest.Client{URL: "http://" + m.HTTPAddr, EncryptKey: platformsLarkKey}
	res, err := lc.Event(larktest.MessageEvent(larktest.Message{EventID: "ev_foreign", ChatType: "p2p", ChatID: larktest.P2PChat("ou_x"), Sender: "ou_x", Text: "help", Tenant: "736588c9260f175e"}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != http.StatusForbidden {
		t.Errorf("lark event from another tenant: %d, want 403", res.Status)
	}
	if res, err = lc.Event(larktest.P2PMessage("ev_own", "ou_x", "help")); err != nil || res.Status != http.StatusOK {
		t.Errorf("lark event from the configured tenant: %d %v, want 200", res.Status, err)
	}

	page := scrape(t, m)
	for _, want := range []string{
		`xunji_events_rejected_total{platform="slack",reason="foreign_team"} 1`,
		`xunji_events_rejected_total{platform="lark",reason="foreign_tenant"} 1`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(page, "xunji_events_"))
		}
	}
}
