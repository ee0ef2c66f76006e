package report

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/partnerportal/licenses/shared/license"
)

// Page sizes of the list endpoints.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Filter is what the page narrows a list to when a number or a pie slice is
// clicked. Empty lists do not filter. Expired rows are hidden unless
// IncludeExpired is set or Statuses names expired.
type Filter struct {
	Statuses        []license.Status
	Types           []license.Type
	ProductIDs      []string
	OrganizationIDs []string
	Pinned          bool
	IncludeExpired  bool
	Query           string // lower case
}

// Request is a parsed page request: a filter, a page size and a position.
type Request struct {
	Filter
	Limit  int
	cursor *sortKey
}

// ParseRequest reads a page request from query parameters. includeExpired is
// the default when the query does not say, the setting the report was made
// with. A parameter of the wrong form, an unknown parameter, a bad cursor or a
// limit outside 1..MaxLimit is an error whose text can be shown to the caller.
func ParseRequest(q url.Values, includeExpired bool) (Request, error) {
	req := Request{Limit: DefaultLimit, Filter: Filter{IncludeExpired: includeExpired}}
	for name, values := range q {
		switch name {
		case "status":
			for _, v := range values {
				s := license.Status(v)
				if !s.Valid() {
					return req, fmt.Errorf("status %q is not active, expiring or expired", v)
				}
				req.Statuses = append(req.Statuses, s)
			}
		case "type":
			for _, v := range values {
				t := license.Type(v)
				if !t.Valid() {
					return req, fmt.Errorf("type %q is not evaluation or purchased", v)
				}
				req.Types = append(req.Types, t)
			}
		case "productId":
			req.ProductIDs = nonEmpty(values)
		case "organizationId":
			req.OrganizationIDs = nonEmpty(values)
		case "pinned", "includeExpired":
			b, err := single(name, values, strconv.ParseBool)
			if err != nil {
				return req, err
			}
			if name == "pinned" {
				req.Pinned = b
			} else {
				req.IncludeExpired = b
			}
		case "q":
			s, err := single(name, values, func(s string) (string, error) { return s, nil })
			if err != nil {
				return req, err
			}
			if len(s) > 200 {
				return req, fmt.Errorf("q is longer than 200 bytes")
			}
			req.Query = strings.ToLower(strings.TrimSpace(s))
		case "limit":
			n, err := single(name, values, strconv.Atoi)
			if err != nil || n < 1 || n > MaxLimit {
				return req, fmt.Errorf("limit must be a whole number from 1 to %d", MaxLimit)
			}
			req.Limit = n
		case "cursor":
			s, err := single(name, values, func(s string) (string, error) { return s, nil })
			if err != nil {
				return req, err
			}
			if req.cursor, err = decodeCursor(s); err != nil {
				return req, err
			}
		default:
			return req, fmt.Errorf("unknown parameter %q", name)
		}
	}
	return req, nil
}

func single[T any](name string, values []string, parse func(string) (T, error)) (T, error) {
	var zero T
	if len(values) != 1 {
		return zero, fmt.Errorf("%s may be given once", name)
	}
	v, err := parse(values[0])
	if err != nil {
		return zero, fmt.Errorf("%s=%q is not valid", name, values[0])
	}
	return v, nil
}

func nonEmpty(values []string) []string {
	var out []string
	for _, v := range values {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Match reports whether the row passes the filter. The row's Pinned and
// PartnerNote must already hold their current values.
func (f *Filter) Match(r *Row) bool {
	if len(f.Statuses) > 0 {
		if !contains(f.Statuses, r.Status) {
			return false
		}
	} else if r.Status == license.Expired && !f.IncludeExpired {
		return false
	}
	if len(f.Types) > 0 && !contains(f.Types, r.Type) {
		return false
	}
	if len(f.ProductIDs) > 0 && !contains(f.ProductIDs, r.ProductID) {
		return false
	}
	if len(f.OrganizationIDs) > 0 && !contains(f.OrganizationIDs, r.OrganizationID) {
		return false
	}
	if f.Pinned && !r.Pinned {
		return false
	}
	if f.Query != "" && !r.mentions(f.Query) {
		return false
	}
	return true
}

// mentions reports whether the lower-case substring q appears in the row's
// license key, organization, product or notes, ignoring case.
func (r *Row) mentions(q string) bool {
	if containsFold(r.LicenseKey, q) || containsFold(r.OrganizationName, q) ||
		containsFold(r.OrganizationID, q) || containsFold(r.ProductName, q) ||
		containsFold(r.CustomerNote, q) {
		return true
	}
	return r.PartnerNote != nil && containsFold(r.PartnerNote.Text, q)
}

func containsFold(s, lowerSub string) bool {
	return strings.Contains(strings.ToLower(s), lowerSub)
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// View is what rows show per user and partner at the time of a request.
type View struct {
	Pins  map[string]bool
	Notes map[string]license.Note
	// Visible, when set, keeps only the rows of organizations it accepts.
	Visible func(orgID string) bool
}

// Page returns the page of rows that match the request, in display order
// with the view's pins and notes, and the cursor of the next page, "" on the
// last. rows must be in report order (as Rows and snapshots keep them).
// Only the rows of the page are copied: a page of a list of 100,000 rows
// costs a pass over them, not a copy of them.
func Page(rows []Row, v View, req Request) (page []Row, next string) {
	page = make([]Row, 0, min(req.Limit, len(rows)))
	// Pinned rows come first, so two passes: pinned, then the others.
	for _, pinned := range []bool{true, false} {
		if pinned && len(v.Pins) == 0 {
			continue
		}
		for i := range rows {
			r := rows[i] // a copy, decorated below
			if v.Pins[r.LicenseKey] != pinned || (v.Visible != nil && !v.Visible(r.OrganizationID)) {
				continue
			}
			r.Pinned = pinned
			if req.cursor != nil && compareKeys(keyOf(&r), *req.cursor) <= 0 {
				continue
			}
			if n, ok := v.Notes[r.LicenseKey]; ok {
				r.PartnerNote = &n
			}
			if !req.Match(&r) {
				continue
			}
			if len(page) == req.Limit {
				return page, encodeCursor(keyOf(&page[len(page)-1]))
			}
			page = append(page, r)
		}
	}
	return page, ""
}

// A cursor is the sort key of the last row served, so the next page starts
// right after it even when pins or notes change between the two requests.
func encodeCursor(k sortKey) string {
	b, _ := json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (*sortKey, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 4096 {
		return nil, fmt.Errorf("cursor is not valid")
	}
	var k sortKey
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil || k.License == "" {
		return nil, fmt.Errorf("cursor is not valid")
	}
	return &k, nil
}
