package bottest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/xunji-bot/xunji/bot"
)

// AuditLog returns the entries of b's whole audit log, oldest first, that
// match keep (all when keep is nil). It is for tests, which check what
// was audited; the bot itself reads a record's entries (Bot.Audit.Of) or
// one kind of action in a period (Bot.Audit.Between), never the whole log.
func AuditLog(ctx context.Context, b *bot.Bot, keep func(bot.AuditEntry) bool) ([]bot.AuditEntry, error) {
	var out []bot.AuditEntry
	r := bot.Range{Limit: 500}
	for {
		docs, err := bot.ScanDocs(ctx, b.Store, bot.CollAudit, r)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			var e bot.AuditEntry
			if err := json.Unmarshal(d.Data, &e); err != nil {
				return nil, fmt.Errorf("audit %q: %w", d.ID, err)
			}
			if keep == nil || keep(e) {
				out = append(out, e)
			}
		}
		if len(docs) < r.Limit {
			return out, nil
		}
		r.After = docs[len(docs)-1].ID
	}
}
