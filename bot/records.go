package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Collection names of the core's records.
const (
	CollAudit  = "audit"
	CollRoster = "roster" // administrators' roster changes
	CollPrefs  = "prefs"
)

// NewID returns the next human-readable id for prefix in year, e.g.
// XS-2026-0001. Numbers are sequential per prefix and year and unique
// across concurrent creators and processes sharing a store.
//
// Inside a unit of work the number is taken when the unit commits, so a
// unit run again or dropped leaves no gap.
func NewID(ctx context.Context, s Store, prefix string, year int) (string, error) {
	name := fmt.Sprintf("id:%s:%d", prefix, year)
	next := s.NextSeq
	if u := unitFrom(ctx); u != nil {
		next = u.nextGapless
	}
	n, err := next(ctx, name)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%d-%04d", prefix, year, n), nil
}

// Collection is a typed view of one store collection; records are JSON.
type Collection[T any] struct {
	Store Store
	Name  string
}

// Records returns the typed collection name of s.
func Records[T any](s Store, name string) Collection[T] { return Collection[T]{Store: s, Name: name} }

// Get loads one record.
func (c Collection[T]) Get(ctx context.Context, id string) (*T, error) {
	doc, err := c.Store.Get(ctx, c.Name, id)
	if err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, &Error{Code: EINTERNAL, Err: fmt.Errorf("%s/%s: %w", c.Name, id, err)}
	}
	return &v, nil
}

// Create stores a new record; ECONFLICT if the id exists.
func (c Collection[T]) Create(ctx context.Context, id string, v *T) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return &Error{Code: EINTERNAL, Err: err}
	}
	return c.Store.Create(ctx, c.Name, id, doc)
}

// Put stores a record, replacing any.
func (c Collection[T]) Put(ctx context.Context, id string, v *T) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return &Error{Code: EINTERNAL, Err: err}
	}
	return c.Store.Put(ctx, c.Name, id, doc)
}

// Update applies fn to the current record atomically and returns the
// stored result. fn may run more than once under contention; an error
// from it aborts the update.
func (c Collection[T]) Update(ctx context.Context, id string, fn func(*T) error) (*T, error) {
	var out T
	err := c.Store.Update(ctx, c.Name, id, func(cur []byte) ([]byte, error) {
		var v T
		if err := json.Unmarshal(cur, &v); err != nil {
			return nil, &Error{Code: EINTERNAL, Err: err}
		}
		if err := fn(&v); err != nil {
			return nil, err
		}
		out = v
		return json.Marshal(v)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Scan returns the records of r's page (see Scanner.Scan) in its order,
// with their ids, reading only the page when the store can.
func (c Collection[T]) Scan(ctx context.Context, r Range) ([]*T, []string, error) {
	docs, err := ScanDocs(ctx, c.Store, c.Name, r)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*T, 0, len(docs))
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		var v T
		if err := json.Unmarshal(d.Data, &v); err != nil {
			return nil, nil, &Error{Code: EINTERNAL, Err: errors.Join(fmt.Errorf("%s/%s", c.Name, d.ID), err)}
		}
		out = append(out, &v)
		ids = append(ids, d.ID)
	}
	return out, ids, nil
}

// List returns every record in id order.
func (c Collection[T]) List(ctx context.Context) ([]*T, error) {
	docs, err := c.Store.List(ctx, c.Name)
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(docs))
	for _, d := range docs {
		var v T
		if err := json.Unmarshal(d.Data, &v); err != nil {
			return nil, &Error{Code: EINTERNAL, Err: errors.Join(fmt.Errorf("%s/%s", c.Name, d.ID), err)}
		}
		out = append(out, &v)
	}
	return out, nil
}

// History is one step in a record's life, shown by "show" commands.
type History struct {
	Time     time.Time `json:"time"`
	Person   string    `json:"person"`
	Platform Platform  `json:"platform"`
	Action   string    `json:"action"`
	Note     string    `json:"note,omitempty"`
}

// RecordID reads positional argument i as a record id with prefix
// (XS-2026-0001; lower case accepted), answering a usage error with an
// example when it is missing or malformed.
func RecordID(req *Request, i int, prefix string) (string, error) {
	id := strings.ToUpper(strings.TrimSpace(req.Command.Arg(i)))
	example := prefix + "-2026-0001"
	if id == "" {
		return "", UsageError(req, "error.need_id", "example", example)
	}
	if !reRecordID.MatchString(id) || !strings.HasPrefix(id, prefix+"-") {
		return "", UsageError(req, "error.bad_id", "input", req.Command.Arg(i), "example", example)
	}
	return id, nil
}

var reRecordID = regexp.MustCompile(`^[A-Z]{2}-\d{4}-\d{4,}$`)
