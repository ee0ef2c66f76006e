// Package dataset reads the import document of the vendor's licensing system
// (products, organizations, roles, users, licenses, deployments and partner
// notes), checks every rule it must satisfy, and turns it into domain values.
//
// A document that breaks any rule is refused whole: Parse returns every
// problem, each named by its JSON path, and no value to load. The loading
// itself is the store's (store.Import), so the local server's -data flag and
// the importer for real tables share one path.
package dataset

import (
	"time"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
)

// Document is the import format as it appears on the wire. Optional fields are
// pointers so that absent and null can be told from zero.
type Document struct {
	// Mode is "full" (the default: the complete state of the licensing
	// system) or "delta" (only what changed, with Removed).
	Mode          string         `json:"mode,omitempty"`
	Products      []Product      `json:"products"`
	Organizations []Organization `json:"organizations"`
	Roles         []Role         `json:"roles"`
	Users         []User         `json:"users"`
	Licenses      []License      `json:"licenses"`
	Deployments   []Deployment   `json:"deployments"`
	PartnerNotes  []PartnerNote  `json:"partnerNotes"`
	// Removed names what the source removed; only in a delta.
	Removed *Removed `json:"removed,omitempty"`
}

// Removed names, in a delta, what the source removed: licenses by key,
// deployments by id (or as "<license key>/<deployment id>" where an id is
// not unique), and organizations by id.
type Removed struct {
	Licenses      []string `json:"licenses"`
	Deployments   []string `json:"deployments"`
	Organizations []string `json:"organizations"`
}

// Product is a product in the import document. VisibleToPartners defaults to true.
type Product struct {
	ID                string `json:"id"`
	Name              string `json:"name"`
	Category          string `json:"category"`
	VisibleToPartners *bool  `json:"visibleToPartners"`
}

// Organization is an organization in the import document.
type Organization struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	Type               string  `json:"type"`
	ParentID           *string `json:"parentId"`
	DistributorID      *string `json:"distributorId"`
	ResellerID         *string `json:"resellerId"`
	ExpiringWindowDays *int    `json:"expiringWindowDays"`
}

// Role is a role in the import document.
type Role struct {
	ID             string            `json:"id"`
	OrganizationID string            `json:"organizationId"`
	Name           string            `json:"name"`
	Permissions    map[string]string `json:"permissions"`
}

// User is a user in the import document.
type User struct {
	ID             string   `json:"id"`
	Email          string   `json:"email"`
	Name           string   `json:"name"`
	OrganizationID string   `json:"organizationId"`
	RoleIDs        []string `json:"roleIds"`
}

// License is a license in the import document.
type License struct {
	Key                string   `json:"key"`
	ProductID          string   `json:"productId"`
	OrganizationIDs    []string `json:"organizationIds"`
	Type               string   `json:"type"`
	StartDate          string   `json:"startDate"`
	ExpirationDate     string   `json:"expirationDate"`
	PurchasedInstances *int     `json:"purchasedInstances"`
	ScanLimit          *int     `json:"scanLimit"`
	ScansUsed          *int     `json:"scansUsed"`
	CustomerNote       *string  `json:"customerNote"`
}

// Deployment is a deployment in the import document. Active defaults to true.
type Deployment struct {
	DeploymentID string  `json:"deploymentId"`
	LicenseKey   string  `json:"licenseKey"`
	Name         *string `json:"name"`
	ActivatedAt  string  `json:"activatedAt"`
	LastSeenAt   *string `json:"lastSeenAt"`
	Active       *bool   `json:"active"`
}

// PartnerNote is a partner organization's note in the import document.
type PartnerNote struct {
	OrganizationID string  `json:"organizationId"`
	LicenseKey     string  `json:"licenseKey"`
	Text           string  `json:"text"`
	UpdatedBy      *string `json:"updatedBy"`
	UpdatedAt      *string `json:"updatedAt"`
}

// Mode says whether a document is the complete state of the licensing
// system or only what changed.
type Mode string

// The modes.
const (
	Full  Mode = "full"
	Delta Mode = "delta"
)

// Dataset is a checked document, as domain values ready to load.
type Dataset struct {
	Mode          Mode
	Products      []license.Product
	Organizations []access.Organization
	Roles         []access.Role
	Users         []access.User
	Licenses      []license.License
	Deployments   []license.Deployment
	Notes         []Note
	// Removed is what a delta removes: license keys, deployments (license
	// key empty when the document named the id alone) and organization ids.
	Removed struct {
		Licenses      []string
		Deployments   []DeploymentRef
		Organizations []string
	}
	// Refs are the references of a delta to what the document does not
	// hold: they must name what the table holds, which only the store can
	// check (store.Import refuses the document whole otherwise).
	Refs []Ref
}

// DeploymentRef names a deployment of a license; LicenseKey is empty when
// only the deployment id is known.
type DeploymentRef struct {
	LicenseKey, DeploymentID string
}

// RefKind is the kind of entity a reference names.
type RefKind string

// The kinds of references.
const (
	RefOrganization RefKind = "organization"
	RefProduct      RefKind = "product"
	RefLicense      RefKind = "license"
	RefRole         RefKind = "role"
	RefDeployment   RefKind = "deployment"
)

// Ref is a reference of a delta to an entity outside the document.
type Ref struct {
	Path string  // where the document names it, as in Problem
	Kind RefKind // what it must be
	ID   string
	// OrgType is, for an organization, the type it must have ("" any).
	OrgType access.OrgType
	// LicenseKey is, for a deployment, the license it belongs to.
	LicenseKey string
}

// Note is a partner note to load. Its version is the store's to assign.
type Note struct {
	PartnerID  string
	LicenseKey string
	Text       string
	UpdatedBy  string
	UpdatedAt  time.Time // zero means the time of the import
}
