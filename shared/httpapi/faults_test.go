package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/mail/render"
	"github.com/partnerportal/licenses/shared/mail/ses"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
	"github.com/partnerportal/licenses/shared/workbook"
)

// faultEnv is an env whose DynamoDB and S3 clients (and SES's, with mail)
// go through one testenv.Faults, with the SDK's standard retries as the
// functions have them; raw reads the table past the faults.
type faultEnv struct {
	*env
	faults *testenv.Faults
	raw    *dynamodb.Client
	table  string
	mail   *mailEnv
}

func newFaultEnv(t *testing.T, doc dataset.Document, withMail bool) *faultEnv {
	t.Helper()
	f := &faultEnv{faults: testenv.NewFaults(13)}
	db := testenv.DynamoDB(t, func(o *dynamodb.Options) { o.HTTPClient = f.faults.Client() })
	f.raw = dynamodb.New(db.Options(), func(o *dynamodb.Options) { o.HTTPClient = http.DefaultClient })
	f.table = testenv.Table(t, db)
	objects := testenv.S3(t, testBucket, func(o *s3.Options) { o.HTTPClient = f.faults.Client() })
	m := &mailEnv{clock: &clock{t: testToday.Time().Add(7 * time.Hour)}}
	if withMail {
		m.ses = testenv.NewSES(t, func(o *sesv2.Options) { o.HTTPClient = f.faults.Client() })
	}
	f.env = newEnvWith(t, store.New(db, f.table), doc, func(cfg *portal.Config) {
		files, err := workbook.NewFiles(objects, s3.NewPresignClient(objects), testBucket, 15*time.Minute, cfg.Now)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Exports.Files = files
		if withMail {
			cfg.Now = m.clock.now
			cfg.Mail = &portal.MailConfig{Sender: ses.Sender{Client: m.ses.Client}, Renderer: render.Templates{},
				From: m.ses.From, PortalURL: testPortal}
		}
	})
	m.env = f.env
	f.mail = m
	return f
}

// items returns every item of the table, each as canonical JSON, sorted:
// what a write changed, to the byte.
func (f *faultEnv) items(t *testing.T) []string {
	t.Helper()
	var out []string
	p := dynamodb.NewScanPaginator(f.raw, &dynamodb.ScanInput{TableName: &f.table, ConsistentRead: new(bool)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		for _, item := range page.Items {
			var m map[string]any
			if err := attributevalue.UnmarshalMap(item, &m); err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(m) // map keys sorted
			out = append(out, string(b))
		}
	}
	slices.Sort(out)
	return out
}

// wantUnavailable fails the test unless r is the API's 503 with Retry-After.
func wantUnavailable(t *testing.T, r response) {
	t.Helper()
	r.want(t, http.StatusServiceUnavailable, "unavailable")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("a 503 without Retry-After: %v", r.header)
	}
}

// diff describes how two lists of items differ.
func diff(before, after []string) string {
	var s string
	for _, x := range after {
		if !slices.Contains(before, x) {
			s += "+ " + x + "\n"
		}
	}
	for _, x := range before {
		if !slices.Contains(after, x) {
			s += "- " + x + "\n"
		}
	}
	return s
}

// subtest is a named subtest for runAll.
type subtest struct {
	name string
	fn   func(*testing.T)
}

// runAll runs the subtests at once. They mostly wait on the SDK's backoff
// (a throttled request is retried after up to 1, 2 and 4 s), so they do not
// wait for the slots of -parallel (GOMAXPROCS, 2 here) as well.
func runAll(t *testing.T, tests []subtest) {
	t.Helper()
	var wg sync.WaitGroup
	for _, st := range tests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(st.name, st.fn)
		}()
	}
	wg.Wait()
}

// faultRequest is a representative request and the operation of a service
// it needs.
type faultRequest struct {
	name, method, path, user string
	body                     any
	service, operation       string // what the fault hits
	write                    bool   // the route writes: the table must be as before
}

var faultRequests = []faultRequest{
	{"me", "GET", "/v1/me", "d1-viewer", nil, testenv.DynamoDBService, "", false},
	{"license", "GET", "/v1/licenses/FREE-10", "d1-viewer", nil, testenv.DynamoDBService, "Query,BatchGetItem", false},
	{"history", "GET", "/v1/licenses/FREE-10/history", "d1-viewer", nil, testenv.DynamoDBService, "Query", false},
	{"report", "POST", "/v1/reports", "d1-viewer", map[string]any{"all": true}, testenv.DynamoDBService, "PutItem,BatchWriteItem", false},
	{"activate", "POST", "/v1/licenses/FREE-10/activations", "d1-viewer", map[string]string{"deploymentId": "f-1"}, testenv.DynamoDBService, "TransactWriteItems", true},
	{"deactivate", "DELETE", "/v1/licenses/FULL-1/activations/old-srv", "d1-viewer", nil, testenv.DynamoDBService, "TransactWriteItems", true},
	{"note", "PUT", "/v1/licenses/FREE-10/partner-note", "d1-admin", map[string]any{"text": "n", "version": 0}, testenv.DynamoDBService, "TransactWriteItems", true},
	{"pin", "PUT", "/v1/pins/FREE-10", "d1-admin", nil, testenv.DynamoDBService, "PutItem", true},
	{"subscription", "PUT", "/v1/report-subscriptions/weekly", "d1-admin", map[string]any{"frequency": "weekly", "all": true}, testenv.DynamoDBService, "PutItem", true},
	{"export", "POST", "/v1/exports", "d1-admin", map[string]any{"all": true}, testenv.S3Service, "PutObject", false},
}

var persistentFaults = []testenv.Fault{testenv.Throttle, testenv.ThroughputExceeded, testenv.ServerError, testenv.Timeout, testenv.Drop}

// The Deliver: throttling, 500s, time-outs and dropped connections from
// DynamoDB and S3 that outlast the SDK's retries answer 503 with
// Retry-After, and a write they stop leaves the table as it was; the same
// request succeeds once the service is back.
func TestFaultsAnswerUnavailable(t *testing.T) {
	t.Parallel()
	var tests []subtest
	for _, fault := range persistentFaults {
		for _, rq := range faultRequests {
			if rq.service == testenv.S3Service && fault == testenv.ThroughputExceeded {
				continue // DynamoDB's own
			}
			tests = append(tests, subtest{fault.String() + "/" + rq.name, func(t *testing.T) {
				f := newFaultEnv(t, actionsDoc(t), false)
				before := f.items(t)
				f.faults.Add(testenv.Rule{Fault: fault, Service: rq.service, Operation: rq.operation})
				wantUnavailable(t, f.call(rq.method, rq.path, rq.user, rq.body))
				// Every attempt the SDK makes hits the fault: it retried.
				if n := f.faults.Injected(rq.service); n < 3 {
					t.Errorf("%d requests failed, want the SDK's attempts (3 or more)", n)
				}
				f.faults.Clear()
				if after := f.items(t); rq.write && !slices.Equal(before, after) {
					t.Errorf("a write that failed changed the table:\n%s", diff(before, after))
				}
				if r := f.call(rq.method, rq.path, rq.user, rq.body); r.status >= 300 {
					t.Errorf("once the service is back: %d %s", r.status, r.raw)
				}
			}})
		}
	}
	runAll(t, tests)
}

// Faults that pass within the SDK's attempts are retried away: the answer
// is the one without faults.
func TestTransientFaultsAreRetriedAway(t *testing.T) {
	t.Parallel()
	var tests []subtest
	for _, fault := range persistentFaults {
		for _, rq := range faultRequests {
			if rq.service == testenv.S3Service && fault == testenv.ThroughputExceeded {
				continue
			}
			tests = append(tests, subtest{fault.String() + "/" + rq.name, func(t *testing.T) {
				f := newFaultEnv(t, actionsDoc(t), false)
				f.faults.Add(testenv.Rule{Fault: fault, Service: rq.service, Operation: rq.operation, Times: 2})
				r := f.call(rq.method, rq.path, rq.user, rq.body)
				if r.status >= 300 {
					t.Fatalf("two faults, then the service answers: %d %s", r.status, r.raw)
				}
				if n := f.faults.Injected(rq.service); n != 2 {
					t.Errorf("%d requests failed, want 2", n)
				}
			}})
		}
	}
	runAll(t, tests)
}

// A write whose answer is lost after DynamoDB committed it (a time-out or a
// dropped connection after the request, the SDK retrying it) is there
// whole or not at all: the license and its copies agree.
func TestLostAnswersLeaveWholeWritesTx(t *testing.T) {
	t.Parallel()
	var tests []subtest
	for _, fault := range []testenv.Fault{testenv.Timeout, testenv.Drop} {
		for _, rq := range faultRequests {
			if !rq.write || rq.operation != "TransactWriteItems" {
				continue
			}
			tests = append(tests, subtest{fault.String() + "/" + rq.name, func(t *testing.T) {
				f := newFaultEnv(t, actionsDoc(t), false)
				before := f.state(t)
				f.faults.Add(testenv.Rule{Fault: fault, After: true, Service: rq.service, Operation: rq.operation, Times: 1})
				r := f.call(rq.method, rq.path, rq.user, rq.body)
				got := f.state(t)
				clean := newFaultEnv(t, actionsDoc(t), false)
				clean.call(rq.method, rq.path, rq.user, rq.body)
				if want := clean.state(t); got != want && got != before {
					t.Errorf("answer %d %s; state:\n%swant all of the write:\n%sor none:\n%s", r.status, r.raw, got, want, before)
				}
			}})
		}
	}
	runAll(t, tests)
}

// An export whose workbook cannot be written (S3 fails past the retries)
// is failed, never ready; one whose outcome cannot be recorded (DynamoDB
// fails after the workbook is written) stays pending, never ready, and the
// schedule's retry finishes it.
func TestExportFailingHalfWayIsNeverReady(t *testing.T) {
	t.Parallel()
	var tests []subtest
	status := func(f *faultEnv, id string) string {
		return f.call("GET", "/v1/exports/"+id, "d1-admin", nil).want(f.t, 200, "").body["status"].(string)
	}
	only := func(t *testing.T, f *faultEnv) map[string]any {
		t.Helper()
		list := items(t, f.call("GET", "/v1/exports", "d1-admin", nil).want(t, 200, "").body["items"])
		if len(list) != 1 {
			t.Fatalf("exports = %v, want the one", list)
		}
		return list[0]
	}
	for _, fault := range persistentFaults {
		tests = append(tests, subtest{"S3 " + fault.String(), func(t *testing.T) {
			f := newFaultEnv(t, actionsDoc(t), false)
			f.faults.Add(testenv.Rule{Fault: fault, Service: testenv.S3Service, Operation: "PutObject"})
			wantUnavailable(t, f.call("POST", "/v1/exports", "d1-admin", `{"all":true}`))
			f.faults.Clear()
			if x := only(t, f); x["status"] != "failed" || x["url"] != nil {
				t.Errorf("the export whose workbook was not written: %v", x)
			}
		}})
		tests = append(tests, subtest{"DynamoDB " + fault.String(), func(t *testing.T) {
			f := newFaultEnv(t, actionsDoc(t), false)
			// The export's first PutItem creates it; every later one (its
			// outcome, ready or failed) fails.
			f.faults.Add(testenv.Rule{Fault: fault, Service: testenv.DynamoDBService, Operation: "PutItem", Nth: []int{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}})
			wantUnavailable(t, f.call("POST", "/v1/exports", "d1-admin", `{"all":true}`))
			if n := f.faults.Requests("S3.PutObject"); n != 1 {
				t.Errorf("%d workbooks written, want 1: the fault is after it", n)
			}
			f.faults.Clear()
			x := only(t, f)
			if x["status"] != "pending" || x["url"] != nil {
				t.Fatalf("the export whose outcome was not recorded: %v", x)
			}
			if _, err := f.portal.FinishExport(context.Background(), "d1", x["id"].(string)); err != nil {
				t.Fatal(err)
			}
			if got := status(f, x["id"].(string)); got != "ready" {
				t.Errorf("after the retry: %s", got)
			}
		}})
	}
	runAll(t, tests)
}

// A digest or a scheduled report's notice whose send fails past the SDK's
// retries (SES throttles, fails, times out or drops the connection) is
// never recorded as sent, and the next run sends it, once.
func TestMailFailingIsNeverSent(t *testing.T) {
	t.Parallel()
	var tests []subtest
	for _, fault := range []testenv.Fault{testenv.Throttle, testenv.ServerError, testenv.Timeout, testenv.Drop} {
		tests = append(tests, subtest{"digest " + fault.String(), func(t *testing.T) {
			f := newFaultEnv(t, notifyDoc(t), true)
			m := f.mail
			m.enable(t, "d1-admin", []string{"ops@d1.example"}, 60, 30)
			f.faults.Add(testenv.Rule{Fault: fault, Service: testenv.SESService, Operation: "SendEmail"})
			if ids := m.notify(t, testToday); len(ids) != 0 {
				t.Fatalf("SES failing: sent %v", ids)
			}
			if n := f.faults.Injected(testenv.SESService); n < 3 {
				t.Errorf("%d sends failed, want the SDK's attempts (3)", n)
			}
			f.faults.Clear()
			list := items(t, m.call("GET", "/v1/notifications", "d1-viewer", nil).want(t, 200, "").body["items"])
			if len(list) != 1 || list[0]["status"] != "failed" {
				t.Fatalf("after the failed send: %v", list)
			}
			if n := len(m.mailTo(t, "ops@d1.example")); n != 0 {
				t.Fatalf("%d e-mails sent while SES failed", n)
			}
			if ids := m.notify(t, testToday.AddDays(1)); len(ids) != 1 {
				t.Fatalf("the next day sent %v, want the licenses of the failed digest", ids)
			}
			m.notify(t, testToday.AddDays(2))
			if n := len(m.mailTo(t, "ops@d1.example")); n != 1 {
				t.Errorf("%d e-mails in all, want 1", n)
			}
		}})
		tests = append(tests, subtest{"scheduled report " + fault.String(), func(t *testing.T) {
			f := newFaultEnv(t, notifyDoc(t), true)
			m := f.mail
			m.call("PUT", "/v1/report-subscriptions/weekly", "d1-admin",
				`{"frequency":"weekly","all":true,"recipients":["reports@d1.example"]}`).want(t, 201, "")
			run := func(at time.Time) {
				t.Helper()
				m.clock.set(at)
				if _, err := m.portal.RunSchedule(context.Background(), at); err != nil {
					t.Fatalf("run at %s: %v", at, err)
				}
			}
			monday := time.Date(2026, 6, 15, 8, 0, 0, 0, time.UTC)
			f.faults.Add(testenv.Rule{Fault: fault, Service: testenv.SESService, Operation: "SendEmail"})
			run(monday)
			f.faults.Clear()
			if n := len(m.mailTo(t, "reports@d1.example")); n != 0 {
				t.Fatalf("%d e-mails while SES failed", n)
			}
			var x map[string]any
			for _, e := range items(t, m.call("GET", "/v1/exports", "d1-admin", nil).want(t, 200, "").body["items"]) {
				if e["subscriptionId"] == "weekly" {
					x = e
				}
			}
			if x == nil || x["status"] != "ready" {
				t.Fatalf("the scheduled export: %v", x)
			}
			if mailStatus := fmt.Sprint(obj(x["mail"])["status"]); mailStatus == "sent" {
				t.Errorf("the notice shows as sent: %v", x)
			}
			run(monday.Add(time.Hour))
			run(monday.Add(2 * time.Hour))
			if n := len(m.mailTo(t, "reports@d1.example")); n != 1 {
				t.Errorf("%d e-mails after the retries, want 1", n)
			}
		}})
	}
	runAll(t, tests)
}

// A write the SDK gave up on is not retried again by the store, which would
// hold the caller for minutes (a round of the SDK's retries per attempt of
// its own) before the 503: one call, the SDK's attempts, then the answer.
func TestGivenUpWritesAreNotRetriedAgain(t *testing.T) {
	t.Parallel()
	var tests []subtest
	for _, rq := range faultRequests {
		if rq.operation != "TransactWriteItems" {
			continue
		}
		tests = append(tests, subtest{rq.name, func(t *testing.T) {
			f := newFaultEnv(t, actionsDoc(t), false)
			f.faults.Add(testenv.Rule{Fault: testenv.ServerError, Service: rq.service, Operation: rq.operation})
			wantUnavailable(t, f.call(rq.method, rq.path, rq.user, rq.body))
			op := rq.service + "." + rq.operation
			if calls, attempts := f.faults.Calls(op), f.faults.Requests(op); calls != 1 || attempts != 4 {
				t.Errorf("%s: %d calls, %d attempts; want 1 call of the SDK's 4 attempts", op, calls, attempts)
			}
		}})
	}
	runAll(t, tests)
}

// The same for the batches of a report's snapshot, throttled: each batch is
// one call of the SDK's attempts, as many calls as without faults.
func TestGivenUpBatchesAreNotRetriedAgain(t *testing.T) {
	t.Parallel()
	const op = testenv.DynamoDBService + ".BatchWriteItem"
	// report answers the request and the calls of BatchWriteItem it made
	// (the import before it made some too).
	report := func(rules ...testenv.Rule) (response, int) {
		f := newFaultEnv(t, actionsDoc(t), false)
		f.faults.Add(rules...)
		before := f.faults.Calls(op)
		r := f.call("POST", "/v1/reports", "d1-viewer", `{"all":true}`)
		return r, f.faults.Calls(op) - before
	}
	_, want := report()
	r, got := report(testenv.Rule{Fault: testenv.Throttle, Service: testenv.DynamoDBService, Operation: "BatchWriteItem"})
	wantUnavailable(t, r)
	if got > want {
		t.Errorf("%d calls of BatchWriteItem under throttling, %d without: the SDK's given-up batches were retried", got, want)
	}
}
