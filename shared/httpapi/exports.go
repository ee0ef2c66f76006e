package httpapi

import (
	"net/http"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/portal"
)

// createExport answers POST /v1/exports: 201 with a download link when the
// workbook is ready, 202 when a large selection finishes asynchronously.
func (a *API) createExport(w http.ResponseWriter, r *http.Request) error {
	var sel portal.Selection
	if err := decode(w, r, &sel); err != nil {
		return err
	}
	v, err := a.portal.CreateExport(r.Context(), Subject(r.Context()), sel)
	if err != nil {
		return err
	}
	if v.Status == export.Pending {
		writeJSON(w, http.StatusAccepted, map[string]string{"id": v.ID, "status": string(v.Status)})
		return nil
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// listExports answers GET /v1/exports.
func (a *API) listExports(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	views, err := a.portal.Exports(r.Context(), Subject(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, itemsOf(views))
	return nil
}

// getExport answers GET /v1/exports/{id}.
func (a *API) getExport(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	v, err := a.portal.Export(r.Context(), Subject(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}
