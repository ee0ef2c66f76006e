package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/license"
)

// ImportOptions tunes an import.
type ImportOptions struct {
	// Now is the time recorded on created and renewed events and on notes
	// that carry no time of their own; zero means time.Now.
	Now time.Time
	// Progress, when set, receives a line per thousand items written.
	Progress io.Writer
	// Writers is the number of concurrent BatchWriteItem calls; 0 means 4.
	Writers int
	// DryRun plans the import and counts what it would write, without
	// writing anything.
	DryRun bool
}

// ImportResult counts what an import did, or would do (DryRun).
type ImportResult struct {
	Mode      dataset.Mode `json:"mode"`
	Written   int          `json:"written"`   // items put
	Deleted   int          `json:"deleted"`   // items deleted
	Unchanged int          `json:"unchanged"` // items of the data set that already held the same values
	Events    int          `json:"events"`    // history events recorded, among Written
}

// Import loads a checked data set into the table as an idempotent upsert:
// items that already hold the same values are not written, so importing the
// same data set twice changes nothing the second time. A license that is new
// gets a created event; a changed expiration date or instance count a renewed
// event; an imported deployment that starts or stops being active an
// activated or deactivated event; a changed partner note a
// partner_note_updated event, its version raised by one.
//
// The data set is taken as complete for what it names: a license's
// organizations are exactly those listed, and a customer's distributor and
// reseller those it (or its parent) names. Deployments activated through the
// API and not in the data set are kept and still count.
//
// Items are written with BatchWriteItem in three phases: the copies and
// CUSTOMER# items derived from other items, then the history events, then
// the items they are derived from and the events describe (licenses,
// deployments, notes, organizations). A run that stops before its end leaves
// some of those unchanged, so running the import again finds the same
// changes and completes them: no change goes without its event. Such a rerun
// records again the events the stopped run had written, unless it passes the
// same Now (events made from the same change at the same time have the same
// key).
func (s *Store) Import(ctx context.Context, ds *dataset.Dataset, opts ImportOptions) (ImportResult, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	im := &importer{s: s, ds: ds, opts: opts, now: opts.Now.UTC(), wanted: make(map[string]bool)}
	im.sellers = sellersOf(ds)
	if err := im.readExisting(ctx); err != nil {
		return ImportResult{}, fmt.Errorf("read existing items: %w", err)
	}
	if err := im.plan(); err != nil {
		return ImportResult{}, err
	}
	im.result.Mode = ds.Mode
	if ds.Mode != dataset.Full {
		return ImportResult{}, fmt.Errorf("import: %s documents are not supported by this version of the store", ds.Mode)
	}
	total := len(im.phase1) + len(im.events) + len(im.phase2)
	im.progress("import: %d items to write, %d unchanged", total, im.result.Unchanged)
	if opts.DryRun {
		return im.result, nil
	}
	for _, phase := range [][]types.WriteRequest{im.phase1, im.events, im.phase2} {
		if err := im.write(ctx, phase, total); err != nil {
			return im.result, err
		}
	}
	im.progress("import: done: %d written, %d deleted, %d unchanged, %d events",
		im.result.Written, im.result.Deleted, im.result.Unchanged, im.result.Events)
	return im.result, nil
}

type importer struct {
	s    *Store
	ds   *dataset.Dataset
	opts ImportOptions
	now  time.Time

	// What the table holds now, by key.
	existing map[string]map[string]types.AttributeValue // PK + "|" + SK
	// Active deployments by license key and deployment id, from the copies
	// in the partitions of the data set's partners.
	activeCopies map[string]map[string]license.Deployment

	// The partners that see each customer organization: its distributor
	// and reseller, inherited where it names none.
	sellers map[string][]string
	// Copies the data set calls for, by PK|SK.
	wanted map[string]bool

	// phase1 holds the derived items (copies, CUSTOMER#), events the history
	// events, phase2 the items the events describe. They are written in
	// that order.
	phase1, events, phase2 []types.WriteRequest
	result                 ImportResult
	written                atomic.Int64
	lastReport             atomic.Int64
}

func (im *importer) progress(format string, args ...any) {
	if im.opts.Progress != nil {
		fmt.Fprintf(im.opts.Progress, format+"\n", args...)
	}
}

// readExisting reads the current version of every item the data set may
// change, with BatchGetItem, and the license and deployment copies in the
// partitions of the data set's partners, with one Query per partner.
func (im *importer) readExisting(ctx context.Context) error {
	s, ds := im.s, im.ds
	var keys []map[string]types.AttributeValue
	for _, p := range ds.Products {
		keys = append(keys, key(pkCatalog, skProduct+p.ID))
	}
	var partners []string
	for _, o := range ds.Organizations {
		keys = append(keys, orgKey(o.ID))
		if o.Type.Partner() {
			partners = append(partners, o.ID)
		}
	}
	for _, r := range ds.Roles {
		keys = append(keys, key(pkRole+r.ID, skRole))
	}
	for _, u := range ds.Users {
		keys = append(keys, key(pkUser+u.ID, skUser))
	}
	for _, l := range ds.Licenses {
		keys = append(keys, licenseKey(l.Key))
	}
	for _, d := range ds.Deployments {
		keys = append(keys, deploymentKey(d.LicenseKey, d.DeploymentID))
	}
	for _, n := range ds.Notes {
		keys = append(keys, noteKey(n.PartnerID, n.LicenseKey))
	}
	for _, m := range im.customerItems() {
		keys = append(keys, key(m.PK, m.SK))
	}
	im.existing = make(map[string]map[string]types.AttributeValue, len(keys))
	im.progress("import: reading %d existing items and %d partners' license copies", len(keys), len(partners))
	err := s.batchGet(ctx, keys, func(item map[string]types.AttributeValue) error {
		im.existing[itemID(attrString(item, attrPK), attrString(item, attrSK))] = item
		return nil
	})
	if err != nil {
		return err
	}

	im.activeCopies = make(map[string]map[string]license.Deployment)
	var mu sync.Mutex
	// Two Queries per partner: DEPLOYMENT# and LICENSE# copies. One range
	// over both would also read the EXPORT# items that sort between them.
	return s.parallel(ctx, 2*len(partners), func(ctx context.Context, i int) error {
		partner, prefix := partners[i/2], []string{skDeployment, skLicenseCopy}[i%2]
		var items []map[string]types.AttributeValue
		err := s.query(ctx, queryPrefix(s.table, pkPartner+partner, prefix), func(item map[string]types.AttributeValue) error {
			items = append(items, item)
			return nil
		})
		if err != nil {
			return fmt.Errorf("copies of %s: %w", partner, err)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, item := range items {
			im.existing[itemID(attrString(item, attrPK), attrString(item, attrSK))] = item
			if !strings.HasPrefix(attrString(item, attrSK), skDeployment) {
				continue
			}
			d, err := unmarshal[deploymentItem](item)
			if err != nil {
				return err
			}
			if im.activeCopies[d.Key] == nil {
				im.activeCopies[d.Key] = make(map[string]license.Deployment)
			}
			im.activeCopies[d.Key][d.ID] = d.deployment()
		}
		return nil
	})
}

func sellersOf(ds *dataset.Dataset) map[string][]string {
	orgs := make(map[string]*access.Organization, len(ds.Organizations))
	for i := range ds.Organizations {
		orgs[ds.Organizations[i].ID] = &ds.Organizations[i]
	}
	sellers := make(map[string][]string)
	for _, o := range ds.Organizations {
		if o.Type != access.OrgCustomer {
			continue
		}
		dist, res := dataset.Sellers(orgs, o.ID)
		for _, p := range []string{dist, res} {
			if p != "" {
				sellers[o.ID] = append(sellers[o.ID], p)
			}
		}
	}
	return sellers
}

// customerItems returns the CUSTOMER# items the data set's organizations call
// for: one under the distributor and one under the reseller each customer
// organization is sold through. Only the distributor's copy names the reseller.
func (im *importer) customerItems() []customerItem {
	orgs := make(map[string]*access.Organization, len(im.ds.Organizations))
	for i := range im.ds.Organizations {
		orgs[im.ds.Organizations[i].ID] = &im.ds.Organizations[i]
	}
	licenses := make(map[string]int)
	for _, l := range im.ds.Licenses {
		for _, org := range l.OrganizationIDs {
			licenses[org]++
		}
	}
	var items []customerItem
	for _, o := range im.ds.Organizations {
		if o.Type != access.OrgCustomer {
			continue
		}
		dist, res := dataset.Sellers(orgs, o.ID)
		if dist != "" {
			item := customerItem{PK: pkPartner + dist, SK: skCustomer + o.ID, ID: o.ID, Name: o.Name, ParentID: o.ParentID, Licenses: licenses[o.ID]}
			if res != "" {
				item.ResellerID, item.ResellerName = res, orgs[res].Name
			}
			items = append(items, item)
		}
		if res != "" {
			items = append(items, customerItem{PK: pkPartner + res, SK: skCustomer + o.ID, ID: o.ID, Name: o.Name, ParentID: o.ParentID, Licenses: licenses[o.ID]})
		}
	}
	return items
}

// plan decides every write.
func (im *importer) plan() error {
	ds := im.ds
	orgs := make(map[string]*access.Organization, len(ds.Organizations))
	for i := range ds.Organizations {
		orgs[ds.Organizations[i].ID] = &ds.Organizations[i]
	}
	for _, p := range ds.Products {
		if err := im.upsert(&im.phase2, newProductItem(p)); err != nil {
			return err
		}
	}

	// Customers: new CUSTOMER# items, and deletes of those whose
	// organization is now sold through another partner.
	wanted := make(map[string]bool)
	for _, c := range im.customerItems() {
		wanted[itemID(c.PK, c.SK)] = true
		if err := im.upsert(&im.phase1, c); err != nil {
			return err
		}
	}
	for _, o := range ds.Organizations {
		dist, res := dataset.Sellers(orgs, o.ID)
		item := orgItem{PK: pkOrg + o.ID, SK: skOrg, ID: o.ID, Name: o.Name, Type: string(o.Type), ParentID: o.ParentID,
			DistributorID: o.DistributorID, ResellerID: o.ResellerID, Window: o.ExpiringWindowDays}
		if o.Type == access.OrgCustomer {
			item.SoldBy, item.SoldThrough = dist, res
		}
		if old := im.existing[itemID(item.PK, item.SK)]; old != nil {
			for _, partner := range []string{attrString(old, "soldBy"), attrString(old, "soldThrough")} {
				if partner != "" && !wanted[itemID(pkPartner+partner, skCustomer+o.ID)] {
					im.phase1 = append(im.phase1, del(key(pkPartner+partner, skCustomer+o.ID)))
					im.result.Deleted++
				}
			}
		}
		if err := im.upsert(&im.phase2, item); err != nil {
			return err
		}
	}
	for _, r := range ds.Roles {
		if err := im.upsert(&im.phase2, newRoleItem(r)); err != nil {
			return err
		}
	}
	for _, u := range ds.Users {
		if err := im.upsert(&im.phase2, newUserItem(u)); err != nil {
			return err
		}
	}
	if err := im.planLicenses(); err != nil {
		return err
	}
	im.sweepCopies()
	return im.planNotes()
}

// planLicenses writes licenses, their copies and deployments.
func (im *importer) planLicenses() error {
	deps := make(map[string][]license.Deployment)
	for _, d := range im.ds.Deployments {
		deps[d.LicenseKey] = append(deps[d.LicenseKey], d)
	}
	for _, l := range im.ds.Licenses {
		if err := im.planLicense(l, deps[l.Key]); err != nil {
			return err
		}
	}
	return nil
}

// planLicense writes one license of the data set, its deployments and its
// copies, with the events of what changed.
func (im *importer) planLicense(l license.License, deps []license.Deployment) error {
	old, err := im.oldLicense(l.Key)
	if err != nil {
		return err
	}
	active, events, err := im.planDeployments(l.Key, deps)
	if err != nil {
		return err
	}
	l.Deployed = len(active)
	// The events of one license, in the order they happened: created or
	// renewed, then the deployments' changes. They share the import's
	// time, so their keys carry that order.
	var terms []license.Event
	switch {
	case old == nil:
		terms = append(terms, im.event(license.Event{Type: license.Created, Data: licenseTerms(l)}))
	case old.ExpirationDate != l.ExpirationDate || old.Purchased() != l.Purchased() || !sameInt(old.ScanLimit, l.ScanLimit):
		data := map[string]any{"from": licenseTerms(*old), "to": licenseTerms(l)}
		terms = append(terms, im.event(license.Event{Type: license.Renewed, Data: data}))
	}
	copies, err := im.planCopies(l, active)
	if err != nil {
		return err
	}
	for i, e := range append(terms, events...) {
		id := fmt.Sprintf("%03d-%s", i, contentID(l.Key, e))
		if err := im.insert(&im.events, newEventItem(l.Key, e, "", id)); err != nil {
			return err
		}
	}
	canonical := newLicenseItem(pkLicense+l.Key, skLicense, l)
	canonical.Copies = copies
	return im.upsert(&im.phase2, canonical)
}

// planDeployments writes a license's deployments of the data set and
// returns the license's active deployments afterwards, with the events of
// the deployments that started or stopped being active. The active ones are
// those whose copies were found (some may have been activated through the
// API), changed by the data set's; the deployed count is recounted from
// them.
func (im *importer) planDeployments(licenseKey string, deps []license.Deployment) (map[string]license.Deployment, []license.Event, error) {
	active := maps.Clone(im.activeCopies[licenseKey])
	if active == nil {
		active = make(map[string]license.Deployment)
	}
	var events []license.Event
	for _, d := range deps {
		wasActive := false
		if prev := im.existing[itemID(pkLicense+licenseKey, skDeployment+d.DeploymentID)]; prev != nil {
			p, err := unmarshal[deploymentItem](prev)
			if err != nil {
				return nil, nil, err
			}
			wasActive = p.Active
		}
		switch {
		case d.Active && !wasActive:
			// Recorded when the import learns of it, like every imported
			// change, so that history reads in the order this system saw
			// things; the deployment's own time is in the data.
			events = append(events, im.event(license.Event{Type: license.Activated,
				Data: map[string]any{"deploymentId": d.DeploymentID, "name": d.Name, "activatedAt": formatTime(d.ActivatedAt)}}))
		case !d.Active && wasActive:
			events = append(events, im.event(license.Event{Type: license.Deactivated,
				Data: map[string]any{"deploymentId": d.DeploymentID}}))
		}
		if d.Active {
			active[d.DeploymentID] = d
		} else {
			delete(active, d.DeploymentID)
		}
		if err := im.upsert(&im.phase2, newDeploymentItem(pkLicense+licenseKey, skDeployment+d.DeploymentID, d)); err != nil {
			return nil, nil, err
		}
	}
	return active, events, nil
}

// planCopies writes the copies of a license, and of its active
// deployments, that each partner seeing an organization of the license
// holds under that organization, and returns them as <partner>#<org>.
func (im *importer) planCopies(l license.License, active map[string]license.Deployment) ([]string, error) {
	var copies []string
	for _, org := range l.OrganizationIDs {
		for _, partner := range im.sellers[org] {
			copies = append(copies, partner+"#"+org)
			if err := im.upsertCopy(newLicenseItem(pkPartner+partner, licenseCopySK(org, l.Key), l)); err != nil {
				return nil, err
			}
			for _, d := range active {
				if err := im.upsertCopy(newDeploymentItem(pkPartner+partner, deploymentCopySK(org, l.Key, d.DeploymentID), d)); err != nil {
					return nil, err
				}
			}
		}
	}
	return copies, nil
}

// upsertCopy upserts a copy and remembers that it is wanted.
func (im *importer) upsertCopy(v any) error {
	item, err := marshal(v)
	if err != nil {
		return err
	}
	im.wanted[itemID(attrString(item, attrPK), attrString(item, attrSK))] = true
	return im.upsert(&im.phase1, v)
}

// sweepCopies deletes the copies of the data set's licenses that are no
// longer wanted: of organizations a license left, of deployments that
// stopped, and in partitions of partners that no longer sell to the
// organization.
func (im *importer) sweepCopies() {
	inFile := make(map[string]bool, len(im.ds.Licenses))
	for _, l := range im.ds.Licenses {
		inFile[l.Key] = true
	}
	var stale []string
	for id, item := range im.existing {
		pk, sk := attrString(item, attrPK), attrString(item, attrSK)
		if !strings.HasPrefix(pk, pkPartner) || im.wanted[id] {
			continue
		}
		var licenseKey string
		switch {
		case strings.HasPrefix(sk, skLicenseCopy):
			licenseKey = attrString(item, "key")
		case strings.HasPrefix(sk, skDeployment):
			licenseKey = attrString(item, "licenseKey")
		default:
			continue
		}
		if inFile[licenseKey] {
			stale = append(stale, id)
		}
	}
	slices.Sort(stale) // a stable order makes runs comparable
	for _, id := range stale {
		item := im.existing[id]
		im.phase1 = append(im.phase1, del(key(attrString(item, attrPK), attrString(item, attrSK))))
		im.result.Deleted++
	}
}

// oldLicense returns the license as the table holds it, or nil.
func (im *importer) oldLicense(k string) (*license.License, error) {
	item := im.existing[itemID(pkLicense+k, skLicense)]
	if item == nil {
		return nil, nil
	}
	l, err := decodeLicense(item)
	if err != nil {
		return nil, err
	}
	return &l, nil
}

// licenseTerms is what created and renewed events record of a license.
func licenseTerms(l license.License) map[string]any {
	terms := map[string]any{"startDate": l.StartDate.String(), "expirationDate": l.ExpirationDate.String(), "type": string(l.Type)}
	if l.PurchasedInstances != nil {
		terms["purchasedInstances"] = *l.PurchasedInstances
	}
	if l.ScanLimit != nil {
		terms["scanLimit"] = *l.ScanLimit
	}
	return terms
}

func sameInt(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func (im *importer) planNotes() error {
	for _, n := range im.ds.Notes {
		at := n.UpdatedAt
		if at.IsZero() {
			at = im.now
		}
		item := noteItem{PK: pkPartner + n.PartnerID, SK: skNote + n.LicenseKey, Key: n.LicenseKey, Text: n.Text,
			Version: 1, UpdatedAt: formatTime(at), UpdatedBy: n.UpdatedBy}
		if prev := im.existing[itemID(item.PK, item.SK)]; prev != nil {
			p, err := unmarshal[noteItem](prev)
			if err != nil {
				return err
			}
			if p.Text == n.Text {
				im.result.Unchanged++
				continue
			}
			item.Version = p.Version + 1
		}
		actor := n.UpdatedBy
		if actor == "" {
			actor = license.ImportActor
		}
		ev := license.Event{At: at, Type: license.PartnerNoteUpdated, Actor: actor,
			Data: map[string]any{"version": item.Version, "text": n.Text}}
		e := newEventItem(n.LicenseKey, ev, n.PartnerID, contentID(n.LicenseKey, ev))
		if err := im.insert(&im.events, e); err != nil {
			return err
		}
		if err := im.insert(&im.phase2, item); err != nil {
			return err
		}
	}
	return nil
}

// event returns an imported change as an event of the import's time.
func (im *importer) event(e license.Event) license.Event {
	e.At, e.Actor = im.now, license.ImportActor
	return e
}

// contentID names an imported event by what it records, so that the same
// change imported at the same time is the same item.
func contentID(licenseKey string, e license.Event) string {
	data, _ := json.Marshal(e.Data) // maps marshal with sorted keys
	sum := sha256.Sum256([]byte(licenseKey + "\x00" + string(e.Type) + "\x00" + e.At.UTC().Format(time.RFC3339Nano) + "\x00" + string(data)))
	return hex.EncodeToString(sum[:8])
}

// upsert adds a put of v unless the table already holds exactly v.
func (im *importer) upsert(phase *[]types.WriteRequest, v any) error {
	item, err := marshal(v)
	if err != nil {
		return err
	}
	if old := im.existing[itemID(attrString(item, attrPK), attrString(item, attrSK))]; old != nil && reflect.DeepEqual(old, item) {
		im.result.Unchanged++
		return nil
	}
	*phase = append(*phase, put(item))
	im.result.Written++
	return nil
}

// insert adds a put of v, which is new.
func (im *importer) insert(phase *[]types.WriteRequest, v any) error {
	item, err := marshal(v)
	if err != nil {
		return err
	}
	*phase = append(*phase, put(item))
	im.result.Written++
	if _, ok := v.(eventItem); ok {
		im.result.Events++
	}
	return nil
}

// write sends one phase's requests with several concurrent writers.
func (im *importer) write(ctx context.Context, reqs []types.WriteRequest, total int) error {
	writers := im.opts.Writers
	if writers <= 0 {
		writers = 4
	}
	chunk := (len(reqs) + writers - 1) / writers
	chunk = (chunk + 24) / 25 * 25 // whole batches per writer
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for start := 0; start < len(reqs); start += chunk {
		part := reqs[start:min(start+chunk, len(reqs))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := im.s.batchWrite(ctx, part, func(n int) {
				done := im.written.Add(int64(n))
				if last := im.lastReport.Load(); done/1000 > last/1000 && im.lastReport.CompareAndSwap(last, done) {
					im.progress("import: %d/%d items written", done, total)
				}
			})
			if err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}
