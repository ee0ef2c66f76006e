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
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/store"
)

// loadBase returns a world holding baseDoc.
func loadBase(t *testing.T) *world {
	t.Helper()
	w := newWorld(t)
	w.loadDoc(baseDoc(), importNow)
	return w
}

func TestCaller(t *testing.T) {
	w := newWorld(t)
	ds := checked(t, baseDoc())
	// dataset.Check refuses a role of another organization, so these users
	// are added past it, as a hand-edited table might hold them.
	for i := range ds.Users {
		if ds.Users[i].ID == "u-foreign" {
			ds.Users[i].RoleIDs = []string{"role-a-read", "role-ra-full"}
		}
	}
	ds.Users = append(ds.Users, access.User{ID: "u-foreign-only", Email: "f@dist-a.example", Name: "Only Foreign",
		OrganizationID: "dist-a", RoleIDs: []string{"role-ra-full"}})
	w.load(ds, importNow)

	// Customers as "id parent reseller", in the scope's order (by name).
	distA := []string{"cust-direct - -", "cust-main - res-a", "cust-sub cust-main res-a", "cust-sub-own cust-main res-b"}
	tests := []struct {
		name      string
		user      string
		level     access.Level
		partner   string
		customers []string
		visible   bool
	}{
		{"two roles, read and full: the higher wins", "u-multi", access.Full, "dist-a", distA, true},
		{"read role", "u-read", access.Read, "dist-a", distA, true},
		{"role for another object only", "u-other", access.None, "dist-a", distA, false},
		{"role of another organization grants nothing beside an own one", "u-foreign", access.Read, "dist-a", distA, true},
		{"role of another organization grants nothing", "u-foreign-only", access.None, "dist-a", distA, false},
		{"reseller: no reseller on its customers", "u-res", access.Full, "res-a",
			[]string{"cust-main - -", "cust-sub cust-main -"}, true},
		{"customer organization: no customers", "u-cust", access.Full, "cust-main", []string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := w.s.Caller(w.ctx, tt.user)
			if err != nil {
				t.Fatalf("Caller(%s): %v", tt.user, err)
			}
			if sc.User.ID != tt.user || sc.User.OrganizationID != tt.partner || sc.User.Email == "" || sc.User.Name == "" {
				t.Errorf("user: got %+v, want %s of %s with email and name", sc.User, tt.user, tt.partner)
			}
			if sc.Partner.ID != tt.partner {
				t.Errorf("organization: got %s, want %s", sc.Partner.ID, tt.partner)
			}
			if sc.Level != tt.level {
				t.Errorf("level: got %s, want %s", sc.Level, tt.level)
			}
			got := []string{}
			for _, c := range sc.Customers() {
				parent, reseller := "-", "-"
				if c.ParentID != "" {
					parent = c.ParentID
				}
				if c.Reseller != nil {
					reseller = c.Reseller.ID
				}
				got = append(got, c.ID+" "+parent+" "+reseller)
			}
			if !slices.Equal(got, tt.customers) {
				t.Errorf("customers:\n got %v\nwant %v", got, tt.customers)
			}
			if sc.Visible() != tt.visible {
				t.Errorf("Visible(): got %v, want %v", sc.Visible(), tt.visible)
			}
		})
	}
}

func TestCallerUnauthenticated(t *testing.T) {
	w := loadBase(t)
	for _, user := range []string{"", "nobody", "dist-a", "u-multi "} {
		t.Run(fmt.Sprintf("%q", user), func(t *testing.T) {
			sc, err := w.s.Caller(w.ctx, user)
			if got := fault.CodeOf(err); got != fault.Unauthenticated {
				t.Errorf("got scope %v, error %v (code %s), want code %s", sc, err, got, fault.Unauthenticated)
			}
		})
	}
}

// TestCustomers checks every partner's customers of baseDoc in full: a
// sub-organization without sellers of its own is seen by its parent's
// distributor and reseller, one with its own reseller by that reseller and
// not by the parent's, only a distributor's customers name a reseller, and
// each carries the number of licenses assigned to it.
func TestCustomers(t *testing.T) {
	w := loadBase(t)
	resA := &access.Ref{ID: "res-a", Name: "Reseller A"}
	resB := &access.Ref{ID: "res-b", Name: "Reseller B"}
	tests := []struct {
		partner string
		want    []access.Customer
	}{
		// Licenses counts the licenses assigned to the organization, hidden
		// products included: LIC-CORE-MAIN, LIC-SHARED and LIC-HIDDEN on
		// cust-main, LIC-SHARED and LIC-CLOUD-NOUSE on cust-sub.
		{"dist-a", []access.Customer{
			{ID: "cust-direct", Name: "Direct GmbH", Licenses: 1},
			{ID: "cust-main", Name: "Main Corp", Reseller: resA, Licenses: 3},
			{ID: "cust-sub", Name: "Main Corp Labs", ParentID: "cust-main", Reseller: resA, Licenses: 2},
			{ID: "cust-sub-own", Name: "Main Corp Ops", ParentID: "cust-main", Reseller: resB, Licenses: 1},
		}},
		{"dist-b", []access.Customer{{ID: "cust-b", Name: "Bee Ltd", Licenses: 1}}},
		{"res-a", []access.Customer{
			{ID: "cust-main", Name: "Main Corp", Licenses: 3},
			{ID: "cust-sub", Name: "Main Corp Labs", ParentID: "cust-main", Licenses: 2},
		}},
		{"res-b", []access.Customer{{ID: "cust-sub-own", Name: "Main Corp Ops", ParentID: "cust-main", Licenses: 1}}},
		{"cust-main", nil},
		{"unknown", nil},
	}
	for _, tt := range tests {
		t.Run(tt.partner, func(t *testing.T) {
			got, err := w.s.Customers(w.ctx, tt.partner)
			if err != nil {
				t.Fatalf("Customers: %v", err)
			}
			slices.SortFunc(got, func(a, b access.Customer) int { return strings.Compare(a.ID, b.ID) })
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Errorf("got %s, want %s", customersString(got), customersString(tt.want))
			}
		})
	}
}

func customersString(cs []access.Customer) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "\n  %+v", c)
		if c.Reseller != nil {
			fmt.Fprintf(&b, " reseller %+v", *c.Reseller)
		}
	}
	return b.String()
}

func TestOrganization(t *testing.T) {
	w := loadBase(t)
	tests := []struct {
		id   string
		want access.Organization
	}{
		{"dist-a", access.Organization{ID: "dist-a", Name: "Distributor A", Type: access.OrgDistributor, ExpiringWindowDays: ptrTo(45)}},
		{"res-b", access.Organization{ID: "res-b", Name: "Reseller B", Type: access.OrgReseller}},
		{"cust-sub", access.Organization{ID: "cust-sub", Name: "Main Corp Labs", Type: access.OrgCustomer, ParentID: "cust-main"}},
		{"cust-sub-own", access.Organization{ID: "cust-sub-own", Name: "Main Corp Ops", Type: access.OrgCustomer, ParentID: "cust-main", ResellerID: "res-b"}},
		{"cust-main", access.Organization{ID: "cust-main", Name: "Main Corp", Type: access.OrgCustomer, DistributorID: "dist-a", ResellerID: "res-a"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, err := w.s.Organization(w.ctx, tt.id)
			if err != nil {
				t.Fatalf("Organization: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		if _, err := w.s.Organization(w.ctx, "nope"); fault.CodeOf(err) != fault.NotFound {
			t.Errorf("got %v, want code %s", err, fault.NotFound)
		}
	})
}

func TestLicenses(t *testing.T) {
	w := loadBase(t)
	tests := []struct {
		name     string
		partner  string
		selected map[string]bool
		want     []string
	}{
		{"every customer; a license on two organizations comes once", "dist-a", nil,
			[]string{licCloudOwn, licCloudNew, licMain, licDirect, licHidden, licShared}},
		{"main organization and its sub-organization", "dist-a", selection("cust-main", "cust-sub"),
			[]string{licCloudNew, licMain, licHidden, licShared}},
		{"sub-organization only", "dist-a", selection("cust-sub"), []string{licCloudNew, licShared}},
		{"organizations apart in key order", "dist-a", selection("cust-direct", "cust-sub-own"), []string{licCloudOwn, licDirect}},
		{"another distributor's organization", "dist-a", selection("cust-b"), []string{}},
		{"unknown organization", "dist-a", selection("nope"), []string{}},
		{"empty selection", "dist-a", selection(), []string{}},
		{"reseller, every customer", "res-a", nil, []string{licCloudNew, licMain, licHidden, licShared}},
		{"reseller, an organization of another reseller", "res-a", selection("cust-sub-own"), []string{}},
		{"other reseller", "res-b", nil, []string{licCloudOwn}},
		{"other distributor", "dist-b", nil, []string{licB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, err := w.s.Licenses(w.ctx, w.scope(tt.partner), tt.selected)
			if err != nil {
				t.Fatalf("Licenses: %v", err)
			}
			if got, want := licenseKeys(ls), slices.Sorted(slices.Values(tt.want)); !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}

	t.Run("fields", func(t *testing.T) {
		ls, err := w.s.Licenses(w.ctx, w.scope("dist-a"), selection("cust-main"))
		if err != nil {
			t.Fatalf("Licenses: %v", err)
		}
		i := slices.IndexFunc(ls, func(l license.License) bool { return l.Key == licMain })
		if i < 0 {
			t.Fatalf("no %s among %v", licMain, licenseKeys(ls))
		}
		if want := wantMain(t); !reflect.DeepEqual(ls[i], want) {
			t.Errorf("got %+v, want %+v", ls[i], want)
		}
	})
}

func mustDate(t *testing.T, s string) license.Date {
	t.Helper()
	d, err := license.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// wantMain is LIC-CORE-MAIN as the store must return it.
func wantMain(t *testing.T) license.License {
	return license.License{Key: licMain, ProductID: "core", OrganizationIDs: []string{"cust-main"}, Type: license.Purchased,
		StartDate: mustDate(t, "2025-01-01"), ExpirationDate: mustDate(t, "2026-01-01"), PurchasedInstances: ptrTo(5),
		CustomerNote: "=SUM(A1) — Zürich 東京", Deployed: 2}
}

// bigDemoDoc is a demo document with 240 customer organizations, so that a
// distributor's selection is long enough to be split into ranges.
func bigDemoDoc() dataset.Document {
	cfg := demo.Small()
	cfg.Customers = 240
	cfg.Licenses = 300
	cfg.DeploymentsPerLicense = 0.5
	return demo.Generate(cfg, demoToday)
}

// expectedView computes from the data set what a partner must see for a
// selection (nil for all): each license key with its deployed count, and
// each active deployment as "key/id".
func expectedView(ds *dataset.Dataset, partner string, selected map[string]bool) (licenses, deployments []string) {
	orgs := make(map[string]*access.Organization)
	for i := range ds.Organizations {
		orgs[ds.Organizations[i].ID] = &ds.Organizations[i]
	}
	active := make(map[string][]string)
	for _, d := range ds.Deployments {
		if d.Active {
			active[d.LicenseKey] = append(active[d.LicenseKey], d.LicenseKey+"/"+d.DeploymentID)
		}
	}
	for _, l := range ds.Licenses {
		if slices.ContainsFunc(l.OrganizationIDs, func(org string) bool {
			dist, res := dataset.Sellers(orgs, org)
			return (dist == partner || res == partner) && (selected == nil || selected[org])
		}) {
			licenses = append(licenses, fmt.Sprintf("%s:%d", l.Key, len(active[l.Key])))
			deployments = append(deployments, active[l.Key]...)
		}
	}
	slices.Sort(licenses)
	slices.Sort(deployments)
	return licenses, deployments
}

// TestLicensesParallelism reads a demo data set's licenses and active
// deployments for several partners, with all its customers and with some
// selected, at parallelism 1 and 16: each must match what the data set
// says, and so each other.
func TestLicensesParallelism(t *testing.T) {
	w := newWorld(t)
	ds := checked(t, bigDemoDoc())
	w.load(ds, importNow)
	// Both distributors (over 100 customers each: their selections are
	// split into ranges), a reseller, and the reseller without customers.
	for _, partner := range []string{"org-dist-1", "org-dist-2", "org-res-1", "org-res-idle"} {
		sc := w.scope(partner)
		// A few runs of organizations in key order: minidyn reads the
		// whole table for every Query.
		var ids []string
		for _, c := range sc.Customers() {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		some := make(map[string]bool)
		for i, id := range ids {
			if (i >= 2 && i < len(ids)/2) || i == len(ids)-2 {
				some[id] = true
			}
		}
		for _, sel := range []struct {
			name     string
			selected map[string]bool
		}{{"all", nil}, {"some", some}} {
			wantLicenses, wantDeployments := expectedView(ds, partner, sel.selected)
			if len(wantLicenses) == 0 && len(sc.Customers()) > 0 {
				t.Fatalf("%s %s: the data set gives no licenses to compare", partner, sel.name)
			}
			for _, parallelism := range []int{1, 16} {
				t.Run(fmt.Sprintf("%s/%s/parallelism %d", partner, sel.name, parallelism), func(t *testing.T) {
					w.s.Parallelism = parallelism
					ls, err := w.s.Licenses(w.ctx, sc, sel.selected)
					if err != nil {
						t.Fatalf("Licenses: %v", err)
					}
					gotLicenses := []string{}
					for _, l := range ls {
						gotLicenses = append(gotLicenses, fmt.Sprintf("%s:%d", l.Key, l.Deployed))
					}
					slices.Sort(gotLicenses)
					if !slices.Equal(gotLicenses, wantLicenses) {
						t.Errorf("licenses (key:deployed): got %d %v\nwant %d %v", len(gotLicenses), gotLicenses, len(wantLicenses), wantLicenses)
					}
					deps, err := w.s.ActiveDeployments(w.ctx, sc, sel.selected)
					if err != nil {
						t.Fatalf("ActiveDeployments: %v", err)
					}
					gotDeployments := []string{}
					for _, d := range deps {
						gotDeployments = append(gotDeployments, d.LicenseKey+"/"+d.DeploymentID)
					}
					slices.Sort(gotDeployments)
					if !slices.Equal(gotDeployments, wantDeployments) {
						t.Errorf("active deployments: got %d %v\nwant %d %v", len(gotDeployments), gotDeployments, len(wantDeployments), wantDeployments)
					}
				})
			}
		}
	}
}

// TestLicensesRequests counts the DynamoDB requests of Licenses: one range
// Query per run of selected organizations that are consecutive in the
// partner's key order, however many licenses they hold; never one per
// organization or per license.
func TestLicensesRequests(t *testing.T) {
	t.Run("small selections", func(t *testing.T) {
		w := loadBase(t)
		// dist-a's customers in key order: cust-direct, cust-main,
		// cust-sub, cust-sub-own.
		tests := []struct {
			name     string
			selected map[string]bool
			want     int
		}{
			{"every customer", nil, 1},
			{"all four by name", selection("cust-direct", "cust-main", "cust-sub", "cust-sub-own"), 1},
			{"two consecutive", selection("cust-main", "cust-sub"), 1},
			{"two apart", selection("cust-direct", "cust-sub"), 2},
			{"first and last", selection("cust-direct", "cust-sub-own"), 2},
			{"none visible", selection("cust-b", "nope"), 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx, stats := store.WithStats(w.ctx)
				if _, err := w.s.Licenses(ctx, w.scope("dist-a"), tt.selected); err != nil {
					t.Fatalf("Licenses: %v", err)
				}
				if got := stats.Requests.Load(); got != int64(tt.want) {
					t.Errorf("got %d requests, want %d", got, tt.want)
				}
			})
		}
	})

	t.Run("a large selection", func(t *testing.T) {
		w := newWorld(t)
		ds := checked(t, bigDemoDoc())
		w.load(ds, importNow)
		sc := w.scope("org-dist-1")
		// Selections of more than 100 organizations may be split.
		if n := len(sc.Customers()); n <= 100 {
			t.Fatalf("org-dist-1 has %d customers, want more than 100", n)
		}
		for _, parallelism := range []int{1, 16} {
			w.s.Parallelism = parallelism
			ctx, stats := store.WithStats(w.ctx)
			ls, err := w.s.Licenses(ctx, sc, nil)
			if err != nil {
				t.Fatalf("Licenses: %v", err)
			}
			got := stats.Requests.Load()
			if got < 1 || got > int64(parallelism) || got >= int64(len(ls)) {
				t.Errorf("parallelism %d: got %d requests for %d licenses of %d organizations, want 1 to %d",
					parallelism, got, len(ls), len(sc.Customers()), parallelism)
			}
		}
	})

	t.Run("an organization larger than a page", func(t *testing.T) {
		w := newWorld(t)
		doc := baseDoc()
		note := strings.Repeat("Zürich 東京 ", 1000)[:9990] // about 13 KB of UTF-8
		const n = 160
		for i := range n {
			doc.Licenses = append(doc.Licenses, dataset.License{Key: fmt.Sprintf("BIG-%03d", i), ProductID: "core",
				OrganizationIDs: []string{"cust-direct"}, Type: "purchased", StartDate: "2025-01-01",
				ExpirationDate: "2026-01-01", PurchasedInstances: ptrTo(1), CustomerNote: &note})
		}
		w.loadDoc(doc, importNow)
		ctx, stats := store.WithStats(w.ctx)
		ls, err := w.s.Licenses(ctx, w.scope("dist-a"), selection("cust-direct"))
		if err != nil {
			t.Fatalf("Licenses: %v", err)
		}
		if len(ls) != n+1 {
			t.Errorf("got %d licenses, want %d: every page must be read", len(ls), n+1)
		}
		// DynamoDB pages at 1 MB; emulators may page later (minidyn does not page).
		pages := int64(1 + n*len(note)/(1<<20))
		got := stats.Requests.Load()
		if got < 1 || got > pages {
			t.Errorf("got %d requests, want 1 to %d (one Query and its pages)", got, pages)
		}
		t.Logf("%d licenses of about %d KB read with %d requests", len(ls), n*len(note)>>10, got)
	})
}

func TestActiveDeployments(t *testing.T) {
	w := loadBase(t)
	dep1 := license.Deployment{DeploymentID: "dep-1", LicenseKey: licMain, Name: "Server 1",
		ActivatedAt: time.Date(2025, 2, 1, 10, 0, 0, 0, time.UTC), LastSeenAt: ptrTo(time.Date(2025, 5, 30, 8, 15, 0, 0, time.UTC)), Active: true}
	dep2 := license.Deployment{DeploymentID: "dep-2", LicenseKey: licMain, ActivatedAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), Active: true}
	depS := license.Deployment{DeploymentID: "dep-s", LicenseKey: licShared, Name: "Lab", ActivatedAt: time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC), Active: true}
	tests := []struct {
		name     string
		partner  string
		selected map[string]bool
		want     []license.Deployment
	}{
		{"every customer; a deployment under two organizations comes once", "dist-a", nil, []license.Deployment{dep1, dep2, depS}},
		{"sub-organization", "dist-a", selection("cust-sub"), []license.Deployment{depS}},
		{"reseller", "res-a", selection("cust-main"), []license.Deployment{dep1, dep2, depS}},
		{"no deployments", "res-b", nil, nil},
		{"another distributor's organization", "dist-b", selection("cust-main"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.s.ActiveDeployments(w.ctx, w.scope(tt.partner), tt.selected)
			if err != nil {
				t.Fatalf("ActiveDeployments: %v", err)
			}
			slices.SortFunc(got, func(a, b license.Deployment) int { return strings.Compare(a.DeploymentID, b.DeploymentID) })
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
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

func TestLicense(t *testing.T) {
	w := loadBase(t)
	tests := []struct {
		key         string
		want        license.License
		deployments []license.Deployment
	}{
		{licMain, wantMain(t), []license.Deployment{
			{DeploymentID: "dep-1", LicenseKey: licMain, Name: "Server 1", ActivatedAt: time.Date(2025, 2, 1, 10, 0, 0, 0, time.UTC),
				LastSeenAt: ptrTo(time.Date(2025, 5, 30, 8, 15, 0, 0, time.UTC)), Active: true},
			{DeploymentID: "dep-2", LicenseKey: licMain, ActivatedAt: time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC), Active: true},
			{DeploymentID: "dep-3", LicenseKey: licMain, Name: "Retired", ActivatedAt: time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC), Active: false},
		}},
		{licCloudOwn, license.License{Key: licCloudOwn, ProductID: "cloud", OrganizationIDs: []string{"cust-sub-own"}, Type: license.Purchased,
			StartDate: mustDate(t, "2025-02-01"), ExpirationDate: mustDate(t, "2026-02-01"), ScanLimit: ptrTo(1000), ScansUsed: ptrTo(250)}, nil},
		{licCloudNew, license.License{Key: licCloudNew, ProductID: "cloud", OrganizationIDs: []string{"cust-sub"}, Type: license.Evaluation,
			StartDate: mustDate(t, "2025-05-01"), ExpirationDate: mustDate(t, "2025-07-01"), ScanLimit: ptrTo(500)}, nil},
		{licShared, license.License{Key: licShared, ProductID: "core", OrganizationIDs: []string{"cust-main", "cust-sub"}, Type: license.Purchased,
			StartDate: mustDate(t, "2024-06-01"), ExpirationDate: mustDate(t, "2025-06-20"), PurchasedInstances: ptrTo(3), Deployed: 1},
			[]license.Deployment{{DeploymentID: "dep-s", LicenseKey: licShared, Name: "Lab", ActivatedAt: time.Date(2024, 7, 1, 9, 0, 0, 0, time.UTC), Active: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			// The partition holds history events too (created, activated,
			// partner notes): they must not come back as deployments.
			if len(w.events(tt.key)) == 0 {
				t.Fatalf("no history events of %s to leave out", tt.key)
			}
			got, deps, err := w.s.License(w.ctx, tt.key)
			if err != nil {
				t.Fatalf("License: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("license:\n got %+v\nwant %+v", got, tt.want)
			}
			slices.SortFunc(deps, func(a, b license.Deployment) int { return strings.Compare(a.DeploymentID, b.DeploymentID) })
			if len(deps) != len(tt.deployments) || (len(deps) > 0 && !reflect.DeepEqual(deps, tt.deployments)) {
				t.Errorf("deployments:\n got %+v\nwant %+v", deps, tt.deployments)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		if _, _, err := w.s.License(w.ctx, "LIC-NONE"); fault.CodeOf(err) != fault.NotFound {
			t.Errorf("got %v, want code %s", err, fault.NotFound)
		}
	})
}

func TestLicensesByKey(t *testing.T) {
	t.Run("some missing", func(t *testing.T) {
		w := loadBase(t)
		tests := []struct {
			name string
			keys []string
			want []string
		}{
			{"two and a missing one", []string{licDirect, "LIC-NONE", licB}, []string{licB, licDirect}},
			{"hidden product too", []string{licHidden}, []string{licHidden}},
			{"none", nil, []string{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ls, err := w.s.LicensesByKey(w.ctx, tt.keys)
				if err != nil {
					t.Fatalf("LicensesByKey: %v", err)
				}
				if got := licenseKeys(ls); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
	})
	t.Run("more than one batch", func(t *testing.T) {
		w := newWorld(t)
		doc := demoDoc()
		w.loadDoc(doc, importNow)
		var keys, want []string
		for _, l := range doc.Licenses {
			keys = append(keys, l.Key)
			want = append(want, l.Key)
		}
		for i := range 30 {
			keys = append(keys, fmt.Sprintf("MISSING-%02d", i))
		}
		slices.Sort(want)
		ctx, stats := store.WithStats(w.ctx)
		ls, err := w.s.LicensesByKey(ctx, keys)
		if err != nil {
			t.Fatalf("LicensesByKey: %v", err)
		}
		if got := licenseKeys(ls); !slices.Equal(got, want) {
			t.Errorf("got %d licenses, want %d", len(got), len(want))
		}
		if got, min := stats.Requests.Load(), int64((len(keys)+99)/100); got < min {
			t.Errorf("got %d requests for %d keys, want at least %d (100 keys a request)", got, len(keys), min)
		}
	})
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

	t.Run("PartnerNotes", func(t *testing.T) {
		tests := []struct {
			partner string
			want    map[string]license.Note
		}{
			{"dist-a", map[string]license.Note{licMain: distNote}},
			{"res-a", map[string]license.Note{licMain: resNote}},
			{"res-b", map[string]license.Note{}},
			{"dist-b", map[string]license.Note{}},
		}
		for _, tt := range tests {
			t.Run(tt.partner, func(t *testing.T) {
				got, err := w.s.PartnerNotes(w.ctx, tt.partner)
				if err != nil {
					t.Fatalf("PartnerNotes: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got %+v\nwant %+v", got, tt.want)
				}
			})
		}
	})

	t.Run("PartnerNote", func(t *testing.T) {
		tests := []struct {
			partner, key string
			want         *license.Note // nil: not found
		}{
			{"dist-a", licMain, &distNote},
			{"res-a", licMain, &resNote},
			{"dist-a", licDirect, nil},
			{"dist-b", licMain, nil}, // another partner's note is not there to read
			{"res-b", licMain, nil},
		}
		for _, tt := range tests {
			t.Run(tt.partner+"/"+tt.key, func(t *testing.T) {
				got, err := w.s.PartnerNote(w.ctx, tt.partner, tt.key)
				if tt.want == nil {
					if fault.CodeOf(err) != fault.NotFound {
						t.Errorf("got %+v, %v, want code %s", got, err, fault.NotFound)
					}
					return
				}
				if err != nil {
					t.Fatalf("PartnerNote: %v", err)
				}
				if !reflect.DeepEqual(got, *tt.want) {
					t.Errorf("got %+v, want %+v", got, *tt.want)
				}
			})
		}
	})
}
