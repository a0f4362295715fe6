package bot

import (
	"errors"
	"fmt"
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

// Errorf returns a coded error whose user-facing text is the catalog
// message key with args.
func Errorf(code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

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

// ErrNotFound is returned by stores for a missing document.
func ErrNotFound(coll, id string) *Error {
	return &Error{Code: ENOTFOUND, Key: "error.not_found", Args: []any{"id", id}, Err: fmt.Errorf("%s/%s not found", coll, id)}
}

// ErrExists is returned by stores when a document to create already exists.
func ErrExists(coll, id string) *Error {
	return &Error{Code: ECONFLICT, Key: "error.exists", Args: []any{"id", id}, Err: fmt.Errorf("%s/%s exists", coll, id)}
}

// ErrUnavailable wraps a failure of a backing service.
func ErrUnavailable(err error) *Error {
	return &Error{Code: EUNAVAILABLE, Key: "error.unavailable", Err: err}
}
