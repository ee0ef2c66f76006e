package portal

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/subscription"
)

// RunSchedule makes the exports of the subscriptions due at t, as the
// hourly EventBridge schedule invokes it, and returns the ids of the
// exports it created. Each due subscription gets an export for the period
// that contains t only if the period has none: duplicated, retried or
// concurrent runs for the same period create nothing more.
//
// A run also finishes the exports, manual or scheduled, that have been
// pending for longer than export.StaleAfter: the function that was to
// finish them died. A failed export is recorded on the export and logged;
// it does not fail the run, which would only make EventBridge retry it. An
// error means some subscription could not be claimed or some stale export
// could not be read, and a retry would do the rest.
func (s *Service) RunSchedule(ctx context.Context, t time.Time) ([]string, error) {
	cfg, err := s.exports()
	if err != nil {
		return nil, err
	}
	due, err := s.store.DueSubscriptions(ctx, t)
	if err != nil {
		return nil, err
	}
	created := []string{}
	var errs []error
	for _, sub := range due {
		e, isNew, err := s.claim(ctx, cfg, sub, t)
		switch {
		case err != nil:
			errs = append(errs, err)
			continue
		case e == nil || e.Status != export.Pending:
			continue // the subscription went away meanwhile, or the period is done
		case isNew:
			created = append(created, e.ID)
			errs = append(errs, s.finishPending(ctx, e))
			continue
		case !e.Stale(s.cfg.Now()):
			continue // another run is at it
		}
		errs = append(errs, s.finish(ctx, e))
	}
	errs = append(errs, s.finishStale(ctx))
	return created, errors.Join(errs...)
}

// claim claims the subscription's period that contains t for a new export,
// or returns the export an earlier run made for it.
func (s *Service) claim(ctx context.Context, cfg *ExportConfig, sub subscription.Subscription, t time.Time) (*export.Export, bool, error) {
	// The export is of the period of t, and is kept for the retention from
	// when it is made: a late run still makes one that is listed.
	e := &export.Export{ID: id.Ordered(t), PartnerID: sub.PartnerID, Status: export.Pending, Trigger: export.Scheduled,
		SubscriptionID: sub.ID, CreatedAt: t.UTC(), Selection: sub.Selection, ExpiresAt: s.now().Add(cfg.Retention)}
	return s.store.ClaimPeriod(ctx, sub, e)
}

// finishStale finishes the exports that have been pending for longer than
// export.StaleAfter.
func (s *Service) finishStale(ctx context.Context) error {
	stale, err := s.store.PendingExports(ctx, s.cfg.Now().Add(-export.StaleAfter))
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range stale {
		errs = append(errs, s.finish(ctx, e))
	}
	return errors.Join(errs...)
}

// finish reads a pending export again and finishes it as its partner
// (FinishExport logs a failure it records); the error says that no outcome
// could be recorded. An export gone past its retention needs nothing.
func (s *Service) finish(ctx context.Context, e *export.Export) error {
	if _, err := s.FinishExport(ctx, e.PartnerID, e.ID); err != nil && !fault.Is(err, fault.NotFound) {
		return fmt.Errorf("finish export %s of %s: %w", e.ID, e.PartnerID, err)
	}
	return nil
}
