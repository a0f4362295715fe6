package slack

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

const otherTeam = "T0OTHER"

// withTeam configures the workspace requests must come from, as
// SLACK_TEAM_ID does.
func withTeam(id string) Option { return func(a *Adapter) { a.cfg.TeamID = id } }

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

// rejects records the reasons the reject hook was called with.
type rejects struct {
	mu      sync.Mutex
	reasons []string
}

func (r *rejects) hook(reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reasons = append(r.reasons, reason)
}

func (r *rejects) count(reason string) int {
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

// teamOpts are the options of a harness that expects team, logging to
// logs and counting refusals in rej.
func teamOpts(team string, logs *lockedBuffer, rej *rejects) []Option {
	opts := []Option{WithLogger(slog.New(slog.NewJSONHandler(logs, nil))), WithRejectHook(rej.hook)}
	if team != "" {
		opts = append(opts, withTeam(team))
	}
	return opts
}

// inboxSize is the number of requests waiting in the durable inbox.
func inboxSize(t *testing.T, env *bottest.Env) int {
	t.Helper()
	docs, err := env.Store.List(t.Context(), bot.CollInbox)
	if err != nil {
		t.Fatal(err)
	}
	return len(docs)
}

// foreignEvent is an Events API mention "bump" from workspace team; ""
// drops the team_id.
func foreignEvent(eventID, team string) []byte {
	return slacktest.EditEvent(slacktest.AppMention(eventID, "U0WANGMING", coordChat, "<@U0XUNJIBOT> bump"), func(outer, _ map[string]any) {
		if team == "" {
			delete(outer, "team_id")
			return
		}
		outer["team_id"] = team
	})
}

// teamClick is a click on the counter card's button from workspace team.
func teamClick(t *testing.T, fake *slacktest.Server, trigger, team string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(clickPayload(t, fake, "U0LINA", coordChat, "1764550800.000077", "count.inc", "c-team", trigger), &m); err != nil {
		t.Fatal(err)
	}
	m["team"].(map[string]any)["id"] = team
	return mustJSON(t, m)
}

// With SLACK_TEAM_ID set, events, slash commands and clicks from another
// workspace (or naming none) are refused with 403 before they reach the
// bot or its store: nothing is accepted, run or answered; each refusal is
// logged without secrets and counted. The same requests from the
// configured workspace go through, and the URL challenge, which names no
// workspace, is still answered.
func TestRequestsFromAnotherWorkspaceAreRefused(t *testing.T) {
	logs, rej := &lockedBuffer{}, &rejects{}
	hs := newHarness(t, teamOpts(slacktest.TeamID, logs, rej)...)

	form := slacktest.SlashCommand("/bump", "", "U0LINA", coordChat, "trig-foreign-cmd", hs.fake.ResponseURL("trig-foreign-cmd"))
	form.Set("team_id", otherTeam)
	refused := []struct {
		name string
		post func() *http.Response
	}{
		{"event from another workspace", func() *http.Response { return hs.postEvent(foreignEvent("EvForeign1", otherTeam), nil) }},
		{"event naming no workspace", func() *http.Response { return hs.postEvent(foreignEvent("EvForeign2", ""), nil) }},
		{"slash command", func() *http.Response { return hs.postCommand(form) }},
		{"click", func() *http.Response {
			return hs.postInteraction(teamClick(t, hs.fake, "trig-foreign-click", otherTeam))
		}},
	}
	for i, r := range refused {
		resp := r.post()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Slack-No-Retry") != "1" {
			t.Errorf("%s: %d (X-Slack-No-Retry %q), want 403 with no retry", r.name, resp.StatusCode, resp.Header.Get("X-Slack-No-Retry"))
		}
		if got := rej.count(reasonForeignTeam); got != i+1 {
			t.Errorf("%s: %d refusals counted, want %d", r.name, got, i+1)
		}
	}
	hs.settle()
	if n := hs.h.n.Load(); n != 0 {
		t.Errorf("%d refused requests reached the bot", n)
	}
	if n := inboxSize(t, hs.env); n != 0 {
		t.Errorf("%d refused requests in the inbox", n)
	}
	if got := counter(t, hs.env.Store, "bump") + counter(t, hs.env.Store, "c-team"); got != 0 {
		t.Errorf("refused requests ran commands: counters %d", got)
	}
	for _, m := range []string{"chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"} {
		if n := len(hs.fake.CallsOf(m)); n != 0 {
			t.Errorf("%d %s calls for refused requests", n, m)
		}
	}
	log := logs.String()
	if n := strings.Count(log, "slack request from another workspace refused"); n != len(refused) {
		t.Errorf("%d refusals logged, want %d:\n%s", n, len(refused), log)
	}
	bottest.MustContain(t, "refusal log", log, `"team":"T0OTHER"`, `"expected_team":"T0DEMO"`, `"kind":"command"`, `"kind":"interaction"`)
	bottest.MustNotContain(t, "refusal log", log, testSecret, "xoxb-test", "bump")

	// The configured workspace goes through.
	if resp := hs.postEvent(slacktest.AppMention("EvOwn1", "U0WANGMING", coordChat, "<@U0XUNJIBOT> bump"), nil); resp.StatusCode != http.StatusOK {
		t.Errorf("event from the configured workspace: %d", resp.StatusCode)
	}
	own := slacktest.SlashCommand("/bump", "", "U0LINA", coordChat, "trig-own-cmd", hs.fake.ResponseURL("trig-own-cmd"))
	if resp := hs.postCommand(own); resp.StatusCode != http.StatusOK {
		t.Errorf("command from the configured workspace: %d", resp.StatusCode)
	}
	if resp := hs.postInteraction(teamClick(t, hs.fake, "trig-own-click", slacktest.TeamID)); resp.StatusCode != http.StatusOK {
		t.Errorf("click from the configured workspace: %d", resp.StatusCode)
	}
	hs.settle()
	if got := counter(t, hs.env.Store, "bump"); got != 2 {
		t.Errorf("bump counter %d after an event and a command from the configured workspace, want 2", got)
	}
	if got := counter(t, hs.env.Store, "c-team"); got != 1 {
		t.Errorf("click counter %d, want 1", got)
	}

	// The URL challenge names no workspace and is still answered.
	resp := hs.postEvent([]byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`), nil)
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || body.String() != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("challenge: %d %q", resp.StatusCode, body.String())
	}
	if got := rej.count(reasonForeignTeam); got != len(refused) {
		t.Errorf("%d refusals counted in all, want %d", got, len(refused))
	}
}

// Without SLACK_TEAM_ID the check is off: every workspace is accepted,
// and Run says so once in a warning.
func TestWithoutATeamEveryWorkspaceIsAcceptedWithAWarning(t *testing.T) {
	logs, rej := &lockedBuffer{}, &rejects{}
	hs := newHarness(t, teamOpts("", logs, rej)...)
	if resp := hs.postEvent(foreignEvent("EvAnyTeam", otherTeam), nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("event from any workspace: %d", resp.StatusCode)
	}
	hs.settle()
	if got := counter(t, hs.env.Store, "bump"); got != 1 {
		t.Errorf("bump counter %d, want 1", got)
	}
	if n := rej.count(reasonForeignTeam); n != 0 {
		t.Errorf("%d refusals counted with the check off", n)
	}
	const warning = "SLACK_TEAM_ID is not set"
	if err := hs.fake.Wait(func() bool { return strings.Contains(logs.String(), warning) }, waitFor); err != nil {
		t.Fatalf("no start-up warning that the workspace check is off:\n%s", logs)
	}
	if n := strings.Count(logs.String(), warning); n != 1 {
		t.Errorf("the warning was logged %d times, want once", n)
	}
}

// newTeamSocketHarness is newSocketHarness with the adapter expecting
// team and counting refusals in rej.
func newTeamSocketHarness(t *testing.T, team string, rej *rejects) *socketHarness {
	t.Helper()
	env := bottest.New(t, bottest.WithPlatforms(Platform()))
	release := make(chan struct{})
	env.Must(testCommands(env.Store, release)...)
	fake := slacktest.NewServer(t)
	a, err := New(Config{BotToken: "xoxb-test", AppToken: "xapp-1-test", APIURL: fake.APIURL(), Mode: ModeSocket, TeamID: team},
		WithRejectHook(rej.hook), WithLogger(slog.New(slog.NewTextHandler(&lockedBuffer{}, nil))))
	if err != nil {
		t.Fatal(err)
	}
	env.Bot.Out.AddAdapter(a)
	h := &countingHandler{h: env.Bot.Inbox}
	mounted := &durableCounting{countingHandler: h, bot: env.Bot}
	hs := &harness{t: t, env: env, fake: fake, a: a, h: h, mounted: mounted, release: release}
	a.Mount(http.NewServeMux(), mounted)
	hs.run()
	sh := &socketHarness{harness: hs, conn: acceptConn(t, fake)}
	sh.write(fixture(t, "socketmode_hello.json"))
	return sh
}

// slashPayload is a slash command as Socket Mode carries it: the form's
// fields as a JSON object.
func slashPayload(t *testing.T, form url.Values) []byte {
	t.Helper()
	m := map[string]string{}
	for k := range form {
		m[k] = form.Get(k)
	}
	return mustJSON(t, m)
}

// Socket Mode envelopes from another workspace are acknowledged (so
// Slack does not deliver them again) but reach nothing, and are counted;
// those from the configured workspace are handled.
func TestSocketModeEnvelopesFromAnotherWorkspaceAreRefused(t *testing.T) {
	rej := &rejects{}
	sh := newTeamSocketHarness(t, slacktest.TeamID, rej)
	form := slacktest.SlashCommand("/bump", "", "U0LINA", coordChat, "trig-sock-foreign", "")
	form.Set("team_id", otherTeam)
	for _, e := range []struct{ id, typ string }{{"env-f1", "events_api"}, {"env-f2", "slash_commands"}, {"env-f3", "interactive"}} {
		var payload []byte
		switch e.typ {
		case "events_api":
			payload = foreignEvent("EvSockForeign", otherTeam)
		case "slash_commands":
			payload = slashPayload(t, form)
		default:
			payload = teamClick(t, sh.fake, "trig-sock-foreign-click", otherTeam)
		}
		sh.write(envelope(t, e.id, e.typ, payload, 0))
		if ack := sh.awaitAck(e.id); ack["payload"] != nil {
			t.Errorf("%s refused with a payload: %v", e.typ, ack)
		}
	}
	sh.settle()
	if n := sh.h.n.Load(); n != 0 {
		t.Errorf("%d refused envelopes reached the bot", n)
	}
	if n := rej.count(reasonForeignTeam); n != 3 {
		t.Errorf("%d refusals counted, want 3", n)
	}
	if n := inboxSize(t, sh.env); n != 0 {
		t.Errorf("%d refused envelopes in the inbox", n)
	}

	sh.write(envelope(t, "env-own", "events_api", slacktest.AppMention("EvSockOwn", "U0WANGMING", coordChat, "<@U0XUNJIBOT> bump"), 0))
	sh.awaitAck("env-own")
	sh.fake.Await("chat.postEphemeral", 1)
	sh.settle()
	if got := counter(t, sh.env.Store, "bump"); got != 1 {
		t.Errorf("bump counter %d after an envelope from the configured workspace, want 1", got)
	}
}
