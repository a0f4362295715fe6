package slack

import (
	"context"
	"encoding/json"
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
type outerEvent struct {
	Type      string          `json:"type"`
	Challenge string          `json:"challenge"`
	EventID   string          `json:"event_id"`
	TeamID    string          `json:"team_id"`
	Event     json.RawMessage `json:"event"`
}

// errIgnored marks an event the bot does not act on.
var errIgnored = errors.New("event ignored")

// eventRequest turns an Events API body into a command request. It
// returns errIgnored for events that are not commands: the bot's own
// messages, edits and subtypes other than file_share (a message with
// files), channel messages without a mention.
func (a *Adapter) eventRequest(body []byte) (*bot.Request, origin, error) {
	var outer outerEvent
	if err := json.Unmarshal(body, &outer); err != nil {
		return nil, origin{}, fmt.Errorf("%w: %v", errIgnored, err)
	}
	if !a.teamAllowed(outer.TeamID, "event", outer.EventID) {
		return nil, origin{}, errForeignTeam
	}
	return a.callbackRequest(outer)
}

// callbackRequest is eventRequest on a decoded body. The inner event is
// decoded into slackevents' type for it, as slackevents.ParseEvent does,
// but without decoding the outer body again (ParseEvent's several passes
// were a tenth of the acknowledgement's CPU time).
func (a *Adapter) callbackRequest(outer outerEvent) (*bot.Request, origin, error) {
	if outer.Type != slackevents.CallbackEvent {
		return nil, origin{}, fmt.Errorf("%w: outer type %q", errIgnored, outer.Type)
	}
	var inner struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(outer.Event, &inner); err != nil {
		return nil, origin{}, fmt.Errorf("%w: %v", errIgnored, err)
	}
	var data any
	switch inner.Type {
	case string(slackevents.AppMention):
		data = &slackevents.AppMentionEvent{}
	case string(slackevents.Message):
		data = &slackevents.MessageEvent{}
	default:
		return nil, origin{}, fmt.Errorf("%w: event %q", errIgnored, inner.Type)
	}
	if err := json.Unmarshal(outer.Event, data); err != nil {
		return nil, origin{}, fmt.Errorf("%w: %v", errIgnored, err)
	}
	eventID := outer.EventID
	self := a.knownBotUser()
	switch e := data.(type) {
	case *slackevents.AppMentionEvent:
		switch {
		case e.BotID != "" || e.User == "" || (self != "" && e.User == self):
			return nil, origin{}, fmt.Errorf("%w: bot mention", errIgnored)
		case e.Edited != nil:
			return nil, origin{}, fmt.Errorf("%w: edited mention", errIgnored)
		case strings.HasPrefix(e.Channel, "D"):
			// A direct message also arrives as message.im; answer that one.
			return nil, origin{}, fmt.Errorf("%w: mention in a direct message", errIgnored)
		}
		req := &bot.Request{
			Kind: bot.KindCommand, Platform: bot.Slack, EventID: eventID,
			UserID: e.User, UserName: a.Mention(e.User, ""), ChatID: e.Channel,
			Text: cleanText(e.Text, self),
		}
		return req, origin{channel: e.Channel, user: e.User, threadTS: e.ThreadTimeStamp, files: fileRefs(e.Files)}, nil
	case *slackevents.MessageEvent:
		switch {
		case e.ChannelType != "im":
			return nil, origin{}, fmt.Errorf("%w: %s message without a mention", errIgnored, e.ChannelType)
		case e.SubType != "" && e.SubType != "file_share":
			return nil, origin{}, fmt.Errorf("%w: message subtype %q", errIgnored, e.SubType)
		case e.BotID != "" || e.User == "" || (self != "" && e.User == self):
			return nil, origin{}, fmt.Errorf("%w: bot message", errIgnored)
		}
		req := &bot.Request{
			Kind: bot.KindCommand, Platform: bot.Slack, EventID: eventID,
			UserID: e.User, UserName: a.Mention(e.User, ""), ChatID: e.Channel, Direct: true,
			Text: cleanText(e.Text, self),
		}
		o := origin{channel: e.Channel, user: e.User, threadTS: e.ThreadTimeStamp, direct: true}
		if e.SubType == "file_share" && e.Message != nil {
			o.files = fileRefs(e.Message.Files)
		}
		return req, o, nil
	default:
		return nil, origin{}, fmt.Errorf("%w: event %q", errIgnored, inner.Type)
	}
}

// slashRequest turns a slash command into a command request.
func slashRequest(s slackgo.SlashCommand) (*bot.Request, origin) {
	text := html.UnescapeString(strings.TrimSpace(s.Text))
	if s.Command != HelpCommand {
		text = strings.TrimSpace(strings.TrimPrefix(s.Command, "/") + " " + text)
	} else if text == "" {
		text = "help"
	}
	direct := isDirect(s.ChannelID, s.ChannelName)
	req := &bot.Request{
		Kind: bot.KindCommand, Platform: bot.Slack, EventID: s.TriggerID,
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
		Kind: bot.KindAction, Platform: bot.Slack, EventID: eventID,
		UserID: ic.User.ID, UserName: name, ChatID: channel, Direct: direct,
		Action: act.ActionID, Value: act.Value, ResponseURL: ic.ResponseURL,
		Message: bot.MessageRef{Platform: bot.Slack, ChatID: channel, ID: ic.Container.MessageTs},
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
	return strings.TrimSpace(html.UnescapeString(text))
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

// work is one accepted request's processing: the core's answer.
type work func(ctx context.Context) *bot.Response

// finish tells the core the answer went out (the durable inbox lets the
// request go); a no-op without an inbox.
type finish func(ctx context.Context)

// begin readies req for background processing. With a durable handler
// (bot.DurableHandler, which *bot.Bot is) the request is stored first, so
// a process that dies after acknowledging leaves it for recovery; dup
// reports a platform retry of a request already accepted, to acknowledge
// and drop. An error means the request was not accepted: do not
// acknowledge, so that Slack delivers it again.
func (a *Adapter) begin(ctx context.Context, h bot.Handler, req *bot.Request) (w work, done finish, durable, dup bool, err error) {
	dh, ok := h.(bot.DurableHandler)
	if !ok {
		return func(ctx context.Context) *bot.Response { return h.Handle(ctx, req) }, func(context.Context) {}, false, false, nil
	}
	actx, cancel := context.WithTimeout(ctx, acceptTimeout)
	defer cancel()
	ticket, dup, err := dh.Accept(actx, req)
	if err != nil || dup {
		return nil, nil, true, dup, err
	}
	return func(ctx context.Context) *bot.Response { return dh.Process(ctx, ticket, req) },
		func(ctx context.Context) { dh.Done(ctx, ticket, req) }, true, false, nil
}

// handle accepts one request and runs it in the background, delivering
// its answer where it came from. It reports whether Slack may be
// acknowledged: false when the request could not be accepted (the store
// is unreachable, or the adapter is shutting down and has no inbox).
func (a *Adapter) handle(parent context.Context, h bot.Handler, req *bot.Request, o origin) bool {
	if a.jobs.isClosed() {
		return false
	}
	w, done, durable, dup, err := a.begin(parent, h, req)
	if err != nil {
		a.log.Error("slack request not accepted", "event", req.EventID, "err", err)
		return false
	}
	if dup {
		a.log.Info("duplicate slack event dropped", "event", req.EventID)
		return true
	}
	started := a.jobs.start(func() {
		ctx, cancel := a.workContext(parent)
		defer cancel()
		if len(o.files) > 0 && bot.WantsFiles(h, req.Text) {
			a.fetchFiles(ctx, req, o.files)
		}
		a.deliver(ctx, h, req, o, a.plan(w(ctx), o.action), 0)
		done(ctx)
	})
	if !started && durable {
		a.log.Info("slack request left in the inbox for recovery", "event", req.EventID)
		return true
	}
	return started
}

// workContext is the context of background work: it keeps the values of
// parent but not its cancellation, since the request that started the
// work has already been answered.
func (a *Adapter) workContext(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), a.workTimeout)
}

// slash runs a slash command in the background. If the answer is ready
// within ackWait, its first message rides on the acknowledgement; ack is
// called exactly once, with nil for an empty acknowledgement. It reports
// false, without calling ack, when the command could not be accepted.
func (a *Adapter) slash(parent context.Context, h bot.Handler, s slackgo.SlashCommand, ack func(*message)) bool {
	req, o := slashRequest(s)
	if a.jobs.isClosed() {
		return false
	}
	w, done, durable, dup, err := a.begin(parent, h, req)
	if err != nil {
		a.log.Error("slack command not accepted", "trigger", req.EventID, "err", err)
		return false
	}
	if dup {
		ack(nil)
		return true
	}
	ready := make(chan []bot.Reply, 1)
	taken := make(chan bool, 1)
	started := a.jobs.start(func() {
		ctx, cancel := a.workContext(parent)
		defer cancel()
		replies := a.plan(w(ctx), false)
		// The first message may ride on the acknowledgement only when
		// nothing older waits for the chat: the turn is held until the
		// answer is out, so nothing overtakes it meanwhile.
		turn, backlog, release := bot.Turn(ctx, h, req)
		defer release()
		if backlog {
			ready <- nil
		} else {
			ready <- replies
		}
		first := 0
		if <-taken {
			// The first message went with the acknowledgement; its files
			// cannot, so they follow.
			if err := a.deliverFiles(turn, o, replies[0]); err != nil {
				a.log.Error("slack files not delivered", "channel", o.channel, "user", o.user, "err", err)
				bot.HandOver(turn, h, req, 0, bot.Reply{Files: replies[0].Files, Public: replies[0].Public}, a.log)
				backlog = true // the rest queues behind them
			}
			replies, first = replies[1:], 1
		}
		if backlog {
			for i, r := range replies {
				bot.HandOver(turn, h, req, first+i, r, a.log)
			}
		} else {
			a.deliver(turn, h, req, o, replies, first)
		}
		done(ctx)
	})
	if !started {
		if durable {
			ack(nil) // left in the inbox for recovery
		}
		return durable
	}
	timer := time.NewTimer(a.ackWait)
	defer timer.Stop()
	select {
	case replies := <-ready:
		if len(replies) == 0 {
			ack(nil)
			taken <- false
			return true
		}
		m := a.replyMessage(replies[0])
		m.ResponseType = responseType(replies[0])
		ack(&m)
		taken <- true
	case <-timer.C:
		ack(nil)
		taken <- false
	}
	return true
}
