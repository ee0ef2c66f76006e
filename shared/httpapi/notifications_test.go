package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/mail/render"
	"github.com/partnerportal/licenses/shared/mail/ses"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
)

// notifyDoc is a small world for the notifier, dated from testToday:
// distributor d1 sells to c1 (through reseller r1, with sub-organization
// c1s) and to c2 directly; distributor d2 to c3.
//
//	SOON-20   core, c1,       expires in 20 days
//	SUB-10    core, c1 + c1s, in 10 days: shown under c1s only
//	MID-45    cloud, c2,      in 45 days
//	FAR-100   core, c2,       in 100 days
//	HIDDEN-5  a product partners never see, c1, in 5 days
//	GONE      core, c1,       expired yesterday
//	OTHER-15  core, c3,       in 15 days (d2's)
func notifyDoc(t testing.TB) dataset.Document {
	t.Helper()
	in := func(days int) string { return testToday.AddDays(days).String() }
	doc := fmt.Sprintf(`{
 "products": [
  {"id":"core","name":"MetaDefender Core","category":"on_prem"},
  {"id":"cloud","name":"MetaDefender Cloud","category":"cloud_service"},
  {"id":"ita","name":"MetaDefender IT Access","category":"on_prem","visibleToPartners":false}],
 "organizations": [
  {"id":"d1","name":"Dist One","type":"distributor"},
  {"id":"d2","name":"Dist Two","type":"distributor"},
  {"id":"r1","name":"Res One","type":"reseller"},
  {"id":"c1","name":"Customer <One> & Co","type":"customer","distributorId":"d1","resellerId":"r1"},
  {"id":"c1s","name":"Customer One Sub","type":"customer","parentId":"c1"},
  {"id":"c2","name":"Customer Two","type":"customer","distributorId":"d1"},
  {"id":"c3","name":"Customer Three","type":"customer","distributorId":"d2"}],
 "roles": [
  {"id":"d1-full","organizationId":"d1","name":"Admin","permissions":{"license_management.customer_organizations":"full"}},
  {"id":"d1-read","organizationId":"d1","name":"Viewer","permissions":{"license_management.customer_organizations":"read"}},
  {"id":"d2-full","organizationId":"d2","name":"Admin","permissions":{"license_management.customer_organizations":"full"}},
  {"id":"r1-full","organizationId":"r1","name":"Admin","permissions":{"license_management.customer_organizations":"full"}}],
 "users": [
  {"id":"d1-admin","email":"a@d1.example","name":"A","organizationId":"d1","roleIds":["d1-full"]},
  {"id":"d1-viewer","email":"v@d1.example","name":"V","organizationId":"d1","roleIds":["d1-read"]},
  {"id":"d2-admin","email":"a@d2.example","name":"A2","organizationId":"d2","roleIds":["d2-full"]},
  {"id":"r1-admin","email":"a@r1.example","name":"R","organizationId":"r1","roleIds":["r1-full"]}],
 "licenses": [
  {"key":"SOON-20","productId":"core","organizationIds":["c1"],"type":"purchased","startDate":"2025-01-01","expirationDate":%q,"purchasedInstances":10},
  {"key":"SUB-10","productId":"core","organizationIds":["c1","c1s"],"type":"purchased","startDate":"2025-01-01","expirationDate":%q,"purchasedInstances":4},
  {"key":"MID-45","productId":"cloud","organizationIds":["c2"],"type":"purchased","startDate":"2025-01-01","expirationDate":%q,"scanLimit":5000},
  {"key":"FAR-100","productId":"core","organizationIds":["c2"],"type":"purchased","startDate":"2025-01-01","expirationDate":%q,"purchasedInstances":2},
  {"key":"HIDDEN-5","productId":"ita","organizationIds":["c1"],"type":"purchased","startDate":"2025-01-01","expirationDate":%q,"purchasedInstances":2},
  {"key":"GONE","productId":"core","organizationIds":["c1"],"type":"purchased","startDate":"2025-01-01","expirationDate":%q,"purchasedInstances":2},
  {"key":"OTHER-15","productId":"core","organizationIds":["c3"],"type":"purchased","startDate":"2025-01-01","expirationDate":%q,"purchasedInstances":2}],
 "deployments": [
  {"deploymentId":"srv-1","licenseKey":"SOON-20","name":"one","activatedAt":"2026-02-01T00:00:00Z","active":true}],
 "partnerNotes": []
}`, in(20), in(10), in(45), in(100), in(5), in(-1), in(15))
	var d dataset.Document
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// testPortal is the portal page the e-mails of the tests link to.
const testPortal = "https://portal.example.com"

// sesFaults stands between the SES client and moto and answers SendEmail
// itself, as SES does when it throttles, while armed.
type sesFaults struct {
	base     http.RoundTripper
	throttle atomic.Int32 // the next n SendEmail requests are throttled
	down     atomic.Bool  // every SendEmail request is throttled
	requests atomic.Int32 // SendEmail requests, throttled or not
}

func (f *sesFaults) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != "/v2/email/outbound-emails" {
		return f.base.RoundTrip(r)
	}
	f.requests.Add(1)
	if f.down.Load() || f.throttle.Add(-1) >= 0 {
		if r.Body != nil {
			r.Body.Close()
		}
		return &http.Response{StatusCode: http.StatusTooManyRequests, Status: "429 Too Many Requests", Request: r,
			Header: http.Header{"Content-Type": {"application/json"}, "X-Amzn-Errortype": {"TooManyRequestsException"}},
			Body:   io.NopCloser(strings.NewReader(`{"message":"Maximum sending rate exceeded."}`))}, nil
	}
	return f.base.RoundTrip(r)
}

// dynamoFaults stands between the store and DynamoDB and, when armed,
// fails the first call of an operation and every call after it, as a
// function that died there would leave them.
type dynamoFaults struct {
	base http.RoundTripper
	mu   sync.Mutex
	at   string // the operation to die at
	dead bool
}

func (f *dynamoFaults) dieAt(op string) {
	f.mu.Lock()
	f.at, f.dead = op, false
	f.mu.Unlock()
}

func (f *dynamoFaults) revive() {
	f.mu.Lock()
	f.at, f.dead = "", false
	f.mu.Unlock()
}

func (f *dynamoFaults) RoundTrip(r *http.Request) (*http.Response, error) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	f.mu.Lock()
	if f.at != "" && op == f.at {
		f.dead = true
	}
	dead, at := f.dead, f.at
	f.mu.Unlock()
	if dead {
		return nil, errors.New("injected failure: the function died at " + at)
	}
	return f.base.RoundTrip(r)
}

// clock is a time that a test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// mailEnv is an env whose portal sends e-mail through the real SES client
// to moto, with faults injected into SES and DynamoDB on demand, on a clock
// the test moves.
type mailEnv struct {
	*env
	ses    *testenv.SES
	faults *sesFaults
	dynamo *dynamoFaults
	clock  *clock
}

func newMailEnv(t *testing.T, doc dataset.Document) *mailEnv {
	t.Helper()
	m := &mailEnv{faults: &sesFaults{base: http.DefaultTransport}, dynamo: &dynamoFaults{base: http.DefaultTransport},
		clock: &clock{t: testToday.Time().Add(7 * time.Hour)}}
	m.ses = testenv.NewSES(t, func(o *sesv2.Options) { o.HTTPClient = &http.Client{Transport: m.faults} })
	db := testenv.DynamoDB(t, func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: m.dynamo}
		o.RetryMaxAttempts = 1
	})
	m.env = newEnvWith(t, store.New(db, testenv.Table(t, db)), doc, func(cfg *portal.Config) {
		cfg.Now = m.clock.now
		cfg.Mail = &portal.MailConfig{Sender: ses.Sender{Client: m.ses.Client}, Renderer: render.Templates{}, From: m.ses.From, PortalURL: testPortal}
	})
	return m
}

// notify runs the notifier at 07:00 UTC of day, as the daily schedule does,
// with the clock at that time, and returns the digests it sent.
func (m *mailEnv) notify(t *testing.T, day license.Date) []string {
	t.Helper()
	at := day.Time().Add(7 * time.Hour)
	m.clock.set(at)
	ids, err := m.portal.Notify(context.Background(), at)
	if err != nil {
		t.Fatalf("notify on %s: %v", day, err)
	}
	return ids
}

// enable sets the notifications of user's partner.
func (m *mailEnv) enable(t *testing.T, user string, recipients []string, days ...int) {
	t.Helper()
	m.call("PUT", "/v1/notification-settings", user, map[string]any{"enabled": true, "recipients": recipients,
		"thresholdDays": days}).want(t, 200, "")
}

// mailTo returns the messages moto accepted for an address.
func (m *mailEnv) mailTo(t *testing.T, address string) []testenv.SentMail {
	t.Helper()
	var out []testenv.SentMail
	for _, s := range m.ses.Sent(t) {
		if slices.Contains(s.To, address) {
			out = append(out, s)
		}
	}
	return out
}

// digestRows returns the rows of a digest as user sees them, by license
// key: "threshold daysLeft organizationId".
func (m *mailEnv) digestRows(t *testing.T, user, id string) map[string]string {
	t.Helper()
	d := m.call("GET", "/v1/notifications/"+id, user, nil).want(t, 200, "").body
	rows := map[string]string{}
	for _, r := range items(t, d["rows"]) {
		rows[r["licenseKey"].(string)] = fmt.Sprintf("%d %d %s", num(r["threshold"]), num(r["daysLeft"]), r["organizationId"])
	}
	return rows
}

func TestNotificationSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, notifyDoc(t))
	got := e.call("GET", "/v1/notification-settings", "d1-viewer", nil).want(t, 200, "")
	if string(got.raw) != `{"enabled":false,"recipients":[],"thresholdDays":[60,30],"updatedAt":null,"updatedBy":null}`+"\n" {
		t.Errorf("defaults = %s", got.raw)
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = fmt.Sprintf("ops%d@d1.example", i)
	}
	bad := []struct {
		name, body string
		status     int
		code       string
	}{
		{"a read user", `{"enabled":true,"recipients":["ops@d1.example"],"thresholdDays":[30]}`, 403, "forbidden"},
		{"not an address", `{"enabled":true,"recipients":["ops@d1.example","not an address"],"thresholdDays":[30]}`, 400, "invalid_request"},
		{"a display name", `{"enabled":true,"recipients":["Ops <ops@d1.example>"],"thresholdDays":[30]}`, 400, "invalid_request"},
		{"no domain", `{"enabled":true,"recipients":["ops@localhost"],"thresholdDays":[30]}`, 400, "invalid_request"},
		{"51 recipients", fmt.Sprintf(`{"enabled":true,"recipients":%s,"thresholdDays":[30]}`, mustJSON(many)), 400, "invalid_request"},
		{"a recipient twice", `{"enabled":true,"recipients":["ops@d1.example","OPS@d1.example"],"thresholdDays":[30]}`, 400, "invalid_request"},
		{"enabled for nobody", `{"enabled":true,"recipients":[],"thresholdDays":[30]}`, 400, "invalid_request"},
		{"a day twice", `{"enabled":true,"recipients":["ops@d1.example"],"thresholdDays":[30,60,30]}`, 400, "invalid_request"},
		{"366 days", `{"enabled":true,"recipients":["ops@d1.example"],"thresholdDays":[366]}`, 400, "invalid_request"},
		{"a negative day", `{"enabled":true,"recipients":["ops@d1.example"],"thresholdDays":[-1]}`, 400, "invalid_request"},
		{"no days", `{"enabled":true,"recipients":["ops@d1.example"],"thresholdDays":[]}`, 400, "invalid_request"},
		{"six days", `{"enabled":true,"recipients":["ops@d1.example"],"thresholdDays":[1,2,3,4,5,6]}`, 400, "invalid_request"},
		{"a fraction of a day", `{"enabled":true,"recipients":["ops@d1.example"],"thresholdDays":[1.5]}`, 400, "invalid_request"},
		{"an unknown field", `{"enabled":true,"recipients":["ops@d1.example"],"thresholdDays":[30],"cc":[]}`, 400, "invalid_request"},
		{"a member missing", `{"enabled":true,"recipients":["ops@d1.example"]}`, 400, "invalid_request"},
	}
	for _, b := range bad {
		user := "d1-admin"
		if b.status == 403 {
			user = "d1-viewer"
		}
		r := e.call("PUT", "/v1/notification-settings", user, b.body)
		if r.status != b.status || obj(r.body["error"])["code"] != b.code {
			t.Errorf("%s: %d %s, want %d %s", b.name, r.status, r.raw, b.status, b.code)
		}
	}
	if got := e.call("GET", "/v1/notification-settings", "d1-admin", nil).want(t, 200, ""); got.body["updatedAt"] != nil {
		t.Errorf("a refused change was saved: %s", got.raw)
	}

	saved := e.call("PUT", "/v1/notification-settings", "d1-admin",
		`{"enabled":true,"recipients":["ops@d1.example","renewals@partner-mail.example"],"thresholdDays":[7,90,0]}`).want(t, 200, "")
	if !slices.Equal(ints(saved.body["thresholdDays"]), []int{90, 7, 0}) || saved.body["updatedBy"] != "d1-admin" ||
		saved.body["updatedAt"] == nil || len(saved.body["recipients"].([]any)) != 2 {
		t.Errorf("saved = %s", saved.raw)
	}
	if got := e.call("GET", "/v1/notification-settings", "d1-viewer", nil).want(t, 200, ""); string(got.raw) != string(saved.raw) {
		t.Errorf("read back %s, saved %s", got.raw, saved.raw)
	}
	// Settings belong to the partner organization: another sees its own.
	if got := e.call("GET", "/v1/notification-settings", "r1-admin", nil).want(t, 200, ""); got.body["enabled"] != false {
		t.Errorf("the reseller sees %s", got.raw)
	}
	// Disabled settings may keep their recipients, or have none, so that
	// the defaults can be saved as they are read.
	e.call("PUT", "/v1/notification-settings", "d1-admin", `{"enabled":false,"recipients":[],"thresholdDays":[60,30]}`).want(t, 200, "")
	e.call("GET", "/v1/notifications", "d1-viewer", nil).want(t, 200, "")
	e.call("GET", "/v1/notifications?limit=0", "d1-viewer", nil).want(t, 400, "invalid_request")
	e.call("GET", "/v1/notifications?cursor=bm9wZQ", "d1-viewer", nil).want(t, 400, "invalid_request")
	e.call("GET", "/v1/notifications/not-an-id", "d1-viewer", nil).want(t, 400, "invalid_request")
	e.call("GET", "/v1/notifications/0000000000000000000000zzzz", "d1-viewer", nil).want(t, 404, "not_found")
	e.call("GET", "/v1/notification-settings", "", nil).want(t, 401, "unauthenticated")
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func ints(v any) []int {
	var out []int
	for _, x := range v.([]any) {
		out = append(out, num(x))
	}
	return out
}

// The Must-show, as a partner would see it: recipients and thresholds set,
// a digest on the first day and none when the notifier runs again, the next
// threshold days later with the days between skipped, a renewal starting
// over; hidden products, expired licenses and licenses further off than
// every threshold never listed, sub-organization priority applied, and a
// distributor and a reseller of the same customer each with a digest of
// their own rows.
func TestNotifierAcrossDays(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, notifyDoc(t))
	m.enable(t, "d1-admin", []string{"ops@d1.example", "boss@d1.example"}, 60, 30)
	m.enable(t, "r1-admin", []string{"ops@r1.example"}, 60, 30)

	sent := m.notify(t, testToday)
	if len(sent) != 2 {
		t.Fatalf("first day: %d digests, want one for d1 and one for r1", len(sent))
	}
	list := items(t, m.call("GET", "/v1/notifications", "d1-viewer", nil).want(t, 200, "").body["items"])
	if len(list) != 1 || list[0]["status"] != "sent" || num(list[0]["licenseCount"]) != 3 ||
		mustJSON(list[0]["byThreshold"]) != `{"30":2,"60":1}` || len(list[0]["recipients"].([]any)) != 2 {
		t.Fatalf("d1's digests = %v", list)
	}
	d1 := list[0]["id"].(string)
	if got, want := m.digestRows(t, "d1-viewer", d1), map[string]string{
		"SOON-20": "30 20 c1", "SUB-10": "30 10 c1s", "MID-45": "60 45 c2",
	}; mustJSON(got) != mustJSON(want) {
		t.Errorf("d1's digest rows = %v, want %v", got, want)
	}
	r1 := items(t, m.call("GET", "/v1/notifications", "r1-admin", nil).want(t, 200, "").body["items"])
	if len(r1) != 1 {
		t.Fatalf("r1's digests = %v", r1)
	}
	if got, want := m.digestRows(t, "r1-admin", r1[0]["id"].(string)), map[string]string{
		"SOON-20": "30 20 c1", "SUB-10": "30 10 c1s",
	}; mustJSON(got) != mustJSON(want) {
		t.Errorf("r1's digest rows = %v, want %v", got, want)
	}
	m.call("GET", "/v1/notifications/"+d1, "r1-admin", nil).want(t, 404, "not_found")
	m.call("GET", "/v1/notifications/"+d1, "d2-admin", nil).want(t, 404, "not_found")

	// The e-mails, as SES received them.
	mails := m.mailTo(t, "ops@d1.example")
	if len(mails) != 1 || !slices.Equal(mails[0].To, []string{"ops@d1.example", "boss@d1.example"}) {
		t.Fatalf("d1's e-mails = %+v", mails)
	}
	html := mails[0].Body
	for _, want := range []string{"SOON-20", "SUB-10", "MID-45", "Expiring within 30 days (2)", "Expiring within 60 days (1)",
		"Customer &lt;One&gt; &amp; Co", "Customer One Sub", "1 of 10 deployed", "5000 scans a day",
		`href="` + testPortal + `/?notification=` + d1 + `"`} {
		if !strings.Contains(html, want) {
			t.Errorf("d1's e-mail lacks %q:\n%s", want, html)
		}
	}
	for _, never := range []string{"HIDDEN-5", "GONE", "FAR-100", "OTHER-15", "<One>", "X-Amz-Signature"} {
		if strings.Contains(html, never) {
			t.Errorf("d1's e-mail shows %q", never)
		}
	}
	if !strings.Contains(mails[0].Subject, "Dist One: 3 licenses") || !strings.Contains(mails[0].Source, m.ses.From) {
		t.Errorf("subject %q from %q", mails[0].Subject, mails[0].Source)
	}
	if r := m.mailTo(t, "ops@r1.example"); len(r) != 1 || strings.Contains(r[0].Body, "MID-45") || !strings.Contains(r[0].Body, "SUB-10") {
		t.Errorf("r1's e-mails = %+v", r)
	}

	// The same day again, and the next: nothing new is due.
	if ids := m.notify(t, testToday); len(ids) != 0 {
		t.Errorf("the same day again sent %v", ids)
	}
	if ids := m.notify(t, testToday.AddDays(1)); len(ids) != 0 {
		t.Errorf("the next day sent %v", ids)
	}
	if n := len(m.ses.Sent(t)); n != 2 {
		t.Fatalf("moto holds %d e-mails, want 2", n)
	}

	// Nineteen days without a run: MID-45 is 25 days off, due for 30 now;
	// SOON-20, due today, was notified for 30 already.
	ids := m.notify(t, testToday.AddDays(20))
	if len(ids) != 1 {
		t.Fatalf("day 20: %v, want one digest (d1's)", ids)
	}
	if got := m.digestRows(t, "d1-viewer", ids[0]); mustJSON(got) != `{"MID-45":"30 25 c2"}` {
		t.Errorf("day 20 rows = %v", got)
	}

	// SOON-20 is renewed: its new date starts over.
	doc := notifyDoc(t)
	for i := range doc.Licenses {
		if doc.Licenses[i].Key == "SOON-20" {
			doc.Licenses[i].ExpirationDate = testToday.AddDays(50).String()
		}
	}
	ds, err := dataset.Check(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.store.Import(context.Background(), ds, store.ImportOptions{Now: m.clock.now()}); err != nil {
		t.Fatal(err)
	}
	ids = m.notify(t, testToday.AddDays(21))
	if len(ids) != 2 {
		t.Fatalf("after the renewal: %v, want d1's and r1's digests", ids)
	}
	for _, id := range ids {
		for _, user := range []string{"d1-viewer", "r1-admin"} {
			if r := m.call("GET", "/v1/notifications/"+id, user, nil); r.status == 200 {
				if got := m.digestRows(t, user, id); mustJSON(got) != `{"SOON-20":"30 29 c1"}` {
					t.Errorf("%s's rows after the renewal = %v", user, got)
				}
			}
		}
	}
	// FAR-100 is 60 days off on day 40, and expires on day 100: due for 60,
	// then for 30, and never once expired.
	for day, want := range map[int]string{40: `{"FAR-100":"60 60 c2"}`, 75: `{"FAR-100":"30 25 c2"}`} {
		ids := m.notify(t, testToday.AddDays(day))
		var d1ids []string
		for _, id := range ids {
			if m.call("GET", "/v1/notifications/"+id, "d1-viewer", nil).status == 200 {
				d1ids = append(d1ids, id)
			}
		}
		if len(d1ids) != 1 {
			t.Fatalf("day %d: d1 got %d digests", day, len(d1ids))
		}
		if got := m.digestRows(t, "d1-viewer", d1ids[0]); mustJSON(got) != want {
			t.Errorf("day %d rows = %v, want %s", day, got, want)
		}
	}
	if ids := m.notify(t, testToday.AddDays(101)); len(ids) != 0 {
		t.Errorf("after every license expired: %v", ids)
	}
	// Newest first.
	list = items(t, m.call("GET", "/v1/notifications?limit=2", "d1-viewer", nil).want(t, 200, "").body["items"])
	page2 := m.call("GET", "/v1/notifications?limit=2", "d1-viewer", nil).want(t, 200, "")
	if len(list) != 2 || page2.body["nextCursor"] == nil {
		t.Fatalf("first page = %s", page2.raw)
	}
	rest := m.call("GET", "/v1/notifications?limit=100&cursor="+page2.body["nextCursor"].(string), "d1-viewer", nil).want(t, 200, "")
	if n := len(items(t, rest.body["items"])); n != 3 || rest.body["nextCursor"] != nil {
		t.Errorf("second page: %d items, want 3 (5 digests in all): %s", n, rest.raw)
	}
	if first, second := list[0]["id"].(string), list[1]["id"].(string); first <= second {
		t.Errorf("not newest first: %s, %s", first, second)
	}
}

// Two runs at the same time, and ten: one digest per partner, each license
// once.
func TestNotifierConcurrentRuns(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, notifyDoc(t))
	m.enable(t, "d1-admin", []string{"ops@d1.example"}, 60, 30)
	m.enable(t, "r1-admin", []string{"ops@r1.example"}, 60, 30)
	m.enable(t, "d2-admin", []string{"ops@d2.example"}, 30)
	at := testToday.Time().Add(7 * time.Hour)
	m.clock.set(at)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sent []string
	)
	start := make(chan struct{})
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ids, err := m.portal.Notify(context.Background(), at)
			if err != nil {
				t.Errorf("concurrent run: %v", err)
			}
			mu.Lock()
			sent = append(sent, ids...)
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if len(sent) != 3 {
		t.Errorf("ten concurrent runs sent %d digests, want 3 (one per partner)", len(sent))
	}
	seen := map[string]int{}
	for _, s := range m.ses.Sent(t) {
		for _, key := range []string{"SOON-20", "SUB-10", "MID-45", "OTHER-15"} {
			if strings.Contains(s.Body, key) {
				seen[s.To[0]+" "+key]++
			}
		}
	}
	want := map[string]int{"ops@d1.example SOON-20": 1, "ops@d1.example SUB-10": 1, "ops@d1.example MID-45": 1,
		"ops@r1.example SOON-20": 1, "ops@r1.example SUB-10": 1, "ops@d2.example OTHER-15": 1}
	if mustJSON(seen) != mustJSON(want) {
		t.Errorf("licenses notified = %v, want %v", seen, want)
	}
}

// SES throttling that passes is retried by the SDK: one e-mail. A send that
// keeps failing is recorded as failed, and its licenses go in the next
// day's digest, once.
func TestNotifierSendFailures(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, notifyDoc(t))
	m.enable(t, "d2-admin", []string{"ops@d2.example"}, 30)
	m.faults.throttle.Store(2)
	if ids := m.notify(t, testToday); len(ids) != 1 {
		t.Fatalf("throttled twice: %v, want the digest sent", ids)
	}
	if got, requests := len(m.mailTo(t, "ops@d2.example")), m.faults.requests.Load(); got != 1 || requests != 3 {
		t.Errorf("%d e-mails after %d requests, want 1 after 3", got, requests)
	}

	m.enable(t, "d1-admin", []string{"ops@d1.example"}, 60, 30)
	m.faults.down.Store(true)
	if ids := m.notify(t, testToday); len(ids) != 0 {
		t.Fatalf("SES down: sent %v", ids)
	}
	m.faults.down.Store(false)
	list := items(t, m.call("GET", "/v1/notifications", "d1-viewer", nil).want(t, 200, "").body["items"])
	if len(list) != 1 || list[0]["status"] != "failed" || list[0]["reason"] == nil || num(list[0]["licenseCount"]) != 3 {
		t.Fatalf("after a failed send d1 lists %v", list)
	}
	if got := m.digestRows(t, "d1-viewer", list[0]["id"].(string)); len(got) != 3 {
		t.Errorf("the failed digest's rows = %v", got)
	}
	if n := len(m.mailTo(t, "ops@d1.example")); n != 0 {
		t.Fatalf("moto holds %d e-mails to d1 after SES refused them", n)
	}
	ids := m.notify(t, testToday.AddDays(1))
	if len(ids) != 1 {
		t.Fatalf("the next day: %v, want the licenses sent", ids)
	}
	if got := m.digestRows(t, "d1-viewer", ids[0]); mustJSON(got) != `{"MID-45":"60 44 c2","SOON-20":"30 19 c1","SUB-10":"30 9 c1s"}` {
		t.Errorf("the next day's rows = %v", got)
	}
	if ids := m.notify(t, testToday.AddDays(2)); len(ids) != 0 {
		t.Errorf("the day after: %v", ids)
	}
	if n := len(m.mailTo(t, "ops@d1.example")); n != 1 {
		t.Errorf("moto holds %d e-mails to d1, want 1", n)
	}
	if n := len(m.mailTo(t, "ops@d2.example")); n != 1 {
		t.Errorf("moto holds %d e-mails to d2, want 1", n)
	}
}

// A run that stops between claiming its licenses and sending them (here:
// from the write of the digest's rows on, every DynamoDB request fails, as
// if the function died) leaves its digest pending. While that run could
// still be at it, later runs leave its licenses alone; once it is stale,
// the digest counts as failed and its licenses are sent, once.
func TestNotifierRunThatStopped(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, notifyDoc(t))
	m.enable(t, "d2-admin", []string{"ops@d2.example"}, 30)
	m.dynamo.dieAt("BatchWriteItem")
	at := testToday.Time().Add(7 * time.Hour)
	m.clock.set(at)
	if ids, err := m.portal.Notify(context.Background(), at); err == nil || len(ids) != 0 {
		t.Fatalf("a run that died: %v, %v; want an error and nothing sent", ids, err)
	}
	m.dynamo.revive()
	if n := m.faults.requests.Load(); n != 0 {
		t.Fatalf("%d SES requests from a run that died before sending", n)
	}

	m.clock.set(at.Add(time.Minute))
	if ids, err := m.portal.Notify(context.Background(), at.Add(time.Minute)); err != nil || len(ids) != 0 {
		t.Fatalf("a minute later: %v, %v; want nothing: the first run could still be sending", ids, err)
	}
	later := at.Add(16 * time.Minute)
	m.clock.set(later)
	ids, err := m.portal.Notify(context.Background(), later)
	if err != nil || len(ids) != 1 {
		t.Fatalf("once the first run is stale: %v, %v; want its licenses sent", ids, err)
	}
	if got := m.digestRows(t, "d2-admin", ids[0]); mustJSON(got) != `{"OTHER-15":"30 15 c3"}` {
		t.Errorf("rows = %v", got)
	}
	list := items(t, m.call("GET", "/v1/notifications", "d2-admin", nil).want(t, 200, "").body["items"])
	if len(list) != 2 || list[0]["status"] != "sent" || list[1]["status"] != "failed" || list[1]["reason"] == nil {
		t.Errorf("d2 lists %v, want the sent digest and the abandoned one", list)
	}
	if n := len(m.mailTo(t, "ops@d2.example")); n != 1 {
		t.Errorf("moto holds %d e-mails, want 1", n)
	}
}
