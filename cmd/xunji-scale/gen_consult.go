package main

import (
	"context"
	"time"

	"github.com/xunji-bot/xunji/commands/consult"
	"github.com/xunji-bot/xunji/commands/round"

	"github.com/xunji-bot/xunji/bot"
)

// saveConsult stores one information request (巡前征询) with its index
// documents.
func saveConsult(ctx context.Context, s bot.Store, c *consult.Consultation) error {
	return consult.Seed(ctx, s, c)
}

// saveSituation stores one situation report (巡中情况互通) with its index
// document.
func saveSituation(ctx context.Context, s bot.Store, sit *round.Situation) error {
	return round.SeedSituation(ctx, s, sit)
}

// genConsults makes, for each of year y's rounds, the information
// request to the four consulted departments before it starts and two
// situation reports during it.
func (g *gen) genConsults(ctx context.Context, y int) error {
	for _, r := range g.rounds {
		created := r.Start.AddDate(0, 0, -10)
		if created.After(g.now) {
			continue
		}
		by := g.pick(teamPeople[r.Team])
		c := &consult.Consultation{ID: g.nextID(consult.PrefixConsult, y), Round: r.ID, Team: r.Team, Organisation: r.Organisation,
			Request: "请提供" + unitNames[r.Organisation] + "领导班子及成员有关情况", Deadline: g.day(created.AddDate(0, 0, 7)), CreatedBy: by, CreatedAt: created}
		g.audit(created, by, "consult.create", c.ID, "")
		for _, d := range consultDepts {
			dep := consult.ConsultDept{Body: d}
			if at := g.after(created, 1, 7); at.Before(g.now) {
				who := g.personOf(d)
				dep.Answers = []consult.ConsultAnswer{{Text: "经查，未发现相关问题。", None: g.chance(0.6), By: who, At: at, Platform: g.platform()}}
				g.audit(at, who, "consult.answer", c.ID, d)
			}
			c.Depts = append(c.Depts, dep)
		}
		if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveConsult(ctx, s, c) }); err != nil {
			return err
		}
		g.stats.Counts[consult.CollConsults]++
		for range 2 {
			at := g.between(r.Start, r.End)
			if !at.Before(g.now) {
				continue
			}
			sit := &round.Situation{ID: g.nextID(round.PrefixSituation, y), Round: r.ID, Team: r.Team, From: by,
				Text: unitNames[r.Organisation] + "存在违规发放津贴补贴苗头性问题，请相关监督主体关注。", CreatedBy: by, CreatedAt: at}
			for _, b := range r.Attached {
				sit.To = append(sit.To, round.SituationAck{Body: b, By: g.personOf(b), At: at.Add(3 * time.Hour), Platform: g.platform()})
			}
			g.audit(at, by, "round.report", sit.ID, "")
			if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveSituation(ctx, s, sit) }); err != nil {
				return err
			}
			g.stats.Counts[round.CollSituations]++
		}
	}
	return nil
}
