package slack

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/xunji-bot/xunji/bot"
)

func TestEscapeKeepsSlackMarkup(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"a < b && c > d", "a &lt; b &amp;&amp; c &gt; d"},
		{"ask <@U0LINA> now", "ask <@U0LINA> now"},
		{"in <#C0DEMOCOORD> and <!here>", "in <#C0DEMOCOORD> and <!here>"},
		{"see <https://xunji.example.gov.cn|docs> <b>", "see <https://xunji.example.gov.cn|docs> &lt;b&gt;"},
		{"<@ broken>", "&lt;@ broken&gt;"},
	}
	for _, c := range cases {
		if got := escape(c.in); got != c.want {
			t.Errorf("escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCleanTextDropsTheBotMentionAndUnescapes(t *testing.T) {
	cases := []struct{ in, self, want string }{
		{"<@U0XUNJIBOT> clue list", "U0XUNJIBOT", "clue list"},
		{"please <@U0XUNJIBOT|xunji> count", "U0XUNJIBOT", "please  count"},
		// Other people's mentions become the core's mention word.
		{"<@U0XUNJIBOT> cosign add <@U0LINA>", "U0XUNJIBOT", "cosign add @{slack:U0LINA|}"},
		{"<@U0XUNJIBOT> roster add <@U0QIAN|qian jin &amp; co> room2", "U0XUNJIBOT", "roster add @{slack:U0QIAN|qianjin&co} room2"},
		{"<@U0XUNJIBOT2> count <@U0XUNJIBOT>", "U0XUNJIBOT", "@{slack:U0XUNJIBOT2|} count"},
		// Escaped links, addresses and channels are what was typed again.
		{"<@U0XUNJIBOT> roster add Sun room1 email:<mailto:sun@example.gov.cn|sun@example.gov.cn> <https://a.example/x|a.example/x> <#C0ABC|coord>", "U0XUNJIBOT", "roster add Sun room1 email:sun@example.gov.cn https://a.example/x #coord"},
		{"<@U0OTHERBOT> count", "", "count"},
		{"clue add a &amp; b &lt;x&gt;", "U0XUNJIBOT", "clue add a & b <x>"},
	}
	for _, c := range cases {
		if got := cleanText(c.in, c.self); got != c.want {
			t.Errorf("cleanText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func blockTypes(blocks []slackgo.Block) string {
	var s []string
	for _, b := range blocks {
		s = append(s, string(b.BlockType()))
	}
	return strings.Join(s, ",")
}

func TestButtonsWithTheSameActionGoInSeparateBlocks(t *testing.T) {
	c := &bot.Card{Title: "会签", Buttons: []bot.Button{
		{Label: "签 A", Action: "cosign.sign", Value: "HQ-1"},
		{Label: "签 B", Action: "cosign.sign", Value: "HQ-2"},
		{Label: "撤回", Action: "cosign.cancel", Value: "HQ-2"},
	}}
	blocks := cardBlocks(c)
	if got, want := blockTypes(blocks), "header,actions,actions"; got != want {
		t.Fatalf("blocks %s, want %s", got, want)
	}
	for _, b := range blocks[1:] {
		seen := map[string]bool{}
		for _, e := range b.(*slackgo.ActionBlock).Elements.ElementSet {
			id := e.(*slackgo.ButtonBlockElement).ActionID
			if seen[id] {
				t.Errorf("action id %s twice in one block", id)
			}
			seen[id] = true
		}
	}
}

func TestCardsRespectBlockKitLimits(t *testing.T) {
	var fields []bot.Field
	for range 12 {
		fields = append(fields, bot.Field{Label: "L", Value: "v"})
	}
	var buttons []bot.Button
	for i := range 30 {
		buttons = append(buttons, bot.Button{Label: strings.Repeat("按", 100), Action: "a" + string(rune('a'+i)), Value: "v"})
	}
	c := &bot.Card{Title: strings.Repeat("标", 200), Text: strings.Repeat("一行文字\n", 1000), Fields: fields, Buttons: buttons, Color: bot.Green}
	blocks := cardBlocks(c)
	header := blocks[0].(*slackgo.HeaderBlock).Text.Text
	if n := utf8.RuneCountInString(header); n > maxHeader || !strings.HasPrefix(header, "🟢 ") {
		t.Errorf("header of %d characters: %q", n, header)
	}
	var sections, fieldSections, actions int
	for _, b := range blocks {
		switch b := b.(type) {
		case *slackgo.SectionBlock:
			if b.Text != nil {
				sections++
				if n := utf8.RuneCountInString(b.Text.Text); n > maxSection {
					t.Errorf("section of %d characters", n)
				}
			} else {
				fieldSections++
				if len(b.Fields) > maxFields {
					t.Errorf("section with %d fields", len(b.Fields))
				}
			}
		case *slackgo.ActionBlock:
			actions++
			if len(b.Elements.ElementSet) > maxElements {
				t.Errorf("actions block with %d buttons", len(b.Elements.ElementSet))
			}
			for _, e := range b.Elements.ElementSet {
				if n := utf8.RuneCountInString(e.(*slackgo.ButtonBlockElement).Text.Text); n > maxButtonText {
					t.Errorf("button label of %d characters", n)
				}
			}
		}
	}
	if sections < 2 || fieldSections != 2 || actions != 2 {
		t.Errorf("%d text sections, %d field sections, %d actions blocks; want ≥2, 2, 2", sections, fieldSections, actions)
	}
	// The rendering must be valid JSON that slack-go reads back.
	raw, err := json.Marshal(slackgo.Blocks{BlockSet: blocks})
	if err != nil {
		t.Fatal(err)
	}
	var back slackgo.Blocks
	if err := json.Unmarshal(raw, &back); err != nil || len(back.BlockSet) != len(blocks) {
		t.Errorf("round trip: %v, %d blocks of %d", err, len(back.BlockSet), len(blocks))
	}
}

func TestEveryColourHasAMark(t *testing.T) {
	for _, c := range []bot.Color{bot.Blue, bot.Green, bot.Orange, bot.Red, bot.Grey} {
		if colorMark[c] == "" {
			t.Errorf("colour %s has no mark", c)
		}
	}
	if got := blockTypes(cardBlocks(&bot.Card{Text: "no title, no colour"})); got != "section" {
		t.Errorf("card without a title renders %s", got)
	}
}

func TestPlanShowsAToastOnlyWhenNothingElseSpeaks(t *testing.T) {
	a := &Adapter{}
	card := &bot.Card{Title: "t"}
	cases := []struct {
		name   string
		resp   *bot.Response
		action bool
		want   []string // texts or "card"
	}{
		{"nil", nil, false, nil},
		{"duplicate", &bot.Response{Duplicate: true, Replies: []bot.Reply{{Text: "x"}}}, false, nil},
		{"error reply and the same toast", &bot.Response{Replies: []bot.Reply{{Text: "no"}}, Toast: "no"}, true, []string{"no"}},
		{"card replaced and a toast", &bot.Response{Replies: []bot.Reply{{Card: card, Replace: true}}, Toast: "done"}, true, []string{"card", "done"}},
		{"toast alone", &bot.Response{Toast: "done"}, false, []string{"done"}},
		{"empty replies skipped", &bot.Response{Replies: []bot.Reply{{}, {Text: "a"}}}, false, []string{"a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, r := range a.plan(c.resp, c.action) {
				if r.Text == "" && r.Card == nil && len(r.Files) == 0 {
					continue // kept in its place, showing nothing
				}
				if r.Card != nil {
					got = append(got, "card")
				} else {
					got = append(got, r.Text)
				}
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("plan = %q, want %q", got, c.want)
			}
		})
	}
}
