// Package access decides who sees what: organizations and their partners,
// users and their roles, access levels, and the scope of customer
// organizations a partner user may see.
package access

import (
	"fmt"
	"slices"
	"sort"
)

// OrgType is the kind of an organization.
type OrgType string

// The organization types.
const (
	OrgDistributor OrgType = "distributor"
	OrgReseller    OrgType = "reseller"
	OrgCustomer    OrgType = "customer"
)

// Valid reports whether t is a known organization type.
func (t OrgType) Valid() bool { return t == OrgDistributor || t == OrgReseller || t == OrgCustomer }

// Partner reports whether organizations of type t sell to customers.
func (t OrgType) Partner() bool { return t == OrgDistributor || t == OrgReseller }

// Organization is a distributor, reseller or customer organization. A customer
// sub-organization names its main organization in ParentID and inherits the
// parent's distributor and reseller where it has none of its own.
type Organization struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Type               OrgType `json:"type"`
	ParentID           string  `json:"-"`
	DistributorID      string  `json:"-"`
	ResellerID         string  `json:"-"`
	ExpiringWindowDays *int    `json:"-"`
}

// Level is an access level granted by a role on a role object.
type Level int

// The access levels, in increasing order.
const (
	None Level = iota
	Read
	Full
)

// CustomerOrganizations is the role object that governs this feature.
const CustomerOrganizations = "license_management.customer_organizations"

var levelNames = [...]string{None: "none", Read: "read", Full: "full"}

// String returns the name of l as the API spells it.
func (l Level) String() string {
	if l < None || l > Full {
		return fmt.Sprintf("Level(%d)", int(l))
	}
	return levelNames[l]
}

// ParseLevel parses "none", "read" or "full".
func ParseLevel(s string) (Level, error) {
	for l, name := range levelNames {
		if s == name {
			return Level(l), nil
		}
	}
	return None, fmt.Errorf("unknown access level %q", s)
}

// MarshalText returns the name of l.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText parses a level name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	*l = v
	return err
}

// Role grants access levels per role object.
type Role struct {
	ID             string           `json:"id"`
	OrganizationID string           `json:"organizationId"`
	Name           string           `json:"name"`
	Permissions    map[string]Level `json:"permissions"`
}

// User is a person signed in to the portal. ID is the identity provider's
// subject.
type User struct {
	ID             string   `json:"id"`
	Email          string   `json:"email"`
	Name           string   `json:"name"`
	OrganizationID string   `json:"organizationId"`
	RoleIDs        []string `json:"-"`
}

// LevelOf returns the highest level the roles grant on object.
func LevelOf(roles []Role, object string) Level {
	level := None
	for _, r := range roles {
		if l := r.Permissions[object]; l > level {
			level = l
		}
	}
	return level
}

// Ref names another organization in API responses.
type Ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Customer is a customer organization as one partner sees it. Reseller is
// set only when the partner is a distributor and the customer was sold
// through a reseller.
type Customer struct {
	ID       string
	Name     string
	ParentID string
	Reseller *Ref
	// Licenses is the number of licenses assigned to the organization as of
	// the last import: the size of a report before it is read.
	Licenses int
}

// Scope is what a signed-in user may see and do in the Customer
// Organizations feature.
type Scope struct {
	User      User
	Partner   Organization
	Level     Level
	customers map[string]*Customer
	ordered   []*Customer
}

// NewScope returns the scope of user, who belongs to org, holds level, and
// whose organization sees customers. Customers of a non-partner organization
// are ignored.
func NewScope(user User, org Organization, level Level, customers []Customer) *Scope {
	s := &Scope{User: user, Partner: org, Level: level, customers: make(map[string]*Customer)}
	if !org.Type.Partner() {
		return s
	}
	for i := range customers {
		c := customers[i]
		if org.Type == OrgReseller {
			c.Reseller = nil
		}
		s.customers[c.ID] = &c
		s.ordered = append(s.ordered, &c)
	}
	sort.Slice(s.ordered, func(i, j int) bool {
		a, b := s.ordered[i], s.ordered[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	return s
}

// ExpiringWindow returns the expiring window of the scope's partner: its own
// override, or else def, the deployment's.
func (s *Scope) ExpiringWindow(def int) int {
	if w := s.Partner.ExpiringWindowDays; w != nil {
		return *w
	}
	return def
}

// Visible reports whether the Customer Organizations feature is shown to the
// user: a partner organization with at least one customer, and read access.
func (s *Scope) Visible() bool {
	return s.Partner.Type.Partner() && len(s.customers) > 0 && s.Level >= Read
}

// Customer returns the visible customer organization id, or nil.
func (s *Scope) Customer(id string) *Customer { return s.customers[id] }

// Customers returns the visible customer organizations ordered by name.
func (s *Scope) Customers() []*Customer { return s.ordered }

// Placement returns the visible organizations, among orgIDs, under which a
// license assigned to orgIDs is shown. A license assigned to an organization
// and also to one of its sub-organizations (at any depth) is shown only under
// the sub-organization. Only visible organizations count, so a license whose
// sub-organization the partner cannot see stays under the main organization.
// The result may share orgIDs' storage; callers only read it.
func (s *Scope) Placement(orgIDs []string) []string {
	if len(orgIDs) == 1 { // most licenses: no priority to apply, nothing to allocate
		if s.customers[orgIDs[0]] == nil {
			return nil
		}
		return orgIDs
	}
	var shown []string
	for _, id := range orgIDs {
		if s.customers[id] == nil {
			continue
		}
		shadowed := false
		for _, other := range orgIDs {
			if other != id && s.descends(other, id) {
				shadowed = true
				break
			}
		}
		if !shadowed && !slices.Contains(shown, id) {
			shown = append(shown, id)
		}
	}
	return shown
}

// descends reports whether the visible organization id has ancestor among its
// visible parents. The walk is bounded so that a cycle in bad data cannot hang it.
func (s *Scope) descends(id, ancestor string) bool {
	c := s.customers[id]
	for depth := 0; c != nil && depth < 16; depth++ {
		if c.ParentID == ancestor {
			return true
		}
		c = s.customers[c.ParentID]
	}
	return false
}
