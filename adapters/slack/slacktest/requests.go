package slacktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// The routes the adapter mounts (slack.PathEvents, slack.PathCommands,
// slack.PathInteractions; the adapter's tests check they agree).
const (
	PathEvents       = "/slack/events"
	PathCommands     = "/slack/commands"
	PathInteractions = "/slack/interactions"
)

// Content types of the three routes.
const (
	ContentJSON = "application/json"
	ContentForm = "application/x-www-form-urlencoded"
)

//go:embed fixtures/*.json fixtures/*.form
var fixtures embed.FS

// Fixture returns one of the embedded public Slack examples the builders
// start from (see fixtures/SOURCES.md): events_app_mention.json,
// events_message_channels.json, slash_command.form,
// interactivity_block_actions.json. It panics on an unknown name.
func Fixture(name string) []byte {
	b, err := fixtures.ReadFile("fixtures/" + name)
	if err != nil {
		panic("slacktest: " + err.Error())
	}
	return b
}

func fixtureMap(name string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal(Fixture(name), &m); err != nil {
		panic("slacktest: " + name + ": " + err.Error())
	}
	return m
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("slacktest: " + err.Error())
	}
	return b
}

// The builders below give every request the fake workspace's TeamID
// (team_id, team.id), as Slack names the workspace a request comes from.

// inTeam sets the workspace of an Events API body to TeamID.
func inTeam(m map[string]any) {
	m["team_id"] = TeamID
	auths, _ := m["authorizations"].([]any)
	for _, a := range auths {
		if a, ok := a.(map[string]any); ok {
			a["team_id"] = TeamID
		}
	}
}

// AppMention is an Events API app_mention body: user wrote text (which
// should start with <@BotUserID> as Slack delivers it) in channel.
func AppMention(eventID, user, channel, text string) []byte {
	m := fixtureMap("events_app_mention.json")
	inTeam(m)
	m["event_id"] = eventID
	ev := m["event"].(map[string]any)
	ev["user"], ev["channel"], ev["text"] = user, channel, text
	delete(ev, "blocks")
	return mustJSON(m)
}

// DirectMessage is an Events API message.im body: user wrote text in the
// direct message channel with the bot (DMChannel(user) is a good value
// for channel).
func DirectMessage(eventID, user, channel, text string) []byte {
	m := fixtureMap("events_message_channels.json")
	inTeam(m)
	m["event_id"] = eventID
	ev := m["event"].(map[string]any)
	ev["user"], ev["channel"], ev["channel_type"], ev["text"] = user, channel, "im", text
	return mustJSON(m)
}

// EditEvent returns an Events API body with its outer object and its
// inner event changed by edit, e.g. to add a subtype or a bot_id.
func EditEvent(body []byte, edit func(outer, event map[string]any)) []byte {
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		panic("slacktest: EditEvent: " + err.Error())
	}
	ev, _ := m["event"].(map[string]any)
	edit(m, ev)
	return mustJSON(m)
}

// SlashCommand is a slash command form: user typed "command text" in
// channel. responseURL is where the adapter may answer later
// (Server.ResponseURL(triggerID) lands on the fake).
func SlashCommand(command, text, user, channel, triggerID, responseURL string) url.Values {
	form, err := url.ParseQuery(string(Fixture("slash_command.form")))
	if err != nil {
		panic("slacktest: " + err.Error())
	}
	form.Set("team_id", TeamID)
	form.Set("command", command)
	form.Set("text", text)
	form.Set("user_id", user)
	form.Set("channel_id", channel)
	form.Set("trigger_id", triggerID)
	form.Set("response_url", responseURL)
	return form
}

// Click describes a press of a Block Kit button on a message.
type Click struct {
	User        string // who clicked (U…)
	Channel     string // channel of the message
	MessageTS   string // ts of the message carrying the button
	ActionID    string // the button's action_id
	Value       string // the button's value
	TriggerID   string // unique per click; the adapter's event id
	ResponseURL string // Server.ResponseURL(TriggerID) lands on the fake
	Ephemeral   bool   // the message was ephemeral
	Label       string // the button's text; the example's when empty
}

// BlockActions is the JSON payload of a block_actions interaction.
func BlockActions(c Click) []byte {
	m := fixtureMap("interactivity_block_actions.json")
	m["team"].(map[string]any)["id"] = TeamID
	m["user"].(map[string]any)["team_id"] = TeamID
	m["user"].(map[string]any)["id"] = c.User
	m["trigger_id"] = c.TriggerID
	m["response_url"] = c.ResponseURL
	m["container"] = map[string]any{"type": "message", "message_ts": c.MessageTS, "channel_id": c.Channel, "is_ephemeral": c.Ephemeral}
	m["channel"] = map[string]any{"id": c.Channel, "name": "xunji-coordination"}
	act := m["actions"].([]any)[0].(map[string]any)
	act["action_id"], act["value"] = c.ActionID, c.Value
	if c.Label != "" {
		act["text"] = map[string]any{"type": "plain_text", "text": c.Label, "emoji": true}
	}
	return mustJSON(m)
}

// InteractionBody is the form body Slack posts for an interaction
// payload: payload=<url-encoded JSON>.
func InteractionBody(payload []byte) []byte {
	return []byte("payload=" + url.QueryEscape(string(payload)))
}

// Signature is the v0 signature of body at timestamp ts (Unix seconds).
func Signature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// Sign returns the X-Slack-Request-Timestamp and X-Slack-Signature
// headers of body signed with secret at time at. The adapter (and
// slack-go) check the timestamp against the system clock, so sign at
// time.Now() unless a test is about the replay window.
func Sign(secret string, at time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", Signature(secret, ts, body))
	return h
}

// NewRequest builds a POST of body to baseURL+path with the content type,
// signed with secret at time at.
func NewRequest(baseURL, path, contentType string, body []byte, secret string, at time.Time) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodPost, baseURL+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", contentType)
	for k, v := range Sign(secret, at, body) {
		r.Header[k] = v
	}
	return r, nil
}

// Client posts signed requests to a server where the adapter is mounted.
type Client struct {
	URL    string           // base URL of the server with the adapter's routes
	Secret string           // signing secret
	Now    func() time.Time // signing time; time.Now when nil
	HTTP   *http.Client     // http.DefaultClient when nil
}

// Result is the adapter's answer to a request, body read.
type Result struct {
	Status int
	Header http.Header
	Body   []byte
}

// Post sends body to path with the content type, signed now.
func (c *Client) Post(path, contentType string, body []byte) (Result, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	r, err := NewRequest(c.URL, path, contentType, body, c.Secret, now())
	if err != nil {
		return Result{}, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(r)
	if err != nil {
		return Result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Result{Status: resp.StatusCode, Header: resp.Header, Body: b}, err
}

// Event posts an Events API body.
func (c *Client) Event(body []byte) (Result, error) { return c.Post(PathEvents, ContentJSON, body) }

// Command posts a slash command form.
func (c *Client) Command(form url.Values) (Result, error) {
	return c.Post(PathCommands, ContentForm, []byte(form.Encode()))
}

// Interaction posts an interaction payload (e.g. BlockActions).
func (c *Client) Interaction(payload []byte) (Result, error) {
	return c.Post(PathInteractions, ContentForm, InteractionBody(payload))
}

// Message is a slash command's answer carried on its acknowledgement.
type Message struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
	Blocks       []any  `json:"blocks"`
}

// Message parses a slash command acknowledgement body; ok is false when
// the acknowledgement was empty.
func (r Result) Message() (m Message, ok bool) {
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return Message{}, false
	}
	return m, json.Unmarshal(r.Body, &m) == nil
}

// Text returns every string in the answer body (JSON opened), one per line.
func (r Result) Text() string {
	var v any
	if json.Unmarshal(r.Body, &v) != nil {
		return string(r.Body)
	}
	var b bytes.Buffer
	for _, s := range leafStrings(v) {
		b.WriteString(s)
		b.WriteString("\n")
	}
	return b.String()
}

// Submission describes the submission of a modal (view_submission): who
// submitted which view, and the text typed in each plain-text field.
type Submission struct {
	User            string // who submitted (U…)
	ViewID          string // the view's id (V…)
	Hash            string // the view's hash; with ViewID it identifies the submission
	TriggerID       string // a new trigger for this interaction
	CallbackID      string // the callback_id the app gave the view
	PrivateMetadata string // the private_metadata the app gave the view
	// Values are the typed texts: block_id → action_id → text.
	Values map[string]map[string]string
}

// ViewSubmission is the JSON payload of a view_submission interaction,
// shaped like Slack's documented example
// (https://api.slack.com/reference/interaction-payloads/views).
func ViewSubmission(s Submission) []byte {
	values := map[string]any{}
	for block, actions := range s.Values {
		m := map[string]any{}
		for action, text := range actions {
			m[action] = map[string]any{"type": "plain_text_input", "value": text}
		}
		values[block] = m
	}
	return mustJSON(map[string]any{
		"type":       "view_submission",
		"team":       map[string]any{"id": TeamID, "domain": "xunji-demo"},
		"user":       map[string]any{"id": s.User, "username": "user", "name": "user", "team_id": TeamID},
		"api_app_id": "A0XUNJI",
		"token":      "verification-token",
		"trigger_id": s.TriggerID,
		"view": map[string]any{
			"id": s.ViewID, "team_id": TeamID, "type": "modal", "hash": s.Hash,
			"callback_id": s.CallbackID, "private_metadata": s.PrivateMetadata,
			"state":  map[string]any{"values": values},
			"app_id": "A0XUNJI", "bot_id": BotID,
		},
		"response_urls":         []any{},
		"is_enterprise_install": false,
	})
}

// SubmitView is the view_submission of the modal a views.open call
// opened, by user, with text typed in each of its plain-text fields.
func SubmitView(open Call, user, viewID, text string) []byte {
	view := open.View()
	s := Submission{User: user, ViewID: viewID, Hash: "h-" + viewID, TriggerID: "trig-" + viewID, Values: map[string]map[string]string{}}
	s.CallbackID, _ = view["callback_id"].(string)
	s.PrivateMetadata, _ = view["private_metadata"].(string)
	walk(view["blocks"], func(m map[string]any) {
		if m["type"] != "input" {
			return
		}
		el, _ := m["element"].(map[string]any)
		if el == nil || el["type"] != "plain_text_input" {
			return
		}
		block, _ := m["block_id"].(string)
		action, _ := el["action_id"].(string)
		if s.Values[block] == nil {
			s.Values[block] = map[string]string{}
		}
		s.Values[block][action] = text
	})
	return ViewSubmission(s)
}
