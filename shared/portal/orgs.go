package portal

import (
	"context"

	"github.com/partnerportal/licenses/shared/access"
)

// Me is who the caller is, and what the Customer Organizations page is to it.
type Me struct {
	User                  access.User         `json:"user"`
	Organization          access.Organization `json:"organization"`
	CustomerOrganizations Feature             `json:"customerOrganizations"`
}

// Feature says whether the Customer Organizations page is the user's to
// see, and the access level the user's roles grant on it (which matters
// only where it is visible).
type Feature struct {
	Visible bool         `json:"visible"`
	Access  access.Level `json:"access"`
}

// Me returns who the caller is, for any signed-in user of the portal.
func (s *Service) Me(ctx context.Context, subject string) (*Me, error) {
	sc, err := s.store.Caller(ctx, subject)
	if err != nil {
		return nil, err
	}
	return &Me{User: sc.User, Organization: sc.Partner,
		CustomerOrganizations: Feature{Visible: sc.Visible(), Access: sc.Level}}, nil
}

// CustomerOrganization is a customer organization in the customer list.
type CustomerOrganization struct {
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	ParentID     *string     `json:"parentId"`
	Reseller     *access.Ref `json:"reseller"`
	LicenseCount int         `json:"licenseCount"`
}

// CustomerOrganizations returns every customer organization the caller's
// partner sees, main and sub, by name, with the number of licenses shown
// under it (expired included, hidden products left out), as the import
// counted them: no license is read. It needs read access.
func (s *Service) CustomerOrganizations(ctx context.Context, subject string) ([]CustomerOrganization, error) {
	sc, err := s.caller(ctx, subject, access.Read)
	if err != nil {
		return nil, err
	}
	customers, err := s.store.Customers(ctx, sc.Partner.ID)
	if err != nil {
		return nil, err
	}
	items := make([]CustomerOrganization, 0, len(customers))
	for _, c := range customers {
		item := CustomerOrganization{ID: c.ID, Name: c.Name, Reseller: c.Reseller, LicenseCount: c.LicenseCount}
		// A parent the partner cannot see is not named: for this partner
		// the sub-organization stands on its own (the import keeps only a
		// parent the partner sees).
		if c.ParentID != "" {
			item.ParentID = &c.ParentID
		}
		items = append(items, item)
	}
	return items, nil
}
