package importfn_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/importfn"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
)

var today, _ = license.ParseDate("2026-06-15")

const bucket = "ingest"

// world is an ingest bucket and a table with the import function over them.
type world struct {
	t  *testing.T
	s3 *s3.Client
	st *store.Store
	im *importfn.Importer
}

func newWorld(t *testing.T, st *store.Store) *world {
	t.Helper()
	client := testenv.S3(t, bucket)
	w := &world{t: t, s3: client, st: st}
	w.im = &importfn.Importer{Store: st, S3: client, Bucket: bucket, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: time.Now}
	return w
}

func smallDoc() dataset.Document {
	cfg := demo.Small()
	cfg.Customers, cfg.Licenses = 12, 120
	return demo.Generate(cfg, today)
}

// put drops a document into the bucket, gzip'd if asked, and returns the
// event S3 sends for it.
func (w *world) put(key string, doc any, gz bool) events.S3Event {
	w.t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		w.t.Fatal(err)
	}
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write(body)
		_ = zw.Close()
		body = b.Bytes()
	}
	out, err := w.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: &key, Body: bytes.NewReader(body)})
	if err != nil {
		w.t.Fatal(err)
	}
	var ev events.S3Event
	r := events.S3EventRecord{EventSource: "aws:s3", EventName: "ObjectCreated:Put"}
	r.S3.Bucket.Name = bucket
	r.S3.Object.Key = strings.ReplaceAll(key, " ", "+")
	r.S3.Object.ETag = strings.Trim(aws.ToString(out.ETag), `"`)
	r.S3.Object.Size = int64(len(body))
	ev.Records = append(ev.Records, r)
	return ev
}

// handle delivers the event and returns the DynamoDB work it did.
func (w *world) handle(ev events.S3Event) (*store.Stats, error) {
	ctx, stats := store.WithStats(context.Background())
	_, err := w.im.Handle(ctx, ev)
	return stats, err
}

func (w *world) result(key string) *importfn.Result {
	w.t.Helper()
	out, err := w.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(importfn.ResultKey(key))})
	if err != nil {
		return nil
	}
	defer out.Body.Close()
	var r importfn.Result
	if err := json.NewDecoder(out.Body).Decode(&r); err != nil {
		w.t.Fatalf("result of %s: %v", key, err)
	}
	return &r
}

// state is what every partner of doc sees: its customers with their
// license counts, and each license of its view with its deployments.
func state(t *testing.T, st *store.Store, doc dataset.Document) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, o := range doc.Organizations {
		if o.Type != "distributor" && o.Type != "reseller" {
			continue
		}
		i := slices.IndexFunc(doc.Users, func(u dataset.User) bool { return u.OrganizationID == o.ID })
		if i < 0 {
			continue
		}
		sc, err := st.Caller(ctx, doc.Users[i].ID)
		if err != nil {
			t.Fatalf("caller %s: %v", doc.Users[i].ID, err)
		}
		customers, err := st.Customers(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range customers {
			fmt.Fprintf(&b, "%s customer %s %q %d\n", o.ID, c.ID, c.Name, c.LicenseCount)
		}
		listings, err := st.View(ctx, sc, nil, true)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, l := range listings {
			for _, lic := range l.Licenses {
				var deps []string
				for _, d := range l.Deployments[lic.Key] {
					deps = append(deps, d.DeploymentID+"="+d.Name)
				}
				slices.Sort(deps)
				lines = append(lines, fmt.Sprintf("%s %s %s %s %d/%d %v", o.ID, l.Org.ID, lic.Key, lic.ExpirationDate, lic.Deployed, lic.Purchased(), deps))
			}
		}
		slices.Sort(lines)
		b.WriteString(strings.Join(lines, "\n") + "\n")
	}
	return b.String()
}

// TestEventTwice: S3 delivers the same object twice; the second delivery
// reads the result and changes nothing. Then a delta, delivered twice too,
// and the partners see exactly the source's state after each.
func TestEventTwice(t *testing.T) {
	w := newWorld(t, testenv.Store(t))
	doc := smallDoc()
	ev := w.put("imports/2026-06-15T0200Z-full.json", doc, false)
	stats, err := w.handle(ev)
	if err != nil {
		t.Fatal(err)
	}
	first := w.result("imports/2026-06-15T0200Z-full.json")
	if first == nil || first.Status != importfn.Succeeded || first.Mode != dataset.Full || first.Counts == nil || first.Counts.Written == 0 ||
		first.Source.ETag != ev.Records[0].S3.Object.ETag || len(first.Problems) != 0 {
		t.Fatalf("result = %+v", first)
	}
	if stats.Written.Load() == 0 {
		t.Fatal("the import wrote nothing")
	}
	want := state(t, testenv.StoreLoaded(t, doc), doc)
	if got := state(t, w.st, doc); got != want {
		t.Fatalf("after the import:\n%s\nwant the state of the document:\n%s", got, want)
	}

	stats, err = w.handle(ev)
	if err != nil {
		t.Fatal(err)
	}
	if n := stats.Requests.Load(); n != 0 {
		t.Errorf("the second delivery made %d DynamoDB requests, want none", n)
	}
	if again := w.result("imports/2026-06-15T0200Z-full.json"); again == nil || !again.StartedAt.Equal(first.StartedAt) {
		t.Errorf("the second delivery rewrote the result: %+v", again)
	}

	// A delta: one license renewed, one removed.
	renewed, removed := doc.Licenses[0], doc.Licenses[1]
	renewed.ExpirationDate = "2030-01-31"
	delta := dataset.Document{Mode: "delta", Licenses: []dataset.License{renewed},
		Removed: &dataset.Removed{Licenses: []string{removed.Key}}}
	dev := w.put("imports/2026-06-16T0200Z-delta.json", delta, true)
	for i := range 2 {
		stats, err := w.handle(dev)
		if err != nil {
			t.Fatalf("delta, delivery %d: %v", i+1, err)
		}
		if i == 1 && stats.Requests.Load() != 0 {
			t.Errorf("the delta's second delivery made %d DynamoDB requests", stats.Requests.Load())
		}
	}
	res := w.result("imports/2026-06-16T0200Z-delta.json")
	if res == nil || res.Status != importfn.Succeeded || res.Mode != dataset.Delta || res.Counts.Removed.Licenses != 1 {
		t.Fatalf("delta result = %+v", res)
	}
	after := doc
	after.Licenses = slices.Clone(doc.Licenses)
	after.Licenses[0] = renewed
	after.Licenses = slices.Delete(after.Licenses, 1, 2)
	after.Deployments = slices.DeleteFunc(slices.Clone(doc.Deployments), func(d dataset.Deployment) bool { return d.LicenseKey == removed.Key })
	if got, want := state(t, w.st, doc), state(t, testenv.StoreLoaded(t, after), doc); got != want {
		t.Fatalf("after the delta:\n%s\nwant:\n%s", got, want)
	}
}

// TestRefusedDocument: a document that fails its checks writes nothing to
// the table, and a failed result lists its problems by path.
func TestRefusedDocument(t *testing.T) {
	w := newWorld(t, testenv.Store(t))
	doc := smallDoc()
	doc.Licenses[3].ProductID = "no-such-product"
	doc.Licenses[7].ExpirationDate = "31.12.2026"
	stats, err := w.handle(w.put("imports/bad.json.gz", doc, true))
	if err != nil {
		t.Fatalf("a refused document is not to be retried: %v", err)
	}
	if n := stats.Written.Load(); n != 0 {
		t.Errorf("a refused document wrote %d items", n)
	}
	res := w.result("imports/bad.json.gz")
	if res == nil || res.Status != importfn.Failed || res.Counts != nil || res.ProblemCount != 2 || len(res.Problems) != 2 {
		t.Fatalf("result = %+v", res)
	}
	var paths []string
	for _, p := range res.Problems {
		paths = append(paths, p.Path)
	}
	if !slices.Contains(paths, "licenses[3].productId") || !slices.Contains(paths, "licenses[7].expirationDate") {
		t.Errorf("problems = %+v", res.Problems)
	}
	// Not JSON at all.
	if _, err := w.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("imports/junk"),
		Body: strings.NewReader("licenses,key\n")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.im.Import(context.Background(), "imports/junk", ""); err != nil {
		t.Fatal(err)
	}
	if res := w.result("imports/junk"); res == nil || res.Status != importfn.Failed || res.Problems[0].Path != "$" {
		t.Errorf("junk result = %+v", res)
	}
}

// TestObjectsOutsideImports: events of another bucket or outside imports/
// import nothing.
func TestObjectsOutsideImports(t *testing.T) {
	w := newWorld(t, testenv.Store(t))
	ev := w.put("results/x.json", smallDoc(), false)
	other := w.put("imports/y.json", smallDoc(), false)
	other.Records[0].S3.Bucket.Name = "elsewhere"
	ev.Records = append(ev.Records, other.Records...)
	stats, err := w.handle(ev)
	if err != nil || stats.Requests.Load() != 0 {
		t.Fatalf("handle: %v, %d requests", err, stats.Requests.Load())
	}
	if w.result("imports/y.json") != nil {
		t.Error("a result for another bucket's object")
	}
}

// failing fails every DynamoDB write once armed, as an outage would; the
// SDK's retries give up and the invocation fails.
type failing struct {
	base   http.RoundTripper
	writes atomic.Int64
	after  int64 // writes let through before the outage
	down   atomic.Bool
}

func (f *failing) RoundTrip(req *http.Request) (*http.Response, error) {
	target := req.Header.Get("X-Amz-Target")
	if strings.Contains(target, "Write") || strings.Contains(target, "PutItem") || strings.Contains(target, "Transact") {
		if f.writes.Add(1) > f.after && f.down.Load() {
			return &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
				Body:    io.NopCloser(strings.NewReader(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}`)),
				Request: req}, nil
		}
	}
	return f.base.RoundTrip(req)
}

// TestFailureHalfWay: the table fails half-way through the import; the
// invocation fails, writes no result, and Lambda's retry brings the table
// to exactly the document's state.
func TestFailureHalfWay(t *testing.T) {
	f := &failing{base: http.DefaultTransport, after: 20}
	f.down.Store(true)
	db := testenv.DynamoDB(t, func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: f} })
	st := store.New(db, testenv.Table(t, db))
	w := newWorld(t, st)
	doc := smallDoc()
	ev := w.put("imports/full.json", doc, false)
	if _, err := w.handle(ev); err == nil {
		t.Fatal("the import succeeded through an outage")
	}
	if f.writes.Load() <= f.after {
		t.Fatalf("only %d writes: the outage did not come half-way", f.writes.Load())
	}
	if res := w.result("imports/full.json"); res != nil {
		t.Fatalf("a result after a failure: %+v", res)
	}
	f.down.Store(false)
	if _, err := w.handle(ev); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if res := w.result("imports/full.json"); res == nil || res.Status != importfn.Succeeded {
		t.Fatalf("result after the retry = %+v", res)
	}
	if got, want := state(t, st, doc), state(t, testenv.StoreLoaded(t, doc), doc); got != want {
		t.Fatalf("after the retry:\n%s\nwant:\n%s", got, want)
	}
}

// TestArrivalOrder: documents are imported in the order they arrived,
// whatever order their events come in, and a document waits for the one
// before it when that one failed: two deltas renew the same license, the
// second's event comes first, and the first meets an outage.
func TestArrivalOrder(t *testing.T) {
	f := &failing{base: http.DefaultTransport}
	db := testenv.DynamoDB(t, func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: f} })
	st := store.New(db, testenv.Table(t, db))
	w := newWorld(t, st)
	doc := smallDoc()
	if _, err := w.handle(w.put("imports/a-full.json", doc, false)); err != nil {
		t.Fatal(err)
	}
	renew := func(date string) dataset.Document {
		l := doc.Licenses[0]
		l.ExpirationDate = date
		return dataset.Document{Mode: "delta", Licenses: []dataset.License{l}}
	}
	// The first delta's key sorts after the second's: S3's time orders
	// them, to the second.
	first := w.put("imports/z-delta.json", renew("2030-01-31"), false)
	time.Sleep(1100 * time.Millisecond)
	second := w.put("imports/b-delta.json", renew("2031-01-31"), false)

	pending, err := w.im.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range pending {
		keys = append(keys, p.Key)
	}
	if want := []string{"imports/z-delta.json", "imports/b-delta.json"}; !slices.Equal(keys, want) {
		t.Fatalf("pending = %v, want %v", keys, want)
	}

	f.after = f.writes.Load()
	f.down.Store(true)
	if _, err := w.handle(second); err == nil {
		t.Fatal("the second delta's event succeeded while the first could not be imported")
	}
	if w.result("imports/z-delta.json") != nil || w.result("imports/b-delta.json") != nil {
		t.Fatal("a result written through the outage")
	}
	f.down.Store(false)
	out, err := w.im.Handle(context.Background(), second)
	if err != nil {
		t.Fatal(err)
	}
	if want := []importfn.Imported{{Key: "imports/z-delta.json", Status: importfn.Succeeded}, {Key: "imports/b-delta.json", Status: importfn.Succeeded}}; !slices.Equal(out.Imported, want) {
		t.Errorf("the invocation answers %+v, want %+v", out.Imported, want)
	}
	for _, key := range []string{"imports/z-delta.json", "imports/b-delta.json"} {
		if res := w.result(key); res == nil || res.Status != importfn.Succeeded {
			t.Fatalf("result of %s = %+v", key, res)
		}
	}
	// The first delta's own event, late: nothing left to do.
	stats, err := w.handle(first)
	if err != nil || stats.Requests.Load() != 0 {
		t.Fatalf("the late event: %v, %d DynamoDB requests", err, stats.Requests.Load())
	}
	after := doc
	after.Licenses = slices.Clone(doc.Licenses)
	after.Licenses[0].ExpirationDate = "2031-01-31"
	if got, want := state(t, st, doc), state(t, testenv.StoreLoaded(t, after), doc); got != want {
		t.Fatalf("after both deltas:\n%s\nwant the second's renewal:\n%s", got, want)
	}
}
