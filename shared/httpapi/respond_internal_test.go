package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A panic in a handler is answered with the API's internal error, not the
// runtime's bare 500 (or API Gateway's own body, on Lambda), and logged
// with its stack.
func TestPanicIsAnsweredAsInternal(t *testing.T) {
	var logged strings.Builder
	a := &API{cfg: Config{Log: slog.New(slog.NewTextHandler(&logged, nil))}}
	h := a.logRequests(a.recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom in a handler")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/me", nil))
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 500 || body.Error.Code != "internal" {
		t.Fatalf("answer = %d %s, want 500 with the internal error body", rec.Code, rec.Body)
	}
	if strings.Contains(body.Error.Message, "boom") {
		t.Errorf("the answer shows the panic: %q", body.Error.Message)
	}
	if log := logged.String(); !strings.Contains(log, "boom in a handler") || !strings.Contains(log, "respond_internal_test.go") ||
		!strings.Contains(log, "status=500") {
		t.Errorf("the log does not hold the panic, its stack and the request's status:\n%s", log)
	}
}
