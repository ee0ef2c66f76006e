package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"pgregory.net/rapid"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/httpapi"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/mail/render"
	"github.com/partnerportal/licenses/shared/mail/ses"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/testenv"
)

// The tenant isolation matrix: over generated data sets, every route of the
// API, given an identifier of every kind that exists but that the caller's
// partner organization cannot see, answers exactly as it does for one that
// does not exist (status, headers, body byte for byte, the identifier aside),
// and no answer to a caller names what belongs to another partner.
//
// The matrix runs with a fixed seed and a few data sets unless rapid's
// flags (-rapid.seed, -rapid.checks) or variables (RAPID_SEED,
// RAPID_CHECKS) say otherwise, so that `go test ./...` is deterministic.

// isolationSeed and isolationChecks are the matrix's defaults.
const (
	isolationSeed   = "20261203"
	isolationChecks = "16"
)

// Kinds of identifier the matrix hands to a route.
const (
	kindLicense      = "license"      // a license the caller cannot see
	kindHidden       = "hidden"       // a license of a product partners never see, on the caller's customer
	kindOrg          = "organization" // an organization the caller cannot see
	kindProduct      = "product"      // a product partners never see
	kindReport       = "report"       // another partner's report
	kindExport       = "export"       // another partner's export
	kindSubscription = "subscription" // another partner's subscription
	kindDeployment   = "deployment"   // a deployment of a license the caller cannot see
	kindNotification = "notification" // another partner's digest
)

// slot is how one route takes an identifier of a kind: the request with %s
// where the identifier goes, and the request that undoes a success.
type slot struct {
	kind       string
	path, body string // with one %s each at most, filled alike
	undo       string // "METHOD path" with %s, sent after a 2xx answer
}

// routeCase is what the matrix does with one route: the slots it tries,
// and, for routes with no identifier of their own (or besides them), the
// requests whose answers are scanned for what belongs to other partners.
type routeCase struct {
	slots []slot
	scan  []string // "METHOD path [body]"
}

// caseFor returns the matrix's case for each route of the table, given the
// caller's own things (a report, a license it sees, one it can activate).
func caseFor(own ownThings) map[string]routeCase {
	activate := `{"deploymentId":"%s","name":"probe"}`
	return map[string]routeCase{
		"GET /v1/me":                     {scan: []string{"GET /v1/me"}},
		"GET /v1/customer-organizations": {scan: []string{"GET /v1/customer-organizations"}},
		"POST /v1/reports": {
			slots: []slot{
				{kind: kindOrg, path: "/v1/reports", body: `{"organizationIds":["%s"]}`},
				{kind: kindOrg, path: "/v1/reports", body: `{"organizationIds":["` + own.org + `","%s"],"includeExpired":true}`},
			},
			scan: []string{`POST /v1/reports {"all":true,"includeExpired":true}`},
		},
		"GET /v1/reports/{id}/products": {
			slots: []slot{
				{kind: kindReport, path: "/v1/reports/%s/products"},
				{kind: kindOrg, path: "/v1/reports/" + own.report + "/products?includeExpired=true&organizationId=%s"},
				{kind: kindProduct, path: "/v1/reports/" + own.report + "/products?includeExpired=true&productId=%s"},
			},
			scan: []string{"GET /v1/reports/" + own.report + "/products?includeExpired=true"},
		},
		"GET /v1/reports/{id}/cloud-services": {
			slots: []slot{
				{kind: kindReport, path: "/v1/reports/%s/cloud-services"},
				{kind: kindOrg, path: "/v1/reports/" + own.report + "/cloud-services?includeExpired=true&organizationId=%s"},
				{kind: kindProduct, path: "/v1/reports/" + own.report + "/cloud-services?includeExpired=true&productId=%s"},
			},
			scan: []string{"GET /v1/reports/" + own.report + "/cloud-services?includeExpired=true"},
		},
		"GET /v1/licenses/{key}": {
			slots: []slot{{kind: kindLicense, path: "/v1/licenses/%s"}, {kind: kindHidden, path: "/v1/licenses/%s"}},
			scan:  []string{"GET /v1/licenses/" + own.license},
		},
		"GET /v1/licenses/{key}/history": {
			slots: []slot{{kind: kindLicense, path: "/v1/licenses/%s/history"}, {kind: kindHidden, path: "/v1/licenses/%s/history"}},
			scan:  []string{"GET /v1/licenses/" + own.license + "/history"},
		},
		"POST /v1/licenses/{key}/activations": {
			slots: []slot{
				{kind: kindLicense, path: "/v1/licenses/%s/activations", body: `{"deploymentId":"probe-1"}`},
				{kind: kindHidden, path: "/v1/licenses/%s/activations", body: `{"deploymentId":"probe-1"}`},
				{kind: kindDeployment, path: "/v1/licenses/" + own.onPrem + "/activations", body: activate,
					undo: "DELETE /v1/licenses/" + own.onPrem + "/activations/%s"},
			},
		},
		"DELETE /v1/licenses/{key}/activations/{deploymentId}": {
			slots: []slot{
				{kind: kindLicense, path: "/v1/licenses/%s/activations/probe-1"},
				{kind: kindHidden, path: "/v1/licenses/%s/activations/probe-1"},
				{kind: kindDeployment, path: "/v1/licenses/" + own.onPrem + "/activations/%s"},
			},
		},
		"PUT /v1/licenses/{key}/partner-note": {
			slots: []slot{
				{kind: kindLicense, path: "/v1/licenses/%s/partner-note", body: `{"text":"probe","version":0}`},
				{kind: kindHidden, path: "/v1/licenses/%s/partner-note", body: `{"text":"probe","version":0}`},
			},
		},
		"GET /v1/pins": {scan: []string{"GET /v1/pins"}},
		"PUT /v1/pins/{key}": {
			slots: []slot{
				{kind: kindLicense, path: "/v1/pins/%s", undo: "DELETE /v1/pins/%s"},
				{kind: kindHidden, path: "/v1/pins/%s", undo: "DELETE /v1/pins/%s"},
			},
		},
		"DELETE /v1/pins/{key}": {
			slots: []slot{{kind: kindLicense, path: "/v1/pins/%s"}, {kind: kindHidden, path: "/v1/pins/%s"}},
		},
		"POST /v1/exports": {
			slots: []slot{
				{kind: kindOrg, path: "/v1/exports", body: `{"organizationIds":["%s"]}`},
				{kind: kindOrg, path: "/v1/exports", body: `{"organizationIds":["` + own.org + `","%s"]}`},
			},
		},
		"GET /v1/exports":      {scan: []string{"GET /v1/exports"}},
		"GET /v1/exports/{id}": {slots: []slot{{kind: kindExport, path: "/v1/exports/%s"}}},
		"GET /v1/report-subscriptions": {
			scan: []string{"GET /v1/report-subscriptions"},
		},
		"GET /v1/report-subscriptions/{id}": {
			slots: []slot{{kind: kindSubscription, path: "/v1/report-subscriptions/%s"}},
		},
		"PUT /v1/report-subscriptions/{id}": {
			slots: []slot{
				{kind: kindSubscription, path: "/v1/report-subscriptions/%s", body: `{"frequency":"weekly","all":true}`,
					undo: "DELETE /v1/report-subscriptions/%s"},
				{kind: kindOrg, path: "/v1/report-subscriptions/probe", body: `{"frequency":"daily","organizationIds":["%s"]}`,
					undo: "DELETE /v1/report-subscriptions/probe"},
			},
		},
		"DELETE /v1/report-subscriptions/{id}": {
			slots: []slot{{kind: kindSubscription, path: "/v1/report-subscriptions/%s"}},
		},
		"GET /v1/notification-settings": {scan: []string{"GET /v1/notification-settings"}},
		"PUT /v1/notification-settings": {
			scan: []string{`PUT /v1/notification-settings {"enabled":true,"recipients":["probe@caller.example"],"thresholdDays":[200]}`},
		},
		"GET /v1/notifications":      {scan: []string{"GET /v1/notifications"}},
		"GET /v1/notifications/{id}": {slots: []slot{{kind: kindNotification, path: "/v1/notifications/%s"}}},
	}
}

// ownThings are the caller's own: a customer organization, a report, a
// license and an on-prem license it sees.
type ownThings struct{ org, report, license, onPrem string }

// isoWorld is a generated data set, loaded and served, with what each
// partner made in it.
type isoWorld struct {
	e        *env
	doc      dataset.Document
	partners []string
	models   map[string]*model
	product  map[string]dataset.Product
	// per partner: its report, export, subscription and digests
	reports, exports, subs map[string]string
	digests                map[string][]string
	// every identifier of the world, so that missing ones are not among them
	taken map[string]bool
}

const (
	prodCore, prodCloud, prodHidden, prodHiddenCloud = "core", "clou", "hidp", "hidc"
)

// genDocument draws a data set: two or three distributors, two to four
// resellers, customers with sub-organizations to any depth (some with
// sellers of their own, some sold directly by the vendor), licenses on one
// or two of them, deployments, and on every customer a license of a product
// partners never see.
func genDocument(t *rapid.T) dataset.Document {
	nDist := rapid.IntRange(2, 3).Draw(t, "distributors")
	nRes := rapid.IntRange(2, 4).Draw(t, "resellers")
	nCust := rapid.IntRange(nDist+nRes, nDist+nRes+5).Draw(t, "customers")
	doc := dataset.Document{
		Products: []dataset.Product{
			{ID: prodCore, Name: "MetaDefender Core", Category: "on_prem"},
			{ID: prodCloud, Name: "MetaDefender Cloud", Category: "cloud_service"},
			{ID: prodHidden, Name: "MetaDefender IT Access", Category: "on_prem", VisibleToPartners: ptr(false)},
			{ID: prodHiddenCloud, Name: "Hidden Cloud", Category: "cloud_service", VisibleToPartners: ptr(false)},
		},
		Roles: []dataset.Role{}, Users: []dataset.User{}, Deployments: []dataset.Deployment{}, PartnerNotes: []dataset.PartnerNote{},
	}
	n := 0
	orgID := func() string { n++; return fmt.Sprintf("org-%03d", n) }
	var dists, ress, custs []string
	addPartner := func(typ string) string {
		id := orgID()
		doc.Organizations = append(doc.Organizations, dataset.Organization{ID: id, Name: "Partner " + id, Type: typ})
		for _, level := range []string{"full", "read"} {
			doc.Roles = append(doc.Roles, dataset.Role{ID: id + "-" + level, OrganizationID: id, Name: level,
				Permissions: map[string]string{"license_management.customer_organizations": level}})
			doc.Users = append(doc.Users, dataset.User{ID: id + "-" + level, Email: level + "@" + id + ".example",
				Name: "User " + level + " of " + id, OrganizationID: id, RoleIDs: []string{id + "-" + level}})
		}
		return id
	}
	for i := 0; i < nDist; i++ {
		dists = append(dists, addPartner("distributor"))
	}
	for i := 0; i < nRes; i++ {
		ress = append(ress, addPartner("reseller"))
	}
	for i := 0; i < nCust; i++ {
		o := dataset.Organization{ID: orgID(), Type: "customer"}
		o.Name = "Customer " + o.ID
		parent := -1
		if i >= nDist+nRes {
			parent = rapid.IntRange(-1, i-1).Draw(t, "parent")
		}
		own := parent < 0 || rapid.Bool().Draw(t, "sellers of its own")
		switch {
		case i < nDist: // each distributor sells to someone
			o.DistributorID = &dists[i]
		case i < nDist+nRes: // and each reseller, under some distributor
			o.DistributorID = &dists[rapid.IntRange(0, nDist-1).Draw(t, "distributor")]
			o.ResellerID = &ress[i-nDist]
		case own:
			if d := rapid.IntRange(-1, nDist-1).Draw(t, "distributor"); d >= 0 {
				o.DistributorID = &dists[d]
				if r := rapid.IntRange(-1, nRes-1).Draw(t, "reseller"); r >= 0 {
					o.ResellerID = &ress[r]
				}
			} // else sold directly by the vendor, or inheriting nothing
		}
		if parent >= 0 {
			o.ParentID = &custs[parent]
		}
		custs = append(custs, o.ID)
		doc.Organizations = append(doc.Organizations, o)
	}
	keys := 0
	addLicense := func(product string, orgs []string, daysLeft int) string {
		keys++
		l := dataset.License{Key: fmt.Sprintf("LK-%05d", keys), ProductID: product, OrganizationIDs: orgs,
			Type: "purchased", StartDate: "2026-01-01", ExpirationDate: testToday.AddDays(daysLeft).String()}
		if product == prodCore || product == prodHidden {
			l.PurchasedInstances = ptr(4)
			if rapid.Bool().Draw(t, "deployed") {
				doc.Deployments = append(doc.Deployments, dataset.Deployment{DeploymentID: fmt.Sprintf("dep-%04d", keys),
					LicenseKey: l.Key, ActivatedAt: "2026-03-01T00:00:00Z"})
			}
		} else {
			l.ScanLimit = ptr(1000)
		}
		doc.Licenses = append(doc.Licenses, l)
		return l.Key
	}
	products := []string{prodCore, prodCore, prodCloud, prodHidden, prodHiddenCloud}
	for i, nl := 0, rapid.IntRange(len(custs), 2*len(custs)).Draw(t, "licenses"); i < nl; i++ {
		orgs := []string{rapid.SampledFrom(custs).Draw(t, "assigned")}
		if other := rapid.SampledFrom(custs).Draw(t, "also assigned"); other != orgs[0] && rapid.Bool().Draw(t, "two") {
			orgs = append(orgs, other)
		}
		addLicense(rapid.SampledFrom(products).Draw(t, "product"), orgs, rapid.IntRange(-20, 200).Draw(t, "days left"))
	}
	for i, c := range custs { // every customer has a license of a hidden product, one visible on-prem one
		addLicense([]string{prodHidden, prodHiddenCloud}[i%2], []string{c}, 40)
		addLicense(prodCore, []string{c}, 100)
	}
	return doc
}

// newIsoWorld loads doc and has every partner that sees customers make a
// report, an export, a subscription, a pin, a note and an activation, and
// get a digest from the notifier.
func newIsoWorld(t *testing.T, rt *rapid.T, doc dataset.Document) *isoWorld {
	var sender ses.Sender
	from := "notify@portal-test.example"
	if os.Getenv(testenv.SESEndpointVariable) != "" {
		s := testenv.NewSES(t)
		sender, from = ses.Sender{Client: s.Client}, s.From
	} else {
		// No emulator: the same client, on an address that refuses
		// connections, so that every digest is recorded as failed (it still
		// has an id, which is what the matrix needs).
		sender = ses.Sender{Client: sesv2.NewFromConfig(awsconf.Local, func(o *sesv2.Options) {
			o.BaseEndpoint = aws.String("http://127.0.0.1:1")
			o.RetryMaxAttempts = 1
		})}
	}
	e := newEnvWith(t, testenv.Store(t), doc, func(cfg *portal.Config) {
		cfg.Mail = &portal.MailConfig{Sender: sender, Renderer: render.Templates{}, From: from, PortalURL: testPortal}
	})
	w := &isoWorld{e: e, doc: doc, models: map[string]*model{}, product: map[string]dataset.Product{},
		reports: map[string]string{}, exports: map[string]string{}, subs: map[string]string{},
		digests: map[string][]string{}, taken: map[string]bool{}}
	for _, p := range doc.Products {
		w.product[p.ID] = p
		w.taken[p.ID] = true
	}
	for _, o := range doc.Organizations {
		w.taken[o.ID] = true
		if o.Type != "customer" {
			w.partners = append(w.partners, o.ID)
			w.models[o.ID] = newModel(&w.doc, o.ID)
		}
	}
	for _, u := range doc.Users {
		w.taken[u.ID] = true
	}
	for _, l := range doc.Licenses {
		w.taken[l.Key] = true
	}
	for _, d := range doc.Deployments {
		w.taken[d.DeploymentID] = true
	}
	for _, p := range w.partners {
		if len(w.models[p].visible) == 0 {
			continue
		}
		user := p + "-full"
		w.reports[p] = w.mustID(rt, "POST", "/v1/reports", user, `{"all":true}`, 201)
		w.exports[p] = w.mustID(rt, "POST", "/v1/exports", user, `{"all":true}`, 201)
		w.subs[p] = "sub-" + p
		w.taken[w.subs[p]] = true
		w.must(rt, "PUT", "/v1/report-subscriptions/"+w.subs[p], user, `{"frequency":"weekly","all":true}`, 201)
		w.must(rt, "PUT", "/v1/notification-settings", user,
			`{"enabled":true,"recipients":["ops@`+p+`.example"],"thresholdDays":[200]}`, 200)
		if k := w.ownLicense(p, true); k != "" {
			dep := "act-" + p
			w.taken[dep] = true
			// A license may be full already: then it has deployments of its own.
			if a := w.do(rt, "POST", "/v1/licenses/"+k+"/activations", user, `{"deploymentId":"`+dep+`"}`); a.status != 201 && a.status != 409 {
				rt.Fatalf("setup: activation on %s as %s = %s, want 201 or 409", k, user, a)
			}
			w.must(rt, "PUT", "/v1/licenses/"+k+"/partner-note", user, `{"text":"note of `+p+`","version":0}`, 200)
			w.must(rt, "PUT", "/v1/pins/"+k, user, "", 204)
		}
	}
	if _, err := e.portal.Notify(context.Background(), e.now); err != nil && os.Getenv(testenv.SESEndpointVariable) != "" {
		rt.Fatalf("notify: %v", err)
	}
	for p := range w.reports {
		a := w.must(rt, "GET", "/v1/notifications", p+"-full", "", 200)
		var list struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(a.body, &list); err != nil {
			rt.Fatal(err)
		}
		for _, d := range list.Items {
			w.digests[p] = append(w.digests[p], d.ID)
			w.taken[d.ID] = true
		}
	}
	return w
}

// sees reports whether partner p sees license l.
func (w *isoWorld) sees(p string, l dataset.License) bool {
	if v := w.product[l.ProductID].VisibleToPartners; v != nil && !*v {
		return false
	}
	return slices.ContainsFunc(l.OrganizationIDs, func(o string) bool { return w.models[p].visible[o] })
}

// ownLicense returns a license that p sees, on-prem and active if asked.
func (w *isoWorld) ownLicense(p string, onPremActive bool) string {
	for _, l := range w.doc.Licenses {
		exp, _ := license.ParseDate(l.ExpirationDate)
		if w.sees(p, l) && (!onPremActive || l.ProductID == prodCore && exp.Sub(testToday) >= 0) {
			return l.Key
		}
	}
	return ""
}

// foreign returns the identifiers of each kind that exist and that
// partner p cannot see, sorted.
func (w *isoWorld) foreign(p string) map[string][]string {
	out := map[string][]string{}
	add := func(kind, v string) {
		if !slices.Contains(out[kind], v) {
			out[kind] = append(out[kind], v)
		}
	}
	for _, l := range w.doc.Licenses {
		hidden := w.product[l.ProductID].VisibleToPartners != nil && !*w.product[l.ProductID].VisibleToPartners
		switch {
		case w.sees(p, l):
			continue
		case hidden && slices.ContainsFunc(l.OrganizationIDs, func(o string) bool { return w.models[p].visible[o] }):
			add(kindHidden, l.Key)
		default:
			add(kindLicense, l.Key)
		}
		for _, d := range w.doc.Deployments {
			if d.LicenseKey == l.Key {
				add(kindDeployment, d.DeploymentID)
			}
		}
	}
	for _, o := range w.doc.Organizations {
		if !w.models[p].visible[o.ID] {
			add(kindOrg, o.ID)
		}
	}
	add(kindProduct, prodHidden)
	add(kindProduct, prodHiddenCloud)
	for q := range w.reports {
		if q == p {
			continue
		}
		add(kindReport, w.reports[q])
		add(kindExport, w.exports[q])
		add(kindSubscription, w.subs[q])
		for _, d := range w.digests[q] {
			add(kindNotification, d)
		}
		// the activation another partner made on a license p cannot see
		if k := w.ownLicense(q, true); k != "" && !w.sees(p, w.license(k)) {
			add(kindDeployment, "act-"+q)
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

func (w *isoWorld) license(key string) dataset.License {
	for _, l := range w.doc.Licenses {
		if l.Key == key {
			return l
		}
	}
	return dataset.License{}
}

// forbidden returns what no answer to partner p may name: licenses and
// customer organizations it cannot see, other partners' reports, exports,
// subscriptions, digests, deployments and users.
func (w *isoWorld) forbidden(p string) []string {
	var out []string
	f := w.foreign(p)
	for _, kind := range []string{kindLicense, kindHidden, kindReport, kindExport, kindSubscription, kindNotification, kindDeployment} {
		out = append(out, f[kind]...)
	}
	for _, o := range w.doc.Organizations {
		if o.Type == "customer" && !w.models[p].visible[o.ID] {
			out = append(out, o.ID)
		}
	}
	for _, u := range w.doc.Users {
		if u.OrganizationID != p {
			out = append(out, u.ID)
		}
	}
	return out
}

// missingLike returns an identifier of the same length and form as v that
// names nothing in the world: v with its last characters replaced by
// digits.
func (w *isoWorld) missingLike(v string) string {
	for i := 0; ; i++ {
		tail := fmt.Sprintf("9%03d", i%1000)
		if len(v) <= len(tail) {
			tail = tail[len(tail)-len(v)+1:]
		}
		m := v[:len(v)-len(tail)] + tail
		if !w.taken[m] {
			w.taken[m] = true
			return m
		}
		if i > 10_000 {
			panic("no missing identifier like " + v)
		}
	}
}

// answer is an HTTP answer as the matrix compares it.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string {
	keys := make([]string, 0, len(a.header))
	for k := range a.header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%d", a.status)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s: %s;", k, strings.Join(a.header[k], ","))
	}
	fmt.Fprintf(&b, " %s", bytes.TrimSpace(a.body))
	return b.String()
}

// do sends a request as user through the API's HTTP handler. Only the Date
// header, which differs from one second to the next, is left out.
func (w *isoWorld) do(rt *rapid.T, method, path, user, body string) answer {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, w.e.url+path, r)
	if err != nil {
		rt.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.e.tokens.Issue(user, time.Hour))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		rt.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		rt.Fatal(err)
	}
	res.Header.Del("Date")
	return answer{status: res.StatusCode, header: res.Header, body: raw}
}

func (w *isoWorld) must(rt *rapid.T, method, path, user, body string, status int) answer {
	a := w.do(rt, method, path, user, body)
	if a.status != status {
		rt.Fatalf("setup: %s %s as %s = %s, want %d", method, path, user, a, status)
	}
	return a
}

func (w *isoWorld) mustID(rt *rapid.T, method, path, user, body string, status int) string {
	a := w.must(rt, method, path, user, body, status)
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(a.body, &v); err != nil || v.ID == "" {
		rt.Fatalf("setup: %s %s: no id in %s", method, path, a.body)
	}
	w.taken[v.ID] = true
	return v.ID
}

// replaced is a with every f in its headers and body replaced by m.
func (a answer) replaced(f, m string) answer {
	h := http.Header{}
	for k, vs := range a.header {
		for _, v := range vs {
			h.Add(k, strings.ReplaceAll(v, f, m))
		}
	}
	return answer{status: a.status, header: h, body: bytes.ReplaceAll(a.body, []byte(f), []byte(m))}
}

func (a answer) same(b answer) bool {
	if a.status != b.status || !bytes.Equal(a.body, b.body) || len(a.header) != len(b.header) {
		return false
	}
	for k, v := range a.header {
		if !slices.Equal(v, b.header.Values(k)) {
			return false
		}
	}
	return true
}

// request splits "METHOD path [body]".
func request(s string) (method, path, body string) {
	method, rest, _ := strings.Cut(s, " ")
	path, body, _ = strings.Cut(rest, " ")
	return method, path, body
}

// fill puts v where a template has %s.
func fill(tmpl, v string) string {
	if !strings.Contains(tmpl, "%s") {
		return tmpl
	}
	return fmt.Sprintf(tmpl, v)
}

// isolationFlags makes rapid deterministic and quick by default.
var isolationFlags sync.Once

func TestIsolationMatrix(t *testing.T) {
	isolationFlags.Do(func() {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, def := range map[string]string{"rapid.seed": isolationSeed, "rapid.checks": isolationChecks} {
			env := strings.ToUpper(strings.ReplaceAll(name, ".", "_"))
			if !set[name] && os.Getenv(env) == "" {
				if err := flag.Set(name, def); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
	t.Parallel()

	// Every route of the table is in the matrix, and the matrix names no
	// route the table does not have.
	cases := caseFor(ownThings{})
	var patterns []string
	for _, r := range httpapi.Routes {
		patterns = append(patterns, r.Pattern())
		if _, ok := cases[r.Pattern()]; !ok {
			t.Errorf("route %s is not in the isolation matrix: add it to caseFor", r.Pattern())
		}
	}
	for p := range cases {
		if !slices.Contains(patterns, p) {
			t.Errorf("the isolation matrix names %s, which the route table does not have", p)
		}
	}
	if t.Failed() {
		return
	}

	// Over every data set, each route and kind of identifier must have been
	// tried at least once, or the matrix proves nothing about it.
	var mu sync.Mutex
	tried := map[string]int{}
	rapid.Check(t, func(rt *rapid.T) {
		w := newIsoWorld(t, rt, genDocument(rt))
		caller := rapid.SampledFrom(w.partners).Draw(rt, "caller")
		user := caller + "-" + rapid.SampledFrom([]string{"full", "read"}).Draw(rt, "access")
		own := ownThings{report: w.reports[caller], license: w.ownLicense(caller, false), onPrem: w.ownLicense(caller, true)}
		for o := range w.models[caller].visible {
			if own.org == "" || o < own.org {
				own.org = o
			}
		}
		if own.report == "" { // a partner that sees no customer: any well-formed id
			own.report, own.license, own.onPrem, own.org = w.missingLike(w.exports[w.partners[0]]), "LK-99999", "LK-99998", "org-999"
		}
		foreign := w.foreign(caller)
		forbidden := w.forbidden(caller)
		cases := caseFor(own)
		activated := map[string]bool{}
		start := time.Now()
		defer func() { rt.Logf("checked in %v", time.Since(start)) }()
		for _, r := range httpapi.Routes {
			c := cases[r.Pattern()]
			for _, s := range c.slots {
				values := foreign[s.kind]
				if s.kind == kindDeployment && s.body == "" {
					// A deployment the caller activated on its own
					// license is its own now, deactivated or not.
					values = slices.DeleteFunc(slices.Clone(values), func(v string) bool { return activated[v] })
				}
				if len(values) == 0 {
					continue
				}
				for i, n := 0, rapid.IntRange(1, min(2, len(values))).Draw(rt, "tries"); i < n; i++ {
					f := rapid.SampledFrom(values).Draw(rt, r.Pattern()+" "+s.kind)
					m := w.missingLike(f)
					if s.kind == kindDeployment && s.body != "" {
						activated[f] = true
					}
					missing := w.do(rt, r.Method, fill(s.path, m), user, fill(s.body, m))
					w.undo(rt, s, m, user, missing)
					got := w.do(rt, r.Method, fill(s.path, f), user, fill(s.body, f))
					w.undo(rt, s, f, user, got)
					if !got.replaced(f, m).same(missing) {
						rt.Fatalf("%s as %s: the %s %s (another partner's) answers unlike the missing %s:\n  %s %s\n    %s\n  %s %s\n    %s",
							r.Pattern(), user, s.kind, f, m,
							r.Method, fill(s.path, f), got, r.Method, fill(s.path, m), missing)
					}
					mu.Lock()
					tried[r.Pattern()+" "+s.kind]++
					mu.Unlock()
				}
			}
			for _, q := range c.scan {
				method, path, body := request(q)
				a := w.do(rt, method, path, user, body)
				if a.status >= 500 {
					rt.Fatalf("%s as %s: %s", q, user, a)
				}
				for _, x := range forbidden {
					if bytes.Contains(a.body, []byte(`"`+x+`"`)) {
						rt.Fatalf("%s as %s names %s, which is another partner's: %s", q, user, x, a)
					}
				}
				mu.Lock()
				tried[r.Pattern()+" scan"]++
				mu.Unlock()
			}
		}
		// Nothing the caller tried changed another partner's things.
		for p, rep := range w.reports {
			if p == caller {
				continue
			}
			w.must(rt, "GET", "/v1/report-subscriptions/"+w.subs[p], p+"-full", "", 200)
			w.must(rt, "GET", "/v1/exports/"+w.exports[p], p+"-full", "", 200)
			w.must(rt, "GET", "/v1/reports/"+rep+"/products", p+"-full", "", 200)
		}
	})
	if t.Failed() {
		return
	}
	for pattern, c := range caseFor(ownThings{}) {
		for _, s := range c.slots {
			if tried[pattern+" "+s.kind] == 0 {
				t.Errorf("%s was never tried with a foreign %s: make the data sets hold one", pattern, s.kind)
			}
		}
		if len(c.scan) > 0 && tried[pattern+" scan"] == 0 {
			t.Errorf("%s was never scanned", pattern)
		}
	}
}

// undo sends the slot's undo request after a success, so that the next
// request meets the same state.
func (w *isoWorld) undo(rt *rapid.T, s slot, v, user string, a answer) {
	if s.undo == "" || a.status/100 != 2 {
		return
	}
	method, path, _ := request(s.undo)
	if u := w.do(rt, method, fill(path, v), user, ""); u.status/100 != 2 {
		rt.Fatalf("undo %s: %s", fill(s.undo, v), u)
	}
}
