package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/lambdaevent"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
)

// droppingFinisher accepts exports to finish and never finishes them, as an
// asynchronous invocation does whose function dies.
type droppingFinisher struct{}

func (droppingFinisher) Finish(context.Context, string, string) error { return nil }

// A manual export whose finishing died is finished by a later run of the
// schedule, like a scheduled one.
func TestStaleManualExportIsFinishedBySchedule(t *testing.T) {
	t.Parallel()
	e := newEnvOn(t, testenv.Store(t), actionsDoc(t), func(c *portal.ExportConfig) {
		c.SyncLimit, c.Finisher = 1, droppingFinisher{}
	})
	made := e.call("POST", "/v1/exports", "d1-admin", `{"all":true}`).want(t, 202, "")
	id := made.body["id"].(string)

	// A run soon after leaves it to its finisher.
	e.now = e.now.Add(5 * time.Minute)
	if _, err := e.portal.RunSchedule(context.Background(), e.now); err != nil {
		t.Fatal(err)
	}
	if got := e.call("GET", "/v1/exports/"+id, "d1-admin", nil).want(t, 200, ""); got.body["status"] != "pending" {
		t.Fatalf("5 minutes in: %s, want it still pending", got.raw)
	}
	// Past export.StaleAfter, the next run finishes it.
	e.now = e.now.Add(15 * time.Minute)
	if _, err := e.portal.RunSchedule(context.Background(), e.now); err != nil {
		t.Fatal(err)
	}
	done := e.call("GET", "/v1/exports/"+id, "d1-admin", nil).want(t, 200, "")
	if done.body["status"] != "ready" || done.body["url"] == nil {
		t.Fatalf("after a run past the stale time: %s", done.raw)
	}
	download(t, done.body["url"].(string))
}

// failingGets makes every GetItem fail with throttling, as DynamoDB does
// under load, once armed.
type failingGets struct {
	base  http.RoundTripper
	armed bool
}

func (f *failingGets) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.armed && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetItem") {
		return &http.Response{StatusCode: 400, Request: r, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
			Body: io.NopCloser(strings.NewReader(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}`))}, nil
	}
	return f.base.RoundTrip(r)
}

// A finishing event that cannot record any outcome (DynamoDB throttles the
// read of the export) fails the invocation, so that Lambda retries it,
// instead of reporting success and leaving the export pending.
func TestFinishEventFailsWhenNothingIsRecorded(t *testing.T) {
	t.Parallel()
	ft := &failingGets{base: http.DefaultTransport}
	db := testenv.DynamoDB(t, func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: ft}
		o.RetryMaxAttempts = 1
	})
	e := newEnvOn(t, store.New(db, testenv.Table(t, db)), actionsDoc(t), func(c *portal.ExportConfig) {
		c.SyncLimit, c.Finisher = 1, droppingFinisher{}
	})
	id := e.call("POST", "/v1/exports", "d1-admin", `{"all":true}`).want(t, 202, "").body["id"].(string)
	handle := lambdaevent.ExportHandler(nil, e.portal, slog.New(slog.NewTextHandler(io.Discard, nil)))
	finish, _ := json.Marshal(lambdaevent.FinishEvent{ExportID: id, PartnerID: "d1"})

	ft.armed = true
	if out, err := handle(context.Background(), finish); err == nil {
		t.Fatalf("finishing while DynamoDB throttles answered %v and no error: Lambda would not retry", out)
	}
	ft.armed = false
	out, err := handle(context.Background(), finish)
	if got, _ := out.(map[string]string); err != nil || got["status"] != "ready" {
		t.Fatalf("the retry: %v, %v", out, err)
	}
	// An event for an export that is gone has nothing left to do.
	gone, _ := json.Marshal(lambdaevent.FinishEvent{ExportID: "00000000000000000000000000", PartnerID: "d1"})
	if _, err := handle(context.Background(), gone); err != nil {
		t.Errorf("an export that is gone: %v", err)
	}
}

// Functions are named by constants; any other name fails at start-up, not
// by answering 404 to everything.
func TestHandlerRefusesUnknownFunction(t *testing.T) {
	t.Parallel()
	api := bareAPI(t, testenv.Store(t))
	for _, f := range []httpapi.Function{httpapi.Orgs, httpapi.Reports, httpapi.Licenses, httpapi.Notes, httpapi.Pins, httpapi.Subscriptions} {
		api.Handler(f) // each serves routes
	}
	defer func() {
		if recover() == nil {
			t.Error(`Handler("org") did not panic`)
		}
	}()
	api.Handler(httpapi.Function("org"))
}

// A deployment's expiring window of 0 is taken as given, not as "unset": a
// license is expiring only on its last day.
func TestExpiringWindowZero(t *testing.T) {
	t.Parallel()
	doc := actionsDoc(t)
	doc.Licenses[0].ExpirationDate = testToday.String()            // FREE-10: its last day
	doc.Licenses[1].ExpirationDate = testToday.AddDays(1).String() // FULL-1: tomorrow
	e := newEnv(t, doc)
	h := bareAPIWindow(t, e.store, 0).Handler(httpapi.Licenses)
	for key, want := range map[string]string{"FREE-10": "expiring", "FULL-1": "active"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(httpapi.WithSubject(context.Background(), "d1-viewer"), "GET", "/v1/licenses/"+key, nil)
		h.ServeHTTP(rec, req)
		var row map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &row); err != nil || row["status"] != want {
			t.Errorf("%s with a window of 0: %d %s, want status %s", key, rec.Code, rec.Body, want)
		}
	}
}
