// Package httpapi serves the portal's HTTP API: the route table, the
// handlers, the one mapping from error codes to HTTP statuses, and the
// adapter that runs the same handlers in Lambda behind API Gateway.
//
// Handlers are plain http.Handlers on Go's ServeMux patterns, so they run
// unchanged under httptest, in the local server and in Lambda. The caller's
// identity arrives in the request context (see WithSubject): API Gateway's
// JWT authorizer has checked the token by then, and only its sub claim is
// used.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
)

// Config is what the handlers need besides the store.
type Config struct {
	// ExpiringWindow is the deployment's expiring window in days; a partner
	// organization may override it.
	ExpiringWindow int
	// Now returns the current time; Today the date statuses are computed
	// on, normally the UTC date of Now.
	Now   func() time.Time
	Today func() license.Date
	// Log receives a line per request and the detail of internal errors.
	Log *slog.Logger
	// Exports serves the export routes (export.Service); functions that
	// serve none leave it nil, and do not link the Excel writer.
	Exports Exporter
	// Authenticate, when set, checks each request's credentials and puts
	// the subject in the context (see Tokens.Authenticate). On AWS it is
	// nil: API Gateway's authorizer has done it.
	Authenticate func(http.Handler) http.Handler
}

// Exporter makes the Excel exports.
type Exporter interface {
	// Start creates an export of the selection for the scope's user, ready
	// or pending.
	Start(ctx context.Context, sc *access.Scope, sel report.Selection) (*store.Export, error)
	// URL presigns a fresh download link of a ready export and says when it
	// stops working.
	URL(ctx context.Context, e *store.Export) (string, time.Time, error)
}

// API holds the handlers' dependencies.
type API struct {
	store   *store.Store
	exports Exporter
	cfg     Config
}

// New returns the API over a store. Zero fields of cfg get defaults: the
// 30-day window, the system clock, and the default logger.
func New(st *store.Store, cfg Config) *API {
	if cfg.ExpiringWindow <= 0 {
		cfg.ExpiringWindow = license.DefaultExpiringWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Today == nil {
		cfg.Today = license.TodayOf(cfg.Now)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &API{store: st, exports: cfg.Exports, cfg: cfg}
}

// Route is one endpoint of the API and the Lambda function that serves it.
type Route struct {
	Method   string
	Path     string // a ServeMux pattern path; API Gateway spells {key} the same way
	Function string // the folder under functions/ and the template's function
	handle   func(*API, http.ResponseWriter, *http.Request) error
}

// Pattern returns the ServeMux pattern of the route.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Routes is the route table: the single source of truth for what each Lambda
// function serves, what the local server mounts, and what template.yaml
// declares (a test holds the template to it).
var Routes = []Route{
	{"GET", "/v1/me", "orgs", (*API).me},
	{"GET", "/v1/customer-organizations", "orgs", (*API).customerOrganizations},
	{"POST", "/v1/reports", "reports", (*API).createReport},
	{"GET", "/v1/reports/{id}/products", "reports", (*API).reportProducts},
	{"GET", "/v1/reports/{id}/cloud-services", "reports", (*API).reportCloudServices},
	{"GET", "/v1/licenses/{key}", "licenses", (*API).license},
	{"GET", "/v1/licenses/{key}/history", "licenses", (*API).history},
	{"POST", "/v1/licenses/{key}/activations", "licenses", (*API).activate},
	{"DELETE", "/v1/licenses/{key}/activations/{deploymentId}", "licenses", (*API).deactivate},
	{"PUT", "/v1/licenses/{key}/partner-note", "notes", (*API).partnerNote},
	{"GET", "/v1/pins", "pins", (*API).pins},
	{"PUT", "/v1/pins/{key}", "pins", (*API).pin},
	{"DELETE", "/v1/pins/{key}", "pins", (*API).unpin},
	{"POST", "/v1/exports", "exports", (*API).createExport},
	{"GET", "/v1/exports", "exports", (*API).listExports},
	{"GET", "/v1/exports/{id}", "exports", (*API).getExport},
	{"GET", "/v1/report-subscriptions", "subscriptions", (*API).listSubscriptions},
	{"GET", "/v1/report-subscriptions/{id}", "subscriptions", (*API).getSubscription},
	{"PUT", "/v1/report-subscriptions/{id}", "subscriptions", (*API).putSubscription},
	{"DELETE", "/v1/report-subscriptions/{id}", "subscriptions", (*API).deleteSubscription},
}

// Functions returns the names of the functions in the route table, in order
// of first appearance.
func Functions() []string {
	var names []string
	seen := make(map[string]bool)
	for _, r := range Routes {
		if !seen[r.Function] {
			seen[r.Function] = true
			names = append(names, r.Function)
		}
	}
	return names
}

// Handler returns the routes of the named functions on one mux, or every
// route when none is named. Requests are logged, and errors answered in the
// API's error format, unknown paths included.
func (a *API) Handler(functions ...string) http.Handler {
	mux := http.NewServeMux()
	want := make(map[string]bool)
	for _, f := range functions {
		want[f] = true
	}
	for _, rt := range Routes {
		if len(want) > 0 && !want[rt.Function] {
			continue
		}
		if rt.Function == "exports" && a.exports == nil {
			panic("httpapi: the export routes need Config.Exports")
		}
		mux.Handle(rt.Pattern(), a.endpoint(rt.handle))
	}
	mux.Handle("/", a.endpoint(func(*API, http.ResponseWriter, *http.Request) error {
		return errNoRoute
	}))
	var h http.Handler = mux
	if a.cfg.Authenticate != nil {
		h = a.cfg.Authenticate(h)
	}
	return a.logRequests(h)
}
