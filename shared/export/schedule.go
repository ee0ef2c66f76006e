package export

import (
	"context"
	"errors"
	"time"

	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/store"
)

// staleAfter is how long a scheduled export may stay pending before a later
// run of the schedule takes it to have been abandoned (its function died)
// and finishes it.
const staleAfter = 15 * time.Minute

// RunSchedule makes the exports of the subscriptions due at t, as the hourly
// EventBridge schedule invokes it, and returns the ids of the exports it
// created. Each due subscription gets an export for the period that contains
// t only if the period has none: duplicated, retried or concurrent runs for
// the same period create nothing more. A run also finishes a period's export
// that an earlier run created but did not finish.
func (s *Service) RunSchedule(ctx context.Context, t time.Time) ([]string, error) {
	due, err := s.store.DueSubscriptions(ctx, t)
	if err != nil {
		return nil, err
	}
	created := []string{}
	var errs []error
	for _, sub := range due {
		e := &store.Export{ID: id.Ordered(t), PartnerID: sub.PartnerID, Status: store.ExportPending, Trigger: "scheduled",
			SubscriptionID: sub.ID, CreatedAt: t.UTC(), Selection: sub.Selection, ExpiresAt: t.UTC().Add(s.cfg.Retention)}
		e, isNew, err := s.store.ClaimPeriod(ctx, sub, e)
		switch {
		case err != nil:
			errs = append(errs, err)
			continue
		case e == nil: // the subscription went away meanwhile
			continue
		case isNew:
			created = append(created, e.ID)
		case e.Status != store.ExportPending || s.cfg.Now().Sub(e.CreatedAt) < staleAfter:
			continue // done, or another run is at it
		}
		sc, err := s.store.PartnerScope(ctx, sub.PartnerID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// A failed export is recorded on the export and logged; it does not
		// fail the run, which would only make EventBridge retry it.
		_, _ = s.run(ctx, sc, e)
	}
	return created, errors.Join(errs...)
}
