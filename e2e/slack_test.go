package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xunji-bot/xunji/adapters/slack"
	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot/bottest"
	"github.com/xunji-bot/xunji/bot/outbox"
)

const (
	slackSecret = "flow-signing-secret"
	slackCoord  = "C0DEMOCOORD"      // the coordination group on Slack (demo.yaml)
	slackClue   = "C0DEMODISCIPLINE" // the discipline-only clue group on Slack (demo.yaml)
)

// slackPlatform drives the Slack adapter: commands are slash commands,
// direct chats are message.im events, clicks are block_actions.
type slackPlatform struct {
	t      *testing.T
	e      *bottest.Env
	fake   *slacktest.Server
	client *slacktest.Client
	ids    seq

	answers []seen            // slash command acknowledgements: only the typist reads them
	who     map[string]string // trigger id → who typed or clicked
	inDM    map[string]bool   // trigger id → the click was on a card in the clicker's direct chat
}

func newSlack(t *testing.T) *slackPlatform {
	t.Helper()
	env := newEnv(t)
	fake := slacktest.NewServer(t)
	a, err := slack.New(slack.Config{BotToken: "xoxb-flow", SigningSecret: slackSecret, APIURL: fake.APIURL()}, slack.WithLogger(logger(t)))
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, env, a)
	return &slackPlatform{t: t, e: env, fake: fake, client: &slacktest.Client{URL: url, Secret: slackSecret}, who: map[string]string{}, inDM: map[string]bool{}}
}

func (s *slackPlatform) name() string      { return "slack" }
func (s *slackPlatform) env() *bottest.Env { return s.e }

func (s *slackPlatform) userID(person string) string {
	s.t.Helper()
	return s.e.Person(person).IDs[slack.Name]
}

func (s *slackPlatform) command(person, line string) string {
	s.t.Helper()
	verb, rest, _ := strings.Cut(line, " ")
	trigger := s.ids.next("trig")
	s.who[trigger] = person
	form := slacktest.SlashCommand("/"+verb, rest, s.userID(person), slackCoord, trigger, s.fake.ResponseURL(trigger))
	res, err := s.client.Command(form)
	if err != nil {
		s.t.Fatal(err)
	}
	if res.Status != http.StatusOK {
		s.t.Fatalf("/%s: status %d", verb, res.Status)
	}
	var text string
	if m, ok := res.Message(); ok {
		if m.ResponseType == "in_channel" {
			s.t.Errorf("/%s answered the whole channel: %s", verb, res.Body)
		}
		text = res.Text()
	} else {
		// Slower than the acknowledgement: the answer follows through
		// the response_url.
		s.fake.AwaitFunc("answer to "+trigger, func() bool { return len(s.fake.Responses(trigger)) > 0 })
		text = slackText(s.fake.Responses(trigger))
	}
	s.answers = append(s.answers, seen{audience: "private:" + person, text: text})
	return text
}

func (s *slackPlatform) direct(person, line string) string {
	s.t.Helper()
	uid := s.userID(person)
	before := len(s.fake.DMs(uid))
	res, err := s.client.Event(slacktest.DirectMessage(s.ids.next("Ev"), uid, slacktest.DMChannel(uid), line))
	if err != nil {
		s.t.Fatal(err)
	}
	if res.Status != http.StatusOK {
		s.t.Fatalf("message.im: status %d", res.Status)
	}
	s.fake.AwaitFunc("answer in the DM of "+person, func() bool { return len(s.fake.DMs(uid)) > before })
	return slackText(s.fake.DMs(uid)[before:])
}

func (s *slackPlatform) groupCards() []card { return s.cardsIn(slackCoord) }

func (s *slackPlatform) clueCards() []card { return s.cardsIn(slackClue) }

func (s *slackPlatform) cardsIn(channel string) []card {
	var out []card
	for _, c := range s.fake.Cards(channel) {
		k := card{ref: c.TS, chat: channel, text: c.Text()}
		for _, b := range c.Buttons() {
			k.buttons = append(k.buttons, button{action: b.ActionID, value: b.Value})
		}
		out = append(out, k)
	}
	return out
}

func (s *slackPlatform) groupTexts() []string {
	var out []string
	for _, c := range s.fake.Posts(slackCoord) {
		out = append(out, c.Text())
	}
	return out
}

func (s *slackPlatform) dms(person string) []string {
	var out []string
	for _, c := range s.fake.DMs(s.userID(person)) {
		out = append(out, c.Text())
	}
	return out
}

func (s *slackPlatform) dmCards(person string) []card {
	return s.cardsIn(slacktest.DMChannel(s.userID(person)))
}

// click posts a block_actions interaction. Every click gets a private
// answer through its response_url (the refusal, or the toast of a card
// replaced in place), sent after the card's chat.update.
func (s *slackPlatform) click(person string, c card, b button) clicked {
	s.t.Helper()
	trigger := s.ids.next("click")
	s.who[trigger] = person
	chat := c.chat
	if chat == "" {
		chat = slackCoord
	}
	dm := strings.HasPrefix(chat, "D")
	s.inDM[trigger] = dm
	before := len(s.fake.Updates(chat, c.ref))
	posts := len(s.fake.Posts(chat))
	res, err := s.client.Interaction(slacktest.BlockActions(slacktest.Click{
		User: s.userID(person), Channel: chat, MessageTS: c.ref, ActionID: b.action, Value: b.value,
		TriggerID: trigger, ResponseURL: s.fake.ResponseURL(trigger),
	}))
	if err != nil {
		s.t.Fatal(err)
	}
	if res.Status != http.StatusOK {
		s.t.Fatalf("block_actions: status %d", res.Status)
	}
	// In a direct chat the bot answers with a message there rather than
	// through the response_url.
	s.fake.AwaitFunc("answer to "+trigger, func() bool {
		return len(s.fake.Responses(trigger)) > 0 || dm && len(s.fake.Posts(chat)) > posts
	})
	text := slackText(s.fake.Responses(trigger))
	if dm {
		// A notice sent there at the same time (a completion) may come
		// before the answer: wait until the bot has gone quiet.
		s.settle()
		text += slackText(s.fake.Posts(chat)[posts:])
	}
	out := clicked{text: text}
	if ups := s.fake.Updates(chat, c.ref); len(ups) > before {
		last := ups[len(ups)-1]
		k := card{ref: c.ref, chat: chat, text: last.Text()}
		for _, b := range last.Buttons() {
			k.buttons = append(k.buttons, button{action: b.ActionID, value: b.Value})
		}
		out.card = &k
	}
	return out
}

func (s *slackPlatform) updates(c card) []string {
	var out []string
	chat := c.chat
	if chat == "" {
		chat = slackCoord
	}
	for _, u := range s.fake.Updates(chat, c.ref) {
		out = append(out, u.Text())
	}
	return out
}

func (s *slackPlatform) shown() []seen {
	out := append([]seen(nil), s.answers...)
	for _, c := range s.fake.Calls() {
		var audience string
		switch c.Method {
		case "chat.postMessage", "chat.update":
			ch := c.Channel()
			audience = "group"
			if ch == slackClue {
				audience = "clue-group"
			}
			if strings.HasPrefix(ch, "D") {
				audience = "dm:" + personOf(s.e, slack.Name, "U"+strings.TrimPrefix(ch, "D"))
			}
		case "chat.postEphemeral":
			audience = "private:" + personOf(s.e, slack.Name, c.Field("user"))
		case "response_url":
			// Only ephemeral answers are expected; anything else would be
			// seen by the channel.
			audience = "group"
			trigger := strings.TrimPrefix(c.Path, "/response/")
			switch {
			case c.Field("response_type") != "in_channel" && c.Field("replace_original") != "true":
				audience = "private:" + s.who[trigger]
			case s.inDM[trigger] && c.Field("response_type") != "in_channel":
				// The card replaced in the clicker's direct chat.
				audience = "dm:" + s.who[trigger]
			}
		default:
			continue
		}
		out = append(out, seen{audience: audience, text: c.Text()})
	}
	return out
}

func slackText(cs []slacktest.Call) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Text())
		b.WriteString("\n")
	}
	return b.String()
}

// settle waits until the bot has nothing left to send — its outbox is
// empty: every answer delivered and released, even when a request's
// completion lags on a busy machine (bounded) — and then until no call
// has reached the fake for a moment (at most a few seconds).
func (s *slackPlatform) settle() {
	bottest.Eventually(10*time.Second, func() bool {
		docs, err := s.e.Store.List(context.Background(), outbox.Coll)
		return err == nil && len(docs) == 0
	})
	n := len(s.fake.Calls())
	for range 30 {
		time.Sleep(100 * time.Millisecond)
		m := len(s.fake.Calls())
		if m == n {
			return
		}
		n = m
	}
}
