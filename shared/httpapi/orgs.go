package httpapi

import (
	"net/http"
)

// me answers GET /v1/me for any signed-in user.
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	me, err := a.portal.Me(r.Context(), Subject(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, me)
	return nil
}

// customerOrganizations answers GET /v1/customer-organizations.
func (a *API) customerOrganizations(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	items, err := a.portal.CustomerOrganizations(r.Context(), Subject(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, itemsOf(items))
	return nil
}
