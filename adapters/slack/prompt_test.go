package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
)

// The "note" test action records the text typed in its prompt and how
// often it ran, and updates its card in place.
const (
	noteLabel  = "Add a note"
	notePrompt = "What should the note say?"
)

func noteButton(id string) bot.Button {
	return bot.Button{Label: noteLabel, Action: "note.add", Value: id, Prompt: notePrompt}
}

func noteCommand(store bot.Store) *bot.Command {
	return &bot.Command{
		Name: "note", Aliases: []string{"备注"},
		Run: func(context.Context, *bot.Request) (*bot.Response, error) {
			return &bot.Response{Replies: []bot.Reply{{Card: &bot.Card{Title: "Note", Buttons: []bot.Button{noteButton("n1")}}}}}, nil
		},
		Actions: []*bot.Action{{ID: "note.add", Run: func(ctx context.Context, req *bot.Request) (*bot.Response, error) {
			if req.Input == "" {
				return bot.Text("type: note " + req.Value + " <text>"), nil
			}
			n := 1
			if b, err := store.Get(ctx, counterColl, "notes:"+req.Value); err == nil {
				n, _ = strconv.Atoi(string(b))
				n++
			}
			if err := store.Put(ctx, counterColl, "notes:"+req.Value, []byte(strconv.Itoa(n))); err != nil {
				return nil, err
			}
			if err := store.Put(ctx, counterColl, "note:"+req.Value, []byte(req.Input)); err != nil {
				return nil, err
			}
			card := &bot.Card{Title: "Note", Text: "noted: " + req.Input}
			return &bot.Response{Toast: "noted", Replies: []bot.Reply{{Card: card, Replace: true}}}, nil
		}}},
	}
}

func newNoteHarness(t *testing.T) *harness {
	t.Helper()
	hs := newHarness(t)
	hs.env.Must(noteCommand(hs.env.Store))
	return hs
}

func storedNote(t *testing.T, store bot.Store, id string) (text string, runs int) {
	t.Helper()
	if b, err := store.Get(context.Background(), counterColl, "note:"+id); err == nil {
		text = string(b)
	}
	if b, err := store.Get(context.Background(), counterColl, "notes:"+id); err == nil {
		runs, _ = strconv.Atoi(string(b))
	}
	return text, runs
}

// clickNote clicks the rendered note button of message ts and returns the
// views.open call it caused.
func clickNote(t *testing.T, hs *harness, ts, trigger string) slacktest.Call {
	t.Helper()
	b := noteButton("n1")
	payload := slacktest.BlockActions(slacktest.Click{
		User: "U0LINA", Channel: coordChat, MessageTS: ts, ActionID: b.Action, Value: buttonValue(b),
		TriggerID: trigger, ResponseURL: hs.fake.ResponseURL(trigger), Label: b.Label,
	})
	wantStatus(t, hs.postInteraction(payload), http.StatusOK)
	return hs.fake.Await("views.open", 1)[0]
}

func TestPromptButtonClickOpensAModal(t *testing.T) {
	hs := newNoteHarness(t)
	const ts = "1764550800.000101"
	open := clickNote(t, hs, ts, "trig-prompt-1")
	if got := open.Field("trigger_id"); got != "trig-prompt-1" {
		t.Errorf("views.open trigger_id %q", got)
	}
	view := open.View()
	if view["type"] != "modal" || view["callback_id"] != promptCallbackID {
		t.Errorf("view %v", view)
	}
	text := slacktest.BlocksText(view)
	for _, want := range []string{noteLabel, notePrompt, "plain_text_input"} {
		if !strings.Contains(text, want) {
			t.Errorf("modal does not show %q:\n%s", want, text)
		}
	}
	var meta promptMeta
	if err := json.Unmarshal([]byte(view["private_metadata"].(string)), &meta); err != nil {
		t.Fatal(err)
	}
	want := promptMeta{Action: "note.add", Value: "n1", Channel: coordChat, ChannelName: "xunji-coordination", MessageTS: ts, ResponseURL: hs.fake.ResponseURL("trig-prompt-1")}
	if meta != want {
		t.Errorf("metadata %+v, want %+v", meta, want)
	}
	hs.settle()
	if n := len(hs.h.requests()); n != 0 {
		t.Errorf("the click reached the bot %d times before the form was sent", n)
	}
}

func TestPromptButtonFallsBackToTheClickWhenTheModalCannotOpen(t *testing.T) {
	hs := newNoteHarness(t)
	hs.fake.FailWith("views.open", "expired_trigger_id")
	b := noteButton("n1")
	wantStatus(t, hs.postInteraction(slacktest.BlockActions(slacktest.Click{
		User: "U0LINA", Channel: coordChat, MessageTS: "1764550800.000102", ActionID: b.Action, Value: buttonValue(b),
		TriggerID: "trig-prompt-2", ResponseURL: hs.fake.ResponseURL("trig-prompt-2"),
	})), http.StatusOK)
	answer := hs.fake.Await("response_url", 1)[0]
	if !strings.Contains(answer.Text(), "type: note n1") {
		t.Errorf("fallback answer %q", answer.Text())
	}
	if req := hs.h.requests()[0]; req.Value != "n1" || req.Input != "" {
		t.Errorf("fallback request value %q input %q", req.Value, req.Input)
	}
}

func TestViewSubmissionRunsTheActionWithTheTypedText(t *testing.T) {
	hs := newNoteHarness(t)
	const ts = "1764550800.000103"
	open := clickNote(t, hs, ts, "trig-prompt-3")
	submission := slacktest.SubmitView(open, "U0LINA", "V0NOTE1", "  call the bureau <today> \n")
	resp := hs.postInteraction(submission)
	wantStatus(t, resp, http.StatusOK)
	if resp.ContentLength > 0 {
		t.Errorf("the submission was answered with a body (%d bytes); an empty 200 closes the modal", resp.ContentLength)
	}

	update := hs.fake.Await("chat.update", 1)[0]
	if update.Field("channel") != coordChat || update.Field("ts") != ts || !strings.Contains(allText(blocksOf(t, update)), "noted: call the bureau &lt;today&gt;") {
		t.Errorf("update %s/%s: %s", update.Field("channel"), update.Field("ts"), allText(blocksOf(t, update)))
	}
	toast := hs.fake.Await("response_url", 1)[0]
	if toast.Field("text") != "noted" || toast.Field("response_type") != "ephemeral" {
		t.Errorf("toast %+v", toast.JSON)
	}
	if text, runs := storedNote(t, hs.env.Store, "n1"); text != "call the bureau <today>" || runs != 1 {
		t.Errorf("stored %q after %d runs", text, runs)
	}
	req := hs.h.requests()[0]
	if req.Kind != bot.KindAction || req.Action != "note.add" || req.Value != "n1" || req.UserID != "U0LINA" ||
		req.Message != (bot.MessageRef{Platform: Name, ChatID: coordChat, ID: ts}) || req.EventID == "" {
		t.Errorf("request %+v", req)
	}

	// The same submission delivered again has no second effect.
	wantStatus(t, hs.postInteraction(submission), http.StatusOK)
	hs.settle()
	if _, runs := storedNote(t, hs.env.Store, "n1"); runs != 1 {
		t.Errorf("the action ran %d times after a repeated submission, want 1", runs)
	}
	if n := len(hs.fake.CallsOf("chat.update")); n != 1 {
		t.Errorf("%d updates after a repeated submission, want 1", n)
	}
}

func TestForgedViewSubmissionIsRefused(t *testing.T) {
	hs := newNoteHarness(t)
	open := clickNote(t, hs, "1764550800.000104", "trig-prompt-4")
	body := slacktest.InteractionBody(slacktest.SubmitView(open, "U0LINA", "V0NOTE2", "forged"))
	for name, header := range map[string]http.Header{
		"unsigned":     {},
		"wrong secret": slacktest.Sign("not-the-secret", hs.a.now(), body),
	} {
		t.Run(name, func(t *testing.T) {
			wantStatus(t, hs.post(PathInteractions, slacktest.ContentForm, body, header), http.StatusUnauthorized)
		})
	}
	hs.settle()
	if text, runs := storedNote(t, hs.env.Store, "n1"); runs != 0 || text != "" {
		t.Errorf("a forged submission ran the action: %q, %d runs", text, runs)
	}
}

func TestViewSubmissionOfAnotherViewIsIgnored(t *testing.T) {
	hs := newNoteHarness(t)
	payload := slacktest.ViewSubmission(slacktest.Submission{User: "U0LINA", ViewID: "V0OTHER", Hash: "h", CallbackID: "someone.else",
		PrivateMetadata: `{"a":"note.add","v":"n1"}`, Values: map[string]map[string]string{promptBlockID: {promptActionID: "x"}}})
	wantStatus(t, hs.postInteraction(payload), http.StatusOK)
	hs.settle()
	if n := len(hs.h.requests()); n != 0 {
		t.Errorf("another app view reached the bot %d times", n)
	}
}

func TestSocketModeViewSubmissionRunsTheAction(t *testing.T) {
	sh := newSocketHarness(t)
	sh.env.Must(noteCommand(sh.env.Store))
	const ts = "1764550800.000105"
	b := noteButton("n1")
	click := slacktest.BlockActions(slacktest.Click{User: "U0LINA", Channel: coordChat, MessageTS: ts, ActionID: b.Action,
		Value: buttonValue(b), TriggerID: "trig-socket-prompt", ResponseURL: sh.fake.ResponseURL("trig-socket-prompt"), Label: b.Label})
	sh.write(envelope(t, "env-prompt-click", "interactive", click, 0))
	sh.awaitAck("env-prompt-click")
	open := sh.fake.Await("views.open", 1)[0]
	sh.write(envelope(t, "env-prompt-submit", "interactive", slacktest.SubmitView(open, "U0LINA", "V0SOCK", "by socket"), 0))
	sh.awaitAck("env-prompt-submit")
	update := sh.fake.Await("chat.update", 1)[0]
	if update.Field("ts") != ts || !strings.Contains(allText(blocksOf(t, update)), "noted: by socket") {
		t.Errorf("update %v", update.Form)
	}
}

func TestPromptButtonValueFitsSlacksLimit(t *testing.T) {
	tests := []struct {
		name       string
		b          bot.Button
		wantPrompt bool
	}{
		{"short", bot.Button{Action: "a", Value: "QZ-2026-0001", Prompt: "退回理由"}, true},
		{"long prompt is shortened", bot.Button{Action: "a", Value: "QZ-2026-0001", Prompt: strings.Repeat("理", 5000)}, true},
		{"value too long for a prompt goes alone", bot.Button{Action: "a", Value: strings.Repeat("v", 1995), Prompt: "why"}, false},
		{"no prompt", bot.Button{Action: "a", Value: "x|y"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := buttonValue(tt.b)
			if n := utf8.RuneCountInString(v); n > maxButtonValue {
				t.Fatalf("value of %d characters", n)
			}
			p, ok := parsePrompt(v)
			if ok != tt.wantPrompt {
				t.Fatalf("prompt carried %t, want %t", ok, tt.wantPrompt)
			}
			if ok && (p.Value != tt.b.Value || !strings.HasPrefix(tt.b.Prompt, strings.TrimSuffix(p.Prompt, "…"))) {
				t.Errorf("parsed %+v from %+v", p, tt.b)
			}
		})
	}
}
