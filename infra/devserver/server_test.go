package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truora/minidyn/server"
	"github.com/xuri/excelize/v2"
)

// logBuffer collects what the server logs, for the test to read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs the local server as `go run ./infra/devserver` would, on a free
// port, and returns its base URL.
func start(t *testing.T, args ...string) string {
	base, _ := startLogged(t, args...)
	return base
}

// startLogged is start, also returning the server's log.
func startLogged(t *testing.T, args ...string) (string, *logBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	log := &logBuffer{}
	go func() { done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), log, ready) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server ended with %v", err)
		}
	})
	select {
	case base := <-ready:
		return base, log
	case err := <-done:
		t.Fatalf("server did not start: %v\n%s", err, log.String())
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start within a minute")
	}
	return "", nil
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(res.Body)
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		c.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	return res.StatusCode, out
}

func signIn(t *testing.T, base, user string) *client {
	t.Helper()
	c := &client{t: t, base: base}
	status, out := c.do("POST", "/dev/token", map[string]string{"sub": user})
	if status != 200 || out["token"] == "" {
		t.Fatalf("token: %d %v", status, out)
	}
	c.token = out["token"].(string)
	return c
}

// The walkthrough of the README, as a new user tries it.
func TestWalkthrough(t *testing.T) {
	base := start(t, "-today", "2026-06-15")
	anon := &client{t: t, base: base}
	if status, _ := anon.do("GET", "/v1/me", nil); status != 401 {
		t.Errorf("no token: %d, want 401", status)
	}
	c := signIn(t, base, "dist-1-admin")
	if status, me := c.do("GET", "/v1/me", nil); status != 200 || me["customerOrganizations"].(map[string]any)["access"] != "full" {
		t.Fatalf("me: %d %v", status, me)
	}
	status, orgs := c.do("GET", "/v1/customer-organizations", nil)
	if status != 200 || len(orgs["items"].([]any)) == 0 {
		t.Fatalf("customer organizations: %d %v", status, orgs)
	}
	status, rep := c.do("POST", "/v1/reports", map[string]any{"all": true})
	if status != 201 {
		t.Fatalf("report: %d %v", status, rep)
	}
	id := rep["id"].(string)
	if status, page := c.do("GET", "/v1/reports/"+id+"/products?status=expiring&limit=5", nil); status != 200 || len(page["items"].([]any)) != 5 {
		t.Errorf("page: %d %v", status, page)
	}

	// An export, downloaded from the link the server hands out.
	status, exp := c.do("POST", "/v1/exports", map[string]any{"organizationIds": []string{"org-cust-001"}})
	if status != 201 || exp["url"] == nil {
		t.Fatalf("export: %d %v", status, exp)
	}
	res, err := http.Get(exp["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("download: %d %s", res.StatusCode, body)
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("download is not a workbook: %v", err)
	}
	rows, _ := f.GetRows("Licenses")
	if want := int(exp["counts"].(map[string]any)["licenses"].(float64)); len(rows)-1 != want {
		t.Errorf("workbook has %d license rows, counts say %d", len(rows)-1, want)
	}
	f.Close()

	// A read user is refused; scheduled runs at the same time twice make one export.
	viewer := signIn(t, base, "dist-1-viewer")
	if status, _ := viewer.do("POST", "/v1/exports", map[string]any{"all": true}); status != 403 {
		t.Errorf("read user's export: %d, want 403", status)
	}
	if status, _ := c.do("PUT", "/v1/report-subscriptions/daily", map[string]any{"frequency": "daily", "all": true}); status != 201 {
		t.Fatalf("subscription: %d", status)
	}
	var made []any
	at := time.Now().UTC().Add(time.Minute).Format(time.RFC3339) // -today sets the status date, not the clock
	for i := 0; i < 2; i++ {
		status, out := anon.do("POST", "/dev/scheduled-reports", map[string]string{"at": at})
		if status != 200 {
			t.Fatalf("scheduled run: %d %v", status, out)
		}
		made = append(made, out["exports"].([]any)...)
	}
	if len(made) != 1 {
		t.Errorf("two scheduled runs at the same time made %v, want one export", made)
	}
}

func TestFlags(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"products":[{"id":"p","name":"P","category":"saas"}],"licenses":[{"key":"K","productId":"nope"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-today", "2026-02-30"}, "-today"},
		{[]string{"-data", bad}, "products[0].category"},
		{[]string{"-data", filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{"stray"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		var log bytes.Buffer
		err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, tt.args...), &log, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%v) = %v, want an error about %s", tt.args, err, tt.want)
		}
	}
}

// A data set of one's own replaces the demo.
func TestDataFlag(t *testing.T) {
	doc := `{"products":[{"id":"core","name":"MetaDefender Core","category":"on_prem"}],
 "organizations":[{"id":"d","name":"D","type":"distributor"},{"id":"c","name":"C","type":"customer","distributorId":"d"}],
 "roles":[{"id":"r","organizationId":"d","name":"Admin","permissions":{"license_management.customer_organizations":"read"}}],
 "users":[{"id":"me","email":"me@example.com","name":"Me","organizationId":"d","roleIds":["r"]}],
 "licenses":[{"key":"K-1","productId":"core","organizationIds":["c"],"type":"purchased","startDate":"2026-01-01","expirationDate":"2027-01-01","purchasedInstances":3}],
 "deployments":[],"partnerNotes":[]}`
	file := filepath.Join(t.TempDir(), "data.json")
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c := signIn(t, start(t, "-data", file), "me")
	status, orgs := c.do("GET", "/v1/customer-organizations", nil)
	items := orgs["items"].([]any)
	if status != 200 || len(items) != 1 || items[0].(map[string]any)["licenseCount"].(float64) != 1 {
		t.Errorf("customer organizations: %d %v", status, orgs)
	}
	if status, _ := signIn(t, c.base, "dist-1-admin").do("GET", "/v1/me", nil); status != 401 {
		t.Errorf("a demo user on a server with -data: %d, want 401", status)
	}
}

// With -dynamodb-endpoint the server uses another DynamoDB: it makes and
// loads the table the first time, and uses it as it is after that.
func TestExternalDynamoDB(t *testing.T) {
	ddb := httptest.NewServer(server.NewServer())
	defer ddb.Close()
	args := []string{"-dynamodb-endpoint", ddb.URL, "-table", "shared-dev"}
	first := signIn(t, start(t, args...), "dist-1-admin")
	if status, _ := first.do("PUT", "/v1/report-subscriptions/kept", map[string]any{"frequency": "daily", "all": true}); status != 201 {
		t.Fatalf("subscription: %d", status)
	}
	base, log := startLogged(t, args...)
	if !strings.Contains(log.String(), "using the data already in the table") {
		t.Errorf("the second server loaded the demo again:\n%s", log.String())
	}
	status, out := signIn(t, base, "dist-1-admin").do("GET", "/v1/report-subscriptions/kept", nil)
	if status != 200 {
		t.Errorf("the second server does not see the first one's data: %d %v", status, out)
	}
}

// The page is served at / with its assets and config; every other path
// that is no route answers the API's JSON error, never HTML or a redirect.
func TestPageAndUnknownPaths(t *testing.T) {
	base := start(t, "-today", "2026-06-15")
	get := func(path string) (*http.Response, string) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	res, page := get("/")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "Customer Organizations") {
		t.Fatalf("GET /: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	i := strings.Index(page, `src="assets/`)
	if i < 0 {
		t.Fatalf("the page names no script under assets/:\n%s", page)
	}
	script := page[i+len(`src="`):]
	script = script[:strings.IndexByte(script, '"')]
	if res, body := get("/" + script); res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(res.Header.Get("Cache-Control"), "immutable") || len(body) == 0 {
		t.Errorf("GET /%s: %d %s %s", script, res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	res, raw := get("/config.json")
	var cfg struct {
		Auth struct {
			Mode  string
			Users []struct{ ID, Access, OrganizationType string }
		}
	}
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil || res.StatusCode != 200 || cfg.Auth.Mode != "dev" {
		t.Fatalf("GET /config.json: %d %s", res.StatusCode, raw)
	}
	found := false
	for _, u := range cfg.Auth.Users {
		found = found || (u.ID == "dist-1-viewer" && u.Access == "read" && u.OrganizationType == "distributor")
	}
	if !found {
		t.Errorf("the sign-in picker does not offer dist-1-viewer with read access: %s", raw)
	}
	for _, path := range []string{"/nope", "/assets/missing.js", "/index.html", "/v2/me", "/dev/token", "/web/dist/index.html"} {
		res, body := get(path)
		if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/json" || !strings.Contains(body, `"code":"not_found"`) {
			t.Errorf("GET %s: %d %s %s, want 404 with the JSON error", path, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
	req, _ := http.NewRequest("POST", base+"/", strings.NewReader("{}"))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 404 {
		t.Errorf("POST /: %v %v, want 404", res, err)
	} else {
		res.Body.Close()
	}
}
