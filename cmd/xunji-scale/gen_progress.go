package main

import (
	"context"
	"fmt"
	"time"

	"github.com/xunji-bot/xunji/commands/progress"

	"github.com/xunji-bot/xunji/adapters/lark"
	"github.com/xunji-bot/xunji/bot"
)

// saveItem stores one rectification item as the progress commands do,
// with its index documents, title key and closed-item tally.
func saveItem(ctx context.Context, s bot.Store, it *progress.Item) error {
	return progress.Seed(ctx, s, it)
}

// saveMonth stores one month's collection and notice state.
func saveMonth(ctx context.Context, s bot.Store, m *progress.ProgressMonth) error {
	return bot.Records[progress.ProgressMonth](s, progress.CollProgressMonths).Put(ctx, m.ID, m)
}

// saveCheck stores one relay check with its period index document.
func saveCheck(ctx context.Context, s bot.Store, c *progress.Check) error {
	return progress.SeedCheck(ctx, s, c)
}

// genItems makes year y's n rectification items: a unit's problem with
// a 1–6 month deadline under one or two supervising bodies; most of the
// older ones closed (已销号), recent ones open or awaiting confirmation,
// some overdue.
func (g *gen) genItems(ctx context.Context, y, n int) error {
	g.items = g.items[:0]
	for k := range n {
		it := g.item(y, k)
		g.items = append(g.items, it)
		if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveItem(ctx, s, it) }); err != nil {
			return err
		}
	}
	g.stats.Counts[progress.CollItems] += n
	return nil
}

func (g *gen) item(y, k int) *progress.Item {
	created := g.yearTime(y)
	unit := g.pick(units)
	team := g.pick(teams)
	by := g.pick(teamPeople[team])
	sup := []string{g.pick(supervisors)}
	if g.chance(0.4) {
		if o := g.pick(supervisors); o != sup[0] {
			sup = append(sup, o)
		}
	}
	it := &progress.Item{
		ID: g.nextID(progress.PrefixItem, y), Round: g.roundID(), Unit: unit,
		Title:    fmt.Sprintf("%s%s（%d年第%d项）", unitNames[unit], g.pick(itemTopics), y, k+1),
		Deadline: g.day(created.AddDate(0, 1+g.rnd.IntN(6), 0)), Supervisors: sup,
		Immediate: g.chance(0.15), Source: team, Status: progress.ItemOpen, CreatedBy: by, CreatedAt: created,
	}
	pf := g.platform()
	it.History = append(it.History, bot.History{Time: created, Person: by, Platform: pf, Action: "create"})
	g.audit(created, by, "progress.create", it.ID, "")
	overdueFor := g.now.Sub(it.Deadline)
	r := g.rnd.Float64()
	switch {
	case overdueFor > 60*24*time.Hour:
		if r < 0.95 {
			it.Status = progress.ItemDone
		}
	case overdueFor > 0:
		switch {
		case r < 0.6:
			it.Status = progress.ItemDone
		case r < 0.75:
			it.Status = progress.ItemAwaiting
		}
	default:
		switch {
		case r < 0.2:
			it.Status = progress.ItemDone
		case r < 0.3:
			it.Status = progress.ItemAwaiting
		}
	}
	// Monthly progress reports by the unit's contact.
	contact := g.personOf(unit)
	final := 100
	if it.Status == progress.ItemOpen {
		final = 10 * g.rnd.IntN(10)
	}
	reports := 1 + g.rnd.IntN(6)
	t, pct := created, 0
	for i := range reports {
		t = g.after(t, 20, 40)
		next := final * (i + 1) / reports
		it.Progress = append(it.Progress, progress.ProgressEntry{Time: t, Person: contact, Platform: pf, From: pct, Percent: next, Note: "按计划推进整改"})
		g.audit(t, contact, "progress.log", it.ID, fmt.Sprintf("%d%%", next))
		pct = next
	}
	it.Percent, it.UpdatedAt = pct, t
	if it.Status != progress.ItemOpen {
		it.CompletedAt = t
	}
	if it.Status == progress.ItemDone {
		closer := g.personOf(sup[0])
		it.DoneAt, it.ClosedBy = g.after(t, 1, 15), closer
		it.History = append(it.History, bot.History{Time: it.DoneAt, Person: closer, Platform: pf, Action: "close"})
		g.audit(it.DoneAt, closer, "progress.close", it.ID, "")
	}
	for range g.rnd.IntN(4) {
		g.audit(g.between(created, t), "", "progress.remind", it.ID, "")
	}
	return it
}

// genMonths makes year y's monthly collections and notices (before the
// present month, whose notice the benchmark times).
func (g *gen) genMonths(ctx context.Context, y int) error {
	for mo := time.January; mo <= time.December; mo++ {
		first := time.Date(y, mo, 1, 9, 0, 0, 0, g.loc)
		if !first.Before(time.Date(g.now.Year(), g.now.Month(), 1, 0, 0, 0, 0, g.loc)) {
			break
		}
		m := &progress.ProgressMonth{ID: progress.MonthID(first, g.loc), StartedAt: first.AddDate(0, 0, -7), WindowStart: first.AddDate(0, -1, 0),
			Deadline: g.day(first.AddDate(0, 0, -2)), ClosedAt: first.AddDate(0, 0, -1), NoticeAt: first.Add(time.Hour)}
		var total progress.OrgFigures
		for _, u := range units {
			rep := progress.UnitReport{Unit: u}
			if g.chance(0.1) {
				rep.Missing = []string{"ZG"}
			}
			m.Units = append(m.Units, rep)
			f := progress.OrgFigures{Unit: u, Total: 20 + g.rnd.IntN(40)}
			f.Done = f.Total * (50 + g.rnd.IntN(40)) / 100
			f.Awaiting = g.rnd.IntN(3)
			f.Open = f.Total - f.Done - f.Awaiting
			f.Overdue = g.rnd.IntN(max(1, f.Open/3))
			f.Unreported = g.rnd.IntN(2)
			f.PercentSum = f.Done*100 + f.Open*40
			m.Figures = append(m.Figures, f)
			total.Total += f.Total
		}
		m.NoticeCards = []bot.MessageRef{{Platform: lark.Name, ChatID: "oc_demo_office", ID: "om_" + m.ID}}
		g.audit(m.StartedAt, "", "progress.collect", m.ID, "")
		g.audit(m.NoticeAt, "", "progress.notice", m.ID, fmt.Sprintf("total=%d", total.Total))
		if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveMonth(ctx, s, m) }); err != nil {
			return err
		}
		g.stats.Counts[progress.CollProgressMonths]++
	}
	return nil
}

// genChecks makes year y's relay checks: the stationed group's every
// month, each supervisor office's every two months.
func (g *gen) genChecks(ctx context.Context, y int) error {
	for mo := time.January; mo <= time.December; mo++ {
		at := time.Date(y, mo, 5, 9, 0, 0, 0, g.loc)
		if !at.Before(g.now) {
			break
		}
		type relay struct {
			kind progress.CheckKind
			body string
		}
		bodies := []relay{{progress.CheckStationed, "group3"}}
		if mo%2 == 1 {
			bodies = append(bodies, relay{progress.CheckSupervisor, "sup_chengguan"}, relay{progress.CheckSupervisor, "sup_hexi"})
		}
		for _, b := range bodies {
			period := progress.MonthID(at, g.loc)
			c := &progress.Check{ID: fmt.Sprintf("%s:%s:%s", b.kind, b.body, period), Kind: b.kind, Body: b.body, Period: period, PromptedAt: at}
			for i := 0; i < 5 && i < len(g.items); i++ {
				c.Items = append(c.Items, g.items[g.rnd.IntN(len(g.items))].ID)
			}
			g.audit(at, "", "progress.check.prompt", c.ID, "")
			if rec := g.after(at, 3, 20); rec.Before(g.now) {
				c.Result, c.RecordedBy, c.RecordedAt, c.Platform = progress.CheckPassed, g.personOf(b.body), rec, g.platform()
				if g.chance(0.3) && len(c.Items) > 0 {
					c.Result = progress.CheckIssues
					c.Findings = []progress.CheckFinding{{Item: c.Items[0], Note: "台账资料不完整", Person: c.RecordedBy, Time: rec, Result: progress.CheckIssues}}
				}
				g.audit(rec, c.RecordedBy, "progress.check", c.ID, string(c.Result))
			}
			if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveCheck(ctx, s, c) }); err != nil {
				return err
			}
			g.stats.Counts[progress.CollProgressChecks]++
		}
	}
	return nil
}
