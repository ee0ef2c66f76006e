package access

import "slices"

// maxDepth bounds every walk up a parent chain, so that a cycle in bad data
// cannot hang one; the import refuses cycles.
const maxDepth = 32

// Hierarchy holds customer organizations with their parents and their own
// distributor and reseller, and answers who sees what: the effective
// sellers after inheritance, and sub-organization priority as each partner
// sees it.
type Hierarchy struct {
	orgs map[string]*Organization
}

// NewHierarchy returns the hierarchy of the organizations (other types are
// ignored where customers are asked for).
func NewHierarchy(orgs map[string]*Organization) *Hierarchy {
	return &Hierarchy{orgs: orgs}
}

// Org returns an organization, or nil.
func (h *Hierarchy) Org(id string) *Organization { return h.orgs[id] }

// Sellers returns the distributor and reseller through which the customer
// organization is sold: its own, or else the nearest ancestor's, each
// inherited on its own. A customer with no distributor in its chain was
// sold directly by the vendor; no partner sees it (not its reseller either).
func (h *Hierarchy) Sellers(id string) (distributor, reseller string) {
	for o, depth := h.orgs[id], 0; o != nil && depth < maxDepth; o, depth = h.orgs[o.ParentID], depth+1 {
		if distributor == "" {
			distributor = o.DistributorID
		}
		if reseller == "" {
			reseller = o.ResellerID
		}
	}
	if distributor == "" {
		return "", ""
	}
	return distributor, reseller
}

// Sees reports whether partner sees the customer organization.
func (h *Hierarchy) Sees(partner, id string) bool {
	if o := h.orgs[id]; o == nil || o.Type != OrgCustomer || partner == "" {
		return false
	}
	d, r := h.Sellers(id)
	return partner == d || partner == r
}

// VisibleParent returns the parent of a customer organization as partner
// sees it: the parent if partner sees it too, else "" (the sub-organization
// stands on its own for that partner).
func (h *Hierarchy) VisibleParent(partner, id string) string {
	o := h.orgs[id]
	if o == nil || o.ParentID == "" || !h.Sees(partner, o.ParentID) {
		return ""
	}
	return o.ParentID
}

// Placement returns the organizations, among orgIDs, under which partner is
// shown a license assigned to orgIDs. A license assigned to an organization
// and to one of its sub-organizations (at any depth) is shown only under the
// sub-organization. Only organizations the partner sees count, along a
// chain of parents the partner sees: a sub-organization whose parent the
// partner cannot see stands on its own.
func (h *Hierarchy) Placement(partner string, orgIDs []string) []string {
	var shown []string
	for _, id := range orgIDs {
		if !h.Sees(partner, id) || slices.Contains(shown, id) {
			continue
		}
		shadowed := false
		for _, other := range orgIDs {
			if other != id && h.Sees(partner, other) && h.descends(partner, other, id) {
				shadowed = true
				break
			}
		}
		if !shadowed {
			shown = append(shown, id)
		}
	}
	return shown
}

// descends reports whether id has ancestor among the parents partner sees.
func (h *Hierarchy) descends(partner, id, ancestor string) bool {
	for depth := 0; depth < maxDepth; depth++ {
		parent := h.VisibleParent(partner, id)
		switch parent {
		case "":
			return false
		case ancestor:
			return true
		}
		id = parent
	}
	return false
}
