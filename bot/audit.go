package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Audit results.
const (
	ResultOK      = "ok"
	ResultRefused = "refused"
)

// AuditEntry is one line of the append-only audit log: who did what,
// when, through which platform, to which record.
type AuditEntry struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Person   string    `json:"person"` // roster id, "" for the scheduler
	Platform Platform  `json:"platform"`
	Action   string    `json:"action"` // e.g. "clue.transfer", "roster.add"
	Record   string    `json:"record,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Result   string    `json:"result"`
}

// Audit writes a successful action to the audit log.
func (b *Bot) Audit(ctx context.Context, req *Request, action, record, detail string) error {
	return b.AuditResult(ctx, req, action, record, detail, ResultOK)
}

// AuditResult writes an audit entry with an explicit result.
func (b *Bot) AuditResult(ctx context.Context, req *Request, action, record, detail, result string) error {
	seq, err := b.Store.NextSeq(ctx, "audit")
	if err != nil {
		return err
	}
	e := AuditEntry{Seq: seq, Time: b.Now(), Action: action, Record: record, Detail: detail, Result: result}
	if req != nil {
		e.Platform = req.Platform
		if req.Person != nil {
			e.Person = req.Person.ID
		} else if req.UserID != "" {
			e.Person = string(req.Platform) + ":" + req.UserID
		}
	}
	doc, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return b.Store.Create(ctx, CollAudit, fmt.Sprintf("%012d", seq), doc)
}

// AuditLog returns the audit entries, oldest first, that match keep (all
// when keep is nil).
func (b *Bot) AuditLog(ctx context.Context, keep func(AuditEntry) bool) ([]AuditEntry, error) {
	docs, err := b.Store.List(ctx, CollAudit)
	if err != nil {
		return nil, err
	}
	var out []AuditEntry
	for _, d := range docs {
		var e AuditEntry
		if err := json.Unmarshal(d.Data, &e); err != nil {
			return nil, &Error{Code: EINTERNAL, Err: err}
		}
		if keep == nil || keep(e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Refuse audits a refused action on record and returns the EUNAUTHORIZED
// error whose catalog message key (with args) the person reads.
func (b *Bot) Refuse(ctx context.Context, req *Request, action, record, key string, args ...any) error {
	if err := b.AuditResult(ctx, req, action, record, "", ResultRefused); err != nil {
		return err
	}
	return Errorf(EUNAUTHORIZED, key, args...)
}
