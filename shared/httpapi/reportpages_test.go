package httpapi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/store"
)

// rowIDs returns the rows as organization/key, pinned ones marked with a *.
func rowIDs(rows []map[string]any) []string {
	var out []string
	for _, r := range rows {
		id := fmt.Sprintf("%s/%s", r["organizationId"], r["licenseKey"])
		if r["pinned"] == true {
			id += "*"
		}
		out = append(out, id)
	}
	return out
}

// pinnedFirst returns the rows (in report order) as a page shows them with
// the licenses pinned: those rows first, each part in report order.
func pinnedFirst(rows []map[string]any, pins map[string]bool) []string {
	var pinned, others []map[string]any
	for _, r := range rows {
		if pins[r["licenseKey"].(string)] {
			r := cloneRow(r)
			r["pinned"] = true
			pinned = append(pinned, r)
		} else {
			others = append(others, r)
		}
	}
	return rowIDs(append(pinned, others...))
}

func cloneRow(r map[string]any) map[string]any {
	c := make(map[string]any, len(r))
	for k, v := range r {
		c[k] = v
	}
	return c
}

// TestReportPinsAcrossChunks pins licenses whose rows lie in chunks far
// apart (the tests' snapshots take a chunk per 17 rows), one of them shown
// under two organizations, and pages through the lists with several page
// sizes and filters: pinned rows come first, every row once, in order.
func TestReportPinsAcrossChunks(t *testing.T) {
	t.Parallel()
	doc := smallEnv.doc()
	// An on-prem license of a main organization of org-dist-1 assigned to
	// another one too: a row under each, far apart.
	mains := map[string]bool{}
	var last string
	for _, o := range doc.Organizations {
		if o.ParentID == nil && o.DistributorID != nil && *o.DistributorID == "org-dist-1" {
			mains[o.ID], last = true, o.ID
		}
	}
	onPrem := map[string]bool{}
	for _, p := range doc.Products {
		onPrem[p.ID] = p.Category == "on_prem" && (p.VisibleToPartners == nil || *p.VisibleToPartners)
	}
	i := slices.IndexFunc(doc.Licenses, func(l dataset.License) bool {
		return len(l.OrganizationIDs) == 1 && mains[l.OrganizationIDs[0]] && l.OrganizationIDs[0] != last && onPrem[l.ProductID]
	})
	if i < 0 {
		t.Fatal("the test data has no on-prem license of a main organization of org-dist-1")
	}
	doc.Licenses[i].OrganizationIDs = append(doc.Licenses[i].OrganizationIDs, last)
	e := newEnv(t, doc)
	user := "dist-1-viewer"
	id, _ := reportID(t, e, user, map[string]any{"all": true})
	all := allPages(t, e, user, id, "products", "limit=1000&includeExpired=true")
	cloud := allPages(t, e, user, id, "cloud-services", "limit=1000&includeExpired=true")
	if len(all) < 5*testChunkRows || len(cloud) < 2 {
		t.Fatalf("%d on-prem and %d cloud rows: too few to prove anything", len(all), len(cloud))
	}
	pins := map[string]bool{}
	for _, i := range []int{len(all) - 1, len(all) / 2, 3, len(all) / 3} {
		pins[all[i]["licenseKey"].(string)] = true
	}
	seen := map[string]int{}
	for _, r := range all {
		seen[r["licenseKey"].(string)]++
	}
	shared := slices.IndexFunc(all, func(r map[string]any) bool { return seen[r["licenseKey"].(string)] > 1 })
	if shared < 0 {
		t.Fatal("the test data has no license under two organizations")
	}
	pins[all[shared]["licenseKey"].(string)] = true
	pins[cloud[len(cloud)-1]["licenseKey"].(string)] = true
	for k := range pins {
		e.call("PUT", "/v1/pins/"+k, user, nil).want(t, 204, "")
	}

	for _, limit := range []int{1, 3, 17, 100, 1000} {
		q := fmt.Sprintf("limit=%d&includeExpired=true", limit)
		if got, want := rowIDs(allPages(t, e, user, id, "products", q)), pinnedFirst(all, pins); !slices.Equal(got, want) {
			t.Errorf("products %s:\n got %v\nwant %v", q, got, want)
		}
	}
	if got, want := rowIDs(allPages(t, e, user, id, "cloud-services", "limit=2&includeExpired=true")), pinnedFirst(cloud, pins); !slices.Equal(got, want) {
		t.Errorf("cloud services:\n got %v\nwant %v", got, want)
	}
	var pinnedRows, expiring []map[string]any
	for _, r := range all {
		if pins[r["licenseKey"].(string)] {
			pinnedRows = append(pinnedRows, r)
		}
		if r["status"] == "expiring" {
			expiring = append(expiring, r)
		}
	}
	if got, want := rowIDs(allPages(t, e, user, id, "products", "pinned=true&includeExpired=true&limit=2")), pinnedFirst(pinnedRows, pins); !slices.Equal(got, want) {
		t.Errorf("pinned=true:\n got %v\nwant %v", got, want)
	}
	if got, want := rowIDs(allPages(t, e, user, id, "products", "status=expiring&limit=5")), pinnedFirst(expiring, pins); !slices.Equal(got, want) {
		t.Errorf("status=expiring:\n got %v\nwant %v", got, want)
	}
}

// TestReportAfterReimport changes who sees what after a report was made:
// an organization moves to another distributor (its rows are dropped from
// the pages, pinned or not) and another is renamed (its pinned row is still
// found and shown first, though its position by the current name points to
// another chunk).
func TestReportAfterReimport(t *testing.T) {
	t.Parallel()
	doc := smallEnv.doc()
	e := newEnv(t, doc)
	user := "dist-1-viewer"
	id, _ := reportID(t, e, user, map[string]any{"all": true})
	all := allPages(t, e, user, id, "products", "limit=1000&includeExpired=true")

	org := func(id string) *dataset.Organization {
		for i := range doc.Organizations {
			if doc.Organizations[i].ID == id {
				return &doc.Organizations[i]
			}
		}
		t.Fatalf("organization %s not in the data", id)
		return nil
	}
	// A main organization, moving to the other distributor with its
	// sub-organizations; and another one, renamed so that it sorts first.
	var moved, renamed string
	for i := len(all) / 4; i < len(all) && (moved == "" || renamed == ""); i++ {
		o := org(all[i]["organizationId"].(string))
		switch {
		case o.ParentID != nil || o.DistributorID == nil:
		case moved == "":
			moved = o.ID
		case o.ID != moved && i > len(all)/2:
			renamed = o.ID
		}
	}
	if moved == "" || renamed == "" {
		t.Fatal("the test data has no two main organizations to change")
	}
	rowOf := func(orgID string) map[string]any {
		i := slices.IndexFunc(all, func(r map[string]any) bool { return r["organizationId"] == orgID })
		return all[i]
	}
	pins := map[string]bool{rowOf(moved)["licenseKey"].(string): true, rowOf(renamed)["licenseKey"].(string): true,
		all[len(all)/8]["licenseKey"].(string): true}
	for k := range pins {
		e.call("PUT", "/v1/pins/"+k, user, nil).want(t, 204, "")
	}

	other := "org-dist-2"
	org(moved).DistributorID, org(moved).ResellerID = &other, nil
	org(renamed).Name = "Aardvark " + org(renamed).Name
	ds, err := dataset.Check(&doc)
	if err != nil {
		t.Fatal(err)
	}
	// The import comes after the report, as it would.
	if _, err := e.store.Import(context.Background(), ds, store.ImportOptions{Now: e.now.Add(time.Minute)}); err != nil {
		t.Fatalf("import: %v", err)
	}

	visible := map[string]bool{}
	for _, c := range items(t, e.call("GET", "/v1/customer-organizations", user, nil).want(t, 200, "").body["items"]) {
		visible[c["id"].(string)] = true
	}
	if visible[moved] || !visible[renamed] {
		t.Fatalf("after the import %s visible %v, %s visible %v; want false, true", moved, visible[moved], renamed, visible[renamed])
	}
	var kept []map[string]any
	for _, r := range all {
		if visible[r["organizationId"].(string)] {
			kept = append(kept, r)
		}
	}
	if len(kept) == len(all) {
		t.Fatal("no row dropped: the test proves nothing")
	}
	for _, limit := range []int{2, 50} {
		got := rowIDs(allPages(t, e, user, id, "products", fmt.Sprintf("limit=%d&includeExpired=true", limit)))
		if want := pinnedFirst(kept, pins); !slices.Equal(got, want) {
			t.Errorf("limit %d:\n got %v\nwant %v", limit, got, want)
		}
	}
}
