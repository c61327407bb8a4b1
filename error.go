package outlet

import (
	"errors"
	"fmt"
)

// Error codes. Every error that crosses a package boundary carries one, so the
// HTTP layer can map it to a status in one place and only EINTERNAL is logged
// as a fault.
const (
	EINVALID      = "invalid"      // a value breaks a rule: bad name, bad URL, schema mismatch
	EMALFORMED    = "malformed"    // the request itself can't be read: bad JSON, wrong field type
	ENOTFOUND     = "not_found"    // no such thing (or not visible to the caller)
	ECONFLICT     = "conflict"     // it already exists, or the request contradicts stored state
	EUNAUTHORIZED = "unauthorized" // no key, or a key we don't know
	EFORBIDDEN    = "forbidden"    // a valid key that may not do this
	ETOOLARGE     = "too_large"    // a body or field over its size cap
	ERATELIMIT    = "rate_limited" // slow down
	EUNAVAILABLE  = "unavailable"  // the store can't commit right now; try again
	EINTERNAL     = "internal"     // our fault
)

// Error is a failure with a machine-readable code and a message for people that
// says what to change.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
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

// ErrorMessage returns the message of the first *Error in err's chain; other
// errors get a generic message, since their text may reveal internals.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred; it has been logged."
}
