package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMe(t *testing.T) {
	t.Parallel()
	e := demoAPI(t)
	tests := []struct {
		user    string
		orgType string
		visible bool
		access  string
	}{
		{"dist-1-admin", "distributor", true, "full"},
		{"dist-1-viewer", "distributor", true, "read"},
		{"dist-1-none", "distributor", false, "none"},
		{"dist-1-multi", "distributor", true, "full"},
		{"res-2-viewer", "reseller", true, "read"},
		{"res-idle-admin", "reseller", false, "full"}, // full role, but no customers
		{"cust-001-admin", "customer", false, "full"}, // not a partner
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			r := e.call("GET", "/v1/me", tt.user, nil).want(t, 200, "")
			if got := obj(r.body["user"])["id"]; got != tt.user {
				t.Errorf("user.id = %v", got)
			}
			if got := obj(r.body["organization"])["type"]; got != tt.orgType {
				t.Errorf("organization.type = %v, want %s", got, tt.orgType)
			}
			co := obj(r.body["customerOrganizations"])
			if co["visible"] != tt.visible || co["access"] != tt.access {
				t.Errorf("customerOrganizations = %v, want visible %v access %s", co, tt.visible, tt.access)
			}
		})
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := demoAPI(t)
	// No token, a token for a subject with no user.
	e.call("GET", "/v1/me", "", nil).want(t, 401, "unauthenticated")
	e.call("GET", "/v1/customer-organizations", "nobody-here", nil).want(t, 401, "unauthenticated")

	tampered := e.tokens.Issue("dist-1-admin", time.Hour)
	tampered = tampered[:len(tampered)-2] + "xx"
	expired := e.tokens.Issue("dist-1-admin", -time.Second)
	for name, token := range map[string]string{"tampered": tampered, "expired": expired, "garbage": "abc.def"} {
		req, _ := http.NewRequest("GET", e.url+"/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Errorf("%s token: status %d, want 401", name, res.StatusCode)
		}
	}
}

// Users who do not see the feature get 403 from everything but /v1/me.
func TestForbidden(t *testing.T) {
	t.Parallel()
	e := demoAPI(t)
	endpoints := []struct{ method, path, body string }{
		{"GET", "/v1/customer-organizations", ""},
		{"POST", "/v1/reports", `{"all":true}`},
		{"GET", "/v1/reports/aaaaaaaaaaaaaaaaaaaaaaaaaa/products", ""},
		{"GET", "/v1/reports/aaaaaaaaaaaaaaaaaaaaaaaaaa/cloud-services", ""},
		{"GET", "/v1/licenses/ANY-KEY", ""},
	}
	for _, user := range []string{"dist-1-none", "res-1-none", "res-idle-admin", "cust-001-admin"} {
		for _, ep := range endpoints {
			var body any
			if ep.body != "" {
				body = ep.body
			}
			r := e.call(ep.method, ep.path, user, body)
			if r.status != 403 {
				t.Errorf("%s %s as %s: status %d, want 403 (%s)", ep.method, ep.path, user, r.status, r.raw)
			}
		}
	}
}

func TestCustomerOrganizations(t *testing.T) {
	t.Parallel()
	e := demoAPI(t)
	for _, partner := range []struct{ user, org string }{{"dist-1-viewer", "org-dist-1"}, {"dist-2-admin", "org-dist-2"},
		{"res-1-viewer", "org-res-1"}, {"res-4-admin", "org-res-4"}} {
		t.Run(partner.user, func(t *testing.T) {
			m := newModel(&e.doc, partner.org)
			counts := map[string]int{}
			for _, r := range m.rows(nil, testToday) {
				counts[r.org]++
			}
			got := items(t, e.call("GET", "/v1/customer-organizations", partner.user, nil).want(t, 200, "").body["items"])
			if len(got) != len(m.visible) {
				t.Errorf("%d organizations, want %d", len(got), len(m.visible))
			}
			var names []string
			for _, o := range got {
				id := o["id"].(string)
				names = append(names, o["name"].(string))
				if !m.visible[id] {
					t.Errorf("sees %s, which it does not sell to", id)
				}
				if num(o["licenseCount"]) != counts[id] {
					t.Errorf("%s licenseCount = %v, want %d", id, o["licenseCount"], counts[id])
				}
				isReseller := strings.HasPrefix(partner.org, "org-res")
				if isReseller && o["reseller"] != nil {
					t.Errorf("a reseller sees reseller %v on %s", o["reseller"], id)
				}
				if !isReseller && deref(m.orgs[id].ResellerID) != "" && o["reseller"] == nil && m.orgs[id].ParentID == nil {
					t.Errorf("%s sold through a reseller shows none", id)
				}
				if p, ok := o["parentId"].(string); ok && !m.visible[p] {
					t.Errorf("%s names parent %s, which the partner cannot see", id, p)
				}
			}
			if !slices.IsSorted(names) {
				t.Errorf("organizations are not ordered by name: %v", names)
			}
		})
	}
}

// The Must-show of the foundation: a demo distributor's report has overview
// numbers that match a count of the demo data.
func TestReportOverviewMatchesData(t *testing.T) {
	t.Parallel()
	e := demoAPI(t)
	tests := []struct {
		user, org string
		selection func(m *model) []string // nil: all
	}{
		{"dist-1-admin", "org-dist-1", nil}, // 45-day window
		{"dist-2-viewer", "org-dist-2", nil},
		{"res-2-admin", "org-res-2", nil}, // 14-day window
		{"res-1-viewer", "org-res-1", nil},
		{"dist-1-viewer", "org-dist-1", func(m *model) []string { return []string{"org-cust-001"} }}, // a main org with subs
		{"dist-1-viewer", "org-dist-1", func(m *model) []string { return []string{"org-cust-001-1", "org-cust-001-2"} }},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d-%s", i, tt.user), func(t *testing.T) {
			m := newModel(&e.doc, tt.org)
			body := map[string]any{"all": true}
			var selected map[string]bool
			if tt.selection != nil {
				ids := tt.selection(m)
				body = map[string]any{"organizationIds": ids}
				selected = map[string]bool{}
				for _, id := range ids {
					if !m.visible[id] {
						t.Fatalf("test selection %s is not visible to %s", id, tt.org)
					}
					selected[id] = true
				}
			}
			r := e.call("POST", "/v1/reports", tt.user, body).want(t, 201, "")
			if num(r.body["expiringWindowDays"]) != m.window {
				t.Errorf("expiringWindowDays = %v, want %d", r.body["expiringWindowDays"], m.window)
			}
			rows := m.rows(selected, testToday)
			overview := obj(r.body["overview"])
			for _, c := range []struct{ key, category string }{{"products", "on_prem"}, {"cloudServices", "cloud_service"}} {
				want := summary(rows, c.category)
				got := obj(overview[c.key])
				check := func(name string, got any, want int) {
					if num(got) != want {
						t.Errorf("%s %s = %v, want %d", c.key, name, got, want)
					}
				}
				check("total", got["total"], want["total"])
				for _, s := range []string{"active", "expiring", "expired"} {
					check("byStatus."+s, obj(got["byStatus"])[s], want[s])
				}
				for _, ty := range []string{"evaluation", "purchased"} {
					check("byType."+ty, obj(got["byType"])[ty], want["type:"+ty])
				}
				for _, p := range items(t, got["byProduct"]) {
					check("byProduct."+p["productId"].(string), p["total"], want["product:"+p["productId"].(string)])
					if p["productName"] == "MetaDefender IT Access" {
						t.Error("the hidden product is in the overview")
					}
				}
				if c.category == "on_prem" {
					check("deployed", got["deployed"], want["deployed"])
					check("purchased", got["purchased"], want["purchased"])
				}
			}
			if want := summary(rows, "on_prem")["total"]; want == 0 {
				t.Error("the test selection has no licenses; it proves nothing")
			}
		})
	}
}

// reportID makes a report and returns its id and body.
func reportID(t *testing.T, e *env, user string, body any) (string, response) {
	t.Helper()
	r := e.call("POST", "/v1/reports", user, body).want(t, 201, "")
	return r.body["id"].(string), r
}

// allPages follows the cursors of a list and returns every row.
func allPages(t *testing.T, e *env, user, id, list, query string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	cursor := ""
	for pages := 0; pages < 1000; pages++ {
		q, _ := url.ParseQuery(query)
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		r := e.call("GET", "/v1/reports/"+id+"/"+list+"?"+q.Encode(), user, nil).want(t, 200, "")
		rows = append(rows, items(t, r.body["items"])...)
		next, _ := r.body["nextCursor"].(string)
		if next == "" {
			if r.body["nextCursor"] != nil {
				t.Fatalf("nextCursor = %v, want null", r.body["nextCursor"])
			}
			return rows
		}
		cursor = next
	}
	t.Fatal("cursors never end")
	return nil
}

func TestReportPages(t *testing.T) {
	t.Parallel()
	e := smallAPI(t)
	user := "dist-1-viewer"
	id, made := reportID(t, e, user, map[string]any{"all": true})
	overview := obj(made.body["overview"])
	prodSummary := obj(overview["products"])
	byStatus := obj(prodSummary["byStatus"])
	total := num(prodSummary["total"])

	first := items(t, obj(made.body["products"])["items"])
	if want := min(100, total-num(byStatus["expired"])); len(first) != want {
		t.Errorf("first page has %d rows, want %d", len(first), want)
	}

	all := allPages(t, e, user, id, "products", "limit=37&includeExpired=true")
	if len(all) != total {
		t.Errorf("paged %d rows with expired, want overview total %d", len(all), total)
	}
	seen := map[string]bool{}
	var order []string
	for _, r := range all {
		k := r["organizationId"].(string) + "/" + r["licenseKey"].(string)
		if seen[k] {
			t.Errorf("row %s served twice", k)
		}
		seen[k] = true
		order = append(order, fmt.Sprintf("%s\x00%s\x00%s", r["organizationName"], r["productName"], r["licenseKey"]))
		if r["productName"] == "MetaDefender IT Access" {
			t.Error("hidden product listed")
		}
	}
	if !slices.IsSorted(order) {
		t.Error("rows are not in organization, product, license order")
	}
	if got := len(allPages(t, e, user, id, "products", "limit=1000")); got != total-num(byStatus["expired"]) {
		t.Errorf("default list has %d rows, want %d (expired hidden)", got, total-num(byStatus["expired"]))
	}
	for _, s := range []string{"active", "expiring", "expired"} {
		rows := allPages(t, e, user, id, "products", "limit=1000&status="+s)
		if len(rows) != num(byStatus[s]) {
			t.Errorf("status=%s lists %d rows, overview says %d", s, len(rows), num(byStatus[s]))
		}
		for _, r := range rows {
			if r["status"] != s {
				t.Errorf("status=%s listed a %s row", s, r["status"])
			}
		}
	}
	for _, p := range items(t, prodSummary["byProduct"]) {
		rows := allPages(t, e, user, id, "products", "limit=1000&includeExpired=true&productId="+p["productId"].(string))
		if len(rows) != num(p["total"]) {
			t.Errorf("productId=%s lists %d rows, overview says %v", p["productId"], len(rows), p["total"])
		}
	}
	byType := obj(prodSummary["byType"])
	if got := len(allPages(t, e, user, id, "products", "limit=1000&status=active&status=expiring&status=expired&type=evaluation")); got != num(byType["evaluation"]) {
		t.Errorf("type=evaluation lists %d, overview says %v", got, byType["evaluation"])
	}

	// Search: a license key fragment, case-insensitively.
	key := all[7]["licenseKey"].(string)
	found := allPages(t, e, user, id, "products", "includeExpired=true&q="+url.QueryEscape(strings.ToLower(key[4:])))
	if !slices.ContainsFunc(found, func(r map[string]any) bool { return r["licenseKey"] == key }) {
		t.Errorf("q=%s did not find %s", strings.ToLower(key[4:]), key)
	}
	org := all[0]["organizationId"].(string)
	for _, r := range allPages(t, e, user, id, "products", "includeExpired=true&organizationId="+org) {
		if r["organizationId"] != org {
			t.Errorf("organizationId=%s listed %v", org, r["organizationId"])
		}
	}
	if got := allPages(t, e, user, id, "products", "pinned=true"); len(got) != 0 {
		t.Errorf("pinned=true lists %d rows with no pins", len(got))
	}
	cloud := allPages(t, e, user, id, "cloud-services", "includeExpired=true")
	if len(cloud) != num(obj(overview["cloudServices"])["total"]) {
		t.Errorf("cloud list %d rows, overview %v", len(cloud), obj(overview["cloudServices"])["total"])
	}
	for _, r := range cloud {
		if _, ok := r["scanLimit"]; !ok {
			t.Error("cloud row without scanLimit")
		}
	}
}

func TestReportBelongsToPartner(t *testing.T) {
	t.Parallel()
	e := smallAPI(t)
	id, _ := reportID(t, e, "dist-1-admin", map[string]any{"all": true})
	// Another user of the same partner may page it.
	e.call("GET", "/v1/reports/"+id+"/products", "dist-1-viewer", nil).want(t, 200, "")
	for _, other := range []string{"dist-2-admin", "res-1-admin"} {
		e.call("GET", "/v1/reports/"+id+"/products", other, nil).want(t, 404, "not_found")
		e.call("GET", "/v1/reports/"+id+"/cloud-services", other, nil).want(t, 404, "not_found")
	}
	e.call("GET", "/v1/reports/aaaaaaaaaaaaaaaaaaaaaaaaaa/products", "dist-1-admin", nil).want(t, 404, "not_found")
	e.call("GET", "/v1/reports/not-an-id/products", "dist-1-admin", nil).want(t, 400, "invalid_request")
}

func TestResellerReport(t *testing.T) {
	t.Parallel()
	e := smallAPI(t)
	m := newModel(&e.doc, "org-res-1")
	id, _ := reportID(t, e, "res-1-viewer", map[string]any{"all": true})
	for _, list := range []string{"products", "cloud-services"} {
		rows := allPages(t, e, "res-1-viewer", id, list, "includeExpired=true")
		if len(rows) == 0 {
			t.Fatalf("reseller sees no %s", list)
		}
		for _, r := range rows {
			if !m.visible[r["organizationId"].(string)] {
				t.Errorf("reseller sees a license of %s", r["organizationId"])
			}
			if r["reseller"] != nil {
				t.Errorf("reseller row carries reseller %v", r["reseller"])
			}
		}
	}
	// And the distributor rows name the reseller.
	did, _ := reportID(t, e, "dist-1-viewer", map[string]any{"organizationIds": []string{"org-cust-001"}})
	named := 0
	for _, r := range allPages(t, e, "dist-1-viewer", did, "products", "includeExpired=true") {
		if r["reseller"] != nil {
			named++
		}
	}
	if res := deref(m.orgs["org-cust-001"].ResellerID); res != "" && named == 0 {
		t.Error("distributor rows of a customer sold through a reseller name no reseller")
	}
}

func TestReportRequestErrors(t *testing.T) {
	t.Parallel()
	e := smallAPI(t)
	user := "dist-1-viewer"
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("org-%d", i)
	}
	tests := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"no body", nil, 400, "invalid_request"},
		{"empty object", `{}`, 400, "invalid_request"},
		{"empty list", `{"organizationIds":[]}`, 400, "invalid_request"},
		{"both", `{"all":true,"organizationIds":["org-cust-001"]}`, 400, "invalid_request"},
		{"unknown field", `{"all":true,"sort":"name"}`, 400, "invalid_request"},
		{"wrong type", `{"organizationIds":"org-cust-001"}`, 400, "invalid_request"},
		{"malformed", `{"all":tru`, 400, "invalid_request"},
		{"two values", `{"all":true}{"all":true}`, 400, "invalid_request"},
		{"too many", map[string]any{"organizationIds": many}, 400, "invalid_request"},
		{"another distributor's customer", `{"organizationIds":["org-cust-001","` + firstOf(e, "org-dist-2") + `"]}`, 404, "not_found"},
		{"unknown organization", `{"organizationIds":["ghost"]}`, 404, "not_found"},
		{"too large", `{"all":true,"organizationIds":["` + strings.Repeat("x", 1<<20) + `"]}`, 413, "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.call("POST", "/v1/reports", user, tt.body).want(t, tt.status, tt.code)
		})
	}
	id, _ := reportID(t, e, user, map[string]any{"all": true})
	for _, q := range []string{"limit=0", "limit=1001", "cursor=garbage", "status=gone", "unknown=1", "pinned=maybe"} {
		e.call("GET", "/v1/reports/"+id+"/products?"+q, user, nil).want(t, 400, "invalid_request")
	}
	e.call("GET", "/v1/nothing-here", user, nil).want(t, 404, "not_found")
}

// firstOf returns a customer organization that only the given distributor sees.
func firstOf(e *env, partner string) string {
	m := newModel(&e.doc, partner)
	for _, o := range e.doc.Organizations {
		if m.visible[o.ID] {
			return o.ID
		}
	}
	return ""
}

func TestLicense(t *testing.T) {
	t.Parallel()
	e := smallAPI(t)
	m := newModel(&e.doc, "org-dist-1")
	var (
		shared, hidden, foreign string
		cloud                   string
	)
	for _, l := range e.doc.Licenses {
		visible := slices.ContainsFunc(l.OrganizationIDs, func(o string) bool { return m.visible[o] })
		switch {
		case l.ProductID == "metadefender-it-access" && visible && hidden == "":
			hidden = l.Key
		case !visible && foreign == "":
			foreign = l.Key
		case visible && len(l.OrganizationIDs) == 2 && m.visible[l.OrganizationIDs[0]] && m.visible[l.OrganizationIDs[1]] && shared == "" &&
			(deref(m.orgs[l.OrganizationIDs[1]].ParentID) == l.OrganizationIDs[0]):
			shared = l.Key
		case visible && l.ScanLimit != nil && cloud == "":
			cloud = l.Key
		}
	}
	if shared == "" || hidden == "" || foreign == "" || cloud == "" {
		t.Fatalf("the demo data lacks a case: shared %q hidden %q foreign %q cloud %q", shared, hidden, foreign, cloud)
	}
	r := e.call("GET", "/v1/licenses/"+shared, "dist-1-viewer", nil).want(t, 200, "")
	var sub string
	for _, l := range e.doc.Licenses {
		if l.Key == shared {
			sub = l.OrganizationIDs[1]
		}
	}
	if r.body["organizationId"] != sub {
		t.Errorf("license on main and sub shown under %v, want the sub-organization %s", r.body["organizationId"], sub)
	}
	if _, ok := r.body["deployments"].([]any); !ok {
		t.Errorf("deployments = %v, want a list", r.body["deployments"])
	}
	c := e.call("GET", "/v1/licenses/"+cloud, "dist-1-viewer", nil).want(t, 200, "")
	if deps, _ := c.body["deployments"].([]any); deps == nil || len(deps) != 0 {
		t.Errorf("cloud license deployments = %v, want []", c.body["deployments"])
	}
	// Hidden, foreign and missing licenses answer alike.
	for _, k := range []string{hidden, foreign, "NO-SUCH-KEY"} {
		got := e.call("GET", "/v1/licenses/"+k, "dist-1-viewer", nil).want(t, 404, "not_found")
		if msg := obj(got.body["error"])["message"].(string); !strings.Contains(msg, k) {
			t.Errorf("message %q does not name the key", msg)
		}
	}
	e.call("GET", "/v1/licenses/has%20space", "dist-1-viewer", nil).want(t, 400, "invalid_request")
}
