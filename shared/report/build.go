package report

import (
	"slices"
	"sort"
	"strings"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
)

// Selection is what a report covers: every visible customer organization, or
// the listed ones.
type Selection struct {
	All             bool     `json:"all,omitempty"`
	OrganizationIDs []string `json:"organizationIds,omitempty"`
}

// Listing is the licenses shown to one partner under one of its customer
// organizations: sub-organization priority has been applied, so a license
// assigned to an organization and its sub-organization is listed under the
// sub-organization only. Deployments holds the active deployments by
// license key, where an export asked for them.
type Listing struct {
	Org         access.Ref
	Reseller    *access.Ref // for a distributor, the reseller the organization was sold through
	Licenses    []license.License
	Deployments map[string][]license.Deployment
}

// Rows returns the rows of the listings: one per license and organization,
// leaving out licenses of products hidden from partners or unknown. Each
// row's status is computed on today with the given expiring window. The
// rows come back in report order without pins: organization name, product
// name, license key.
func Rows(listings []Listing, products map[string]license.Product, today license.Date, window int) (onPrem, cloud []Row) {
	n := 0
	for i := range listings {
		n += len(listings[i].Licenses)
	}
	onPrem = make([]Row, 0, n)
	// The listings in order of their organizations' names: then each run of
	// listings with the same name (one, but for namesakes) is sorted on its
	// own, which costs far less than sorting every row against every other.
	order := make([]int, len(listings))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(listings[a].Org.Name, listings[b].Org.Name) })
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && listings[order[end]].Org.Name == listings[order[start]].Org.Name {
			end++
		}
		if end == start+1 {
			// One organization: its licenses in order of product name and
			// key, sorted as indexes rather than as rows, which are large.
			ls := &listings[order[start]]
			idx := make([]int, len(ls.Licenses))
			for i := range idx {
				idx[i] = i
			}
			slices.SortFunc(idx, func(a, b int) int {
				la, lb := &ls.Licenses[a], &ls.Licenses[b]
				if c := strings.Compare(products[la.ProductID].Name, products[lb.ProductID].Name); c != 0 {
					return c
				}
				return strings.Compare(la.Key, lb.Key)
			})
			onPrem, cloud = appendRows(onPrem, cloud, ls, idx, products, today, window)
			start = end
			continue
		}
		fromPrem, fromCloud := len(onPrem), len(cloud)
		for _, i := range order[start:end] {
			onPrem, cloud = appendRows(onPrem, cloud, &listings[i], nil, products, today, window)
		}
		Sort(onPrem[fromPrem:])
		Sort(cloud[fromCloud:])
		start = end
	}
	return onPrem, cloud
}

// appendRows appends the rows of one listing to the on-prem and cloud
// lists, in the order of idx (the listing's order when nil).
func appendRows(onPrem, cloud []Row, ls *Listing, idx []int, products map[string]license.Product, today license.Date, window int) ([]Row, []Row) {
	for j := range ls.Licenses {
		if idx != nil {
			j = idx[j]
		}
		l := &ls.Licenses[j]
		p, ok := products[l.ProductID]
		if !ok || !p.VisibleToPartners {
			continue
		}
		r := Row{
			LicenseKey: l.Key, ProductID: p.ID, ProductName: p.Name, Category: p.Category,
			OrganizationID: ls.Org.ID, OrganizationName: ls.Org.Name, Reseller: ls.Reseller,
			Status: license.StatusOn(l.ExpirationDate, today, window), Type: l.Type,
			StartDate: l.StartDate, ExpirationDate: l.ExpirationDate, CustomerNote: l.CustomerNote,
		}
		if p.Category == license.CloudService {
			if l.ScanLimit != nil {
				r.ScanLimit = *l.ScanLimit
			}
			r.ScansUsed = l.ScansUsed
			cloud = append(cloud, r)
		} else {
			r.Deployed, r.Purchased = l.Deployed, l.Purchased()
			onPrem = append(onPrem, r)
		}
	}
	return onPrem, cloud
}

// Personalize fills in the user's pins and the partner's notes, and moves
// pinned rows to the front, keeping the order of the rows otherwise. rows
// must be in report order; the result is in display order.
func Personalize(rows []Row, pins map[string]bool, notes map[string]license.Note) []Row {
	out := make([]Row, 0, len(rows))
	var rest []Row
	for _, row := range rows {
		if n, ok := notes[row.LicenseKey]; ok {
			row.PartnerNote = &n
		}
		row.Pinned = pins[row.LicenseKey]
		if row.Pinned {
			out = append(out, row)
		} else {
			rest = append(rest, row)
		}
	}
	return append(out, rest...)
}

// Sort orders rows for display: pinned first, then organization name,
// product name and license key, with the organization id to break the last tie.
func Sort(rows []Row) { sort.Sort(byDisplay(rows)) }

// byDisplay sorts rows in place, comparing through pointers: a Row is large,
// and a comparison that took two copies of it would cost more than it does.
type byDisplay []Row

func (r byDisplay) Len() int           { return len(r) }
func (r byDisplay) Swap(i, j int)      { r[i], r[j] = r[j], r[i] }
func (r byDisplay) Less(i, j int) bool { return compareKeys(keyOf(&r[i]), keyOf(&r[j])) < 0 }

// sortKey is the position of a row in a list; a cursor holds the key of the
// last row of a page.
type sortKey struct {
	Pinned  bool   `json:"p,omitempty"`
	Org     string `json:"o"`
	Product string `json:"n"`
	License string `json:"k"`
	OrgID   string `json:"i"`
}

func keyOf(r *Row) sortKey {
	return sortKey{Pinned: r.Pinned, Org: r.OrganizationName, Product: r.ProductName, License: r.LicenseKey, OrgID: r.OrganizationID}
}

func compareKeys(a, b sortKey) int {
	if a.Pinned != b.Pinned {
		if a.Pinned {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.Org, b.Org); c != 0 {
		return c
	}
	if c := strings.Compare(a.Product, b.Product); c != 0 {
		return c
	}
	if c := strings.Compare(a.License, b.License); c != 0 {
		return c
	}
	return strings.Compare(a.OrgID, b.OrgID)
}
