package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/partnerportal/licenses/shared/httpapi"
)

// apiEvent is an API Gateway HTTP API (payload 2.0) event as the JWT
// authorizer passes it on.
func apiEvent(method, path, query, sub, body string, b64 bool) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " " + path, RawPath: path, RawQueryString: query,
		Headers: map[string]string{"content-type": "application/json"}, Body: body, IsBase64Encoded: b64,
	}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = path
	if sub != "" {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"sub": sub, "email": "x@example.com"}},
		}
	}
	return ev
}

func TestLambdaHandler(t *testing.T) {
	t.Parallel()
	e := newEnv(t, actionsDoc(t))
	handle := httpapi.LambdaHandler(bareAPI(t, e.store).Handler(httpapi.Orgs, httpapi.Reports, httpapi.Licenses))
	tests := []struct {
		name   string
		ev     events.APIGatewayV2HTTPRequest
		status int
		check  func(t *testing.T, body map[string]any)
	}{
		{"the caller is the authorizer's sub", apiEvent("GET", "/v1/me", "", "d1-viewer", "", false), 200, func(t *testing.T, b map[string]any) {
			if obj(b["user"])["id"] != "d1-viewer" {
				t.Errorf("user = %v", b["user"])
			}
		}},
		{"no authorizer claims", apiEvent("GET", "/v1/me", "", "", "", false), 401, nil},
		{"a base64 body", apiEvent("POST", "/v1/reports", "", "d1-viewer", base64.StdEncoding.EncodeToString([]byte(`{"organizationIds":["c1"]}`)), true), 201, nil},
		{"a query string", apiEvent("GET", "/v1/licenses/FREE-10/history", "limit=1", "d1-viewer", "", false), 200, func(t *testing.T, b map[string]any) {
			if n := len(b["items"].([]any)); n != 1 {
				t.Errorf("limit=1 gave %d events", n)
			}
		}},
		{"an escaped path", apiEvent("GET", "/v1/licenses/NO%20SUCH", "", "d1-viewer", "", false), 400, nil},
		{"a missing license", apiEvent("GET", "/v1/licenses/NOPE", "", "d1-viewer", "", false), 404, nil},
		{"a route of another function", apiEvent("GET", "/v1/pins", "", "d1-viewer", "", false), 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := handle(context.Background(), tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tt.status, res.Body)
			}
			if res.Headers["Content-Type"] != "application/json" {
				t.Errorf("Content-Type = %q", res.Headers["Content-Type"])
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(res.Body), &body); err != nil {
				t.Fatalf("body is not JSON: %s", res.Body)
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}
