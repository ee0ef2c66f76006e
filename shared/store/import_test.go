package store_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/license"
)

// kindOf names the entity of an item by its key, as the package
// documentation's key table does.
func kindOf(item map[string]types.AttributeValue) string {
	pk := attrS(item, "PK")
	sk := attrS(item, "SK")
	switch {
	case pk == "CATALOG":
		return "product"
	case strings.HasPrefix(pk, "PARTNER#") && strings.HasPrefix(sk, "LICENSE#"):
		return "license copy"
	case strings.HasPrefix(pk, "PARTNER#") && strings.HasPrefix(sk, "DEPLOYMENT#"):
		return "deployment copy"
	case strings.HasPrefix(pk, "LICENSE#") && sk == "#LICENSE":
		return "license"
	case strings.HasPrefix(pk, "LICENSE#") && strings.HasPrefix(sk, "DEPLOYMENT#"):
		return "deployment"
	case strings.HasPrefix(pk, "LICENSE#") && strings.HasPrefix(sk, "EVENT#"):
		return "event"
	}
	// PK and SK prefixes: "ORG# #ORG", "PARTNER# CUSTOMER#", ...
	pkKind, skKind := pk, sk
	if i := strings.IndexByte(pk, '#'); i >= 0 {
		pkKind = pk[:i+1]
	}
	if i := strings.IndexByte(sk[1:], '#'); i >= 0 {
		skKind = sk[:i+2]
	}
	return pkKind + " " + skKind
}

func TestImportWritesTheKeyDesign(t *testing.T) {
	w := newWorld(t)
	res := w.loadDoc(baseDoc(), importNow)

	got := make(map[string]int)
	items := w.scanAll()
	for _, item := range items {
		got[kindOf(item)]++
	}
	want := map[string]int{
		"product":     3,
		"ORG# #ORG":   9,
		"ROLE# #ROLE": 5,
		"USER# #USER": 6,
		// dist-a sees main, sub, sub-own and direct; res-a main and sub;
		// res-b sub-own; dist-b cust-b.
		"PARTNER# CUSTOMER#": 8,
		"license":            7,
		// One per organization of a license and partner selling to it:
		// LIC-CORE-MAIN, LIC-HIDDEN and LIC-CLOUD-NOUSE 2 each (dist-a and
		// res-a), LIC-SHARED 4 (two organizations), LIC-CLOUD-OWN 2 (dist-a
		// and res-b), LIC-DIRECT and LIC-B 1 (sold directly).
		"license copy": 14,
		"deployment":   4,
		// dep-1 and dep-2 under cust-main (2 partners), dep-s under cust-main
		// and cust-sub (2 partners each).
		"deployment copy": 8,
		"event":           baseEvents,
		"PARTNER# NOTE#":  2,
	}
	if !maps.Equal(got, want) {
		t.Errorf("items by kind:\n got %v\nwant %v", got, want)
	}
	if res.Written != len(items) || res.Events != baseEvents || res.Deleted != 0 || res.Unchanged != 0 {
		t.Errorf("got %+v, want Puts=%d (the items in the table), Events=%d, no deletes, nothing unchanged", res, len(items), baseEvents)
	}
}

// TestImportTwiceWritesNothing imports the same data set twice: the second
// run must find every item unchanged and write nothing, not even an event,
// although its clock has moved on.
func TestImportTwiceWritesNothing(t *testing.T) {
	tests := []struct {
		name string
		doc  func() dataset.Document
	}{
		{"hand-written", baseDoc},
		{"demo", demoDoc},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			ds := checked(t, tt.doc())
			first := w.load(ds, importNow)
			before := len(w.scanAll())
			if first.Written == 0 || first.Events == 0 {
				t.Fatalf("first import: got %+v, want puts and events", first)
			}
			if before != first.Written {
				t.Errorf("first import: table holds %d items, want %d (its puts)", before, first.Written)
			}

			second := w.load(ds, importNow.Add(36*time.Hour))
			if second.Written != 0 || second.Deleted != 0 || second.Events != 0 {
				t.Errorf("second import: got %d puts, %d deletes, %d events, want none", second.Written, second.Deleted, second.Events)
			}
			if want := first.Written - first.Events; second.Unchanged != want {
				t.Errorf("second import: got %d unchanged, want %d (first puts %d minus events %d)", second.Unchanged, want, first.Written, first.Events)
			}
			if after := len(w.scanAll()); after != before {
				t.Errorf("table holds %d items after the second import, want %d", after, before)
			}
		})
	}
}

// TestImportRenewal changes one license and checks that its history gains
// exactly the events the change calls for, and no other license's does.
func TestImportRenewal(t *testing.T) {
	later := importNow.Add(24 * time.Hour)
	tests := []struct {
		name   string
		key    string
		change func(t *testing.T, doc *dataset.Document)
		want   []string          // types of the new events
		from   map[string]string // terms recorded by a renewed event, as text
		to     map[string]string
	}{
		{
			name:   "expiration date extended",
			key:    licMain,
			change: func(t *testing.T, doc *dataset.Document) { findLicense(t, doc, licMain).ExpirationDate = "2027-01-01" },
			want:   []string{"renewed"},
			from:   map[string]string{"expirationDate": "2026-01-01", "purchasedInstances": "5"},
			to:     map[string]string{"expirationDate": "2027-01-01", "purchasedInstances": "5"},
		},
		{
			name: "expiration date shortened",
			key:  licDirect,
			change: func(t *testing.T, doc *dataset.Document) {
				findLicense(t, doc, licDirect).ExpirationDate = "2025-05-20"
			},
			want: []string{"renewed"},
			from: map[string]string{"expirationDate": "2025-05-31"},
			to:   map[string]string{"expirationDate": "2025-05-20"},
		},
		{
			name:   "more purchased instances",
			key:    licMain,
			change: func(t *testing.T, doc *dataset.Document) { findLicense(t, doc, licMain).PurchasedInstances = ptrTo(8) },
			want:   []string{"renewed"},
			from:   map[string]string{"purchasedInstances": "5", "expirationDate": "2026-01-01"},
			to:     map[string]string{"purchasedInstances": "8", "expirationDate": "2026-01-01"},
		},
		{
			name: "expiration date and instances together",
			key:  licShared,
			change: func(t *testing.T, doc *dataset.Document) {
				l := findLicense(t, doc, licShared)
				l.ExpirationDate, l.PurchasedInstances = "2026-06-20", ptrTo(4)
			},
			want: []string{"renewed"},
			from: map[string]string{"expirationDate": "2025-06-20", "purchasedInstances": "3"},
			to:   map[string]string{"expirationDate": "2026-06-20", "purchasedInstances": "4"},
		},
		{
			name: "customer note only",
			key:  licMain,
			change: func(t *testing.T, doc *dataset.Document) {
				findLicense(t, doc, licMain).CustomerNote = ptrTo("changed")
			},
			want: []string{},
		},
		{
			name: "new license",
			key:  "LIC-NEW",
			change: func(t *testing.T, doc *dataset.Document) {
				doc.Licenses = append(doc.Licenses, dataset.License{Key: "LIC-NEW", ProductID: "core", OrganizationIDs: []string{"cust-direct"},
					Type: "purchased", StartDate: "2025-06-01", ExpirationDate: "2026-06-01", PurchasedInstances: ptrTo(2)})
			},
			want: []string{"created"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.loadDoc(baseDoc(), importNow)
			before := w.events(tt.key)
			total := len(w.scanAll())

			doc := baseDoc()
			tt.change(t, &doc)
			res := w.loadDoc(doc, later)

			events := added(before, w.events(tt.key))
			if got := eventTypes(events); !slices.Equal(got, tt.want) {
				t.Fatalf("new events of %s: got %v, want %v", tt.key, got, tt.want)
			}
			if res.Events != len(tt.want) {
				t.Errorf("ImportResult.Events: got %d, want %d (no other license may gain events)", res.Events, len(tt.want))
			}
			if got, want := len(w.scanAll()), total+len(tt.want); tt.key != "LIC-NEW" && got != want {
				t.Errorf("table holds %d items, want %d: only the new events may be added", got, want)
			}
			for _, e := range events {
				if e.At != later.Format(time.RFC3339Nano) || e.Actor != license.ImportActor {
					t.Errorf("event at %q by %q, want at %s by %q", e.At, e.Actor, later.Format(time.RFC3339Nano), license.ImportActor)
				}
				if tt.from != nil {
					checkTerms(t, "from", e.Data["from"], tt.from)
					checkTerms(t, "to", e.Data["to"], tt.to)
				}
			}
			w.checkLicenseCounts(t, doc)
			w.assertSettled(doc, later.Add(time.Hour))
		})
	}
}

// checkTerms compares the terms a renewed event recorded, as text.
func checkTerms(t *testing.T, name string, got any, want map[string]string) {
	t.Helper()
	m, ok := got.(map[string]any)
	if !ok {
		t.Errorf("data.%s: got %T %v, want a map", name, got, got)
		return
	}
	for k, v := range want {
		if s := fmt.Sprint(m[k]); s != v {
			t.Errorf("data.%s.%s: got %s, want %s", name, k, s, v)
		}
	}
}

// TestImportPartnerNoteVersion imports a sequence of texts of one note: every
// change raises the version by one and records one event; the same text
// again changes nothing.
func TestImportPartnerNoteVersion(t *testing.T) {
	w := newWorld(t)
	steps := []struct {
		text        string
		wantVersion int
		wantEvent   bool
	}{
		{"Renewal due in Q3", 1, true}, // the first import
		{"Renewal due in Q3", 1, false},
		{"Renewal due in Q4", 2, true},
		{"Renewal due in Q4", 2, false},
		{"", 3, true}, // an empty text clears the note and still bumps the version
		{"Back again — ü", 4, true},
	}
	now := importNow
	events := 0
	for i, step := range steps {
		doc := baseDoc()
		doc.PartnerNotes[0].Text = step.text
		doc.PartnerNotes[0].UpdatedAt = nil // the import's time
		w.loadDoc(doc, now)

		n, err := w.s.PartnerNote(w.ctx, "dist-a", licMain)
		if err != nil {
			t.Fatalf("step %d: PartnerNote: %v", i, err)
		}
		if n.Text != step.text || n.Version != step.wantVersion {
			t.Errorf("step %d: got %q version %d, want %q version %d", i, n.Text, n.Version, step.text, step.wantVersion)
		}
		var noteEvents []storedEvent
		for _, e := range w.events(licMain) {
			if e.Type == string(license.PartnerNoteUpdated) && e.Partner == "dist-a" {
				noteEvents = append(noteEvents, e)
			}
		}
		if step.wantEvent {
			events++
		}
		if len(noteEvents) != events {
			t.Fatalf("step %d: got %d partner_note_updated events of dist-a, want %d", i, len(noteEvents), events)
		}
		if step.wantEvent {
			last := noteEvents[len(noteEvents)-1]
			if got := fmt.Sprint(last.Data["version"]); got != fmt.Sprint(step.wantVersion) || last.Data["text"] != step.text || last.Actor != "u-multi" {
				t.Errorf("step %d: last event data %v by %q, want version %d, text %q, by u-multi", i, last.Data, last.Actor, step.wantVersion, step.text)
			}
			if !n.UpdatedAt.Equal(now) {
				t.Errorf("step %d: note updated at %s, want the import's time %s", i, n.UpdatedAt, now)
			}
		}
		// The reseller's note on the same license is its own.
		if rn, err := w.s.PartnerNote(w.ctx, "res-a", licMain); err != nil || rn.Version != 1 {
			t.Errorf("step %d: reseller's note: got version %d (err %v), want version 1", i, rn.Version, err)
		}
		now = now.Add(time.Hour)
	}
}

// TestImportDeployments changes imported deployments and checks the deployed
// count of the license and of every organization's copy, the active
// deployment copies beside them, and the events.
func TestImportDeployments(t *testing.T) {
	later := importNow.Add(24 * time.Hour)
	type event struct{ typ, deployment string }
	tests := []struct {
		name       string
		key        string
		change     func(t *testing.T, doc *dataset.Document)
		wantActive []string
		wantEvents []event
	}{
		{
			name: "inactive deployment becomes active",
			key:  licMain,
			change: func(t *testing.T, doc *dataset.Document) {
				findDeployment(t, doc, licMain, "dep-3").Active = ptrTo(true)
			},
			wantActive: []string{"dep-1", "dep-2", "dep-3"},
			wantEvents: []event{{"activated", "dep-3"}},
		},
		{
			name: "active deployment becomes inactive",
			key:  licMain,
			change: func(t *testing.T, doc *dataset.Document) {
				findDeployment(t, doc, licMain, "dep-1").Active = ptrTo(false)
			},
			wantActive: []string{"dep-2"},
			wantEvents: []event{{"deactivated", "dep-1"}},
		},
		{
			name: "new active deployment",
			key:  licMain,
			change: func(t *testing.T, doc *dataset.Document) {
				doc.Deployments = append(doc.Deployments, dataset.Deployment{DeploymentID: "dep-4", LicenseKey: licMain, ActivatedAt: "2025-05-31T23:00:00Z"})
			},
			wantActive: []string{"dep-1", "dep-2", "dep-4"},
			wantEvents: []event{{"activated", "dep-4"}},
		},
		{
			name: "new inactive deployment",
			key:  licMain,
			change: func(t *testing.T, doc *dataset.Document) {
				doc.Deployments = append(doc.Deployments, dataset.Deployment{DeploymentID: "dep-5", LicenseKey: licMain, ActivatedAt: "2025-04-01T00:00:00Z", Active: ptrTo(false)})
			},
			wantActive: []string{"dep-1", "dep-2"},
			wantEvents: []event{},
		},
		{
			name: "deployment of a license on two organizations becomes inactive",
			key:  licShared,
			change: func(t *testing.T, doc *dataset.Document) {
				findDeployment(t, doc, licShared, "dep-s").Active = ptrTo(false)
			},
			wantActive: []string{},
			wantEvents: []event{{"deactivated", "dep-s"}},
		},
		{
			name: "new deployment of a license on two organizations",
			key:  licShared,
			change: func(t *testing.T, doc *dataset.Document) {
				doc.Deployments = append(doc.Deployments, dataset.Deployment{DeploymentID: "dep-s2", LicenseKey: licShared, ActivatedAt: "2025-05-01T00:00:00Z"})
			},
			wantActive: []string{"dep-s", "dep-s2"},
			wantEvents: []event{{"activated", "dep-s2"}},
		},
		{
			name: "one deployment stops and another starts",
			key:  licMain,
			change: func(t *testing.T, doc *dataset.Document) {
				findDeployment(t, doc, licMain, "dep-2").Active = ptrTo(false)
				findDeployment(t, doc, licMain, "dep-3").Active = ptrTo(true)
			},
			wantActive: []string{"dep-1", "dep-3"},
			wantEvents: []event{{"deactivated", "dep-2"}, {"activated", "dep-3"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.loadDoc(baseDoc(), importNow)
			before := w.events(tt.key)

			doc := baseDoc()
			tt.change(t, &doc)
			w.loadDoc(doc, later)

			lic, deps, err := w.s.License(w.ctx, tt.key)
			if err != nil {
				t.Fatalf("License: %v", err)
			}
			if lic.Deployed != len(tt.wantActive) {
				t.Errorf("License().Deployed: got %d, want %d", lic.Deployed, len(tt.wantActive))
			}
			if got := activeIDs(deps, tt.key); !slices.Equal(got, tt.wantActive) {
				t.Errorf("License() active deployments: got %v, want %v", got, tt.wantActive)
			}
			var all int
			for _, d := range doc.Deployments {
				if d.LicenseKey == tt.key {
					all++
				}
			}
			if len(deps) != all {
				t.Errorf("License() returned %d deployments, want all %d, inactive ones included", len(deps), all)
			}

			// Every partner that sees an organization of the license sees
			// the new count and deployments under it.
			for _, org := range findLicense(t, &doc, tt.key).OrganizationIDs {
				for _, p := range baseSellers[org] {
					found, deployed, active := w.seenUnder(p, org, tt.key)
					if !found {
						t.Fatalf("%s does not see %s under %s", p, tt.key, org)
					}
					if deployed != len(tt.wantActive) || !slices.Equal(active, tt.wantActive) {
						t.Errorf("%s sees %s under %s with deployed %d and active deployments %v, want %d and %v",
							p, tt.key, org, deployed, active, len(tt.wantActive), tt.wantActive)
					}
				}
			}
			if got, want := w.copyKeys(tt.key), wantCopyKeys(t, doc, tt.key); !slices.Equal(got, want) {
				t.Errorf("copies of %s:\n got %v\nwant %v", tt.key, got, want)
			}

			got := []event{}
			for _, e := range added(before, w.events(tt.key)) {
				got = append(got, event{e.Type, fmt.Sprint(e.Data["deploymentId"])})
			}
			// Events of one import are ordered by their time and then by a
			// random id; compare them as sets.
			sortEvents := func(es []event) {
				slices.SortFunc(es, func(a, b event) int { return strings.Compare(a.typ+a.deployment, b.typ+b.deployment) })
			}
			sortEvents(got)
			sortEvents(tt.wantEvents)
			if !slices.Equal(got, tt.wantEvents) {
				t.Errorf("new events: got %v, want %v", got, tt.wantEvents)
			}
			w.assertSettled(doc, later.Add(time.Hour))
		})
	}
}

// TestImportLicenseOrganizations changes the organizations of a license: the
// license and its active deployment copies must be exactly under the new
// ones, and gone from the ones it left.
func TestImportLicenseOrganizations(t *testing.T) {
	tests := []struct {
		name       string
		key        string
		change     func(t *testing.T, doc *dataset.Document)
		wantOrgs   []string
		wantActive []string
	}{
		{
			name: "moved to another organization",
			key:  licMain,
			change: func(t *testing.T, doc *dataset.Document) {
				findLicense(t, doc, licMain).OrganizationIDs = []string{"cust-direct"}
			},
			wantOrgs:   []string{"cust-direct"},
			wantActive: []string{"dep-1", "dep-2"},
		},
		{
			name: "moved to another distributor's customer",
			key:  licMain,
			change: func(t *testing.T, doc *dataset.Document) {
				findLicense(t, doc, licMain).OrganizationIDs = []string{"cust-b"}
			},
			wantOrgs:   []string{"cust-b"},
			wantActive: []string{"dep-1", "dep-2"},
		},
		{
			name: "assigned to one more organization",
			key:  licMain,
			change: func(t *testing.T, doc *dataset.Document) {
				findLicense(t, doc, licMain).OrganizationIDs = []string{"cust-main", "cust-direct"}
			},
			wantOrgs:   []string{"cust-direct", "cust-main"},
			wantActive: []string{"dep-1", "dep-2"},
		},
		{
			name: "removed from one of two organizations",
			key:  licShared,
			change: func(t *testing.T, doc *dataset.Document) {
				findLicense(t, doc, licShared).OrganizationIDs = []string{"cust-sub"}
			},
			wantOrgs:   []string{"cust-sub"},
			wantActive: []string{"dep-s"},
		},
		{
			name: "moved while a deployment stops and another starts",
			key:  licMain,
			change: func(t *testing.T, doc *dataset.Document) {
				findLicense(t, doc, licMain).OrganizationIDs = []string{"cust-sub-own"}
				findDeployment(t, doc, licMain, "dep-1").Active = ptrTo(false)
				findDeployment(t, doc, licMain, "dep-3").Active = ptrTo(true)
			},
			wantOrgs:   []string{"cust-sub-own"},
			wantActive: []string{"dep-2", "dep-3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.loadDoc(baseDoc(), importNow)
			doc := baseDoc()
			tt.change(t, &doc)
			w.loadDoc(doc, importNow.Add(time.Hour))

			lic, _, err := w.s.License(w.ctx, tt.key)
			if err != nil {
				t.Fatalf("License: %v", err)
			}
			if got := slices.Sorted(slices.Values(lic.OrganizationIDs)); !slices.Equal(got, tt.wantOrgs) {
				t.Errorf("License().OrganizationIDs: got %v, want %v", got, tt.wantOrgs)
			}
			if lic.Deployed != len(tt.wantActive) {
				t.Errorf("License().Deployed: got %d, want %d", lic.Deployed, len(tt.wantActive))
			}
			for _, p := range partners {
				for _, c := range w.scope(p).Customers() {
					assigned := slices.Contains(tt.wantOrgs, c.ID)
					found, deployed, active := w.seenUnder(p, c.ID, tt.key)
					if found != assigned {
						t.Errorf("%s sees %s under %s: got %v, want %v", p, tt.key, c.ID, found, assigned)
					}
					wantActive := []string{}
					if assigned {
						wantActive = tt.wantActive
					}
					if found && deployed != len(tt.wantActive) {
						t.Errorf("%s sees %s under %s with deployed %d, want %d", p, tt.key, c.ID, deployed, len(tt.wantActive))
					}
					if !slices.Equal(active, wantActive) {
						t.Errorf("%s sees active deployments %v of %s under %s, want %v", p, active, tt.key, c.ID, wantActive)
					}
				}
			}
			if got, want := w.copyKeys(tt.key), wantCopyKeys(t, doc, tt.key); !slices.Equal(got, want) {
				t.Errorf("copies of %s:\n got %v\nwant %v", tt.key, got, want)
			}
			w.checkLicenseCounts(t, doc)
			w.assertSettled(doc, importNow.Add(2*time.Hour))
		})
	}
}

// partners are the partner organizations of baseDoc.
var partners = []string{"dist-a", "dist-b", "res-a", "res-b"}

// baseSellers are the partners that see each customer organization of
// baseDoc: its distributor and reseller, inherited where it names none.
var baseSellers = map[string][]string{
	"cust-main":    {"dist-a", "res-a"},
	"cust-sub":     {"dist-a", "res-a"},
	"cust-sub-own": {"dist-a", "res-b"},
	"cust-direct":  {"dist-a"},
	"cust-b":       {"dist-b"},
}

// checkLicenseCounts checks that every customer each partner sees carries
// the number of the document's licenses assigned to it.
func (w *world) checkLicenseCounts(t *testing.T, doc dataset.Document) {
	t.Helper()
	want := make(map[string]int)
	for _, l := range doc.Licenses {
		for _, org := range l.OrganizationIDs {
			want[org]++
		}
	}
	for _, p := range partners {
		customers, err := w.s.Customers(w.ctx, p)
		if err != nil {
			t.Fatalf("Customers(%s): %v", p, err)
		}
		for _, c := range customers {
			if c.Licenses != want[c.ID] {
				t.Errorf("Customers(%s): %s carries %d licenses, want %d", p, c.ID, c.Licenses, want[c.ID])
			}
		}
	}
}

// seenUnder tells how the partner sees the license under one organization,
// through Licenses and ActiveDeployments with that organization selected:
// whether it is listed, its deployed count, and its active deployments.
func (w *world) seenUnder(partner, org, key string) (found bool, deployed int, active []string) {
	w.t.Helper()
	sc := w.scope(partner)
	ls, err := w.s.Licenses(w.ctx, sc, selection(org))
	if err != nil {
		w.t.Fatalf("Licenses(%s, %s): %v", partner, org, err)
	}
	for _, l := range ls {
		if l.Key == key {
			found, deployed = true, l.Deployed
		}
	}
	deps, err := w.s.ActiveDeployments(w.ctx, sc, selection(org))
	if err != nil {
		w.t.Fatalf("ActiveDeployments(%s, %s): %v", partner, org, err)
	}
	for _, d := range deps {
		if !d.Active {
			w.t.Errorf("ActiveDeployments(%s, %s) returned inactive deployment %s of %s", partner, org, d.DeploymentID, d.LicenseKey)
		}
	}
	return found, deployed, activeIDs(deps, key)
}

// TestImportCustomerSellers changes who sells to a customer organization and
// checks every partner's customers: id and, for a distributor, the name of
// the reseller on each ("" when sold directly).
func TestImportCustomerSellers(t *testing.T) {
	base := map[string]map[string]string{
		"dist-a": {"cust-main": "Reseller A", "cust-sub": "Reseller A", "cust-sub-own": "Reseller B", "cust-direct": ""},
		"dist-b": {"cust-b": ""},
		"res-a":  {"cust-main": "", "cust-sub": ""},
		"res-b":  {"cust-sub-own": ""},
	}
	tests := []struct {
		name   string
		change func(t *testing.T, doc *dataset.Document)
		want   map[string]map[string]string
	}{
		{"unchanged", func(*testing.T, *dataset.Document) {}, base},
		{
			name: "customer moved to another distributor",
			change: func(t *testing.T, doc *dataset.Document) {
				findOrg(t, doc, "cust-direct").DistributorID = ptrTo("dist-b")
			},
			want: map[string]map[string]string{
				"dist-a": {"cust-main": "Reseller A", "cust-sub": "Reseller A", "cust-sub-own": "Reseller B"},
				"dist-b": {"cust-b": "", "cust-direct": ""},
				"res-a":  base["res-a"], "res-b": base["res-b"],
			},
		},
		{
			name: "main organization moved to another distributor: its sub-organizations follow",
			change: func(t *testing.T, doc *dataset.Document) {
				findOrg(t, doc, "cust-main").DistributorID = ptrTo("dist-b")
			},
			want: map[string]map[string]string{
				"dist-a": {"cust-direct": ""},
				"dist-b": {"cust-b": "", "cust-main": "Reseller A", "cust-sub": "Reseller A", "cust-sub-own": "Reseller B"},
				"res-a":  base["res-a"], "res-b": base["res-b"],
			},
		},
		{
			name:   "main organization moved to another reseller",
			change: func(t *testing.T, doc *dataset.Document) { findOrg(t, doc, "cust-main").ResellerID = ptrTo("res-b") },
			want: map[string]map[string]string{
				"dist-a": {"cust-main": "Reseller B", "cust-sub": "Reseller B", "cust-sub-own": "Reseller B", "cust-direct": ""},
				"dist-b": base["dist-b"],
				"res-a":  {},
				"res-b":  {"cust-main": "", "cust-sub": "", "cust-sub-own": ""},
			},
		},
		{
			name:   "main organization now sold directly",
			change: func(t *testing.T, doc *dataset.Document) { findOrg(t, doc, "cust-main").ResellerID = nil },
			want: map[string]map[string]string{
				"dist-a": {"cust-main": "", "cust-sub": "", "cust-sub-own": "Reseller B", "cust-direct": ""},
				"dist-b": base["dist-b"],
				"res-a":  {},
				"res-b":  base["res-b"],
			},
		},
		{
			name:   "sub-organization names its own distributor and keeps its parent's reseller",
			change: func(t *testing.T, doc *dataset.Document) { findOrg(t, doc, "cust-sub").DistributorID = ptrTo("dist-b") },
			want: map[string]map[string]string{
				"dist-a": {"cust-main": "Reseller A", "cust-sub-own": "Reseller B", "cust-direct": ""},
				"dist-b": {"cust-b": "", "cust-sub": "Reseller A"},
				"res-a":  base["res-a"], "res-b": base["res-b"],
			},
		},
		{
			name:   "sub-organization's own reseller dropped: it inherits its parent's",
			change: func(t *testing.T, doc *dataset.Document) { findOrg(t, doc, "cust-sub-own").ResellerID = nil },
			want: map[string]map[string]string{
				"dist-a": {"cust-main": "Reseller A", "cust-sub": "Reseller A", "cust-sub-own": "Reseller A", "cust-direct": ""},
				"dist-b": base["dist-b"],
				"res-a":  {"cust-main": "", "cust-sub": "", "cust-sub-own": ""},
				"res-b":  {},
			},
		},
		{
			name:   "reseller renamed",
			change: func(t *testing.T, doc *dataset.Document) { findOrg(t, doc, "res-a").Name = "Reseller A (new name)" },
			want: map[string]map[string]string{
				"dist-a": {"cust-main": "Reseller A (new name)", "cust-sub": "Reseller A (new name)", "cust-sub-own": "Reseller B", "cust-direct": ""},
				"dist-b": base["dist-b"], "res-a": base["res-a"], "res-b": base["res-b"],
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.loadDoc(baseDoc(), importNow)
			doc := baseDoc()
			tt.change(t, &doc)
			w.loadDoc(doc, importNow.Add(time.Hour))
			for _, p := range partners {
				customers, err := w.s.Customers(w.ctx, p)
				if err != nil {
					t.Fatalf("Customers(%s): %v", p, err)
				}
				got := make(map[string]string)
				for _, c := range customers {
					if _, dup := got[c.ID]; dup {
						t.Errorf("Customers(%s) lists %s twice", p, c.ID)
					}
					got[c.ID] = ""
					if c.Reseller != nil {
						got[c.ID] = c.Reseller.Name
					}
				}
				if !maps.Equal(got, tt.want[p]) {
					t.Errorf("Customers(%s):\n got %v\nwant %v", p, got, tt.want[p])
				}

				// The licenses follow: the partner sees those of the
				// organizations it now sells to, and no others.
				ls, err := w.s.Licenses(w.ctx, w.scope(p), nil)
				if err != nil {
					t.Fatalf("Licenses(%s): %v", p, err)
				}
				wantKeys := []string{}
				for _, l := range doc.Licenses {
					if slices.ContainsFunc(l.OrganizationIDs, func(o string) bool { _, ok := tt.want[p][o]; return ok }) {
						wantKeys = append(wantKeys, l.Key)
					}
				}
				slices.Sort(wantKeys)
				if got := licenseKeys(ls); !slices.Equal(got, wantKeys) {
					t.Errorf("Licenses(%s):\n got %v\nwant %v", p, got, wantKeys)
				}
			}
			for _, l := range doc.Licenses {
				if got, want := w.copyKeys(l.Key), wantCopyKeys(t, doc, l.Key); !slices.Equal(got, want) {
					t.Errorf("copies of %s:\n got %v\nwant %v", l.Key, got, want)
				}
			}
			w.checkLicenseCounts(t, doc)
			w.assertSettled(doc, importNow.Add(2*time.Hour))
		})
	}
}
