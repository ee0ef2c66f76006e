package httpapi_test

import (
	"slices"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/license"
)

// model counts what a partner should see in a data set, straight from the
// import document and the spec's rules, without the code under test: it is
// the independent count that the API's answers are held to.
type model struct {
	doc     *dataset.Document
	partner string
	orgs    map[string]dataset.Organization
	visible map[string]bool
	window  int
}

func newModel(doc *dataset.Document, partner string) *model {
	m := &model{doc: doc, partner: partner, orgs: map[string]dataset.Organization{}, visible: map[string]bool{}, window: 30}
	for _, o := range doc.Organizations {
		m.orgs[o.ID] = o
	}
	if w := m.orgs[partner].ExpiringWindowDays; w != nil {
		m.window = *w
	}
	for _, o := range doc.Organizations {
		if o.Type != "customer" {
			continue
		}
		// Walk up for the distributor and reseller, each inherited on its own.
		var dist, res string
		for cur, ok := o, true; ok; cur, ok = m.orgs[deref(cur.ParentID)] {
			if dist == "" {
				dist = deref(cur.DistributorID)
			}
			if res == "" {
				res = deref(cur.ResellerID)
			}
			if cur.ParentID == nil {
				break
			}
		}
		if dist == partner || res == partner {
			m.visible[o.ID] = true
		}
	}
	return m
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// modelRow is one license under one organization.
type modelRow struct {
	key, org, product string
	category          string
	status            license.Status
	typ               string
	deployed          int
	purchased         int
}

// rows lists what the partner sees under the selected organizations (nil: all).
func (m *model) rows(selected map[string]bool, today license.Date) []modelRow {
	products := map[string]dataset.Product{}
	for _, p := range m.doc.Products {
		products[p.ID] = p
	}
	deployed := map[string]int{}
	for _, d := range m.doc.Deployments {
		if d.Active == nil || *d.Active {
			deployed[d.LicenseKey]++
		}
	}
	var out []modelRow
	for _, l := range m.doc.Licenses {
		p := products[l.ProductID]
		if p.VisibleToPartners != nil && !*p.VisibleToPartners {
			continue
		}
		for _, org := range l.OrganizationIDs {
			if !m.visible[org] {
				continue
			}
			// A visible sub-organization of org among the license's wins.
			shadowed := slices.ContainsFunc(l.OrganizationIDs, func(other string) bool {
				return m.visible[other] && deref(m.orgs[other].ParentID) == org
			})
			if shadowed || (selected != nil && !selected[org]) {
				continue
			}
			exp, _ := license.ParseDate(l.ExpirationDate)
			r := modelRow{key: l.Key, org: org, product: l.ProductID, category: p.Category, typ: l.Type,
				status: license.StatusOn(exp, today, m.window), deployed: deployed[l.Key]}
			if l.PurchasedInstances != nil {
				r.purchased = *l.PurchasedInstances
			}
			out = append(out, r)
		}
	}
	return out
}

// summary is the overview of one category as the API spells it.
func summary(rows []modelRow, category string) map[string]int {
	s := map[string]int{}
	for _, r := range rows {
		if r.category != category {
			continue
		}
		s["total"]++
		s[string(r.status)]++
		s["type:"+r.typ]++
		s["product:"+r.product]++
		s["deployed"] += r.deployed
		s["purchased"] += r.purchased
	}
	return s
}
