package httpapi

import (
	"net/http"

	"github.com/partnerportal/licenses/shared/portal"
)

// listSubscriptions answers GET /v1/report-subscriptions.
func (a *API) listSubscriptions(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	views, err := a.portal.Subscriptions(r.Context(), Subject(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, itemsOf(views))
	return nil
}

// getSubscription answers GET /v1/report-subscriptions/{id}.
func (a *API) getSubscription(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	v, err := a.portal.Subscription(r.Context(), Subject(r.Context()), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// putSubscription answers PUT /v1/report-subscriptions/{id}: 201 for a new
// subscription, 200 for a replaced one.
func (a *API) putSubscription(w http.ResponseWriter, r *http.Request) error {
	var req portal.SubscriptionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	v, created, err := a.portal.PutSubscription(r.Context(), Subject(r.Context()), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, v)
	return nil
}

// deleteSubscription answers DELETE /v1/report-subscriptions/{id} with 204;
// deleting twice is deleting once.
func (a *API) deleteSubscription(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	if err := a.portal.DeleteSubscription(r.Context(), Subject(r.Context()), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
