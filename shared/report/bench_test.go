package report_test

import (
	"net/url"
	"sync"
	"testing"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// largeTenant is the large distributor of demo.Large: about 2,000 customer
// organizations and 100,000 licenses, as the distributor sees them.
type largeTenant struct {
	listings []report.Listing
	products map[string]license.Product
}

var (
	largeOnce sync.Once
	large     largeTenant
)

func loadLarge(b *testing.B) largeTenant {
	b.Helper()
	largeOnce.Do(func() {
		doc := demo.Generate(demo.Large(), today)
		ds, err := dataset.Check(&doc)
		if err != nil {
			b.Fatal(err)
		}
		orgs := map[string]*access.Organization{}
		for i := range ds.Organizations {
			orgs[ds.Organizations[i].ID] = &ds.Organizations[i]
		}
		h := access.NewHierarchy(orgs)
		var partner string
		for _, o := range ds.Organizations {
			if o.Type == access.OrgDistributor && partner == "" {
				partner = o.ID
			}
		}
		// What the store's blocks hold for the distributor: each license
		// under the organizations it is shown under.
		byOrg := map[string]*report.Listing{}
		for _, l := range ds.Licenses {
			for _, id := range h.Placement(partner, l.OrganizationIDs) {
				ls := byOrg[id]
				if ls == nil {
					ls = &report.Listing{Org: access.Ref{ID: id, Name: orgs[id].Name}}
					byOrg[id] = ls
				}
				ls.Licenses = append(ls.Licenses, l)
			}
		}
		for _, ls := range byOrg {
			large.listings = append(large.listings, *ls)
		}
		large.products = map[string]license.Product{}
		for _, p := range ds.Products {
			large.products[p.ID] = p
		}
	})
	return large
}

// BenchmarkReportLarge computes the report of the large distributor over all
// its customers from what its blocks hold: rows (hidden products, status),
// order and overview.
func BenchmarkReportLarge(b *testing.B) {
	t := loadLarge(b)
	b.ReportAllocs()
	b.ResetTimer()
	var rows int
	for i := 0; i < b.N; i++ {
		onPrem, cloud := report.Rows(t.listings, t.products, today, 30)
		_ = report.Overviews(onPrem, cloud)
		rows = len(onPrem) + len(cloud)
	}
	b.ReportMetric(float64(rows), "rows")
}

// BenchmarkPageLarge serves one filtered page of the large distributor's
// on-prem list: pins and notes applied, a status filter and a search.
func BenchmarkPageLarge(b *testing.B) {
	t := loadLarge(b)
	onPrem, _ := report.Rows(t.listings, t.products, today, 30)
	pins := map[string]bool{onPrem[500].LicenseKey: true, onPrem[9000].LicenseKey: true}
	notes := map[string]license.Note{onPrem[42].LicenseKey: {Text: "renewal call in March", Version: 1}}
	req, err := report.ParseRequest(url.Values{"status": {"expiring"}, "q": {"core"}, "limit": {"100"}}.Encode())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	view := report.View{Pins: pins, Notes: notes, Visible: func(r *report.Row) bool { return r.OrganizationID != "gone" }}
	for i := 0; i < b.N; i++ {
		report.Page(onPrem, view, req)
	}
	b.ReportMetric(float64(len(onPrem)), "rows")
}

// BenchmarkPagerLarge serves pages of the large distributor's on-prem list
// kept in chunks of 1,000 rows, as the store keeps it, with two pins: the
// chunks and rows each page reads and scans (the chunks are at hand: this
// is the pager's own work, without DynamoDB or decoding).
func BenchmarkPagerLarge(b *testing.B) {
	t := loadLarge(b)
	onPrem, _ := report.Rows(t.listings, t.products, today, 30)
	ix := &report.Index{}
	var chunks [][]report.Row
	for start := 0; start < len(onPrem); start += 1000 {
		c := onPrem[start:min(start+1000, len(onPrem))]
		if err := ix.Add(c); err != nil {
			b.Fatal(err)
		}
		chunks = append(chunks, c)
	}
	pins := map[string]bool{onPrem[500].LicenseKey: true, onPrem[40000].LicenseKey: true}
	var pinned []report.Position
	for i := range onPrem {
		if pins[onPrem[i].LicenseKey] {
			pinned = append(pinned, report.PositionOf(&onPrem[i]))
		}
	}
	view := report.View{Pins: pins, Visible: func(r *report.Row) bool { return r.OrganizationID != "gone" }}
	for _, c := range []struct{ name, query string }{
		{"first", ""},
		{"status-expiring", "status=expiring"},
		{"organization", url.Values{"organizationId": {onPrem[60000].OrganizationID}}.Encode()},
		{"search-rare", url.Values{"q": {onPrem[len(onPrem)-1].LicenseKey}}.Encode()},
	} {
		b.Run(c.name, func(b *testing.B) {
			req, err := report.ParseRequest(c.query)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			read, rows := 0, 0
			for i := 0; i < b.N; i++ {
				p := report.NewPager(ix, view, req, pinned)
				for want := p.Next(); want != nil; want = p.Next() {
					for _, n := range want {
						p.Add(n, chunks[n])
						rows += len(chunks[n])
					}
				}
				read += p.ChunksRead()
			}
			b.ReportMetric(float64(read)/float64(b.N), "chunks/op")
			b.ReportMetric(float64(rows)/float64(b.N), "rows-scanned/op")
		})
	}
}
