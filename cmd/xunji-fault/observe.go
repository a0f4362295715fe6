package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/xunji-bot/xunji/adapters/lark/larktest"
	"github.com/xunji-bot/xunji/adapters/slack/slacktest"
	"github.com/xunji-bot/xunji/bot"
	"github.com/xunji-bot/xunji/bot/outbox"
	"github.com/xunji-bot/xunji/commands/clue"
)

// kind is what a message the fakes received is, for the suite.
type kind int

const (
	kindCard   kind = iota // the group announcement of a clue
	kindAnswer             // the answer to the person who transferred it
	kindDM                 // the direct message of the substance
	kindOther              // anything else shown to the person who transferred
)

// seen is one message a fake platform showed.
type seen struct {
	Chat string
	Kind kind
	Clue string // XS-2026-0001; "" for kindOther
	Tag  string // the command's tag when the message names it
	Text string
}

var (
	dmRe     = regexp.MustCompile(`您单位收到一条移送的问题线索 (XS-\d{4}-\d+)`)
	answerRe = regexp.MustCompile(`已移送线索 (XS-\d{4}-\d+)`)
	cardRe   = regexp.MustCompile(`问题线索移送 (XS-\d{4}-\d+)`)
	tagRe    = regexp.MustCompile(`演练单位([SL]\d{2})`)
)

func classify(text string) (kind, string) {
	for _, x := range []struct {
		re *regexp.Regexp
		k  kind
	}{{dmRe, kindDM}, {answerRe, kindAnswer}, {cardRe, kindCard}} {
		if m := x.re.FindStringSubmatch(text); m != nil {
			return x.k, m[1]
		}
	}
	return kindOther, ""
}

// seenOn returns the messages the platform's fake showed, in the order
// it showed them: sends and replies, not card updates; of the others,
// only those shown to the person who sent the commands.
func (r *run) seenOn(platform string) []seen {
	var out []seen
	add := func(chat, text string, toSender bool) {
		k, id := classify(text)
		if k == kindOther && !toSender {
			return
		}
		s := seen{Chat: chat, Kind: k, Clue: id, Text: text}
		if m := tagRe.FindStringSubmatch(text); m != nil {
			s.Tag = m[1]
		}
		out = append(out, s)
	}
	switch platform {
	case "slack":
		if r.slack == nil {
			return nil
		}
		for _, c := range r.slack.Calls() {
			switch c.Method {
			case "chat.postMessage":
				add(c.Channel(), c.Text(), c.Channel() == slacktest.DMChannel(slackSender))
			case "chat.postEphemeral":
				add(c.Channel(), c.Text(), c.Field("user") == slackSender)
			case "response_url":
				add("response_url", c.Text(), true)
			}
		}
	case "lark":
		if r.lark == nil {
			return nil
		}
		for _, c := range r.lark.Shown() {
			switch {
			case c.IsCreate():
				add(c.ReceiveID(), c.Text(), c.ReceiveID() == larkSender)
			case c.IsReply():
				chat := "reply:" + c.Target
				if strings.HasPrefix(c.Target, larktest.MessageID("ev-")) {
					chat = larkChat // our commands were posted there
				}
				add(chat, c.Text(), chat == larkChat)
			}
		}
	}
	return out
}

// clueTags maps clue ids to the commands' tags, as the messages name them.
func clueTags(ss []seen) map[string]string {
	m := map[string]string{}
	for _, s := range ss {
		if s.Clue != "" && s.Tag != "" {
			m[s.Clue] = s.Tag
		}
	}
	return m
}

// complete reports whether every command sent on every platform has its
// group card, direct message and answer.
func (r *run) complete() bool {
	r.mu.Lock()
	cmds := slices.Clone(r.cmds)
	r.mu.Unlock()
	if len(cmds) < r.o.N*len(r.o.Platforms) {
		return false
	}
	have := map[string]map[kind]bool{}
	for _, p := range r.o.Platforms {
		ss := r.seenOn(p)
		tags := clueTags(ss)
		for _, s := range ss {
			if t := tags[s.Clue]; t != "" {
				if have[t] == nil {
					have[t] = map[kind]bool{}
				}
				have[t][s.Kind] = true
			}
		}
	}
	for _, c := range cmds {
		h := have[c.Tag]
		if !h[kindCard] || !h[kindDM] || !h[kindAnswer] {
			return false
		}
	}
	return true
}

// transferMessages counts the cards, answers and direct messages shown.
func (r *run) transferMessages() int {
	n := 0
	for _, p := range r.o.Platforms {
		for _, s := range r.seenOn(p) {
			if s.Kind != kindOther {
				n++
			}
		}
	}
	return n
}

// result is what one platform saw in one scenario.
type result struct {
	Scenario, Platform string
	N                  int
	Sent, Acked        int // commands sent; acknowledged with 200
	Answered           int // commands whose sender was told the clue id
	Clues              int // clue records of the commands
	Cards, DMs         int // group cards; direct messages with the substance to the receiving body
	Answers            int
	DupRecords         int // clue records beyond one per command
	DupCards           int
	DupDMs             int
	DupAnswers         int
	Lost               int // commands lacking a record, a card, a DM or an answer
	Inversions         int // pairs of messages shown out of commit order, over every chat
	Chats              int // chats checked for order
	Other              int // other messages shown to the sender (errors, "try again")
	OtherTexts         []string
	Cross              int // DMs and answers of the other platform's transfers shown here
	Leaks              int // the substance shown anywhere but the receiver's DM
	Left               int // inbox and outbox entries left in the store (whole run)
	PossibleDup        int // xunji_outbox_possible_duplicates_total of the live processes
	Missed             []string
	// Disorder shows each chat whose messages were out of order, in the
	// order shown.
	Disorder []string
}

func (x result) Dup() int { return x.DupRecords + x.DupCards + x.DupDMs + x.DupAnswers }

// stored is what the store holds at the end of a run.
type stored struct {
	clues        []clue.Clue
	inbox, outbx int
}

func readStored(ctx context.Context, s bot.Store) (stored, error) {
	var st stored
	clues, err := clue.NewQueries(s, nil).All(ctx)
	if err != nil {
		return st, fmt.Errorf("clues: %w", err)
	}
	for _, c := range clues {
		st.clues = append(st.clues, *c)
	}
	in, err := s.List(ctx, bot.CollInbox)
	if err != nil {
		return st, err
	}
	out, err := s.List(ctx, outbox.Coll)
	if err != nil {
		return st, err
	}
	st.inbox, st.outbx = len(in), len(out)
	return st, nil
}

// measure compares what platform's commands should have given with what
// the store holds and the fake showed.
func (r *run) measure(platform string, st stored, possibleDup int) result {
	res := result{Scenario: r.sc.Name, Platform: platform, N: r.o.N, Left: st.inbox + st.outbx, PossibleDup: possibleDup}
	cmds := r.commandsOn(platform)
	res.Sent = len(cmds)
	// The clues of every platform's commands: a group card goes to the
	// group on every platform it is configured on, so this platform also
	// shows the cards of the other platform's transfers.
	own := strings.ToUpper(platform[:1])
	cl := res.readClues(st, own)
	counts, perChat := res.countSeen(r.seenOn(platform), platform, own, cl)
	res.tally(cmds, counts, cl.records, own)
	res.checkOrder(perChat)
	res.judge(platform, r.o.N)
	return res
}

// commandsOn returns the commands sent on platform.
func (r *run) commandsOn(platform string) []*command {
	r.mu.Lock()
	defer r.mu.Unlock()
	var cmds []*command
	for _, c := range r.cmds {
		if c.Platform == platform {
			cmds = append(cmds, c)
		}
	}
	return cmds
}

// clues is what the store holds of the commands' clues.
type clues struct {
	records   map[string]int    // tag → records
	tagOf     map[string]string // clue id → tag
	substance map[string]string // clue id → substance
}

// readClues reads the stored clues, counting (Clues) those of the
// platform whose tags begin with own.
func (res *result) readClues(st stored, own string) clues {
	cl := clues{records: map[string]int{}, tagOf: map[string]string{}, substance: map[string]string{}}
	for _, c := range st.clues {
		m := tagRe.FindStringSubmatch(c.OrganisationName)
		if m == nil {
			continue
		}
		cl.tagOf[c.ID] = m[1]
		cl.substance[c.ID] = c.Substance
		if strings.HasPrefix(m[1], own) {
			cl.records[m[1]]++
			res.Clues++
		}
	}
	return cl
}

// countSeen counts what the platform's fake showed, per tag and kind,
// and groups it by chat; it counts the platform's own cards, DMs and
// answers, the other platform's, the other messages and the leaks of a
// substance outside the receiver's DM.
func (res *result) countSeen(shown []seen, platform, own string, cl clues) (map[string]map[kind]int, map[string][]seen) {
	receiver := larkReceiver
	if platform == "slack" {
		receiver = slacktest.DMChannel(slackReceiver)
	}
	counts := map[string]map[kind]int{}
	perChat := map[string][]seen{}
	for _, s := range shown {
		if s.Kind == kindOther {
			res.Other++
			res.OtherTexts = append(res.OtherTexts, s.Text)
			continue
		}
		if strings.Contains(s.Text, "演练线索内容") && !(s.Kind == kindDM && s.Chat == receiver) {
			res.Leaks++
		}
		t := cl.tagOf[s.Clue]
		if t == "" {
			t = "?" + s.Clue // a clue the store does not hold
		}
		if counts[t] == nil {
			counts[t] = map[kind]int{}
		}
		switch s.Kind {
		case kindCard:
			if s.Chat == map[string]string{"slack": slackClueChan, "lark": larkClueChat}[platform] {
				counts[t][kindCard]++
				if strings.HasPrefix(t, own) {
					res.Cards++
				}
			}
		case kindDM:
			if s.Chat == receiver && strings.Contains(s.Text, cl.substance[s.Clue]) && cl.substance[s.Clue] != "" {
				counts[t][kindDM]++
				if strings.HasPrefix(t, own) {
					res.DMs++
				} else {
					res.Cross++
				}
			}
		case kindAnswer:
			counts[t][kindAnswer]++
			if strings.HasPrefix(t, own) {
				res.Answers++
			} else {
				res.Cross++
			}
		}
		perChat[s.Chat] = append(perChat[s.Chat], s)
	}
	return counts, perChat
}

// tally counts, per command, what was acknowledged, answered, lost or
// duplicated, and the duplicates of messages no command owns.
func (res *result) tally(cmds []*command, counts map[string]map[kind]int, records map[string]int, own string) {
	for _, c := range cmds {
		if c.Acked.Load() {
			res.Acked++
		}
		n := counts[c.Tag]
		if n[kindAnswer] > 0 {
			res.Answered++
		}
		if records[c.Tag] == 0 || n[kindCard] == 0 || n[kindDM] == 0 || n[kindAnswer] == 0 {
			res.Lost++
		}
		res.DupRecords += max(0, records[c.Tag]-1)
		res.DupCards += max(0, n[kindCard]-1)
		res.DupDMs += max(0, n[kindDM]-1)
		res.DupAnswers += max(0, n[kindAnswer]-1)
	}
	for t, n := range counts {
		if !strings.HasPrefix(t, own) && !strings.HasPrefix(t, "?") { // the other platform's cards, shown here too
			res.DupCards += max(0, n[kindCard]-1)
			continue
		}
		if strings.HasPrefix(t, "?") { // messages of clues no command owns
			res.DupCards += n[kindCard]
			res.DupDMs += n[kindDM]
			res.DupAnswers += n[kindAnswer]
		}
	}
}

// checkOrder counts the chats and the pairs of messages shown out of
// order in each.
func (res *result) checkOrder(perChat map[string][]seen) {
	for chat, ss := range perChat {
		res.Chats++
		if n := inversions(ss); n > 0 {
			res.Inversions += n
			var seq []string
			for _, s := range ss {
				seq = append(seq, fmt.Sprintf("%s %s", [...]string{"card", "answer", "DM", "other"}[s.Kind], strings.TrimPrefix(s.Clue, "XS-")))
			}
			res.Disorder = append(res.Disorder, chat+": "+strings.Join(seq, ", "))
		}
	}
	slices.Sort(res.Disorder)
}

// judge lists in Missed what falls short of n commands each giving one
// record, card, DM and answer, in order and without leaks.
func (res *result) judge(platform string, n int) {
	if res.Clues != n {
		res.Missed = append(res.Missed, fmt.Sprintf("%d clue records, want %d", res.Clues, n))
	}
	if res.Cards != n {
		res.Missed = append(res.Missed, fmt.Sprintf("%d group cards, want %d", res.Cards, n))
	}
	if res.DMs != n {
		res.Missed = append(res.Missed, fmt.Sprintf("%d DMs of the substance, want %d", res.DMs, n))
	}
	if res.Lost > 0 {
		res.Missed = append(res.Missed, fmt.Sprintf("%d commands lost something", res.Lost))
	}
	if platform == "lark" && res.Dup() > 0 {
		res.Missed = append(res.Missed, fmt.Sprintf("%d duplicates on Lark", res.Dup()))
	}
	if res.Inversions > 0 {
		res.Missed = append(res.Missed, fmt.Sprintf("%d pairs out of order", res.Inversions))
	}
	if res.Leaks > 0 {
		res.Missed = append(res.Missed, fmt.Sprintf("the substance shown %d times outside the receiver's DM", res.Leaks))
	}
}

// inversions counts the pairs of messages of one chat shown in the
// opposite order to the one they were committed in. Clue numbers come
// from a gapless counter that every transfer's unit of work checks at
// commit, so they are the commit order; within one transfer, its group
// card is queued before its answer.
func inversions(ss []seen) int {
	type key struct{ seq, rank int }
	var keys []key
	for _, s := range ss {
		i := strings.LastIndexByte(s.Clue, '-')
		n, err := strconv.Atoi(s.Clue[i+1:])
		if err != nil {
			continue
		}
		rank := 0
		if s.Kind == kindAnswer {
			rank = 1
		}
		keys = append(keys, key{n, rank})
	}
	inv := 0
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			a, b := keys[i], keys[j]
			if a.seq > b.seq || (a.seq == b.seq && a.rank > b.rank) {
				inv++
			}
		}
	}
	return inv
}
