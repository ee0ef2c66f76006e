package report_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/report"
)

func ptr[T any](v T) *T { return &v }

var today, _ = license.ParseDate("2026-06-01")

var products = map[string]license.Product{
	"core":  {ID: "core", Name: "MetaDefender Core", Category: license.OnPrem, VisibleToPartners: true},
	"kiosk": {ID: "kiosk", Name: "MetaDefender Kiosk", Category: license.OnPrem, VisibleToPartners: true},
	"cloud": {ID: "cloud", Name: "MetaDefender Cloud", Category: license.CloudService, VisibleToPartners: true},
	"ita":   {ID: "ita", Name: "MetaDefender IT Access", Category: license.OnPrem, VisibleToPartners: false},
}

// listings are what a distributor sees of three organizations, a with a
// sub-organization sold through reseller r.
func listings(byOrg map[string][]license.License) []report.Listing {
	orgs := []report.Listing{
		{Org: access.Ref{ID: "a", Name: "Alpha"}},
		{Org: access.Ref{ID: "a-sub", Name: "Alpha Sub"}, Reseller: &access.Ref{ID: "r", Name: "Res"}},
		{Org: access.Ref{ID: "b", Name: "Beta"}},
	}
	var out []report.Listing
	for _, l := range orgs {
		l.Licenses = byOrg[l.Org.ID]
		out = append(out, l)
	}
	return out
}

func lic(key, product string, exp int, orgs ...string) license.License {
	return license.License{Key: key, ProductID: product, OrganizationIDs: orgs, Type: license.Purchased,
		StartDate: today.AddDays(-100), ExpirationDate: today.AddDays(exp), PurchasedInstances: ptr(5), Deployed: 2}
}

func keys(rows []report.Row) []string {
	var ks []string
	for _, r := range rows {
		ks = append(ks, r.OrganizationID+"/"+r.LicenseKey)
	}
	return ks
}

func TestRows(t *testing.T) {
	onPrem, cloud := report.Rows(listings(map[string][]license.License{
		"b":     {lic("K3", "kiosk", 100, "b"), lic("K6", "core", 10, "a", "b"), {Key: "C1", ProductID: "cloud", Type: license.Evaluation, ExpirationDate: today, ScanLimit: ptr(100)}},
		"a":     {lic("K2", "core", -1, "a"), lic("K4", "ita", 100, "a"), lic("K6", "core", 10, "a", "b"), lic("K7", "gone", 10, "a")},
		"a-sub": {lic("K1", "core", 100, "a", "a-sub")},
	}), products, today, 30)
	// Report order: organization name, product name, key; hidden and
	// unknown products left out; a license under two organizations is a row
	// under each.
	if got, want := keys(onPrem), []string{"a/K2", "a/K6", "a-sub/K1", "b/K6", "b/K3"}; !slices.Equal(got, want) {
		t.Errorf("on-prem rows = %v, want %v", got, want)
	}
	if got, want := keys(cloud), []string{"b/C1"}; !slices.Equal(got, want) {
		t.Errorf("cloud rows = %v, want %v", got, want)
	}
}

func TestRowFields(t *testing.T) {
	onPrem, cloud := report.Rows(listings(map[string][]license.License{
		"a-sub": {lic("K1", "core", 10, "a-sub")},
		"a":     {{Key: "C1", ProductID: "cloud", Type: license.Evaluation, ExpirationDate: today.AddDays(-3), ScanLimit: ptr(100)}},
	}), products, today, 30)
	r := onPrem[0]
	if r.Status != license.Expiring || r.Reseller == nil || r.Reseller.Name != "Res" || r.Deployed != 2 || r.Purchased != 5 {
		t.Errorf("on-prem row = %+v", r)
	}
	if c := cloud[0]; c.Status != license.Expired || c.ScanLimit != 100 || c.ScansUsed != nil || c.Reseller != nil {
		t.Errorf("cloud row = %+v", c)
	}
}

func TestRowJSON(t *testing.T) {
	onPrem, cloud := report.Rows(listings(map[string][]license.License{"a": {
		lic("K1", "core", 10, "a"),
		{Key: "C1", ProductID: "cloud", Type: license.Evaluation, ExpirationDate: today, ScanLimit: ptr(100), ScansUsed: ptr(7)},
	}}), products, today, 30)
	var prem, cl map[string]any
	b, _ := json.Marshal(onPrem[0])
	_ = json.Unmarshal(b, &prem)
	b, _ = json.Marshal(cloud[0])
	_ = json.Unmarshal(b, &cl)
	for _, k := range []string{"licenseKey", "productId", "productName", "organizationId", "organizationName", "reseller",
		"status", "type", "startDate", "expirationDate", "customerNote", "partnerNote", "pinned"} {
		if _, ok := prem[k]; !ok {
			t.Errorf("on-prem row lacks %q", k)
		}
		if _, ok := cl[k]; !ok {
			t.Errorf("cloud row lacks %q", k)
		}
	}
	if prem["deployed"] != 2.0 || prem["purchased"] != 5.0 {
		t.Errorf("on-prem numbers = %v, %v", prem["deployed"], prem["purchased"])
	}
	if _, ok := prem["scanLimit"]; ok {
		t.Error("on-prem row has scanLimit")
	}
	if _, ok := prem["scansUsed"]; ok {
		t.Error("on-prem row has scansUsed")
	}
	if cl["scanLimit"] != 100.0 || cl["scansUsed"] != 7.0 {
		t.Errorf("cloud numbers = %v, %v", cl["scanLimit"], cl["scansUsed"])
	}
	if _, ok := cl["deployed"]; ok {
		t.Error("cloud row has deployed")
	}
	if prem["customerNote"] != nil {
		t.Errorf("empty customer note = %v, want null", prem["customerNote"])
	}
	if prem["startDate"] != "2026-02-21" {
		t.Errorf("startDate = %v", prem["startDate"])
	}
}

func TestSummarize(t *testing.T) {
	rows := []report.Row{
		{ProductID: "core", ProductName: "Core", Status: license.Active, Type: license.Purchased, Deployed: 1, Purchased: 3},
		{ProductID: "core", ProductName: "Core", Status: license.Expired, Type: license.Evaluation, Deployed: 0, Purchased: 1},
		{ProductID: "kiosk", ProductName: "Kiosk", Status: license.Expiring, Type: license.Purchased, Deployed: 2, Purchased: 2},
	}
	s := report.Summarize(rows, license.OnPrem)
	if s.Total != 3 || s.ByStatus != (report.StatusCounts{Active: 1, Expiring: 1, Expired: 1}) ||
		s.ByType != (report.TypeCounts{Evaluation: 1, Purchased: 2}) || *s.Deployed != 3 || *s.Purchased != 6 {
		t.Errorf("summary = %+v", s)
	}
	want := []report.ProductCount{{ProductID: "core", ProductName: "Core", Total: 2}, {ProductID: "kiosk", ProductName: "Kiosk", Total: 1}}
	if !slices.Equal(s.ByProduct, want) {
		t.Errorf("byProduct = %v, want %v", s.ByProduct, want)
	}
	cloud := report.Summarize(nil, license.CloudService)
	b, _ := json.Marshal(cloud)
	if strings.Contains(string(b), "deployed") || !strings.Contains(string(b), `"byProduct":[]`) {
		t.Errorf("empty cloud summary = %s", b)
	}
}

func TestParseRequest(t *testing.T) {
	bad := []string{"limit=0", "limit=1001", "limit=x", "limit=1&limit=2", "status=gone", "type=trial", "pinned=maybe",
		"cursor=%%%", "cursor=bm90IGpzb24", "sort=name", "includeExpired=yes", "q=" + strings.Repeat("x", 201)}
	for _, q := range bad {
		v, err := url.ParseQuery(q)
		if err != nil {
			v = url.Values{"cursor": {"%%%"}}
		}
		if _, err := parse(v.Encode(), false); err == nil {
			t.Errorf("ParseRequest(%s) accepted a bad request", q)
		}
	}
	v, _ := url.ParseQuery("status=expired&status=active&type=evaluation&productId=core&organizationId=a&pinned=true&q=%20Alpha%20&limit=5")
	req, err := parse(v.Encode(), false)
	if err != nil {
		t.Fatal(err)
	}
	if req.Limit != 5 || !req.Pinned || req.Query != "alpha" || len(req.Statuses) != 2 || req.ProductIDs[0] != "core" {
		t.Errorf("request = %+v", req)
	}
	req, _ = parse(url.Values{}.Encode(), true)
	if req.Limit != page.DefaultLimit || !req.IncludeExpired {
		t.Errorf("defaults = %+v", req)
	}
	// The query's includeExpired wins over the report's.
	if req, _ = parse("includeExpired=false", true); req.IncludeExpired {
		t.Errorf("includeExpired=false on a report made with expired rows: %+v", req)
	}
}

func TestFilter(t *testing.T) {
	row := report.Row{LicenseKey: "MDC-AB12", ProductID: "core", ProductName: "MetaDefender Core", OrganizationID: "a",
		OrganizationName: "Alpha GmbH", Status: license.Expired, Type: license.Purchased, CustomerNote: "Rack 7",
		PartnerNote: &license.Note{Text: "Call Jürgen"}, Pinned: true}
	tests := []struct {
		query string
		match bool
	}{
		{"", false}, // expired rows are hidden by default
		{"includeExpired=true", true},
		{"status=expired", true},
		{"status=active", false},
		{"status=expired&type=evaluation", false},
		{"includeExpired=true&productId=kiosk&productId=core", true},
		{"includeExpired=true&organizationId=b", false},
		{"includeExpired=true&pinned=true", true},
		{"includeExpired=true&q=ab12", true},
		{"includeExpired=true&q=ALPHA", true},
		{"includeExpired=true&q=rack", true},
		{"includeExpired=true&q=j%C3%BCrgen", true},
		{"includeExpired=true&q=defender%20core", true},
		{"includeExpired=true&q=nothing", false},
	}
	for _, tt := range tests {
		v, _ := url.ParseQuery(tt.query)
		req, err := parse(v.Encode(), false)
		if err != nil {
			t.Fatal(err)
		}
		if got := req.Match(&row); got != tt.match {
			t.Errorf("Match(%s) = %v, want %v", tt.query, got, tt.match)
		}
	}
}

func TestPage(t *testing.T) {
	var rows []report.Row
	for i := 0; i < 25; i++ {
		rows = append(rows, report.Row{LicenseKey: string(rune('A'+i)) + "-key", OrganizationName: "Org", ProductName: "P", Status: license.Active})
	}
	report.Sort(rows)
	view := report.View{Pins: map[string]bool{}}
	var all []string
	var cursor *string
	for pages := 0; ; pages++ {
		q := url.Values{"limit": {"10"}}
		if cursor != nil {
			q.Set("cursor", *cursor)
		}
		req, err := parse(q.Encode(), false)
		if err != nil {
			t.Fatal(err)
		}
		served, next := report.Page(rows, view, req)
		for _, r := range served {
			all = append(all, r.LicenseKey)
		}
		if next == nil {
			if pages != 2 {
				t.Errorf("got %d pages, want 3", pages+1)
			}
			break
		}
		// Pinning a row already served between two pages neither repeats
		// nor skips rows.
		if pages == 0 {
			view.Pins[rows[3].LicenseKey] = true
		}
		cursor = page.Next(next)
	}
	if len(all) != 25 {
		t.Errorf("served %d rows, want 25: %v", len(all), all)
	}
	seen := map[string]bool{}
	for _, k := range all {
		if seen[k] {
			t.Errorf("row %s served twice", k)
		}
		seen[k] = true
	}
}

func TestPageView(t *testing.T) {
	rows := []report.Row{
		{LicenseKey: "A", OrganizationID: "o1", OrganizationName: "One", Status: license.Active},
		{LicenseKey: "B", OrganizationID: "o2", OrganizationName: "Two", Status: license.Active},
		{LicenseKey: "C", OrganizationID: "o1", OrganizationName: "One", Status: license.Active},
	}
	report.Sort(rows)
	req, _ := parse(url.Values{}.Encode(), false)
	v := report.View{Pins: map[string]bool{"C": true}, Notes: map[string]license.Note{"A": {Text: "hello", Version: 2}},
		Visible: func(r *report.Row) bool { return r.OrganizationID == "o1" }}
	page, next := report.Page(rows, v, req)
	if len(page) != 2 || page[0].LicenseKey != "C" || !page[0].Pinned || page[1].LicenseKey != "A" || page[1].Pinned || next != nil {
		t.Fatalf("page = %+v", page)
	}
	if page[1].PartnerNote == nil || page[1].PartnerNote.Text != "hello" || page[0].PartnerNote != nil {
		t.Errorf("notes = %v, %v", page[0].PartnerNote, page[1].PartnerNote)
	}
	if rows[0].Pinned || rows[0].PartnerNote != nil || rows[2].Pinned {
		t.Error("Page changed the rows it was given")
	}
	// Searching the note of the moment.
	req, _ = parse(url.Values{"q": {"HELLO"}}.Encode(), false)
	if page, _ := report.Page(rows, v, req); len(page) != 1 || page[0].LicenseKey != "A" {
		t.Errorf("q=HELLO: %+v", page)
	}
}

func TestPageExactMultiple(t *testing.T) {
	rows := make([]report.Row, 4)
	for i := range rows {
		rows[i] = report.Row{LicenseKey: string(rune('a' + i)), Status: license.Active}
	}
	req, _ := parse(url.Values{"limit": {"4"}}.Encode(), false)
	page, next := report.Page(rows, report.View{}, req)
	if len(page) != 4 || next != nil {
		t.Errorf("a full last page got %d rows and cursor %q; want 4 and none", len(page), next)
	}
}

// parse parses a page request of a report made with includeExpired.
func parse(rawQuery string, includeExpired bool) (report.Request, error) {
	req, err := report.ParseRequest(rawQuery)
	req.UseReportDefault(includeExpired)
	return req, err
}
