package admin

import (
	"context"
	"strings"
)

// OpenWork is one domain's count of the work still waiting on a body:
// clues it received that are not concluded or returned, rectification
// items it is responsible for or supervises that are open, co-signatures
// in progress where it has not signed, consultations it has not answered.
// The domains own those records and admin imports none of them, so
// commands/all passes one OpenWork per domain to Module, in the order the warning
// names them (the way a service interface is passed in).
type OpenWork struct {
	// Kind names the work in the catalog: admin.roster.work.<Kind>.
	Kind string
	// Count counts the open work of this kind waiting on body.
	Count func(ctx context.Context, body string) (int, error)
}

// openWork counts, per kind, the work still waiting on body; a kind with
// none is left out, so an empty map means no open work. It runs only
// for an administrator removing the last member of a body, where a missed
// kind would leave work nobody can do.
func (h *handler) openWork(ctx context.Context, body string) (map[string]int, error) {
	n := map[string]int{}
	for _, w := range h.work {
		c, err := w.Count(ctx, body)
		if err != nil {
			return nil, err
		}
		if c > 0 {
			n[w.Kind] += c
		}
	}
	return n, nil
}

// openWorkText names the kinds of open work with their counts.
func (h *handler) openWorkText(lang string, n map[string]int) string {
	var parts []string
	for _, w := range h.work {
		if n[w.Kind] > 0 {
			parts = append(parts, h.b.T(lang, "admin.roster.work."+w.Kind, "count", n[w.Kind]))
		}
	}
	return strings.Join(parts, h.b.T(lang, "list.sep"))
}
