package httpapi

import (
	"net/http"

	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/report"
)

// createReport answers POST /v1/reports with 201 and the report.
func (a *API) createReport(w http.ResponseWriter, r *http.Request) error {
	var req portal.ReportRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	rep, err := a.portal.CreateReport(r.Context(), Subject(r.Context()), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, rep)
	return nil
}

func (a *API) reportProducts(w http.ResponseWriter, r *http.Request) error {
	return a.reportPage(w, r, license.OnPrem)
}

func (a *API) reportCloudServices(w http.ResponseWriter, r *http.Request) error {
	return a.reportPage(w, r, license.CloudService)
}

// reportPage answers GET /v1/reports/{id}/products and .../cloud-services.
func (a *API) reportPage(w http.ResponseWriter, r *http.Request, category license.Category) error {
	req, err := report.ParseRequest(r.URL.RawQuery)
	if err != nil {
		return err
	}
	p, err := a.portal.ReportPage(r.Context(), Subject(r.Context()), r.PathValue("id"), category, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
