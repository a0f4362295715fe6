package main

import (
	"context"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// saveCosign stores one co-signature as the cosign commands do.
func saveCosign(ctx context.Context, s bot.Store, c *bot.Cosign) error {
	return bot.Records[bot.Cosign](s, bot.CollCosigns).Put(ctx, c.ID, c)
}

// genCosigns makes year y's n three-party signatures (三方共同签字) of
// immediate-fix items: most complete, a few declined or withdrawn, the
// recent ones still open.
func (g *gen) genCosigns(ctx context.Context, y, n int) error {
	for range n {
		c := g.cosign(y)
		// The timed 会签 查看 reads a complete one of the present year (any,
		// when the year has none complete).
		if y == g.last && (g.stats.Cosign == "" || c.State == bot.CosignComplete && !g.sampleComplete) {
			g.stats.Cosign, g.sampleComplete = c.ID, c.State == bot.CosignComplete
		}
		if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveCosign(ctx, s, c) }); err != nil {
			return err
		}
	}
	g.stats.Counts[bot.CollCosigns] += n
	return nil
}

func (g *gen) cosign(y int) *bot.Cosign {
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
	c := &bot.Cosign{
		ID: g.nextID(bot.PrefixCosign, y), Template: "three", Title: "三方共同签字", TitleEn: "Three-party signature",
		Subject: bot.SubjectImmediateFix, Description: title + "已整改到位，请三方确认", Item: item, ItemTitle: title, Round: g.roundID(),
		Order: bot.OrderFree, HandoverTo: "supervisor", State: bot.CosignOpen,
		CreatedBy: by, CreatedAt: created, OpenedAt: created, Opens: 1,
		Parties: []bot.CosignParty{
			{Role: "inspection_team", Body: team, State: bot.PartyWaiting},
			{Role: "supervisor", Body: sup, State: bot.PartyWaiting},
			{Role: "responsible_unit", Body: unit, State: bot.PartyWaiting},
		},
		History: []bot.CosignEvent{{Time: created, Person: by, Platform: pf, Action: "create"}},
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
			p.State, p.By, p.At, p.Platform, p.Reason = bot.PartyDeclined, who, t, pf, "整改材料不全"
			c.State = bot.CosignDeclined
			c.History = append(c.History, bot.CosignEvent{Time: t, Person: who, Platform: pf, Action: "decline", Body: p.Body, Note: p.Reason})
			g.audit(t, who, "cosign.decline", c.ID, p.Body)
			break
		}
		p.State, p.By, p.At, p.Platform = bot.PartyConfirmed, who, t, pf
		c.History = append(c.History, bot.CosignEvent{Time: t, Person: who, Platform: pf, Action: "confirm", Body: p.Body})
		g.audit(t, who, "cosign.confirm", c.ID, p.Body)
	}
	if c.State == bot.CosignOpen && c.Parties[2].State == bot.PartyConfirmed {
		c.State, c.CompletedAt = bot.CosignComplete, t
		c.Handover = &bot.CosignHandover{To: sup, Date: g.day(t)}
		c.History = append(c.History, bot.CosignEvent{Time: t, Action: "complete"})
		g.audit(t, "", "cosign.complete", c.ID, "")
	}
	for range 3 + g.rnd.IntN(12) {
		g.audit(g.between(created, t.Add(72*time.Hour)), g.pick([]string{by, "wangming"}), "cosign.show", c.ID, "")
	}
	return c
}
