package httpapi

import (
	"net/http"

	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/portal"
)

// notificationSettings answers GET /v1/notification-settings.
func (a *API) notificationSettings(w http.ResponseWriter, r *http.Request) error {
	if err := noQuery(r); err != nil {
		return err
	}
	v, err := a.portal.NotificationSettings(r.Context(), Subject(r.Context()))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// saveNotificationSettings answers PUT /v1/notification-settings with the
// settings saved.
func (a *API) saveNotificationSettings(w http.ResponseWriter, r *http.Request) error {
	var req portal.NotificationSettingsRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	v, err := a.portal.SaveNotificationSettings(r.Context(), Subject(r.Context()), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// notifications answers GET /v1/notifications, paged with cursor and limit.
func (a *API) notifications(w http.ResponseWriter, r *http.Request) error {
	req, err := page.Parse(r.URL.RawQuery, nil)
	if err != nil {
		return err
	}
	p, err := a.portal.Notifications(r.Context(), Subject(r.Context()), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// notification answers GET /v1/notifications/{id}: the digest with a page
// of its rows, paged with cursor and limit.
func (a *API) notification(w http.ResponseWriter, r *http.Request) error {
	req, err := page.Parse(r.URL.RawQuery, nil)
	if err != nil {
		return err
	}
	d, err := a.portal.Notification(r.Context(), Subject(r.Context()), r.PathValue("id"), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}
