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
	customers := []access.Customer{{ID: "c1", Name: "C1"}}
	tests := []struct {
		name      string
		orgType   access.OrgType
		level     access.Level
		customers []access.Customer
		want      bool
	}{
		{"distributor with read", access.OrgDistributor, access.Read, customers, true},
		{"reseller with full", access.OrgReseller, access.Full, customers, true},
		{"no access", access.OrgDistributor, access.None, customers, false},
		{"no customers", access.OrgReseller, access.Full, nil, false},
		{"customer organization", access.OrgCustomer, access.Full, customers, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := access.NewScope(access.User{}, access.Organization{ID: "p", Type: tt.orgType}, tt.level, tt.customers)
			if got := sc.Visible(); got != tt.want {
				t.Errorf("Visible() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestResellerSeesNoResellerColumn(t *testing.T) {
	c := access.Customer{ID: "c1", Name: "C1", Reseller: &access.Ref{ID: "r", Name: "R"}}
	sc := access.NewScope(access.User{}, access.Organization{ID: "r", Type: access.OrgReseller}, access.Read, []access.Customer{c})
	if got := sc.Customer("c1").Reseller; got != nil {
		t.Errorf("reseller sees reseller %+v, want nil", got)
	}
	dist := access.NewScope(access.User{}, access.Organization{ID: "d", Type: access.OrgDistributor}, access.Read, []access.Customer{c})
	if got := dist.Customer("c1").Reseller; got == nil || got.ID != "r" {
		t.Errorf("distributor sees reseller %+v, want r", got)
	}
}

func TestPlacement(t *testing.T) {
	all := []access.Customer{
		{ID: "main", Name: "Main"},
		{ID: "sub", Name: "Sub", ParentID: "main"},
		{ID: "subsub", Name: "Subsub", ParentID: "sub"},
		{ID: "other", Name: "Other"},
	}
	scope := func(ids ...string) *access.Scope {
		var cs []access.Customer
		for _, c := range all {
			if slices.Contains(ids, c.ID) {
				cs = append(cs, c)
			}
		}
		return access.NewScope(access.User{}, access.Organization{ID: "d", Type: access.OrgDistributor}, access.Read, cs)
	}
	tests := []struct {
		name    string
		visible []string
		orgs    []string
		want    []string
	}{
		{"main only", []string{"main", "sub"}, []string{"main"}, []string{"main"}},
		{"main and sub: only sub", []string{"main", "sub"}, []string{"main", "sub"}, []string{"sub"}},
		{"order does not matter", []string{"main", "sub"}, []string{"sub", "main"}, []string{"sub"}},
		{"sub not visible: stays under main", []string{"main"}, []string{"main", "sub"}, []string{"main"}},
		{"deeper levels", []string{"main", "sub", "subsub"}, []string{"main", "subsub"}, []string{"subsub"}},
		{"unrelated organizations: both", []string{"main", "other"}, []string{"main", "other"}, []string{"main", "other"}},
		{"none visible", []string{"other"}, []string{"main", "sub"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scope(tt.visible...).Placement(tt.orgs)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Placement(%v) = %v, want %v", tt.orgs, got, tt.want)
			}
		})
	}
}

func TestPlacementSurvivesCycles(t *testing.T) {
	cs := []access.Customer{{ID: "a", ParentID: "b"}, {ID: "b", ParentID: "a"}}
	sc := access.NewScope(access.User{}, access.Organization{Type: access.OrgDistributor}, access.Read, cs)
	got := sc.Placement([]string{"a", "b"})
	if len(got) == 2 {
		t.Errorf("Placement in a cycle = %v; want one of them to shadow the other", got)
	}
}
