package main

import (
	"context"

	"github.com/xunji-bot/xunji/commands/round"

	"github.com/xunji-bot/xunji/bot"
)

// saveRound stores one inspection round with its index documents, as
// the round command does.
func saveRound(ctx context.Context, s bot.Store, r *round.Round) error {
	return round.Seed(ctx, s, r)
}

// genRounds makes year y's n inspection rounds, each two months of a
// team in an organisation, with the feedback three weeks later.
func (g *gen) genRounds(ctx context.Context, y, n int) error {
	g.rounds = g.rounds[:0]
	for range n {
		team := g.pick(teams)
		created := g.yearTime(y)
		start := g.day(created.AddDate(0, 0, 7))
		end := start.AddDate(0, 2, 0)
		r := &round.Round{
			ID: g.nextID(round.PrefixRound, y), Team: team, Organisation: g.pick(units),
			Attached: []string{g.pick([]string{"room1", "room2"}), "group3"},
			Start:    start, End: end, Feedback: end.AddDate(0, 0, 20),
			CreatedBy: g.pick(officePeople), CreatedAt: created,
		}
		r.Name = unitNames[r.Organisation] + "党组织巡察"
		g.rounds = append(g.rounds, r)
		g.audit(created, r.CreatedBy, "round.create", r.ID, "")
		if r.Feedback.Before(g.now) {
			g.audit(r.Feedback.Add(10*3600e9), g.pick(teamPeople[team]), "round.feedback", r.ID, "")
		}
		if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveRound(ctx, s, r) }); err != nil {
			return err
		}
	}
	g.stats.Counts[round.CollRounds] += n
	return nil
}

// roundID is a round of the current year, or "" when it has none.
func (g *gen) roundID() string {
	if len(g.rounds) == 0 {
		return ""
	}
	return g.rounds[g.rnd.IntN(len(g.rounds))].ID
}
