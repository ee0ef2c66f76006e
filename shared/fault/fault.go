// Package fault holds the one error vocabulary of the API: the spec's error codes.
//
// Every layer returns a *fault.Error for what the caller can act on (a bad
// request, a missing license, a stale version) and wraps anything else with
// context. The HTTP layer maps codes to status codes in exactly one place;
// an error without a code is internal and its text never reaches the client.
package fault

import (
	"errors"
	"fmt"
)

// Code is one of the error codes of the API contract.
type Code string

// The codes of the contract, in the order of their HTTP status.
const (
	Invalid         Code = "invalid_request"        // 400
	Unauthenticated Code = "unauthenticated"        // 401
	Forbidden       Code = "forbidden"              // 403
	NotFound        Code = "not_found"              // 404
	VersionConflict Code = "version_conflict"       // 409
	InstanceLimit   Code = "instance_limit_reached" // 409
	LicenseExpired  Code = "license_expired"        // 409
	PayloadTooLarge Code = "payload_too_large"      // 413
	Unavailable     Code = "unavailable"            // 503
	Internal        Code = "internal"               // 500
)

// Error is an error the caller is told about: a code and a message meant for
// the client, with optional extra members for the response body (the current
// note of a version conflict, the problems of a refused import).
type Error struct {
	Code    Code
	Message string
	Extra   map[string]any
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Is reports whether target is an *Error of the same code with no message
// or the same one, so that a sentinel such as
// &Error{Code: NotFound} matches every not-found error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e carrying one more member for the response body.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Extra = make(map[string]any, len(e.Extra)+1)
	for k, v := range e.Extra {
		c.Extra[k] = v
	}
	c.Extra[key] = value
	return &c
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	if e := As(err); e != nil {
		return e.Code
	}
	return Internal
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool {
	e := As(err)
	return e != nil && e.Code == code
}
