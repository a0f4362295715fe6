package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/xunji-bot/xunji/bot"
)

// A button with a Prompt (bot.Button.Prompt) opens a modal with one
// free-text field before its click reaches the bot:
//
//  1. The button's value carries the prompt: promptPrefix followed by
//     the JSON of promptValue. Keeping it in the value, not in memory,
//     lets a card posted before a restart still open its modal.
//  2. The click (block_actions) does not go to the bot: the adapter calls
//     views.open with the click's trigger_id. The modal's title and submit
//     button are the button's label (catalog text, so the adapter shows
//     no words of its own); its close button is Slack's default. The
//     modal's private_metadata (promptMeta) keeps what the click would
//     have carried: action, value, channel, message ts, response_url.
//  3. The submission (view_submission) becomes the action request, with
//     Input the text typed, through the durable inbox like any click; its
//     answer goes where the click's would have gone (chat.update of the
//     card, the toast as an ephemeral line). Slack gets an empty 200,
//     which closes the modal.
//
// If views.open fails (the trigger expired, Slack is down) the click goes
// to the bot without Input, whose answer says what to type instead.

// promptPrefix marks a button value that carries a prompt.
const promptPrefix = "xunji.prompt:"

// promptCallbackID is the callback_id of the adapter's modals, so that a
// submission of another view is not taken for one.
const promptCallbackID = "xunji.prompt"

// The block and action id of the modal's text field.
const (
	promptBlockID  = "xunji_input"
	promptActionID = "xunji_input"
)

// Block Kit limits of a modal, in characters.
const (
	maxModalTitle  = 24
	maxModalSubmit = 24
	maxInputLabel  = 2000
	maxMetadata    = 3000
	maxInputText   = 3000
)

// viewsOpenTimeout bounds views.open: a trigger_id is valid for three
// seconds, and the click's acknowledgement waits for it.
const viewsOpenTimeout = 2500 * time.Millisecond

// promptValue is what a prompt button's value carries.
type promptValue struct {
	Value  string `json:"v"`
	Prompt string `json:"p"`
}

// promptMeta is a modal's private_metadata: the click the modal stands
// for.
type promptMeta struct {
	Action      string `json:"a"`
	Value       string `json:"v"`
	Channel     string `json:"c,omitempty"`
	ChannelName string `json:"n,omitempty"`
	MessageTS   string `json:"m,omitempty"`
	ThreadTS    string `json:"t,omitempty"`
	Ephemeral   bool   `json:"e,omitempty"`
	ResponseURL string `json:"r,omitempty"`
}

// marshal encodes v without escaping <, > and &, which would cost
// characters of Slack's limits for nothing.
func marshal(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // plain structs of strings cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

// buttonValue is the value a button is rendered with: its own, or for a
// button with a prompt the prompt and the value together. A prompt is
// shortened to fit maxButtonValue; a value too long to leave room for a
// prompt is sent alone, and its click answers without a form.
func buttonValue(b bot.Button) string {
	if b.Prompt == "" {
		return truncate(b.Value, maxButtonValue)
	}
	prompt := truncate(b.Prompt, maxInputLabel)
	for {
		s := promptPrefix + marshal(promptValue{Value: b.Value, Prompt: prompt})
		n := utf8.RuneCountInString(s)
		if n <= maxButtonValue {
			return s
		}
		keep := utf8.RuneCountInString(prompt) - (n - maxButtonValue)
		if keep < 10 {
			return truncate(b.Value, maxButtonValue)
		}
		prompt = truncate(prompt, keep)
	}
}

// parsePrompt reads a prompt button's value; ok is false for any other.
func parsePrompt(value string) (promptValue, bool) {
	rest, ok := strings.CutPrefix(value, promptPrefix)
	if !ok {
		return promptValue{}, false
	}
	var p promptValue
	if json.Unmarshal([]byte(rest), &p) != nil || p.Prompt == "" {
		return promptValue{}, false
	}
	return p, true
}

// interaction handles one interaction payload, from the HTTP route or
// Socket Mode, and acknowledges it with ack. It reports false, without
// calling ack, when the request could not be accepted: Slack should
// deliver it again.
func (a *Adapter) interaction(ctx context.Context, h bot.Handler, ic *slackgo.InteractionCallback, ack func()) bool {
	if ic.Type == slackgo.InteractionTypeViewSubmission {
		req, o, err := submissionRequest(ic)
		if err != nil {
			a.eventLog("view:"+ic.View.ID+":"+ic.View.Hash, ic.User.ID).Debug("slack view submission not handled", "reason", err)
			ack()
			return true
		}
		ctx, _ = a.requestLog(ctx, req)
		return a.handle(ctx, h, req, o, ack)
	}
	req, o, err := actionRequest(ic)
	if err != nil {
		a.eventLog(ic.TriggerID, ic.User.ID).Debug("slack interaction not handled", "reason", err)
		ack()
		return true
	}
	ctx, _ = a.requestLog(ctx, req)
	if p, ok := parsePrompt(req.Value); ok {
		req.Value = p.Value
		if a.openPrompt(ctx, ic, req, p.Prompt) {
			ack()
			return true
		}
	}
	return a.handle(ctx, h, req, o, ack)
}

// openPrompt opens the modal of a prompt button's click; false when it
// could not.
func (a *Adapter) openPrompt(ctx context.Context, ic *slackgo.InteractionCallback, req *bot.Request, prompt string) bool {
	if ic.TriggerID == "" {
		return false
	}
	meta := marshal(promptMeta{
		Action: req.Action, Value: req.Value, Channel: req.ChatID, ChannelName: ic.Channel.Name,
		MessageTS: ic.Container.MessageTs, ThreadTS: ic.Container.ThreadTs, Ephemeral: ic.Container.IsEphemeral,
		ResponseURL: req.ResponseURL,
	})
	if utf8.RuneCountInString(meta) > maxMetadata {
		bot.Log(ctx, a.log).Warn("slack prompt metadata too long; answering the click without a form", "action", req.Action)
		return false
	}
	label := ""
	if acts := ic.ActionCallback.BlockActions; len(acts) > 0 {
		label = strings.TrimSpace(acts[0].Text.Text)
	}
	if label == "" {
		label = prompt
	}
	input := slackgo.NewPlainTextInputBlockElement(nil, promptActionID).WithMultiline(true).WithMaxLength(maxInputText)
	view := slackgo.ModalViewRequest{
		Type:            slackgo.VTModal,
		CallbackID:      promptCallbackID,
		Title:           plain(truncate(label, maxModalTitle)),
		Submit:          plain(truncate(label, maxModalSubmit)),
		Blocks:          slackgo.Blocks{BlockSet: []slackgo.Block{slackgo.NewInputBlock(promptBlockID, plain(prompt), nil, input)}},
		PrivateMetadata: meta,
	}
	octx, cancel := context.WithTimeout(ctx, viewsOpenTimeout)
	defer cancel()
	if _, err := a.api.OpenViewContext(octx, ic.TriggerID, view); err != nil {
		bot.Log(ctx, a.log).Warn("slack views.open failed; answering the click without a form", "action", req.Action, "err", err)
		return false
	}
	return true
}

// submissionRequest turns the submission of a prompt modal into the
// action request of the click that opened it, with Input the text typed.
func submissionRequest(ic *slackgo.InteractionCallback) (*bot.Request, origin, error) {
	v := ic.View
	if v.CallbackID != promptCallbackID {
		return nil, origin{}, fmt.Errorf("%w: view %q", errIgnored, v.CallbackID)
	}
	var m promptMeta
	if err := json.Unmarshal([]byte(v.PrivateMetadata), &m); err != nil || m.Action == "" {
		return nil, origin{}, fmt.Errorf("%w: view without its click", errIgnored)
	}
	input := ""
	if v.State != nil {
		input = v.State.Values[promptBlockID][promptActionID].Value
	}
	name := ic.User.Name
	if name == "" {
		name = ic.User.Username
	}
	// A view is submitted once; a redelivery carries the same id and hash.
	eventID := "view:" + v.ID + ":" + v.Hash
	direct := isDirect(m.Channel, m.ChannelName)
	req := &bot.Request{
		Kind: bot.KindAction, Platform: Name, EventID: eventID,
		UserID: ic.User.ID, UserName: name, ChatID: m.Channel, Direct: direct,
		Action: m.Action, Value: m.Value, Input: strings.TrimSpace(input), ResponseURL: m.ResponseURL,
		Message: bot.MessageRef{Platform: Name, ChatID: m.Channel, ID: m.MessageTS},
	}
	o := origin{
		channel: m.Channel, user: ic.User.ID, threadTS: m.ThreadTS, direct: direct,
		responseURL: m.ResponseURL, messageTS: m.MessageTS, ephemeral: m.Ephemeral, action: true,
	}
	return req, o, nil
}
