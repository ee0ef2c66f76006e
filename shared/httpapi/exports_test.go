package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/xuri/excelize/v2"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/testenv"
)

// download fetches a presigned link with a plain HTTP client, as a browser
// would, and opens the workbook.
func download(t *testing.T, url string) *excelize.File {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("download: status %d: %s", res.StatusCode, body)
	}
	f, err := excelize.OpenReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the download is not a workbook: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func rows(t *testing.T, f *excelize.File, sheet string) [][]string {
	t.Helper()
	r, err := f.GetRows(sheet)
	if err != nil {
		t.Fatalf("sheet %s: %v", sheet, err)
	}
	return r
}

// The Must-show: a full user creates an export and opens the downloaded
// file, whose rows match the report.
func TestExportMatchesReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t, smallDoc())
	user := "dist-1-admin"
	rep := e.call("POST", "/v1/reports", user, map[string]any{"all": true}).want(t, 201, "")
	overview := obj(rep.body["overview"])
	made := e.call("POST", "/v1/exports", user, map[string]any{"all": true}).want(t, 201, "")
	if made.body["status"] != "ready" || made.body["url"] == nil || made.body["expiresAt"] == nil {
		t.Fatalf("export = %s", made.raw)
	}
	expires, _ := time.Parse(time.RFC3339, made.body["expiresAt"].(string))
	if d := expires.Sub(e.now); d < 14*time.Minute || d > 15*time.Minute {
		t.Errorf("link expires in %s, want 15 minutes", d)
	}
	f := download(t, made.body["url"].(string))
	if got := strings.Join(f.GetSheetList(), ","); got != "Licenses,Cloud Services,Active Deployments" {
		t.Errorf("sheets = %s", got)
	}

	// Every license of the selection, expired ones too, one row each, in
	// the report's order.
	id := rep.body["id"].(string)
	for _, c := range []struct{ sheet, list, summary string }{
		{"Licenses", "products", "products"}, {"Cloud Services", "cloud-services", "cloudServices"},
	} {
		want := allPages(t, e, user, id, c.list, "includeExpired=true&limit=1000")
		got := rows(t, f, c.sheet)[1:]
		if len(got) != len(want) || len(got) != num(obj(overview[c.summary])["total"]) {
			t.Fatalf("%s has %d rows, the report %d, its overview %v", c.sheet, len(got), len(want), obj(overview[c.summary])["total"])
		}
		for i := range want {
			if got[i][4] != want[i]["licenseKey"] || got[i][1] != want[i]["organizationId"] || got[i][5] != want[i]["status"] {
				t.Fatalf("%s row %d = %v, report row %v", c.sheet, i+2, got[i][:6], want[i])
			}
		}
	}
	deployments := rows(t, f, "Active Deployments")[1:]
	if want := num(obj(overview["products"])["deployed"]); len(deployments) != want {
		t.Errorf("%d active deployments, the overview says %d deployed", len(deployments), want)
	}
	if counts := obj(made.body["counts"]); num(counts["licenses"]) != num(obj(overview["products"])["total"]) ||
		num(counts["activeDeployments"]) != len(deployments) {
		t.Errorf("counts = %v", counts)
	}

	// Types: dates and numbers are numbers; notes that look like formulas
	// stay text.
	for _, cell := range []string{"H2", "I2", "J2", "K2"} {
		if typ, _ := f.GetCellType("Licenses", cell); typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("Licenses!%s is text, want a number", cell)
		}
	}
	formulas := 0
	for r, row := range rows(t, f, "Licenses") {
		if len(row) > 11 && strings.HasPrefix(row[11], "=") {
			formulas++
			cell := fmt.Sprintf("L%d", r+1)
			if fm, _ := f.GetCellFormula("Licenses", cell); fm != "" {
				t.Errorf("%s holds formula %q", cell, fm)
			}
		}
	}
	if formulas == 0 {
		t.Error("the test data has no customer note that starts with '=': formula safety is untested")
	}
}

// smallDoc is the smaller demo-shaped data set.
func smallDoc() dataset.Document { return smallEnv.doc() }

func TestExportAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	e.call("POST", "/v1/exports", "d1-viewer", `{"all":true}`).want(t, 403, "forbidden")
	e.call("POST", "/v1/exports", "d1-admin", `{"organizationIds":["c2"]}`).want(t, 404, "not_found")
	e.call("POST", "/v1/exports", "d1-admin", `{"all":true,"format":"csv"}`).want(t, 400, "invalid_request")
	made := e.call("POST", "/v1/exports", "d1-admin", `{"organizationIds":["c1s","c1","c1s"]}`).want(t, 201, "")
	id := made.body["id"].(string)
	if ids := made.body["organizationIds"].([]any); len(ids) != 2 {
		t.Errorf("organizationIds = %v, want the two distinct ids", ids)
	}

	// A read user sees the export, without a link.
	list := items(t, e.call("GET", "/v1/exports", "d1-viewer", nil).want(t, 200, "").body["items"])
	if len(list) != 1 || list[0]["id"] != id || list[0]["url"] != nil || list[0]["status"] != "ready" {
		t.Errorf("read user's list = %v", list)
	}
	if one := e.call("GET", "/v1/exports/"+id, "d1-viewer", nil).want(t, 200, ""); one.body["url"] != nil {
		t.Errorf("read user got a link: %s", one.raw)
	}
	// A full user gets a fresh link at every read. Links are signed with
	// the real clock, whose resolution is a second.
	first := e.call("GET", "/v1/exports/"+id, "d1-admin", nil).want(t, 200, "").body["url"].(string)
	time.Sleep(1100 * time.Millisecond)
	second := e.call("GET", "/v1/exports/"+id, "d1-admin", nil).want(t, 200, "").body["url"].(string)
	if first == second {
		t.Error("two reads a second apart gave the same link")
	}
	download(t, second)

	// Another partner cannot see it, nor list it.
	e.call("GET", "/v1/exports/"+id, "d2-admin", nil).want(t, 404, "not_found")
	if list := items(t, e.call("GET", "/v1/exports", "d2-admin", nil).want(t, 200, "").body["items"]); len(list) != 0 {
		t.Errorf("another partner lists %v", list)
	}
	e.call("GET", "/v1/exports/not-an-id", "d1-admin", nil).want(t, 400, "invalid_request")

	// Past its retention it is gone.
	e.now = e.now.Add(8 * 24 * time.Hour)
	e.call("GET", "/v1/exports/"+id, "d1-admin", nil).want(t, 404, "not_found")
}

// A selection larger than the sync limit answers 202 and finishes apart;
// its status then says ready.
func TestExportAsync(t *testing.T) {
	t.Parallel()
	st := testenv.Store(t)
	finisher := &recordingFinisher{}
	e := newEnvOn(t, st, actionsDoc(t), func(c *portal.ExportConfig) { c.SyncLimit, c.Finisher = 1, finisher })
	made := e.call("POST", "/v1/exports", "d1-admin", `{"all":true}`).want(t, 202, "")
	id := made.body["id"].(string)
	if made.body["status"] != "pending" {
		t.Fatalf("status = %v", made.body["status"])
	}
	if got := e.call("GET", "/v1/exports/"+id, "d1-admin", nil).want(t, 200, ""); got.body["status"] != "pending" || got.body["url"] != nil {
		t.Errorf("before it is finished: %s", got.raw)
	}
	// What the asynchronous invocation does:
	finisher.runAll(t, e.portal)
	done := e.call("GET", "/v1/exports/"+id, "d1-admin", nil).want(t, 200, "")
	if done.body["status"] != "ready" || done.body["url"] == nil {
		t.Fatalf("after finishing: %s", done.raw)
	}
	download(t, done.body["url"].(string))
	// A repeated invocation does nothing more.
	finisher.runAll(t, e.portal)
	if list := items(t, e.call("GET", "/v1/exports", "d1-admin", nil).body["items"]); len(list) != 1 {
		t.Errorf("%d exports, want 1", len(list))
	}
}

// recordingFinisher keeps the exports handed to it, as Lambda's queue of
// asynchronous invocations does, until the test runs them.
type recordingFinisher struct {
	mu   sync.Mutex
	jobs [][2]string
}

func (r *recordingFinisher) Finish(_ context.Context, partnerID, exportID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, [2]string{partnerID, exportID})
	return nil
}

func (r *recordingFinisher) runAll(t *testing.T, svc *portal.Service) {
	t.Helper()
	r.mu.Lock()
	jobs := r.jobs
	r.mu.Unlock()
	for _, j := range jobs {
		if _, err := svc.FinishExport(context.Background(), j[0], j[1]); err != nil {
			t.Fatalf("finish %s: %v", j[1], err)
		}
	}
}

// An export that cannot be written says so, with a reason, and the request
// that made it gets a generic 500.
func TestExportFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	if _, err := e.s3.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: ptr(testBucket)}); err != nil {
		t.Fatal(err)
	}
	r := e.call("POST", "/v1/exports", "d1-admin", `{"all":true}`).want(t, 500, "internal")
	if msg := obj(r.body["error"])["message"].(string); strings.Contains(msg, "bucket") || strings.Contains(msg, "S3") {
		t.Errorf("the 500 shows internals: %q", msg)
	}
	list := items(t, e.call("GET", "/v1/exports", "d1-admin", nil).want(t, 200, "").body["items"])
	if len(list) != 1 || list[0]["status"] != "failed" || list[0]["reason"] == nil || list[0]["url"] != nil {
		t.Errorf("failed export = %v", list)
	}
}

func ptr[T any](v T) *T { return &v }

func TestSubscriptions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	path := "/v1/report-subscriptions/weekly-c1"
	e.call("PUT", path, "d1-viewer", `{"frequency":"weekly","all":true}`).want(t, 403, "forbidden")
	e.call("GET", "/v1/report-subscriptions", "d1-viewer", nil).want(t, 403, "forbidden")
	for _, bad := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"frequency":"hourly","all":true}`, 400, "invalid_request"},
		{`{"frequency":"weekly"}`, 400, "invalid_request"},
		{`{"frequency":"weekly","all":true,"day":"monday"}`, 400, "invalid_request"},
		{`{"frequency":"weekly","organizationIds":["c2"]}`, 404, "not_found"},
	} {
		e.call("PUT", path, "d1-admin", bad.body).want(t, bad.status, bad.code)
	}
	e.call("PUT", "/v1/report-subscriptions/bad%20id", "d1-admin", `{"frequency":"weekly","all":true}`).want(t, 400, "invalid_request")

	created := e.call("PUT", path, "d1-admin", `{"frequency":"weekly","organizationIds":["c1"]}`).want(t, 201, "")
	e.now = e.now.Add(time.Minute)
	changed := e.call("PUT", path, "d1-admin2", `{"frequency":"monthly","all":true}`).want(t, 200, "")
	if changed.body["frequency"] != "monthly" || changed.body["all"] != true || changed.body["createdAt"] != created.body["createdAt"] ||
		changed.body["createdBy"] != "d1-admin" || changed.body["updatedAt"] == created.body["updatedAt"] {
		t.Errorf("replaced subscription = %s (was %s)", changed.raw, created.raw)
	}
	list := items(t, e.call("GET", "/v1/report-subscriptions", "d1-admin", nil).want(t, 200, "").body["items"])
	if len(list) != 1 || list[0]["id"] != "weekly-c1" {
		t.Errorf("list = %v", list)
	}
	e.call("GET", path, "d2-admin", nil).want(t, 404, "not_found")
	if other := items(t, e.call("GET", "/v1/report-subscriptions", "d2-admin", nil).body["items"]); len(other) != 0 {
		t.Errorf("another partner lists %v", other)
	}
	e.call("DELETE", path, "d1-admin", nil).want(t, 204, "")
	e.call("DELETE", path, "d1-admin", nil).want(t, 204, "")
	e.call("GET", path, "d1-admin", nil).want(t, 404, "not_found")
}

// The Must-show: scheduled runs at the same time twice make one export; so do
// concurrent runs, and a run in the next period makes the next one.
func TestScheduledReportsTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	e.call("PUT", "/v1/report-subscriptions/daily", "d1-admin", `{"frequency":"daily","all":true}`).want(t, 201, "")
	e.call("PUT", "/v1/report-subscriptions/weekly", "r1-admin", `{"frequency":"weekly","organizationIds":["c1"]}`).want(t, 201, "")
	run := func(at time.Time) []string {
		t.Helper()
		ids, err := e.portal.RunSchedule(context.Background(), at)
		if err != nil {
			t.Fatalf("run at %s: %v", at, err)
		}
		return ids
	}
	at := e.now.Add(time.Hour)
	if ids := run(at); len(ids) != 2 {
		t.Fatalf("first run made %v, want one export per subscription", ids)
	}
	if ids := run(at); len(ids) != 0 {
		t.Errorf("the same run again made %v", ids)
	}
	if ids := run(at.Add(time.Hour)); len(ids) != 0 {
		t.Errorf("a run later the same day made %v", ids)
	}

	// Ten concurrent runs on the next day make one export.
	var (
		mu   sync.Mutex
		made []string
		wg   sync.WaitGroup
	)
	next := at.Add(24 * time.Hour)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids, err := e.portal.RunSchedule(context.Background(), next)
			if err != nil {
				t.Errorf("concurrent run: %v", err)
			}
			mu.Lock()
			made = append(made, ids...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(made) != 1 {
		t.Errorf("ten concurrent runs on the next day made %v, want one export (the daily one)", made)
	}

	list := items(t, e.call("GET", "/v1/exports", "d1-admin", nil).want(t, 200, "").body["items"])
	if len(list) != 2 {
		t.Fatalf("distributor lists %d exports, want 2 daily ones", len(list))
	}
	for _, x := range list {
		if x["trigger"] != "scheduled" || x["subscriptionId"] != "daily" || x["status"] != "ready" || x["url"] == nil {
			t.Errorf("scheduled export = %v", x)
		}
	}
	if res := items(t, e.call("GET", "/v1/exports", "r1-admin", nil).body["items"]); len(res) != 1 || res[0]["subscriptionId"] != "weekly" {
		t.Errorf("reseller's exports = %v", res)
	}
	// A deleted subscription makes no more exports.
	e.call("DELETE", "/v1/report-subscriptions/daily", "d1-admin", nil).want(t, 204, "")
	if ids := run(at.Add(48 * time.Hour)); len(ids) != 0 {
		t.Errorf("after deletion a run made %v", ids)
	}
}
