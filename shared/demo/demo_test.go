package demo_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/license"
)

// today is fixed so that failures reproduce; TestDatesFollowToday shows that
// the day changes nothing but the dates.
var today = license.DateOf(time.Date(2025, time.June, 1, 0, 0, 0, 0, time.UTC))

// reducedLarge is Large with 2,000 licenses: its shape at a size tests afford.
func reducedLarge() demo.Config {
	cfg := demo.Large()
	cfg.Licenses = 2000
	return cfg
}

// configs are the sizes whose invariants must hold, whatever the seed.
var configs = []struct {
	name string
	cfg  func() demo.Config
}{
	{"small", demo.Small},
	{"small seed 7", func() demo.Config { c := demo.Small(); c.Seed = 7; return c }},
	{"reduced large", reducedLarge},
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGenerateIsDeterministic(t *testing.T) {
	for _, tc := range configs {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg()
			first, second := marshal(t, demo.Generate(cfg, today)), marshal(t, demo.Generate(cfg, today))
			if !bytes.Equal(first, second) {
				t.Errorf("two documents of seed %d differ", cfg.Seed)
			}
			cfg.Seed++
			if other := marshal(t, demo.Generate(cfg, today)); bytes.Equal(first, other) {
				t.Errorf("seeds %d and %d give the same document", cfg.Seed-1, cfg.Seed)
			}
		})
	}
}

func TestDocumentIsSmall(t *testing.T) {
	got, want := marshal(t, demo.Document(today)), marshal(t, demo.Generate(demo.Small(), today))
	if !bytes.Equal(got, want) {
		t.Error("Document(today) differs from Generate(Small(), today)")
	}
}

// TestDatesFollowToday checks that the day moves every date and timestamp
// by as many days and keeps everything else, so that the demo looks the same
// whatever day it runs.
func TestDatesFollowToday(t *testing.T) {
	const shift = 100
	base, later := demo.Document(today), demo.Document(today.AddDays(shift))
	if len(base.Licenses) != len(later.Licenses) || len(base.Deployments) != len(later.Deployments) ||
		len(base.PartnerNotes) != len(later.PartnerNotes) {
		t.Fatal("the day changed the number of licenses, deployments or notes")
	}
	movedDate := func(a, b string) bool {
		da, errA := license.ParseDate(a)
		db, errB := license.ParseDate(b)
		return errA == nil && errB == nil && db.Sub(da) == shift
	}
	movedTime := func(a, b *string) bool {
		ta, errA := time.Parse(time.RFC3339, deref(a))
		tb, errB := time.Parse(time.RFC3339, deref(b))
		return errA == nil && errB == nil && tb.Sub(ta) == shift*24*time.Hour
	}
	for i, l := range base.Licenses {
		m := later.Licenses[i]
		if !movedDate(l.StartDate, m.StartDate) || !movedDate(l.ExpirationDate, m.ExpirationDate) {
			t.Fatalf("license %s runs %s–%s, and %s–%s %d days later; want the dates moved by as many days",
				l.Key, l.StartDate, l.ExpirationDate, m.StartDate, m.ExpirationDate, shift)
		}
		l.StartDate, l.ExpirationDate = m.StartDate, m.ExpirationDate
		if got, want := marshal(t, m), marshal(t, l); !bytes.Equal(got, want) {
			t.Fatalf("license %d, %d days later: got %s, want %s but for the dates", i, shift, got, want)
		}
	}
	for i, d := range base.Deployments {
		e := later.Deployments[i]
		if !movedTime(&d.ActivatedAt, &e.ActivatedAt) || !movedTime(d.LastSeenAt, e.LastSeenAt) || d.DeploymentID != e.DeploymentID {
			t.Fatalf("deployment %s, %d days later: %s activated at %s, last seen at %v; want its times moved by as many days",
				d.DeploymentID, shift, e.DeploymentID, e.ActivatedAt, deref(e.LastSeenAt))
		}
	}
	for i, n := range base.PartnerNotes {
		if m := later.PartnerNotes[i]; !movedTime(n.UpdatedAt, m.UpdatedAt) || n.Text != m.Text || n.LicenseKey != m.LicenseKey {
			t.Fatalf("note %d, %d days later: on %s at %v; want the note on %s at %v moved by as many days",
				i, shift, m.LicenseKey, deref(m.UpdatedAt), n.LicenseKey, deref(n.UpdatedAt))
		}
	}
}

// TestParse runs the documents through the importer's own checks.
func TestParse(t *testing.T) {
	for _, tc := range configs {
		t.Run(tc.name, func(t *testing.T) {
			doc := demo.Generate(tc.cfg(), today)
			ds, err := dataset.Parse(bytes.NewReader(marshal(t, doc)))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(ds.Licenses), len(doc.Licenses); got != want {
				t.Errorf("parsed %d licenses, want %d", got, want)
			}
			if got, want := len(ds.Deployments), len(doc.Deployments); got != want {
				t.Errorf("parsed %d deployments, want %d", got, want)
			}
		})
	}
}

var (
	keyPattern     = regexp.MustCompile(`^[A-Z]{3}(-[2-9A-HJ-NP-Z]{4}){3}$`)
	startOfToday   = today.Time()
	farthestExpiry = today.AddDays(3 * 365)
)

// TestInvariants checks the rules every generated document keeps, for every
// size and seed: unique and well-formed identifiers, references that resolve,
// numbers that fit the product's category, dates in the past where they must
// be, deployments within the purchase, and notes the import accepts.
func TestInvariants(t *testing.T) {
	for _, tc := range configs {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, demo.Generate(tc.cfg(), today))
			t.Run("organizations", w.checkOrganizations)
			t.Run("users", w.checkUsers)
			t.Run("licenses", w.checkLicenses)
			t.Run("deployments", w.checkDeployments)
			t.Run("partner notes", w.checkPartnerNotes)
		})
	}
}

func (w *world) checkOrganizations(t *testing.T) {
	for _, o := range w.doc.Organizations {
		if o.Type != string(access.OrgCustomer) {
			if o.ParentID != nil || o.DistributorID != nil || o.ResellerID != nil {
				t.Errorf("%s: a %s with a parent or sellers", o.ID, o.Type)
			}
			continue
		}
		if o.ParentID != nil && w.typeOf(*o.ParentID) != access.OrgCustomer {
			t.Errorf("%s: parent %s is not a customer organization", o.ID, *o.ParentID)
		}
		if o.DistributorID != nil && w.typeOf(*o.DistributorID) != access.OrgDistributor {
			t.Errorf("%s: distributorId %s is not a distributor", o.ID, *o.DistributorID)
		}
		if o.ResellerID != nil && w.typeOf(*o.ResellerID) != access.OrgReseller {
			t.Errorf("%s: resellerId %s is not a reseller", o.ID, *o.ResellerID)
		}
		if dist, _ := w.sellers(o.ID); dist == "" {
			t.Errorf("%s: no distributor, own or inherited", o.ID)
		}
	}
}

func (w *world) checkUsers(t *testing.T) {
	for _, r := range w.doc.Roles {
		if w.typeOf(r.OrganizationID) == "" {
			t.Errorf("role %s: unknown organization %s", r.ID, r.OrganizationID)
		}
		for object, level := range r.Permissions {
			if _, err := access.ParseLevel(level); err != nil {
				t.Errorf("role %s, %s: %v", r.ID, object, err)
			}
		}
	}
	for _, u := range w.doc.Users {
		if w.typeOf(u.OrganizationID) == "" {
			t.Errorf("user %s: unknown organization %s", u.ID, u.OrganizationID)
		}
		for _, id := range u.RoleIDs {
			if r, ok := w.roles[id]; !ok || r.OrganizationID != u.OrganizationID {
				t.Errorf("user %s of %s: role %s is not a role of its organization", u.ID, u.OrganizationID, id)
			}
		}
	}
}

func (w *world) checkLicenses(t *testing.T) {
	for _, l := range w.doc.Licenses {
		if !keyPattern.MatchString(l.Key) {
			t.Errorf("license key %q does not look like MDC-7F3K-9Q2L-X8PA", l.Key)
		}
		p, ok := w.products[l.ProductID]
		if !ok {
			t.Errorf("%s: unknown product %s", l.Key, l.ProductID)
			continue
		}
		if len(l.OrganizationIDs) == 0 {
			t.Errorf("%s: assigned to no organization", l.Key)
		}
		for _, id := range l.OrganizationIDs {
			if w.typeOf(id) != access.OrgCustomer {
				t.Errorf("%s: assigned to %s, which is no customer organization", l.Key, id)
			}
		}
		if !license.Type(l.Type).Valid() {
			t.Errorf("%s: type %q", l.Key, l.Type)
		}
		start, exp := w.dates(t, l)
		if start >= today || exp < start || exp < today.AddDays(-400) || exp > farthestExpiry {
			t.Errorf("%s: runs %s–%s; want a start before %s and an expiration from 400 days before to 3 years after",
				l.Key, l.StartDate, l.ExpirationDate, today)
		}
		switch license.Category(p.Category) {
		case license.OnPrem:
			if n := l.PurchasedInstances; n == nil || *n < 1 || *n > 20 || l.ScanLimit != nil || l.ScansUsed != nil {
				t.Errorf("%s (on-prem): purchasedInstances %v, scanLimit %v, scansUsed %v; want 1 to 20 instances and no scans",
					l.Key, deref(n), deref(l.ScanLimit), deref(l.ScansUsed))
			}
		case license.CloudService:
			limit, used := l.ScanLimit, l.ScansUsed
			if l.PurchasedInstances != nil || limit == nil || *limit < 1000 || *limit > 100_000 ||
				used != nil && (*used < 0 || *used > *limit) {
				t.Errorf("%s (cloud): purchasedInstances %v, scanLimit %v, scansUsed %v; want no instances, a limit of 1,000 to 100,000 and usage within it",
					l.Key, deref(l.PurchasedInstances), deref(limit), deref(used))
			}
		default:
			t.Errorf("product %s: category %q", p.ID, p.Category)
		}
	}
}

func (w *world) checkDeployments(t *testing.T) {
	seen := make(map[[2]string]bool)
	for _, d := range w.doc.Deployments {
		checkID(t, "deployment id", d.DeploymentID)
		l, ok := w.licenses[d.LicenseKey]
		if !ok {
			t.Errorf("deployment %s: unknown license %s", d.DeploymentID, d.LicenseKey)
			continue
		}
		if l.PurchasedInstances == nil {
			t.Errorf("deployment %s: license %s is not on-prem", d.DeploymentID, l.Key)
		}
		if k := [2]string{d.LicenseKey, d.DeploymentID}; seen[k] {
			t.Errorf("deployment %s of %s listed twice", d.DeploymentID, d.LicenseKey)
		} else {
			seen[k] = true
		}
		activated, err1 := time.Parse(time.RFC3339, d.ActivatedAt)
		lastSeen, err2 := time.Parse(time.RFC3339, deref(d.LastSeenAt))
		start, _ := w.dates(t, l)
		if err1 != nil || err2 != nil || activated.Before(start.Time()) || lastSeen.Before(activated) || !lastSeen.Before(startOfToday) {
			t.Errorf("deployment %s: activated %s, last seen %v; want from the start %s of %s, in order, before %s",
				d.DeploymentID, d.ActivatedAt, deref(d.LastSeenAt), l.StartDate, l.Key, today)
		}
	}
	for key, n := range w.active {
		if l := w.licenses[key]; l.PurchasedInstances != nil && n > *l.PurchasedInstances {
			t.Errorf("%s: %d active deployments, more than its %d purchased instances", key, n, *l.PurchasedInstances)
		}
	}
}

func (w *world) checkPartnerNotes(t *testing.T) {
	seen := make(map[[2]string]bool)
	for _, n := range w.doc.PartnerNotes {
		l, ok := w.licenses[n.LicenseKey]
		switch {
		case !ok:
			t.Errorf("note of %s: unknown license %s", n.OrganizationID, n.LicenseKey)
			continue
		case !w.sees(n.OrganizationID, l):
			t.Errorf("note of %s on %s: the partner does not see the license", n.OrganizationID, n.LicenseKey)
		case seen[[2]string{n.OrganizationID, n.LicenseKey}]:
			t.Errorf("note of %s on %s: a second one", n.OrganizationID, n.LicenseKey)
		}
		seen[[2]string{n.OrganizationID, n.LicenseKey}] = true
		if u, ok := w.users[deref(n.UpdatedBy)]; !ok || u.OrganizationID != n.OrganizationID {
			t.Errorf("note of %s on %s: updatedBy %v is not a user of the partner", n.OrganizationID, n.LicenseKey, deref(n.UpdatedBy))
		}
		if at, err := time.Parse(time.RFC3339, deref(n.UpdatedAt)); err != nil || !at.Before(startOfToday) {
			t.Errorf("note of %s on %s: updatedAt %v; want a timestamp before %s", n.OrganizationID, n.LicenseKey, deref(n.UpdatedAt), today)
		}
		if got := utf8.RuneCountInString(n.Text); got > license.MaxNoteLength {
			t.Errorf("note of %s on %s: %d characters, want at most %d", n.OrganizationID, n.LicenseKey, got, license.MaxNoteLength)
		}
		if strings.ContainsFunc(n.Text, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
			t.Errorf("note of %s on %s: a control character other than newline and tab: %q", n.OrganizationID, n.LicenseKey, n.Text)
		}
	}
}

func TestSmallOrganizations(t *testing.T) {
	w := newWorld(t, demo.Document(today))
	var distributors, resellers, customers, mains, direct, subs, inheriting, ownReseller int
	subsOf := make(map[string]int)
	customersOf := make(map[string]int) // partner → customer organizations it sees
	for _, o := range w.doc.Organizations {
		switch access.OrgType(o.Type) {
		case access.OrgDistributor:
			distributors++
		case access.OrgReseller:
			resellers++
		case access.OrgCustomer:
			customers++
			dist, res := w.sellers(o.ID)
			customersOf[dist]++
			customersOf[res]++
			switch {
			case o.ParentID == nil:
				mains++
				if o.ResellerID == nil {
					direct++
				}
			case o.DistributorID == nil && o.ResellerID == nil:
				subs++
				inheriting++
			default:
				subs++
				if _, parentReseller := w.sellers(*o.ParentID); o.ResellerID != nil && *o.ResellerID != parentReseller {
					ownReseller++
				}
			}
			if o.ParentID != nil {
				subsOf[*o.ParentID]++
			}
		}
	}
	maxSubs := 0
	for _, n := range subsOf {
		maxSubs = max(maxSubs, n)
	}
	for _, c := range []struct {
		what     string
		got      int
		min, max int
	}{
		{"distributors", distributors, 2, 2},
		{"resellers, org-res-idle included", resellers, 6, 6},
		{"customer organizations", customers, 35, 45},
		{"main organizations sold directly", direct, 3, mains - 5},
		{"main organizations with sub-organizations", len(subsOf), 3, 15},
		{"sub-organizations of one main organization, at most", maxSubs, 1, 3},
		{"sub-organizations inheriting both sellers", inheriting, 1, subs - 1},
		{"sub-organizations with a reseller of their own", ownReseller, 1, subs - 1},
	} {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s: got %d, want %d to %d", c.what, c.got, c.min, c.max)
		}
	}

	for _, o := range w.doc.Organizations {
		if !access.OrgType(o.Type).Partner() {
			continue
		}
		got, wantNone := customersOf[o.ID], o.ID == "org-res-idle"
		if (got == 0) != wantNone {
			t.Errorf("%s sees %d customer organizations; want none only for org-res-idle", o.ID, got)
		}
	}
	for org, want := range map[string]string{"org-dist-1": "45", "org-dist-2": "none", "org-res-1": "none", "org-res-2": "14"} {
		got := "none"
		if days := w.orgs[org].ExpiringWindowDays; days != nil {
			got = strconv.Itoa(*days)
		}
		if got != want {
			t.Errorf("%s: expiringWindowDays %s, want %s", org, got, want)
		}
	}
}

// TestSmallStatusesAndTypes checks that every partner with customers sees
// licenses of every status, by its own expiring window, and of both types,
// and that a distributor sees them for every visible product.
func TestSmallStatusesAndTypes(t *testing.T) {
	w := newWorld(t, demo.Document(today))
	statuses := []string{string(license.Active), string(license.Expiring), string(license.Expired)}
	types := []string{string(license.Evaluation), string(license.Purchased)}
	for _, o := range w.doc.Organizations {
		if !access.OrgType(o.Type).Partner() || o.ID == "org-res-idle" {
			continue
		}
		t.Run(o.ID, func(t *testing.T) {
			window := w.window(o.ID)
			count := make(map[[2]string]int) // {product id, status or type}; product "" counts all
			for _, l := range w.doc.Licenses {
				if !w.sees(o.ID, l) || !w.visible(l) {
					continue
				}
				_, exp := w.dates(t, l)
				status := string(license.StatusOn(exp, today, window))
				for _, p := range []string{"", l.ProductID} {
					count[[2]string{p, status}]++
					count[[2]string{p, l.Type}]++
				}
			}
			products := []string{""}
			if o.Type == string(access.OrgDistributor) {
				for _, p := range w.doc.Products {
					if deref(p.VisibleToPartners) {
						products = append(products, p.ID)
					}
				}
			}
			for _, p := range products {
				for _, kind := range append(statuses, types...) {
					if count[[2]string{p, kind}] == 0 {
						t.Errorf("no %s license of product %q (\"\" for any) with a %d-day window", kind, p, window)
					}
				}
			}
		})
	}
}

// TestSmallWindowOverrides checks that the partners' own expiring windows
// matter: each changes the status of some license it sees.
func TestSmallWindowOverrides(t *testing.T) {
	w := newWorld(t, demo.Document(today))
	for _, org := range []string{"org-dist-1", "org-res-2"} {
		changed := 0
		for _, l := range w.doc.Licenses {
			if _, exp := w.dates(t, l); w.sees(org, l) &&
				license.StatusOn(exp, today, w.window(org)) != license.StatusOn(exp, today, license.DefaultExpiringWindow) {
				changed++
			}
		}
		if changed == 0 {
			t.Errorf("%s: its %d-day window changes the status of none of its licenses", org, w.window(org))
		}
	}
}

func TestSmallProducts(t *testing.T) {
	w := newWorld(t, demo.Document(today))
	if got := len(w.doc.Licenses); got < 700 || got > 900 {
		t.Errorf("got %d licenses, want 700 to 900", got)
	}
	licensesOf := make(map[string]int)
	for _, l := range w.doc.Licenses {
		licensesOf[l.ProductID]++
	}
	for _, want := range []struct {
		name     string
		category license.Category
		visible  bool
	}{
		{"MetaDefender Core", license.OnPrem, true},
		{"MetaDefender Kiosk", license.OnPrem, true},
		{"MetaDefender ICAP Server", license.OnPrem, true},
		{"MetaDefender Email Gateway Security", license.OnPrem, true},
		{"MetaDefender Vault", license.OnPrem, true},
		{"MetaDefender Cloud", license.CloudService, true},
		{"MetaDefender Cloud Email Security", license.CloudService, true},
		{"MetaDefender IT Access", license.OnPrem, false},
	} {
		var found *dataset.Product
		for _, p := range w.doc.Products {
			if p.Name == want.name {
				found = &p
			}
		}
		switch {
		case found == nil:
			t.Errorf("no product %q", want.name)
		case license.Category(found.Category) != want.category || deref(found.VisibleToPartners) != want.visible:
			t.Errorf("%s: category %s, visible %v; want %s, %v",
				want.name, found.Category, deref(found.VisibleToPartners), want.category, want.visible)
		case licensesOf[found.ID] < 10:
			t.Errorf("%s: %d licenses, want at least 10", want.name, licensesOf[found.ID])
		}
	}
}

// TestSmallAssignments checks that some licenses are assigned to a main
// organization and one of its sub-organizations, including some whose
// sub-organization has another reseller, which that reseller's view must
// place under the only organization it sees.
func TestSmallAssignments(t *testing.T) {
	w := newWorld(t, demo.Document(today))
	mainAndSub, otherReseller := 0, 0
	for _, l := range w.doc.Licenses {
		for _, sub := range l.OrganizationIDs {
			parent := w.orgs[sub].ParentID
			if parent == nil || !slices.Contains(l.OrganizationIDs, *parent) {
				continue
			}
			mainAndSub++
			if _, subReseller := w.sellers(sub); subReseller != "" {
				if _, mainReseller := w.sellers(*parent); subReseller != mainReseller {
					otherReseller++
				}
			}
		}
	}
	if mainAndSub < 20 {
		t.Errorf("%d licenses assigned to a main organization and its sub-organization, want at least 20", mainAndSub)
	}
	if otherReseller == 0 {
		t.Error("no license assigned to a main organization and a sub-organization with another reseller")
	}
}

func TestSmallDeployments(t *testing.T) {
	w := newWorld(t, demo.Document(today))
	fullyDeployed, inactive, hidden := 0, 0, 0
	for _, l := range w.doc.Licenses {
		if n := l.PurchasedInstances; n != nil && w.active[l.Key] == *n {
			fullyDeployed++
		}
	}
	for _, d := range w.doc.Deployments {
		if !deref(d.Active) {
			inactive++
		}
		if !w.visible(w.licenses[d.LicenseKey]) {
			hidden++
		}
	}
	for _, c := range []struct {
		what     string
		got, min int
	}{
		{"fully deployed licenses", fullyDeployed, 10},
		{"inactive deployments", inactive, 10},
		{"deployments of a hidden product", hidden, 1},
		{"active deployments", len(w.doc.Deployments) - inactive, 500},
	} {
		if c.got < c.min {
			t.Errorf("%s: got %d, want at least %d", c.what, c.got, c.min)
		}
	}
}

func TestSmallNotes(t *testing.T) {
	w := newWorld(t, demo.Document(today))
	count := make(map[string]int)
	notedBy := make(map[string]map[access.OrgType]bool) // license key → types of partners with a note
	for _, l := range w.doc.Licenses {
		note := deref(l.CustomerNote)
		if note == "" {
			continue
		}
		count["customer notes"]++
		count["customer notes beginning with "+note[:1]]++
		if strings.ContainsFunc(note, func(r rune) bool { return r > unicode.MaxASCII }) {
			count["customer notes that are not ASCII"]++
		}
	}
	for _, n := range w.doc.PartnerNotes {
		typ := w.typeOf(n.OrganizationID)
		count["partner notes of a "+string(typ)]++
		if strings.ContainsAny(n.Text, "\n\t") {
			count["partner notes with newlines and tabs"]++
		}
		if utf8.RuneCountInString(n.Text) > 1900 {
			count["partner notes of over 1,900 characters"]++
		}
		if notedBy[n.LicenseKey] == nil {
			notedBy[n.LicenseKey] = make(map[access.OrgType]bool)
		}
		notedBy[n.LicenseKey][typ] = true
	}
	for _, types := range notedBy {
		if len(types) == 2 {
			count["licenses with notes of a distributor and a reseller"]++
		}
	}
	for what, min := range map[string]int{
		"customer notes":                                      50,
		"customer notes beginning with =":                     1,
		"customer notes beginning with +":                     1,
		"customer notes beginning with -":                     1,
		"customer notes beginning with @":                     1,
		"customer notes that are not ASCII":                   1,
		"partner notes of a distributor":                      20,
		"partner notes of a reseller":                         20,
		"partner notes with newlines and tabs":                1,
		"partner notes of over 1,900 characters":              1,
		"licenses with notes of a distributor and a reseller": 1,
	} {
		if got := count[what]; got < min {
			t.Errorf("%s: got %d, want at least %d", what, got, min)
		}
	}
}

// TestSmallUsers checks the well-known users that the package comment lists.
func TestSmallUsers(t *testing.T) {
	w := newWorld(t, demo.Document(today))
	for _, want := range []struct {
		user    string
		org     string
		orgType access.OrgType
		roles   int
		level   access.Level
	}{
		{"dist-1-admin", "org-dist-1", access.OrgDistributor, 1, access.Full},
		{"dist-1-viewer", "org-dist-1", access.OrgDistributor, 1, access.Read},
		{"dist-1-none", "org-dist-1", access.OrgDistributor, 1, access.None},
		{"dist-1-multi", "org-dist-1", access.OrgDistributor, 2, access.Full},
		{"dist-2-admin", "org-dist-2", access.OrgDistributor, 1, access.Full},
		{"dist-2-viewer", "org-dist-2", access.OrgDistributor, 1, access.Read},
		{"dist-2-none", "org-dist-2", access.OrgDistributor, 1, access.None},
		{"res-1-admin", "org-res-1", access.OrgReseller, 1, access.Full},
		{"res-1-viewer", "org-res-1", access.OrgReseller, 1, access.Read},
		{"res-1-none", "org-res-1", access.OrgReseller, 1, access.None},
		{"res-2-admin", "org-res-2", access.OrgReseller, 1, access.Full},
		{"res-5-viewer", "org-res-5", access.OrgReseller, 1, access.Read},
		{"res-idle-admin", "org-res-idle", access.OrgReseller, 1, access.Full},
		{"cust-001-admin", "org-cust-001", access.OrgCustomer, 1, access.Full},
	} {
		u, ok := w.users[want.user]
		if !ok {
			t.Errorf("no user %s", want.user)
			continue
		}
		var roles []access.Role
		for _, id := range u.RoleIDs {
			perms := make(map[string]access.Level)
			for object, name := range w.roles[id].Permissions {
				perms[object], _ = access.ParseLevel(name)
			}
			roles = append(roles, access.Role{ID: id, Permissions: perms})
		}
		got := access.LevelOf(roles, access.CustomerOrganizations)
		if u.OrganizationID != want.org || w.typeOf(u.OrganizationID) != want.orgType || len(roles) != want.roles || got != want.level {
			t.Errorf("%s: %s %s, %d roles, level %s; want %s %s, %d roles, level %s", want.user,
				w.typeOf(u.OrganizationID), u.OrganizationID, len(roles), got, want.orgType, want.org, want.roles, want.level)
		}
	}
}

// TestLarge checks the size of the benchmark tenant.
func TestLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 100,000 licenses")
	}
	doc := demo.Generate(demo.Large(), today)
	types := make(map[string]int)
	for _, o := range doc.Organizations {
		types[o.Type]++
	}
	active := 0
	for _, d := range doc.Deployments {
		if deref(d.Active) {
			active++
		}
	}
	for _, c := range []struct {
		what          string
		got, min, max int
	}{
		{"distributors", types[string(access.OrgDistributor)], 1, 1},
		{"customer organizations", types[string(access.OrgCustomer)], 2000, 2000},
		{"licenses", len(doc.Licenses), 100_000, 100_000},
		{"active deployments", active, 225_000, 275_000},
	} {
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s: got %d, want %d to %d", c.what, c.got, c.min, c.max)
		}
	}
}

func BenchmarkGenerateLarge(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		demo.Generate(demo.Large(), today)
	}
}

// world indexes a document for the checks.
type world struct {
	doc      dataset.Document
	orgs     map[string]dataset.Organization
	products map[string]dataset.Product
	roles    map[string]dataset.Role
	users    map[string]dataset.User
	licenses map[string]dataset.License
	active   map[string]int // license key → active deployments
}

// newWorld indexes doc, failing the test on a duplicate or malformed identifier.
func newWorld(t *testing.T, doc dataset.Document) *world {
	t.Helper()
	w := &world{
		doc:      doc,
		orgs:     index(t, "organization", doc.Organizations, func(o dataset.Organization) string { return o.ID }),
		products: index(t, "product", doc.Products, func(p dataset.Product) string { return p.ID }),
		roles:    index(t, "role", doc.Roles, func(r dataset.Role) string { return r.ID }),
		users:    index(t, "user", doc.Users, func(u dataset.User) string { return u.ID }),
		licenses: index(t, "license", doc.Licenses, func(l dataset.License) string { return l.Key }),
		active:   make(map[string]int),
	}
	for _, d := range doc.Deployments {
		if deref(d.Active) {
			w.active[d.LicenseKey]++
		}
	}
	return w
}

func index[T any](t *testing.T, kind string, items []T, id func(T) string) map[string]T {
	t.Helper()
	m := make(map[string]T, len(items))
	for _, item := range items {
		k := id(item)
		checkID(t, kind+" id", k)
		if _, dup := m[k]; dup {
			t.Errorf("%s %q appears twice", kind, k)
		}
		m[k] = item
	}
	return m
}

// checkID checks an identifier as the store and the API paths need it.
func checkID(t *testing.T, what, id string) {
	t.Helper()
	if id == "" || strings.ContainsAny(id, `#/?%\`) || strings.ContainsFunc(id, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}) {
		t.Errorf("%s %q is empty or holds '#', '/', '?', '%%', '\\', a space or a control character", what, id)
	}
}

func (w *world) typeOf(id string) access.OrgType { return access.OrgType(w.orgs[id].Type) }

// sellers returns the distributor and reseller of a customer organization,
// each its own or else its nearest ancestor's.
func (w *world) sellers(id string) (distributor, reseller string) {
	for depth := 0; depth < 16; depth++ {
		o, ok := w.orgs[id]
		if !ok {
			break
		}
		if distributor == "" {
			distributor = deref(o.DistributorID)
		}
		if reseller == "" {
			reseller = deref(o.ResellerID)
		}
		if o.ParentID == nil {
			break
		}
		id = *o.ParentID
	}
	return distributor, reseller
}

// sees reports whether the partner sees one of the license's organizations.
func (w *world) sees(partner string, l dataset.License) bool {
	for _, id := range l.OrganizationIDs {
		if dist, res := w.sellers(id); dist == partner || res == partner {
			return true
		}
	}
	return false
}

func (w *world) visible(l dataset.License) bool {
	return deref(w.products[l.ProductID].VisibleToPartners)
}

// window returns the partner's expiring window.
func (w *world) window(partner string) int {
	if days := w.orgs[partner].ExpiringWindowDays; days != nil {
		return *days
	}
	return license.DefaultExpiringWindow
}

func (w *world) dates(t *testing.T, l dataset.License) (start, exp license.Date) {
	t.Helper()
	start, err1 := license.ParseDate(l.StartDate)
	exp, err2 := license.ParseDate(l.ExpirationDate)
	if err1 != nil || err2 != nil {
		t.Errorf("%s: dates %q and %q", l.Key, l.StartDate, l.ExpirationDate)
	}
	return start, exp
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
