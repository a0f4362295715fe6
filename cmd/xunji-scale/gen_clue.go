package main

import (
	"context"
	"time"

	"github.com/xunji-bot/xunji/commands/clue"

	"github.com/xunji-bot/xunji/bot"
)

// saveClue stores one clue as the clue commands do, with its index
// documents.
func saveClue(ctx context.Context, s bot.Store, c *clue.Clue) error {
	return clue.Seed(ctx, s, c)
}

// genClues makes year y's n clues: transferred by a team (or the office)
// to a receiving body with a 90-day deadline; the older ones concluded
// or returned, recent ones still open, some of them overdue. Each has 26
// to 60 audit entries (its steps, reads and reminders), as the issue's
// 线索 记录 shows.
func (g *gen) genClues(ctx context.Context, y, n int) error {
	// As at a fresh install's start-up: the index backfill finds no clue
	// and marks the store indexed (later calls read the marker only);
	// every clue is then saved with its index documents.
	if _, err := clue.BackfillIndex(ctx, g.w.b); err != nil {
		return err
	}
	for range n {
		c := g.clue(y)
		// The timed commands read a concluded clue of the present year (any
		// clue, when the year has none concluded).
		if y == g.last && (g.stats.Clue == "" || c.Status == clue.ClueConcluded && !g.sampleConcluded) {
			g.stats.Clue, g.sampleConcluded = c.ID, c.Status == clue.ClueConcluded
		}
		if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveClue(ctx, s, c) }); err != nil {
			return err
		}
	}
	g.stats.Counts[clue.CollClues] += n
	return nil
}

func (g *gen) clue(y int) *clue.Clue {
	created := g.yearTime(y)
	team := g.pick(teams)
	from := g.pick(teamPeople[team])
	body := g.pick(receivers)
	org := g.pick(units)
	topic := g.pick(clueTopics)
	c := &clue.Clue{
		ID: g.nextID(clue.PrefixClue, y), Round: g.roundID(), FromBody: team, Body: body,
		Organisation: org, OrganisationName: unitNames[org] + "党组",
		Title:     unitNames[org] + topic + "问题",
		Substance: "群众反映" + unitNames[org] + "有关人员" + topic + "，涉及金额较大，请依规核查处置。",
		Deadline:  g.day(created.AddDate(0, 0, 90)), Priority: g.chance(0.1),
		Status: clue.ClueTransferred, CreatedBy: from, CreatedAt: created,
	}
	pf := g.platform()
	c.History = append(c.History, bot.History{Time: created, Person: from, Platform: pf, Action: "transfer"})
	g.audit(created, from, "clue.transfer", c.ID, body)
	final := g.clueFinal(g.now.Sub(created))
	receiver := g.personOf(body)
	t := created
	step := func(status clue.ClueStatus, action string, minD, maxD int) {
		t = g.after(t, minD, maxD)
		c.Status, c.UpdatedAt = status, t
		c.History = append(c.History, bot.History{Time: t, Person: receiver, Platform: pf, Action: action})
		g.audit(t, receiver, "clue."+action, c.ID, "")
	}
	if final == clue.ClueReturned {
		step(clue.ClueReturned, "return", 1, 10)
		c.ClosedBy, c.ClosedAt = receiver, t
	} else if final != clue.ClueTransferred {
		step(clue.ClueAcknowledged, "ack", 0, 4)
		c.AckBy, c.AckAt = receiver, t
		if final == clue.ClueVerifying || final == clue.ClueConcluded {
			step(clue.ClueVerifying, "verify", 1, 10)
			c.VerifyAt = t
		}
		if final == clue.ClueConcluded {
			step(clue.ClueConcluded, "conclude", 20, 80)
			c.Conclusion = clue.ClueConclusions[g.rnd.IntN(len(clue.ClueConclusions))]
			c.CaseOpened = c.Conclusion == clue.DisposalVerify && g.chance(0.3)
			c.ClosedBy, c.ClosedAt = receiver, t
		}
	}
	g.clueTrail(c, created, from, receiver)
	return c
}

// clueFinal draws the status a clue created age ago has reached.
func (g *gen) clueFinal(age time.Duration) clue.ClueStatus {
	r := g.rnd.Float64()
	switch {
	case age > 180*24*time.Hour:
		if r < 0.1 {
			return clue.ClueReturned
		}
		return clue.ClueConcluded
	case age > 90*24*time.Hour: // past the deadline: the open ones are overdue
		return []clue.ClueStatus{clue.ClueConcluded, clue.ClueConcluded, clue.ClueVerifying, clue.ClueAcknowledged, clue.ClueReturned}[g.rnd.IntN(5)]
	default:
		return []clue.ClueStatus{clue.ClueTransferred, clue.ClueAcknowledged, clue.ClueAcknowledged, clue.ClueVerifying, clue.ClueConcluded}[g.rnd.IntN(5)]
	}
}

// clueTrail audits reads, reminders and feedback of c, filling its trail
// to 26–60 lines between its creation and a month after it closed.
func (g *gen) clueTrail(c *clue.Clue, created time.Time, from, receiver string) {
	end := g.now.Add(-time.Hour)
	if !c.ClosedAt.IsZero() {
		end = c.ClosedAt.AddDate(0, 1, 0)
		if end.After(g.now) {
			end = g.now.Add(-time.Hour)
		}
	}
	want := 26 + g.rnd.IntN(35)
	for k := len(c.History); k < want; k++ {
		at := g.between(created, end)
		switch r := g.rnd.IntN(10); {
		case r < 6:
			g.audit(at, g.pick([]string{from, receiver, "wangming"}), "clue.show", c.ID, "")
		case r < 7:
			g.audit(at, g.pick([]string{from, receiver, "wangming"}), "clue.history", c.ID, "")
		case r < 9:
			g.audit(at, "", "clue.remind_deadline", c.ID, "")
		default:
			g.audit(at, receiver, "clue.feedback", c.ID, "")
		}
	}
}
