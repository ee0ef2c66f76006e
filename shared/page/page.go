// Package page holds the one rule for the requests of paged lists: the
// query string, its limit and cursor parameters, and the refusal of
// parameters an endpoint does not take.
package page

import (
	"encoding/base64"
	"net/url"
	"strconv"

	"github.com/partnerportal/licenses/shared/fault"
)

// Page sizes of every list.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// maxCursor bounds a cursor's size, so that a client cannot make the
// service decode megabytes for a position.
const maxCursor = 4096

// Request is the position of a page: how many items, and after which one.
type Request struct {
	Limit int
	// Cursor is the position the previous page ended at, as its list
	// encoded it; nil for the first page.
	Cursor []byte
}

// Params handles a parameter an endpoint takes besides limit and cursor.
// It reports whether it knows the parameter; an error says what is wrong
// with its values.
type Params func(name string, values []string) (known bool, err error)

// Parse reads a paged list's query string. Parameters other than limit and
// cursor go to other (nil: the endpoint takes none). A malformed query, a
// parameter given twice that may be given once, an unknown parameter, a
// limit outside 1..MaxLimit or a cursor that is not one is invalid_request.
func Parse(rawQuery string, other Params) (Request, error) {
	q, err := Query(rawQuery)
	if err != nil {
		return Request{}, err
	}
	req := Request{Limit: DefaultLimit}
	for name, values := range q {
		switch name {
		case "limit":
			v, err := Single(name, values)
			if err != nil {
				return req, err
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxLimit {
				return req, fault.Errorf(fault.Invalid, "limit must be a whole number from 1 to %d", MaxLimit)
			}
			req.Limit = n
		case "cursor":
			v, err := Single(name, values)
			if err != nil {
				return req, err
			}
			b, err := base64.RawURLEncoding.DecodeString(v)
			if err != nil || len(b) == 0 || len(b) > maxCursor {
				return req, fault.Errorf(fault.Invalid, "cursor is not valid: pass the nextCursor of the previous page as it is")
			}
			req.Cursor = b
		default:
			known := false
			if other != nil {
				if known, err = other(name, values); err != nil {
					return req, err
				}
			}
			if !known {
				return req, fault.Errorf(fault.Invalid, "unknown parameter %q", name)
			}
		}
	}
	return req, nil
}

// Query parses a query string, refusing a malformed one rather than
// dropping what it cannot read.
func Query(rawQuery string) (url.Values, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, fault.Errorf(fault.Invalid, "the query string is malformed")
	}
	return q, nil
}

// Single returns the one value of a parameter that may be given once.
func Single(name string, values []string) (string, error) {
	if len(values) != 1 {
		return "", fault.Errorf(fault.Invalid, "%s may be given once", name)
	}
	return values[0], nil
}

// Next returns the nextCursor of a page whose list goes on after position
// (nil: the list ends here).
func Next(position []byte) *string {
	if position == nil {
		return nil
	}
	s := base64.RawURLEncoding.EncodeToString(position)
	return &s
}

// None checks the query string of an endpoint that takes no parameters:
// any parameter is unknown, and invalid_request.
func None(rawQuery string) error {
	q, err := Query(rawQuery)
	if err != nil {
		return err
	}
	for name := range q {
		return fault.Errorf(fault.Invalid, "unknown parameter %q: this endpoint takes none", name)
	}
	return nil
}
