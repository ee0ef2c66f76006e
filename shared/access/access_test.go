package access_test

import (
	"slices"
	"testing"

	"github.com/partnerportal/licenses/shared/access"
)

func TestLevelOf(t *testing.T) {
	role := func(l access.Level) access.Role {
		return access.Role{Permissions: map[string]access.Level{access.CustomerOrganizations: l, "other.object": access.Full}}
	}
	tests := []struct {
		name  string
		roles []access.Role
		want  access.Level
	}{
		{"no roles", nil, access.None},
		{"other object only", []access.Role{{Permissions: map[string]access.Level{"other.object": access.Full}}}, access.None},
		{"read", []access.Role{role(access.Read)}, access.Read},
		{"highest wins", []access.Role{role(access.Read), role(access.Full), role(access.None)}, access.Full},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := access.LevelOf(tt.roles, access.CustomerOrganizations); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestVisible(t *testing.T) {
	tests := []struct {
		name      string
		orgType   access.OrgType
		level     access.Level
		customers int
		want      bool
	}{
		{"distributor with read", access.OrgDistributor, access.Read, 1, true},
		{"reseller with full", access.OrgReseller, access.Full, 3, true},
		{"no access", access.OrgDistributor, access.None, 1, false},
		{"no customers", access.OrgReseller, access.Full, 0, false},
		{"customer organization", access.OrgCustomer, access.Full, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := access.Scope{Partner: access.Organization{ID: "p", Type: tt.orgType, Customers: tt.customers}, Level: tt.level}
			if got := sc.Visible(); got != tt.want {
				t.Errorf("Visible() = %v, want %v", got, tt.want)
			}
		})
	}
}

// world is a hierarchy for the tests: d1 sells main, sub and subsub (subsub
// through reseller r1, sub and subsub inheriting the distributor), d2 sells
// other; direct has no distributor and r1 as its reseller.
func world() *access.Hierarchy {
	orgs := map[string]*access.Organization{}
	for _, o := range []access.Organization{
		{ID: "d1", Type: access.OrgDistributor}, {ID: "d2", Type: access.OrgDistributor}, {ID: "r1", Type: access.OrgReseller},
		{ID: "main", Type: access.OrgCustomer, DistributorID: "d1"},
		{ID: "sub", Type: access.OrgCustomer, ParentID: "main"},
		{ID: "subsub", Type: access.OrgCustomer, ParentID: "sub", ResellerID: "r1"},
		{ID: "other", Type: access.OrgCustomer, DistributorID: "d2"},
		{ID: "direct", Type: access.OrgCustomer, ResellerID: "r1"},
	} {
		orgs[o.ID] = &o
	}
	return access.NewHierarchy(orgs)
}

func TestSellers(t *testing.T) {
	h := world()
	for _, tt := range []struct{ org, dist, res string }{
		{"main", "d1", ""}, {"sub", "d1", ""}, {"subsub", "d1", "r1"}, {"other", "d2", ""},
		{"direct", "", ""}, // sold directly: nobody sees it, its reseller neither
	} {
		if d, r := h.Sellers(tt.org); d != tt.dist || r != tt.res {
			t.Errorf("Sellers(%s) = %q, %q; want %q, %q", tt.org, d, r, tt.dist, tt.res)
		}
	}
	if h.Sees("r1", "direct") || h.Sees("d1", "other") || !h.Sees("r1", "subsub") || h.Sees("r1", "sub") {
		t.Error("Sees does not follow the sellers")
	}
	// A parent the partner cannot see is not named to it.
	if got := h.VisibleParent("r1", "subsub"); got != "" {
		t.Errorf("r1 sees subsub's parent as %q, want none", got)
	}
	if got := h.VisibleParent("d1", "subsub"); got != "sub" {
		t.Errorf("d1 sees subsub's parent as %q, want sub", got)
	}
}

func TestPlacement(t *testing.T) {
	h := world()
	tests := []struct {
		name    string
		partner string
		orgs    []string
		want    []string
	}{
		{"main only", "d1", []string{"main"}, []string{"main"}},
		{"main and sub: only sub", "d1", []string{"main", "sub"}, []string{"sub"}},
		{"order does not matter", "d1", []string{"sub", "main"}, []string{"sub"}},
		{"deeper levels", "d1", []string{"main", "subsub"}, []string{"subsub"}},
		{"top and bottom of three levels", "d1", []string{"main", "sub", "subsub"}, []string{"subsub"}},
		{"the reseller sees only the bottom", "r1", []string{"main", "subsub"}, []string{"subsub"}},
		{"unrelated organizations: both", "d1", []string{"main", "other"}, []string{"main"}},
		{"another distributor's", "d2", []string{"main", "other"}, []string{"other"}},
		{"none visible", "d2", []string{"main", "sub"}, nil},
		{"a direct customer's", "r1", []string{"direct"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h.Placement(tt.partner, tt.orgs); !slices.Equal(got, tt.want) {
				t.Errorf("Placement(%s, %v) = %v, want %v", tt.partner, tt.orgs, got, tt.want)
			}
		})
	}
}

// Priority applies along chains the partner sees: with the middle of three
// levels sold through another reseller, the reseller of the top and bottom
// sees both as organizations of their own.
func TestPlacementAlongVisibleChains(t *testing.T) {
	orgs := map[string]*access.Organization{
		"top":    {ID: "top", Type: access.OrgCustomer, DistributorID: "d", ResellerID: "r"},
		"mid":    {ID: "mid", Type: access.OrgCustomer, ParentID: "top", ResellerID: "other"},
		"bottom": {ID: "bottom", Type: access.OrgCustomer, ParentID: "mid", ResellerID: "r"},
	}
	h := access.NewHierarchy(orgs)
	if got := h.Placement("r", []string{"top", "bottom"}); !slices.Equal(got, []string{"top", "bottom"}) {
		t.Errorf("reseller r: %v, want both", got)
	}
	if got := h.Placement("d", []string{"top", "bottom"}); !slices.Equal(got, []string{"bottom"}) {
		t.Errorf("distributor d: %v, want bottom only", got)
	}
}

func TestPlacementSurvivesCycles(t *testing.T) {
	h := access.NewHierarchy(map[string]*access.Organization{
		"a": {ID: "a", Type: access.OrgCustomer, ParentID: "b", DistributorID: "d"},
		"b": {ID: "b", Type: access.OrgCustomer, ParentID: "a", DistributorID: "d"},
	})
	if got := h.Placement("d", []string{"a", "b"}); len(got) > 2 {
		t.Errorf("Placement in a cycle = %v", got)
	}
}
