package store_test

import (
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"testing"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
)

// manyOrganizations returns a snapshot over n customer organizations, with
// names as long as real ones, and three licenses each, in report order.
func manyOrganizations(t *testing.T, id string, n int) (*report.Snapshot, []report.Row) {
	statuses := []license.Status{license.Active, license.Expiring, license.Expired}
	reseller := &access.Ref{ID: "org-res-1", Name: "BlueHarbor Networks"}
	var rows []report.Row
	var orgs []access.Ref
	for o := range n {
		org := access.Ref{ID: fmt.Sprintf("org-cust-%05d", o), Name: fmt.Sprintf("Customer Organization %05d Holding GmbH & Co. KG", o)}
		orgs = append(orgs, org)
		for l := range 3 {
			r := report.Row{LicenseKey: fmt.Sprintf("MDC-%05d-%d-XQ2L", o, l), ProductID: "core", ProductName: "MetaDefender Core",
				Category: license.OnPrem, OrganizationID: org.ID, OrganizationName: org.Name, Status: statuses[(o+l)%3],
				Type: license.Purchased, StartDate: mustDate(t, "2025-01-01"), ExpirationDate: mustDate(t, "2026-01-01"), Purchased: 5}
			if o%2 == 0 {
				r.Reseller = reseller
			}
			if l == 2 {
				r.ProductID, r.ProductName = "kiosk", "MetaDefender Kiosk"
			}
			rows = append(rows, r)
		}
	}
	report.Sort(rows)
	snap := snapshotOf(t, id, "dist-a", rows, nil)
	snap.Organizations = orgs // as CreateReport answers: every organization of the selection
	return snap, rows
}

// request parses a page request, failing the test on an error.
func request(t *testing.T, q url.Values) report.Request {
	t.Helper()
	req, err := report.ParseRequest(q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestReportsOverManyOrganizations stores reports over 8,000 and 20,000
// customer organizations, which the head once could not hold (it kept the
// organizations list, and passed 400 KB at about 6,500), and reads their
// pages back: every item is under 400 KB, and every page is the one
// report.Page serves from all the rows.
func TestReportsOverManyOrganizations(t *testing.T) {
	for _, n := range []int{8000, 20000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			w := newWorld(t)
			id := fmt.Sprintf("rep-%d", n)
			snap, rows := manyOrganizations(t, id, n)
			if err := w.s.SaveReport(w.ctx, snap, rows, nil); err != nil {
				t.Fatalf("SaveReport: %v", err)
			}
			largest := w.checkItemSizes(id)
			head, _, chunks, partitions := w.snapshotItems(id)
			t.Logf("%d rows: %d chunks in %d partitions, head %d bytes, largest item %d bytes",
				len(rows), len(chunks), partitions, store.ItemSize(head), largest)

			pins := map[string]bool{rows[10].LicenseKey: true, rows[len(rows)/2].LicenseKey: true}
			views := map[string]report.View{"no pins": {}, "two pins": {Pins: pins}}
			middle := rows[len(rows)/3].OrganizationID
			queries := []url.Values{
				{"limit": {"1000"}}, // every page, through the cursors
				{"status": {"expiring"}, "limit": {"1000"}},
				{"organizationId": {middle}},
				{"organizationId": {middle, "org-cust-00007"}, "includeExpired": {"true"}},
				{"productId": {"kiosk"}, "limit": {"500"}},
				{"pinned": {"true"}},
			}
			for name, v := range views {
				for _, q := range queries {
					t.Run(name+"/"+q.Encode(), func(t *testing.T) {
						q := maps.Clone(q) // the cursor changes it
						pages := 0
						for {
							req := request(t, q)
							req.UseReportDefault(snap.IncludeExpired)
							want, wantNext := report.Page(rows, v, req)
							got, gotNext, _ := w.servePage(id, license.OnPrem, rows, v, req)
							if !reflect.DeepEqual(got, want) || string(gotNext) != string(wantNext) {
								t.Fatalf("page %d: got %d rows (next %s), want %d (next %s)", pages, len(got), gotNext, len(want), wantNext)
							}
							if wantNext == nil {
								break
							}
							pages++
							q.Set("cursor", *page.Next(wantNext))
						}
					})
				}
			}
		})
	}
}

// TestReportPageReadsItsChunks checks what one page reads from DynamoDB:
// the head and the one chunk of its rows, counted in the store's Stats with
// the items' sizes.
func TestReportPageReadsItsChunks(t *testing.T) {
	w := newWorld(t)
	snap, rows := manyOrganizations(t, "rep-stats", 1000) // 3,000 rows: 3 chunks
	if err := w.s.SaveReport(w.ctx, snap, rows, nil); err != nil {
		t.Fatalf("SaveReport: %v", err)
	}
	head, _, _, _ := w.snapshotItems("rep-stats")
	firstChunk := w.rawItem("REPORT#rep-stats#0", "ROWS#onprem#0")
	secondChunk := w.rawItem("REPORT#rep-stats#1", "ROWS#onprem#1")
	if firstChunk == nil || secondChunk == nil {
		t.Fatal("chunks 0 and 1 are not where the key design puts them")
	}
	tests := []struct {
		name     string
		q        url.Values
		want     int // bytes
		requests int
	}{
		{"first page", url.Values{}, store.ItemSize(head) + store.ItemSize(firstChunk), 2},
		{"a page of chunk 1's organization", url.Values{"organizationId": {rows[1500].OrganizationID}},
			store.ItemSize(head) + store.ItemSize(secondChunk), 2},
		{"an organization not in the report", url.Values{"organizationId": {"org-none"}}, store.ItemSize(head), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(t, tt.q)
			_, _, stats := w.servePage("rep-stats", license.OnPrem, rows, report.View{}, req)
			if got := stats.Requests.Load(); got != int64(tt.requests) {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
			if got := stats.BytesRead.Load(); got != int64(tt.want) {
				t.Errorf("%d bytes read, want %d", got, tt.want)
			}
		})
	}
}

// TestReportIndexInParts stores a report whose index is too large for the
// head (here made so by lowering the limit): the index is kept in parts
// beside the head, read in one more request, and pages are as before.
func TestReportIndexInParts(t *testing.T) {
	defer store.SetIndexLimits(1<<10, 2<<10)()
	w := newWorld(t)
	w.s.ReportChunkRows = 10
	snap, rows := manyOrganizations(t, "rep-parts", 400) // 120 chunks
	if err := w.s.SaveReport(w.ctx, snap, rows, nil); err != nil {
		t.Fatalf("SaveReport: %v", err)
	}
	head, parts, chunks, _ := w.snapshotItems("rep-parts")
	if len(parts) < 2 || head["onPremIndex"] != nil || len(chunks) != 120 {
		t.Fatalf("%d index parts, inline index %v, %d chunks; want 2 or more parts, none inline, 120 chunks", len(parts), head["onPremIndex"] != nil, len(chunks))
	}
	ctx, stats := store.WithStats(w.ctx)
	_, list, err := w.s.ReportList(ctx, "dist-a", "rep-parts", license.OnPrem, reportTime)
	if err != nil {
		t.Fatalf("ReportList: %v", err)
	}
	if got := stats.Requests.Load(); got != 2 || len(list.Index.Chunks) != 120 {
		t.Errorf("%d requests for an index of %d chunks, want 2 and 120", got, len(list.Index.Chunks))
	}
	for _, q := range []url.Values{{}, {"organizationId": {rows[700].OrganizationID}}, {"status": {"expired"}, "limit": {"7"}}} {
		req := request(t, q)
		req.UseReportDefault(snap.IncludeExpired)
		want, wantNext := report.Page(rows, report.View{}, req)
		got, gotNext, _ := w.servePage("rep-parts", license.OnPrem, rows, report.View{}, req)
		if !reflect.DeepEqual(got, want) || string(gotNext) != string(wantNext) {
			t.Errorf("%s: got %d rows, want %d", q.Encode(), len(got), len(want))
		}
	}
}
