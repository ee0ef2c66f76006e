package httpapi

import (
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/subscription"
)

// exportView is an export as the API shows it. URL and ExpiresAt are set
// for users with full access to a ready export, fresh at every request.
type exportView struct {
	ID              string         `json:"id"`
	Status          string         `json:"status"`
	URL             string         `json:"url,omitempty"`
	ExpiresAt       *time.Time     `json:"expiresAt,omitempty"`
	Counts          map[string]int `json:"counts,omitempty"`
	Reason          string         `json:"reason,omitempty"`
	Trigger         string         `json:"trigger"`
	SubscriptionID  string         `json:"subscriptionId,omitempty"`
	CreatedBy       string         `json:"createdBy,omitempty"`
	CreatedAt       time.Time      `json:"createdAt"`
	CompletedAt     *time.Time     `json:"completedAt,omitempty"`
	All             bool           `json:"all,omitempty"`
	OrganizationIDs []string       `json:"organizationIds,omitempty"`
}

func (a *API) exportView(r *http.Request, sc *access.Scope, e *store.Export) (exportView, error) {
	v := exportView{ID: e.ID, Status: string(e.Status), Counts: e.Counts, Reason: e.Reason, Trigger: e.Trigger,
		SubscriptionID: e.SubscriptionID, CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt,
		All: e.Selection.All, OrganizationIDs: e.Selection.OrganizationIDs}
	if !e.CompletedAt.IsZero() {
		v.CompletedAt = &e.CompletedAt
	}
	if e.Status == store.ExportReady && sc.Level >= access.Full {
		url, expires, err := a.exports.URL(r.Context(), e)
		if err != nil {
			return v, err
		}
		v.URL, v.ExpiresAt = url, &expires
	}
	return v, nil
}

// selection turns a checked selection into what an export or subscription
// keeps: all, or the distinct organization ids in the order given.
func selection(req selectionRequest) report.Selection {
	if req.All {
		return report.Selection{All: true}
	}
	var ids []string
	for _, orgID := range req.OrganizationIDs {
		if !slices.Contains(ids, orgID) {
			ids = append(ids, orgID)
		}
	}
	return report.Selection{OrganizationIDs: ids}
}

// createExport answers POST /v1/exports: 201 with a download link when the
// workbook is ready, 202 when a large selection finishes asynchronously.
func (a *API) createExport(w http.ResponseWriter, r *http.Request) error {
	sc, err := a.scope(r, access.Full)
	if err != nil {
		return err
	}
	var req selectionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if _, err := selected(sc, req); err != nil {
		return err
	}
	e, err := a.exports.Start(r.Context(), sc, selection(req))
	if err != nil {
		return err
	}
	if e.Status == store.ExportPending {
		writeJSON(w, http.StatusAccepted, map[string]string{"id": e.ID, "status": string(e.Status)})
		return nil
	}
	v, err := a.exportView(r, sc, e)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

// listExports answers GET /v1/exports: the partner organization's exports,
// newest first.
func (a *API) listExports(w http.ResponseWriter, r *http.Request) error {
	sc, err := a.scope(r, access.Read)
	if err != nil {
		return err
	}
	exports, err := a.store.Exports(r.Context(), sc.Partner.ID, a.cfg.Now())
	if err != nil {
		return err
	}
	views := make([]exportView, 0, len(exports))
	for _, e := range exports {
		v, err := a.exportView(r, sc, e)
		if err != nil {
			return err
		}
		views = append(views, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": views})
	return nil
}

// getExport answers GET /v1/exports/{id}.
func (a *API) getExport(w http.ResponseWriter, r *http.Request) error {
	sc, err := a.scope(r, access.Read)
	if err != nil {
		return err
	}
	exportID := r.PathValue("id")
	if !id.Valid(exportID) {
		return fault.Errorf(fault.Invalid, "%q is not an export id", exportID)
	}
	e, err := a.store.Export(r.Context(), sc.Partner.ID, exportID, a.cfg.Now())
	if err != nil {
		return err
	}
	v, err := a.exportView(r, sc, e)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// subscriptionRequest is the body of PUT /v1/report-subscriptions/{id}.
type subscriptionRequest struct {
	Frequency       subscription.Frequency `json:"frequency"`
	OrganizationIDs []string               `json:"organizationIds"`
	All             bool                   `json:"all"`
}

type subscriptionView struct {
	ID              string                 `json:"id"`
	Frequency       subscription.Frequency `json:"frequency"`
	All             bool                   `json:"all,omitempty"`
	OrganizationIDs []string               `json:"organizationIds,omitempty"`
	CreatedBy       string                 `json:"createdBy"`
	CreatedAt       time.Time              `json:"createdAt"`
	UpdatedAt       time.Time              `json:"updatedAt"`
}

func viewOf(s subscription.Subscription) subscriptionView {
	return subscriptionView{ID: s.ID, Frequency: s.Frequency, All: s.Selection.All, OrganizationIDs: s.Selection.OrganizationIDs,
		CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

var subscriptionIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// subscriptionRequest checks the caller's access (full: subscriptions make
// exports) and the {id} of a request on one subscription.
func (a *API) subscriptionRequest(r *http.Request) (*access.Scope, string, error) {
	sc, err := a.scope(r, access.Full)
	if err != nil {
		return nil, "", err
	}
	s := r.PathValue("id")
	if !subscriptionIDPattern.MatchString(s) {
		return nil, "", fault.Errorf(fault.Invalid, "%q is not a subscription id: 1 to 64 letters, digits, '.', '_' or '-'", s)
	}
	return sc, s, nil
}

func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	sc, err := a.scope(r, access.Full)
	if err != nil {
		return err
	}
	subs, err := a.store.Subscriptions(r.Context(), sc.Partner.ID)
	if err != nil {
		return err
	}
	views := make([]subscriptionView, 0, len(subs))
	for _, s := range subs {
		views = append(views, viewOf(s))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": views})
	return nil
}

func (a *API) getSubscription(w http.ResponseWriter, r *http.Request) error {
	sc, subID, err := a.subscriptionRequest(r)
	if err != nil {
		return err
	}
	s, err := a.store.Subscription(r.Context(), sc.Partner.ID, subID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, viewOf(s))
	return nil
}

// putSubscription answers PUT /v1/report-subscriptions/{id}: 201 for a new
// subscription, 200 for a changed one. A subscription is due at once: the
// next run of the schedule makes the export of the current period.
func (a *API) putSubscription(w http.ResponseWriter, r *http.Request) error {
	sc, subID, err := a.subscriptionRequest(r)
	if err != nil {
		return err
	}
	var req subscriptionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if !req.Frequency.Valid() {
		return fault.Errorf(fault.Invalid, `frequency must be "daily", "weekly" or "monthly"`)
	}
	sel := selectionRequest{OrganizationIDs: req.OrganizationIDs, All: req.All}
	if _, err := selected(sc, sel); err != nil {
		return err
	}
	now := a.cfg.Now().UTC()
	sub := subscription.Subscription{ID: subID, PartnerID: sc.Partner.ID, Frequency: req.Frequency, Selection: selection(sel),
		CreatedBy: sc.User.ID, CreatedAt: now, UpdatedAt: now}
	status := http.StatusCreated
	if old, err := a.store.Subscription(r.Context(), sc.Partner.ID, subID); err == nil {
		sub.CreatedBy, sub.CreatedAt = old.CreatedBy, old.CreatedAt
		status = http.StatusOK
	} else if !fault.Is(err, fault.NotFound) {
		return err
	}
	if err := a.store.PutSubscription(r.Context(), sub, now); err != nil {
		return err
	}
	writeJSON(w, status, viewOf(sub))
	return nil
}

// deleteSubscription answers DELETE /v1/report-subscriptions/{id}; deleting
// twice is deleting once. The subscription's exports stay.
func (a *API) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	sc, subID, err := a.subscriptionRequest(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteSubscription(r.Context(), sc.Partner.ID, subID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
