package store_test

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
)

// The tests in this package's import_test.go, read_test.go and
// reports_test.go use no transactions, so that they pass on dynalite as well
// as on minidyn.

// importNow is the time of every first import; later imports pass later
// times, so that their events can be told apart.
var importNow = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)

// world is a store on a fresh table, with the raw client beside it so that a
// test can look at items no method reads yet (history events, report chunks).
type world struct {
	t     *testing.T
	ctx   context.Context
	s     *store.Store
	db    *dynamodb.Client
	table string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldOn(t, testenv.DynamoDB(t), testenv.Table)
}

// newWorldOn is newWorld on another DynamoDB, in a table that table makes.
func newWorldOn(t *testing.T, db *dynamodb.Client, table func(testing.TB, *dynamodb.Client) string) *world {
	t.Helper()
	name := table(t, db)
	waitForTable(t, db, name)
	return &world{t: t, ctx: context.Background(), s: store.New(db, name), db: db, table: name}
}

// waitForTable waits until the table is no longer CREATING. dynalite answers CreateTable
// with CREATING and refuses item requests with ResourceNotFoundException until
// its timer fires, even with --createTableMs 0, and testenv.Table does not
// wait.
func waitForTable(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		// Only CREATING means wait.
		if err == nil && out.Table.TableStatus != types.TableStatusCreating {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("table %s is not active after 10s (last error: %v)", table, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checked turns a document into a data set, failing the test if it breaks a rule.
func checked(t *testing.T, doc dataset.Document) *dataset.Dataset {
	t.Helper()
	ds, err := dataset.Check(&doc)
	if err != nil {
		t.Fatalf("dataset.Check: %v", err)
	}
	return ds
}

// load imports the data set at time now.
func (w *world) load(ds *dataset.Dataset, now time.Time) store.ImportResult {
	w.t.Helper()
	res, err := w.s.Import(w.ctx, ds, store.ImportOptions{Now: now})
	if err != nil {
		w.t.Fatalf("Import: %v", err)
	}
	return res
}

// loadDoc checks and imports a document at time now.
func (w *world) loadDoc(doc dataset.Document, now time.Time) store.ImportResult {
	w.t.Helper()
	return w.load(checked(w.t, doc), now)
}

// assertSettled imports the document again and fails unless that writes and
// deletes nothing: the table already holds exactly what the document says.
func (w *world) assertSettled(doc dataset.Document, now time.Time) {
	w.t.Helper()
	res := w.loadDoc(doc, now)
	if res.Written != 0 || res.Deleted != 0 {
		w.t.Errorf("importing the same document again: got %d puts and %d deletes, want none (%+v)", res.Written, res.Deleted, res)
	}
}

// scanAll returns every item of the table. Tests may scan; the store may not.
func (w *world) scanAll() []map[string]types.AttributeValue {
	w.t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(w.db, &dynamodb.ScanInput{TableName: aws.String(w.table)})
	for p.HasMorePages() {
		out, err := p.NextPage(w.ctx)
		if err != nil {
			w.t.Fatalf("scan: %v", err)
		}
		items = append(items, out.Items...)
	}
	return items
}

// queryPrefix returns the items of partition pk whose sort key begins with prefix.
func (w *world) queryPrefix(pk, prefix string) []map[string]types.AttributeValue {
	w.t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(w.db, &dynamodb.QueryInput{
		TableName:              aws.String(w.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: pk},
			":sk": &types.AttributeValueMemberS{Value: prefix},
		},
	})
	for p.HasMorePages() {
		out, err := p.NextPage(w.ctx)
		if err != nil {
			w.t.Fatalf("query %s %s: %v", pk, prefix, err)
		}
		items = append(items, out.Items...)
	}
	return items
}

// storedEvent is a history event as the table holds it.
type storedEvent struct {
	SK      string
	At      string         `dynamodbav:"at"`
	Type    string         `dynamodbav:"type"`
	Actor   string         `dynamodbav:"actor"`
	Partner string         `dynamodbav:"partnerId"`
	Data    map[string]any `dynamodbav:"data"`
}

// events returns the history of a license, oldest first, read straight from
// the table (PK LICENSE#<key>, SK EVENT#...): the store has no History method
// yet.
func (w *world) events(key string) []storedEvent {
	w.t.Helper()
	var events []storedEvent
	for _, item := range w.queryPrefix("LICENSE#"+key, "EVENT#") {
		var e storedEvent
		if err := attributevalue.UnmarshalMap(item, &e); err != nil {
			w.t.Fatalf("event of %s: %v", key, err)
		}
		events = append(events, e)
	}
	return events
}

// added returns the events of after that are not in before, in order. An
// activated event carries the deployment's activation time, so new events
// need not sort after the old ones.
func added(before, after []storedEvent) []storedEvent {
	old := make(map[string]bool, len(before))
	for _, e := range before {
		old[e.SK] = true
	}
	var events []storedEvent
	for _, e := range after {
		if !old[e.SK] {
			events = append(events, e)
		}
	}
	return events
}

// eventTypes returns the types of events, in order.
func eventTypes(events []storedEvent) []string {
	types := []string{}
	for _, e := range events {
		types = append(types, e.Type)
	}
	return types
}

// ptrTo returns a pointer to v.
func ptrTo[T any](v T) *T { return &v }

// licenseKeys returns the keys of the records, sorted, duplicates kept.
func licenseKeys(rs []*store.Record) []string {
	keys := []string{}
	for _, r := range rs {
		keys = append(keys, r.Key)
	}
	sort.Strings(keys)
	return keys
}

// findLicense returns the license with the key in the document.
func findLicense(t *testing.T, doc *dataset.Document, key string) *dataset.License {
	t.Helper()
	for i := range doc.Licenses {
		if doc.Licenses[i].Key == key {
			return &doc.Licenses[i]
		}
	}
	t.Fatalf("no license %s in the document", key)
	return nil
}

// findDeployment returns the deployment of the license in the document.
func findDeployment(t *testing.T, doc *dataset.Document, key, id string) *dataset.Deployment {
	t.Helper()
	for i := range doc.Deployments {
		if d := &doc.Deployments[i]; d.LicenseKey == key && d.DeploymentID == id {
			return d
		}
	}
	t.Fatalf("no deployment %s of %s in the document", id, key)
	return nil
}

// findOrg returns the organization with the id in the document.
func findOrg(t *testing.T, doc *dataset.Document, id string) *dataset.Organization {
	t.Helper()
	for i := range doc.Organizations {
		if doc.Organizations[i].ID == id {
			return &doc.Organizations[i]
		}
	}
	t.Fatalf("no organization %s in the document", id)
	return nil
}

// Identifiers of the hand-written document.
const (
	licMain     = "LIC-CORE-MAIN"   // core, cust-main; dep-1, dep-2 active, dep-3 inactive; two partner notes
	licShared   = "LIC-SHARED"      // core, cust-main and its sub-organization cust-sub; dep-s active
	licCloudOwn = "LIC-CLOUD-OWN"   // cloud, cust-sub-own, scans used
	licCloudNew = "LIC-CLOUD-NOUSE" // cloud, cust-sub, no scans used
	licDirect   = "LIC-DIRECT"      // core evaluation, cust-direct
	licHidden   = "LIC-HIDDEN"      // a product partners never see, cust-main
	licB        = "LIC-B"           // core, cust-b of the other distributor
)

// baseDoc returns a small hand-written document with every case the store
// must handle: two distributors and two resellers; a main customer
// organization sold through a reseller with one sub-organization that
// inherits its sellers and one that names its own reseller; a customer sold
// directly; a license on a main organization and its sub-organization;
// active and inactive deployments; on-prem, cloud and hidden products; notes
// of a distributor and a reseller; and users whose roles grant every level.
// Each call returns a new document, so tests may change it.
func baseDoc() dataset.Document {
	full := map[string]string{"license_management.customer_organizations": "full"}
	read := map[string]string{"license_management.customer_organizations": "read"}
	return dataset.Document{
		Products: []dataset.Product{
			{ID: "core", Name: "MetaDefender Core", Category: "on_prem"},
			{ID: "cloud", Name: "MetaDefender Cloud", Category: "cloud_service", VisibleToPartners: ptrTo(true)},
			{ID: "itaccess", Name: "MetaDefender IT Access", Category: "on_prem", VisibleToPartners: ptrTo(false)},
		},
		Organizations: []dataset.Organization{
			{ID: "dist-a", Name: "Distributor A", Type: "distributor", ExpiringWindowDays: ptrTo(45)},
			{ID: "dist-b", Name: "Distributor B", Type: "distributor"},
			{ID: "res-a", Name: "Reseller A", Type: "reseller"},
			{ID: "res-b", Name: "Reseller B", Type: "reseller"},
			{ID: "cust-main", Name: "Main Corp", Type: "customer", DistributorID: ptrTo("dist-a"), ResellerID: ptrTo("res-a")},
			{ID: "cust-sub", Name: "Main Corp Labs", Type: "customer", ParentID: ptrTo("cust-main")},
			{ID: "cust-sub-own", Name: "Main Corp Ops", Type: "customer", ParentID: ptrTo("cust-main"), ResellerID: ptrTo("res-b")},
			{ID: "cust-direct", Name: "Direct GmbH", Type: "customer", DistributorID: ptrTo("dist-a")},
			{ID: "cust-b", Name: "Bee Ltd", Type: "customer", DistributorID: ptrTo("dist-b")},
		},
		Roles: []dataset.Role{
			{ID: "role-a-read", OrganizationID: "dist-a", Name: "Viewer", Permissions: read},
			{ID: "role-a-full", OrganizationID: "dist-a", Name: "Admin", Permissions: full},
			{ID: "role-a-other", OrganizationID: "dist-a", Name: "Billing", Permissions: map[string]string{"billing.invoices": "full"}},
			{ID: "role-ra-full", OrganizationID: "res-a", Name: "Admin", Permissions: full},
			{ID: "role-cust", OrganizationID: "cust-main", Name: "Admin", Permissions: full},
		},
		Users: []dataset.User{
			{ID: "u-multi", Email: "multi@dist-a.example", Name: "Mia Multi", OrganizationID: "dist-a", RoleIDs: []string{"role-a-read", "role-a-full"}},
			{ID: "u-read", Email: "read@dist-a.example", Name: "Rita Read", OrganizationID: "dist-a", RoleIDs: []string{"role-a-read"}},
			{ID: "u-other", Email: "other@dist-a.example", Name: "Otto Other", OrganizationID: "dist-a", RoleIDs: []string{"role-a-other"}},
			{ID: "u-foreign", Email: "foreign@dist-a.example", Name: "Fred Foreign", OrganizationID: "dist-a", RoleIDs: []string{"role-a-read"}},
			{ID: "u-res", Email: "admin@res-a.example", Name: "Rob Res", OrganizationID: "res-a", RoleIDs: []string{"role-ra-full"}},
			{ID: "u-cust", Email: "admin@main.example", Name: "Carl Cust", OrganizationID: "cust-main", RoleIDs: []string{"role-cust"}},
		},
		Licenses: []dataset.License{
			{Key: licMain, ProductID: "core", OrganizationIDs: []string{"cust-main"}, Type: "purchased",
				StartDate: "2025-01-01", ExpirationDate: "2026-01-01", PurchasedInstances: ptrTo(5),
				CustomerNote: ptrTo("=SUM(A1) — Zürich 東京")},
			{Key: licShared, ProductID: "core", OrganizationIDs: []string{"cust-main", "cust-sub"}, Type: "purchased",
				StartDate: "2024-06-01", ExpirationDate: "2025-06-20", PurchasedInstances: ptrTo(3)},
			{Key: licCloudOwn, ProductID: "cloud", OrganizationIDs: []string{"cust-sub-own"}, Type: "purchased",
				StartDate: "2025-02-01", ExpirationDate: "2026-02-01", ScanLimit: ptrTo(1000), ScansUsed: ptrTo(250)},
			{Key: licCloudNew, ProductID: "cloud", OrganizationIDs: []string{"cust-sub"}, Type: "evaluation",
				StartDate: "2025-05-01", ExpirationDate: "2025-07-01", ScanLimit: ptrTo(500)},
			{Key: licDirect, ProductID: "core", OrganizationIDs: []string{"cust-direct"}, Type: "evaluation",
				StartDate: "2025-05-01", ExpirationDate: "2025-05-31", PurchasedInstances: ptrTo(1)},
			{Key: licHidden, ProductID: "itaccess", OrganizationIDs: []string{"cust-main"}, Type: "purchased",
				StartDate: "2025-01-01", ExpirationDate: "2026-01-01", PurchasedInstances: ptrTo(1)},
			{Key: licB, ProductID: "core", OrganizationIDs: []string{"cust-b"}, Type: "purchased",
				StartDate: "2025-01-01", ExpirationDate: "2026-01-01", PurchasedInstances: ptrTo(2)},
		},
		Deployments: []dataset.Deployment{
			{DeploymentID: "dep-1", LicenseKey: licMain, Name: ptrTo("Server 1"), ActivatedAt: "2025-02-01T10:00:00Z", LastSeenAt: ptrTo("2025-05-30T08:15:00Z")},
			{DeploymentID: "dep-2", LicenseKey: licMain, ActivatedAt: "2025-03-01T10:00:00Z"},
			{DeploymentID: "dep-3", LicenseKey: licMain, Name: ptrTo("Retired"), ActivatedAt: "2025-01-15T10:00:00Z", Active: ptrTo(false)},
			{DeploymentID: "dep-s", LicenseKey: licShared, Name: ptrTo("Lab"), ActivatedAt: "2024-07-01T09:00:00Z", Active: ptrTo(true)},
		},
		PartnerNotes: []dataset.PartnerNote{
			{OrganizationID: "dist-a", LicenseKey: licMain, Text: "Renewal due in Q3", UpdatedBy: ptrTo("u-multi"), UpdatedAt: ptrTo("2025-05-01T09:30:00Z")},
			{OrganizationID: "res-a", LicenseKey: licMain, Text: "Call Bob\nbefore renewal", UpdatedBy: ptrTo("u-res")},
		},
	}
}

// baseEvents is the number of history events the first import of baseDoc
// records: a created event per license (which counts the deployments the
// license came with), and a partner_note_updated event per note.
const baseEvents = 7 + 2

// demoToday is the day the demo documents are generated for.
var demoToday = license.DateOf(importNow)

// demoDoc returns a demo document small enough for minidyn, whose Query
// reads the whole table: 12 customer organizations and 120 licenses, with
// every case the full demo has.
func demoDoc() dataset.Document {
	cfg := demo.Small()
	cfg.Customers = 12
	cfg.Licenses = 120
	return demo.Generate(cfg, demoToday)
}

// activeIDs returns the ids of the active deployments of the license, sorted.
func activeIDs(deps []license.Deployment, key string) []string {
	ids := []string{}
	for _, d := range deps {
		if d.Active && d.LicenseKey == key {
			ids = append(ids, d.DeploymentID)
		}
	}
	slices.Sort(ids)
	return ids
}

// partner returns the scope of a partner organization with full access,
// built from what the store holds, as a schedule acts.
func (w *world) partner(partnerID string) *access.Scope {
	w.t.Helper()
	org, err := w.s.Organization(w.ctx, partnerID)
	if err != nil {
		w.t.Fatalf("Organization(%s): %v", partnerID, err)
	}
	return &access.Scope{User: access.User{ID: "test-" + partnerID, OrganizationID: partnerID}, Partner: org, Level: access.Full}
}

// view returns what a partner sees, as "org key" strings, sorted: every
// customer (no ids) or the named ones.
func (w *world) view(partnerID string, ids ...string) []string {
	w.t.Helper()
	if len(ids) == 0 {
		ids = nil
	}
	listings, err := w.s.View(w.ctx, w.partner(partnerID), ids, false)
	if err != nil {
		w.t.Fatalf("View(%s, %v): %v", partnerID, ids, err)
	}
	return rowsOf(listings)
}

func rowsOf(listings []report.Listing) []string {
	out := []string{}
	for _, l := range listings {
		for _, lic := range l.Licenses {
			out = append(out, l.Org.ID+" "+lic.Key)
		}
	}
	slices.Sort(out)
	return out
}

// expected returns what a partner should see of a document, as view does,
// worked out here from the spec's rules without the code under test: the
// customers whose distributor or reseller (own, or inherited from the
// nearest ancestor that names one) is the partner, and each license under
// the organizations among those that have no assigned descendant the
// partner sees through a chain of parents it sees.
func expected(doc dataset.Document, partner string) []string {
	orgs := map[string]dataset.Organization{}
	for _, o := range doc.Organizations {
		orgs[o.ID] = o
	}
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	sees := func(id string) bool {
		var d, r string
		for cur, ok := orgs[id], true; ok && cur.Type == "customer"; cur, ok = orgs[deref(cur.ParentID)] {
			if d == "" {
				d = deref(cur.DistributorID)
			}
			if r == "" {
				r = deref(cur.ResellerID)
			}
		}
		return d != "" && (partner == d || partner == r)
	}
	// below reports whether desc descends from anc through parents partner sees.
	below := func(desc, anc string) bool {
		for cur := desc; ; {
			p := deref(orgs[cur].ParentID)
			if p == "" || !sees(p) {
				return false
			}
			if p == anc {
				return true
			}
			cur = p
		}
	}
	out := []string{}
	for _, l := range doc.Licenses {
		for _, id := range l.OrganizationIDs {
			if !sees(id) {
				continue
			}
			shadowed := false
			for _, other := range l.OrganizationIDs {
				if other != id && sees(other) && below(other, id) {
					shadowed = true
				}
			}
			if !shadowed {
				out = append(out, id+" "+l.Key)
			}
		}
	}
	slices.Sort(out)
	return out
}

func mustDate(t *testing.T, s string) license.Date {
	t.Helper()
	d, err := license.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func attrS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
