package httpapi

import (
	"net/http"
)

// pins answers GET /v1/pins.
func (a *API) pins(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	rows, err := a.portal.Pins(r.Context(), Subject(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, itemsOf(rows))
	return nil
}

// pin answers PUT /v1/pins/{key} with 204.
func (a *API) pin(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	if err := a.portal.Pin(r.Context(), Subject(r.Context()), r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// unpin answers DELETE /v1/pins/{key} with 204.
func (a *API) unpin(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	if err := a.portal.Unpin(r.Context(), Subject(r.Context()), r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
