package slack

import (
	"bytes"
	"context"
	"fmt"

	slackgo "github.com/slack-go/slack"

	"github.com/xunji-bot/xunji/bot"
)

// message is a rendered Slack message, in the JSON form a slash command
// acknowledgement (or its Socket Mode payload) carries.
type message struct {
	ResponseType string          `json:"response_type,omitempty"`
	Text         string          `json:"text"`
	Blocks       []slackgo.Block `json:"blocks,omitempty"`
}

func (m message) options() []slackgo.MsgOption {
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(m.Text, false)}
	if len(m.Blocks) > 0 {
		opts = append(opts, slackgo.MsgOptionBlocks(m.Blocks...))
	}
	return opts
}

func responseType(r bot.Reply) string {
	if r.Public {
		return slackgo.ResponseTypeInChannel
	}
	return slackgo.ResponseTypeEphemeral
}

// plan lists the messages a response shows, index for index with its
// replies (bot.Delivery.Plan): a reply with nothing to show stays in its
// place, empty. A toast is shown as a private line after them only when
// nothing else tells the user what happened: no reply at all, or (for a
// click) only the card updated in place.
func (a *Adapter) plan(resp *bot.Response, action bool) []bot.Reply {
	if resp == nil || resp.Duplicate {
		return nil
	}
	replies := make([]bot.Reply, 0, len(resp.Replies)+1)
	shown := false
	for _, r := range resp.Replies {
		if r.Text == "" && r.Card == nil && len(r.Files) == 0 {
			replies = append(replies, bot.Reply{})
			continue
		}
		if !action {
			r.Replace = false
		}
		replies = append(replies, r)
		if !r.Replace {
			shown = true
		}
	}
	if resp.Toast != "" && !shown {
		replies = append(replies, bot.Reply{Text: resp.Toast})
	}
	return replies
}

// deliverOne delivers r; on failure it returns the part of r still to
// deliver (all of it, or its files once the message went out).
func (a *Adapter) deliverOne(ctx context.Context, o origin, r bot.Reply) (bot.Reply, error) {
	if r.Text != "" || r.Card != nil {
		if err := a.deliverMessage(ctx, o, r); err != nil {
			return r, err
		}
	}
	if err := a.deliverFiles(ctx, o, r); err != nil {
		return bot.Reply{Files: r.Files, Public: r.Public}, err
	}
	return bot.Reply{}, nil
}

// deliverFiles uploads a reply's files. A file shared in a channel is
// seen by everyone there, so the files of a private reply go to the
// person's direct message with the bot instead.
func (a *Adapter) deliverFiles(ctx context.Context, o origin, r bot.Reply) error {
	if len(r.Files) == 0 {
		return nil
	}
	channel, thread := o.channel, o.threadTS
	if !r.Public && !o.direct {
		dm, err := a.directChannel(ctx, o.user)
		if err != nil {
			return err
		}
		channel, thread = dm, ""
	}
	for _, f := range r.Files {
		if _, err := a.upload(ctx, channel, thread, f); err != nil {
			return err
		}
	}
	return nil
}

// upload shares one file in channel (files.getUploadURLExternal, the
// upload, files.completeUploadExternal) and returns its file id.
func (a *Adapter) upload(ctx context.Context, channel, thread string, f bot.File) (string, error) {
	if len(f.Data) == 0 {
		return "", fmt.Errorf("slack: file %q is empty", f.Name)
	}
	name := f.Name
	if name == "" {
		name = "file"
	}
	sum, err := a.api.UploadFileContext(ctx, slackgo.UploadFileParameters{
		Reader: bytes.NewReader(f.Data), FileSize: len(f.Data), Filename: name, Title: name,
		Channel: channel, ThreadTimestamp: thread,
	})
	if err != nil {
		return "", classify("files upload", err)
	}
	return sum.ID, nil
}

func (a *Adapter) deliverMessage(ctx context.Context, o origin, r bot.Reply) error {
	m := a.replyMessage(r)
	switch {
	case r.Replace && o.messageTS != "" && !o.ephemeral && o.channel != "":
		_, _, _, err := a.api.UpdateMessageContext(ctx, o.channel, o.messageTS, m.options()...)
		return wrap("chat.update", err)
	case r.Replace && o.responseURL != "":
		_, _, err := a.api.PostMessageContext(ctx, "", append(m.options(), slackgo.MsgOptionReplaceOriginal(o.responseURL))...)
		return wrap("response_url replace", err)
	case o.responseURL != "" && !o.action:
		// A slash command may come from a channel the bot is not in, or a
		// direct message between two people; its response_url reaches it.
		_, _, err := a.api.PostMessageContext(ctx, "", append(m.options(), slackgo.MsgOptionResponseURL(o.responseURL, responseType(r)))...)
		return wrap("response_url", err)
	case r.Public || o.direct:
		opts := m.options()
		if o.threadTS != "" {
			opts = append(opts, slackgo.MsgOptionTS(o.threadTS))
		}
		if err := a.pace.wait(ctx, o.channel); err != nil {
			return err
		}
		_, _, err := a.api.PostMessageContext(ctx, o.channel, opts...)
		return wrap("chat.postMessage", err)
	case o.responseURL != "":
		_, _, err := a.api.PostMessageContext(ctx, "", append(m.options(), slackgo.MsgOptionResponseURL(o.responseURL, slackgo.ResponseTypeEphemeral))...)
		return wrap("response_url", err)
	default:
		opts := m.options()
		if o.threadTS != "" {
			opts = append(opts, slackgo.MsgOptionTS(o.threadTS))
		}
		if err := a.pace.wait(ctx, o.channel); err != nil {
			return err
		}
		_, err := a.api.PostEphemeralContext(ctx, o.channel, o.user, opts...)
		return wrap("chat.postEphemeral", err)
	}
}

func wrap(method string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", method, err)
}

// replyMessage renders one reply: its text, then its card.
func (a *Adapter) replyMessage(r bot.Reply) message {
	var blocks []slackgo.Block
	text := escape(r.Text)
	if r.Card != nil {
		if r.Text != "" {
			blocks = append(blocks, textSections(text)...)
		} else {
			text = cardFallback(r.Card)
		}
		blocks = append(blocks, cardBlocks(r.Card)...)
	}
	return message{Text: text, Blocks: blocks}
}
