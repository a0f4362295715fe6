package main

import (
	"context"
	"time"

	"github.com/xunji-bot/xunji/commands/cosign"

	"github.com/xunji-bot/xunji/bot"
)

// saveCosign stores one co-signature with its index documents, as the
// cosign commands do.
func saveCosign(ctx context.Context, s bot.Store, c *cosign.Cosign) error {
	return cosign.Seed(ctx, s, c)
}

// genCosigns makes year y's n three-party signatures (三方共同签字) of
// immediate-fix items: most complete, a few declined or withdrawn, the
// recent ones still open.
func (g *gen) genCosigns(ctx context.Context, y, n int) error {
	for range n {
		c := g.cosign(y)
		// The timed 会签 查看 reads a complete one of the present year (any,
		// when the year has none complete).
		if y == g.last && (g.stats.Cosign == "" || c.State == cosign.CosignComplete && !g.sampleComplete) {
			g.stats.Cosign, g.sampleComplete = c.ID, c.State == cosign.CosignComplete
		}
		if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveCosign(ctx, s, c) }); err != nil {
			return err
		}
	}
	g.stats.Counts[cosign.CollCosigns] += n
	return nil
}

func (g *gen) cosign(y int) *cosign.Cosign {
	created := g.yearTime(y)
	team := g.pick(teams)
	by := g.pick(teamPeople[team])
	unit := g.pick(units)
	sup := g.pick([]string{"group3", "sup_chengguan", "sup_hexi"})
	item, title := "", unitNames[unit]+"即知即改事项"
	if len(g.items) > 0 {
		it := g.items[g.rnd.IntN(len(g.items))]
		item, title, unit = it.ID, it.Title, it.Unit
	}
	pf := g.platform()
	c := &cosign.Cosign{
		ID: g.nextID(cosign.PrefixCosign, y), Template: "three", Title: "三方共同签字", TitleEn: "Three-party signature",
		Subject: cosign.SubjectImmediateFix, Description: title + "已整改到位，请三方确认", Item: item, ItemTitle: title, Round: g.roundID(),
		Order: cosign.OrderFree, HandoverTo: "supervisor", State: cosign.CosignOpen,
		CreatedBy: by, CreatedAt: created, OpenedAt: created, Opens: 1,
		Parties: []cosign.CosignParty{
			{Role: "inspection_team", Body: team, State: cosign.PartyWaiting},
			{Role: "supervisor", Body: sup, State: cosign.PartyWaiting},
			{Role: "responsible_unit", Body: unit, State: cosign.PartyWaiting},
		},
		History: []cosign.CosignEvent{{Time: created, Person: by, Platform: pf, Action: "create"}},
	}
	g.audit(created, by, "cosign.create", c.ID, "")
	old := g.now.Sub(created) > 30*24*time.Hour
	r := g.rnd.Float64()
	t := created
	for i := range c.Parties {
		if !old && r < 0.5 && i == 2 {
			break // still waiting for the unit
		}
		p := &c.Parties[i]
		t = g.after(t, 0, 5)
		who := g.personOf(p.Body)
		if old && r > 0.95 && i == 1 {
			p.State, p.By, p.At, p.Platform, p.Reason = cosign.PartyDeclined, who, t, pf, "整改材料不全"
			c.State = cosign.CosignDeclined
			c.History = append(c.History, cosign.CosignEvent{Time: t, Person: who, Platform: pf, Action: "decline", Body: p.Body, Note: p.Reason})
			g.audit(t, who, "cosign.decline", c.ID, p.Body)
			break
		}
		p.State, p.By, p.At, p.Platform = cosign.PartyConfirmed, who, t, pf
		c.History = append(c.History, cosign.CosignEvent{Time: t, Person: who, Platform: pf, Action: "confirm", Body: p.Body})
		g.audit(t, who, "cosign.confirm", c.ID, p.Body)
	}
	if c.State == cosign.CosignOpen && c.Parties[2].State == cosign.PartyConfirmed {
		c.State, c.CompletedAt = cosign.CosignComplete, t
		c.Handover = &cosign.CosignHandover{To: sup, Date: g.day(t)}
		c.History = append(c.History, cosign.CosignEvent{Time: t, Action: "complete"})
		g.audit(t, "", "cosign.complete", c.ID, "")
	}
	// Reminder times as the cosign commands set them when the request
	// opens (two days, escalation two more; calendar days here), and the
	// reminder job's marks where a party was still unsigned by then, as
	// the job would have left them.
	for i := range c.Parties {
		p := &c.Parties[i]
		p.Since, p.RemindAt, p.EscalateAt = created, created.Add(48*time.Hour), created.Add(96*time.Hour)
		signed := p.State != cosign.PartyWaiting
		if (!signed || p.At.After(p.RemindAt)) && g.now.After(p.RemindAt) {
			p.Reminded = p.RemindAt
		}
		if (!signed || p.At.After(p.EscalateAt)) && g.now.After(p.EscalateAt) {
			p.Escalated = p.EscalateAt
		}
	}
	for range 3 + g.rnd.IntN(12) {
		g.audit(g.between(created, t.Add(72*time.Hour)), g.pick([]string{by, "wangming"}), "cosign.show", c.ID, "")
	}
	return c
}
