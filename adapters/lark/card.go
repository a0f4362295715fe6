package lark

import (
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"
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

// A button with a Prompt (bot.Button.Prompt) is rendered as a form
// container of its own (forms may only sit at the card's root): a
// multi-line input whose placeholder is the prompt, and a submit button
// with the button's label and the same callback value as a plain button.
// Submitting sends card.action.trigger with action.value as for a click
// and action.form_value holding the text under the input's name
// (inputName, "inputName_N" for the N-th prompt button of a card, since
// names must be unique in a card); onCard puts it in Request.Input.
// Shapes: https://open.feishu.cn/document/feishu-cards/card-json-v2-components/containers/form-container
// and …/interactive-components/input.
type form struct {
	Tag      string `json:"tag"`
	Name     string `json:"name"`
	Elements []any  `json:"elements"`
}

type input struct {
	Tag         string    `json:"tag"`
	Name        string    `json:"name"`
	Required    bool      `json:"required"`
	InputType   string    `json:"input_type"`
	MaxLength   int       `json:"max_length"`
	Width       string    `json:"width"`
	Placeholder plainText `json:"placeholder"`
}

type submitButton struct {
	Tag            string     `json:"tag"`
	Name           string     `json:"name"`
	Text           plainText  `json:"text"`
	Type           string     `json:"type"`
	FormActionType string     `json:"form_action_type"`
	Behaviors      []behavior `json:"behaviors"`
}

// inputName names the text field of a prompt form; the callback reads
// form_value entries named inputName or starting with inputName+"_".
const inputName = "xunji_input"

// maxInputText is the input's max_length, in characters (Lark allows
// up to 1,000).
const maxInputText = 1000

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
	var cols []column
	var forms []any
	for _, b := range c.Buttons {
		typ := "default"
		if b.Style == "primary" || b.Style == "danger" {
			typ = b.Style
		}
		label := plainText{Tag: "plain_text", Content: b.Label}
		click := []behavior{{Type: "callback", Value: buttonValue{Action: b.Action, Value: b.Value}}}
		if strings.TrimSpace(b.Prompt) == "" {
			cols = append(cols, column{Tag: "column", Width: "auto", Elements: []any{button{
				Tag: "button", Text: label, Type: typ, Behaviors: click,
			}}})
			continue
		}
		suffix := ""
		if n := len(forms); n > 0 {
			suffix = "_" + strconv.Itoa(n+1)
		}
		forms = append(forms, form{Tag: "form", Name: "xunji_form" + suffix, Elements: []any{
			input{
				Tag: "input", Name: inputName + suffix, Required: true, InputType: "multiline_text",
				MaxLength: maxInputText, Width: "fill", Placeholder: plainText{Tag: "plain_text", Content: b.Prompt},
			},
			submitButton{
				Tag: "button", Name: submitName(suffix, b.Action, b.Value), Text: label, Type: typ,
				FormActionType: "submit", Behaviors: click,
			},
		}})
	}
	if len(cols) > 0 {
		els = append(els, columnSet{Tag: "column_set", FlexMode: "flow", HorizontalSpacing: "8px", Columns: cols})
	}
	els = append(els, forms...)
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

// submitName names a form's submit button so that it also carries the
// button's action and value (hex-encoded: names allow letters, digits and
// underscores). Public Card 2.0 examples send a form submit's behaviors
// value in the callback, but not every source agrees; when the value is
// missing, onCard reads the action back from the name.
func submitName(suffix, action, value string) string {
	v, _ := json.Marshal(buttonValue{Action: action, Value: value})
	return "xunji_submit" + suffix + "_" + hex.EncodeToString(v)
}

// actionFromName decodes what submitName encoded; ok is false for any
// other name.
func actionFromName(name string) (action, value string, ok bool) {
	if !strings.HasPrefix(name, "xunji_submit") {
		return "", "", false
	}
	i := strings.LastIndex(name, "_")
	raw, err := hex.DecodeString(name[i+1:])
	if err != nil {
		return "", "", false
	}
	var bv buttonValue
	if json.Unmarshal(raw, &bv) != nil || bv.Action == "" {
		return "", "", false
	}
	return bv.Action, bv.Value, true
}
