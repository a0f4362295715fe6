package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/xunji-bot/xunji/bot"
)

// saveAudit stores one audit entry as bot.Bot.Audit.Result does: JSON
// under its zero-padded sequence number.
func saveAudit(ctx context.Context, s bot.Store, e *bot.AuditEntry) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.Put(ctx, bot.CollAudit, fmt.Sprintf("%012d", e.Seq), doc)
}

// audit queues an entry of the current year; flushAudit numbers and
// writes them in time order.
func (g *gen) audit(t time.Time, person, action, record, detail string) {
	res := bot.ResultOK
	if person != "" && g.chance(0.01) {
		res = bot.ResultRefused
	}
	var p bot.Platform
	if person != "" {
		p = g.platform()
	}
	g.audits = append(g.audits, bot.AuditEntry{Time: t, Person: person, Platform: p, Action: action, Record: record, Detail: detail, Result: res})
}

// fillerAudit is an entry about no generated record: reports, exports,
// settings.
func (g *gen) fillerAudit(y int) {
	who := g.pick(append(append([]string{}, officePeople...), "lina", "zhaoqiang", "chenjing", "sunli", "zhenghua", ""))
	g.audit(g.yearTime(y), who, g.pick(fillerActions), "", "")
}

// flushAudit writes the year's entries, numbered in time order.
func (g *gen) flushAudit(ctx context.Context) error {
	sortAudit(g.audits)
	for i := range g.audits {
		g.seq++
		e := g.audits[i]
		e.Seq = g.seq
		if err := g.w.add(ctx, func(ctx context.Context, s bot.Store) error { return saveAudit(ctx, s, &e) }); err != nil {
			return err
		}
	}
	g.stats.Counts[bot.CollAudit] += len(g.audits)
	g.audits = g.audits[:0]
	return nil
}
