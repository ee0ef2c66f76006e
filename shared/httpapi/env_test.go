package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
	"github.com/partnerportal/licenses/shared/workbook"
)

// testToday is the date the tests compute statuses on.
var testToday, _ = license.ParseDate("2026-06-15")

// env is an API served over HTTP on a real store in the DynamoDB emulator,
// with exports in an S3 emulator.
type env struct {
	t      testing.TB
	url    string
	store  *store.Store
	portal *portal.Service
	s3     *s3.Client
	tokens *httpapi.Tokens
	doc    dataset.Document
	now    time.Time
}

// testBucket is the export bucket of the tests.
const testBucket = "exports"

// newEnv serves the API over a fresh table loaded with doc.
func newEnv(t testing.TB, doc dataset.Document) *env {
	t.Helper()
	return newEnvOn(t, testenv.Store(t), doc)
}

// testChunkRows is the rows of a report chunk in the tests: small, so that
// the lists of the test data take many chunks and pages cross and skip them
// as they do at scale.
const testChunkRows = 17

// newEnvOn serves the API over st, loaded with doc. configure, if given,
// changes the configuration of exports.
func newEnvOn(t testing.TB, st *store.Store, doc dataset.Document, configure ...func(*portal.ExportConfig)) *env {
	t.Helper()
	return newEnvWith(t, st, doc, func(cfg *portal.Config) {
		for _, f := range configure {
			f(cfg.Exports)
		}
	})
}

// newEnvWith serves the API over st, loaded with doc, with the portal's
// configuration changed by configure.
func newEnvWith(t testing.TB, st *store.Store, doc dataset.Document, configure func(*portal.Config)) *env {
	t.Helper()
	st.ReportChunkRows = testChunkRows
	ds, err := dataset.Check(&doc)
	if err != nil {
		t.Fatalf("test data set: %v", err)
	}
	e := &env{t: t, store: st, doc: doc, now: testToday.Time().Add(9 * time.Hour)}
	if _, err := st.Import(context.Background(), ds, store.ImportOptions{Now: e.now.Add(-time.Hour)}); err != nil {
		t.Fatalf("import: %v", err)
	}
	e.tokens = httpapi.NewTokens([]byte("test key"), func() time.Time { return e.now })
	clock := func() time.Time { return e.now }
	today := func() license.Date { return testToday }
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.s3 = testenv.S3(t, testBucket)
	files, err := workbook.NewFiles(e.s3, s3.NewPresignClient(e.s3), testBucket, 15*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	cfg := portal.Config{ExpiringWindow: license.DefaultExpiringWindow, Now: clock, Today: today, Log: quiet,
		Exports: &portal.ExportConfig{Files: files, Retention: 7 * 24 * time.Hour, SyncLimit: 10_000}}
	configure(&cfg)
	e.portal, err = portal.New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(e.portal, httpapi.Config{Log: quiet, Authenticate: e.tokens.Authenticate})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// shared is an environment that read-only tests share.
type shared struct {
	once sync.Once
	env  *env
	doc  func() dataset.Document
}

// get returns the shared environment for test t: its failures are t's,
// whichever test started the environment.
func (s *shared) get(t *testing.T) *env {
	t.Helper()
	s.once.Do(func() { s.env = newEnv(&sharedTB{t}, s.doc()) })
	if s.env == nil {
		t.Fatal("the shared environment failed to start")
	}
	e := *s.env
	e.t = t
	return &e
}

var (
	// demoEnv holds the local server's demo data set.
	demoEnv = &shared{doc: func() dataset.Document { return demo.Document(testToday) }}
	// smallEnv holds a smaller data set of the same shape, for tests that
	// make many requests: the in-process DynamoDB reads its whole table for
	// every Query, so a small table keeps them quick.
	smallEnv = &shared{doc: func() dataset.Document {
		cfg := demo.Small()
		cfg.Customers, cfg.Licenses = 24, 300
		return demo.Generate(cfg, testToday)
	}}
)

// demoAPI returns the shared environment with the demo data set.
func demoAPI(t *testing.T) *env { return demoEnv.get(t) }

// smallAPI returns the shared environment with the smaller data set.
func smallAPI(t *testing.T) *env { return smallEnv.get(t) }

// sharedTB lets the shared environment outlive the test that creates it:
// its cleanups never run, and the process exit ends the servers.
type sharedTB struct{ testing.TB }

func (s *sharedTB) Cleanup(func()) {}

// response is a decoded API answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// call sends a request as user (no token when user is empty) and decodes the
// JSON answer. body may be a string (sent as is) or a value (encoded).
func (e *env) call(method, path, user string, body any) response {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens.Issue(user, time.Hour))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	out := response{status: res.StatusCode, header: res.Header}
	out.raw, _ = io.ReadAll(res.Body)
	if len(out.raw) > 0 {
		if err := json.Unmarshal(out.raw, &out.body); err != nil {
			e.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, out.raw)
		}
	}
	return out
}

// want fails the test unless the answer has the status and, for errors, the
// error code.
func (r response) want(t testing.TB, status int, code string) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.raw)
	}
	if code != "" {
		errObj, _ := r.body["error"].(map[string]any)
		if errObj == nil || errObj["code"] != code || errObj["message"] == "" {
			t.Fatalf("error = %s, want code %s with a message", r.raw, code)
		}
	}
	return r
}

func items(t testing.TB, v any) []map[string]any {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list: %v", v)
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i] = x.(map[string]any)
	}
	return out
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// bareAPI returns the API over st without exports and without the local
// server's token check, as the Lambda functions mount it: the subject comes
// from the request context.
func bareAPI(tb testing.TB, st *store.Store) *httpapi.API {
	tb.Helper()
	return bareAPIWindow(tb, st, license.DefaultExpiringWindow)
}

// bareAPIWindow is bareAPI with the deployment's expiring window.
func bareAPIWindow(tb testing.TB, st *store.Store, window int) *httpapi.API {
	tb.Helper()
	svc, err := portal.New(st, portal.Config{ExpiringWindow: window, Now: time.Now,
		Today: func() license.Date { return testToday }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	api, err := httpapi.New(svc, httpapi.Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		tb.Fatal(err)
	}
	return api
}
