package store_test

import (
	"context"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
)

// largeReport is the report of demo.Large's distributor over all its
// customers (2,000 organizations, about 100,000 rows), as CreateReport makes
// it.
type largeReport struct {
	snap          *report.Snapshot
	onPrem, cloud []report.Row
}

var (
	largeOnce sync.Once
	large     largeReport
)

func loadLargeReport(b *testing.B) largeReport {
	b.Helper()
	largeOnce.Do(func() {
		today, _ := license.ParseDate("2026-06-01")
		doc := demo.Generate(demo.Large(), today)
		ds, err := dataset.Check(&doc)
		if err != nil {
			b.Fatal(err)
		}
		orgs := map[string]*access.Organization{}
		for i := range ds.Organizations {
			orgs[ds.Organizations[i].ID] = &ds.Organizations[i]
		}
		var partner access.Organization
		for _, o := range ds.Organizations {
			if o.Type == access.OrgDistributor {
				partner = o
				break
			}
		}
		// What the store's blocks hold for the distributor: each license
		// under the organizations it is shown under.
		h := access.NewHierarchy(orgs)
		byOrg := map[string]*report.Listing{}
		var listings []report.Listing
		for _, l := range ds.Licenses {
			for _, id := range h.Placement(partner.ID, l.OrganizationIDs) {
				ls := byOrg[id]
				if ls == nil {
					ls = &report.Listing{Org: access.Ref{ID: id, Name: orgs[id].Name}}
					byOrg[id] = ls
				}
				ls.Licenses = append(ls.Licenses, l)
			}
		}
		for _, ls := range byOrg {
			listings = append(listings, *ls)
		}
		products := map[string]license.Product{}
		for _, p := range ds.Products {
			products[p.ID] = p
		}
		onPrem, cloud := report.Rows(listings, products, today, 30)
		now := time.Date(2026, time.June, 1, 9, 0, 0, 0, time.UTC)
		snap := &report.Snapshot{ID: "01LARGEREPORT0000000000000", PartnerID: partner.ID, UserID: "u", GeneratedAt: now,
			Today: today, Window: 30, Overview: report.Overviews(onPrem, cloud), ExpiresAt: now.Add(report.Lifetime)}
		large = largeReport{snap: snap, onPrem: onPrem, cloud: cloud}
	})
	return large
}

// BenchmarkSaveReportLarge writes the large distributor's snapshot to the
// emulator: requests, items and KB written per snapshot.
func BenchmarkSaveReportLarge(b *testing.B) {
	t := loadLargeReport(b)
	st := testenv.Store(b)
	m := testenv.StartMeter()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, stats := store.WithStats(context.Background())
		if err := st.SaveReport(ctx, t.snap, t.onPrem, t.cloud); err != nil {
			b.Fatal(err)
		}
		m.Add(stats)
	}
	m.Report(b)
}

// BenchmarkReportPageLarge serves pages of the large distributor's on-prem
// list from its stored snapshot, as GET /v1/reports/{id}/products does
// (the snapshot's part only: the caller, pins and notes are read beside
// it), with two licenses pinned: DynamoDB requests, items and KB read, and
// CPU time, per page.
func BenchmarkReportPageLarge(b *testing.B) {
	t := loadLargeReport(b)
	st := testenv.Store(b)
	ctx := context.Background()
	if err := st.SaveReport(ctx, t.snap, t.onPrem, t.cloud); err != nil {
		b.Fatal(err)
	}
	view := report.View{
		Pins:    map[string]bool{t.onPrem[500].LicenseKey: true, t.onPrem[40000].LicenseKey: true},
		Visible: func(r *report.Row) bool { return r.OrganizationID != "gone" },
	}
	var pinned []report.Position
	for i := range t.onPrem {
		if view.Pins[t.onPrem[i].LicenseKey] {
			pinned = append(pinned, report.PositionOf(&t.onPrem[i]))
		}
	}
	serve := func(b *testing.B, query string) ([]report.Row, []byte, *store.Stats) {
		req, err := report.ParseRequest(query)
		if err != nil {
			b.Fatal(err)
		}
		ctx, stats := store.WithStats(ctx)
		snap, list, err := st.ReportList(ctx, t.snap.PartnerID, t.snap.ID, license.OnPrem, t.snap.GeneratedAt)
		if err != nil {
			b.Fatal(err)
		}
		req.UseReportDefault(snap.IncludeExpired)
		p := report.NewPager(list.Index, view, req, pinned)
		if err := st.ServePage(ctx, list, p); err != nil {
			b.Fatal(err)
		}
		items, next := p.Page()
		return items, next, stats
	}
	_, next, _ := serve(b, "")
	cases := []struct{ name, query string }{
		{"first", ""},
		{"second", url.Values{"cursor": {*page.Next(next)}}.Encode()},
		{"status-expiring", "status=expiring"},
		{"organization", url.Values{"organizationId": {t.onPrem[60000].OrganizationID}}.Encode()},
		{"search", "q=core"},
		// A search that matches one row of the last chunk reads every chunk.
		{"search-rare", url.Values{"q": {t.onPrem[len(t.onPrem)-1].LicenseKey}}.Encode()},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m := testenv.StartMeter()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				items, _, stats := serve(b, c.query)
				if len(items) == 0 {
					b.Fatalf("%s: an empty page", c.query)
				}
				m.Add(stats)
			}
			m.Report(b)
		})
	}
}
