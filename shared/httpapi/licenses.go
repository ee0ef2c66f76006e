package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// licenseKeyOf returns the {key} path value, refusing one of the wrong form.
func licenseKeyOf(r *http.Request) (string, error) {
	k := r.PathValue("key")
	if k == "" || len(k) > 200 || strings.ContainsAny(k, "#/?%\\ \t\r\n") {
		return "", fault.Errorf(fault.Invalid, "%q is not a license key", k)
	}
	return k, nil
}

// licenseRequest checks the caller's access and the {key} of a request on
// one license.
func (a *API) licenseRequest(r *http.Request, need access.Level) (*access.Scope, string, error) {
	sc, err := a.scope(r, need)
	if err != nil {
		return nil, "", err
	}
	key, err := licenseKeyOf(r)
	return sc, key, err
}

// visibleLicense reads a license and returns it with its row as the caller
// sees it: under the first organization it is shown under, with the pin and
// note of now. A license of a hidden product, or of no organization the
// partner sees, is not found.
func (a *API) visibleLicense(r *http.Request, sc *access.Scope, key string) (license.License, []license.Deployment, report.Row, error) {
	lic, deployments, err := a.store.License(r.Context(), key)
	if err != nil {
		return lic, nil, report.Row{}, err
	}
	products, err := a.store.Catalog(r.Context())
	if err != nil {
		return lic, nil, report.Row{}, err
	}
	onPrem, cloud := report.Rows(sc, []license.License{lic}, products, nil, a.cfg.Today(), a.window(sc))
	rows := append(onPrem, cloud...)
	if len(rows) == 0 {
		return lic, nil, report.Row{}, fault.Errorf(fault.NotFound, "license %s not found", key)
	}
	return lic, deployments, rows[0], nil
}

type licenseResponse struct {
	report.Row
	Deployments []license.Deployment `json:"deployments"`
}

func (l licenseResponse) MarshalJSON() ([]byte, error) {
	return mergeJSON(l.Row, map[string]any{"deployments": l.Deployments})
}

// license answers GET /v1/licenses/{key}: the row and every deployment,
// active ones first, newest first.
func (a *API) license(w http.ResponseWriter, r *http.Request) error {
	sc, key, err := a.licenseRequest(r, access.Read)
	if err != nil {
		return err
	}
	_, deployments, row, err := a.visibleLicense(r, sc, key)
	if err != nil {
		return err
	}
	personal, err := a.personalize(r, sc, false)
	if err != nil {
		return err
	}
	rows := personal.apply(sc, []report.Row{row})
	if err := a.withNotes(r, sc, personal, rows); err != nil {
		return err
	}
	row = rows[0]
	slices.SortFunc(deployments, func(x, y license.Deployment) int {
		if x.Active != y.Active {
			if x.Active {
				return -1
			}
			return 1
		}
		return y.ActivatedAt.Compare(x.ActivatedAt)
	})
	if deployments == nil {
		deployments = []license.Deployment{}
	}
	writeJSON(w, http.StatusOK, licenseResponse{Row: row, Deployments: deployments})
	return nil
}
