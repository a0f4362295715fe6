package e2e_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/bot/bottest"
)

const (
	larkCoord = "oc_demo_coordination" // the coordination group on Lark (demo.yaml)
	larkClue  = "oc_demo_discipline"   // the discipline-only clue group on Lark (demo.yaml)
)

// larkPlatform drives the Lark adapter: commands are group messages that
// @-mention the bot, direct chats are p2p messages, clicks are
// card.action.trigger callbacks; all encrypted and signed when the app
// has an Encrypt Key.
type larkPlatform struct {
	t      *testing.T
	e      *bottest.Env
	fake   *larktest.Server
	client *larktest.Client
	key    string
	ids    seq

	answers []seen            // toasts and cards in callback answers
	p2p     map[string]string // message id → person, for messages in a one-to-one chat
}

func newLark(t *testing.T, encryptKey string) *larkPlatform {
	t.Helper()
	env := newEnv(t)
	fake := larktest.NewServer(t)
	a, err := lark.New(lark.Config{
		AppID: "cli_flow", AppSecret: larktest.AppSecret, VerificationToken: larktest.VerificationToken,
		EncryptKey: encryptKey, BaseURL: fake.URL,
	}, lark.WithLogger(logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, env, a)
	return &larkPlatform{t: t, e: env, fake: fake, key: encryptKey, client: &larktest.Client{URL: url, EncryptKey: encryptKey}, p2p: map[string]string{}}
}

func (l *larkPlatform) name() string {
	if l.key != "" {
		return "lark (encrypted)"
	}
	return "lark"
}

func (l *larkPlatform) env() *bottest.Env { return l.e }

func (l *larkPlatform) userID(person string) string {
	l.t.Helper()
	return l.e.Person(person).IDs[lark.Name]
}

// message posts a message event from sender (an open_id) and waits for
// the bot's answer to it: its replies to the message (public answers,
// and every answer in a direct chat) and the direct messages it sent the
// sender as
// this event's answers (private answers to a group message: Lark shows a
// reply in a group to everyone there).
func (l *larkPlatform) message(body []byte, eventID, sender string) string {
	l.t.Helper()
	res, err := l.client.Event(body)
	if err != nil {
		l.t.Fatal(err)
	}
	if res.Status != http.StatusOK {
		l.t.Fatalf("message event: status %d: %s", res.Status, res.Body)
	}
	id := larktest.MessageID(eventID)
	answers := func() []larktest.Call {
		out := l.fake.Replies(id)
		for _, c := range l.fake.DMs(sender) {
			if u, _ := c.Body["uuid"].(string); strings.HasPrefix(u, eventID+":reply:") {
				out = append(out, c)
			}
		}
		return out
	}
	l.fake.AwaitFunc("answer to "+id, func() bool { return len(answers()) > 0 })
	return larkText(answers())
}

func (l *larkPlatform) command(person, line string) string {
	l.t.Helper()
	ev := l.ids.next("ev")
	return l.message(larktest.GroupMention(ev, larkCoord, l.userID(person), line), ev, l.userID(person))
}

func (l *larkPlatform) direct(person, line string) string {
	l.t.Helper()
	ev := l.ids.next("ev")
	l.p2p[larktest.MessageID(ev)] = person
	return l.message(larktest.P2PMessage(ev, l.userID(person), line), ev, l.userID(person))
}

func toCard(ref string, content any) card {
	k := card{ref: ref, text: larktest.CardText(content)}
	for _, b := range larktest.CardButtons(content) {
		k.buttons = append(k.buttons, button{action: b.Action, value: b.Value})
	}
	return k
}

func (l *larkPlatform) groupCards() []card { return l.cardsIn(larkCoord) }

func (l *larkPlatform) clueCards() []card { return l.cardsIn(larkClue) }

func (l *larkPlatform) cardsIn(chat string) []card {
	var out []card
	for _, c := range l.fake.Cards(chat) {
		content, err := c.Content()
		if err != nil {
			l.t.Fatal(err)
		}
		k := toCard(c.MessageID, content)
		k.chat = chat
		out = append(out, k)
	}
	return out
}

func (l *larkPlatform) groupTexts() []string {
	var out []string
	for _, c := range l.fake.Messages(larkCoord) {
		out = append(out, c.Text())
	}
	return out
}

func (l *larkPlatform) dms(person string) []string {
	var out []string
	for _, c := range l.fake.DMs(l.userID(person)) {
		out = append(out, c.Text())
	}
	return out
}

// larkDMChat is the chat the fake names for a message sent to a person
// by open_id.
const larkDMChat = "oc_chat_of_"

func (l *larkPlatform) dmCards(person string) []card {
	var out []card
	for _, c := range l.fake.DMs(l.userID(person)) {
		if !c.IsCard() {
			continue
		}
		content, err := c.Content()
		if err != nil {
			l.t.Fatal(err)
		}
		k := toCard(c.MessageID, content)
		k.chat = larkDMChat + c.MessageID
		out = append(out, k)
	}
	return out
}

// click posts a card callback. Lark shows the answer's toast to the
// clicker and its card, in place, to everyone.
func (l *larkPlatform) click(person string, c card, b button) clicked {
	l.t.Helper()
	chat := c.chat
	if chat == "" {
		chat = larkCoord
	}
	res, err := l.client.Card(larktest.CardActionEvent(larktest.CardAction{
		EventID: l.ids.next("card"), Operator: l.userID(person), ChatID: chat, MessageID: c.ref,
		Action: b.action, Value: b.value,
	}))
	if err != nil {
		l.t.Fatal(err)
	}
	if res.Status != http.StatusOK {
		l.t.Fatalf("card callback: status %d: %s", res.Status, res.Body)
	}
	ans, err := res.CardAnswer()
	if err != nil {
		l.t.Fatalf("card callback answer %q: %v", res.Body, err)
	}
	out := clicked{text: ans.Toast.Content}
	l.answers = append(l.answers, seen{audience: "private:" + person, text: ans.Toast.Content})
	if ans.Card.Data != nil {
		k := toCard(c.ref, ans.Card.Data)
		k.chat = c.chat
		out.card = &k
		audience := "group"
		switch {
		case chat == larkClue:
			audience = "clue-group"
		case strings.HasPrefix(chat, larkDMChat):
			audience = "dm:" + person
		}
		l.answers = append(l.answers, seen{audience: audience, text: k.text})
	}
	return out
}

func (l *larkPlatform) updates(c card) []string {
	var out []string
	for _, p := range l.fake.Patches(c.ref) {
		content, err := p.Content()
		if err != nil {
			l.t.Fatal(err)
		}
		out = append(out, larktest.CardText(content))
	}
	return out
}

func (l *larkPlatform) shown() []seen {
	out := append([]seen(nil), l.answers...)
	// A card sent to a person directly is read, and updated, there.
	direct := map[string]string{}
	for _, c := range l.fake.Shown() {
		if c.IsCreate() && c.ReceiveIDType() == "open_id" {
			direct[c.MessageID] = personOf(l.e, lark.Name, c.ReceiveID())
		}
	}
	for _, c := range l.fake.Shown() {
		audience := "group"
		switch {
		case c.IsCreate() && c.ReceiveID() == larkClue:
			audience = "clue-group"
		case c.IsCreate() && c.ReceiveIDType() == "open_id":
			audience = "dm:" + personOf(l.e, lark.Name, c.ReceiveID())
		case c.IsPatch() && direct[c.Target] != "":
			audience = "dm:" + direct[c.Target]
		case c.IsReply() && strings.HasPrefix(c.Target, "om_"):
			// A reply is a quoted message in the chat of the message it
			// answers: the group, or a person's chat with the bot.
			audience = l.chatOf(c.Target)
		}
		out = append(out, seen{audience: audience, text: c.Text()})
	}
	return out
}

// chatOf says who reads the chat of message id, which the test sent.
func (l *larkPlatform) chatOf(messageID string) string {
	if who, ok := l.p2p[messageID]; ok {
		return "dm:" + who
	}
	return "group"
}

func larkText(cs []larktest.Call) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Text())
		b.WriteString("\n")
	}
	return b.String()
}
