package httpapi

import (
	"net/http"

	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/portal"
)

// license answers GET /v1/licenses/{key}.
func (a *API) license(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	l, err := a.portal.License(r.Context(), Subject(r.Context()), r.PathValue("key"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

// history answers GET /v1/licenses/{key}/history, paged with cursor and
// limit like the report lists.
func (a *API) history(w http.ResponseWriter, r *http.Request) error {
	req, err := page.Parse(r.URL.RawQuery, nil)
	if err != nil {
		return err
	}
	h, err := a.portal.History(r.Context(), Subject(r.Context()), r.PathValue("key"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// partnerNote answers PUT /v1/licenses/{key}/partner-note with the note, or
// 409 version_conflict with the current one.
func (a *API) partnerNote(w http.ResponseWriter, r *http.Request) error {
	var edit portal.NoteEdit
	if err := decode(w, r, &edit); err != nil {
		return err
	}
	note, err := a.portal.SaveNote(r.Context(), Subject(r.Context()), r.PathValue("key"), edit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, note)
	return nil
}

// activate answers POST /v1/licenses/{key}/activations: 201 for a new
// active deployment, 200 when it was already active.
func (a *API) activate(w http.ResponseWriter, r *http.Request) error {
	var req portal.DeploymentRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	act, err := a.portal.Activate(r.Context(), Subject(r.Context()), r.PathValue("key"), req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if act.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, act)
	return nil
}

// deactivate answers DELETE /v1/licenses/{key}/activations/{deploymentId}
// with 204.
func (a *API) deactivate(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	err := a.portal.Deactivate(r.Context(), Subject(r.Context()), r.PathValue("key"), r.PathValue("deploymentId"))
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
