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
	Products      []Product      `json:"products"`
	Organizations []Organization `json:"organizations"`
	Roles         []Role         `json:"roles"`
	Users         []User         `json:"users"`
	Licenses      []License      `json:"licenses"`
	Deployments   []Deployment   `json:"deployments"`
	PartnerNotes  []PartnerNote  `json:"partnerNotes"`
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

// Dataset is a checked document, as domain values ready to load.
type Dataset struct {
	Products      []license.Product
	Organizations []access.Organization
	Roles         []access.Role
	Users         []access.User
	Licenses      []license.License
	Deployments   []license.Deployment
	Notes         []Note
}

// Note is a partner note to load. Its version is the store's to assign.
type Note struct {
	PartnerID  string
	LicenseKey string
	Text       string
	UpdatedBy  string
	UpdatedAt  time.Time // zero means the time of the import
}
