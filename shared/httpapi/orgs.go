package httpapi

import (
	"net/http"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/report"
)

type meResponse struct {
	User                  access.User         `json:"user"`
	Organization          access.Organization `json:"organization"`
	CustomerOrganizations featureState        `json:"customerOrganizations"`
}

type featureState struct {
	Visible bool         `json:"visible"`
	Access  access.Level `json:"access"`
}

// me answers GET /v1/me for any signed-in user: who they are, whether the
// Customer Organizations page is theirs to see, and the access level their
// roles grant on it (which matters only where it is visible).
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	sc, err := a.store.Caller(r.Context(), Subject(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, meResponse{User: sc.User, Organization: sc.Partner,
		CustomerOrganizations: featureState{Visible: sc.Visible(), Access: sc.Level}})
	return nil
}

type customerOrganization struct {
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	ParentID     *string     `json:"parentId"`
	Reseller     *access.Ref `json:"reseller"`
	LicenseCount int         `json:"licenseCount"`
}

// customerOrganizations answers GET /v1/customer-organizations: every visible
// customer organization, main and sub, by name, with the number of licenses
// shown under it (expired included, hidden products left out).
func (a *API) customerOrganizations(w http.ResponseWriter, r *http.Request) error {
	sc, err := a.scope(r, access.Read)
	if err != nil {
		return err
	}
	onPrem, cloud, err := a.rows(r, sc, nil)
	if err != nil {
		return err
	}
	counts := make(map[string]int)
	for _, list := range [][]report.Row{onPrem, cloud} {
		for i := range list {
			counts[list[i].OrganizationID]++
		}
	}
	items := make([]customerOrganization, 0, len(sc.Customers()))
	for _, c := range sc.Customers() {
		item := customerOrganization{ID: c.ID, Name: c.Name, Reseller: c.Reseller, LicenseCount: counts[c.ID]}
		// A parent the partner cannot see is not named: for this partner
		// the sub-organization stands on its own.
		if c.ParentID != "" && sc.Customer(c.ParentID) != nil {
			item.ParentID = &c.ParentID
		}
		items = append(items, item)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}
