package store_test

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/store"
)

// loadBase returns a world with baseDoc imported.
func loadBase(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	w.loadDoc(baseDoc(), importNow)
	return w
}

// The caller costs the same whatever the partner's size: the user, then
// its organization and roles.
func TestCaller(t *testing.T) {
	w := loadBase(t)
	tests := []struct {
		user      string
		partner   string
		level     access.Level
		customers int
		visible   bool
	}{
		{"u-multi", "dist-a", access.Full, 4, true},
		{"u-read", "dist-a", access.Read, 4, true},
		{"u-other", "dist-a", access.None, 4, false},
		{"u-res", "res-a", access.Full, 2, true},
		{"u-cust", "cust-main", access.Full, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			ctx, stats := store.WithStats(w.ctx)
			sc, err := w.s.Caller(ctx, tt.user)
			if err != nil {
				t.Fatalf("Caller: %v", err)
			}
			if sc.Partner.ID != tt.partner || sc.Level != tt.level || sc.Partner.Customers != tt.customers || sc.Visible() != tt.visible {
				t.Errorf("scope = partner %s level %s customers %d visible %v; want %s %s %d %v",
					sc.Partner.ID, sc.Level, sc.Partner.Customers, sc.Visible(), tt.partner, tt.level, tt.customers, tt.visible)
			}
			if got := stats.Requests.Load(); got != 2 {
				t.Errorf("%d requests, want 2", got)
			}
			if got := stats.ItemsRead.Load(); got > 10 {
				t.Errorf("%d items read, want at most 10", got)
			}
		})
	}
}

func TestCallerUnauthenticated(t *testing.T) {
	w := loadBase(t)
	for _, sub := range []string{"", "nobody"} {
		if _, err := w.s.Caller(w.ctx, sub); fault.CodeOf(err) != fault.Unauthenticated {
			t.Errorf("Caller(%q) = %v, want %s", sub, err, fault.Unauthenticated)
		}
	}
}

// What each partner's customer list holds: its customers by name, the
// reseller for a distributor only, a parent only where the partner sees it,
// and the number of licenses shown under each (priority applied, hidden
// products left out).
func TestCustomers(t *testing.T) {
	w := loadBase(t)
	tests := []struct {
		partner string
		want    string
	}{
		{"dist-a", "cust-direct(-,-,1) cust-main(-,res-a,1) cust-sub(cust-main,res-a,2) cust-sub-own(cust-main,res-b,1)"},
		{"res-a", "cust-main(-,-,1) cust-sub(cust-main,-,2)"},
		{"res-b", "cust-sub-own(-,-,1)"},
		{"dist-b", "cust-b(-,-,1)"},
	}
	for _, tt := range tests {
		t.Run(tt.partner, func(t *testing.T) {
			cs, err := w.s.Customers(w.ctx, tt.partner)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(cs, func(a, b access.Customer) int { return strings.Compare(a.ID, b.ID) })
			var parts []string
			for _, c := range cs {
				parent, res := "-", "-"
				if c.ParentID != "" {
					parent = c.ParentID
				}
				if c.Reseller != nil {
					res = c.Reseller.ID
				}
				parts = append(parts, fmt.Sprintf("%s(%s,%s,%d)", c.ID, parent, res, c.LicenseCount))
			}
			if got := strings.Join(parts, " "); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestOrganization(t *testing.T) {
	w := loadBase(t)
	o, err := w.s.Organization(w.ctx, "dist-a")
	if err != nil || o.Name != "Distributor A" || o.Type != access.OrgDistributor || o.ExpiringWindowDays == nil || *o.ExpiringWindowDays != 45 {
		t.Errorf("Organization(dist-a) = %+v, %v", o, err)
	}
	if r, err := w.s.Organization(w.ctx, "res-b"); err != nil || !slices.Equal(r.Via, []string{"dist-a"}) {
		t.Errorf("res-b sells through %v (%v), want dist-a", r.Via, err)
	}
	if _, err := w.s.Organization(w.ctx, "nobody"); !isNotFound(err) {
		t.Errorf("unknown organization: %v", err)
	}
}

func isNotFound(err error) bool { return fault.CodeOf(err) == fault.NotFound }

// Each partner sees exactly what the spec's rules say, in its whole view
// and in a selection, where priority applies before the selection.
func TestView(t *testing.T) {
	for _, tt := range []struct {
		name string
		doc  func() dataset.Document
	}{{"base", baseDoc}, {"demo", demoDoc}} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			doc := tt.doc()
			w.loadDoc(doc, importNow)
			for _, o := range doc.Organizations {
				if o.Type == "customer" {
					continue
				}
				if got, want := w.view(o.ID), expected(doc, o.ID); !slices.Equal(got, want) {
					t.Errorf("%s sees %d rows, want %d:\n got %v\nwant %v", o.ID, len(got), len(want), got, want)
				}
			}
		})
	}
	w := loadBase(t)
	if got, want := w.view("dist-a", "cust-main"), []string{"cust-main " + licMain, "cust-main " + licHidden}; !slices.Equal(got, want) {
		t.Errorf("dist-a's selection of cust-main = %v, want %v (the shared license is under the sub-organization)", got, want)
	}
	if got, want := w.view("dist-a", "cust-sub", "cust-direct"), []string{"cust-direct " + licDirect, "cust-sub " + licCloudNew, "cust-sub " + licShared}; !slices.Equal(got, want) {
		t.Errorf("dist-a's selection = %v, want %v", got, want)
	}
	for _, tt := range []struct{ partner, org string }{{"dist-a", "cust-b"}, {"res-a", "cust-sub-own"}, {"res-b", "nobody"}} {
		if _, err := w.s.View(w.ctx, w.partner(tt.partner), []string{tt.org}, false); !isNotFound(err) {
			t.Errorf("%s selecting %s: %v, want not_found", tt.partner, tt.org, err)
		}
	}
}

// A view with deployments holds every active deployment of its licenses.
func TestViewDeployments(t *testing.T) {
	w := loadBase(t)
	listings, err := w.s.View(w.ctx, w.partner("dist-a"), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, l := range listings {
		for k, deps := range l.Deployments {
			got[k] = activeIDs(deps, k)
		}
	}
	want := map[string][]string{licMain: {"dep-1", "dep-2"}, licShared: {"dep-s"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("active deployments = %v, want %v", got, want)
	}
}

// A view costs a Query per shard of the partner's partition (a reseller's:
// of each distributor it sells through), whatever the number of customers,
// and a selection a few BatchGets; never a request per organization.
func TestViewRequests(t *testing.T) {
	w := newWorld(t)
	doc := demoDoc()
	w.loadDoc(doc, importNow)
	var dist, res string
	for _, o := range doc.Organizations {
		switch {
		case o.Type == "distributor" && dist == "":
			dist = o.ID
		case o.Type == "reseller" && res == "":
			res = o.ID
		}
	}
	count := func(partner string, ids []string) int64 {
		ctx, stats := store.WithStats(w.ctx)
		if _, err := w.s.View(ctx, w.partner(partner), ids, false); err != nil {
			t.Fatal(err)
		}
		return stats.Requests.Load()
	}
	if got := count(dist, nil); got != store.Shards {
		t.Errorf("%s's view: %d requests, want %d (one per shard)", dist, got, store.Shards)
	}
	via := len(w.partner(res).Partner.Via)
	if got := count(res, nil); got != int64(via*store.Shards) {
		t.Errorf("%s's view: %d requests, want %d (one per shard of %d distributors)", res, got, via*store.Shards, via)
	}
	cs, err := w.s.Customers(w.ctx, dist)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	if got := count(dist, ids); got > 1+int64(len(ids)+99)/100*3 {
		t.Errorf("a selection of %d organizations: %d requests", len(ids), got)
	}
}

func TestCatalog(t *testing.T) {
	w := loadBase(t)
	got, err := w.s.Catalog(w.ctx)
	if err != nil {
		t.Fatalf("Catalog: %v", err)
	}
	want := map[string]license.Product{
		"core":     {ID: "core", Name: "MetaDefender Core", Category: license.OnPrem, VisibleToPartners: true},
		"cloud":    {ID: "cloud", Name: "MetaDefender Cloud", Category: license.CloudService, VisibleToPartners: true},
		"itaccess": {ID: "itaccess", Name: "MetaDefender IT Access", Category: license.OnPrem, VisibleToPartners: false},
	}
	if !maps.Equal(got, want) {
		t.Errorf("got %v\nwant %v (hidden products included)", got, want)
	}
}

// A license's record says who is shown it under which organization, and
// holds its deployments; the history beside it is not taken for them.
func TestLicense(t *testing.T) {
	w := loadBase(t)
	rec, deps, err := w.s.License(w.ctx, licShared)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		partner string
		want    []string
	}{{"dist-a", []string{"cust-sub"}}, {"res-a", []string{"cust-sub"}}, {"res-b", nil}, {"dist-b", nil}} {
		var got []string
		for _, o := range rec.ShownTo(tt.partner) {
			got = append(got, o.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s is shown %s under %v, want %v", tt.partner, licShared, got, tt.want)
		}
	}
	if rec.Deployed != 1 || rec.Purchased() != 3 || activeIDs(deps, licShared)[0] != "dep-s" {
		t.Errorf("record = %+v, deployments %+v", rec.License, deps)
	}
	rec, deps, err = w.s.License(w.ctx, licMain)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(deps, func(a, b license.Deployment) int { return strings.Compare(a.DeploymentID, b.DeploymentID) })
	want := []license.Deployment{
		{DeploymentID: "dep-1", LicenseKey: licMain, Name: "Server 1", ActivatedAt: time.Date(2025, 2, 1, 10, 0, 0, 0, time.UTC),
			LastSeenAt: ptrTo(time.Date(2025, 5, 30, 8, 15, 0, 0, time.UTC)), Active: true, Imported: true},
		{DeploymentID: "dep-2", LicenseKey: licMain, ActivatedAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), Active: true, Imported: true},
		{DeploymentID: "dep-3", LicenseKey: licMain, Name: "Retired", ActivatedAt: time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC), Active: false, Imported: true},
	}
	if !reflect.DeepEqual(deps, want) {
		t.Errorf("deployments of %s:\n got %+v\nwant %+v", licMain, deps, want)
	}
	if rec.CustomerNote != "=SUM(A1) — Zürich 東京" || rec.Deployed != 2 {
		t.Errorf("record = %+v", rec.License)
	}
	if _, _, err := w.s.License(w.ctx, "LIC-NONE"); !isNotFound(err) {
		t.Errorf("unknown license: %v", err)
	}
}

func TestLicensesByKey(t *testing.T) {
	w := loadBase(t)
	for _, tt := range []struct {
		name string
		keys []string
		want []string
	}{
		{"two and a missing one", []string{licDirect, "LIC-NONE", licB}, []string{licB, licDirect}},
		{"repeated", []string{licDirect, licDirect}, []string{licDirect}},
		{"hidden product too", []string{licHidden}, []string{licHidden}},
		{"none", nil, []string{}},
	} {
		rs, err := w.s.LicensesByKey(w.ctx, tt.keys)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := licenseKeys(rs); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPins(t *testing.T) {
	w := loadBase(t)
	// The import writes no pins: they belong to users and are set through the API.
	for _, user := range []string{"u-multi", "u-res", "nobody"} {
		pins, err := w.s.Pins(w.ctx, user)
		if err != nil {
			t.Fatalf("Pins(%s): %v", user, err)
		}
		if len(pins) != 0 {
			t.Errorf("Pins(%s): got %v, want none", user, pins)
		}
	}
}

func TestPartnerNotes(t *testing.T) {
	w := loadBase(t)
	distNote := license.Note{Text: "Renewal due in Q3", Version: 1, UpdatedAt: time.Date(2025, 5, 1, 9, 30, 0, 0, time.UTC), UpdatedBy: "u-multi"}
	// A note without a time of its own carries the import's.
	resNote := license.Note{Text: "Call Bob\nbefore renewal", Version: 1, UpdatedAt: importNow, UpdatedBy: "u-res"}
	for _, tt := range []struct {
		partner string
		want    map[string]license.Note
	}{
		{"dist-a", map[string]license.Note{licMain: distNote}},
		{"res-a", map[string]license.Note{licMain: resNote}},
		{"res-b", map[string]license.Note{}},
	} {
		got, err := w.s.PartnerNotes(w.ctx, tt.partner)
		if err != nil {
			t.Fatalf("PartnerNotes: %v", err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %+v\nwant %+v", tt.partner, got, tt.want)
		}
	}
	if _, err := w.s.PartnerNote(w.ctx, "dist-b", licMain); !isNotFound(err) {
		t.Errorf("another partner's note: %v", err)
	}
}
