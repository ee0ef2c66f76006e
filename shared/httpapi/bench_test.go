package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"testing"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
)

// BenchmarkRequests serves the read endpoints for a distributor with 400
// customer organizations and 4,000 licenses and reports, per request, the
// DynamoDB requests made, items and KB read, and the CPU time in process:
// the figures that decide cost and latency on AWS, where each request is a
// round trip. Time per request depends on the emulator (make bench runs this
// on dynalite, in another process, so the CPU time is this process's own).
func BenchmarkRequests(b *testing.B) {
	cfg := demo.Small()
	cfg.Distributors, cfg.Resellers, cfg.Customers, cfg.Licenses = 1, 4, 400, 4000
	doc := demo.Generate(cfg, testToday)
	ds, err := dataset.Check(&doc)
	if err != nil {
		b.Fatal(err)
	}
	st := testenv.Store(b)
	if _, err := st.Import(context.Background(), ds, store.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	h := bareAPI(b, st).Handler(httpapi.Orgs, httpapi.Reports, httpapi.Licenses, httpapi.Pins)

	serve := func(b *testing.B, method, path string, body any) (int, map[string]any, *store.Stats) {
		var r io.Reader
		if body != nil {
			j, _ := json.Marshal(body)
			r = bytes.NewReader(j)
		}
		ctx, stats := store.WithStats(httpapi.WithSubject(context.Background(), "dist-1-viewer"))
		req := httptest.NewRequestWithContext(ctx, method, path, r)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out, stats
	}
	_, made, _ := serve(b, "POST", "/v1/reports", map[string]any{"all": true})
	reportID, _ := made["id"].(string)
	key := items(b, obj(made["products"])["items"])[0]["licenseKey"].(string)
	next, _ := obj(made["products"])["nextCursor"].(string)
	var orgs, scattered []string
	for _, o := range doc.Organizations {
		if o.Type == "customer" {
			orgs = append(orgs, o.ID)
		}
	}
	for i := 0; i < len(orgs); i += 8 {
		scattered = append(scattered, orgs[i])
	}

	// Two pins, far apart in the list, for the last case.
	_, last, _ := serve(b, "GET", "/v1/reports/"+reportID+"/products?includeExpired=true&organizationId="+orgs[len(orgs)-1], nil)
	pin := func(b *testing.B) {
		for _, k := range []string{key, items(b, last["items"])[0]["licenseKey"].(string)} {
			if status, out, _ := serve(b, "PUT", "/v1/pins/"+k, nil); status != 204 {
				b.Fatalf("pin %s: %d %v", k, status, out)
			}
		}
	}

	cases := []struct {
		name, method, path string
		body               any
		setup              func(*testing.B)
	}{
		{"me", "GET", "/v1/me", nil, nil},
		{"customer-organizations", "GET", "/v1/customer-organizations", nil, nil},
		{"report-all", "POST", "/v1/reports", map[string]any{"all": true}, nil},
		{"report-one-org", "POST", "/v1/reports", map[string]any{"organizationIds": orgs[:1]}, nil},
		{"report-50-scattered-orgs", "POST", "/v1/reports", map[string]any{"organizationIds": scattered}, nil},
		{"report-page-first", "GET", "/v1/reports/" + reportID + "/products", nil, nil},
		{"report-page-next", "GET", "/v1/reports/" + reportID + "/products?cursor=" + next, nil, nil},
		{"report-page-status", "GET", "/v1/reports/" + reportID + "/products?status=expiring", nil, nil},
		{"report-page-organization", "GET", "/v1/reports/" + reportID + "/products?organizationId=" + orgs[len(orgs)/2], nil, nil},
		{"report-page-filtered", "GET", "/v1/reports/" + reportID + "/products?status=expiring&q=core&limit=100", nil, nil},
		{"license", "GET", "/v1/licenses/" + key, nil, nil},
		{"history", "GET", "/v1/licenses/" + key + "/history", nil, nil},
		{"pins", "GET", "/v1/pins", nil, nil},
		// Last: the user's pins stay.
		{"report-page-first-2-pins", "GET", "/v1/reports/" + reportID + "/products", nil, pin},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if c.setup != nil {
				c.setup(b)
			}
			m := testenv.StartMeter()
			for i := 0; i < b.N; i++ {
				status, out, stats := serve(b, c.method, c.path, c.body)
				if status >= 300 {
					b.Fatalf("%s %s: %d %v", c.method, c.path, status, out)
				}
				m.Add(stats)
			}
			m.Report(b)
		})
	}
}
