package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
	"github.com/partnerportal/licenses/shared/workbook"
)

// BenchmarkRequests serves the read endpoints for a distributor with 400
// customer organizations and 4,000 licenses and reports, per request, the
// DynamoDB requests made, items and KB read, the longest chain of requests
// made one after another, and the CPU time in process: the figures that
// decide cost and latency on AWS, where each request is a round trip. Time
// per request depends on the emulator (make bench runs this on dynalite, in
// another process, so the CPU time is this process's own).
func BenchmarkRequests(b *testing.B) {
	cfg := demo.Small()
	cfg.Distributors, cfg.Resellers, cfg.Customers, cfg.Licenses = 1, 4, 400, 4000
	benchTenant(b, demo.Generate(cfg, testToday))
}

// BenchmarkLargeTenant loads the spec's large distributor (2,000 customer
// organizations, 100,000 licenses, 250,000 deployments) and one three times
// its size into the table, reporting the import's items, requests, items/s
// and peak heap, and then serves the read endpoints as BenchmarkRequests
// does. It needs a DynamoDB emulator that holds that much (make bench
// starts dynalite): the in-process one does not.
func BenchmarkLargeTenant(b *testing.B) {
	if os.Getenv(testenv.EndpointVariable) == "" {
		b.Skipf("%s is not set: make bench runs this on dynalite", testenv.EndpointVariable)
	}
	for _, size := range []struct {
		name     string
		factor   int
		licenses int
	}{{"100k", 1, 100_000}, {"300k", 3, 300_000}} {
		b.Run(size.name, func(b *testing.B) {
			cfg := demo.Large()
			cfg.Customers *= size.factor
			cfg.Licenses = size.licenses
			benchTenant(b, demo.Generate(cfg, testToday))
		})
	}
}

// cpuTime is the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakHeap samples the heap in use until stop is called, and returns its
// peak in MB.
func peakHeap() (stop func() float64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() float64 { close(done); return float64(peak.Load()) / (1 << 20) }
}

// benchTenant imports doc and benchmarks the endpoints as its first
// distributor's viewer sees them.
func benchTenant(b *testing.B, doc dataset.Document) {
	ds, err := dataset.Check(&doc)
	if err != nil {
		b.Fatal(err)
	}
	// From here on the checked data set alone is used, as the import
	// function keeps it: the document is garbage before the import's heap
	// is measured.
	runtime.GC()
	db := testenv.DynamoDB(b)
	st := store.New(db, testenv.Table(b, db))
	// The import is measured once, here; its figures are reported as
	// sub-benchmarks of their own.
	ctx, stats := store.WithStats(context.Background())
	stop := peakHeap()
	start, cpu := time.Now(), cpuTime()
	res, err := st.Import(ctx, ds, store.ImportOptions{Now: testToday.Time()})
	if err != nil {
		b.Fatal(err)
	}
	elapsed, cpuUsed, heap := time.Since(start), cpuTime()-cpu, stop()
	b.Run("import", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(heap, "heap-MB")
		b.ReportMetric(float64(res.Written), "items")
		b.ReportMetric(float64(stats.Requests.Load()), "ddb-requests")
		b.ReportMetric(float64(stats.BytesWritten.Load())/1000, "ddb-KB-written")
		b.ReportMetric(float64(stats.WriteUnits.Load()), "ddb-WRU")
		b.ReportMetric(float64(res.Written)/elapsed.Seconds(), "items/s")
		b.ReportMetric(elapsed.Seconds(), "s")
		b.ReportMetric(float64(cpuUsed.Milliseconds()), "cpu-ms")
	})
	ctx, stats = store.WithStats(context.Background())
	start = time.Now()
	again, err := st.Import(ctx, ds, store.ImportOptions{Now: testToday.Time()})
	if err != nil {
		b.Fatal(err)
	}
	elapsed = time.Since(start)
	b.Run("reimport", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(float64(again.Written), "items")
		b.ReportMetric(float64(stats.Requests.Load()), "ddb-requests")
		b.ReportMetric(float64(stats.ItemsRead.Load()), "ddb-items-read")
		b.ReportMetric(stats.ReadUnits(), "ddb-RRU")
		b.ReportMetric(elapsed.Seconds(), "s")
	})
	h := exportingAPI(b, st).Handler(httpapi.Orgs, httpapi.Reports, httpapi.Licenses, httpapi.Pins, httpapi.Exports)
	var user, partner string
	for _, o := range ds.Organizations {
		if o.Type == access.OrgDistributor {
			partner = o.ID
			break
		}
	}
	for _, u := range ds.Users {
		if u.OrganizationID == partner {
			user = u.ID
			break
		}
	}
	var orgs, scattered []string
	for _, o := range ds.Organizations {
		if o.Type == access.OrgCustomer {
			orgs = append(orgs, o.ID)
		}
	}
	// The requests run as in a function of their own: without the data set
	// in the heap, whose scanning would count in their CPU time.
	ds = nil
	runtime.GC()
	serve := func(b *testing.B, method, path string, body any) (map[string]any, *store.Stats) {
		var r io.Reader
		if body != nil {
			j, _ := json.Marshal(body)
			r = bytes.NewReader(j)
		}
		ctx, stats := store.WithStats(httpapi.WithSubject(context.Background(), user))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, method, path, r))
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if rec.Code >= 300 {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return out, stats
	}
	made, _ := serve(b, "POST", "/v1/reports", map[string]any{"all": true})
	reportID, _ := made["id"].(string)
	key := items(b, obj(made["products"])["items"])[0]["licenseKey"].(string)
	next, _ := obj(made["products"])["nextCursor"].(string)
	for i := 0; i < len(orgs) && len(scattered) < 50; i += max(1, len(orgs)/50) {
		scattered = append(scattered, orgs[i])
	}

	// Two pins, far apart in the list, for the last case.
	last, _ := serve(b, "GET", "/v1/reports/"+reportID+"/products?includeExpired=true&organizationId="+orgs[len(orgs)-1], nil)
	pin := func(b *testing.B) {
		for _, k := range []string{key, items(b, last["items"])[0]["licenseKey"].(string)} {
			serve(b, "PUT", "/v1/pins/"+k, nil)
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
		{"report-page-search", "GET", "/v1/reports/" + reportID + "/products?q=core&limit=100", nil, nil},
		{"license", "GET", "/v1/licenses/" + key, nil, nil},
		{"history", "GET", "/v1/licenses/" + key + "/history", nil, nil},
		{"pins", "GET", "/v1/pins", nil, nil},
		// Last: the user's pins stay.
		{"report-page-first-2-pins", "GET", "/v1/reports/" + reportID + "/products", nil, pin},
		// The whole export in this request (the Lambda function finishes a
		// large one in an invocation of its own, with the same work).
		{"export-all", "POST", "/v1/exports", map[string]any{"all": true}, nil},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if c.setup != nil {
				c.setup(b)
			}
			m := testenv.StartMeter()
			stop := peakHeap()
			for i := 0; i < b.N; i++ {
				_, stats := serve(b, c.method, c.path, c.body)
				m.Add(stats)
			}
			heap := stop()
			m.Report(b)
			if c.path == "/v1/exports" && os.Getenv(testenv.S3EndpointVariable) != "" {
				b.ReportMetric(heap, "heap-MB")
			}
		})
	}
	// The export again, with the memory limit the template gives the export
	// functions: the garbage collector's work under it shows in cpu-ms.
	b.Run("export-all-"+exportMemoryLimit, func(b *testing.B) {
		limit, err := memoryLimit(exportMemoryLimit)
		if err != nil {
			b.Fatal(err)
		}
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
		runtime.GC()
		m := testenv.StartMeter()
		stop := peakHeap()
		for i := 0; i < b.N; i++ {
			_, stats := serve(b, "POST", "/v1/exports", map[string]any{"all": true})
			m.Add(stats)
		}
		heap := stop()
		m.Report(b)
		if os.Getenv(testenv.S3EndpointVariable) != "" {
			b.ReportMetric(heap, "heap-MB")
		}
	})
}

// exportMemoryLimit is the GOMEMLIMIT that template.yaml gives the export
// functions.
const exportMemoryLimit = config.ExportMemoryLimit

// memoryLimit reads a GOMEMLIMIT=<n>MiB setting.
func memoryLimit(setting string) (int64, error) {
	var mib int64
	if _, err := fmt.Sscanf(setting, "GOMEMLIMIT=%dMiB", &mib); err != nil {
		return 0, fmt.Errorf("%s: %w", setting, err)
	}
	return mib << 20, nil
}

// exportingAPI is bareAPI with exports, finished in the request whatever
// their size, into a bucket of versitygw when make bench started it (so
// that the files are not in this process's heap), or of the in-process S3.
func exportingAPI(tb testing.TB, st *store.Store) *httpapi.API {
	tb.Helper()
	var (
		client *s3.Client
		bucket = "bench-exports"
	)
	if os.Getenv(testenv.S3EndpointVariable) != "" {
		client, bucket = testenv.SigningS3(tb)
	} else {
		client = testenv.S3(tb, bucket)
	}
	files, err := workbook.NewFiles(client, s3.NewPresignClient(client), bucket, 15*time.Minute, time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := portal.New(st, portal.Config{ExpiringWindow: license.DefaultExpiringWindow, Now: time.Now,
		Today: func() license.Date { return testToday }, Log: quiet,
		Exports: &portal.ExportConfig{Files: files, Retention: 7 * 24 * time.Hour, SyncLimit: 1 << 30}})
	if err != nil {
		tb.Fatal(err)
	}
	api, err := httpapi.New(svc, httpapi.Config{Log: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	return api
}
