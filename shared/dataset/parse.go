package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
)

// MaxOrganizationsPerLicense bounds the organizations one license may be
// assigned to: an activation changes every organization's copy of the
// license in one transaction, which holds at most 100 items.
const MaxOrganizationsPerLicense = 40

// Problem is one broken rule, named by the JSON path of the offending value.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// Problems is the error Parse returns for a document that breaks rules.
type Problems []Problem

func (ps Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the data set has %d problem(s):", len(ps))
	for i, p := range ps {
		if i == 20 {
			fmt.Fprintf(&b, "\n  ... and %d more", len(ps)-i)
			break
		}
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// Parse decodes an import document from r and checks it. It returns the data
// set, or a Problems error listing every broken rule; fields the format does
// not know are refused, since a misspelt optional field would otherwise be
// dropped without a word.
func Parse(r io.Reader) (*Dataset, error) {
	var doc Document
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, Problems{{Path: "$", Message: describeJSONError(err)}}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, Problems{{Path: "$", Message: "unexpected data after the document"}}
	}
	return Check(&doc)
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		return fmt.Sprintf("%s: want %s, got JSON %s", typ.Field, typ.Type, typ.Value)
	case errors.Is(err, io.EOF):
		return "the document is empty"
	}
	return err.Error()
}

// Check checks a decoded document and converts it to a Dataset.
func Check(doc *Document) (*Dataset, error) {
	c := checker{
		doc:         doc,
		products:    make(map[string]license.Product),
		orgs:        make(map[string]*access.Organization),
		roles:       make(map[string]string),
		licenses:    make(map[string]*license.License),
		ds:          new(Dataset),
		deployments: make(map[[2]string]bool),
	}
	switch doc.Mode {
	case "", string(Full):
		c.ds.Mode = Full
		if doc.Removed != nil {
			c.addf("removed", "only a delta names what was removed; a full document removes what it no longer names")
		}
	case string(Delta):
		c.ds.Mode, c.delta = Delta, true
	default:
		c.addf("mode", "%q is not full or delta", doc.Mode)
	}
	c.checkProducts()
	c.checkOrganizations()
	c.checkRoles()
	c.checkUsers()
	c.checkLicenses()
	c.checkDeployments()
	c.checkNotes()
	c.checkRemoved()
	if len(c.problems) > 0 {
		return nil, c.problems
	}
	return c.ds, nil
}

type checker struct {
	doc         *Document
	ds          *Dataset
	problems    Problems
	products    map[string]license.Product
	orgs        map[string]*access.Organization
	roles       map[string]string // role id to organization id
	licenses    map[string]*license.License
	deployments map[[2]string]bool
	delta       bool
}

// external reports whether a reference that the document does not satisfy
// may point at the table (a delta), and records it for the store to check.
func (c *checker) external(ref Ref) bool {
	if !c.delta {
		return false
	}
	c.ds.Refs = append(c.ds.Refs, ref)
	return true
}

func (c *checker) addf(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// id checks an identifier by the one rule for identifiers from outside
// (id.CheckExternal).
func (c *checker) id(path, v string) bool {
	if err := id.CheckExternal(v); err != nil {
		if v == "" {
			c.addf(path, "%v", err)
		} else {
			c.addf(path, "%q %v", v, err)
		}
		return false
	}
	return true
}

func (c *checker) text(path, v string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(v) == "":
		c.addf(path, "is required")
	case !utf8.ValidString(v):
		c.addf(path, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		c.addf(path, "is longer than %d characters", max)
	}
}

func (c *checker) date(path, v string) (license.Date, bool) {
	d, err := license.ParseDate(v)
	if err != nil {
		if v == "" {
			c.addf(path, "is required")
		} else {
			c.addf(path, "%v", err)
		}
		return 0, false
	}
	return d, true
}

func (c *checker) timestamp(path, v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		if v == "" {
			c.addf(path, "is required")
		} else {
			c.addf(path, "%q is not an RFC 3339 timestamp", v)
		}
		return time.Time{}, false
	}
	return t.UTC(), true
}

func (c *checker) count(path string, v *int, required bool) {
	switch {
	case v == nil && required:
		c.addf(path, "is required")
	case v != nil && *v < 0:
		c.addf(path, "may not be negative")
	}
}

func (c *checker) checkProducts() {
	for i, p := range c.doc.Products {
		path := fmt.Sprintf("products[%d]", i)
		if _, dup := c.products[p.ID]; c.id(path+".id", p.ID) && dup {
			c.addf(path+".id", "duplicate product id %q", p.ID)
			continue
		}
		c.text(path+".name", p.Name, 200, true)
		cat := license.Category(p.Category)
		if !cat.Valid() {
			c.addf(path+".category", "%q is not on_prem or cloud_service", p.Category)
		}
		visible := p.VisibleToPartners == nil || *p.VisibleToPartners
		product := license.Product{ID: p.ID, Name: p.Name, Category: cat, VisibleToPartners: visible}
		c.ds.Products = append(c.ds.Products, product)
		c.products[p.ID] = product
	}
}

func (c *checker) checkOrganizations() {
	accepted := make(map[int]*access.Organization) // by index in the document
	for i, o := range c.doc.Organizations {
		path := fmt.Sprintf("organizations[%d]", i)
		if c.id(path+".id", o.ID) && c.orgs[o.ID] != nil {
			c.addf(path+".id", "duplicate organization id %q", o.ID)
			continue
		}
		c.text(path+".name", o.Name, 200, true)
		t := access.OrgType(o.Type)
		if !t.Valid() {
			c.addf(path+".type", "%q is not distributor, reseller or customer", o.Type)
		}
		if o.ExpiringWindowDays != nil && (*o.ExpiringWindowDays < 0 || *o.ExpiringWindowDays > 366) {
			c.addf(path+".expiringWindowDays", "must be between 0 and 366")
		}
		org := access.Organization{ID: o.ID, Name: o.Name, Type: t,
			ParentID: deref(o.ParentID), DistributorID: deref(o.DistributorID), ResellerID: deref(o.ResellerID),
			ExpiringWindowDays: o.ExpiringWindowDays}
		c.orgs[o.ID] = &org
		accepted[i] = &org
	}
	for i := range c.doc.Organizations {
		org := accepted[i]
		if org == nil {
			continue
		}
		path := fmt.Sprintf("organizations[%d]", i)
		if org.ParentID != "" {
			switch parent := c.orgs[org.ParentID]; {
			case org.Type != access.OrgCustomer:
				c.addf(path+".parentId", "only customer organizations have a parent")
			case parent == nil && c.external(Ref{Path: path + ".parentId", Kind: RefOrganization, ID: org.ParentID, OrgType: access.OrgCustomer}):
			case parent == nil:
				c.addf(path+".parentId", "unknown organization %q", org.ParentID)
			case parent.Type != access.OrgCustomer:
				c.addf(path+".parentId", "%q is not a customer organization", org.ParentID)
			case c.cyclic(org):
				c.addf(path+".parentId", "the parent chain of %q loops", org.ID)
			}
		}
		c.partnerRef(path+".distributorId", org.DistributorID, access.OrgDistributor)
		c.partnerRef(path+".resellerId", org.ResellerID, access.OrgReseller)
	}
	if len(c.problems) > 0 {
		return
	}
	// A customer with no distributor anywhere in its chain was sold directly
	// by the vendor: valid, and visible to no partner.
	for i := range c.doc.Organizations {
		c.ds.Organizations = append(c.ds.Organizations, *accepted[i])
	}
}

func (c *checker) cyclic(org *access.Organization) bool {
	seen := map[string]bool{org.ID: true}
	for p := c.orgs[org.ParentID]; p != nil; p = c.orgs[p.ParentID] {
		if seen[p.ID] {
			return true
		}
		seen[p.ID] = true
	}
	return false
}

func (c *checker) partnerRef(path, id string, want access.OrgType) {
	if id == "" {
		return
	}
	switch o := c.orgs[id]; {
	case o == nil && c.external(Ref{Path: path, Kind: RefOrganization, ID: id, OrgType: want}):
	case o == nil:
		c.addf(path, "unknown organization %q", id)
	case o.Type != want:
		c.addf(path, "%q is a %s, not a %s", id, o.Type, want)
	}
}

// Sellers returns the distributor and reseller through which the customer
// organization id is sold: its own, or else the nearest ancestor's. The two
// are inherited separately, so a sub-organization may name its own reseller
// and keep its parent's distributor.
func Sellers(orgs map[string]*access.Organization, id string) (distributor, reseller string) {
	for o, depth := orgs[id], 0; o != nil && depth < 16; o, depth = orgs[o.ParentID], depth+1 {
		if distributor == "" {
			distributor = o.DistributorID
		}
		if reseller == "" {
			reseller = o.ResellerID
		}
	}
	return distributor, reseller
}

func (c *checker) checkRoles() {
	for i, r := range c.doc.Roles {
		path := fmt.Sprintf("roles[%d]", i)
		if _, dup := c.roles[r.ID]; c.id(path+".id", r.ID) && dup {
			c.addf(path+".id", "duplicate role id %q", r.ID)
			continue
		}
		c.roles[r.ID] = r.OrganizationID
		if c.orgs[r.OrganizationID] == nil && !c.external(Ref{Path: path + ".organizationId", Kind: RefOrganization, ID: r.OrganizationID}) {
			c.addf(path+".organizationId", "unknown organization %q", r.OrganizationID)
		}
		c.text(path+".name", r.Name, 200, false)
		perms := make(map[string]access.Level, len(r.Permissions))
		for object, name := range r.Permissions {
			level, err := access.ParseLevel(name)
			if err != nil {
				c.addf(fmt.Sprintf("%s.permissions[%q]", path, object), "%q is not none, read or full", name)
			}
			perms[object] = level
		}
		c.ds.Roles = append(c.ds.Roles, access.Role{ID: r.ID, OrganizationID: r.OrganizationID, Name: r.Name, Permissions: perms})
	}
}

func (c *checker) checkUsers() {
	seen := make(map[string]bool)
	for i, u := range c.doc.Users {
		path := fmt.Sprintf("users[%d]", i)
		if c.id(path+".id", u.ID) && seen[u.ID] {
			c.addf(path+".id", "duplicate user id %q", u.ID)
			continue
		}
		seen[u.ID] = true
		if c.orgs[u.OrganizationID] == nil && !c.external(Ref{Path: path + ".organizationId", Kind: RefOrganization, ID: u.OrganizationID}) {
			c.addf(path+".organizationId", "unknown organization %q", u.OrganizationID)
		}
		c.text(path+".name", u.Name, 200, false)
		c.text(path+".email", u.Email, 320, false)
		for j, id := range u.RoleIDs {
			switch org, ok := c.roles[id]; {
			case slices.Contains(u.RoleIDs[:j], id):
				c.addf(fmt.Sprintf("%s.roleIds[%d]", path, j), "role %q is listed twice", id)
			case !ok && c.external(Ref{Path: fmt.Sprintf("%s.roleIds[%d]", path, j), Kind: RefRole, ID: id}):
			case !ok:
				c.addf(fmt.Sprintf("%s.roleIds[%d]", path, j), "unknown role %q", id)
			case org != u.OrganizationID:
				c.addf(fmt.Sprintf("%s.roleIds[%d]", path, j), "role %q belongs to another organization", id)
			}
		}
		c.ds.Users = append(c.ds.Users, access.User{ID: u.ID, Email: u.Email, Name: u.Name, OrganizationID: u.OrganizationID, RoleIDs: u.RoleIDs})
	}
}

func (c *checker) checkLicenses() {
	for i, l := range c.doc.Licenses {
		path := fmt.Sprintf("licenses[%d]", i)
		if c.id(path+".key", l.Key) && c.licenses[l.Key] != nil {
			c.addf(path+".key", "duplicate license key %q", l.Key)
			continue
		}
		lic := license.License{Key: l.Key, ProductID: l.ProductID, Type: license.Type(l.Type),
			PurchasedInstances: l.PurchasedInstances, ScanLimit: l.ScanLimit, ScansUsed: l.ScansUsed,
			CustomerNote: deref(l.CustomerNote)}
		product, known := c.products[l.ProductID]
		if !known && !c.external(Ref{Path: path + ".productId", Kind: RefProduct, ID: l.ProductID}) {
			c.addf(path+".productId", "unknown product %q", l.ProductID)
		}
		c.licenseOrgs(path, l, &lic)
		if !lic.Type.Valid() {
			c.addf(path+".type", "%q is not evaluation or purchased", l.Type)
		}
		start, okStart := c.date(path+".startDate", l.StartDate)
		exp, okExp := c.date(path+".expirationDate", l.ExpirationDate)
		if okStart && okExp && exp < start {
			c.addf(path+".expirationDate", "%s is before the start date %s", exp, start)
		}
		lic.StartDate, lic.ExpirationDate = start, exp
		if known {
			c.amounts(path, l, product.Category)
		}
		c.text(path+".customerNote", lic.CustomerNote, 10000, false)
		c.ds.Licenses = append(c.ds.Licenses, lic)
		c.licenses[l.Key] = &lic
	}
}

func (c *checker) licenseOrgs(path string, l License, lic *license.License) {
	switch n := len(l.OrganizationIDs); {
	case n == 0:
		c.addf(path+".organizationIds", "a license needs at least one organization")
	case n > MaxOrganizationsPerLicense:
		c.addf(path+".organizationIds", "a license may be assigned to at most %d organizations", MaxOrganizationsPerLicense)
	}
	seen := make(map[string]bool)
	for j, id := range l.OrganizationIDs {
		p := fmt.Sprintf("%s.organizationIds[%d]", path, j)
		switch o := c.orgs[id]; {
		case o == nil && !seen[id] && c.external(Ref{Path: p, Kind: RefOrganization, ID: id, OrgType: access.OrgCustomer}):
			seen[id] = true
			lic.OrganizationIDs = append(lic.OrganizationIDs, id)
		case o == nil:
			c.addf(p, "unknown organization %q", id)
		case o.Type != access.OrgCustomer:
			c.addf(p, "%q is a %s; licenses belong to customer organizations", id, o.Type)
		case seen[id]:
			c.addf(p, "%q is listed twice", id)
		default:
			seen[id] = true
			lic.OrganizationIDs = append(lic.OrganizationIDs, id)
		}
	}
}

func (c *checker) amounts(path string, l License, cat license.Category) {
	switch cat {
	case license.OnPrem:
		c.count(path+".purchasedInstances", l.PurchasedInstances, true)
		if l.ScanLimit != nil || l.ScansUsed != nil {
			c.addf(path+".scanLimit", "an on-prem license has no scan limit")
		}
	case license.CloudService:
		c.count(path+".scanLimit", l.ScanLimit, true)
		c.count(path+".scansUsed", l.ScansUsed, false)
		if l.PurchasedInstances != nil {
			c.addf(path+".purchasedInstances", "a cloud-service license has no instances")
		}
	}
}

func (c *checker) checkDeployments() {
	active := make(map[string]int)
	for i, d := range c.doc.Deployments {
		path := fmt.Sprintf("deployments[%d]", i)
		okID := c.id(path+".deploymentId", d.DeploymentID)
		lic := c.licenses[d.LicenseKey]
		switch {
		case lic == nil && c.external(Ref{Path: path + ".licenseKey", Kind: RefLicense, ID: d.LicenseKey}):
		case lic == nil:
			c.addf(path+".licenseKey", "unknown license %q", d.LicenseKey)
		case c.products[lic.ProductID].Category == license.CloudService:
			c.addf(path+".licenseKey", "%q is a cloud-service license, which has no deployments", d.LicenseKey)
		}
		if okID && lic != nil {
			k := [2]string{d.LicenseKey, d.DeploymentID}
			if c.deployments[k] {
				c.addf(path+".deploymentId", "duplicate deployment %q of license %q", d.DeploymentID, d.LicenseKey)
			}
			c.deployments[k] = true
		}
		dep := license.Deployment{DeploymentID: d.DeploymentID, LicenseKey: d.LicenseKey, Name: deref(d.Name), Active: d.Active == nil || *d.Active}
		if err := license.CheckDeploymentName(dep.Name); err != nil {
			c.addf(path+".name", "%v", err)
		}
		dep.ActivatedAt, _ = c.timestamp(path+".activatedAt", d.ActivatedAt)
		if d.LastSeenAt != nil {
			if t, ok := c.timestamp(path+".lastSeenAt", *d.LastSeenAt); ok {
				dep.LastSeenAt = &t
			}
		}
		if dep.Active && lic != nil {
			active[d.LicenseKey]++
			if n := active[d.LicenseKey]; lic.PurchasedInstances != nil && n == *lic.PurchasedInstances+1 {
				c.addf(path+".active", "license %q has more active deployments than its %d purchased instances", d.LicenseKey, *lic.PurchasedInstances)
			}
		}
		c.ds.Deployments = append(c.ds.Deployments, dep)
	}
}

func (c *checker) checkNotes() {
	seen := make(map[[2]string]bool)
	for i, n := range c.doc.PartnerNotes {
		path := fmt.Sprintf("partnerNotes[%d]", i)
		switch o := c.orgs[n.OrganizationID]; {
		case o == nil && c.external(Ref{Path: path + ".organizationId", Kind: RefOrganization, ID: n.OrganizationID}):
		case o == nil:
			c.addf(path+".organizationId", "unknown organization %q", n.OrganizationID)
		case !o.Type.Partner():
			c.addf(path+".organizationId", "%q is a %s; partner notes belong to distributors and resellers", n.OrganizationID, o.Type)
		}
		if c.licenses[n.LicenseKey] == nil && !c.external(Ref{Path: path + ".licenseKey", Kind: RefLicense, ID: n.LicenseKey}) {
			c.addf(path+".licenseKey", "unknown license %q", n.LicenseKey)
		}
		k := [2]string{n.OrganizationID, n.LicenseKey}
		if seen[k] {
			c.addf(path, "a second note of %q on license %q", n.OrganizationID, n.LicenseKey)
		}
		seen[k] = true
		if err := license.CheckNoteText(n.Text); err != nil {
			c.addf(path+".text", "%v", err)
		}
		note := Note{PartnerID: n.OrganizationID, LicenseKey: n.LicenseKey, Text: n.Text, UpdatedBy: deref(n.UpdatedBy)}
		if n.UpdatedAt != nil {
			note.UpdatedAt, _ = c.timestamp(path+".updatedAt", *n.UpdatedAt)
		}
		c.ds.Notes = append(c.ds.Notes, note)
	}
}

// checkRemoved checks a delta's removals: each names something the
// document does not also carry, and what the document does not hold is a
// reference to the table.
func (c *checker) checkRemoved() {
	r := c.doc.Removed
	if r == nil || !c.delta {
		return
	}
	for i, key := range r.Licenses {
		path := fmt.Sprintf("removed.licenses[%d]", i)
		switch {
		case !c.id(path, key):
		case c.licenses[key] != nil:
			c.addf(path, "license %q is both in the document and removed", key)
		case slices.Contains(r.Licenses[:i], key):
			c.addf(path, "license %q is listed twice", key)
		default:
			c.external(Ref{Path: path, Kind: RefLicense, ID: key})
			c.ds.Removed.Licenses = append(c.ds.Removed.Licenses, key)
		}
	}
	for i, s := range r.Deployments {
		path := fmt.Sprintf("removed.deployments[%d]", i)
		ref := DeploymentRef{DeploymentID: s}
		if key, dep, ok := strings.Cut(s, "/"); ok {
			ref = DeploymentRef{LicenseKey: key, DeploymentID: dep}
			if !c.id(path, key) {
				continue
			}
		}
		switch {
		case !c.id(path, ref.DeploymentID):
		case ref.LicenseKey != "" && c.deployments[[2]string{ref.LicenseKey, ref.DeploymentID}]:
			c.addf(path, "deployment %q is both in the document and removed", s)
		case slices.Contains(r.Deployments[:i], s):
			c.addf(path, "deployment %q is listed twice", s)
		default:
			c.external(Ref{Path: path, Kind: RefDeployment, ID: ref.DeploymentID, LicenseKey: ref.LicenseKey})
			c.ds.Removed.Deployments = append(c.ds.Removed.Deployments, ref)
		}
	}
	for i, orgID := range r.Organizations {
		path := fmt.Sprintf("removed.organizations[%d]", i)
		switch {
		case !c.id(path, orgID):
		case c.orgs[orgID] != nil:
			c.addf(path, "organization %q is both in the document and removed", orgID)
		case slices.Contains(r.Organizations[:i], orgID):
			c.addf(path, "organization %q is listed twice", orgID)
		default:
			c.external(Ref{Path: path, Kind: RefOrganization, ID: orgID, OrgType: access.OrgCustomer})
			c.ds.Removed.Organizations = append(c.ds.Removed.Organizations, orgID)
		}
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Marshal encodes a document in the import format.
func Marshal(doc *Document) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
