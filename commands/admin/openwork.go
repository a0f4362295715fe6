package admin

import (
	"context"
	"strings"

	"github.com/xunji-bot/xunji/bot"
)

// openWork counts, per kind, the work still waiting on body: clues it
// received that are not concluded or returned, rectification items it is
// responsible for or supervises that are open, co-signatures in progress
// where it has not signed, and consultations it has not answered.
//
// It reads whole collections: it runs only for an administrator removing
// the last member of a body, where no index of "work per body" exists and
// a missed kind would leave work nobody can do.
func (h *handlers) openWork(ctx context.Context, body string) (map[string]int, error) {
	n := map[string]int{}
	clues, err := bot.Records[bot.Clue](h.b.Store, bot.CollClues).List(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range clues {
		if c.Open() && c.Body == body {
			n["clue"]++
		}
	}
	items, err := bot.Records[bot.Item](h.b.Store, bot.CollItems).List(ctx)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if it.Open() && (it.Unit == body || it.SupervisedBy(body)) {
			n["item"]++
		}
	}
	cosigns, err := bot.Records[bot.Cosign](h.b.Store, bot.CollCosigns).List(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cosigns {
		if c.State != bot.CosignOpen && c.State != bot.CosignDeclined {
			continue
		}
		if i := c.PartyOf(body); i >= 0 && c.Parties[i].State != bot.PartyConfirmed {
			n["cosign"]++
		}
	}
	consults, err := bot.Records[bot.Consultation](h.b.Store, bot.CollConsults).List(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range consults {
		if i := c.Dept(body); i >= 0 && !c.Depts[i].Answered() {
			n["consult"]++
		}
	}
	return n, nil
}

// openWorkText names the kinds of open work with their counts.
func (h *handlers) openWorkText(lang string, n map[string]int) string {
	var parts []string
	for _, k := range []string{"clue", "item", "cosign", "consult"} {
		if n[k] > 0 {
			parts = append(parts, h.b.T(lang, "admin.roster.work."+k, "count", n[k]))
		}
	}
	return strings.Join(parts, h.b.T(lang, "list.sep"))
}
