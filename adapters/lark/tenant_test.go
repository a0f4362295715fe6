package lark

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

const otherTenant = "736588c9260f175e"

// signedAt is the fixed instant the tenant tests sign callbacks at.
var signedAt = bottest.Start

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// rejectLog records the reasons the reject hook was called with.
type rejectLog struct {
	mu      sync.Mutex
	reasons []string
}

func (r *rejectLog) hook(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reasons = append(r.reasons, reason)
}

func (r *rejectLog) count(reason string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.reasons {
		if x == reason {
			n++
		}
	}
	return n
}

// tenantHarness is an encrypting harness whose adapter expects tenant
// ("" for none), logging to logs and counting refusals in rej.
func tenantHarness(t *testing.T, tenant string, mod ...func(*Config)) (*harness, *lockedBuffer, *rejectLog) {
	t.Helper()
	hs := newHarness(t, "test key", append([]func(*Config){func(c *Config) { c.TenantKey = tenant }}, mod...)...)
	logs, rej := &lockedBuffer{}, &rejectLog{}
	hs.a.log = slog.New(slog.NewJSONHandler(logs, nil))
	hs.a.onReject = rej.hook
	hs.a.now = func() time.Time { return signedAt }
	return hs, logs, rej
}

// withoutTenant removes header.tenant_key from an event body.
func withoutTenant(t *testing.T, body []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	delete(m["header"].(map[string]any), "tenant_key")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func inboxLen(t *testing.T, env *bottest.Env) int {
	t.Helper()
	docs, err := env.Store.List(context.Background(), bot.CollInbox)
	if err != nil {
		t.Fatal(err)
	}
	return len(docs)
}

func TestConfigReadsTheTenantKey(t *testing.T) {
	c, ok := ConfigFrom(func(k string) string {
		return map[string]string{"LARK_APP_ID": "cli_1", "LARK_TENANT_KEY": " 2ca1d211f64f6438 "}[k]
	})
	if !ok || c.TenantKey != "2ca1d211f64f6438" {
		t.Fatalf("config %+v", c)
	}
	if !strings.Contains(c.String(), "TenantKey:2ca1d211f64f6438") {
		t.Errorf("String() = %s", c)
	}
}

// With LARK_TENANT_KEY set, encrypted and signed message events and card
// callbacks from another tenant (in the header, or a card's operator),
// or naming none, are refused with 403 before they reach the core or its
// store; each refusal is logged without secrets and counted. The same
// callbacks from the configured tenant go through, and the URL
// challenge, which names no tenant, is still answered.
func TestCallbacksFromAnotherTenantAreRefused(t *testing.T) {
	hs, logs, rej := tenantHarness(t, larktest.TenantKey)
	card := func(eventID, tenant string) []byte {
		return larktest.CardActionEvent(larktest.CardAction{
			EventID: eventID, Operator: lina, ChatID: coordChat, MessageID: cardMsgID, Action: "tally.inc", Value: tallyValue, Tenant: tenant,
		})
	}
	operatorElsewhere := func() []byte {
		var m map[string]any
		_ = json.Unmarshal(card("ev_card_op", ""), &m)
		m["event"].(map[string]any)["operator"].(map[string]any)["tenant_key"] = otherTenant
		b, _ := json.Marshal(m)
		return b
	}
	refused := []struct {
		name, path string
		body       []byte
	}{
		{"message from another tenant", "/lark/events", larktest.MessageEvent(larktest.Message{
			EventID: "ev_foreign_1", ChatType: "p2p", ChatID: "oc_dm", Sender: wangming, Text: "tally", Tenant: otherTenant,
		})},
		{"message naming no tenant", "/lark/events", withoutTenant(t, msgEvent(t, "ev_foreign_2", "p2p", "oc_dm", wangming, "text", "tally"))},
		{"card callback from another tenant", "/lark/cards", card("ev_card_foreign", otherTenant)},
		{"card callback by an operator of another tenant", "/lark/cards", operatorElsewhere()},
	}
	for i, r := range refused {
		if status, body := hs.post(r.path, r.body); status != http.StatusForbidden {
			t.Errorf("%s: %d %s, want 403", r.name, status, body)
		}
		if n := rej.count(reasonForeignTenant); n != i+1 {
			t.Errorf("%s: %d refusals counted, want %d", r.name, n, i+1)
		}
	}
	if n := hs.h.n.Load(); n != 0 {
		t.Errorf("%d refused callbacks reached the core", n)
	}
	if n := inboxLen(t, hs.env); n != 0 {
		t.Errorf("%d refused callbacks in the inbox", n)
	}
	if calls := hs.fake.Calls(); len(calls) != 0 {
		t.Errorf("refused callbacks were answered: %+v", calls)
	}
	log := logs.String()
	if n := strings.Count(log, "lark request from another tenant refused"); n != len(refused) {
		t.Errorf("%d refusals logged, want %d:\n%s", n, len(refused), log)
	}
	bottest.MustContain(t, "refusal log", log, `"tenant":"`+otherTenant+`"`, `"expected_tenant":"`+larktest.TenantKey+`"`,
		`"event":"ev_foreign_1"`, `"event_type":"card.action.trigger"`)
	bottest.MustNotContain(t, "refusal log", log, larktest.AppSecret, testToken, "test key", "tally")

	// The configured tenant goes through.
	if status, _ := hs.post("/lark/events", msgEvent(t, "ev_own_1", "p2p", "oc_dm", wangming, "text", "tally")); status != http.StatusOK {
		t.Errorf("message from the configured tenant: %d", status)
	}
	if status, body := hs.post("/lark/cards", card("ev_card_own", "")); status != http.StatusOK || !strings.Contains(body, "count 2") {
		t.Errorf("card callback from the configured tenant: %d %s", status, body)
	}
	if n := hs.tally(); n != 2 {
		t.Errorf("tally %d, want 2 (one command, one click; the refused ones ran nothing)", n)
	}
	if n := rej.count(reasonForeignTenant); n != len(refused) {
		t.Errorf("%d refusals counted in all, want %d", n, len(refused))
	}
}

// The challenge names no tenant: it is answered with the check on.
func TestURLVerificationWithATenantConfigured(t *testing.T) {
	hs, _, rej := tenantHarness(t, larktest.TenantKey, func(c *Config) { c.VerificationToken = "xxxxxx" })
	status, body := hs.postRaw("/lark/events", readFixture(t, "lark_url_verification_encrypted_testkey.json"), nil)
	if status != http.StatusOK || strings.TrimSpace(body) != `{"challenge":"ajls384kdjx98XX"}` {
		t.Fatalf("got %d %s", status, body)
	}
	if n := rej.count(reasonForeignTenant); n != 0 {
		t.Errorf("%d refusals counted", n)
	}
}

// The public example event, encrypted and signed as recorded, comes from
// tenant 2ca1d211f64f6438: refused when another tenant is configured.
func TestRecordedEncryptedEventFromAnotherTenantIsRefused(t *testing.T) {
	hs, _, rej := tenantHarness(t, "tenant_of_this_deployment")
	hs.a.now = func() time.Time { return time.Unix(1608725989, 0) }
	hdr := http.Header{}
	hdr.Set("X-Lark-Request-Timestamp", "1608725989")
	hdr.Set("X-Lark-Request-Nonce", "n0nce-1234")
	hdr.Set("X-Lark-Signature", "1ec624f68fb06804b752a243f208568ac98bcb875b4e1562782cdf9f22f60518")
	if status, _ := hs.postRaw("/lark/events", readFixture(t, "lark_im_message_receive_v1_encrypted.body"), hdr); status != http.StatusForbidden {
		t.Fatalf("status %d, want 403", status)
	}
	if hs.h.n.Load() != 0 || len(hs.fake.Calls()) != 0 || rej.count(reasonForeignTenant) != 1 {
		t.Fatalf("core saw %d, calls %+v, refusals %d", hs.h.n.Load(), hs.fake.Calls(), rej.count(reasonForeignTenant))
	}
}

// Without LARK_TENANT_KEY the check is off: every tenant is accepted,
// and Run says so once in a warning.
func TestWithoutATenantEveryTenantIsAcceptedWithAWarning(t *testing.T) {
	hs, logs, rej := tenantHarness(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hs.a.Run(ctx, hs.h) }()
	defer func() {
		cancel()
		<-done
	}()
	ev := larktest.MessageEvent(larktest.Message{EventID: "ev_any_tenant", ChatType: "p2p", ChatID: "oc_dm", Sender: wangming, Text: "tally", Tenant: otherTenant})
	if status, _ := hs.post("/lark/events", ev); status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if n := hs.tally(); n != 1 || rej.count(reasonForeignTenant) != 0 {
		t.Errorf("tally %d, refusals %d; want 1, 0", n, rej.count(reasonForeignTenant))
	}
	const warning = "LARK_TENANT_KEY is not set"
	if err := hs.fake.Wait(func() bool { return strings.Contains(logs.String(), warning) }, larktest.DefaultTimeout); err != nil {
		t.Fatalf("no start-up warning that the tenant check is off:\n%s", logs)
	}
	if n := strings.Count(logs.String(), warning); n != 1 {
		t.Errorf("the warning was logged %d times, want once", n)
	}
}

// Over the long connection (the real SDK client), events and card
// callbacks from another tenant are acknowledged, so Lark does not push
// them again, but reach nothing and are counted; the configured tenant's
// go through.
func TestLongConnectionEventsFromAnotherTenantAreRefused(t *testing.T) {
	env := bottest.New(t, bottest.WithPlatforms(Platform()))
	env.Must(tallyCommand(env.Store, make(chan struct{})))
	fake := larktest.NewServer(t)
	a, _ := wsAdapter(t, fake)
	a.cfg.TenantKey = larktest.TenantKey
	rej := &rejectLog{}
	a.onReject = rej.hook
	h := &countingHandler{Inbox: env.Bot.Inbox}
	env.Bot.Out.AddAdapter(a)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- a.Run(ctx, h) }()
	conn := <-fake.WSConns() // left open: see TestLongConnection

	msg := larktest.MessageEvent(larktest.Message{EventID: "ev_ws_foreign", ChatType: "p2p", ChatID: "oc_dm", Sender: wangming, Text: "tally", Tenant: otherTenant})
	if resp := conn.Push(t, "f1", "event", msg); resp.StatusCode != http.StatusOK {
		t.Errorf("foreign message reply %+v, want 200", resp)
	}
	card := larktest.CardActionEvent(larktest.CardAction{
		EventID: "ev_ws_card_foreign", Operator: lina, ChatID: coordChat, MessageID: cardMsgID, Action: "tally.inc", Value: tallyValue, Tenant: otherTenant,
	})
	resp := conn.Push(t, "f2", "event", card)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(resp.Data), "count") {
		t.Errorf("foreign card reply %+v %s, want 200 without an answer", resp, resp.Data)
	}
	a.wait()
	if n := h.n.Load(); n != 0 {
		t.Errorf("%d refused events reached the core", n)
	}
	if n := rej.count(reasonForeignTenant); n != 2 {
		t.Errorf("%d refusals counted, want 2", n)
	}
	if calls := fake.Calls(); len(calls) != 0 {
		t.Errorf("refused events were answered: %+v", calls)
	}

	own := larktest.MessageEvent(larktest.Message{EventID: "ev_ws_own", ChatType: "p2p", ChatID: "oc_dm", Sender: wangming, Text: "tally"})
	if resp := conn.Push(t, "o1", "event", own); resp.StatusCode != http.StatusOK {
		t.Errorf("own message reply %+v", resp)
	}
	a.wait()
	if calls := fake.Calls(); len(calls) != 1 {
		t.Errorf("the configured tenant's message: calls %+v, want one reply", calls)
	}
	cancel()
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
