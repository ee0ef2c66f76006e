// Package access decides who sees what: organizations and their partners,
// users and their roles, access levels, and the scope of customer
// organizations a partner user may see.
package access

import (
	"fmt"
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
// nearest ancestor's distributor and reseller where it has none of its own.
type Organization struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Type               OrgType `json:"type"`
	ParentID           string  `json:"-"`
	DistributorID      string  `json:"-"`
	ResellerID         string  `json:"-"`
	ExpiringWindowDays *int    `json:"-"`
	// Of a partner, as of the last import: how many customer organizations
	// it sees, how many licenses are assigned to them, and (a reseller) the
	// distributors through which it sells.
	Customers int      `json:"-"`
	Licenses  int      `json:"-"`
	Via       []string `json:"-"`
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

// Customer is a customer organization as one partner sees it, as of the
// last import. ParentID is set only when the partner sees the parent too;
// Reseller only when the partner is a distributor and the customer was sold
// through a reseller.
type Customer struct {
	ID       string
	Name     string
	ParentID string
	Reseller *Ref
	// LicenseCount is the number of licenses shown under the organization
	// to this partner (sub-organization priority applied, hidden products
	// left out, expired included); Licenses the number assigned to it, the
	// size of an export before it is read.
	LicenseCount int
	Licenses     int
}

// Scope is who a signed-in user is in the Customer Organizations feature:
// the user, its organization and the level its roles grant. What the
// partner sees is read where an operation needs it, not with every caller.
type Scope struct {
	User    User
	Partner Organization
	Level   Level
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
	return s.Partner.Type.Partner() && s.Partner.Customers > 0 && s.Level >= Read
}

// Sees reports whether the scope's partner is the distributor or the
// reseller of a customer organization sold through dist and res.
func (s *Scope) Sees(dist, res string) bool {
	return s.Partner.ID != "" && (s.Partner.ID == dist || s.Partner.ID == res)
}
