package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/license"
)

// ImportOptions tunes an import.
type ImportOptions struct {
	// Now is the time recorded on the events of changes that carry no time
	// of their own (created, renewed, removed); zero means time.Now. A
	// retried import that passes the same Now records the same events.
	Now time.Time
	// Progress, when set, receives a line now and then, with items/s and
	// the time left.
	Progress io.Writer
	// Writers is the number of organizations loaded at once, each with its
	// own requests; 0 means 16.
	Writers int
	// DryRun plans the import and counts what it would write, without
	// writing anything.
	DryRun bool
}

// ImportResult counts what an import did, or would do (DryRun).
type ImportResult struct {
	Mode dataset.Mode `json:"mode"`
	// Organizations are the customer organizations whose licenses the
	// import rewrote; Unchanged those it found as the document has them.
	Organizations int `json:"organizations"`
	Unchanged     int `json:"unchanged"`
	Written       int `json:"written"` // items put
	Deleted       int `json:"deleted"` // items deleted
	Events        int `json:"events"`  // history events recorded, among Written
	Removed       struct {
		Licenses      int `json:"licenses"`
		Deployments   int `json:"deployments"`
		Organizations int `json:"organizations"`
	} `json:"removed"`
}

// Import loads a checked data set into the table.
//
// A full document is the complete state of the licensing system: a
// customer organization, license, deployment or partner note that an
// earlier import brought and the document no longer names is removed (a
// deployment or note made through the portal stays). A delta names only
// what changed, and what the source removed; its references to what it
// does not hold must name what the table holds, or the document is refused
// whole, by path, with nothing written.
//
// Loading the same document twice changes nothing the second time: each
// customer organization keeps the digest of what the last import made of
// it, and an organization whose digest is unchanged costs nothing. A
// changed one is rewritten whole: its licenses' records and events, then
// its blocks, then its customer items, and its digest last, so an import
// that stops half-way is completed by the next one. History events record
// what changed: created (with the deployments a license came with),
// renewed, activated and deactivated (at the deployment's own time where
// the data has one), partner_note_updated, removed.
//
// The import writes with BatchWriteItem and, where a partner may be
// changing the same item at the same time through the portal (a license's
// deployed count, a block), with conditional writes that it retries, so an
// activation during an import is never lost. It needs no transactions.
func (s *Store) Import(ctx context.Context, ds *dataset.Dataset, opts ImportOptions) (ImportResult, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Writers <= 0 {
		opts.Writers = 16
	}
	im := &importer{s: s, ds: ds, opts: opts, now: opts.Now.UTC(), start: time.Now(), claimed: map[string]bool{},
		goneLicenses: map[string][]string{}}
	im.result.Mode = ds.Mode
	if err := im.load(ctx); err != nil {
		return im.result, err
	}
	if err := im.checkRefs(ctx); err != nil {
		return im.result, err
	}
	if err := im.plan(ctx); err != nil {
		return im.result, err
	}
	if err := im.writeDirectory(ctx); err != nil {
		return im.result, err
	}
	if err := im.writeNotes(ctx); err != nil {
		return im.result, err
	}
	if err := im.writePartners(ctx); err != nil {
		return im.result, err
	}
	if err := im.writeGone(ctx); err != nil {
		return im.result, err
	}
	if err := im.writeOrgs(ctx); err != nil {
		return im.result, err
	}
	im.progress(true)
	return im.result, nil
}

type importer struct {
	s     *Store
	ds    *dataset.Dataset
	opts  ImportOptions
	now   time.Time
	start time.Time

	// The table before the import.
	old        map[string]orgItem // every organization
	oldProduct map[string]license.Product

	// The state after it.
	orgs     map[string]*access.Organization
	h        *access.Hierarchy
	products map[string]license.Product
	removed  map[string]bool // customer organizations removed

	// What changes, by customer organization.
	work     map[string]*orgWork
	byOrg    map[string][]*license.License // the document's licenses by organization
	docLic   map[string]*license.License   // the document's licenses by key
	docDeps  map[string][]license.Deployment
	gone     map[string]map[string]bool // license keys removed at the source
	goneDeps map[string]map[string]bool // license key → deployment ids removed
	// recOrgs are, for a delta, the organizations of the licenses it does
	// not name, as their records have them.
	recOrgs map[string][]string
	// hadCustomers says whether the table held a customer organization.
	hadCustomers bool
	// userNames are the names of the document's users, by id.
	userNames map[string]string

	mu      sync.Mutex
	claimed map[string]bool // licenses whose record and events a worker took on
	// goneLicenses are the removed licenses by the partners that saw them.
	goneLicenses map[string][]string
	result       ImportResult
	written      atomic.Int64
	orgsDone,
	orgsTotal atomic.Int64
	lastNote atomic.Int64
}

// orgWork is a customer organization the import rewrites.
type orgWork struct {
	id       string
	org      *access.Organization
	dist     string
	res      string
	blocks   int
	licenses map[string]*license.License // the organization's licenses afterwards
	old      *orgItem                    // as the table had it, or nil
	oldBlks  map[int]*block              // its blocks as the table has them, by number
	digest   string
	removed  bool
}

// load reads what the import compares the document with: every
// organization (GSI1, then again consistently those the document names) and
// the catalog.
func (im *importer) load(ctx context.Context) error {
	s, ds := im.s, im.ds
	var err error
	if im.old, err = s.organizations(ctx); err != nil {
		return err
	}
	keys := make([]map[string]types.AttributeValue, 0, len(ds.Organizations))
	for _, o := range ds.Organizations {
		keys = append(keys, orgKey(o.ID))
	}
	err = s.batchGet(ctx, keys, true, func(item map[string]types.AttributeValue) error {
		o, err := unmarshal[orgItem](item)
		im.old[o.ID] = o
		return err
	})
	if err != nil {
		return err
	}
	if im.oldProduct, err = s.Catalog(ctx); err != nil {
		return err
	}
	im.products = maps.Clone(im.oldProduct)
	for _, p := range ds.Products {
		im.products[p.ID] = p
	}

	im.orgs = make(map[string]*access.Organization, len(im.old)+len(ds.Organizations))
	for _, o := range im.old {
		if access.OrgType(o.Type) == access.OrgCustomer {
			im.hadCustomers = true
		}
	}
	for id, o := range im.old {
		org := o.organization()
		im.orgs[id] = &org
	}
	im.removed = make(map[string]bool)
	named := make(map[string]bool, len(ds.Organizations))
	for i := range ds.Organizations {
		o := ds.Organizations[i]
		named[o.ID] = true
		im.orgs[o.ID] = &o
	}
	for _, id := range ds.Removed.Organizations {
		im.removed[id] = true
	}
	if ds.Mode == dataset.Full {
		// The complete state: a customer it does not name is gone. Partners,
		// users and roles it does not name are left as they are.
		for id, o := range im.old {
			if !named[id] && access.OrgType(o.Type) == access.OrgCustomer {
				im.removed[id] = true
			}
		}
	}
	for id := range im.removed {
		delete(im.orgs, id)
	}
	im.h = access.NewHierarchy(im.orgs)

	im.docLic = make(map[string]*license.License, len(ds.Licenses))
	im.byOrg = make(map[string][]*license.License)
	for i := range ds.Licenses {
		l := &ds.Licenses[i]
		im.docLic[l.Key] = l
		for _, org := range l.OrganizationIDs {
			im.byOrg[org] = append(im.byOrg[org], l)
		}
	}
	im.userNames = make(map[string]string, len(ds.Users))
	for _, u := range ds.Users {
		im.userNames[u.ID] = u.Name
	}
	im.docDeps = make(map[string][]license.Deployment)
	for _, d := range ds.Deployments {
		d.Imported = true
		im.docDeps[d.LicenseKey] = append(im.docDeps[d.LicenseKey], d)
	}
	im.gone = map[string]map[string]bool{}
	im.goneDeps = map[string]map[string]bool{}
	return nil
}

// checkRefs checks a delta's references to what the table holds, and
// refuses the document with every problem by path otherwise.
func (im *importer) checkRefs(ctx context.Context) error {
	var problems dataset.Problems
	var licenseRefs []dataset.Ref
	roles := map[string]bool{}
	for _, r := range im.ds.Refs {
		switch r.Kind {
		case dataset.RefOrganization:
			o := im.orgs[r.ID]
			switch {
			case o == nil || im.removed[r.ID]:
				problems = append(problems, dataset.Problem{Path: r.Path, Message: fmt.Sprintf("unknown organization %q", r.ID)})
			case r.OrgType != "" && o.Type != r.OrgType:
				problems = append(problems, dataset.Problem{Path: r.Path, Message: fmt.Sprintf("%q is a %s, not a %s", r.ID, o.Type, r.OrgType)})
			}
		case dataset.RefProduct:
			if _, ok := im.products[r.ID]; !ok {
				problems = append(problems, dataset.Problem{Path: r.Path, Message: fmt.Sprintf("unknown product %q", r.ID)})
			}
		case dataset.RefRole:
			roles[r.ID] = true
		case dataset.RefLicense, dataset.RefDeployment:
			licenseRefs = append(licenseRefs, r)
		}
	}
	if len(roles) > 0 {
		var keys []map[string]types.AttributeValue
		for id := range roles {
			keys = append(keys, key(pkRole+id, skRole))
		}
		found := map[string]bool{}
		if err := im.s.batchGet(ctx, keys, true, func(item map[string]types.AttributeValue) error {
			found[strings.TrimPrefix(attrString(item, attrPK), pkRole)] = true
			return nil
		}); err != nil {
			return err
		}
		for _, r := range im.ds.Refs {
			if r.Kind == dataset.RefRole && !found[r.ID] {
				problems = append(problems, dataset.Problem{Path: r.Path, Message: fmt.Sprintf("unknown role %q", r.ID)})
			}
		}
	}
	if len(licenseRefs) > 0 {
		p, err := im.checkLicenseRefs(ctx, licenseRefs)
		if err != nil {
			return err
		}
		problems = append(problems, p...)
	}
	if err := im.checkHierarchy(&problems); len(problems) > 0 || err != nil {
		return errors.Join(err, problemsOrNil(problems))
	}
	return nil
}

func problemsOrNil(p dataset.Problems) error {
	if len(p) == 0 {
		return nil
	}
	return p
}

// checkLicenseRefs checks references to licenses and deployments the table
// holds, and records the removals they name.
func (im *importer) checkLicenseRefs(ctx context.Context, refs []dataset.Ref) (dataset.Problems, error) {
	var keys []string
	for _, r := range refs {
		k := r.ID
		if r.Kind == dataset.RefDeployment {
			k = r.LicenseKey
		}
		if k != "" && im.docLic[k] == nil {
			keys = append(keys, k)
		}
	}
	known, err := im.records(ctx, slices.Compact(slices.Sorted(slices.Values(keys))))
	if err != nil {
		return nil, err
	}
	var problems dataset.Problems
	for _, r := range refs {
		switch r.Kind {
		case dataset.RefLicense:
			// A license the source removed already may be removed again:
			// a delta applied twice changes nothing the second time.
			if rec := known[r.ID]; im.docLic[r.ID] == nil && (rec == nil || (rec.Removed && !strings.HasPrefix(r.Path, "removed."))) {
				problems = append(problems, dataset.Problem{Path: r.Path, Message: fmt.Sprintf("unknown license %q", r.ID)})
			}
		case dataset.RefDeployment:
			k := r.LicenseKey
			if k == "" {
				// A bare id resolves within the licenses the delta names.
				for key, deps := range im.docDeps {
					if slices.ContainsFunc(deps, func(d license.Deployment) bool { return d.DeploymentID == r.ID }) {
						k = key
					}
				}
			}
			if k == "" || (im.docLic[k] == nil && known[k] == nil) {
				problems = append(problems, dataset.Problem{Path: r.Path, Message: fmt.Sprintf(
					"unknown deployment %q: name it with its license, as \"<license key>/%s\"", r.ID, r.ID)})
				continue
			}
			if im.goneDeps[k] == nil {
				im.goneDeps[k] = map[string]bool{}
			}
			im.goneDeps[k][r.ID] = true
		}
	}
	for _, key := range im.ds.Removed.Licenses {
		im.gone[key] = map[string]bool{}
	}
	return problems, nil
}

// checkHierarchy checks what only the whole hierarchy shows: no parent
// chain loops once the table's organizations join the document's.
func (im *importer) checkHierarchy(problems *dataset.Problems) error {
	for i, o := range im.ds.Organizations {
		seen := map[string]bool{o.ID: true}
		for p := im.orgs[o.ParentID]; p != nil; p = im.orgs[p.ParentID] {
			if seen[p.ID] {
				*problems = append(*problems, dataset.Problem{Path: fmt.Sprintf("organizations[%d].parentId", i),
					Message: fmt.Sprintf("the parent chain of %q loops", o.ID)})
				break
			}
			seen[p.ID] = true
		}
	}
	return nil
}

// progress reports how far the import is, at most every two seconds unless
// final.
func (im *importer) progress(final bool) {
	if im.opts.Progress == nil {
		return
	}
	now := time.Now()
	last := im.lastNote.Load()
	if !final && (now.UnixMilli()-last < 2000 || !im.lastNote.CompareAndSwap(last, now.UnixMilli())) {
		return
	}
	elapsed := now.Sub(im.start)
	written, done, total := im.written.Load(), im.orgsDone.Load(), im.orgsTotal.Load()
	rate := float64(written) / max(elapsed.Seconds(), 0.001)
	if final {
		fmt.Fprintf(im.opts.Progress, "import: done in %s: %d organizations rewritten, %d unchanged; %d items written (%.0f items/s), %d deleted, %d events\n",
			elapsed.Round(time.Millisecond), im.result.Organizations, im.result.Unchanged, im.result.Written, rate, im.result.Deleted, im.result.Events)
		return
	}
	eta := "?"
	if done > 0 {
		eta = (time.Duration(float64(elapsed) * float64(total-done) / float64(done))).Round(time.Second).String()
	}
	fmt.Fprintf(im.opts.Progress, "import: %d/%d organizations, %d items written, %.0f items/s, about %s left\n", done, total, written, rate, eta)
}

// plan works out which customer organizations change and rewrites them,
// opts.Writers at a time.
func (im *importer) plan(ctx context.Context) error {
	im.work = make(map[string]*orgWork)
	// The organizations whose licenses may change: every customer a full
	// document names; for a delta, those it names, those of the licenses it
	// names or removes (before and after), and those whose sellers or
	// parents change; in both, the removed ones.
	candidates := map[string]bool{}
	for id, o := range im.orgs {
		if o.Type == access.OrgCustomer && (im.ds.Mode == dataset.Full || im.changedOrg(id)) {
			candidates[id] = true
		}
	}
	for id := range im.removed {
		candidates[id] = true
	}
	if im.ds.Mode == dataset.Delta {
		for org := range im.byOrg {
			candidates[org] = true
		}
		var keys []string
		for k := range im.docLic {
			keys = append(keys, k)
		}
		for k := range im.gone {
			keys = append(keys, k)
		}
		for k := range im.goneDeps {
			keys = append(keys, k)
		}
		records, err := im.s.LicensesByKey(ctx, keys)
		if err != nil {
			return err
		}
		for _, r := range records {
			for _, o := range r.Orgs {
				candidates[o.ID] = true
			}
		}
		// A license shared with a moved organization may change its
		// priority under the others: their blocks are read for it below.
	}
	var ids []string
	for id := range candidates {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	im.orgsTotal.Store(int64(len(ids)))

	// First the new license sets and block counts of every candidate, which
	// the records of shared licenses need; then the rewrites.
	works := make([]*orgWork, len(ids))
	err := im.s.parallelN(ctx, im.opts.Writers, len(ids), func(ctx context.Context, i int) error {
		w, err := im.prepare(ctx, ids[i])
		works[i] = w
		return err
	})
	if err != nil {
		return err
	}
	if im.ds.Mode == dataset.Delta {
		if err := im.addRelatives(ctx, &works); err != nil {
			return err
		}
	}
	for _, w := range works {
		im.work[w.id] = w
	}
	if im.ds.Mode == dataset.Delta {
		if err := im.readRecordOrgs(ctx, works); err != nil {
			return err
		}
	}
	for _, w := range works {
		w.digest = im.digest(w)
	}
	return im.s.parallelN(ctx, im.opts.Writers, len(works), func(ctx context.Context, i int) error {
		defer func() { im.orgsDone.Add(1); im.progress(false) }()
		w := works[i]
		if w.old != nil && w.old.Digest == w.digest && !w.removed {
			im.count(func(r *ImportResult) { r.Unchanged++ })
			return nil
		}
		for attempt := 0; ; attempt++ {
			err := im.rewrite(ctx, w)
			if !errors.Is(err, errCollided) || attempt == maxTransactionAttempts {
				return err
			}
			// A partner changed a block meanwhile: read it again.
			if err := retryPause(ctx, attempt+1); err != nil {
				return err
			}
			if err := im.reread(ctx, w); err != nil {
				return err
			}
		}
	})
}

// changedOrg reports whether a delta changes who sells an organization or
// what it is called, as its licenses' blocks and records show it.
func (im *importer) changedOrg(id string) bool {
	old, ok := im.old[id]
	if !ok {
		return true
	}
	o := im.orgs[id]
	d, r := im.h.Sellers(id)
	return old.Name != o.Name || old.SoldBy != d || old.SoldThrough != r || old.ParentID != o.ParentID ||
		(r != "" && im.orgs[r] != nil && im.old[r].Name != im.orgs[r].Name)
}

// prepare works out a candidate organization's licenses afterwards.
func (im *importer) prepare(ctx context.Context, id string) (*orgWork, error) {
	w := &orgWork{id: id, org: im.orgs[id], removed: im.removed[id], licenses: map[string]*license.License{}}
	if old, ok := im.old[id]; ok {
		w.old = &old
	}
	if !w.removed {
		w.dist, w.res = im.h.Sellers(id)
	}
	if im.ds.Mode == dataset.Full {
		for _, l := range im.byOrg[id] {
			w.licenses[l.Key] = l
		}
	} else if !w.removed {
		// A delta changes what the table holds: start from the blocks.
		old, err := im.oldBlocks(ctx, w)
		if err != nil {
			return nil, err
		}
		for _, b := range old {
			for _, bl := range b.Licenses {
				l := bl.License
				w.licenses[l.Key] = &l
			}
		}
		for k, l := range w.licenses {
			switch doc := im.docLic[k]; {
			case im.gone[k] != nil:
				delete(w.licenses, k)
			case doc != nil && !slices.Contains(doc.OrganizationIDs, id):
				delete(w.licenses, k) // moved to other organizations
			case doc != nil:
				w.licenses[k] = doc
			default:
				l.OrganizationIDs = nil // filled from the record when it is rewritten
			}
		}
		for _, l := range im.byOrg[id] {
			w.licenses[l.Key] = l
		}
	}
	list := make([]license.License, 0, len(w.licenses))
	for _, l := range w.licenses {
		list = append(list, *l)
	}
	w.blocks = blockCount(list)
	return w, nil
}

// readRecordOrgs reads, for a delta, the organizations of the licenses of
// the organizations it rewrites that it does not name.
func (im *importer) readRecordOrgs(ctx context.Context, works []*orgWork) error {
	var keys []string
	for _, w := range works {
		for k := range w.licenses {
			if im.docLic[k] == nil {
				keys = append(keys, k)
			}
		}
	}
	records, err := im.records(ctx, slices.Compact(slices.Sorted(slices.Values(keys))))
	if err != nil {
		return err
	}
	im.recOrgs = map[string][]string{}
	for k, r := range records {
		im.recOrgs[k] = r.OrganizationIDs
	}
	return nil
}

// addRelatives adds, for a delta, the organizations that share a license
// with one whose sellers or parent change: the license's priority under
// them may change too.
func (im *importer) addRelatives(ctx context.Context, works *[]*orgWork) error {
	have := map[string]bool{}
	var keys []string
	for _, w := range *works {
		have[w.id] = true
		if im.changedOrg(w.id) {
			for k := range w.licenses {
				keys = append(keys, k)
			}
		}
	}
	records, err := im.s.LicensesByKey(ctx, keys)
	if err != nil {
		return err
	}
	for _, r := range records {
		for _, o := range r.Orgs {
			if !have[o.ID] && im.orgs[o.ID] != nil {
				have[o.ID] = true
				w, err := im.prepare(ctx, o.ID)
				if err != nil {
					return err
				}
				*works = append(*works, w)
			}
		}
	}
	return nil
}

// orgsOf returns the organizations of a license afterwards: as the
// document names them, or else as its record has them, less those removed.
func (im *importer) orgsOf(l *license.License) []string {
	if doc := im.docLic[l.Key]; doc != nil {
		return doc.OrganizationIDs
	}
	return slices.DeleteFunc(slices.Clone(im.recOrgs[l.Key]), func(id string) bool { return im.removed[id] || im.orgs[id] == nil })
}

// placed returns the organizations of a license as its record keeps them,
// priority applied for each seller. An organization the import does not
// rewrite keeps its block count.
func (im *importer) placed(l *license.License, orgIDs []string) []PlacedOrg {
	var out []PlacedOrg
	for _, id := range orgIDs {
		o := im.orgs[id]
		if o == nil {
			continue
		}
		d, r := im.h.Sellers(id)
		p := PlacedOrg{ID: id, Name: o.Name, Distributor: d, Reseller: r}
		if r != "" && im.orgs[r] != nil {
			p.ResellerNm = im.orgs[r].Name
		}
		if d != "" {
			p.HideFromDistributor = !slices.Contains(im.h.Placement(d, orgIDs), id)
		}
		if r != "" {
			p.HideFromReseller = !slices.Contains(im.h.Placement(r, orgIDs), id)
		}
		if w := im.work[id]; w != nil {
			p.Blocks = w.blocks
		} else if old, ok := im.old[id]; ok {
			p.Blocks = old.Blocks
		}
		out = append(out, p)
	}
	return out
}

// digest sums up what the import makes of an organization: what its
// blocks, records and customer items would hold, as far as the document
// decides it. An organization whose digest the table holds is unchanged.
func (im *importer) digest(w *orgWork) string {
	if w.removed {
		return ""
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode([]any{w.org, w.dist, w.res, w.blocks, im.h.VisibleParent(w.dist, w.id), im.h.VisibleParent(w.res, w.id)})
	if w.res != "" && im.orgs[w.res] != nil {
		_ = enc.Encode(im.orgs[w.res].Name)
	}
	keys := slices.Sorted(maps.Keys(w.licenses))
	for _, k := range keys {
		l := w.licenses[k]
		_ = enc.Encode([]any{l, im.placed(l, im.orgsOf(l)), im.docDeps[k], im.products[l.ProductID]})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// errCollided is a conditional write that found an item changed since it
// was read: the organization is read again and rewritten.
var errCollided = errors.New("an item changed since the import read it")

// oldBlocks reads an organization's blocks where the table has them, by
// number, and keeps them on w.
func (im *importer) oldBlocks(ctx context.Context, w *orgWork) (map[int]*block, error) {
	w.oldBlks = map[int]*block{}
	if w.old == nil || w.old.Blocks == 0 {
		return w.oldBlks, nil
	}
	found := make([]*block, w.old.Blocks)
	err := im.s.parallel(ctx, w.old.Blocks, func(ctx context.Context, n int) error {
		k := blockKey{Home: w.old.SoldBy, Reseller: w.old.SoldThrough, Org: w.id, N: n}
		b, err := im.s.readBlock(ctx, k, true, true)
		if isNotFound(err) {
			return nil
		}
		found[n] = b
		return err
	})
	for n, b := range found {
		if b != nil {
			w.oldBlks[n] = b
		}
	}
	return w.oldBlks, err
}

// reread refreshes an organization's view of the table after a collision.
func (im *importer) reread(ctx context.Context, w *orgWork) error {
	o, err := getItem[orgItem](ctx, im.s, orgKey(w.id), true, "organization "+w.id)
	switch {
	case err == nil:
		w.old = &o
	case isNotFound(err):
		w.old = nil
	default:
		return err
	}
	return nil
}

func (im *importer) count(f func(*ImportResult)) {
	im.mu.Lock()
	defer im.mu.Unlock()
	f(&im.result)
}

// claim reports whether the caller is the first of this import to write the
// record and events of a license.
func (im *importer) claim(key string) bool {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.claimed[key] {
		return false
	}
	im.claimed[key] = true
	return true
}

// batch collects the unconditional writes of one organization.
type batch struct {
	reqs []types.WriteRequest
}

func (b *batch) put(v any) error {
	item, err := marshal(v)
	if err != nil {
		return err
	}
	b.reqs = append(b.reqs, put(item))
	return nil
}

func (b *batch) del(k map[string]types.AttributeValue) { b.reqs = append(b.reqs, del(k)) }

// flush writes the batch, or counts it in a dry run.
func (im *importer) flush(ctx context.Context, b *batch) error {
	puts, dels := 0, 0
	for _, r := range b.reqs {
		if r.PutRequest != nil {
			puts++
		} else {
			dels++
		}
	}
	im.count(func(r *ImportResult) { r.Written += puts; r.Deleted += dels })
	defer func() { b.reqs = b.reqs[:0] }()
	if im.opts.DryRun {
		return nil
	}
	return im.s.batchWrite(ctx, b.reqs, func(n int) { im.written.Add(int64(n)) })
}

// rewrite writes an organization anew: its licenses' records, kept
// deployments and events; its blocks; its customer items; its
// organization item with the digest, last.
func (im *importer) rewrite(ctx context.Context, w *orgWork) error {
	old, err := im.oldBlocks(ctx, w)
	if err != nil {
		return err
	}
	oldLic := map[string]blockLicense{}
	oldDeps := map[string][]license.Deployment{}
	for _, b := range old {
		for _, bl := range b.Licenses {
			oldLic[bl.Key] = bl
			oldDeps[bl.Key] = b.Deployments[bl.Key]
		}
	}
	im.count(func(r *ImportResult) {
		if w.removed {
			r.Removed.Organizations++
		} else {
			r.Organizations++
		}
	})

	b := &batch{}
	// The licenses of the organization afterwards, and those it had.
	keys := slices.Sorted(maps.Keys(w.licenses))
	lost := []string{}
	for k := range oldLic {
		if w.licenses[k] == nil {
			lost = append(lost, k)
		}
	}
	slices.Sort(lost)
	records, err := im.records(ctx, append(slices.Clone(keys), lost...))
	if err != nil {
		return err
	}
	final := map[string]*license.License{}
	active := map[string][]license.Deployment{}
	var recs []recordWrite
	for _, k := range keys {
		l := *w.licenses[k]
		l.OrganizationIDs = im.orgsOf(&l)
		prev, inBlock := oldDeps[k], false
		if _, ok := oldLic[k]; ok {
			inBlock = true
		}
		if rec := records[k]; !inBlock && rec != nil && !rec.Removed && len(rec.Orgs) > 0 && !largeLicense(&rec.License) {
			// The license comes from another organization: its deployments
			// are in the blocks there.
			ob, err := im.s.readBlock(ctx, rec.Orgs[0].block(k), true, true)
			if err != nil && !isNotFound(err) {
				return err
			}
			if ob != nil {
				prev = ob.Deployments[k]
			}
		}
		deps, rw, err := im.writeLicense(ctx, b, &l, records[k], prev)
		if err != nil {
			return err
		}
		final[k], active[k] = &l, deps
		if rw != nil {
			recs = append(recs, *rw)
		}
	}
	for _, k := range lost {
		if im.docLic[k] == nil && (im.ds.Mode == dataset.Full || im.gone[k] != nil) {
			rw, err := im.removeLicense(b, records[k])
			if err != nil {
				return err
			}
			if rw != nil {
				recs = append(recs, *rw)
			}
		}
	}
	// Events and kept deployments first, blocks next, records last: a run
	// that stops in between is completed by the next, which finds the
	// events it would record already there (same keys), and finds in the
	// blocks what it compares deployments with.
	if err := im.flush(ctx, b); err != nil {
		return err
	}
	if err := im.writeBlocks(ctx, w, final, active); err != nil {
		return err
	}
	for _, rw := range recs {
		if err := im.writeRecord(ctx, b, rw.old, rw.next); err != nil {
			return err
		}
	}
	if err := im.writeCustomers(ctx, b, w, final); err != nil {
		return err
	}
	if err := im.flush(ctx, b); err != nil {
		return err
	}
	// The organization item, with its digest, goes last of all: in the
	// import's last batch (writeDirectory), so a run that stops before it
	// rewrites the organization again.
	return nil
}

// writeOrgs writes the organization items of the customers the import
// rewrote, with their digests, or deletes the removed ones.
func (im *importer) writeOrgs(ctx context.Context) error {
	b := &batch{}
	for _, id := range slices.Sorted(maps.Keys(im.work)) {
		w := im.work[id]
		if w.old != nil && w.old.Digest == w.digest && !w.removed {
			continue
		}
		if w.removed {
			if w.old != nil {
				b.del(orgKey(w.id))
			}
			continue
		}
		item := newOrgItem(*w.org)
		item.SoldBy, item.SoldThrough, item.Blocks, item.Digest = w.dist, w.res, w.blocks, w.digest
		if err := b.put(item); err != nil {
			return err
		}
	}
	return im.flush(ctx, b)
}

// records reads the records of licenses, consistently. A table without a
// customer organization has none worth reading: a license there was
// removed with its organizations, and comes back as created.
func (im *importer) records(ctx context.Context, keys []string) (map[string]*Record, error) {
	out := map[string]*Record{}
	if !im.hadCustomers {
		return out, nil
	}
	ks := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		ks = append(ks, licenseKey(k))
	}
	err := im.s.batchGet(ctx, ks, true, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[licenseItem](item)
		if err != nil {
			return err
		}
		r, err := it.record()
		out[r.Key] = r
		return err
	})
	return out, err
}

// recordWrite is a license's record to write, and the one the table holds.
type recordWrite struct{ old, next *Record }

// writeLicense writes a license's kept deployments and its events (unless
// another organization of this import did), and returns its active
// deployments as its blocks keep them and its record to write.
func (im *importer) writeLicense(ctx context.Context, b *batch, l *license.License, rec *Record, oldActive []license.Deployment) ([]license.Deployment, *recordWrite, error) {
	wasRemoved := rec != nil && rec.Removed
	if rec != nil && !wasRemoved && largeLicense(&rec.License) {
		// A large license keeps its active deployments beside it.
		_, kept, err := im.s.readLicense(ctx, l.Key, true)
		if err != nil {
			return nil, nil, err
		}
		oldActive = slices.DeleteFunc(kept, func(d license.Deployment) bool { return !d.Active })
	}
	doc := im.docDeps[l.Key]
	active := map[string]license.Deployment{}
	for _, d := range oldActive {
		active[d.DeploymentID] = d
	}
	var events []license.Event
	newLicense := rec == nil || wasRemoved
	for _, d := range doc {
		prev, was := active[d.DeploymentID]
		switch {
		case d.Active && !was && !newLicense:
			events = append(events, license.Event{At: d.ActivatedAt, Type: license.Activated, Actor: license.ImportActor,
				Data: map[string]any{"deploymentId": d.DeploymentID, "name": d.Name, "activatedAt": formatTime(d.ActivatedAt)}})
		case !d.Active && was:
			events = append(events, license.Event{At: im.deactivatedAt(d), Type: license.Deactivated, Actor: license.ImportActor,
				Data: map[string]any{"deploymentId": d.DeploymentID}})
		}
		if d.Active {
			if was && !prev.Imported {
				d.Imported = false // activated through the portal first: it stays the partner's
			}
			active[d.DeploymentID] = d
		} else {
			delete(active, d.DeploymentID)
			if err := b.put(newDeploymentItem(d)); err != nil {
				return nil, nil, err
			}
		}
	}
	named := map[string]bool{}
	for _, d := range doc {
		named[d.DeploymentID] = true
	}
	for id, d := range active {
		removed := im.goneDeps[l.Key][id] || (im.ds.Mode == dataset.Full && d.Imported && !named[id] && im.docLic[l.Key] != nil)
		if !removed {
			continue
		}
		delete(active, id)
		d.Active = false
		events = append(events, license.Event{At: im.now, Type: license.Deactivated, Actor: license.ImportActor,
			Data: map[string]any{"deploymentId": id, "removed": true}})
		if err := b.put(newDeploymentItem(d)); err != nil {
			return nil, nil, err
		}
		im.count(func(r *ImportResult) { r.Removed.Deployments++ })
	}
	list := slices.SortedFunc(maps.Values(active), func(a, b license.Deployment) int {
		if c := a.ActivatedAt.Compare(b.ActivatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.DeploymentID, b.DeploymentID)
	})
	l.Deployed = len(list)
	if !im.claim(l.Key) {
		return im.blockDeployments(l, list), nil, nil
	}
	next := &Record{License: *l, Orgs: im.placed(l, l.OrganizationIDs)}
	switch {
	case newLicense:
		data := termsOf(*l)
		if len(list) > 0 {
			data["activeDeployments"] = len(list)
		}
		events = append([]license.Event{{At: im.now, Type: license.Created, Actor: license.ImportActor, Data: data}}, events...)
	case changedTerms(rec.License, *l):
		events = append([]license.Event{{At: im.now, Type: license.Renewed, Actor: license.ImportActor,
			Data: map[string]any{"from": termsOf(rec.License), "to": termsOf(*l)}}}, events...)
	}
	for i, e := range events {
		id := fmt.Sprintf("%03d-%s", i, contentID(l.Key, e))
		if err := b.put(newEventItem(l.Key, e, "", id)); err != nil {
			return nil, nil, err
		}
	}
	im.count(func(r *ImportResult) { r.Events += len(events) })
	if largeLicense(l) {
		for _, d := range list {
			if err := b.put(newDeploymentItem(d)); err != nil {
				return nil, nil, err
			}
		}
	}
	return im.blockDeployments(l, list), &recordWrite{rec, next}, nil
}

// blockDeployments returns the deployments a license's blocks keep: none
// for a large license.
func (im *importer) blockDeployments(l *license.License, active []license.Deployment) []license.Deployment {
	if largeLicense(l) {
		return nil
	}
	return active
}

func (im *importer) deactivatedAt(d license.Deployment) time.Time {
	if d.LastSeenAt != nil {
		return *d.LastSeenAt
	}
	return im.now
}

// writeRecord writes a license's record. A new one goes in the batch; one
// the table holds is updated on the condition that its deployed count is
// still the one read, since a partner may be activating a deployment of it
// right now.
func (im *importer) writeRecord(ctx context.Context, b *batch, old, next *Record) error {
	if old == nil || old.Removed {
		return b.put(newLicenseItem(next))
	}
	if reflect.DeepEqual(newLicenseItem(old), newLicenseItem(next)) {
		return nil
	}
	im.count(func(r *ImportResult) { r.Written++ })
	if im.opts.DryRun {
		return nil
	}
	item, err := marshal(newLicenseItem(next))
	if err != nil {
		return err
	}
	_, err = im.s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &im.s.table, Item: item,
		ConditionExpression:       aws.String("deployed = :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(old.Deployed)}})
	if failed, _ := conditionFailed(err); failed {
		return errCollided
	}
	if err != nil {
		return unavailable(err, "write license "+next.Key)
	}
	im.written.Add(1)
	return nil
}

// removeLicense records that the source removed a license: its record says
// so, its history keeps it and gets a removed event.
func (im *importer) removeLicense(b *batch, rec *Record) (*recordWrite, error) {
	if rec == nil || rec.Removed || !im.claim(rec.Key) {
		return nil, nil
	}
	e := license.Event{At: im.now, Type: license.Removed, Actor: license.ImportActor, Data: map[string]any{"by": "the licensing system"}}
	if err := b.put(newEventItem(rec.Key, e, "", "000-"+contentID(rec.Key, e))); err != nil {
		return nil, err
	}
	im.count(func(r *ImportResult) {
		r.Events++
		r.Removed.Licenses++
		for _, o := range rec.Orgs {
			for _, p := range []string{o.Distributor, o.Reseller} {
				if p != "" {
					im.goneLicenses[p] = append(im.goneLicenses[p], rec.Key)
				}
			}
		}
	})
	next := *rec
	next.Removed = true
	return &recordWrite{rec, &next}, nil
}

// writeBlocks writes an organization's blocks, each on the condition that
// its version is still the one read, and deletes those it no longer has.
func (im *importer) writeBlocks(ctx context.Context, w *orgWork, licenses map[string]*license.License, active map[string][]license.Deployment) error {
	sameHome := w.old != nil && !w.removed && w.old.SoldBy == w.dist && w.old.SoldThrough == w.res && w.old.Blocks == w.blocks
	if !w.removed {
		blocks := make([]*block, w.blocks)
		for n := range blocks {
			blocks[n] = &block{OrgID: w.id, OrgName: w.org.Name, ResellerID: w.res, Deployments: map[string][]license.Deployment{}}
			if w.res != "" && im.orgs[w.res] != nil {
				blocks[n].ResellerNm = im.orgs[w.res].Name
			}
		}
		for _, k := range slices.Sorted(maps.Keys(licenses)) {
			l := licenses[k]
			bl := blockLicense{License: *l}
			for _, o := range im.placed(l, l.OrganizationIDs) {
				if o.ID == w.id {
					bl.HideFromDistributor, bl.HideFromReseller = o.HideFromDistributor, o.HideFromReseller
				}
			}
			bl.OrganizationIDs = nil
			n := blockOf(k, w.blocks)
			blocks[n].Licenses = append(blocks[n].Licenses, bl)
			if len(active[k]) > 0 {
				blocks[n].Deployments[k] = active[k]
			}
		}
		fresh := &batch{}
		for n, b := range blocks {
			k := blockKey{Home: w.dist, Reseller: w.res, Org: w.id, N: n}
			if w.old == nil {
				// An organization new to the table has no licenses anyone
				// can activate yet (their records come after): its blocks
				// go in a batch.
				rows, deps, err := b.items(k, 1)
				if err != nil {
					return err
				}
				fresh.reqs = append(fresh.reqs, put(rows), put(deps))
				continue
			}
			v, existed := 0, false
			if old := w.oldBlks[n]; sameHome && old != nil {
				v, existed = old.Version, true
			}
			if err := im.putBlock(ctx, b, k, v, existed); err != nil {
				return err
			}
		}
		if err := im.flush(ctx, fresh); err != nil {
			return err
		}
	}
	if w.old == nil || (sameHome && !w.removed) {
		return nil
	}
	kept := map[string]bool{}
	if !w.removed {
		for n := 0; n < w.blocks; n++ {
			k := blockKey{Home: w.dist, Reseller: w.res, Org: w.id, N: n}
			kept[k.pk()+"|"+k.sk(skBlock)] = true
		}
	}
	stale := &batch{}
	for n := 0; n < w.old.Blocks; n++ {
		k := blockKey{Home: w.old.SoldBy, Reseller: w.old.SoldThrough, Org: w.id, N: n}
		if !kept[k.pk()+"|"+k.sk(skBlock)] {
			stale.del(k.item(skBlock))
			stale.del(k.item(skDepBlock))
		}
	}
	return im.flush(ctx, stale)
}

// putBlock writes a block's two items on the condition that the block is
// still at version v (or, new, not there). A block that is there although
// the import did not read it (an earlier run that stopped wrote it) is
// written over at the version it has.
func (im *importer) putBlock(ctx context.Context, b *block, k blockKey, v int, existed bool) error {
	im.count(func(r *ImportResult) { r.Written += 2 })
	if im.opts.DryRun {
		return nil
	}
	for attempt := 0; ; attempt++ {
		err := im.putBlockAt(ctx, b, k, v, existed)
		if !errors.Is(err, errCollided) || existed || attempt > 0 {
			return err
		}
		cur, err := im.s.readBlock(ctx, k, false, true)
		if err != nil {
			return err
		}
		v, existed = cur.Version, true
	}
}

func (im *importer) putBlockAt(ctx context.Context, b *block, k blockKey, v int, existed bool) error {
	rows, deps, err := b.items(k, v+1)
	if err != nil {
		return err
	}
	for _, item := range []map[string]types.AttributeValue{rows, deps} {
		in := &dynamodb.PutItemInput{TableName: &im.s.table, Item: item}
		if existed {
			in.ConditionExpression = aws.String("attribute_not_exists(PK) OR v = :v")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(v)}
		} else {
			in.ConditionExpression = aws.String("attribute_not_exists(PK)")
		}
		_, err := im.s.db.PutItem(ctx, in)
		if failed, _ := conditionFailed(err); failed {
			return errCollided
		}
		if err != nil {
			return unavailable(err, "write block "+k.sk(skBlock))
		}
		im.written.Add(1)
	}
	return nil
}

// writeCustomers writes the customer items of the partners that see the
// organization, and deletes those of partners that no longer do, with
// what left their view.
func (im *importer) writeCustomers(ctx context.Context, b *batch, w *orgWork, licenses map[string]*license.License) error {
	now := []string{}
	if !w.removed {
		for _, p := range []string{w.dist, w.res} {
			if p == "" {
				continue
			}
			now = append(now, p)
			c := customerItem{PK: pkPartner + p, SK: skCustomer + w.id, ID: w.id, Name: w.org.Name,
				ParentID: im.h.VisibleParent(p, w.id), ResellerID: w.res, Home: w.dist, Blocks: w.blocks, Licenses: len(licenses)}
			if w.res != "" && im.orgs[w.res] != nil {
				c.ResellerName = im.orgs[w.res].Name
			}
			for _, l := range licenses {
				if prod, ok := im.products[l.ProductID]; ok && prod.VisibleToPartners &&
					slices.Contains(im.h.Placement(p, l.OrganizationIDs), w.id) {
					c.LicenseCount++
				}
			}
			if err := b.put(c); err != nil {
				return err
			}
		}
	}
	if w.old == nil {
		return nil
	}
	for _, p := range []string{w.old.SoldBy, w.old.SoldThrough} {
		if p == "" || slices.Contains(now, p) {
			continue
		}
		b.del(customerKey(p, w.id))
		for _, g := range goneItems(p, im.now, "org#"+w.id, []string{w.id}, nil) {
			if err := b.put(g); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeGone records, for each partner, the licenses removed from its view.
func (im *importer) writeGone(ctx context.Context) error {
	b := &batch{}
	for _, p := range slices.Sorted(maps.Keys(im.goneLicenses)) {
		keys := slices.Compact(slices.Sorted(slices.Values(im.goneLicenses[p])))
		for _, g := range goneItems(p, im.now, "licenses", nil, keys) {
			if err := b.put(g); err != nil {
				return err
			}
		}
	}
	return im.flush(ctx, b)
}

// writeDirectory writes the products, roles and users that changed, and
// the partner organizations the document names.
func (im *importer) writeDirectory(ctx context.Context) error {
	b := &batch{}
	for _, p := range im.ds.Products {
		if old, ok := im.oldProduct[p.ID]; !ok || old != p {
			if err := b.put(newProductItem(p)); err != nil {
				return err
			}
		}
	}
	var keys []map[string]types.AttributeValue
	for _, r := range im.ds.Roles {
		keys = append(keys, key(pkRole+r.ID, skRole))
	}
	for _, u := range im.ds.Users {
		keys = append(keys, key(pkUser+u.ID, skUser))
	}
	existing := map[string]map[string]types.AttributeValue{}
	if err := im.s.batchGet(ctx, keys, true, func(item map[string]types.AttributeValue) error {
		existing[attrString(item, attrPK)] = item
		return nil
	}); err != nil {
		return err
	}
	upsert := func(v any, pk string) error {
		item, err := marshal(v)
		if err != nil {
			return err
		}
		if old := existing[pk]; old != nil && reflect.DeepEqual(old, item) {
			return nil
		}
		b.reqs = append(b.reqs, put(item))
		return nil
	}
	for _, r := range im.ds.Roles {
		if err := upsert(newRoleItem(r), pkRole+r.ID); err != nil {
			return err
		}
	}
	for _, u := range im.ds.Users {
		if err := upsert(newUserItem(u), pkUser+u.ID); err != nil {
			return err
		}
	}
	return im.flush(ctx, b)
}

// writePartners writes the partner organizations: those the document names
// and those whose customers changed, with their customer and license
// counts and (a reseller) the distributors it sells through, recounted
// from their customer items.
func (im *importer) writePartners(ctx context.Context) error {
	partners := map[string]bool{}
	for _, o := range im.ds.Organizations {
		if o.Type.Partner() {
			partners[o.ID] = true
		}
	}
	for _, w := range im.work {
		for _, p := range []string{w.dist, w.res} {
			if p != "" {
				partners[p] = true
			}
		}
		if w.old != nil {
			for _, p := range []string{w.old.SoldBy, w.old.SoldThrough} {
				if p != "" {
					partners[p] = true
				}
			}
		}
	}
	ids := slices.Sorted(maps.Keys(partners))
	b := &batch{}
	var mu sync.Mutex
	err := im.s.parallelN(ctx, im.opts.Writers, len(ids), func(ctx context.Context, i int) error {
		id := ids[i]
		o := im.orgs[id]
		if o == nil {
			return nil
		}
		item := newOrgItem(*o)
		item.Via = map[string]int{}
		err := im.s.query(ctx, queryPrefix(im.s.table, pkPartner+id, skCustomer), func(raw map[string]types.AttributeValue) error {
			c, err := unmarshal[customerItem](raw)
			item.Customers++
			item.Licenses += c.Licenses
			if o.Type == access.OrgReseller {
				item.Via[c.Home]++
			}
			return err
		})
		if err != nil {
			return err
		}
		if len(item.Via) == 0 {
			item.Via = nil
		}
		if old, had := im.old[id]; had && reflect.DeepEqual(old, item) {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		return b.put(item)
	})
	if err != nil {
		return err
	}
	return im.flush(ctx, b)
}

// writeNotes writes the partner notes that changed, and (a full document)
// clears the imported ones it no longer names.
func (im *importer) writeNotes(ctx context.Context) error {
	partners := map[string]bool{}
	for _, n := range im.ds.Notes {
		partners[n.PartnerID] = true
	}
	if im.ds.Mode == dataset.Full {
		for id, o := range im.orgs {
			if o.Type.Partner() {
				partners[id] = true
			}
		}
	}
	ids := slices.Sorted(maps.Keys(partners))
	existing := map[string]noteItem{}
	var mu sync.Mutex
	err := im.s.parallelN(ctx, im.opts.Writers, len(ids), func(ctx context.Context, i int) error {
		return im.s.query(ctx, queryPrefix(im.s.table, pkPartner+ids[i], skNote), func(item map[string]types.AttributeValue) error {
			n, err := unmarshal[noteItem](item)
			mu.Lock()
			existing[n.PK+"|"+n.Key] = n
			mu.Unlock()
			return err
		})
	})
	if err != nil {
		return err
	}
	b := &batch{}
	named := map[string]bool{}
	write := func(partner, key, text, by string, at time.Time) error {
		item := noteItem{PK: pkPartner + partner, SK: skNote + key, Key: key, Text: text, Version: 1,
			UpdatedAt: formatTime(at), UpdatedBy: by, Imported: true}
		if prev, ok := existing[item.PK+"|"+key]; ok {
			if prev.Text == text {
				return nil
			}
			item.Version = prev.Version + 1
		}
		ev := license.Event{At: at, Type: license.PartnerNoteUpdated, Actor: license.ImportActor, Data: map[string]any{"version": item.Version, "text": text}}
		if by != "" {
			// A partner's note names a user of the partner: only the
			// partner reads its note events.
			ev.By = &license.Actor{UserID: by, UserName: im.userNames[by], OrgID: partner}
			if o := im.orgs[partner]; o != nil {
				ev.By.OrgName = o.Name
			}
		}
		if err := b.put(newEventItem(key, ev, partner, contentID(key, ev))); err != nil {
			return err
		}
		im.count(func(r *ImportResult) { r.Events++ })
		return b.put(item)
	}
	for _, n := range im.ds.Notes {
		named[pkPartner+n.PartnerID+"|"+n.LicenseKey] = true
		at := n.UpdatedAt
		if at.IsZero() {
			at = im.now
		}
		if err := write(n.PartnerID, n.LicenseKey, n.Text, n.UpdatedBy, at); err != nil {
			return err
		}
	}
	if im.ds.Mode == dataset.Full {
		for _, id := range slices.Sorted(maps.Keys(existing)) {
			n := existing[id]
			if n.Imported && n.Text != "" && !named[id] {
				if err := write(strings.TrimPrefix(n.PK, pkPartner), n.Key, "", "", im.now); err != nil {
					return err
				}
			}
		}
	}
	return im.flush(ctx, b)
}

// termsOf is what created and renewed events record of a license.
func termsOf(l license.License) map[string]any {
	terms := map[string]any{"startDate": l.StartDate.String(), "expirationDate": l.ExpirationDate.String(), "type": string(l.Type)}
	if l.PurchasedInstances != nil {
		terms["purchasedInstances"] = *l.PurchasedInstances
	}
	if l.ScanLimit != nil {
		terms["scanLimit"] = *l.ScanLimit
	}
	return terms
}

// changedTerms reports a renewal: a changed expiration date, instance count
// or scan limit.
func changedTerms(old, l license.License) bool {
	return old.ExpirationDate != l.ExpirationDate || old.Purchased() != l.Purchased() || !sameInt(old.ScanLimit, l.ScanLimit)
}

func sameInt(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// contentID names an imported event by what it records, so that the same
// change imported at the same time is the same item.
func contentID(licenseKey string, e license.Event) string {
	data, _ := json.Marshal(e.Data) // maps marshal with sorted keys
	sum := sha256.Sum256([]byte(licenseKey + "\x00" + string(e.Type) + "\x00" + e.At.UTC().Format(time.RFC3339Nano) + "\x00" + string(data)))
	return hex.EncodeToString(sum[:8])
}
