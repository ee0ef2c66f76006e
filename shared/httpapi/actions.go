package httpapi

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

type noteRequest struct {
	Text    *string `json:"text"`
	Version *int    `json:"version"`
}

// partnerNote answers PUT /v1/licenses/{key}/partner-note: it sets the
// caller's partner organization's note if nobody changed it since the editor
// read it (version), and answers 409 version_conflict with the current note
// otherwise. Empty text clears the note and still counts as a change.
func (a *API) partnerNote(w http.ResponseWriter, r *http.Request) error {
	sc, key, err := a.licenseRequest(r, access.Full)
	if err != nil {
		return err
	}
	var req noteRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	switch {
	case req.Text == nil || req.Version == nil:
		return fault.Errorf(fault.Invalid, `send {"text": "...", "version": <the version you edited, 0 for a new note>}`)
	case *req.Version < 0:
		return fault.Errorf(fault.Invalid, "version may not be negative")
	}
	if err := dataset.CheckNoteText(*req.Text); err != nil {
		return fault.Errorf(fault.Invalid, "text %v", err)
	}
	if _, _, _, err := a.visibleLicense(r, sc, key); err != nil {
		return err
	}
	note, err := a.store.SaveNote(r.Context(), sc.Partner.ID, key, *req.Text, *req.Version, sc.User.ID, a.cfg.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, note)
	return nil
}

type activationRequest struct {
	DeploymentID string `json:"deploymentId"`
	Name         string `json:"name"`
}

type activationResponse struct {
	DeploymentID string    `json:"deploymentId"`
	Name         string    `json:"name"`
	ActivatedAt  time.Time `json:"activatedAt"`
	Deployed     int       `json:"deployed"`
	Purchased    int       `json:"purchased"`
}

// deploymentIDOf checks a deployment id from a body or a path.
func deploymentIDOf(id string) error {
	if id == "" || len(id) > 200 || strings.ContainsAny(id, "#/?%\\") || strings.IndexFunc(id, isSpaceOrControl) >= 0 || !utf8.ValidString(id) {
		return fault.Errorf(fault.Invalid, "%q is not a deployment id: 1 to 200 characters, no spaces, '#', '/', '?', '%%' or '\\'", id)
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// activate answers POST /v1/licenses/{key}/activations: 201 for a new
// active deployment, 200 when it was already active.
func (a *API) activate(w http.ResponseWriter, r *http.Request) error {
	sc, key, err := a.licenseRequest(r, access.Read)
	if err != nil {
		return err
	}
	var req activationRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := deploymentIDOf(req.DeploymentID); err != nil {
		return err
	}
	if utf8.RuneCountInString(req.Name) > 200 || dataset.CheckNoteText(req.Name) != nil || strings.ContainsAny(req.Name, "\n\t") {
		return fault.Errorf(fault.Invalid, "name must be at most 200 characters on one line")
	}
	_, _, row, err := a.visibleLicense(r, sc, key)
	if err != nil {
		return err
	}
	switch {
	case row.Category == license.CloudService:
		return fault.Errorf(fault.Invalid, "%s is a cloud-service license, which is not activated on deployments", key)
	case row.Status == license.Expired:
		return fault.Errorf(fault.LicenseExpired, "%s expired on %s", key, row.ExpirationDate)
	}
	res, err := a.store.Activate(r.Context(), key, license.Deployment{DeploymentID: req.DeploymentID, Name: req.Name,
		ActivatedAt: a.cfg.Now().UTC()}, sc.User.ID)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	writeJSON(w, status, activationResponse{DeploymentID: res.Deployment.DeploymentID, Name: res.Deployment.Name,
		ActivatedAt: res.Deployment.ActivatedAt.UTC(), Deployed: res.Deployed, Purchased: res.Purchased})
	return nil
}

// deactivate answers DELETE /v1/licenses/{key}/activations/{deploymentId}:
// the instance is freed and the deployment kept as inactive.
func (a *API) deactivate(w http.ResponseWriter, r *http.Request) error {
	sc, key, err := a.licenseRequest(r, access.Read)
	if err != nil {
		return err
	}
	id := r.PathValue("deploymentId")
	if err := deploymentIDOf(id); err != nil {
		return err
	}
	if _, _, _, err := a.visibleLicense(r, sc, key); err != nil {
		return err
	}
	if err := a.store.Deactivate(r.Context(), key, id, sc.User.ID, a.cfg.Now()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type historyPage struct {
	Items      []license.Event `json:"items"`
	NextCursor *string         `json:"nextCursor"`
}

// history answers GET /v1/licenses/{key}/history: newest first, paged with
// cursor and limit like the report lists.
func (a *API) history(w http.ResponseWriter, r *http.Request) error {
	sc, key, err := a.licenseRequest(r, access.Read)
	if err != nil {
		return err
	}
	q, err := query(r)
	if err != nil {
		return err
	}
	limit, cursor := report.DefaultLimit, ""
	for name, values := range q {
		if len(values) != 1 {
			return fault.Errorf(fault.Invalid, "%s may be given once", name)
		}
		switch name {
		case "limit":
			n, err := strconv.Atoi(values[0])
			if err != nil || n < 1 || n > report.MaxLimit {
				return fault.Errorf(fault.Invalid, "limit must be a whole number from 1 to %d", report.MaxLimit)
			}
			limit = n
		case "cursor":
			b, err := base64.RawURLEncoding.DecodeString(values[0])
			if err != nil || len(b) == 0 {
				return fault.Errorf(fault.Invalid, "cursor is not valid")
			}
			cursor = string(b)
		default:
			return fault.Errorf(fault.Invalid, "unknown parameter %q", name)
		}
	}
	if _, _, _, err := a.visibleLicense(r, sc, key); err != nil {
		return err
	}
	events, next, err := a.store.History(r.Context(), key, sc.Partner.ID, cursor, limit)
	if err != nil {
		return err
	}
	page := historyPage{Items: events}
	if page.Items == nil {
		page.Items = []license.Event{}
	}
	if next != "" {
		c := base64.RawURLEncoding.EncodeToString([]byte(next))
		page.NextCursor = &c
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// pins answers GET /v1/pins: the caller's pinned licenses that it can still
// see, as rows in report order.
func (a *API) pins(w http.ResponseWriter, r *http.Request) error {
	sc, err := a.scope(r, access.Read)
	if err != nil {
		return err
	}
	personal, err := a.personalize(r, sc, false)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(personal.pins))
	for k := range personal.pins {
		keys = append(keys, k)
	}
	licenses, err := a.store.LicensesByKey(r.Context(), keys)
	if err != nil {
		return err
	}
	products, err := a.store.Catalog(r.Context())
	if err != nil {
		return err
	}
	onPrem, cloud := report.Rows(sc, licenses, products, nil, a.cfg.Today(), a.window(sc))
	rows := personal.apply(sc, append(onPrem, cloud...))
	report.Sort(rows)
	if err := a.withNotes(r, sc, personal, rows); err != nil {
		return err
	}
	if rows == nil {
		rows = []report.Row{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": rows})
	return nil
}

// pin answers PUT /v1/pins/{key}; pinning twice is pinning once.
func (a *API) pin(w http.ResponseWriter, r *http.Request) error {
	return a.changePin(w, r, true)
}

// unpin answers DELETE /v1/pins/{key}; unpinning twice is unpinning once.
func (a *API) unpin(w http.ResponseWriter, r *http.Request) error {
	return a.changePin(w, r, false)
}

func (a *API) changePin(w http.ResponseWriter, r *http.Request, pinned bool) error {
	sc, key, err := a.licenseRequest(r, access.Read)
	if err != nil {
		return err
	}
	if _, _, _, err := a.visibleLicense(r, sc, key); err != nil {
		return err
	}
	if pinned {
		err = a.store.Pin(r.Context(), sc.User.ID, key, a.cfg.Now())
	} else {
		err = a.store.Unpin(r.Context(), sc.User.ID, key)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
