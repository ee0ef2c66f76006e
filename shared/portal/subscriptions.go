package portal

import (
	"context"
	"regexp"
	"time"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/subscription"
)

// SubscriptionRequest creates or replaces a report subscription.
type SubscriptionRequest struct {
	Frequency subscription.Frequency `json:"frequency"`
	Selection
	// Recipients, optional, are told by e-mail when an export of the
	// subscription is ready.
	Recipients []string `json:"recipients"`
}

// SubscriptionView is a subscription as a caller sees it.
type SubscriptionView struct {
	ID              string                 `json:"id"`
	Frequency       subscription.Frequency `json:"frequency"`
	All             bool                   `json:"all,omitempty"`
	OrganizationIDs []string               `json:"organizationIds,omitempty"`
	Recipients      []string               `json:"recipients,omitempty"`
	CreatedBy       string                 `json:"createdBy"`
	CreatedAt       time.Time              `json:"createdAt"`
	UpdatedAt       time.Time              `json:"updatedAt"`
}

func subscriptionView(s subscription.Subscription) SubscriptionView {
	return SubscriptionView{ID: s.ID, Frequency: s.Frequency, All: s.Selection.All, OrganizationIDs: s.Selection.OrganizationIDs,
		Recipients: s.Recipients, CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

// subscriptionIDPattern is the form of the ids clients choose for their
// subscriptions, but for "." and "..", which are path segments.
var subscriptionIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// subscriptionCaller loads the caller, who needs full access (subscriptions
// make exports), and checks a subscription id.
func (s *Service) subscriptionCaller(ctx context.Context, subject, subID string) (*access.Scope, error) {
	sc, err := s.caller(ctx, subject, access.Full)
	if err != nil {
		return nil, err
	}
	if !subscriptionIDPattern.MatchString(subID) || subID == "." || subID == ".." {
		return nil, fault.Errorf(fault.Invalid, "%q is not a subscription id: 1 to 64 letters, digits, '.', '_' or '-', not \".\" or \"..\"", subID)
	}
	return sc, nil
}

// Subscriptions returns the caller's partner organization's subscriptions
// by id. It needs full access.
func (s *Service) Subscriptions(ctx context.Context, subject string) ([]SubscriptionView, error) {
	sc, err := s.caller(ctx, subject, access.Full)
	if err != nil {
		return nil, err
	}
	subs, err := s.store.Subscriptions(ctx, sc.Partner.ID)
	if err != nil {
		return nil, err
	}
	views := make([]SubscriptionView, 0, len(subs))
	for _, sub := range subs {
		views = append(views, subscriptionView(sub))
	}
	return views, nil
}

// Subscription returns one of the caller's partner organization's
// subscriptions. It needs full access.
func (s *Service) Subscription(ctx context.Context, subject, subID string) (*SubscriptionView, error) {
	sc, err := s.subscriptionCaller(ctx, subject, subID)
	if err != nil {
		return nil, err
	}
	sub, err := s.store.Subscription(ctx, sc.Partner.ID, subID)
	if err != nil {
		return nil, err
	}
	v := subscriptionView(sub)
	return &v, nil
}

// PutSubscription creates a subscription (created is true) or replaces
// one. A new subscription is due at once: the next run of the schedule
// makes the export of the current period. It needs full access.
func (s *Service) PutSubscription(ctx context.Context, subject, subID string, req SubscriptionRequest) (v *SubscriptionView, created bool, err error) {
	sc, err := s.subscriptionCaller(ctx, subject, subID)
	if err != nil {
		return nil, false, err
	}
	if !req.Frequency.Valid() {
		return nil, false, fault.Errorf(fault.Invalid, `frequency must be "daily", "weekly" or "monthly"`)
	}
	if _, _, err := s.checkSelection(ctx, sc, req.Selection); err != nil {
		return nil, false, err
	}
	recipients, err := checkRecipients(req.Recipients, false)
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	sub := subscription.Subscription{ID: subID, PartnerID: sc.Partner.ID, Frequency: req.Frequency, Selection: req.kept(),
		Recipients: nilIfEmpty(recipients), CreatedBy: sc.User.ID, CreatedAt: now, UpdatedAt: now}
	created = true
	if old, err := s.store.Subscription(ctx, sc.Partner.ID, subID); err == nil {
		sub.CreatedBy, sub.CreatedAt, sub.Incarnation = old.CreatedBy, old.CreatedAt, old.Incarnation
		created = false
	} else if !fault.Is(err, fault.NotFound) {
		return nil, false, err
	}
	if err := s.store.PutSubscription(ctx, sub, now); err != nil {
		return nil, false, err
	}
	view := subscriptionView(sub)
	return &view, created, nil
}

// DeleteSubscription removes a subscription; removing one that is gone is
// not an error. Its exports stay. It needs full access.
func (s *Service) DeleteSubscription(ctx context.Context, subject, subID string) error {
	sc, err := s.subscriptionCaller(ctx, subject, subID)
	if err != nil {
		return err
	}
	return s.store.DeleteSubscription(ctx, sc.Partner.ID, subID)
}

// nilIfEmpty returns nil for an empty slice, which JSON's omitempty leaves
// out.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
