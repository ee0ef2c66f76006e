package deploy_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/partnerportal/licenses/infra/deploy"
	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/importfn"
	"github.com/partnerportal/licenses/shared/lambdaevent"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/mail/render"
	"github.com/partnerportal/licenses/shared/mail/ses"
	"github.com/partnerportal/licenses/shared/notification"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/subscription"
	"github.com/partnerportal/licenses/shared/testenv"
	"github.com/partnerportal/licenses/shared/workbook"
)

// request is a request to a route of the function being exercised.
type request struct {
	method, path, body string
	user               string
	status             int
	// save keeps members of the JSON answer for the paths of later
	// requests, as {name}: placeholder name → member.
	save map[string]string
}

// exercise is what the test does with a function: requests to each of its
// routes, and calls of its entry for events that are not API Gateway's.
type exercise struct {
	// setup prepares what the exercise needs; its requests are not recorded.
	setup    func(t *testing.T, w *world)
	requests []request
	events   func(t *testing.T, w *world)
}

// exercises run each route once successfully, and the error paths that make
// requests of their own (a stale note reads the current one, an activation
// that is already there reads it): what each function's policy must allow.
var exercises = map[string]exercise{
	"orgs": {requests: []request{
		{method: "GET", path: "/v1/me", user: "d1-viewer", status: 200},
		{method: "GET", path: "/v1/customer-organizations", user: "d1-viewer", status: 200},
	}},
	"reports": {requests: []request{
		{method: "POST", path: "/v1/reports", body: `{"all":true}`, user: "d1-viewer", status: 201, save: map[string]string{"report": "id"}},
		{method: "GET", path: "/v1/reports/{report}/products", user: "d1-viewer", status: 200},
		{method: "GET", path: "/v1/reports/{report}/cloud-services", user: "d1-viewer", status: 200},
	}},
	"licenses": {requests: []request{
		{method: "GET", path: "/v1/licenses/FREE-10", user: "d1-viewer", status: 200},
		{method: "GET", path: "/v1/licenses/FREE-10/history", user: "d1-viewer", status: 200},
		{method: "POST", path: "/v1/licenses/FREE-10/activations", body: `{"deploymentId":"srv-1","name":"one"}`, user: "d1-viewer", status: 201},
		{method: "POST", path: "/v1/licenses/FREE-10/activations", body: `{"deploymentId":"srv-1","name":"one"}`, user: "d1-viewer", status: 200},
		{method: "POST", path: "/v1/licenses/FULL-1/activations", body: `{"deploymentId":"srv-2"}`, user: "d1-viewer", status: 409},
		{method: "DELETE", path: "/v1/licenses/FREE-10/activations/srv-1", user: "d1-viewer", status: 204},
		// Active again: the kept inactive deployment is deleted.
		{method: "POST", path: "/v1/licenses/FREE-10/activations", body: `{"deploymentId":"srv-1","name":"one"}`, user: "d1-viewer", status: 201},
	}},
	"notes": {requests: []request{
		{method: "PUT", path: "/v1/licenses/FREE-10/partner-note", body: `{"text":"call in May","version":0}`, user: "d1-admin", status: 200},
		{method: "PUT", path: "/v1/licenses/FREE-10/partner-note", body: `{"text":"stale","version":0}`, user: "d1-admin", status: 409},
	}},
	"pins": {requests: []request{
		{method: "PUT", path: "/v1/pins/FREE-10", user: "d1-viewer", status: 204},
		{method: "GET", path: "/v1/pins", user: "d1-viewer", status: 200},
		{method: "DELETE", path: "/v1/pins/FREE-10", user: "d1-viewer", status: 204},
	}},
	"exports": {
		requests: []request{
			// c2 has one license, under the sync limit: ready at once.
			{method: "POST", path: "/v1/exports", body: `{"organizationIds":["c2"]}`, user: "d1-admin", status: 201,
				save: map[string]string{"export": "id", "link": "url"}},
			{method: "GET", path: "/v1/exports", user: "d1-admin", status: 200},
			{method: "GET", path: "/v1/exports/{export}", user: "d1-admin", status: 200},
			// Every customer is over the limit: handed to the function itself.
			{method: "POST", path: "/v1/exports", body: `{"all":true}`, user: "d1-admin", status: 202, save: map[string]string{"pending": "id"}},
		},
		events: func(t *testing.T, w *world) {
			finish, _ := json.Marshal(lambdaevent.FinishEvent{ExportID: w.vars["pending"], PartnerID: "d1"})
			out, err := lambdaevent.ExportHandler(httpapi.LambdaHandler(w.handler), w.portal, slog.New(slog.NewTextHandler(io.Discard, nil)))(context.Background(), finish)
			if got, _ := out.(map[string]string); err != nil || got["status"] != "ready" {
				t.Fatalf("finishing the pending export: %v, %v", out, err)
			}
			// The link, opened as a browser would.
			res, err := w.download.Get(w.vars["link"])
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("download: %s", res.Status)
			}
		},
	},
	"subscriptions": {requests: []request{
		{method: "PUT", path: "/v1/report-subscriptions/weekly-all", body: `{"frequency":"weekly","all":true}`, user: "d1-admin", status: 201},
		{method: "PUT", path: "/v1/report-subscriptions/weekly-all", body: `{"frequency":"daily","all":true}`, user: "d1-admin", status: 200},
		{method: "GET", path: "/v1/report-subscriptions", user: "d1-admin", status: 200},
		{method: "GET", path: "/v1/report-subscriptions/weekly-all", user: "d1-admin", status: 200},
		{method: "DELETE", path: "/v1/report-subscriptions/weekly-all", user: "d1-admin", status: 204},
	}},
	"scheduled-reports": {
		setup: func(t *testing.T, w *world) {
			now := time.Now()
			sub := subscription.Subscription{ID: "weekly-all", PartnerID: "d1", Frequency: subscription.Weekly,
				Selection: report.Selection{All: true}, Recipients: []string{"reports@d1.example"}, CreatedBy: "d1-admin",
				CreatedAt: now, UpdatedAt: now}
			if err := w.store.PutSubscription(context.Background(), sub, now); err != nil {
				t.Fatal(err)
			}
		},
		events: func(t *testing.T, w *world) {
			run := lambdaevent.ScheduleHandler(w.portal, slog.New(slog.NewTextHandler(io.Discard, nil)))
			ev := events.EventBridgeEvent{DetailType: "Scheduled Event", Source: "aws.events", Time: time.Now()}
			// The first run makes the period's export; a repeated one finds
			// the period claimed.
			for i, want := range []int{1, 0} {
				out, err := run(context.Background(), ev)
				if err != nil || len(out["exports"]) != want {
					t.Fatalf("run %d: %v, %v; want %d exports", i+1, out, err, want)
				}
			}
			if n := len(w.ses.Sent(t)); n != 1 {
				t.Fatalf("%d notices sent, want the one of the export", n)
			}
		},
	},
	"notifications": {
		setup: func(t *testing.T, w *world) {
			now := time.Now().UTC()
			d := &notification.Digest{ID: id.Ordered(now), PartnerID: "d1", Status: notification.Pending, Date: license.DateOf(now),
				CreatedAt: now, Recipients: []string{"ops@d1.example"}, ExpiresAt: now.Add(notification.Retention)}
			if err := w.store.CreateDigest(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			d.Status, d.SentAt, d.Licenses, d.ByThreshold = notification.Sent, now, 1, map[int]int{30: 1}
			if _, err := w.store.FinishDigest(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			w.vars["digest"] = d.ID
		},
		requests: []request{
			{method: "GET", path: "/v1/notification-settings", user: "d1-viewer", status: 200},
			{method: "PUT", path: "/v1/notification-settings", body: `{"enabled":true,"recipients":["ops@d1.example"],"thresholdDays":[60,30]}`,
				user: "d1-admin", status: 200},
			{method: "GET", path: "/v1/notifications", user: "d1-viewer", status: 200},
			{method: "GET", path: "/v1/notifications/{digest}", user: "d1-viewer", status: 200},
		},
	},
	"import": {
		events: func(t *testing.T, w *world) {
			// A full document, delivered twice, then a delta: the second
			// delivery reads the result and lists the bucket, the first
			// also finds no result (a 404 only to a caller that may list).
			full, delta := testdataDocument(t), `{"mode":"delta","removed":{"licenses":["FREE-10"]}}`
			for _, doc := range []struct{ key, body string }{{"imports/1-full.json", full}, {"imports/1-full.json", ""}, {"imports/2-delta.json", delta}} {
				if doc.body != "" {
					if _, err := w.ingest.PutObject(context.Background(), &awss3.PutObjectInput{Bucket: aws.String(ingestBucket),
						Key: aws.String(doc.key), Body: strings.NewReader(doc.body)}); err != nil {
						t.Fatal(err)
					}
				}
				var ev events.S3Event
				r := events.S3EventRecord{EventSource: "aws:s3", EventName: "ObjectCreated:Put"}
				r.S3.Bucket.Name, r.S3.Object.Key = ingestBucket, doc.key
				ev.Records = append(ev.Records, r)
				if _, err := w.importer.Handle(context.Background(), ev); err != nil {
					t.Fatalf("%s: %v", doc.key, err)
				}
			}
			for _, key := range []string{"imports/1-full.json", "imports/2-delta.json"} {
				out, err := w.ingest.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(ingestBucket),
					Key: aws.String(importfn.ResultKey(key))})
				if err != nil {
					t.Fatalf("result of %s: %v", key, err)
				}
				var res importfn.Result
				err = json.NewDecoder(out.Body).Decode(&res)
				out.Body.Close()
				if err != nil || res.Status != importfn.Succeeded {
					t.Fatalf("result of %s: %+v, %v", key, res, err)
				}
			}
		},
	},
	"notifier": {
		setup: func(t *testing.T, w *world) {
			// testdata's licenses expire on 2099-12-31.
			if err := w.store.PutNotificationSettings(context.Background(), notification.Settings{PartnerID: "d1", Enabled: true,
				Recipients: []string{"ops@d1.example"}, ThresholdDays: []int{60, 30}, UpdatedAt: time.Now(), UpdatedBy: "d1-admin"}); err != nil {
				t.Fatal(err)
			}
		},
		events: func(t *testing.T, w *world) {
			run := lambdaevent.NotifyHandler(w.portal, slog.New(slog.NewTextHandler(io.Discard, nil)))
			ev := events.EventBridgeEvent{DetailType: "Scheduled Event", Source: "aws.events", Time: time.Date(2099, 12, 1, 7, 0, 0, 0, time.UTC)}
			// The first run sends the digest; a repeated one finds nothing due.
			for i, want := range []int{1, 0} {
				out, err := run(context.Background(), ev)
				if err != nil || len(out["notifications"]) != want {
					t.Fatalf("run %d: %v, %v; want %d digests", i+1, out, err, want)
				}
			}
			if n := len(w.ses.Sent(t)); n != 1 {
				t.Fatalf("%d digests sent, want 1", n)
			}
		},
	},
}

// world is a function's code on the emulators as lambdafn.Setup wires it
// from the function's environment in template.yaml, with every request it
// makes of DynamoDB, S3 and Lambda recorded.
type world struct {
	rec      *deploy.Recorder
	store    *store.Store
	portal   *portal.Service
	handler  http.Handler
	url      string
	tokens   *httpapi.Tokens
	download *http.Client
	ses      *testenv.SES
	importer *importfn.Importer
	ingest   *awss3.Client
	// buckets names the variable of the function's environment that names
	// each bucket of the world.
	buckets map[string]string
	vars    map[string]string
}

const (
	testBucket   = "exports"
	ingestBucket = "ingest"
)

func newWorld(t *testing.T, tpl *deploy.Template, function string) *world {
	t.Helper()
	w := &world{rec: deploy.NewRecorder(), vars: make(map[string]string), buckets: make(map[string]string)}
	recorded := func(rt http.RoundTripper) *http.Client { return &http.Client{Transport: rt} }
	db := testenv.DynamoDB(t, func(o *awsdynamodb.Options) { o.HTTPClient = recorded(w.rec.DynamoDB(http.DefaultTransport)) })
	w.store = store.New(db, testenv.Table(t, db))
	loadData(t, w.store)

	env := tpl.Functions()[deploy.LogicalID(function)].Environment.Variables
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	var exports *portal.ExportConfig
	if _, ok := env[config.IngestBucket]; ok {
		w.buckets[ingestBucket] = config.IngestBucket
		s3srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
		t.Cleanup(s3srv.Close)
		w.ingest = awsconf.S3(awsconf.Local, s3srv.URL)
		if _, err := w.ingest.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(ingestBucket)}); err != nil {
			t.Fatal(err)
		}
		client := awss3.New(w.ingest.Options(), func(o *awss3.Options) { o.HTTPClient = recorded(w.rec.S3(http.DefaultTransport)) })
		w.importer = &importfn.Importer{Store: w.store, S3: client, Bucket: ingestBucket, Log: discard, Now: time.Now}
	}
	if _, ok := env[config.ExportBucket]; ok {
		w.buckets[testBucket] = config.ExportBucket
		s3srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
		t.Cleanup(s3srv.Close)
		if _, err := awsconf.S3(awsconf.Local, s3srv.URL).CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(testBucket)}); err != nil {
			t.Fatal(err)
		}
		client := awss3.New(awsconf.S3(awsconf.Local, s3srv.URL).Options(), func(o *awss3.Options) {
			o.HTTPClient = recorded(w.rec.S3(http.DefaultTransport))
		})
		w.download = recorded(w.rec.S3(http.DefaultTransport))
		// A small sync limit, so that an export of every customer takes the
		// asynchronous path.
		files, err := workbook.NewFiles(client, awss3.NewPresignClient(client), testBucket, config.DefaultExportURLLifetime, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		exports = &portal.ExportConfig{Files: files, Retention: config.DefaultExportRetention, SyncLimit: 3}
		if deploy.Show(env[config.ExportFunctionName]) != "" {
			lambdaSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
			t.Cleanup(lambdaSrv.Close)
			invoker := lambda.NewFromConfig(awsconf.Local, func(o *lambda.Options) {
				o.BaseEndpoint = aws.String(lambdaSrv.URL)
				o.HTTPClient = recorded(w.rec.Lambda(http.DefaultTransport))
			})
			exports.Finisher = lambdaevent.Finisher{Client: invoker, Function: function}
		}
	}
	var mail *portal.MailConfig
	if _, ok := env[config.MailFrom]; ok {
		w.ses = testenv.NewSES(t, func(o *sesv2.Options) { o.HTTPClient = recorded(w.rec.SES(http.DefaultTransport)) })
		mail = &portal.MailConfig{Sender: ses.Sender{Client: w.ses.Client}, Renderer: render.Templates{}, From: w.ses.From, PortalURL: "https://portal.example.com"}
	}
	var err error
	w.portal, err = portal.New(w.store, portal.Config{ExpiringWindow: 30, Now: time.Now, Today: license.TodayOf(time.Now),
		Log: discard, Exports: exports, Mail: mail})
	if err != nil {
		t.Fatal(err)
	}
	w.tokens = httpapi.NewTokens([]byte("test key"), nil)
	api, err := httpapi.New(w.portal, httpapi.Config{Log: discard, Authenticate: w.tokens.Authenticate})
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(httpapi.Routes, func(r httpapi.Route) bool { return string(r.Function) == function }) {
		w.handler = api.Handler(httpapi.Function(function))
	}
	srv := httptest.NewServer(w.handler)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	return w
}

// do sends a request and checks its status, and returns the route it
// reached.
func (w *world) do(t *testing.T, r request) {
	t.Helper()
	path := r.path
	for name, v := range w.vars {
		path = strings.ReplaceAll(path, "{"+name+"}", v)
	}
	req, err := http.NewRequest(r.method, w.url+path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.tokens.Issue(r.user, time.Hour))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != r.status {
		t.Fatalf("%s %s: status %d, want %d: %s", r.method, path, res.StatusCode, r.status, body)
	}
	if len(r.save) > 0 {
		var answer map[string]any
		if err := json.Unmarshal(body, &answer); err != nil {
			t.Fatalf("%s %s: %v", r.method, path, err)
		}
		for name, member := range r.save {
			v, _ := answer[member].(string)
			if v == "" {
				t.Fatalf("%s %s: no %s in %s", r.method, path, member, body)
			}
			w.vars[name] = v
		}
	}
}

// Each function's policy allows exactly the AWS actions its code was seen to
// need: every route of the function runs once successfully over HTTP, and
// each other entry once, against the emulators, with every request to
// DynamoDB, S3 and Lambda recorded. Functions are taken from functions/, so
// a new one fails here until it has an exercise.
func TestPoliciesAllowWhatTheCodeCalls(t *testing.T) {
	tpl, code := loadTemplate(t), readCode(t)
	for _, function := range code.Functions {
		t.Run(function, func(t *testing.T) {
			t.Parallel()
			ex, ok := exercises[function]
			if !ok {
				t.Fatalf("functions/%s has no exercise: add one to exercises, so that its policy is held to what it calls", function)
			}
			if _, ok := tpl.Functions()[deploy.LogicalID(function)]; !ok {
				t.Fatalf("template.yaml has no %s (TestTemplateMatchesCode)", deploy.LogicalID(function))
			}
			w := newWorld(t, tpl, function)
			if ex.setup != nil {
				ex.setup(t, w)
			}
			w.rec.Reset()

			routes := http.NewServeMux()
			var want []string
			for _, r := range httpapi.Routes {
				if string(r.Function) == function {
					routes.Handle(r.Pattern(), http.NotFoundHandler())
					want = append(want, r.Pattern())
				}
			}
			var succeeded []string
			for _, r := range ex.requests {
				w.do(t, r)
				if _, pattern := routes.Handler(httptest.NewRequest(r.method, r.path, nil)); r.status < 300 && pattern != "" {
					succeeded = append(succeeded, pattern)
				}
			}
			for _, route := range want {
				if !slices.Contains(succeeded, route) {
					t.Errorf("the exercise of %s never calls %s successfully", function, route)
				}
			}
			if ex.events != nil {
				ex.events(t, w)
			}
			if len(want) == 0 && ex.events == nil {
				t.Fatalf("the exercise of %s calls nothing", function)
			}

			accesses := w.rec.Accesses()
			for _, a := range accesses {
				t.Logf("needs %s on %s", a.Action, a.Resource)
			}
			for _, p := range deploy.CheckGrants(tpl, function, accesses, w.buckets) {
				t.Error(p)
			}
		})
	}
}

// The recorder turns each request into the IAM actions it needs: a
// transaction into its items' actions, S3 requests by method, an invocation
// into lambda:InvokeFunction; what it does not know is an error.
func TestRecorder(t *testing.T) {
	ok := roundTrip(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	tests := []struct {
		name    string
		client  func(*deploy.Recorder, http.RoundTripper) http.RoundTripper
		method  string
		url     string
		target  string
		body    string
		want    []deploy.Access
		wantErr bool
	}{
		{"a transaction", (*deploy.Recorder).DynamoDB, "POST", "http://ddb/", "DynamoDB_20120810.TransactWriteItems",
			`{"TransactItems":[{"Put":{}},{"ConditionCheck":{}},{"Update":{}},{"Delete":{}}]}`,
			[]deploy.Access{{Action: "dynamodb:ConditionCheckItem", Resource: "table"}, {Action: "dynamodb:DeleteItem", Resource: "table"},
				{Action: "dynamodb:PutItem", Resource: "table"}, {Action: "dynamodb:UpdateItem", Resource: "table"}}, false},
		{"a query of an index", (*deploy.Recorder).DynamoDB, "POST", "http://ddb/", "DynamoDB_20120810.Query", `{"IndexName":"GSI1"}`,
			[]deploy.Access{{Action: "dynamodb:Query", Resource: "index/GSI1"}}, false},
		{"a put", (*deploy.Recorder).S3, "PUT", "http://s3/b/exports/d1/x.xlsx?x-id=PutObject", "", "",
			[]deploy.Access{{Action: "s3:PutObject", Resource: "object/b/exports/d1/x.xlsx"}}, false},
		{"a presigned get", (*deploy.Recorder).S3, "GET", "http://s3/b/exports/d1/x.xlsx?X-Amz-Signature=00&X-Amz-Expires=900", "", "",
			[]deploy.Access{{Action: "s3:GetObject", Resource: "object/b/exports/d1/x.xlsx"}}, false},
		{"an aborted upload", (*deploy.Recorder).S3, "DELETE", "http://s3/b/exports/d1/x.xlsx?uploadId=1", "", "",
			[]deploy.Access{{Action: "s3:AbortMultipartUpload", Resource: "object/b/exports/d1/x.xlsx"}}, false},
		{"an object's tags", (*deploy.Recorder).S3, "PUT", "http://s3/b/exports/x?tagging", "", "", nil, true},
		{"a listing", (*deploy.Recorder).S3, "GET", "http://s3/b?list-type=2&prefix=imports%2F", "", "",
			[]deploy.Access{{Action: "s3:ListBucket", Resource: "bucket/b"}}, false},
		{"a listing of versions", (*deploy.Recorder).S3, "GET", "http://s3/b?versions", "", "", nil, true},
		{"a bucket's policy", (*deploy.Recorder).S3, "GET", "http://s3/b?policy", "", "", nil, true},
		{"a sent e-mail", (*deploy.Recorder).SES, "POST", "http://ses/v2/email/outbound-emails", "", `{"FromEmailAddress":"n@p.example"}`,
			[]deploy.Access{{Action: "ses:SendEmail", Resource: "identity/n@p.example"}}, false},
		{"another SES call", (*deploy.Recorder).SES, "POST", "http://ses/v2/email/identities", "", `{"EmailIdentity":"n@p.example"}`, nil, true},
		{"an invocation", (*deploy.Recorder).Lambda, "POST", "http://lambda/2015-03-31/functions/fn/invocations", "", "",
			[]deploy.Access{{Action: "lambda:InvokeFunction", Resource: "function/fn"}}, false},
		{"another Lambda call", (*deploy.Recorder).Lambda, "GET", "http://lambda/2015-03-31/functions/fn", "", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := deploy.NewRecorder()
			req := httptest.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if tt.target != "" {
				req.Header.Set("X-Amz-Target", tt.target)
			}
			_, err := tt.client(rec, ok).RoundTrip(req)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if got := rec.Accesses(); !slices.Equal(got, tt.want) {
				t.Errorf("accesses = %v, want %v", got, tt.want)
			}
		})
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
