package slack

import (
	"regexp"
	"strings"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/xunji-bot/xunji/bot"
)

// Block Kit limits, in characters.
const (
	maxHeader      = 150
	maxSection     = 3000
	maxField       = 2000
	maxButtonText  = 75
	maxButtonValue = 2000
	maxFields      = 10 // per section
	maxElements    = 25 // per actions block
)

// colorMark stands in for card colours, which Block Kit does not have.
var colorMark = map[bot.Color]string{
	bot.Blue:   "🔵 ",
	bot.Green:  "🟢 ",
	bot.Orange: "🟠 ",
	bot.Red:    "🔴 ",
	bot.Grey:   "⚪ ",
}

// cardBlocks renders a card: a header with the colour mark, the text,
// the fields, the buttons and the note as context.
func cardBlocks(c *bot.Card) []slackgo.Block {
	var blocks []slackgo.Block
	if title := strings.TrimSpace(colorMark[c.Color] + c.Title); title != "" {
		blocks = append(blocks, slackgo.NewHeaderBlock(plain(truncate(title, maxHeader))))
	}
	if c.Text != "" {
		blocks = append(blocks, textSections(escape(c.Text))...)
	}
	for i := 0; i < len(c.Fields); i += maxFields {
		var fields []*slackgo.TextBlockObject
		for _, f := range c.Fields[i:min(i+maxFields, len(c.Fields))] {
			fields = append(fields, mrkdwn(truncate("*"+escape(f.Label)+"*\n"+escape(f.Value), maxField)))
		}
		blocks = append(blocks, slackgo.NewSectionBlock(nil, fields, nil))
	}
	blocks = append(blocks, actionBlocks(c.Buttons)...)
	if c.Note != "" {
		blocks = append(blocks, slackgo.NewContextBlock("", mrkdwn(truncate(escape(c.Note), maxSection))))
	}
	return blocks
}

// actionBlocks puts the buttons in actions blocks. An action id must be
// unique within its block, so a button whose action is already in the
// current block (two "sign" buttons for two records) starts a new one.
func actionBlocks(buttons []bot.Button) []slackgo.Block {
	var blocks []slackgo.Block
	var cur []slackgo.BlockElement
	seen := map[string]bool{}
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, slackgo.NewActionBlock("", cur...))
		}
		cur, seen = nil, map[string]bool{}
	}
	for _, b := range buttons {
		if seen[b.Action] || len(cur) == maxElements {
			flush()
		}
		seen[b.Action] = true
		btn := slackgo.NewButtonBlockElement(b.Action, buttonValue(b), plain(truncate(b.Label, maxButtonText)))
		switch b.Style {
		case "primary":
			btn.WithStyle(slackgo.StylePrimary)
		case "danger":
			btn.WithStyle(slackgo.StyleDanger)
		}
		cur = append(cur, btn)
	}
	flush()
	return blocks
}

// cardFallback is the plain text of a card, for notifications and
// clients that show no blocks.
func cardFallback(c *bot.Card) string {
	if c.Text == "" {
		return escape(c.Title)
	}
	return escape(c.Title + "\n" + c.Text)
}

// textSections splits escaped mrkdwn into sections within the limit,
// at line breaks where it can.
func textSections(text string) []slackgo.Block {
	var blocks []slackgo.Block
	for text != "" {
		part := text
		if utf8.RuneCountInString(part) > maxSection {
			part = string([]rune(part)[:maxSection])
			if i := strings.LastIndex(part, "\n"); i > 0 {
				part = part[:i+1]
			}
		}
		text = text[len(part):]
		if strings.TrimSpace(part) != "" {
			blocks = append(blocks, slackgo.NewSectionBlock(mrkdwn(part), nil, nil))
		}
	}
	return blocks
}

func plain(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.PlainTextType, s, true, false)
}

func mrkdwn(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, s, false, false)
}

// truncate cuts s to at most n characters, marking the cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// slackToken matches Slack's own markup that must survive escaping:
// mentions <@U…>, channel links <#C…>, special mentions <!here> and
// links <https://…|label>.
var slackToken = regexp.MustCompile(`<(?:[@#!][A-Za-z0-9^|_.\-]+|https?://[^<>\s]+)>`)

// escape escapes &, < and > for Slack's mrkdwn, keeping Slack markup
// such as the mentions the core rendered with Mention.
func escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var out strings.Builder
	last := 0
	for _, m := range slackToken.FindAllStringIndex(s, -1) {
		out.WriteString(escapeRaw(s[last:m[0]]))
		out.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	out.WriteString(escapeRaw(s[last:]))
	return out.String()
}

var rawEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func escapeRaw(s string) string { return rawEscaper.Replace(s) }
