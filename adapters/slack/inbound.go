package slack

import (
	"context"
	"encoding/json"

	gojson "github.com/goccy/go-json"

	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/xunji-bot/xunji/bot"
)

// HelpCommand is the slash command whose text is a whole command line
// ("/xunji help", "/xunji roster list"); every other slash command names
// its verb ("/clue list" is "clue list").
const HelpCommand = "/xunji"

// origin says where a request came from, so its answer goes back there.
type origin struct {
	channel     string // channel of the request
	user        string // who sent it
	threadTS    string // thread to answer in, if the request was in one
	direct      bool   // a direct message channel
	responseURL string // slash commands and clicks: where to answer
	messageTS   string // clicks: the message that carried the card
	ephemeral   bool   // clicks: that message was ephemeral
	action      bool   // the request was a click
	// files are the files sent with the command, downloaded in the
	// background work before it runs (files_in.go).
	files []fileRef
}

// outerEvent is the part of an Events API body the adapter reads itself.
// Event is set only when the body was decoded apart from its inner
// event (decodeEvent).
type outerEvent struct {
	Type      string          `json:"type"`
	Challenge string          `json:"challenge"`
	EventID   string          `json:"event_id"`
	TeamID    string          `json:"team_id"`
	Event     json.RawMessage `json:"event"`
}

// innerEvent is the part of an app_mention or message event the adapter
// reads, decoded in one pass: slackevents' types took a pass to find the
// type and one or two more to decode (its MessageEvent decodes itself
// twice), a large part of the acknowledgement's CPU time.
type innerEvent struct {
	Type            string          `json:"type"`
	User            string          `json:"user"`
	BotID           string          `json:"bot_id"`
	Text            string          `json:"text"`
	Channel         string          `json:"channel"`
	ChannelType     string          `json:"channel_type"`
	SubType         string          `json:"subtype"`
	ThreadTimeStamp string          `json:"thread_ts"`
	Edited          json.RawMessage `json:"edited"`
	Files           []slackgo.File  `json:"files"`
	// Message holds the message of a subtype that nests it; a plain
	// message (file_share included) has its files at the top level, as
	// slackevents.MessageEvent reads it.
	Message *struct {
		Files []slackgo.File `json:"files"`
	} `json:"message"`
}

// edited reports whether the event is an edit of an earlier message.
func (e *innerEvent) edited() bool { return len(e.Edited) > 0 && string(e.Edited) != "null" }

// messageFiles are the files of a message event.
func (e *innerEvent) messageFiles() []slackgo.File {
	if e.Message != nil {
		return e.Message.Files
	}
	return e.Files
}

// errIgnored marks an event the bot does not act on.
var errIgnored = errors.New("event ignored")

// eventRequest turns an Events API body into a command request. It
// returns errIgnored for events that are not commands: the bot's own
// messages, edits and subtypes other than file_share (a message with
// files), channel messages without a mention.
// The decoded body comes with it, for the log line of an ignored event.
func (a *Adapter) eventRequest(body []byte) (*bot.Request, origin, outerEvent, *innerEvent, error) {
	outer, inner, err := decodeEvent(body)
	if err != nil {
		return nil, origin{}, outer, inner, fmt.Errorf("%w: %v", errIgnored, err)
	}
	if !a.teamAllowed(outer.TeamID, "event", outer.EventID) {
		return nil, origin{}, outer, inner, errForeignTeam
	}
	req, o, err := a.callbackRequest(outer, inner)
	return req, o, outer, inner, err
}

// decodedEvent is an Events API body decoded in one pass, the inner
// event with it.
type decodedEvent struct {
	Type      string     `json:"type"`
	Challenge string     `json:"challenge"`
	EventID   string     `json:"event_id"`
	TeamID    string     `json:"team_id"`
	Event     innerEvent `json:"event"`
}

// decodeEvent decodes an Events API body: the outer fields the adapter
// reads and, when it decodes as one, the inner event (nil otherwise).
// The common case takes one pass over the body; decoding the outer body
// and then its inner event again, as slackevents.ParseEvent does, was a
// sixth of the acknowledgement's CPU time. An inner event whose fields
// have other shapes (an event of a type the bot does not handle) makes
// the one pass fail; the outer body is then decoded alone, so that such
// an event is ignored rather than refused as malformed.
func decodeEvent(body []byte) (outerEvent, *innerEvent, error) {
	var d decodedEvent
	if err := gojson.Unmarshal(body, &d); err == nil {
		return outerEvent{Type: d.Type, Challenge: d.Challenge, EventID: d.EventID, TeamID: d.TeamID}, &d.Event, nil
	}
	var outer outerEvent
	if err := json.Unmarshal(body, &outer); err != nil {
		return outer, nil, err
	}
	return outer, nil, nil
}

// callbackRequest is eventRequest on a decoded body: outer, and its
// inner event when decodeEvent could decode it (nil: read from
// outer.Event, which then is an error or an event of another shape).
func (a *Adapter) callbackRequest(outer outerEvent, e *innerEvent) (*bot.Request, origin, error) {
	if outer.Type != slackevents.CallbackEvent {
		return nil, origin{}, fmt.Errorf("%w: outer type %q", errIgnored, outer.Type)
	}
	if e == nil {
		e = &innerEvent{}
		if err := json.Unmarshal(outer.Event, e); err != nil {
			return nil, origin{}, fmt.Errorf("%w: %v", errIgnored, err)
		}
	}
	eventID := outer.EventID
	self := a.knownBotUser()
	switch e.Type {
	case string(slackevents.AppMention):
		switch {
		case e.BotID != "" || e.User == "" || (self != "" && e.User == self):
			return nil, origin{}, fmt.Errorf("%w: bot mention", errIgnored)
		case e.edited():
			return nil, origin{}, fmt.Errorf("%w: edited mention", errIgnored)
		case strings.HasPrefix(e.Channel, "D"):
			// A direct message also arrives as message.im; answer that one.
			return nil, origin{}, fmt.Errorf("%w: mention in a direct message", errIgnored)
		}
		req := &bot.Request{
			Kind: bot.KindCommand, Platform: Name, EventID: eventID,
			UserID: e.User, UserName: a.Mention(e.User, ""), ChatID: e.Channel,
			Text: cleanText(e.Text, self),
		}
		return req, origin{channel: e.Channel, user: e.User, threadTS: e.ThreadTimeStamp, files: fileRefs(e.Files)}, nil
	case string(slackevents.Message):
		switch {
		case e.ChannelType != "im":
			return nil, origin{}, fmt.Errorf("%w: %s message without a mention", errIgnored, e.ChannelType)
		case e.SubType != "" && e.SubType != "file_share":
			return nil, origin{}, fmt.Errorf("%w: message subtype %q", errIgnored, e.SubType)
		case e.BotID != "" || e.User == "" || (self != "" && e.User == self):
			return nil, origin{}, fmt.Errorf("%w: bot message", errIgnored)
		}
		req := &bot.Request{
			Kind: bot.KindCommand, Platform: Name, EventID: eventID,
			UserID: e.User, UserName: a.Mention(e.User, ""), ChatID: e.Channel, Direct: true,
			Text: cleanText(e.Text, self),
		}
		o := origin{channel: e.Channel, user: e.User, threadTS: e.ThreadTimeStamp, direct: true}
		if e.SubType == "file_share" {
			o.files = fileRefs(e.messageFiles())
		}
		return req, o, nil
	default:
		return nil, origin{}, fmt.Errorf("%w: event %q", errIgnored, e.Type)
	}
}

// slashRequest turns a slash command into a command request.
func slashRequest(s slackgo.SlashCommand) (*bot.Request, origin) {
	text := html.UnescapeString(mentionArgs(strings.TrimSpace(s.Text)))
	if s.Command != HelpCommand {
		text = strings.TrimSpace(strings.TrimPrefix(s.Command, "/") + " " + text)
	} else if text == "" {
		text = "help"
	}
	direct := isDirect(s.ChannelID, s.ChannelName)
	req := &bot.Request{
		Kind: bot.KindCommand, Platform: Name, EventID: s.TriggerID,
		UserID: s.UserID, UserName: s.UserName, ChatID: s.ChannelID, Direct: direct,
		Text: text, ResponseURL: s.ResponseURL,
	}
	return req, origin{channel: s.ChannelID, user: s.UserID, direct: direct, responseURL: s.ResponseURL}
}

// actionRequest turns a Block Kit button click into an action request.
func actionRequest(ic *slackgo.InteractionCallback) (*bot.Request, origin, error) {
	if ic.Type != slackgo.InteractionTypeBlockActions {
		return nil, origin{}, fmt.Errorf("%w: interaction %q", errIgnored, ic.Type)
	}
	if len(ic.ActionCallback.BlockActions) == 0 {
		return nil, origin{}, fmt.Errorf("%w: block_actions without an action", errIgnored)
	}
	act := ic.ActionCallback.BlockActions[0]
	channel := ic.Container.ChannelID
	if channel == "" {
		channel = ic.Channel.ID
	}
	name := ic.User.Name
	if name == "" {
		name = ic.User.Username
	}
	eventID := ic.TriggerID
	if eventID == "" {
		eventID = ic.User.ID + ":" + act.ActionTs
	}
	direct := isDirect(channel, ic.Channel.Name)
	req := &bot.Request{
		Kind: bot.KindAction, Platform: Name, EventID: eventID,
		UserID: ic.User.ID, UserName: name, ChatID: channel, Direct: direct,
		Action: act.ActionID, Value: act.Value, ResponseURL: ic.ResponseURL,
		Message: bot.MessageRef{Platform: Name, ChatID: channel, ID: ic.Container.MessageTs},
	}
	o := origin{
		channel: channel, user: ic.User.ID, threadTS: ic.Container.ThreadTs, direct: direct,
		responseURL: ic.ResponseURL, messageTS: ic.Container.MessageTs,
		ephemeral: ic.Container.IsEphemeral, action: true,
	}
	return req, o, nil
}

func isDirect(channelID, channelName string) bool {
	return strings.HasPrefix(channelID, "D") || channelName == "directmessage"
}

var leadingMention = regexp.MustCompile(`^\s*<@[A-Z0-9]+(\|[^>]*)?>`)

// cleanText removes mentions of the bot from a message and undoes
// Slack's escaping of &, < and >.
func cleanText(text, self string) string {
	if self != "" {
		text = dropMention(text, self)
	} else {
		// Not knowing the bot's id, drop the mention that addressed it.
		text = leadingMention.ReplaceAllString(text, "")
	}
	return strings.TrimSpace(html.UnescapeString(mentionArgs(text)))
}

// userMention is Slack's markup of a user mention, <@U…> or <@U…|name>.
var userMention = regexp.MustCompile(`<@([UW][A-Z0-9]+)(?:\|([^>]*))?>`)

// slackLink is Slack's markup of a link, an e-mail address or a channel
// (<https://…|label>, <mailto:a@b|a@b>, <#C…|name>), which a message or
// an escaped slash command carries instead of what was typed.
var slackLink = regexp.MustCompile(`<(https?://[^|>]+|mailto:[^|>]+|#C[A-Z0-9]+)(?:\|([^>]*))?>`)

// mentionArgs turns the mentions of people left in text (the bot's own
// are gone) into the core's platform-neutral word (bot.MentionArg), which
// the roster resolves wherever a person is typed, and links back into
// what was typed.
func mentionArgs(text string) string {
	text = userMention.ReplaceAllStringFunc(text, func(m string) string {
		sm := userMention.FindStringSubmatch(m)
		return bot.MentionArg(Name, sm[1], html.UnescapeString(sm[2]))
	})
	return slackLink.ReplaceAllStringFunc(text, func(m string) string {
		sm := slackLink.FindStringSubmatch(m)
		switch {
		case strings.HasPrefix(sm[1], "mailto:"):
			return strings.TrimPrefix(sm[1], "mailto:")
		case strings.HasPrefix(sm[1], "#"):
			if sm[2] != "" {
				return "#" + sm[2]
			}
			return sm[1]
		default:
			return sm[1]
		}
	})
}

// dropMention removes every <@self> and <@self|name> from text.
func dropMention(text, self string) string {
	tag := "<@" + self
	var out strings.Builder
	for {
		i := strings.Index(text, tag)
		if i < 0 {
			break
		}
		rest := text[i+len(tag):]
		end := strings.IndexByte(rest, '>')
		if end < 0 || (end > 0 && rest[0] != '|') {
			// Another user whose id starts with ours, or no closing '>'.
			out.WriteString(text[:i+len(tag)])
			text = rest
			continue
		}
		out.WriteString(text[:i])
		text = rest[end+1:]
	}
	out.WriteString(text)
	return out.String()
}

// acceptTimeout bounds storing a request in the durable inbox, which
// happens before Slack gets its acknowledgement.
const acceptTimeout = 2 * time.Second

// delivery is how req, which came from o, is served (bot.Serve): its
// work tracked in a.jobs, its files fetched before it runs, its answer
// shown where it came from.
func (a *Adapter) delivery(h bot.Handler, req *bot.Request, o origin) bot.Delivery {
	d := bot.Delivery{
		Go:            a.jobs.start,
		AcceptTimeout: acceptTimeout,
		Timeout:       a.workTimeout,
		Plan:          func(resp *bot.Response) []bot.Reply { return a.plan(resp, o.action) },
		Deliver: func(ctx context.Context, _ int, r bot.Reply) (bot.Reply, error) {
			return a.deliverOne(ctx, o, r)
		},
		Log: a.log,
	}
	if len(o.files) > 0 {
		d.Prepare = func(ctx context.Context) {
			if bot.WantsFiles(h, req.Text) {
				a.fetchFiles(ctx, req, o.files)
			}
		}
	}
	return d
}

// handle serves one request (bot.Serve), acknowledged with ack. It
// reports false, without calling ack, when Slack must not be
// acknowledged: the request could not be accepted (the store is
// unreachable, or the adapter is shutting down), and Slack delivers it
// again.
func (a *Adapter) handle(ctx context.Context, h bot.Handler, req *bot.Request, o origin, ack func()) bool {
	if a.jobs.isClosed() {
		// Refused rather than stored: Slack delivers it again, to an
		// instance that is not shutting down.
		return false
	}
	d := a.delivery(h, req, o)
	d.Ack = func(context.Context, bot.Early) []bot.Reply { ack(); return nil }
	switch err := bot.Serve(ctx, h, req, d); {
	case err == nil:
		return true
	case errors.Is(err, bot.ErrInInbox):
		ack()
		return true
	default:
		return false
	}
}

// slash serves a slash command. If its answer is ready within ackWait
// and nothing older waits for the chat, its first message rides on the
// acknowledgement (when carry allows); ack is called exactly once, with
// nil for an empty acknowledgement. It reports false, without calling
// ack, when the command could not be accepted.
func (a *Adapter) slash(ctx context.Context, h bot.Handler, s slackgo.SlashCommand, carry bool, ack func(*message)) bool {
	req, o := slashRequest(s)
	if a.jobs.isClosed() {
		return false
	}
	ctx, _ = a.requestLog(ctx, req)
	d := a.delivery(h, req, o)
	if carry {
		d.Sync, d.SyncInOrder = a.ackWait, true
	}
	d.Ack = func(_ context.Context, e bot.Early) []bot.Reply {
		if e.Response == nil || e.Backlog {
			ack(nil)
			return nil
		}
		for i, r := range e.Replies {
			if r.Text == "" && r.Card == nil && len(r.Files) == 0 {
				continue
			}
			if r.Text == "" && r.Card == nil {
				break // files alone cannot ride on it
			}
			m := a.replyMessage(r)
			m.ResponseType = responseType(r)
			ack(&m)
			// The message went with the acknowledgement; its files cannot,
			// so they follow.
			left := append([]bot.Reply(nil), e.Replies...)
			left[i] = bot.Reply{Files: r.Files, Public: r.Public}
			return left
		}
		ack(nil)
		return nil
	}
	switch err := bot.Serve(ctx, h, req, d); {
	case err == nil:
		return true
	case errors.Is(err, bot.ErrInInbox):
		ack(nil)
		return true
	default:
		return false
	}
}
