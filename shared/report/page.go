package report

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/page"
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
	// expiredSet says whether the query set includeExpired; when it did
	// not, the report's own setting applies (UseReportDefault).
	expiredSet bool
}

// ParseRequest reads a page request of a report list from its query string
// (page.Parse, with the filters). A parameter of the wrong form is an
// invalid_request error whose text can be shown to the caller.
func ParseRequest(rawQuery string) (Request, error) {
	var req Request
	p, err := page.Parse(rawQuery, func(name string, values []string) (bool, error) {
		if name == "includeExpired" {
			req.expiredSet = true
		}
		return req.Filter.param(name, values)
	})
	if err != nil {
		return req, err
	}
	req.Limit = p.Limit
	if p.Cursor != nil {
		if req.cursor, err = decodeCursor(p.Cursor); err != nil {
			return req, err
		}
	}
	return req, nil
}

// UseReportDefault sets IncludeExpired to the report's own setting unless
// the query set it.
func (r *Request) UseReportDefault(includeExpired bool) {
	if !r.expiredSet {
		r.IncludeExpired = includeExpired
	}
}

// ServesPinned reports whether the page may hold pinned rows: it does
// unless it comes after a cursor on a row that is not pinned, since pinned
// rows come first.
func (r *Request) ServesPinned() bool { return r.cursor == nil || r.cursor.Pinned }

// param reads one filter parameter into f.
func (f *Filter) param(name string, values []string) (bool, error) {
	switch name {
	case "status":
		for _, v := range values {
			s := license.Status(v)
			if !s.Valid() {
				return true, fault.Errorf(fault.Invalid, "status %q is not active, expiring or expired", v)
			}
			f.Statuses = append(f.Statuses, s)
		}
	case "type":
		for _, v := range values {
			t := license.Type(v)
			if !t.Valid() {
				return true, fault.Errorf(fault.Invalid, "type %q is not evaluation or purchased", v)
			}
			f.Types = append(f.Types, t)
		}
	case "productId":
		f.ProductIDs = nonEmpty(values)
	case "organizationId":
		f.OrganizationIDs = nonEmpty(values)
	case "pinned", "includeExpired":
		v, err := page.Single(name, values)
		if err != nil {
			return true, err
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return true, fault.Errorf(fault.Invalid, "%s=%q is not true or false", name, v)
		}
		if name == "pinned" {
			f.Pinned = b
		} else {
			f.IncludeExpired = b
		}
	case "q":
		v, err := page.Single(name, values)
		if err != nil {
			return true, err
		}
		if len(v) > 200 {
			return true, fault.Errorf(fault.Invalid, "q is longer than 200 bytes")
		}
		f.Query = strings.ToLower(strings.TrimSpace(v))
	default:
		return false, nil
	}
	return true, nil
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
	// Visible, when set, keeps only the rows it accepts.
	Visible func(r *Row) bool
}

// Page returns the page of rows that match the request, in display order
// with the view's pins and notes, and the position of the next page (for
// page.Next), nil on the last. rows must be in report order (as Rows and snapshots keep them).
// Only the rows of the page are copied: a page of a list of 100,000 rows
// costs a pass over them, not a copy of them. A Pager serves the same page
// from a list kept in chunks.
func Page(rows []Row, v View, req Request) (out []Row, next []byte) {
	p := pageState{v: v, req: req, out: make([]Row, 0, min(req.Limit, len(rows)))}
	// Pinned rows come first, so two passes: pinned, then the others.
	for _, pinned := range []bool{true, false} {
		if pinned && len(v.Pins) == 0 {
			continue
		}
		if p.scan(rows, pinned); p.full {
			break
		}
	}
	return p.out, p.next
}

// pageState is a page being filled: the rows served so far and, once one
// more row passes than the page holds, the position of the next page.
type pageState struct {
	v    View
	req  Request
	out  []Row
	next []byte
	full bool
	// considered counts the rows of the pass past the cursor, whether they
	// passed the filter or not.
	considered int
}

// scan passes over rows in report order, for the pass of the pinned rows or
// of the others, and adds those that pass until the page is full.
func (p *pageState) scan(rows []Row, pinned bool) {
	for i := range rows {
		r := rows[i] // a copy, decorated below
		if p.v.Pins[r.LicenseKey] != pinned || (p.v.Visible != nil && !p.v.Visible(&r)) {
			continue
		}
		r.Pinned = pinned
		if p.req.cursor != nil && compareKeys(keyOf(&r), *p.req.cursor) <= 0 {
			continue
		}
		p.considered++
		if n, ok := p.v.Notes[r.LicenseKey]; ok {
			r.PartnerNote = &n
		}
		if !p.req.Match(&r) {
			continue
		}
		if len(p.out) == p.req.Limit {
			p.next, p.full = encodeCursor(keyOf(&p.out[len(p.out)-1])), true
			return
		}
		p.out = append(p.out, r)
	}
}

// A cursor is the sort key of the last row served, so the next page starts
// right after it even when pins or notes change between the two requests.
func encodeCursor(k sortKey) []byte {
	b, _ := json.Marshal(k) // a struct of strings and a bool always encodes
	return b
}

func decodeCursor(b []byte) (*sortKey, error) {
	var k sortKey
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&k); err != nil || k.License == "" || dec.More() {
		return nil, fault.Errorf(fault.Invalid, "cursor is not valid: pass the nextCursor of the previous page as it is")
	}
	return &k, nil
}
