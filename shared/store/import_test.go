package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/store"
)

// everything returns what every partner of the document sees, for
// comparing whole states.
func (w *world) everything(doc dataset.Document) map[string][]string {
	w.t.Helper()
	out := map[string][]string{}
	for _, o := range doc.Organizations {
		if o.Type != "customer" {
			out[o.ID] = w.view(o.ID)
		}
	}
	return out
}

func (w *world) assertSees(doc dataset.Document) {
	w.t.Helper()
	for p, got := range w.everything(doc) {
		if want := expected(doc, p); !slices.Equal(got, want) {
			w.t.Errorf("%s sees\n  %v\nwant\n  %v", p, got, want)
		}
	}
}

// customerIDs returns the ids of the partner's customers, sorted.
func (w *world) customerIDs(partner string) []string {
	w.t.Helper()
	cs, err := w.s.Customers(w.ctx, partner)
	if err != nil {
		w.t.Fatal(err)
	}
	ids := []string{}
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestImportTwiceWritesNothing(t *testing.T) {
	for _, tt := range []struct {
		name string
		doc  func() dataset.Document
	}{{"base", baseDoc}, {"demo", demoDoc}} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			doc := tt.doc()
			first := w.loadDoc(doc, importNow)
			if first.Written == 0 || first.Unchanged != 0 {
				t.Errorf("first import: %+v", first)
			}
			w.assertSettled(doc, importNow.Add(time.Hour))
			w.assertSees(doc)
		})
	}
}

// The first import records a created event per license, with the
// deployments it came with, and the partner notes; a later activation at
// the source is recorded at the deployment's own time.
func TestImportEvents(t *testing.T) {
	w := newWorld(t)
	doc := baseDoc()
	res := w.loadDoc(doc, importNow)
	if res.Events != baseEvents {
		t.Errorf("%d events, want %d", res.Events, baseEvents)
	}
	// Events sort by time: the distributor's note was written before the
	// import, the reseller's carries the import's time.
	evs := w.events(licMain)
	if got := eventTypes(evs); !slices.Equal(got, []string{"partner_note_updated", "created", "partner_note_updated"}) {
		t.Fatalf("events of %s: %v", licMain, got)
	}
	if evs[1].Data["activeDeployments"] != float64(2) {
		t.Errorf("created event = %+v, want the 2 active deployments counted", evs[1])
	}

	before := w.events(licMain)
	doc.Deployments = append(doc.Deployments, dataset.Deployment{DeploymentID: "dep-4", LicenseKey: licMain, ActivatedAt: "2025-06-03T07:00:00Z"})
	findDeployment(t, &doc, licMain, "dep-1").Active = ptrTo(false)
	w.loadDoc(doc, importNow.Add(48*time.Hour))
	got := added(before, w.events(licMain))
	if len(got) != 2 {
		t.Fatalf("new events: %+v", got)
	}
	byType := map[string]storedEvent{}
	for _, e := range got {
		byType[e.Type] = e
	}
	if a := byType["activated"]; a.At != "2025-06-03T07:00:00Z" || a.Data["deploymentId"] != "dep-4" || a.Actor != "import" {
		t.Errorf("activated = %+v, want dep-4 at its own activation time", a)
	}
	// A deactivation has no time of its own but the last time it was seen.
	if d := byType["deactivated"]; d.At != "2025-05-30T08:15:00Z" || d.Data["deploymentId"] != "dep-1" {
		t.Errorf("deactivated = %+v", d)
	}
	rec, deps, err := w.s.License(w.ctx, licMain)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Deployed != 2 || !slices.Equal(activeIDs(deps, licMain), []string{"dep-2", "dep-4"}) {
		t.Errorf("after the import: deployed %d, active %v", rec.Deployed, activeIDs(deps, licMain))
	}
	w.assertSettled(doc, importNow.Add(72*time.Hour))
}

func TestImportRenewal(t *testing.T) {
	w := newWorld(t)
	doc := baseDoc()
	w.loadDoc(doc, importNow)
	before := w.events(licShared)
	findLicense(t, &doc, licShared).ExpirationDate = "2026-06-20"
	findLicense(t, &doc, licShared).PurchasedInstances = ptrTo(4)
	w.loadDoc(doc, importNow.Add(time.Hour))
	got := added(before, w.events(licShared))
	if len(got) != 1 || got[0].Type != "renewed" {
		t.Fatalf("new events: %+v", got)
	}
	to, _ := got[0].Data["to"].(map[string]any)
	if to["expirationDate"] != "2026-06-20" || to["purchasedInstances"] != float64(4) {
		t.Errorf("renewed = %+v", got[0].Data)
	}
	rec, _, err := w.s.License(w.ctx, licShared)
	if err != nil || rec.ExpirationDate.String() != "2026-06-20" || rec.Deployed != 1 {
		t.Errorf("record after renewal = %+v, %v", rec, err)
	}
	listings, err := w.s.View(w.ctx, w.partner("dist-a"), []string{"cust-sub"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range listings[0].Licenses {
		if l.Key == licShared && (l.ExpirationDate.String() != "2026-06-20" || l.Purchased() != 4) {
			t.Errorf("the view shows %+v", l)
		}
	}
}

// A full document removes at the source what it no longer names: a
// license (its history kept, with a removed event), an imported deployment,
// an imported note, a customer organization with its licenses.
func TestImportFullRemovals(t *testing.T) {
	w := newWorld(t)
	doc := baseDoc()
	w.loadDoc(doc, importNow)

	doc.Licenses = slices.DeleteFunc(doc.Licenses, func(l dataset.License) bool { return l.Key == licDirect })
	doc.Deployments = slices.DeleteFunc(doc.Deployments, func(d dataset.Deployment) bool { return d.DeploymentID == "dep-2" })
	doc.PartnerNotes = slices.DeleteFunc(doc.PartnerNotes, func(n dataset.PartnerNote) bool { return n.OrganizationID == "res-a" })
	doc.Organizations = slices.DeleteFunc(doc.Organizations, func(o dataset.Organization) bool { return o.ID == "cust-b" })
	doc.Licenses = slices.DeleteFunc(doc.Licenses, func(l dataset.License) bool { return l.Key == licB })
	res := w.loadDoc(doc, importNow.Add(time.Hour))
	if res.Removed.Licenses != 2 || res.Removed.Deployments != 1 || res.Removed.Organizations != 1 {
		t.Errorf("removed = %+v", res.Removed)
	}
	w.assertSees(doc)
	for _, key := range []string{licDirect, licB} {
		if _, _, err := w.s.License(w.ctx, key); !isNotFound(err) {
			t.Errorf("removed license %s: %v", key, err)
		}
		if evs := eventTypes(w.events(key)); evs[len(evs)-1] != "removed" || evs[0] != "created" {
			t.Errorf("history of %s = %v, want it kept with a removed event", key, evs)
		}
	}
	if rs, _ := w.s.LicensesByKey(w.ctx, []string{licDirect}); len(rs) != 0 {
		t.Errorf("a removed license is still looked up: %v", licenseKeys(rs))
	}
	rec, _, err := w.s.License(w.ctx, licMain)
	if err != nil || rec.Deployed != 1 {
		t.Errorf("after removing dep-2: deployed %d, %v", rec.Deployed, err)
	}
	if got := w.customerIDs("dist-b"); len(got) != 0 {
		t.Errorf("dist-b still has customers %v", got)
	}
	notes, _ := w.s.PartnerNotes(w.ctx, "res-a")
	if n := notes[licMain]; n.Text != "" || n.Version != 2 {
		t.Errorf("res-a's removed note = %+v, want cleared at version 2", n)
	}
	w.assertSettled(doc, importNow.Add(2*time.Hour))

	// Named again, a removed license is back, and a created event says so.
	doc = baseDoc()
	w.loadDoc(doc, importNow.Add(3*time.Hour))
	w.assertSees(doc)
	if evs := eventTypes(w.events(licDirect)); !slices.Equal(evs, []string{"created", "removed", "created"}) {
		t.Errorf("history of a license removed and added again = %v", evs)
	}
}

// A customer moved to another reseller disappears from the old one at
// once: its customer list, view, look-ups, and snapshots made before.
func TestImportMove(t *testing.T) {
	for _, mode := range []string{"full", "delta"} {
		t.Run(mode, func(t *testing.T) {
			w := newWorld(t)
			doc := baseDoc()
			w.loadDoc(doc, importNow)
			moved := importNow.Add(time.Hour)
			findOrg(t, &doc, "cust-main").ResellerID = ptrTo("res-b")
			if mode == "full" {
				w.loadDoc(doc, moved)
			} else {
				w.loadDoc(dataset.Document{Mode: "delta", Organizations: []dataset.Organization{*findOrg(t, &doc, "cust-main")}}, moved)
			}
			w.assertSees(doc)
			if got := w.customerIDs("res-a"); len(got) != 0 {
				t.Errorf("res-a still sees %v", got)
			}
			if got, want := w.customerIDs("res-b"), []string{"cust-main", "cust-sub", "cust-sub-own"}; !slices.Equal(got, want) {
				t.Errorf("res-b sees %v, want %v", got, want)
			}
			rec, _, err := w.s.License(w.ctx, licMain)
			if err != nil || len(rec.ShownTo("res-a")) != 0 || len(rec.ShownTo("res-b")) != 1 {
				t.Errorf("record after the move: %+v, %v", rec, err)
			}
			gone, err := w.s.Gone(w.ctx, "res-a", importNow)
			_, main := gone.Orgs["cust-main"]
			_, sub := gone.Orgs["cust-sub"]
			if err != nil || !main || !sub {
				t.Errorf("gone from res-a = %+v, %v", gone, err)
			}
			// A snapshot made before the move hides the organization; one
			// made after it does not (it was never in it).
			if !gone.Hides("cust-main", "", moved) || gone.Hides("cust-main", "", moved.Add(time.Second)) {
				t.Errorf("gone from res-a = %+v: hides cust-main from a snapshot of %v, but not of 1 s later?", gone, moved)
			}
			if r, _ := w.s.Organization(w.ctx, "res-a"); r.Customers != 0 {
				t.Errorf("res-a counts %d customers", r.Customers)
			}
			if mode == "delta" {
				// A full document after a delta may rewrite what the delta
				// touched, once, with no event: it changes nothing anyone sees.
				if res := w.loadDoc(doc, moved.Add(time.Hour)); res.Events != 0 {
					t.Errorf("the full document after the delta recorded %d events", res.Events)
				}
				w.assertSees(doc)
			}
			w.assertSettled(doc, moved.Add(2*time.Hour))
		})
	}
}

// A delta changes what it names and what it removes, may refer to what the
// table holds, and applied twice changes nothing the second time.
func TestImportDelta(t *testing.T) {
	w := newWorld(t)
	base := baseDoc()
	w.loadDoc(base, importNow)
	const delta = `{"mode":"delta",
 "licenses":[{"key":"LIC-NEW","productId":"core","organizationIds":["cust-sub-own"],"type":"purchased","startDate":"2025-06-01","expirationDate":"2026-06-01","purchasedInstances":2}],
 "deployments":[{"deploymentId":"dep-n","licenseKey":"LIC-NEW","activatedAt":"2025-06-02T00:00:00Z"},
                {"deploymentId":"dep-5","licenseKey":"LIC-CORE-MAIN","activatedAt":"2025-06-02T01:00:00Z"}],
 "removed":{"licenses":["LIC-B"],"deployments":["LIC-CORE-MAIN/dep-1"]}}`
	ds, err := dataset.Parse(strings.NewReader(delta))
	if err != nil {
		t.Fatal(err)
	}
	at := importNow.Add(time.Hour)
	res := w.load(ds, at)
	if res.Removed.Licenses != 1 || res.Removed.Deployments != 1 || res.Events < 3 {
		t.Errorf("delta = %+v", res)
	}
	// The state is that of the full document with the same changes.
	want := baseDoc()
	want.Licenses = append(slices.DeleteFunc(want.Licenses, func(l dataset.License) bool { return l.Key == licB }), dataset.License{Key: "LIC-NEW",
		ProductID: "core", OrganizationIDs: []string{"cust-sub-own"}, Type: "purchased", StartDate: "2025-06-01", ExpirationDate: "2026-06-01", PurchasedInstances: ptrTo(2)})
	w.assertSees(want)
	rec, deps, err := w.s.License(w.ctx, licMain)
	if err != nil || rec.Deployed != 2 || !slices.Equal(activeIDs(deps, licMain), []string{"dep-2", "dep-5"}) {
		t.Errorf("%s after the delta: %+v %v, %v", licMain, rec, activeIDs(deps, licMain), err)
	}
	if again := w.load(ds, at); again.Written != 0 || again.Deleted != 0 || again.Events != 0 {
		t.Errorf("the same delta again: %+v", again)
	}
}

// A delta that names what neither it nor the table holds is refused whole,
// by path, and writes nothing.
func TestImportDeltaRefused(t *testing.T) {
	w := newWorld(t)
	w.loadDoc(baseDoc(), importNow)
	before := len(w.scanAll())
	const delta = `{"mode":"delta",
 "organizations":[{"id":"cust-x","name":"X","type":"customer","parentId":"cust-ghost"}],
 "licenses":[{"key":"LIC-X","productId":"nope","organizationIds":["cust-main","dist-b"],"type":"purchased","startDate":"2025-06-01","expirationDate":"2026-06-01","purchasedInstances":2}],
 "deployments":[{"deploymentId":"d","licenseKey":"LIC-GHOST","activatedAt":"2025-06-02T00:00:00Z"}],
 "removed":{"licenses":["LIC-GHOST"],"deployments":["dep-x"],"organizations":["cust-ghost"]}}`
	ds, err := dataset.Parse(strings.NewReader(delta))
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.s.Import(w.ctx, ds, store.ImportOptions{Now: importNow.Add(time.Hour)})
	var problems dataset.Problems
	if !errors.As(err, &problems) {
		t.Fatalf("Import = %v, want dataset.Problems", err)
	}
	paths := map[string]bool{}
	for _, p := range problems {
		paths[p.Path] = true
	}
	for _, p := range []string{"organizations[0].parentId", "licenses[0].productId", "licenses[0].organizationIds[1]",
		"deployments[0].licenseKey", "removed.licenses[0]", "removed.deployments[0]", "removed.organizations[0]"} {
		if !paths[p] {
			t.Errorf("no problem at %s: %v", p, problems)
		}
	}
	if after := len(w.scanAll()); after != before {
		t.Errorf("a refused delta wrote: %d items before, %d after", before, after)
	}
}

// A customer sold directly by the vendor is valid data that no partner
// sees; a three-level hierarchy applies priority along the chain.
func TestImportHierarchies(t *testing.T) {
	w := newWorld(t)
	doc := baseDoc()
	doc.Organizations = append(doc.Organizations,
		dataset.Organization{ID: "cust-vendor", Name: "Vendor Direct", Type: "customer"},
		dataset.Organization{ID: "cust-deep", Name: "Main Corp Labs Berlin", Type: "customer", ParentID: ptrTo("cust-sub")})
	doc.Licenses = append(doc.Licenses,
		dataset.License{Key: "LIC-VENDOR", ProductID: "core", OrganizationIDs: []string{"cust-vendor"}, Type: "purchased",
			StartDate: "2025-01-01", ExpirationDate: "2026-01-01", PurchasedInstances: ptrTo(1)},
		dataset.License{Key: "LIC-TOP-BOTTOM", ProductID: "core", OrganizationIDs: []string{"cust-main", "cust-deep"}, Type: "purchased",
			StartDate: "2025-01-01", ExpirationDate: "2026-01-01", PurchasedInstances: ptrTo(1)})
	w.loadDoc(doc, importNow)
	w.assertSees(doc)
	rec, _, err := w.s.License(w.ctx, "LIC-VENDOR")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"dist-a", "dist-b", "res-a", "res-b"} {
		if len(rec.ShownTo(p)) != 0 {
			t.Errorf("%s is shown a direct customer's license", p)
		}
	}
	rec, _, err = w.s.License(w.ctx, "LIC-TOP-BOTTOM")
	if err != nil || len(rec.ShownTo("dist-a")) != 1 || rec.ShownTo("dist-a")[0].ID != "cust-deep" {
		t.Errorf("a license on the top and the bottom of three levels: %+v, %v", rec, err)
	}
	w.assertSettled(doc, importNow.Add(time.Hour))
}

// A license with more purchased instances than a block keeps deployments
// for keeps them beside it; a view with deployments still holds them.
func TestImportLargeLicense(t *testing.T) {
	w := newWorld(t)
	doc := baseDoc()
	findLicense(t, &doc, licB).PurchasedInstances = ptrTo(1000)
	for i := range 300 {
		doc.Deployments = append(doc.Deployments, dataset.Deployment{DeploymentID: fmt.Sprintf("big-%03d", i), LicenseKey: licB,
			ActivatedAt: "2025-03-01T00:00:00Z"})
	}
	w.loadDoc(doc, importNow)
	listings, err := w.s.View(w.ctx, w.partner("dist-b"), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(listings[0].Deployments[licB]); n != 300 {
		t.Errorf("the view holds %d deployments of the large license, want 300", n)
	}
	rec, deps, err := w.s.License(w.ctx, licB)
	if err != nil || rec.Deployed != 300 || len(activeIDs(deps, licB)) != 300 {
		t.Errorf("large license: deployed %d, %d active, %v", rec.Deployed, len(activeIDs(deps, licB)), err)
	}
	w.assertSettled(doc, importNow.Add(time.Hour))
}

// No item of an organization's blocks passes DynamoDB's 400 KB, however many
// licenses and notes it has.
func TestImportBlockSizes(t *testing.T) {
	w := newWorld(t)
	doc := baseDoc()
	long := strings.Repeat("customer note ✓ ", 600) // about 10,000 characters
	for i := range 600 {
		doc.Licenses = append(doc.Licenses, dataset.License{Key: fmt.Sprintf("LIC-BULK-%04d", i), ProductID: "core",
			OrganizationIDs: []string{"cust-direct"}, Type: "purchased", StartDate: "2025-01-01", ExpirationDate: "2026-01-01",
			PurchasedInstances: ptrTo(200), CustomerNote: &long})
	}
	w.loadDoc(doc, importNow)
	blocks := 0
	for _, item := range w.scanAll() {
		if sk := attrS(item, "SK"); strings.HasPrefix(sk, "B#") || strings.HasPrefix(sk, "D#") {
			blocks++
			if n := store.ItemSize(item); n > 350<<10 {
				t.Errorf("block %s is %d bytes", sk, n)
			}
		}
	}
	if blocks < 4 {
		t.Errorf("%d block items for 600 licenses of 10,000-character notes", blocks)
	}
	w.assertSees(doc)
}

// A dry run says what it would write, and writes nothing.
func TestImportDryRun(t *testing.T) {
	w := newWorld(t)
	res, err := w.s.Import(w.ctx, checked(t, baseDoc()), store.ImportOptions{Now: importNow, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Written == 0 || res.Events != baseEvents {
		t.Errorf("dry run = %+v", res)
	}
	if items := w.scanAll(); len(items) != 0 {
		t.Errorf("a dry run wrote %d items", len(items))
	}
}

// The items an import writes: a record and the events per license, a block
// pair per organization, the kept deployments; no copy per partner or per
// deployment.
func TestImportItemCounts(t *testing.T) {
	w := newWorld(t)
	doc := demoDoc()
	res := w.loadDoc(doc, importNow)
	kinds := map[string]int{}
	for _, item := range w.scanAll() {
		pk, sk := attrS(item, "PK"), attrS(item, "SK")
		kind, _, _ := strings.Cut(sk, "#")
		if kind == "" {
			kind = sk
		}
		if strings.HasPrefix(pk, "LICENSE#") && kind == "DEPLOYMENT" {
			var d struct {
				Active bool `dynamodbav:"active"`
			}
			_ = attributevalue.UnmarshalMap(item, &d)
			if d.Active {
				kind = "active DEPLOYMENT"
			}
		}
		kinds[kind]++
	}
	if kinds["#LICENSE"] != len(doc.Licenses) || kinds["active DEPLOYMENT"] != 0 {
		t.Errorf("item kinds = %v for %d licenses", kinds, len(doc.Licenses))
	}
	perLicense := float64(res.Written) / float64(len(doc.Licenses))
	if perLicense > 4 {
		t.Errorf("%d items for %d licenses: %.1f per license (%v)", res.Written, len(doc.Licenses), perLicense, kinds)
	}
}
