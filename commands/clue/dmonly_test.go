package clue

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/xunji-bot/xunji/adapters/console"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/bottest"
)

// dmRef is the recorded direct message of clue id to person.
func dmRef(t *testing.T, env *bottest.Env, id, person string) bot.MessageRef {
	t.Helper()
	for _, d := range loadClue(t, env, id).DMs {
		if d.Person == person {
			return env.Delivered(d.Message)
		}
	}
	t.Fatalf("no direct message of %s to %s recorded", id, person)
	return bot.MessageRef{}
}

// groupCardRef is the reference the recorder gave the first card posted
// in the clue group (it numbers new messages from 1).
func groupCardRef(t *testing.T, env *bottest.Env) bot.MessageRef {
	t.Helper()
	n := 0
	for _, o := range env.Adapter.Sent() {
		if o.Update != nil {
			continue
		}
		n++
		if o.ChatID == clueChat && o.Card != nil {
			return bot.MessageRef{Platform: console.Name, ChatID: clueChat, ID: strconv.Itoa(n)}
		}
	}
	t.Fatal("no card posted in the clue group")
	return bot.MessageRef{}
}

// clickOn presses the acknowledge button of clue id on message m as
// person.
func clickOn(env *bottest.Env, person, id string, m bot.MessageRef, direct bool) *bot.Response {
	env.T.Helper()
	p := env.Person(person)
	return env.Bot.Handle(context.Background(), &bot.Request{Kind: bot.KindAction, Platform: console.Name, UserID: p.IDs[console.Name], UserName: p.Name,
		ChatID: m.ChatID, Direct: direct, Action: "clue.ack", Value: id, Message: m})
}

// replacedCard is the card that replaces the clicked message.
func replacedCard(t *testing.T, r *bot.Response) *bot.Card {
	t.Helper()
	for _, rep := range r.Replies {
		if rep.Replace && rep.Card != nil {
			return rep.Card
		}
	}
	t.Fatalf("no card replaces the clicked message: %+v", r)
	return nil
}

// The substance is written into the clicked message only when it is a
// direct message the bot recorded sending the clicker. A click on any
// other message (one in the group the bot has no record of, a direct
// message it did not record, another member's direct message) replaces
// it with the card without the substance, and the substance goes to the
// clicker by a new direct message.
func TestAcknowledgeWritesTheSubstanceOnlyIntoARecordedDirectMessage(t *testing.T) {
	cases := []struct {
		name   string
		who    string
		direct bool
		msg    func(t *testing.T, env *bottest.Env, id string) bot.MessageRef
		detail bool // the clicked message shows the substance
		newDM  bool // the substance goes by a new direct message
	}{
		{"the clicker's recorded direct message", "zhaoqiang", true, func(t *testing.T, env *bottest.Env, id string) bot.MessageRef {
			return dmRef(t, env, id, "zhaoqiang")
		}, true, false},
		{"the recorded group card", "zhaoqiang", false, func(t *testing.T, env *bottest.Env, id string) bot.MessageRef {
			return groupCardRef(t, env)
		}, false, false},
		{"an unrecorded message in the group", "zhaoqiang", false, func(*testing.T, *bottest.Env, string) bot.MessageRef {
			return bot.MessageRef{Platform: console.Name, ChatID: clueChat, ID: "4242"}
		}, false, true},
		{"an unrecorded message said to be direct", "zhaoqiang", true, func(*testing.T, *bottest.Env, string) bot.MessageRef {
			return bot.MessageRef{Platform: console.Name, ChatID: "dm:赵强", ID: "4242"}
		}, false, true},
		{"another member's direct message", "qianli", true, func(t *testing.T, env *bottest.Env, id string) bot.MessageRef {
			return dmRef(t, env, id, "zhaoqiang")
		}, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			addMember(t, env, "qianli", "钱立")
			id := transfer(t, env, transferZH)
			m := c.msg(t, env, id)
			before := len(env.Adapter.Sent())
			r := clickOn(env, c.who, id, m, c.direct)
			card := bottest.CardText(replacedCard(t, r))
			if c.detail {
				bottest.MustContain(t, "replaced card", card, substance, title)
			} else {
				bottest.MustNotContain(t, "replaced card", card, substance, title)
				bottest.MustContain(t, "replaced card", card, id, "已签收")
			}
			uid := env.Person(c.who).IDs[console.Name]
			var dms []bot.Outgoing
			for _, o := range env.Adapter.Sent()[before:] {
				if strings.Contains(outText(o), substance) {
					if o.UserID != uid || o.ChatID != "" {
						t.Errorf("substance sent to chat %q user %q", o.ChatID, o.UserID)
					}
					dms = append(dms, o)
				}
			}
			if got := len(dms) > 0; got != c.newDM {
				t.Errorf("new direct message with the substance: %v, want %v", got, c.newDM)
			}
			if loadClue(t, env, id).Status != ClueAcknowledged {
				t.Error("the clue was not acknowledged")
			}
		})
	}
}

// failingClueCommits is a store whose commits that write a clue record
// fail while fail is set.
type failingClueCommits struct {
	*bottest.Mem
	fail atomic.Bool
}

func (f *failingClueCommits) Commit(ctx context.Context, c *bot.Commit) error {
	for _, w := range c.Writes {
		if f.fail.Load() && w.Coll == CollClues {
			return bot.Unavailable(errors.New("store down"))
		}
	}
	return f.Mem.Commit(ctx, c)
}

// A group card leaves only with its reference stored: the transfer, the
// card and its reference are one unit of work. When the store fails at
// its commit, nothing is posted, nothing is kept, and the person is told
// to try again; a later click on an unrecorded message in the group gets
// the card without the substance (TestAcknowledgeWritesTheSubstance…).
func TestUnrecordedGroupCardIsNeverPosted(t *testing.T) {
	st := &failingClueCommits{Mem: bottest.NewMem()}
	env := bottest.New(t, bottest.WithStore(st))
	if err := Module().Setup(env.Bot, env.Config); err != nil {
		t.Fatal(err)
	}
	st.fail.Store(true)
	got := bottest.Text(env.Command("lina", transferZH))
	st.fail.Store(false)
	bottest.MustContain(t, "transfer while the store fails", got, env.TZ("error.unavailable"))
	if sent := env.Adapter.Sent(); len(sent) != 0 {
		t.Errorf("%d messages left for a transfer that was not stored: %+v", len(sent), sent)
	}
	if docs, _ := env.Store.List(t.Context(), CollClues); len(docs) != 0 {
		t.Errorf("%d clues stored", len(docs))
	}
	if docs, _ := env.Store.List(t.Context(), "outbox"); len(docs) != 0 {
		t.Errorf("%d messages queued for a transfer that was not stored", len(docs))
	}
}

// A member's `clue show` in a group sends the detail card with the
// button by direct message and records it: its button then replaces it
// with the substance.
func TestShowInAGroupRecordsTheDirectMessage(t *testing.T) {
	env := newEnv(t)
	id := transfer(t, env, transferZH)
	n := len(loadClue(t, env, id).DMs)
	env.Command("zhaoqiang", "线索 查看 "+id)
	dms := loadClue(t, env, id).DMs
	if len(dms) != n+1 {
		t.Fatalf("%d direct messages recorded after show, want %d", len(dms), n+1)
	}
	r := clickOn(env, "zhaoqiang", id, env.Delivered(dms[n].Message), true)
	bottest.MustContain(t, "replaced card", bottest.CardText(replacedCard(t, r)), substance)
}

// addMember adds a second member to the receiving body (room2).
func addMember(t *testing.T, env *bottest.Env, id, name string) {
	t.Helper()
	doc, err := json.Marshal(bot.Person{ID: id, Name: name, Bodies: []string{"room2"}, IDs: map[bot.Platform]string{console.Name: name}})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.Put(t.Context(), bot.CollRoster, id, doc); err != nil {
		t.Fatal(err)
	}
}
