package report_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/report"
)

// chunked is a list kept in chunks, as a store keeps it.
type chunked struct {
	rows   []report.Row // all of them, in report order
	chunks [][]report.Row
	ix     *report.Index
}

// chunk splits rows (in report order) into chunks of the given sizes, the
// last size repeating.
func chunk(t testing.TB, rows []report.Row, sizes ...int) *chunked {
	t.Helper()
	c := &chunked{rows: rows, ix: &report.Index{}}
	for start, i := 0, 0; start < len(rows); i++ {
		n := sizes[min(i, len(sizes)-1)]
		part := rows[start:min(start+n, len(rows))]
		if err := c.ix.Add(part); err != nil {
			t.Fatalf("Index.Add: %v", err)
		}
		c.chunks = append(c.chunks, part)
		start += len(part)
	}
	return c
}

// serve runs a pager to its end and returns the page and the chunks it
// read, per round.
func (c *chunked) serve(t testing.TB, v report.View, req report.Request, pinned []report.Position) (out []report.Row, next []byte, reads [][]int) {
	t.Helper()
	p := report.NewPager(c.ix, v, req, pinned)
	for want := p.Next(); want != nil; want = p.Next() {
		if len(want) == 0 {
			t.Fatal("Next asked for no chunk and is not done")
		}
		if len(reads) > len(c.chunks)+1 {
			t.Fatalf("more reads than chunks: %v", reads)
		}
		for _, n := range want {
			p.Add(n, c.chunks[n])
		}
		reads = append(reads, want)
	}
	out, next = p.Page()
	return out, next, reads
}

// positions returns the positions of every row of the pinned licenses.
func (c *chunked) positions(pins map[string]bool) []report.Position {
	var out []report.Position
	for i := range c.rows {
		if pins[c.rows[i].LicenseKey] {
			out = append(out, report.PositionOf(&c.rows[i]))
		}
	}
	return out
}

func flat(reads [][]int) []int {
	var out []int
	for _, r := range reads {
		out = append(out, r...)
	}
	return out
}

// randomRows returns n rows over orgs organizations (some sharing a name),
// three products, every status and type, a license under two organizations
// now and then, in report order.
func randomRows(rng *rand.Rand, n, orgs int) []report.Row {
	statuses := []license.Status{license.Active, license.Expiring, license.Expired}
	types := []license.Type{license.Evaluation, license.Purchased}
	prods := []struct{ id, name string }{{"core", "MetaDefender Core"}, {"kiosk", "MetaDefender Kiosk"}, {"vault", "MetaDefender Vault"}}
	rows := make([]report.Row, 0, n)
	for i := range n {
		o := rng.IntN(orgs)
		p := prods[rng.IntN(len(prods))]
		r := report.Row{LicenseKey: fmt.Sprintf("K-%05d", i), ProductID: p.id, ProductName: p.name,
			OrganizationID: fmt.Sprintf("org-%03d", o), OrganizationName: fmt.Sprintf("Org %03d", o/2*2), // pairs share a name
			Status: statuses[rng.IntN(3)], Type: types[rng.IntN(2)], Category: license.OnPrem}
		if rng.IntN(4) == 0 {
			r.CustomerNote = "budget approved"
		}
		rows = append(rows, r)
		if rng.IntN(20) == 0 { // the same license under another organization
			other := r
			o2 := rng.IntN(orgs)
			other.OrganizationID, other.OrganizationName = fmt.Sprintf("org-%03d", o2), fmt.Sprintf("Org %03d", o2/2*2)
			rows = append(rows, other)
		}
	}
	report.Sort(rows)
	return rows
}

// TestPagerServesWhatPageServes walks every page of many lists, views and
// filters through a Pager over chunks and checks each page, and its cursor,
// against Page over all the rows.
func TestPagerServesWhatPageServes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	queries := []url.Values{
		{},
		{"includeExpired": {"true"}},
		{"status": {"expiring"}},
		{"status": {"expired", "active"}},
		{"type": {"evaluation"}},
		{"productId": {"kiosk"}},
		{"productId": {"vault", "unknown"}},
		{"productId": {"unknown"}},
		{"organizationId": {"org-004"}},
		{"organizationId": {"org-001", "org-030", "org-none"}},
		{"pinned": {"true"}},
		{"q": {"budget"}},
		{"q": {"renewal"}}, // a partner note
		{"status": {"expiring"}, "type": {"purchased"}, "productId": {"core"}},
	}
	for trial := range 40 {
		rows := randomRows(rng, 50+rng.IntN(400), 2+rng.IntN(40))
		sizes := []int{1 + rng.IntN(60)}
		if trial%3 == 0 {
			sizes = []int{1, 2, 3, 1 + rng.IntN(30)}
		}
		c := chunk(t, rows, sizes...)
		pins := map[string]bool{}
		for range rng.IntN(12) {
			pins[rows[rng.IntN(len(rows))].LicenseKey] = true
		}
		notes := map[string]license.Note{rows[rng.IntN(len(rows))].LicenseKey: {Text: "Renewal call", Version: 1}}
		hidden := fmt.Sprintf("org-%03d", rng.IntN(40))
		v := report.View{Pins: pins, Visible: func(r *report.Row) bool { return r.OrganizationID != hidden }}
		for _, q := range queries {
			vq := v
			if q.Get("q") != "" {
				vq.Notes = notes // a search reads every note first
			}
			limit := 1 + rng.IntN(40)
			t.Run(fmt.Sprintf("%d/%s/limit=%d", trial, q.Encode(), limit), func(t *testing.T) {
				var cursor *string
				for pages := 0; ; pages++ {
					qq := url.Values{"limit": {fmt.Sprint(limit)}}
					for k, vs := range q {
						qq[k] = vs
					}
					if cursor != nil {
						qq.Set("cursor", *cursor)
					}
					req, err := parse(qq.Encode(), trial%2 == 0)
					if err != nil {
						t.Fatal(err)
					}
					want, wantNext := report.Page(rows, vq, req)
					got, gotNext, _ := c.serve(t, vq, req, c.positions(pins))
					if !reflect.DeepEqual(got, want) || string(gotNext) != string(wantNext) {
						t.Fatalf("page %d:\n got %v next %s\nwant %v next %s", pages, keys(got), gotNext, keys(want), wantNext)
					}
					if wantNext == nil {
						break
					}
					if pages > len(rows) {
						t.Fatal("pages never end")
					}
					cursor = page.Next(wantNext)
				}
			})
		}
	}
}

// uniform returns n active, purchased rows of product core, ten a
// organization, in report order.
func uniform(n int) []report.Row {
	rows := make([]report.Row, n)
	for i := range rows {
		rows[i] = report.Row{LicenseKey: fmt.Sprintf("K-%05d", i), ProductID: "core", ProductName: "MetaDefender Core",
			OrganizationID: fmt.Sprintf("org-%03d", i/10), OrganizationName: fmt.Sprintf("Org %03d", i/10),
			Status: license.Active, Type: license.Purchased}
	}
	return rows
}

// TestPagerReadsOnlyWhatThePageNeeds checks which chunks pages read: 20
// chunks of 50 rows, ten rows an organization.
func TestPagerReadsOnlyWhatThePageNeeds(t *testing.T) {
	rows := uniform(1000)
	// Rows that the filters below pick out, in chunks 3 and 12 only.
	rows[170].Status, rows[620].Status = license.Expiring, license.Expiring
	rows[171].ProductID, rows[171].ProductName = "kiosk", "MetaDefender Core" // same name: the order holds
	rows[630].Type = license.Evaluation
	c := chunk(t, rows, 50)
	none := report.View{}
	request := func(q url.Values) report.Request {
		t.Helper()
		req, err := parse(q.Encode(), false)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	first, next, _ := c.serve(t, none, request(url.Values{"limit": {"20"}}), nil)
	if len(first) != 20 || next == nil {
		t.Fatalf("first page: %d rows, next %q", len(first), next)
	}
	// The cursor of a page that ends at row 359 (in chunk 7) and one at the
	// last row of chunk 7.
	_, mid, _ := c.serve(t, none, request(url.Values{"limit": {"360"}}), nil)
	_, end, _ := c.serve(t, none, request(url.Values{"limit": {"400"}}), nil)

	pins := map[string]bool{rows[120].LicenseKey: true, rows[777].LicenseKey: true}
	tests := []struct {
		name   string
		view   report.View
		q      url.Values
		pinned []report.Position
		want   [][]int
	}{
		{"first page: one chunk", none, url.Values{"limit": {"20"}}, nil, [][]int{{0}}},
		{"a page of 120 rows: three chunks at once", none, url.Values{"limit": {"120"}}, nil, [][]int{{0, 1, 2}}},
		{"the cursor's chunk by binary search", none, url.Values{"limit": {"20"}, "cursor": {*page.Next(mid)}}, nil, [][]int{{7}}},
		{"a cursor at a chunk's end reads on", none, url.Values{"limit": {"20"}, "cursor": {*page.Next(end)}}, nil, [][]int{{7}, {8}}},
		{"status: the chunks that have it, at once for a page of 100", none, url.Values{"status": {"expiring"}}, nil, [][]int{{3, 12}}},
		{"product", none, url.Values{"productId": {"kiosk"}}, nil, [][]int{{3}}},
		{"type", none, url.Values{"type": {"evaluation"}}, nil, [][]int{{12}}},
		{"organization", none, url.Values{"organizationId": {"org-055"}}, nil, [][]int{{11}}},
		{"an unknown organization reads nothing", none, url.Values{"organizationId": {"org-none"}}, nil, nil},
		{"pins: their chunks and the first", report.View{Pins: pins}, url.Values{"limit": {"20"}}, c.positions(pins), [][]int{{0, 2, 15}}},
		{"pinned only: their chunks", report.View{Pins: pins}, url.Values{"pinned": {"true"}}, c.positions(pins), [][]int{{2, 15}}},
		{"pins past the cursor: none", report.View{Pins: pins}, url.Values{"limit": {"20"}, "cursor": {*page.Next(mid)}}, c.positions(pins), [][]int{{7}}},
		{"a search reads every chunk", none, url.Values{"q": {"nothing-matches"}}, nil,
			[][]int{{0, 1, 2}, {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request(tt.q)
			got, gotNext, reads := c.serve(t, tt.view, req, tt.pinned)
			if !reflect.DeepEqual(reads, tt.want) {
				t.Errorf("read chunks %v, want %v", reads, tt.want)
			}
			want, wantNext := report.Page(rows, tt.view, req)
			if !reflect.DeepEqual(got, want) || string(gotNext) != string(wantNext) {
				t.Errorf("got %v, want %v", keys(got), keys(want))
			}
		})
	}
}

// TestPagerPinsOfRenamedOrganization finds a pinned row whose organization
// was renamed after the list was made: its position (from the license as it
// is now) points elsewhere, and the chunks of its organization are read.
func TestPagerPinsOfRenamedOrganization(t *testing.T) {
	rows := uniform(1000)
	c := chunk(t, rows, 50)
	pinned := rows[420] // organization org-042, in chunk 8
	pins := map[string]bool{pinned.LicenseKey: true}
	now := report.PositionOf(&pinned)
	now.Org = "Org 030 renamed" // sorts into chunk 6, which does not hold org-042
	req, _ := parse("limit=5", false)
	got, _, reads := c.serve(t, report.View{Pins: pins}, req, []report.Position{now})
	if len(got) == 0 || got[0].LicenseKey != pinned.LicenseKey || !got[0].Pinned {
		t.Fatalf("page = %v, want the pinned row first", keys(got))
	}
	if read := flat(reads); !slices.Equal(read, []int{0, 8}) {
		t.Errorf("read chunks %v, want 0 (the first page) and 8 (the pinned row's organization)", read)
	}
}

// TestPagerPinsNotWherePredicted finds a pinned row that is not in the
// chunk its position points to (its product renamed since the list was
// made; the same holds when a Bloom filter answers yes by mistake): the
// other chunks of its organization are read in a second round.
func TestPagerPinsNotWherePredicted(t *testing.T) {
	rows := uniform(1000)
	c := chunk(t, rows, 45) // org-004 (rows 40 to 49) spans chunks 0 and 1
	pinned := rows[47]
	pins := map[string]bool{pinned.LicenseKey: true}
	now := report.PositionOf(&pinned)
	now.Product = "AAA Renamed Product" // sorts before row 45, the first of chunk 1
	req, _ := parse("limit=5", false)
	got, _, reads := c.serve(t, report.View{Pins: pins}, req, []report.Position{now})
	if len(got) == 0 || got[0].LicenseKey != pinned.LicenseKey || !got[0].Pinned {
		t.Fatalf("page = %v, want the pinned row first", keys(got))
	}
	if want := [][]int{{0}, {1}}; !reflect.DeepEqual(reads, want) {
		t.Errorf("read chunks %v, want %v (the predicted chunk with the first page, then the organization's other)", reads, want)
	}
	// A pin on a license the list does not hold (new since) reads the
	// organization's chunks, here with the first page, and serves nothing
	// more.
	absent := report.Position{Org: "Org 004", Product: "MetaDefender Core", License: "K-NEW", OrgID: "org-004"}
	got, _, reads = c.serve(t, report.View{Pins: map[string]bool{"K-NEW": true}}, req, []report.Position{absent})
	if want := [][]int{{0, 1}}; !reflect.DeepEqual(reads, want) || got[0].Pinned {
		t.Errorf("read chunks %v, want %v; first row pinned %v", reads, want, got[0].Pinned)
	}
}

func TestIndexRefusesRowsOutOfOrder(t *testing.T) {
	rows := uniform(10)
	var ix report.Index
	if err := ix.Add(rows[5:]); err != nil {
		t.Fatal(err)
	}
	if err := ix.Add(rows[:5]); err == nil {
		t.Error("a chunk before the previous one was accepted")
	}
	rows[3], rows[4] = rows[4], rows[3]
	var ix2 report.Index
	if err := ix2.Add(rows); err == nil {
		t.Error("a chunk out of order within was accepted")
	}
}

func TestBloom(t *testing.T) {
	b := report.NewBloom(1000)
	for i := range 1000 {
		b.Add(fmt.Sprintf("org-%d", i))
	}
	for i := range 1000 {
		if !b.Has(fmt.Sprintf("org-%d", i)) {
			t.Fatalf("org-%d added, not found", i)
		}
	}
	positives := 0
	for i := range 10000 {
		if b.Has(fmt.Sprintf("other-%d", i)) {
			positives++
		}
	}
	if positives > 300 { // about 1% expected
		t.Errorf("%d false positives in 10,000, want about 100", positives)
	}
	if (report.Bloom{}).Has("x") {
		t.Error("an empty filter has x")
	}
}
