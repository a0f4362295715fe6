package lark

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/larksuite/oapi-sdk-go/v3/event/dispatcher/callback"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot"
)

const noteValue = "N-1"

// noteCommand is a small command with a prompt button: "note" shows a
// card whose Reason button asks for text; the action stores the text it
// got (Request.Input, "" without a form) and answers with an updated
// card.
func noteCommand(st bot.Store) *bot.Command {
	return &bot.Command{
		Name: "note", Aliases: []string{"备注"},
		Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
			return &bot.Response{Replies: []bot.Reply{{Public: true, Card: &bot.Card{
				Title: "Note", Text: "needs a reason",
				Buttons: []bot.Button{
					{Label: "OK", Action: "note.ok", Value: noteValue, Style: "primary"},
					{Label: "Decline", Action: "note.reason", Value: noteValue, Style: "danger", Prompt: "Reason for declining"},
				},
			}}}}, nil
		},
		Actions: []*bot.Action{
			{ID: "note.ok", Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
				return &bot.Response{Toast: "ok"}, nil
			}},
			{ID: "note.reason", Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
				doc, _ := json.Marshal(req.Input)
				if err := st.Put(ctx, "test.note", req.Value, doc); err != nil {
					return nil, err
				}
				if req.Input == "" {
					return &bot.Response{Toast: "type: note decline " + req.Value + " <reason>"}, nil
				}
				return &bot.Response{Toast: "declined", Replies: []bot.Reply{{Replace: true, Card: &bot.Card{
					Title: "Note", Text: "declined: " + req.Input,
				}}}}, nil
			}},
		},
	}
}

// storedInput returns the Input the note action last stored for value.
func (hs *harness) storedInput(value string) (string, bool) {
	hs.t.Helper()
	doc, err := hs.env.Store.Get(context.Background(), "test.note", value)
	if err != nil {
		return "", false
	}
	var s string
	if err := json.Unmarshal(doc, &s); err != nil {
		hs.t.Fatal(err)
	}
	return s, true
}

// elements returns the body elements of a rendered card, with their tags.
func elements(t *testing.T, cardJSON []byte) []map[string]any {
	t.Helper()
	var c struct {
		Schema string `json:"schema"`
		Body   struct {
			Elements []map[string]any `json:"elements"`
		} `json:"body"`
	}
	if err := json.Unmarshal(cardJSON, &c); err != nil {
		t.Fatal(err)
	}
	if c.Schema != "2.0" {
		t.Fatalf("schema %q", c.Schema)
	}
	return c.Body.Elements
}

func byTag(els []map[string]any, tag string) []map[string]any {
	var out []map[string]any
	for _, e := range els {
		if e["tag"] == tag {
			out = append(out, e)
		}
	}
	return out
}

// callbackValue returns the value of a button's callback behavior.
func callbackValue(t *testing.T, b map[string]any) map[string]any {
	t.Helper()
	bs, _ := b["behaviors"].([]any)
	if len(bs) != 1 {
		t.Fatalf("button behaviors %v", b["behaviors"])
	}
	bm, _ := bs[0].(map[string]any)
	if bm["type"] != "callback" {
		t.Fatalf("behavior %v", bm)
	}
	v, _ := bm["value"].(map[string]any)
	return v
}

func TestPromptButtonRendersAForm(t *testing.T) {
	c := &bot.Card{
		Title: "Co-signature", Text: "sign or decline",
		Buttons: []bot.Button{
			{Label: "Sign", Action: "cosign.sign", Value: "CS-1", Style: "primary"},
			{Label: "Decline", Action: "cosign.decline", Value: "CS-1", Style: "danger", Prompt: "Reason for declining"},
			{Label: "Reply", Action: "consult.reply", Value: "ZX-1", Prompt: "Your answer"},
		},
	}
	els := elements(t, renderCard(c, ""))

	// The plain button stays in the column set, alone.
	sets := byTag(els, "column_set")
	if len(sets) != 1 {
		t.Fatalf("column sets %v", sets)
	}
	plain := larktest.CardButtons(sets[0])
	if len(plain) != 1 || plain[0].Action != "cosign.sign" || plain[0].Value != "CS-1" || plain[0].Text != "Sign" {
		t.Fatalf("plain buttons %+v", plain)
	}

	// Each prompt button is a form at the card's root.
	forms := byTag(els, "form")
	if len(forms) != 2 {
		t.Fatalf("forms %v", forms)
	}
	names := map[string]bool{}
	unique := func(n any) {
		s, _ := n.(string)
		if s == "" || names[s] {
			t.Errorf("name %q empty or not unique in the card", s)
		}
		names[s] = true
	}
	want := []struct{ prompt, label, typ, action, value string }{
		{"Reason for declining", "Decline", "danger", "cosign.decline", "CS-1"},
		{"Your answer", "Reply", "default", "consult.reply", "ZX-1"},
	}
	for i, f := range forms {
		w := want[i]
		unique(f["name"])
		fe, _ := f["elements"].([]any)
		if len(fe) != 2 {
			t.Fatalf("form %d elements %v", i, fe)
		}
		in, _ := fe[0].(map[string]any)
		btn, _ := fe[1].(map[string]any)
		unique(in["name"])
		unique(btn["name"])
		ph, _ := in["placeholder"].(map[string]any)
		if in["tag"] != "input" || in["input_type"] != "multiline_text" || in["max_length"] != float64(1000) ||
			in["required"] != true || ph["tag"] != "plain_text" || ph["content"] != w.prompt {
			t.Errorf("form %d input %v", i, in)
		}
		text, _ := btn["text"].(map[string]any)
		if btn["tag"] != "button" || btn["form_action_type"] != "submit" || btn["type"] != w.typ || text["content"] != w.label {
			t.Errorf("form %d submit button %v", i, btn)
		}
		if v := callbackValue(t, btn); v["action"] != w.action || v["value"] != w.value || len(v) != 2 {
			t.Errorf("form %d callback value %v", i, v)
		}
	}
	if !names["xunji_input"] || !names["xunji_input_2"] {
		t.Errorf("input names %v", names)
	}
}

func TestCardWithoutPromptsHasNoForm(t *testing.T) {
	c := &bot.Card{Title: "T", Buttons: []bot.Button{{Label: "+1", Action: "tally.inc", Value: "T-1"}}}
	els := elements(t, renderCard(c, ""))
	if len(byTag(els, "form")) != 0 || len(byTag(els, "column_set")) != 1 {
		t.Fatalf("elements %v", els)
	}
	c = &bot.Card{Title: "T", Buttons: []bot.Button{{Label: "Reply", Action: "consult.reply", Value: "ZX-1", Prompt: "Answer"}}}
	els = elements(t, renderCard(c, ""))
	if len(byTag(els, "form")) != 1 || len(byTag(els, "column_set")) != 0 {
		t.Fatalf("a card with only a prompt button: %v", els)
	}
}

func TestPromptCardPostedWithForm(t *testing.T) {
	hs := newHarness(t, "")
	hs.env.Must(noteCommand(hs.env.Store))
	if status, body := hs.post("/lark/events", larktest.GroupMention("ev_note_1", coordChat, wangming, "note")); status != http.StatusOK {
		t.Fatalf("got %d %s", status, body)
	}
	calls := hs.fake.Calls()
	if len(calls) != 1 || !calls[0].IsCard() {
		t.Fatalf("calls %+v", calls)
	}
	els := elements(t, mustJSON(contentOf(t, calls[0])))
	forms := byTag(els, "form")
	if len(forms) != 1 {
		t.Fatalf("forms in the posted card: %v", els)
	}
	b, ok := calls[0].Button("note.reason")
	if !ok || b.Value != noteValue || b.Text != "Decline" {
		t.Errorf("submit button %+v %v", b, ok)
	}
}

func TestFormSubmissionReachesHandlerWithInput(t *testing.T) {
	cases := []struct {
		name      string
		form      map[string]string
		input     string
		wantInput string
	}{
		{"form_value", map[string]string{"xunji_input": "  not my case  "}, "", "not my case"},
		{"second prompt form", map[string]string{"xunji_input_2": "answer two"}, "", "answer two"},
		{"input_value", nil, "typed inline", "typed inline"},
	}
	for _, tc := range cases {
		for _, key := range []string{"", "test key"} {
			t.Run(tc.name+"/key="+key, func(t *testing.T) {
				hs := newHarness(t, key)
				hs.env.Must(noteCommand(hs.env.Store))
				ev := larktest.CardActionEvent(larktest.CardAction{
					EventID: "ev_submit_1", Operator: lina, ChatID: coordChat, MessageID: cardMsgID,
					Action: "note.reason", Value: noteValue, Name: "xunji_submit",
					FormValue: tc.form, InputValue: tc.input,
				})
				status, body := hs.post(larktest.PathCards, ev)
				if status != http.StatusOK {
					t.Fatalf("status %d %s", status, body)
				}
				got, ok := hs.storedInput(noteValue)
				if !ok || got != tc.wantInput {
					t.Fatalf("handler got Input %q (ran: %v)", got, ok)
				}
				var ans struct {
					Toast struct{ Content string }
					Card  struct {
						Type string
						Data map[string]any
					}
				}
				if err := json.Unmarshal([]byte(body), &ans); err != nil {
					t.Fatal(err)
				}
				if ans.Toast.Content != "declined" || ans.Card.Type != "raw" || ans.Card.Data["schema"] != "2.0" ||
					!contains(string(mustJSON(ans.Card.Data)), "declined: "+tc.wantInput) {
					t.Errorf("answer %s", body)
				}
				if calls := hs.fake.Calls(); len(calls) != 0 {
					t.Errorf("an answer in time sends nothing, sent %+v", calls)
				}
				// Lark re-delivering the submission changes nothing.
				if err := hs.env.Store.Put(context.Background(), "test.note", noteValue, []byte(`"untouched"`)); err != nil {
					t.Fatal(err)
				}
				hs.post(larktest.PathCards, ev)
				if got, _ := hs.storedInput(noteValue); got != "untouched" {
					t.Errorf("redelivered submission ran again: %q", got)
				}
			})
		}
	}
}

func TestClickWithoutFormHasNoInput(t *testing.T) {
	hs := newHarness(t, "")
	hs.env.Must(noteCommand(hs.env.Store))
	status, body := hs.post(larktest.PathCards, cardEvent(t, "ev_plain_1", lina, "note.reason", noteValue))
	if status != http.StatusOK {
		t.Fatalf("status %d %s", status, body)
	}
	got, ok := hs.storedInput(noteValue)
	if !ok || got != "" {
		t.Fatalf("handler got Input %q (ran: %v)", got, ok)
	}
	a, err := larktest.Result{Body: []byte(body)}.CardAnswer()
	if err != nil {
		t.Fatal(err)
	}
	if a.Toast.Content != "type: note decline "+noteValue+" <reason>" || a.Card.Type != "" {
		t.Errorf("fallback answer %s", body)
	}
}

func TestTypedInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		form map[string]any
		in   string
		want string
	}{
		{"none", nil, "", ""},
		{"empty form", map[string]any{}, "", ""},
		{"blank field", map[string]any{"xunji_input": "   "}, "", ""},
		{"other fields ignored", map[string]any{"comment": "x", "xunji_inputx": "y"}, "", ""},
		{"form field", map[string]any{"xunji_input": " a\nb "}, "", "a\nb"},
		{"input value", nil, " c ", "c"},
		{"form wins", map[string]any{"xunji_input": "f"}, "i", "f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := typedInput(&callback.CallBackAction{FormValue: tc.form, InputValue: tc.in}); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Should Lark send a form's submit without the button's callback value,
// the submit button's name still says which action it is.
func TestFormSubmissionWithoutValueIsReadFromTheButtonName(t *testing.T) {
	hs := newHarness(t, "")
	hs.env.Must(noteCommand(hs.env.Store))
	ev := larktest.CardActionEvent(larktest.CardAction{
		EventID: "ev_submit_named", Operator: lina, ChatID: coordChat, MessageID: cardMsgID,
		Name: submitName("", "note.reason", noteValue), FormValue: map[string]string{"xunji_input": "by name"},
	})
	if status, body := hs.post(larktest.PathCards, ev); status != http.StatusOK {
		t.Fatalf("status %d %s", status, body)
	}
	if got, ok := hs.storedInput(noteValue); !ok || got != "by name" {
		t.Fatalf("handler got Input %q (ran: %v)", got, ok)
	}
	if _, _, ok := actionFromName("xunji_submit_zz"); ok {
		t.Error("a name that is not hex decoded as an action")
	}
}
