// Package report computes the license report of the Customer Organizations
// page: the rows a partner sees for a selection of customer organizations,
// the overview the page's charts and numbers come from, and the filtered,
// ordered pages of the lists.
//
// It works on values only. The store reads licenses and keeps report
// snapshots; this package decides what they contain.
package report

import (
	"encoding/json"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
)

// Row is one license as shown under one customer organization. A license
// assigned to two unrelated organizations of the selection is a row under
// each; sub-organization priority has already been applied.
//
// Pinned and PartnerNote are per user and per partner and change over time,
// so snapshots leave them out and pages fill them in at request time.
type Row struct {
	LicenseKey       string
	ProductID        string
	ProductName      string
	Category         license.Category
	OrganizationID   string
	OrganizationName string
	Reseller         *access.Ref
	Status           license.Status
	Type             license.Type
	StartDate        license.Date
	ExpirationDate   license.Date
	CustomerNote     string
	Deployed         int
	Purchased        int
	ScanLimit        int
	ScansUsed        *int

	PartnerNote *license.Note
	Pinned      bool
}

// rowJSON is the API form of a row. The numbers of the other category are
// left out rather than sent as zeros.
type rowJSON struct {
	LicenseKey       string         `json:"licenseKey"`
	ProductID        string         `json:"productId"`
	ProductName      string         `json:"productName"`
	OrganizationID   string         `json:"organizationId"`
	OrganizationName string         `json:"organizationName"`
	Reseller         *access.Ref    `json:"reseller"`
	Status           license.Status `json:"status"`
	Type             license.Type   `json:"type"`
	StartDate        license.Date   `json:"startDate"`
	ExpirationDate   license.Date   `json:"expirationDate"`
	CustomerNote     *string        `json:"customerNote"`
	PartnerNote      *license.Note  `json:"partnerNote"`
	Pinned           bool           `json:"pinned"`
	Deployed         *int           `json:"deployed,omitempty"`
	Purchased        *int           `json:"purchased,omitempty"`
	ScanLimit        *int           `json:"scanLimit,omitempty"`
	ScansUsed        *int           `json:"scansUsed"`
}

// MarshalJSON writes the row as the API documents it: deployed and purchased
// for on-prem licenses, scanLimit and scansUsed for cloud services, and null
// for an absent customer note.
func (r Row) MarshalJSON() ([]byte, error) {
	j := rowJSON{
		LicenseKey: r.LicenseKey, ProductID: r.ProductID, ProductName: r.ProductName,
		OrganizationID: r.OrganizationID, OrganizationName: r.OrganizationName, Reseller: r.Reseller,
		Status: r.Status, Type: r.Type, StartDate: r.StartDate, ExpirationDate: r.ExpirationDate,
		PartnerNote: r.PartnerNote, Pinned: r.Pinned,
	}
	if r.CustomerNote != "" {
		j.CustomerNote = &r.CustomerNote
	}
	if r.Category == license.CloudService {
		j.ScanLimit, j.ScansUsed = &r.ScanLimit, r.ScansUsed
		return json.Marshal(j)
	}
	j.Deployed, j.Purchased = &r.Deployed, &r.Purchased
	return json.Marshal(struct {
		rowJSON
		ScansUsed *int `json:"scansUsed,omitempty"` // shadows the cloud field: absent for on-prem
	}{rowJSON: j})
}
