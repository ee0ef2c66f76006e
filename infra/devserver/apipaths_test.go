package main

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// The local server hands every path of the API to it as sent: ServeMux
// would redirect //v1/me or /v1/licenses/.. to a clean path, with an HTML
// body, before the API saw them.
func TestAPIPathsAreNotCleaned(t *testing.T) {
	base := start(t, "-today", "2026-06-15")
	c := signIn(t, base, "dist-1-admin")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/v1", 404, "not_found"},
		{"GET", "/v1/", 404, "not_found"},
		{"GET", "//v1/me", 404, "not_found"},
		{"GET", "/v1/./me", 404, "not_found"},
		{"GET", "/v1/..", 404, "not_found"},
		{"GET", "/x/../v1/me", 404, "not_found"},
		{"GET", "/v1/licenses/..", 400, "invalid_request"},
		{"GET", "/v1/licenses/%2F", 400, "invalid_request"},
		{"PUT", "/v1/report-subscriptions/..", 400, "invalid_request"},
		{"POST", "/v1/me", 405, "invalid_request"},
	} {
		req, _ := http.NewRequest(tt.method, base+tt.path, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var body struct{ Error struct{ Code string } }
		if res.StatusCode != tt.status || res.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &body) != nil || body.Error.Code != tt.code {
			t.Errorf("%s %s: %d %s %s, want %d %s", tt.method, tt.path, res.StatusCode, res.Header.Get("Content-Type"), raw, tt.status, tt.code)
		}
	}
}
