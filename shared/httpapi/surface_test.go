package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/subscription"
)

// noRedirects is a client that shows a redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// send sends a request as it is, path and headers untouched, and returns
// the answer without following a redirect.
func (e *env) send(method, path string, header http.Header, body string) (int, http.Header, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(raw)
}

func (e *env) bearer(user string) http.Header {
	return http.Header{"Authorization": {"Bearer " + e.tokens.Issue(user, time.Hour)}}
}

// errorCode returns the code of an answer in the API's error format, or
// fails the test.
func errorCode(t *testing.T, what string, header http.Header, body string) string {
	t.Helper()
	var b struct {
		Error struct{ Code, Message string }
	}
	if header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &b) != nil || b.Error.Code == "" || b.Error.Message == "" {
		t.Fatalf("%s: %s %q is not the API's JSON error", what, header.Get("Content-Type"), body)
	}
	return b.Error.Code
}

// Paths are taken as sent: nothing is cleaned or redirected, a path no
// route has is 404, a route's id that cannot be one (".", "..", an escaped
// '/') is 400, and a method the path does not take is 405 with Allow; the
// API Gateway adapter answers the same, byte for byte.
func TestPathsAndMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	api, err := httpapi.New(e.portal, httpapi.Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	lambda := httpapi.LambdaHandler(api.Handler())
	for _, tt := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"GET", "/v1", 404, "not_found", ""},
		{"GET", "/v1/", 404, "not_found", ""},
		{"GET", "//v1/me", 404, "not_found", ""},
		{"GET", "/v1//me", 404, "not_found", ""},
		{"GET", "/v1/./me", 404, "not_found", ""},
		{"GET", "/v1/me/", 404, "not_found", ""},
		{"GET", "/v1/me/../me", 404, "not_found", ""},
		{"GET", "/v1/nope", 404, "not_found", ""},
		{"GET", "/v1/licenses//history", 404, "not_found", ""},
		{"GET", "/v1/licenses/..", 400, "invalid_request", ""},
		{"GET", "/v1/licenses/.", 400, "invalid_request", ""},
		{"GET", "/v1/licenses/%2e%2E", 400, "invalid_request", ""},
		{"GET", "/v1/licenses/%2F", 400, "invalid_request", ""},
		{"GET", "/v1/licenses/FREE-10%2F..%2F..%2Fme", 400, "invalid_request", ""},
		{"GET", "/v1/licenses/A%2FB/history", 400, "invalid_request", ""},
		{"GET", "/v1/licenses/../history", 400, "invalid_request", ""},
		{"GET", "/v1/report-subscriptions/..", 400, "invalid_request", ""},
		{"PUT", "/v1/report-subscriptions/.", 400, "invalid_request", ""},
		{"GET", "/v1/reports/%2F/products", 400, "invalid_request", ""},
		{"POST", "/v1/me", 405, "invalid_request", "GET, HEAD"},
		{"DELETE", "/v1/exports", 405, "invalid_request", "POST, GET, HEAD"},
		{"PATCH", "/v1/pins/FREE-10", 405, "invalid_request", "PUT, DELETE"},
		{"GET", "/v1/licenses/FREE-10/partner-note", 405, "invalid_request", "PUT"},
		{"GET", "/v1/m%65", 200, "", ""},
	} {
		what := tt.method + " " + tt.path
		status, header, body := e.send(tt.method, tt.path, e.bearer("d1-admin"), "")
		if status != tt.status || header.Get("Location") != "" {
			t.Errorf("%s: %d (Location %q) %s, want %d", what, status, header.Get("Location"), body, tt.status)
			continue
		}
		if tt.code != "" {
			if code := errorCode(t, what, header, body); code != tt.code {
				t.Errorf("%s: code %s, want %s", what, code, tt.code)
			}
		}
		if got := header.Get("Allow"); got != tt.allow {
			t.Errorf("%s: Allow %q, want %q", what, got, tt.allow)
		}
		ev := apiEvent(tt.method, tt.path, "", "d1-admin", "", false)
		res, err := lambda(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if tt.status != 200 && (res.StatusCode != status || res.Body != body || res.Headers["Allow"] != tt.allow) {
			t.Errorf("%s on API Gateway: %d %v %s, want %d %s as over HTTP", what, res.StatusCode, res.Headers, res.Body, status, body)
		}
	}
}

// Request bodies name their fields exactly, once, in valid UTF-8 without
// lone surrogate escapes; encoding/json alone takes {"ALL":true} for
// {"all":true} and stores "\ud800" as U+FFFD.
func TestStrictBodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/v1/reports", `{"ALL":true}`},
		{"POST", "/v1/reports", `{"all":true,"All":true}`},
		{"POST", "/v1/reports", `{"all":false,"all":true}`},
		{"POST", "/v1/reports", `{"organizationIDs":["c1"]}`},
		{"POST", "/v1/reports", `{"all":true,"IncludeExpired":true}`},
		{"POST", "/v1/exports", `{"All":true}`},
		{"PUT", "/v1/licenses/FREE-10/partner-note", `{"Text":"x","version":0}`},
		{"PUT", "/v1/licenses/FREE-10/partner-note", `{"text":"\ud800","version":0}`},
		{"PUT", "/v1/licenses/FREE-10/partner-note", `{"text":"a\udc00b","version":0}`},
		{"PUT", "/v1/licenses/FREE-10/partner-note", `{"text":"\ud800\u0041","version":0}`},
		{"PUT", "/v1/licenses/FREE-10/partner-note", "{\"text\":\"\xff\",\"version\":0}"},
		{"PUT", "/v1/licenses/FREE-10/partner-note", "{\"text\":\"\xed\xa0\x80\",\"version\":0}"},
		{"POST", "/v1/licenses/FREE-10/activations", `{"DeploymentId":"srv-1","name":"one"}`},
		{"POST", "/v1/licenses/FREE-10/activations", `{"deploymentId":"srv-1","deploymentId":"srv-2","name":"one"}`},
		{"PUT", "/v1/report-subscriptions/weekly", `{"Frequency":"weekly","all":true}`},
		{"PUT", "/v1/report-subscriptions/weekly", `{"frequency":"weekly","all":true,"RECIPIENTS":[]}`},
		{"PUT", "/v1/notification-settings", `{"Enabled":true,"recipients":["a@x.example"],"thresholdDays":[30]}`},
		{"PUT", "/v1/notification-settings", `{"enabled":true,"recipients":["a@x.example"],"thresholddays":[30]}`},
		{"POST", "/v1/reports", strings.Repeat("[", 100) + strings.Repeat("]", 100)},
	} {
		status, header, body := e.send(tt.method, tt.path, e.bearer("d1-admin"), tt.body)
		if status != 400 || errorCode(t, tt.body, header, body) != "invalid_request" {
			t.Errorf("%s %s %q: %d %s, want 400 invalid_request", tt.method, tt.path, tt.body, status, body)
		}
	}
	// Nothing of the refused edits was kept; a pair of escapes is one
	// character, and names escaped are still the names.
	if got := e.call("GET", "/v1/licenses/FREE-10", "d1-admin", nil).want(t, 200, ""); got.body["partnerNote"] != nil {
		t.Errorf("a refused note was stored: %v", got.body["partnerNote"])
	}
	e.call("GET", "/v1/report-subscriptions/weekly", "d1-admin", nil).want(t, 404, "not_found")
	note := e.call("PUT", "/v1/licenses/FREE-10/partner-note", "d1-admin", `{"t\u0065xt":"\ud83d\ude00","version":0}`).want(t, 200, "")
	if note.body["text"] != "\U0001F600" {
		t.Errorf("a surrogate pair was stored as %q", note.body["text"])
	}
}

// A subscription id may not be a path segment of its own.
func TestSubscriptionIDIsNoPathSegment(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	req := portal.SubscriptionRequest{Frequency: subscription.Weekly, Selection: portal.Selection{All: true}}
	for _, id := range []string{".", ".."} {
		if _, _, err := e.portal.PutSubscription(context.Background(), "d1-admin", id, req); !fault.Is(err, fault.Invalid) {
			t.Errorf("subscription id %q: %v, want invalid_request", id, err)
		}
	}
	if _, _, err := e.portal.PutSubscription(context.Background(), "d1-admin", "...", req); err != nil {
		t.Errorf(`subscription id "...": %v`, err)
	}
}

// Every route refuses a query parameter it does not take, before anything
// else: the routes with a body take none.
func TestEveryRouteRefusesUnknownParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	values := strings.NewReplacer("{key}", "FREE-10", "{id}", "00000000000000000000000000", "{deploymentId}", "old-srv")
	for _, rt := range httpapi.Routes {
		path := values.Replace(rt.Path) + "?x=1"
		status, header, body := e.send(rt.Method, path, e.bearer("d1-admin"), `{}`)
		if status != 400 || errorCode(t, path, header, body) != "invalid_request" || !strings.Contains(body, `\"x\"`) {
			t.Errorf("%s %s: %d %s, want 400 naming parameter x", rt.Method, path, status, body)
		}
	}
}

// The scheme of an Authorization header is case-insensitive (RFC 7235);
// two credentials are refused, whichever would have won.
func TestAuthorizationHeader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	token := e.tokens.Issue("d1-viewer", time.Hour)
	for _, tt := range []struct {
		name   string
		values []string
		status int
	}{
		{"Bearer", []string{"Bearer " + token}, 200},
		{"bearer", []string{"bearer " + token}, 200},
		{"BEARER and spaces", []string{"BEARER   " + token + " "}, 200},
		{"two headers", []string{"Bearer " + token, "Bearer " + e.tokens.Issue("d1-admin", time.Hour)}, 401},
		{"the same token twice", []string{"Bearer " + token, "Bearer " + token}, 401},
		{"two joined", []string{"Bearer " + token + ", Bearer " + token}, 401},
		{"Basic", []string{"Basic " + token}, 401},
		{"no token", []string{"Bearer "}, 401},
	} {
		status, header, body := e.send("GET", "/v1/me", http.Header{"Authorization": tt.values}, "")
		if status != tt.status {
			t.Errorf("%s: %d %s, want %d", tt.name, status, body, tt.status)
		} else if status == 401 && errorCode(t, tt.name, header, body) != "unauthenticated" {
			t.Errorf("%s: %s", tt.name, body)
		}
	}

	// API Gateway joins repeated headers with commas; the authorizer took
	// one of them.
	handle := httpapi.LambdaHandler(bareAPI(t, e.store).Handler(httpapi.Orgs))
	for name, headers := range map[string]map[string]string{
		"joined":         {"authorization": "Bearer a,Bearer b"},
		"names in cases": {"authorization": "Bearer a", "Authorization": "Bearer b"},
	} {
		ev := apiEvent("GET", "/v1/me", "", "d1-viewer", "", false)
		ev.Headers = headers
		res, err := handle(context.Background(), ev)
		if err != nil || res.StatusCode != 401 || !strings.Contains(res.Body, `"unauthenticated"`) {
			t.Errorf("%s on API Gateway: %v %d %s, want 401 unauthenticated", name, err, res.StatusCode, res.Body)
		}
	}
	ev := apiEvent("GET", "/v1/me", "", "d1-viewer", "", false)
	ev.Headers = map[string]string{"authorization": "Bearer a"}
	if res, err := handle(context.Background(), ev); err != nil || res.StatusCode != 200 {
		t.Errorf("one credential on API Gateway: %v %d %s", err, res.StatusCode, res.Body)
	}
}
