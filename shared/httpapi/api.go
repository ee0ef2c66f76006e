// Package httpapi serves the portal's HTTP API: the route table, the
// handlers, the one mapping from error codes to HTTP statuses, and the
// adapter that runs the same handlers in Lambda behind API Gateway.
//
// Handlers are plain http.Handlers on ServeMux's pattern syntax, so they run
// unchanged under httptest, in the local server and in Lambda. Each decodes
// its request, makes one call into package portal, and encodes the result.
// The caller's identity arrives in the request context (see WithSubject):
// API Gateway's JWT authorizer has checked the token by then, and only its
// sub claim is used.
//
// A request is decoded before the caller's access is checked, so a request
// that is not well formed (malformed JSON or query, a body over 1 MiB) is
// answered 400 or 413 whoever sends it; everything else, ids and values
// included, is checked after the caller.
package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"

	"github.com/partnerportal/licenses/shared/portal"
)

// Config is what the handlers need besides the operations.
type Config struct {
	// Log receives a line per request and the detail of internal errors.
	Log *slog.Logger
	// Authenticate, when set, checks each request's credentials and puts
	// the subject in the context (see Tokens.Authenticate). On AWS it is
	// nil: API Gateway's authorizer has done it.
	Authenticate func(http.Handler) http.Handler
}

// API holds the handlers' dependencies.
type API struct {
	portal *portal.Service
	cfg    Config
}

// New returns the API over the portal's operations.
func New(svc *portal.Service, cfg Config) (*API, error) {
	if svc == nil || cfg.Log == nil {
		return nil, errors.New("httpapi: the portal's operations and a logger are required")
	}
	return &API{portal: svc, cfg: cfg}, nil
}

// Function names a Lambda function that serves routes of the API: its
// folder under functions/ and its function in template.yaml. Only the
// constants below name one, so a misspelt name does not compile; Handler
// refuses any other value.
type Function string

// The functions of the API.
const (
	Orgs          Function = "orgs"
	Reports       Function = "reports"
	Licenses      Function = "licenses"
	Notes         Function = "notes"
	Pins          Function = "pins"
	Exports       Function = "exports"
	Subscriptions Function = "subscriptions"
	Notifications Function = "notifications"
)

// Route is one endpoint of the API and the Lambda function that serves it.
type Route struct {
	Method   string
	Path     string // a ServeMux pattern path; API Gateway spells {key} the same way
	Function Function
	handle   func(*API, http.ResponseWriter, *http.Request) error
}

// Pattern returns the ServeMux pattern of the route.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Routes is the route table: the single source of truth for what each Lambda
// function serves, what the local server mounts, and what template.yaml
// declares (a test holds the template to it).
var Routes = []Route{
	{"GET", "/v1/me", Orgs, (*API).me},
	{"GET", "/v1/customer-organizations", Orgs, (*API).customerOrganizations},
	{"POST", "/v1/reports", Reports, (*API).createReport},
	{"GET", "/v1/reports/{id}/products", Reports, (*API).reportProducts},
	{"GET", "/v1/reports/{id}/cloud-services", Reports, (*API).reportCloudServices},
	{"GET", "/v1/licenses/{key}", Licenses, (*API).license},
	{"GET", "/v1/licenses/{key}/history", Licenses, (*API).history},
	{"POST", "/v1/licenses/{key}/activations", Licenses, (*API).activate},
	{"DELETE", "/v1/licenses/{key}/activations/{deploymentId}", Licenses, (*API).deactivate},
	{"PUT", "/v1/licenses/{key}/partner-note", Notes, (*API).partnerNote},
	{"GET", "/v1/pins", Pins, (*API).pins},
	{"PUT", "/v1/pins/{key}", Pins, (*API).pin},
	{"DELETE", "/v1/pins/{key}", Pins, (*API).unpin},
	{"POST", "/v1/exports", Exports, (*API).createExport},
	{"GET", "/v1/exports", Exports, (*API).listExports},
	{"GET", "/v1/exports/{id}", Exports, (*API).getExport},
	{"GET", "/v1/report-subscriptions", Subscriptions, (*API).listSubscriptions},
	{"GET", "/v1/report-subscriptions/{id}", Subscriptions, (*API).getSubscription},
	{"PUT", "/v1/report-subscriptions/{id}", Subscriptions, (*API).putSubscription},
	{"DELETE", "/v1/report-subscriptions/{id}", Subscriptions, (*API).deleteSubscription},
	{"GET", "/v1/notification-settings", Notifications, (*API).notificationSettings},
	{"PUT", "/v1/notification-settings", Notifications, (*API).saveNotificationSettings},
	{"GET", "/v1/notifications", Notifications, (*API).notifications},
	{"GET", "/v1/notifications/{id}", Notifications, (*API).notification},
}

// Handler returns the routes of the named functions on one router, or
// every route when none is named. Requests are logged, panics answered as
// internal errors, and errors answered in the API's error format, unknown
// paths and methods included; no path is cleaned or redirected (see
// router). It panics, at start-up, on a function that serves no
// route, and on the export routes when the portal was made without exports.
func (a *API) Handler(functions ...Function) http.Handler {
	rt := &router{api: a}
	for _, f := range functions {
		if !slices.ContainsFunc(Routes, func(r Route) bool { return r.Function == f }) {
			panic(fmt.Sprintf("httpapi: function %q serves no route of the API", f))
		}
	}
	for _, route := range Routes {
		if len(functions) > 0 && !slices.Contains(functions, route.Function) {
			continue
		}
		if route.Function == Exports && !a.portal.ServesExports() {
			panic("httpapi: the export routes need a portal made with exports")
		}
		rt.add(route.Method, route.Path, a.endpoint(route.handle))
	}
	var h http.Handler = rt
	if a.cfg.Authenticate != nil {
		h = a.cfg.Authenticate(h)
	}
	h = a.oneCredential(h)
	return a.logRequests(a.recoverPanics(h))
}
