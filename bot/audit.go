package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AuditLog is the part of a Bot that writes and reads the audit log.
type AuditLog struct {
	b *Bot
}

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

// Record writes a successful action to the audit log.
func (au *AuditLog) Record(ctx context.Context, req *Request, action, record, detail string) error {
	return au.Result(ctx, req, action, record, detail, ResultOK)
}

// Audit index collections. Each audit entry (CollAudit, id %012d seq)
// has index documents written in the same unit of work, so that a
// question about one record or one kind of action reads only its
// entries instead of the whole log:
//
//   - CollAuditByRecord, id record + "\x00" + seq, for entries with a
//     record: a record's history in order;
//   - CollAuditByVerb, id verb + "\x00" + time + "\x00" + seq, where verb
//     is the action's last dot-separated part ("escalate" of
//     "progress.check.escalate") and time is UTC to the nanosecond in a
//     fixed width (see auditTimeKey): one kind of action within a period.
//
// An index document holds the entry itself (entries never change), so a
// page of the index is a page of entries, without a Get per line.
const (
	CollAuditByRecord = "audit_by_record"
	CollAuditByVerb   = "audit_by_verb"
)

// Result writes an audit entry with an explicit result, with its
// index documents, in the unit of work of ctx (or in a unit of its own).
func (au *AuditLog) Result(ctx context.Context, req *Request, action, record, detail, result string) error {
	// The number is taken at once, outside the unit (see unit.NextSeq): it
	// orders entries without making auditing units conflict, and a unit
	// run again or dropped leaves a gap in the log's numbering.
	seq, err := au.b.Store.NextSeq(ctx, "audit")
	if err != nil {
		return err
	}
	e := AuditEntry{Seq: seq, Time: au.b.Now(), Action: action, Record: record, Detail: detail, Result: result}
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
	return au.b.RunUnit(ctx, func(ctx context.Context) error {
		if err := au.b.Store.Create(ctx, CollAudit, auditID(seq), doc); err != nil {
			return err
		}
		return putAuditIndex(ctx, au.b.Store, e, doc)
	})
}

func auditID(seq int64) string { return fmt.Sprintf("%012d", seq) }

// auditTimeKey is t in UTC as a string whose byte order is time order.
func auditTimeKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// AuditVerb is the part of action the verb index is keyed by: after the
// last dot.
func AuditVerb(action string) string { return action[strings.LastIndexByte(action, '.')+1:] }

// putAuditIndex writes e's index documents (doc is e encoded); writing
// them again is harmless.
func putAuditIndex(ctx context.Context, s Store, e AuditEntry, doc []byte) error {
	for _, w := range auditIndexWrites(e, doc) {
		if err := s.Put(ctx, w.Coll, w.ID, w.Doc); err != nil {
			return err
		}
	}
	return nil
}

// auditIndexWrites are the index documents of e (doc is e encoded).
func auditIndexWrites(e AuditEntry, doc []byte) []Write {
	ws := make([]Write, 0, 2)
	if e.Record != "" {
		ws = append(ws, Write{Kind: WritePut, Coll: CollAuditByRecord, ID: e.Record + "\x00" + auditID(e.Seq), Doc: doc})
	}
	return append(ws, Write{Kind: WritePut, Coll: CollAuditByVerb, ID: AuditVerb(e.Action) + "\x00" + auditTimeKey(e.Time) + "\x00" + auditID(e.Seq), Doc: doc})
}

func decodeAudit(docs []Doc) ([]AuditEntry, error) {
	out := make([]AuditEntry, 0, len(docs))
	for _, d := range docs {
		var e AuditEntry
		if err := json.Unmarshal(d.Data, &e); err != nil {
			return nil, &Error{Code: EINTERNAL, Err: fmt.Errorf("audit %q: %w", d.ID, err)}
		}
		out = append(out, e)
	}
	return out, nil
}

// Of returns a page of record's audit entries in the order of their
// numbers (oldest first; newest first with r.Reverse). r.Prefix and
// r.After are in terms of the entries' ids (%012d of Seq): to page on,
// pass the last entry's AuditCursor as the next page's After. It reads
// only the page, from the record index.
func (au *AuditLog) Of(ctx context.Context, record string, r Range) ([]AuditEntry, error) {
	if record == "" {
		return nil, &Error{Code: EINTERNAL, Err: errors.New("audit: Audit.Of without a record")}
	}
	key := record + "\x00"
	r.Prefix = key + r.Prefix
	if r.After != "" {
		r.After = key + r.After
	}
	docs, err := ScanDocs(ctx, au.b.Store, CollAuditByRecord, r)
	if err != nil {
		return nil, err
	}
	return decodeAudit(docs)
}

// AuditCursor is the id of e to pass as Range.After to Audit.Of.
func (e AuditEntry) AuditCursor() string { return auditID(e.Seq) }

// auditPage is how many documents Audit.Between and BackfillAuditIndex
// read at a time.
const auditPage = 500

// Between returns the audit entries whose action ends in verb
// ("escalate" for "clue.escalate" and "progress.check.escalate") and
// whose time is in [from, to), oldest first. It reads only those, from
// the verb index.
func (au *AuditLog) Between(ctx context.Context, verb string, from, to time.Time) ([]AuditEntry, error) {
	if verb == "" || strings.Contains(verb, ".") {
		return nil, &Error{Code: EINTERNAL, Err: fmt.Errorf("audit: %q is not a verb", verb)}
	}
	prefix := verb + "\x00"
	end := prefix + auditTimeKey(to)
	// After the bare time key: every id at from itself goes on with
	// "\x00seq" and so comes after it.
	r := Range{Prefix: prefix, After: prefix + auditTimeKey(from), Limit: auditPage}
	var out []AuditEntry
	for {
		docs, err := ScanDocs(ctx, au.b.Store, CollAuditByVerb, r)
		if err != nil {
			return nil, err
		}
		full := len(docs) == auditPage
		for i, d := range docs {
			if d.ID >= end {
				docs, full = docs[:i], false
				break
			}
		}
		es, err := decodeAudit(docs)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
		if !full {
			return out, nil
		}
		r.After = docs[len(docs)-1].ID
	}
}

// auditIndexMarker is the document (in collection "meta") holding the id
// of the last audit entry BackfillAuditIndex indexed.
const (
	collMeta         = "meta"
	auditIndexMarker = "audit_index"
)

type auditIndexProgress struct {
	After string `json:"after"` // the last audit id indexed by a backfill
}

// BackfillAuditIndex writes the index documents of the audit entries
// after the last one it indexed before (all of them the first time): the
// entries of a store written by a version without the audit index, and
// those an older replica wrote during a rolling upgrade. A marker
// document keeps how far it got, a page at a time, so a later call reads
// only the entries written since. Writing an index document again is
// harmless (its id follows from the entry), so an interrupted run or two
// processes starting together cost only some writes twice. It returns
// how many entries it read. Entries written by this version have their
// index already; the call at start-up catches up with the others.
func BackfillAuditIndex(ctx context.Context, s Store) (int, error) {
	base := s
	if us, ok := s.(unitStore); ok {
		base = us.Store
	}
	var prog auditIndexProgress
	switch doc, err := base.Get(ctx, collMeta, auditIndexMarker); {
	case err == nil:
		if err := json.Unmarshal(doc, &prog); err != nil {
			return 0, &Error{Code: EINTERNAL, Err: fmt.Errorf("audit index marker: %w", err)}
		}
	case !IsNotFound(err):
		return 0, err
	}
	n := 0
	r := Range{After: prog.After, Limit: auditPage}
	for {
		docs, err := ScanDocs(ctx, base, CollAudit, r)
		if err != nil {
			return n, err
		}
		if len(docs) == 0 {
			return n, nil
		}
		// A page's index documents and the marker go in one commit (one
		// transaction, one fsync on bolt) when the store can.
		c := &Commit{}
		for _, d := range docs {
			var e AuditEntry
			if err := json.Unmarshal(d.Data, &e); err != nil {
				return n, &Error{Code: EINTERNAL, Err: fmt.Errorf("audit %q: %w", d.ID, err)}
			}
			c.Writes = append(c.Writes, auditIndexWrites(e, d.Data)...)
			n++
		}
		r.After = docs[len(docs)-1].ID
		marker, _ := json.Marshal(auditIndexProgress{After: r.After})
		c.Writes = append(c.Writes, Write{Kind: WritePut, Coll: collMeta, ID: auditIndexMarker, Doc: marker})
		if tx, ok := base.(TxStore); ok {
			err = tx.Commit(ctx, c)
		} else {
			err = applyOneByOne(ctx, base, c)
		}
		if err != nil {
			return n, err
		}
		if len(docs) < auditPage {
			return n, nil
		}
	}
}

// Refuse audits a refused action on record and returns the EUNAUTHORIZED
// error whose catalog message key (with args) the person reads.
func (b *Bot) Refuse(ctx context.Context, req *Request, action, record, key string, args ...any) error {
	if err := b.Audit.Result(ctx, req, action, record, "", ResultRefused); err != nil {
		return err
	}
	return Coded(EUNAUTHORIZED, key, args...)
}
