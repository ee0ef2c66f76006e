package dataset_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/partnerportal/licenses/shared/dataset"
)

// valid is a small document that breaks no rule; tests break one rule at a time.
const valid = `{
 "products": [
  {"id":"core","name":"MetaDefender Core","category":"on_prem","visibleToPartners":true},
  {"id":"cloud","name":"MetaDefender Cloud","category":"cloud_service"},
  {"id":"ita","name":"MetaDefender IT Access","category":"on_prem","visibleToPartners":false}],
 "organizations": [
  {"id":"d1","name":"Dist","type":"distributor","expiringWindowDays":45},
  {"id":"r1","name":"Res","type":"reseller"},
  {"id":"c1","name":"Cust","type":"customer","distributorId":"d1","resellerId":"r1"},
  {"id":"c1s","name":"Cust Sub","type":"customer","parentId":"c1","distributorId":null}],
 "roles": [{"id":"role1","organizationId":"d1","name":"Admin","permissions":{"license_management.customer_organizations":"full"}}],
 "users": [{"id":"u1","email":"u1@example.com","name":"U1","organizationId":"d1","roleIds":["role1"]}],
 "licenses": [
  {"key":"K1","productId":"core","organizationIds":["c1","c1s"],"type":"purchased","startDate":"2026-01-01","expirationDate":"2027-01-01","purchasedInstances":2,"customerNote":"=1+1"},
  {"key":"K2","productId":"cloud","organizationIds":["c1"],"type":"evaluation","startDate":"2026-01-01","expirationDate":"2026-02-01","scanLimit":1000,"scansUsed":null}],
 "deployments": [{"deploymentId":"dep1","licenseKey":"K1","name":"srv","activatedAt":"2026-01-02T10:00:00Z","lastSeenAt":null,"active":true}],
 "partnerNotes": [{"organizationId":"d1","licenseKey":"K1","text":"renewal\tcall","updatedBy":"u1","updatedAt":"2026-01-03T00:00:00Z"}]
}`

// modify decodes valid, lets f change it, and re-encodes it.
func modify(t *testing.T, f func(doc map[string]any)) string {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(valid), &doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func item(doc map[string]any, list string, i int) map[string]any {
	return doc[list].([]any)[i].(map[string]any)
}

func TestParseValid(t *testing.T) {
	ds, err := dataset.Parse(strings.NewReader(valid))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if got, want := len(ds.Licenses), 2; got != want {
		t.Errorf("licenses = %d, want %d", got, want)
	}
	if !ds.Products[1].VisibleToPartners {
		t.Error("a product without visibleToPartners should be visible")
	}
	if ds.Products[2].VisibleToPartners {
		t.Error("visibleToPartners false was lost")
	}
	if got := ds.Licenses[0].CustomerNote; got != "=1+1" {
		t.Errorf("customer note = %q", got)
	}
	if ds.Licenses[1].ScansUsed != nil {
		t.Error("null scansUsed should stay absent")
	}
	if !ds.Deployments[0].Active {
		t.Error("deployment should be active")
	}
}

func TestSellersInherit(t *testing.T) {
	ds, err := dataset.Parse(strings.NewReader(valid))
	if err != nil {
		t.Fatal(err)
	}
	dist, res := dataset.Sellers(mapOrgs(ds), "c1s")
	if dist != "d1" || res != "r1" {
		t.Errorf("Sellers(c1s) = %q, %q; want d1, r1 inherited from c1", dist, res)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		paths []string // every path that must be reported
	}{
		{"unknown product", modify(t, func(d map[string]any) { item(d, "licenses", 0)["productId"] = "nope" }), []string{"licenses[0].productId"}},
		{"license on unknown organization", modify(t, func(d map[string]any) { item(d, "licenses", 1)["organizationIds"] = []any{"c1", "ghost"} }), []string{"licenses[1].organizationIds[1]"}},
		{"license on a distributor", modify(t, func(d map[string]any) { item(d, "licenses", 1)["organizationIds"] = []any{"d1"} }), []string{"licenses[1].organizationIds[0]"}},
		{"bad date", modify(t, func(d map[string]any) { item(d, "licenses", 1)["expirationDate"] = "2026-02-30" }), []string{"licenses[1].expirationDate"}},
		{"timestamp for a date", modify(t, func(d map[string]any) { item(d, "licenses", 0)["startDate"] = "2026-01-01T00:00:00Z" }), []string{"licenses[0].startDate"}},
		{"expires before it starts", modify(t, func(d map[string]any) { item(d, "licenses", 0)["expirationDate"] = "2025-01-01" }), []string{"licenses[0].expirationDate"}},
		{"duplicate key", modify(t, func(d map[string]any) { item(d, "licenses", 1)["key"] = "K1" }), []string{"licenses[1].key"}},
		{"key with separator", modify(t, func(d map[string]any) { item(d, "licenses", 1)["key"] = "K#2" }), []string{"licenses[1].key"}},
		{"on-prem without instances", modify(t, func(d map[string]any) { delete(item(d, "licenses", 0), "purchasedInstances") }), []string{"licenses[0].purchasedInstances"}},
		{"cloud with instances", modify(t, func(d map[string]any) { item(d, "licenses", 1)["purchasedInstances"] = 3 }), []string{"licenses[1].purchasedInstances"}},
		{"negative scan limit", modify(t, func(d map[string]any) { item(d, "licenses", 1)["scanLimit"] = -1 }), []string{"licenses[1].scanLimit"}},
		{"bad type", modify(t, func(d map[string]any) { item(d, "licenses", 1)["type"] = "trial" }), []string{"licenses[1].type"}},
		{"bad category", modify(t, func(d map[string]any) { item(d, "products", 0)["category"] = "saas" }), []string{"products[0].category"}},
		{"parent is not a customer", modify(t, func(d map[string]any) { item(d, "organizations", 3)["parentId"] = "d1" }), []string{"organizations[3].parentId"}},
		{"parent cycle", modify(t, func(d map[string]any) { item(d, "organizations", 2)["parentId"] = "c1s" }), []string{"organizations[2].parentId", "organizations[3].parentId"}},
		{"reseller is a distributor", modify(t, func(d map[string]any) { item(d, "organizations", 2)["resellerId"] = "d1" }), []string{"organizations[2].resellerId"}},
		{"unknown mode", modify(t, func(d map[string]any) { d["mode"] = "partial" }), []string{"mode"}},
		{"removals in a full document", modify(t, func(d map[string]any) { d["removed"] = map[string]any{"licenses": []any{"K9"}} }), []string{"removed"}},
		{"unknown organization of a license", modify(t, func(d map[string]any) { item(d, "licenses", 0)["organizationIds"] = []any{"c9"} }), []string{"licenses[0].organizationIds[0]"}},
		{"unknown role", modify(t, func(d map[string]any) { item(d, "users", 0)["roleIds"] = []any{"ghost"} }), []string{"users[0].roleIds[0]"}},
		{"bad level", modify(t, func(d map[string]any) {
			item(d, "roles", 0)["permissions"] = map[string]any{"license_management.customer_organizations": "admin"}
		}), []string{`roles[0].permissions["license_management.customer_organizations"]`}},
		{"deployment of a cloud license", modify(t, func(d map[string]any) { item(d, "deployments", 0)["licenseKey"] = "K2" }), []string{"deployments[0].licenseKey"}},
		{"more active deployments than instances", modify(t, func(d map[string]any) {
			deps := d["deployments"].([]any)
			for _, id := range []string{"dep2", "dep3"} {
				deps = append(deps, map[string]any{"deploymentId": id, "licenseKey": "K1", "activatedAt": "2026-01-02T10:00:00Z"})
			}
			d["deployments"] = deps
		}), []string{"deployments[2].active"}},
		{"note too long", modify(t, func(d map[string]any) { item(d, "partnerNotes", 0)["text"] = strings.Repeat("é", 2001) }), []string{"partnerNotes[0].text"}},
		{"note with control character", modify(t, func(d map[string]any) { item(d, "partnerNotes", 0)["text"] = "a\x07b" }), []string{"partnerNotes[0].text"}},
		{"note of a customer", modify(t, func(d map[string]any) { item(d, "partnerNotes", 0)["organizationId"] = "c1" }), []string{"partnerNotes[0].organizationId"}},
		{"unknown field", modify(t, func(d map[string]any) { item(d, "licenses", 0)["expiryDate"] = "2026-01-01" }), []string{"$"}},
		{"not JSON", `{"products": [`, []string{"$"}},
		{"trailing data", valid + "{}", []string{"$"}},
		{"several problems at once", modify(t, func(d map[string]any) {
			item(d, "licenses", 0)["productId"] = "nope"
			item(d, "licenses", 1)["startDate"] = "yesterday"
			item(d, "users", 0)["organizationId"] = "ghost"
		}), []string{"licenses[0].productId", "licenses[1].startDate", "users[0].organizationId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := dataset.Parse(strings.NewReader(tt.doc))
			if ds != nil {
				t.Error("Parse returned a data set for a document that breaks a rule")
			}
			var problems dataset.Problems
			if !errors.As(err, &problems) {
				t.Fatalf("Parse error = %v, want Problems", err)
			}
			got := map[string]bool{}
			for _, p := range problems {
				got[p.Path] = true
				if p.Message == "" {
					t.Errorf("problem at %s has no message", p.Path)
				}
			}
			for _, path := range tt.paths {
				if !got[path] {
					t.Errorf("no problem reported at %s; got %v", path, problems)
				}
			}
		})
	}
}

// A customer with no distributor anywhere in its chain was sold directly by
// the vendor: valid data.
func TestParseDirectCustomer(t *testing.T) {
	doc := modify(t, func(d map[string]any) {
		delete(item(d, "organizations", 2), "distributorId")
		delete(item(d, "organizations", 2), "resellerId")
	})
	ds, err := dataset.Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("a direct customer is refused: %v", err)
	}
	if ds.Mode != dataset.Full {
		t.Errorf("mode = %q, want full by default", ds.Mode)
	}
}

// A delta may refer to what the table holds: those references are handed to
// the store to check, with their paths, instead of being refused here.
func TestParseDelta(t *testing.T) {
	const delta = `{"mode":"delta",
 "organizations":[{"id":"c2","name":"New","type":"customer","parentId":"c1"}],
 "licenses":[{"key":"K3","productId":"core","organizationIds":["c2","c7"],"type":"purchased","startDate":"2026-01-01","expirationDate":"2027-01-01","purchasedInstances":1}],
 "deployments":[{"deploymentId":"dep9","licenseKey":"K1","activatedAt":"2026-03-01T00:00:00Z"}],
 "removed":{"licenses":["K2"],"deployments":["K1/dep1","dep4"],"organizations":["c5"]}}`
	ds, err := dataset.Parse(strings.NewReader(delta))
	if err != nil {
		t.Fatalf("delta refused: %v", err)
	}
	got := map[string]dataset.Ref{}
	for _, r := range ds.Refs {
		got[r.Path] = r
	}
	for path, want := range map[string]dataset.Ref{
		"organizations[0].parentId":      {Kind: dataset.RefOrganization, ID: "c1", OrgType: "customer"},
		"licenses[0].productId":          {Kind: dataset.RefProduct, ID: "core"},
		"licenses[0].organizationIds[1]": {Kind: dataset.RefOrganization, ID: "c7", OrgType: "customer"},
		"deployments[0].licenseKey":      {Kind: dataset.RefLicense, ID: "K1"},
		"removed.licenses[0]":            {Kind: dataset.RefLicense, ID: "K2"},
		"removed.deployments[0]":         {Kind: dataset.RefDeployment, ID: "dep1", LicenseKey: "K1"},
		"removed.deployments[1]":         {Kind: dataset.RefDeployment, ID: "dep4"},
		"removed.organizations[0]":       {Kind: dataset.RefOrganization, ID: "c5", OrgType: "customer"},
	} {
		want.Path = path
		if got[path] != want {
			t.Errorf("ref at %s = %+v, want %+v", path, got[path], want)
		}
	}
	if ds.Mode != dataset.Delta || len(ds.Removed.Licenses) != 1 || len(ds.Removed.Deployments) != 2 || len(ds.Removed.Organizations) != 1 {
		t.Errorf("delta = mode %q, removed %+v", ds.Mode, ds.Removed)
	}
	// What the document itself gets wrong is still refused.
	bad := strings.Replace(delta, `"removed":{"licenses":["K2"]`, `"removed":{"licenses":["K3"]`, 1)
	if _, err := dataset.Parse(strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "removed.licenses[0]") {
		t.Errorf("a license both in the delta and removed: %v", err)
	}
}
