package bot

// The core's errors, all in this file: the coded Error with its codes and
// constructors (Coded, NotFound, Exists, Unavailable), the sentinel
// values (Err*), and the interfaces by which adapter errors say what
// kind they are (AuthFailure, APICoder, RetryAfter).

import (
	"errors"
	"fmt"
	"time"
)

// Error codes, in the style of benbjohnson/wtf: the core and the stores
// return coded errors and the router translates them into the user's
// language at the edge.
const (
	ECONFLICT     = "conflict"     // a record changed or already exists
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // bad input from the user
	ENOTFOUND     = "not_found"    // the record does not exist
	EUNAUTHORIZED = "unauthorized" // the person may not do this
	EUNAVAILABLE  = "unavailable"  // a dependency (store, platform) is down
)

// Error is a coded error. Key names a message in the catalog (bot/i18n)
// and Args fills its placeholders as name/value pairs. Example, when set,
// is a catalog key or a literal command line showing the right form.
type Error struct {
	Code    string
	Key     string
	Args    []any
	Example string
	Err     error // wrapped cause, never shown to users
}

func (e *Error) Error() string {
	s := e.Code
	if e.Key != "" {
		s += ": " + e.Key
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// WithExample attaches an example of the right form to the error.
func (e *Error) WithExample(example string) *Error {
	e.Example = example
	return e
}

// ErrorCode returns the code of err, EINTERNAL for uncoded errors and ""
// for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// IsNotFound reports whether err is an ENOTFOUND error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }

// Constructors of coded errors.

// Coded returns a coded error whose user-facing text is the catalog
// message key with args. (It does not format: key is a catalog key.)
func Coded(code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// NotFound is the error of stores for a missing document.
func NotFound(coll, id string) *Error {
	return &Error{Code: ENOTFOUND, Key: "error.not_found", Args: []any{"id", id}, Err: fmt.Errorf("%s/%s not found", coll, id)}
}

// Exists is the error of stores when a document to create already exists.
func Exists(coll, id string) *Error {
	return &Error{Code: ECONFLICT, Key: "error.exists", Args: []any{"id", id}, Err: fmt.Errorf("%s/%s exists", coll, id)}
}

// Unavailable wraps a failure of a backing service.
func Unavailable(err error) *Error {
	return &Error{Code: EUNAVAILABLE, Key: "error.unavailable", Err: err}
}

// Sentinel errors.

// ErrQueued is returned by a Sender that accepted a message for later
// delivery (a durable outbox while the platform is down). The message is
// not lost; the MessageRef returned with it is pending (its Pending names
// the queued entry) or, for an update, empty.
var ErrQueued = errors.New("message queued for later delivery")

// The errors of Serve.
var (
	// ErrNotAccepted wraps the reason a request could not be stored in the
	// inbox: the platform should deliver it again.
	ErrNotAccepted = errors.New("request not accepted")
	// ErrInInbox means the request is in the inbox but could not be
	// started here; recovery handles it.
	ErrInInbox = errors.New("request left in the inbox for recovery")
	// ErrShuttingDown means the adapter took no more work and the handler
	// has no inbox to keep the request in.
	ErrShuttingDown = errors.New("shutting down")
)

// Kinds of adapter errors.

// AuthFailure is implemented by adapter errors caused by the app's
// credentials or permissions (a revoked token, a missing scope): fixing
// the app fixes them, so a queued message is kept, not given up.
type AuthFailure interface {
	AuthFailure() bool
}

// IsAuthFailure reports whether err, or an error it wraps, is an
// AuthFailure.
func IsAuthFailure(err error) bool {
	var a AuthFailure
	return errors.As(err, &a) && a.AuthFailure()
}

// APICoder is implemented by adapter errors that carry the platform's
// own error code (Slack "channel_not_found", Lark 230002), for metrics.
type APICoder interface {
	APICode() string
}

// APICode returns the platform error code err carries, or "other".
func APICode(err error) string {
	var c APICoder
	if errors.As(err, &c) && c.APICode() != "" {
		return c.APICode()
	}
	return "other"
}

// RetryAfter is implemented by adapter errors that say when to try again
// (Slack 429 Retry-After, Lark rate-limit codes).
type RetryAfter interface {
	RetryAfter() time.Duration
}
