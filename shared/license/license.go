// Package license holds the domain of the portal: products, licenses, their
// deployments, partner notes and history events, and the rules that derive a
// license's status from its expiration date.
//
// It has no dependencies beyond the standard library; storage and transport
// live in other packages.
package license

import (
	"time"
)

// Category says how a product is delivered and so which numbers its licenses carry.
type Category string

// The product categories.
const (
	OnPrem       Category = "on_prem"
	CloudService Category = "cloud_service"
)

// Valid reports whether c is one of the known categories.
func (c Category) Valid() bool { return c == OnPrem || c == CloudService }

// Type says whether a license was bought or is an evaluation.
type Type string

// The license types.
const (
	Evaluation Type = "evaluation"
	Purchased  Type = "purchased"
)

// Valid reports whether t is one of the known types.
func (t Type) Valid() bool { return t == Evaluation || t == Purchased }

// Product is a product of the vendor. Products with VisibleToPartners false
// are never shown to partners.
type Product struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Category          Category `json:"category"`
	VisibleToPartners bool     `json:"visibleToPartners"`
}

// License is a product license assigned to one or more customer organizations.
//
// PurchasedInstances is set for on-prem products, ScanLimit (and optionally
// ScansUsed) for cloud services. Deployed is the number of active deployments.
type License struct {
	Key                string
	ProductID          string
	OrganizationIDs    []string
	Type               Type
	StartDate          Date
	ExpirationDate     Date
	PurchasedInstances *int
	ScanLimit          *int
	ScansUsed          *int
	CustomerNote       string
	Deployed           int
}

// Purchased returns the number of purchased instances, 0 when there are none.
func (l License) Purchased() int {
	if l.PurchasedInstances == nil {
		return 0
	}
	return *l.PurchasedInstances
}

// Deployment is a deployment of an on-prem license. An inactive deployment is
// kept for its history and does not count towards Deployed.
type Deployment struct {
	DeploymentID string     `json:"deploymentId"`
	LicenseKey   string     `json:"-"`
	Name         string     `json:"name"`
	ActivatedAt  time.Time  `json:"activatedAt"`
	LastSeenAt   *time.Time `json:"lastSeenAt"`
	Active       bool       `json:"active"`
	// Imported says that the licensing system reported the deployment,
	// rather than a partner activating it through the portal: a full import
	// removes only imported deployments it no longer names.
	Imported bool `json:"-"`
}

// MaxNoteLength is the longest partner note, counted in characters.
const MaxNoteLength = 2000

// Note is a partner organization's note on a license. Version grows by one at
// every change, clearing included.
type Note struct {
	Text      string    `json:"text"`
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updatedAt"`
	UpdatedBy string    `json:"updatedBy"`
}

// EventType names a kind of change in a license's history.
type EventType string

// The history event types.
const (
	Created            EventType = "created"
	Renewed            EventType = "renewed"
	Activated          EventType = "activated"
	Deactivated        EventType = "deactivated"
	PartnerNoteUpdated EventType = "partner_note_updated"
	Removed            EventType = "removed"
)

// Actor is who made a change through the portal: a user of an
// organization.
type Actor struct {
	UserID, UserName string
	OrgID, OrgName   string
}

// Event is one entry of a license's history. Actor is what a reader is
// shown of who made the change (see ShownTo); By is who it was, for a change
// made through the portal or a partner note the import brought.
// for changes that came from the vendor's licensing system.
type Event struct {
	At    time.Time      `json:"at"`
	Type  EventType      `json:"type"`
	Actor string         `json:"actor"`
	By    *Actor         `json:"-"`
	Data  map[string]any `json:"data"`
}

// ImportActor is the actor of history events recorded by the data import.
const ImportActor = "import"

// ShownTo returns the event as a partner organization reads it: a change by
// one of its own users names the user, one by another organization names
// the organization, never its user.
func (e Event) ShownTo(partnerID string) Event {
	switch {
	case e.By == nil:
	case e.By.OrgID == partnerID && e.By.UserName != "":
		e.Actor = e.By.UserName
	case e.By.OrgID == partnerID:
		e.Actor = e.By.UserID
	default:
		e.Actor = e.By.OrgName
	}
	e.By = nil
	return e
}
