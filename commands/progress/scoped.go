package progress

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/xunji-bot/xunji/bot"
)

// noticeKinds may receive the monthly notice as collaborating bodies.
var noticeKinds = append(slices.Clone(SupervisingKinds), bot.CaseOffice)

// noticeBodies resolves progress.notice_to against r: body ids or party
// kinds, in roster order. An entry that names neither, or a body of
// another kind, is an error naming it.
func noticeBodies(r *bot.Roster, entries []string) ([]string, error) {
	for i, e := range entries {
		if b, ok := r.Body(e); ok {
			if !slices.Contains(noticeKinds, b.Kind) {
				return nil, fmt.Errorf("progress.notice_to[%d]: %q is a %s; only supervising bodies and the case office get the notice", i, e, b.Kind)
			}
			continue
		}
		if !slices.Contains(noticeKinds, bot.PartyKind(e)) {
			return nil, fmt.Errorf("progress.notice_to[%d]: %q is neither a body id nor one of the kinds %v", i, e, noticeKinds)
		}
	}
	var out []string
	for _, b := range r.Bodies {
		if slices.Contains(entries, b.ID) || slices.Contains(entries, string(b.Kind)) {
			out = append(out, b.ID)
		}
	}
	return out, nil
}

// scoped returns the part of rep that body is entitled to: the
// rectification figures over the items it supervises (none for the case
// office) and the clues it received (all of them for the case office,
// which keeps the ledger of inspection clues). Special-inspection
// candidates, escalations and the change since last month are the
// office's and are left out.
func (h *handler) scoped(ctx context.Context, r *bot.Roster, rep *Report, m *ProgressMonth, body bot.Body) (*Report, error) {
	out := &Report{Month: rep.Month, At: rep.At, For: body.ID, Collected: rep.Collected, Closed: rep.Closed}
	// The items closed before the report's boundary count from the
	// body's own tallies.
	tallies, err := talliesBefore(ctx, h.b.Store, body.ID, tallyBoundary(rep.At, h.b.Loc))
	if err != nil {
		return nil, err
	}
	var mine []*Item
	ids := map[string]bool{}
	for _, it := range rep.items {
		if it.SupervisedBy(body.ID) {
			mine = append(mine, it)
			ids[it.ID] = true
		}
	}
	var sm *ProgressMonth
	if m != nil {
		c := *m
		c.Units = nil
		for _, u := range m.Units {
			u.Items = slices.DeleteFunc(slices.Clone(u.Items), func(id string) bool { return !ids[id] })
			u.Missing = slices.DeleteFunc(slices.Clone(u.Missing), func(id string) bool { return !ids[id] })
			if len(u.Items) > 0 || len(u.Missing) > 0 {
				c.Units = append(c.Units, u)
			}
		}
		sm = &c
	}
	out.items = mine
	out.Orgs, out.Total = figures(r, mine, tallies, sm, rep.At, h.b.Loc)
	if rep.Clues != nil {
		all := body.Kind == bot.CaseOffice
		out.Clues = scopeClues(rep.Clues, func(row ClueRow) bool { return all || row.Body == body.ID })
	}
	return out, nil
}

// scopeClues keeps the rows of cr that keep accepts and recounts the
// figures over them.
func scopeClues(cr *ClueReport, keep func(ClueRow) bool) *ClueReport {
	out := &ClueReport{From: cr.From, To: cr.To}
	for _, row := range cr.Rows {
		if !keep(row) {
			continue
		}
		out.Rows = append(out.Rows, row)
		if n := len(out.Bodies); n == 0 || out.Bodies[n-1].Body != row.Body {
			out.Bodies = append(out.Bodies, ClueFigures{Body: row.Body})
		}
		out.Bodies[len(out.Bodies)-1].add(row)
		out.Total.add(row)
		if row.DaysOverdue > 0 {
			out.Overdue = append(out.Overdue, row)
		}
	}
	return out
}

// noticeCollaborators sends each collaborating body (progress.notice_to)
// its part of the month's notice: to its group when it has one, else to
// its members directly. Errors are joined; each body's notice is
// audited with the figures it was shown.
func (h *handler) noticeCollaborators(ctx context.Context, r *bot.Roster, rep *Report, m *ProgressMonth) error {
	bodies, err := noticeBodies(r, h.cfg.NoticeTo)
	if err != nil || len(bodies) == 0 {
		return err
	}
	var errs []error
	for _, id := range bodies {
		body, _ := r.Body(id)
		sr, err := h.scoped(ctx, r, rep, m, body)
		if err != nil {
			return err
		}
		clues := 0
		if sr.Clues != nil {
			clues = len(sr.Clues.Rows)
		}
		if err := h.b.Audit.Record(ctx, nil, "progress.notice.body", rep.Month, fmt.Sprintf("body=%s items=%d clues=%d", id, sr.Total.Total, clues)); err != nil {
			return err
		}
		key := "progress:" + rep.Month + ":notice:" + id
		if body.Group != "" {
			if _, err := h.b.Out.Notify(ctx, bot.Notice{Group: body.Group, Card: h.noticeCard(r, sr, h.b.Lang), Key: key}); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		for _, p := range r.Members(id) {
			if _, err := h.b.Out.Notify(ctx, bot.Notice{PersonID: p.ID, Card: h.noticeCard(r, sr, h.b.People.LangOf(ctx, p)), Key: key}); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
