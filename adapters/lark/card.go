package lark

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/xunji-bot/xunji/bot"
)

// Card JSON 2.0 (https://open.feishu.cn/document/feishu-cards/card-json-v2-structure).
type card struct {
	Schema string     `json:"schema"`
	Config cardConfig `json:"config"`
	Header cardHeader `json:"header"`
	Body   cardBody   `json:"body"`
}

type cardConfig struct {
	UpdateMulti bool `json:"update_multi"` // JSON 2.0 only supports true
}

type cardHeader struct {
	Title    plainText `json:"title"`
	Template string    `json:"template"`
}

type plainText struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

type cardBody struct {
	Elements []any `json:"elements"`
}

type markdown struct {
	Tag       string `json:"tag"`
	Content   string `json:"content"`
	TextSize  string `json:"text_size,omitempty"`
	TextColor string `json:"text_color,omitempty"`
}

type hr struct {
	Tag string `json:"tag"`
}

type columnSet struct {
	Tag               string   `json:"tag"`
	FlexMode          string   `json:"flex_mode"`
	HorizontalSpacing string   `json:"horizontal_spacing"`
	Columns           []column `json:"columns"`
}

type column struct {
	Tag      string `json:"tag"`
	Width    string `json:"width"`
	Elements []any  `json:"elements"`
}

type button struct {
	Tag       string     `json:"tag"`
	Text      plainText  `json:"text"`
	Type      string     `json:"type"`
	Behaviors []behavior `json:"behaviors"`
}

type behavior struct {
	Type  string      `json:"type"`
	Value buttonValue `json:"value"`
}

// buttonValue is what a click sends back in action.value.
type buttonValue struct {
	Action string `json:"action"`
	Value  string `json:"value"`
}

// templates maps card colours to Lark header templates.
var templates = map[bot.Color]string{
	bot.Blue: "blue", bot.Green: "green", bot.Orange: "orange", bot.Red: "red", bot.Grey: "grey",
}

// renderCard renders c as a card JSON 2.0; lead, when set, is a markdown
// paragraph above the card's own text.
func renderCard(c *bot.Card, lead string) []byte {
	tpl := templates[c.Color]
	if tpl == "" {
		tpl = "blue"
	}
	var els []any
	for _, s := range []string{lead, c.Text} {
		if strings.TrimSpace(s) != "" {
			els = append(els, markdown{Tag: "markdown", Content: cardMentions(s)})
		}
	}
	if len(c.Fields) > 0 {
		lines := make([]string, 0, len(c.Fields))
		for _, f := range c.Fields {
			lines = append(lines, "**"+f.Label+"**: "+cardMentions(f.Value))
		}
		els = append(els, markdown{Tag: "markdown", Content: strings.Join(lines, "\n")})
	}
	if len(c.Buttons) > 0 {
		cols := make([]column, 0, len(c.Buttons))
		for _, b := range c.Buttons {
			typ := "default"
			if b.Style == "primary" || b.Style == "danger" {
				typ = b.Style
			}
			cols = append(cols, column{Tag: "column", Width: "auto", Elements: []any{button{
				Tag: "button", Text: plainText{Tag: "plain_text", Content: b.Label}, Type: typ,
				Behaviors: []behavior{{Type: "callback", Value: buttonValue{Action: b.Action, Value: b.Value}}},
			}}})
		}
		els = append(els, columnSet{Tag: "column_set", FlexMode: "flow", HorizontalSpacing: "8px", Columns: cols})
	}
	if c.Note != "" {
		els = append(els, hr{Tag: "hr"}, markdown{Tag: "markdown", Content: cardMentions(c.Note), TextSize: "notation", TextColor: "grey"})
	}
	if els == nil {
		els = []any{}
	}
	out, _ := json.Marshal(card{
		Schema: "2.0",
		Config: cardConfig{UpdateMulti: true},
		Header: cardHeader{Title: plainText{Tag: "plain_text", Content: c.Title}, Template: tpl},
		Body:   cardBody{Elements: els},
	})
	return out
}

// textMention matches the text-message mention markup Mention returns.
var textMention = regexp.MustCompile(`<at user_id="([^"]*)">[^<]*</at>`)

// cardMentions rewrites text-message mentions into the card markdown
// form, <at id=ou_…></at>.
func cardMentions(s string) string {
	if !strings.Contains(s, "<at ") {
		return s
	}
	return textMention.ReplaceAllString(s, "<at id=$1></at>")
}

// content returns the msg_type and content of a message with text and
// an optional card. A card carries the text as its first paragraph.
func content(text string, c *bot.Card) (msgType, body string) {
	if c != nil {
		return "interactive", string(renderCard(c, text))
	}
	b, _ := json.Marshal(map[string]string{"text": text})
	return "text", string(b)
}
