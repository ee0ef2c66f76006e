package demo

import (
	"fmt"
	"maps"
	"strings"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/dataset"
)

// The per-partner expiring windows: wider and narrower than the default 30
// days, so that the same license can be expiring for one partner and active
// for another.
const (
	firstDistributorWindow = 45 // org-dist-1
	secondResellerWindow   = 14 // org-res-2
)

func (g *generator) addProducts() {
	for _, p := range catalog {
		g.doc.Products = append(g.doc.Products, dataset.Product{
			ID:                p.id,
			Name:              p.name,
			Category:          string(p.category),
			VisibleToPartners: ptr(!p.hidden),
		})
	}
}

// addPartners adds the distributors, the resellers, and org-res-idle. Reseller
// i sells under distributor i mod Distributors, so each distributor has some.
func (g *generator) addPartners() {
	for i := range g.cfg.Distributors {
		p := partner{id: fmt.Sprintf("org-dist-%d", i+1), prefix: fmt.Sprintf("dist-%d", i+1), company: nth(distributorCompanies, i)}
		org := dataset.Organization{ID: p.id, Name: p.name, Type: string(access.OrgDistributor)}
		if i == 0 {
			org.ExpiringWindowDays = ptr(firstDistributorWindow)
		}
		g.distributors = append(g.distributors, p)
		g.doc.Organizations = append(g.doc.Organizations, org)
	}
	for i := range g.cfg.Resellers {
		p := partner{id: fmt.Sprintf("org-res-%d", i+1), prefix: fmt.Sprintf("res-%d", i+1), company: nth(resellerCompanies, i),
			distributor: i % g.cfg.Distributors}
		org := dataset.Organization{ID: p.id, Name: p.name, Type: string(access.OrgReseller)}
		if i == 1 {
			org.ExpiringWindowDays = ptr(secondResellerWindow)
		}
		g.resellers = append(g.resellers, p)
		g.doc.Organizations = append(g.doc.Organizations, org)
	}
	g.doc.Organizations = append(g.doc.Organizations, dataset.Organization{
		ID: "org-res-idle", Name: idleReseller.name, Type: string(access.OrgReseller),
	})
}

// addCustomers adds Customers customer organizations, each main organization
// followed by its sub-organizations.
//
// The first organizations are not left to chance, so that every size and
// seed shows the cases the portal must handle: main organization i < Resellers
// buys through reseller i, so that every reseller has a customer; the next
// Distributors buy directly from each distributor; and the first main
// organization has three sub-organizations, one inheriting its sellers and
// one with a reseller of its own. The rest are drawn at random.
func (g *generator) addCustomers() {
	width := max(3, len(fmt.Sprint(g.cfg.Customers)))
	used := make(map[string]bool)
	for main := 0; len(g.customers) < g.cfg.Customers; main++ {
		c := customer{id: fmt.Sprintf("org-cust-%0*d", width, main+1), name: g.companyName(used), parent: -1}
		c.distributor, c.reseller = g.sellers(main)
		org := dataset.Organization{
			ID:            c.id,
			Name:          c.name,
			Type:          string(access.OrgCustomer),
			DistributorID: ptr(c.distributor),
		}
		if c.reseller != "" {
			org.ResellerID = ptr(c.reseller)
		}
		parent := len(g.customers)
		g.customers = append(g.customers, c)
		g.doc.Organizations = append(g.doc.Organizations, org)

		subs := 0
		switch {
		case main == 0:
			subs = 3
		case g.chance(g.cfg.SubOrgShare):
			subs = 1 + g.rng.IntN(3)
		}
		var divisions []int
		if subs > 0 {
			divisions = g.rng.Perm(len(divisionNames))
		}
		for k := 0; k < subs && len(g.customers) < g.cfg.Customers; k++ {
			ownReseller := g.chance(1.0 / 3)
			if main == 0 {
				ownReseller = k == 1
			}
			g.addSub(parent, k, divisionNames[divisions[k]], ownReseller)
		}
	}
}

// sellers returns the distributor and reseller of main customer organization i.
func (g *generator) sellers(i int) (distributor, reseller string) {
	nr, nd := len(g.resellers), len(g.distributors)
	switch {
	case i < nr:
		return g.viaReseller(i)
	case i < nr+nd:
		return g.distributors[i-nr].id, ""
	case nr == 0 || g.chance(g.cfg.DirectShare):
		return g.distributors[g.rng.IntN(nd)].id, ""
	default:
		return g.viaReseller(g.rng.IntN(nr))
	}
}

func (g *generator) viaReseller(i int) (distributor, reseller string) {
	r := g.resellers[i]
	return g.distributors[r.distributor].id, r.id
}

// addSub adds the k-th sub-organization of customers[parent]. One that
// inherits leaves distributorId and resellerId null; one with its own
// reseller names it, and names a distributor only where the reseller's
// differs from the parent's, since the import inherits the two separately.
func (g *generator) addSub(parent, k int, division string, ownReseller bool) {
	p := g.customers[parent]
	c := customer{id: fmt.Sprintf("%s-%d", p.id, k+1), name: p.name + " – " + division, parent: parent,
		distributor: p.distributor, reseller: p.reseller}
	org := dataset.Organization{
		ID:       c.id,
		Name:     c.name,
		Type:     string(access.OrgCustomer),
		ParentID: ptr(p.id),
	}
	if ownReseller {
		if r, ok := g.otherReseller(p.reseller); ok {
			dist, res := g.viaReseller(r)
			c.reseller, org.ResellerID = res, ptr(res)
			if dist != p.distributor {
				c.distributor, org.DistributorID = dist, ptr(dist)
			}
		}
	}
	g.customers = append(g.customers, c)
	g.doc.Organizations = append(g.doc.Organizations, org)
}

// otherReseller returns the index of a random reseller other than id, if there is one.
func (g *generator) otherReseller(id string) (int, bool) {
	var others []int
	for i, r := range g.resellers {
		if r.id != id {
			others = append(others, i)
		}
	}
	if len(others) == 0 {
		return 0, false
	}
	return others[g.rng.IntN(len(others))], true
}

// companyName returns a customer name not in used, and adds it. Once random
// names keep colliding, a number makes the name unique; no base name ends in
// a number, so it cannot collide in turn.
func (g *generator) companyName(used map[string]bool) string {
	var name string
	for attempt := 0; ; attempt++ {
		name = nameStems[g.rng.IntN(len(nameStems))] + " "
		if n := g.rng.IntN(len(industries) + len(publicBodies)); n < len(industries) {
			name += industries[n]
			if suffix := legalSuffixes[g.rng.IntN(len(legalSuffixes))]; suffix != "" {
				name += " " + suffix
			}
		} else {
			name += publicBodies[n-len(industries)]
		}
		if attempt >= 10 {
			name = fmt.Sprintf("%s %d", name, len(used)+1)
		}
		if !used[name] {
			break
		}
	}
	used[name] = true
	return name
}

// The role permissions. Every role also grants an unrelated permission, as the
// vendor's real roles do, which must not count towards this feature.
var (
	adminPermissions   = map[string]string{access.CustomerOrganizations: "full", "license_management.licenses": "full"}
	viewerPermissions  = map[string]string{access.CustomerOrganizations: "read", "license_management.licenses": "read"}
	supportPermissions = map[string]string{access.CustomerOrganizations: "none", "support.tickets": "full"}
)

// addUsers adds the roles and users the package comment lists.
func (g *generator) addUsers() {
	partners := append(append([]partner(nil), g.distributors...), g.resellers...)
	for i, p := range partners {
		domain := p.domain + ".example"
		admin := g.addRole(p.id, "role-"+p.prefix+"-admin", "Partner Administrator", adminPermissions)
		viewer := g.addRole(p.id, "role-"+p.prefix+"-viewer", "License Viewer", viewerPermissions)
		support := g.addRole(p.id, "role-"+p.prefix+"-support", "Support Agent", supportPermissions)
		g.addUser(p.prefix+"-admin", p.id, domain, admin)
		g.addUser(p.prefix+"-viewer", p.id, domain, viewer)
		g.addUser(p.prefix+"-none", p.id, domain, support)
		if i == 0 {
			// Read first, so that taking the last role instead of the highest fails.
			g.addUser(p.prefix+"-multi", p.id, domain, viewer, admin)
		}
		g.admins[p.id] = p.prefix + "-admin"
	}

	idle := g.addRole("org-res-idle", "role-res-idle-admin", "Partner Administrator", adminPermissions)
	g.addUser("res-idle-admin", "org-res-idle", idleReseller.domain+".example", idle)

	// A customer's administrator holds full access, so that only the type of
	// its organization keeps the feature from it.
	if len(g.customers) > 0 {
		c := g.customers[0]
		prefix := strings.TrimPrefix(c.id, "org-")
		role := g.addRole(c.id, "role-"+prefix+"-admin", "Customer Administrator", adminPermissions)
		g.addUser(prefix+"-admin", c.id, slug(c.name)+".example", role)
	}
}

// addRole adds a role with its own copy of permissions, so that a caller
// changing one role of the document does not change the others.
func (g *generator) addRole(org, id, name string, permissions map[string]string) string {
	g.doc.Roles = append(g.doc.Roles, dataset.Role{ID: id, OrganizationID: org, Name: name, Permissions: maps.Clone(permissions)})
	return id
}

func (g *generator) addUser(id, org, domain string, roles ...string) {
	name := personNames[g.people%len(personNames)]
	g.people++
	g.doc.Users = append(g.doc.Users, dataset.User{
		ID:             id,
		Email:          strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@" + domain,
		Name:           name,
		OrganizationID: org,
		RoleIDs:        roles,
	})
}

// slug turns a name into a DNS label: lower-case ASCII letters and digits,
// with a hyphen for every run of anything else.
func slug(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range asciiFold.Replace(strings.ToLower(name)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			hyphen = false
		} else {
			hyphen = true
		}
	}
	return b.String()
}

// nth returns companies[i], numbered beyond the end of the list so that
// names and domains stay unique.
func nth(companies []company, i int) company {
	if i < len(companies) {
		return companies[i]
	}
	c, n := companies[i%len(companies)], i/len(companies)+1
	return company{name: fmt.Sprintf("%s %d", c.name, n), domain: fmt.Sprintf("%s%d", c.domain, n)}
}
