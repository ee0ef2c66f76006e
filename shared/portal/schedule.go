package portal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/mail"
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
//
// Last, a run e-mails the recipients of the subscriptions whose exports are
// ready (see mailExports).
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
	var (
		errs     []error
		finished []*export.Export
	)
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
			finished = append(finished, e)
			continue
		case !e.Stale(s.cfg.Now()):
			continue // another run is at it
		}
		done, err := s.finish(ctx, e)
		errs = append(errs, err)
		finished = append(finished, done)
	}
	stale, err := s.finishStale(ctx)
	errs = append(errs, err)
	errs = append(errs, s.mailExports(ctx, slices.Concat(finished, stale)))
	return created, errors.Join(errs...)
}

// claim claims the subscription's period that contains t for a new export,
// or returns the export an earlier run made for it.
func (s *Service) claim(ctx context.Context, cfg *ExportConfig, sub subscription.Subscription, t time.Time) (*export.Export, bool, error) {
	// The export is of the period of t, and is kept for the retention from
	// when it is made: a late run still makes one that is listed.
	e := &export.Export{ID: id.Ordered(t), PartnerID: sub.PartnerID, Status: export.Pending, Trigger: export.Scheduled,
		SubscriptionID: sub.ID, CreatedAt: t.UTC(), Selection: sub.Selection, ExpiresAt: s.now().Add(cfg.Retention),
		Recipients: sub.Recipients}
	return s.store.ClaimPeriod(ctx, sub, e)
}

// finishStale finishes the exports that have been pending for longer than
// export.StaleAfter.
func (s *Service) finishStale(ctx context.Context) ([]*export.Export, error) {
	stale, err := s.store.PendingExports(ctx, s.cfg.Now().Add(-export.StaleAfter))
	if err != nil {
		return nil, err
	}
	var (
		errs     []error
		finished []*export.Export
	)
	for _, e := range stale {
		done, err := s.finish(ctx, e)
		errs = append(errs, err)
		finished = append(finished, done)
	}
	return finished, errors.Join(errs...)
}

// finish reads a pending export again and finishes it as its partner
// (FinishExport logs a failure it records), and returns it as it is then;
// the error says that no outcome could be recorded. An export gone past its
// retention needs nothing, and is returned nil.
func (s *Service) finish(ctx context.Context, e *export.Export) (*export.Export, error) {
	done, err := s.FinishExport(ctx, e.PartnerID, e.ID)
	if err != nil && !fault.Is(err, fault.NotFound) {
		return nil, fmt.Errorf("finish export %s of %s: %w", e.ID, e.PartnerID, err)
	}
	return done, nil
}

// mailExports sends the notices of ready scheduled exports to their
// recipients: those of the exports this run finished (given), and every
// other one due, which an earlier run failed to send or stopped sending.
// Each notice is claimed with a conditional write before it is sent, so
// that a retried, duplicated or concurrent run sends it once; one whose run
// stopped while sending it is sent again after export.StaleAfter. A failed
// send is tried again by the next runs, export.MaxMailAttempts in all; it
// is logged and does not fail the run.
func (s *Service) mailExports(ctx context.Context, finished []*export.Export) error {
	now := s.now()
	byID := make(map[string]*export.Export)
	var order []string
	for _, e := range finished {
		if e != nil && e.Status == export.Ready && e.Mail.Pending(now) && byID[e.ID] == nil {
			byID[e.ID] = e
			order = append(order, e.ID)
		}
	}
	if s.cfg.Mail == nil {
		if len(order) > 0 {
			return fmt.Errorf("exports %v have recipients: %w", order, errNoMail)
		}
		return nil // made without mail: nothing sends notices
	}
	due, err := s.store.DueExportMail(ctx, now)
	if err != nil {
		return err
	}
	for _, e := range due {
		if byID[e.ID] == nil {
			byID[e.ID] = e
			order = append(order, e.ID)
		}
	}
	var errs []error
	for _, exportID := range order {
		errs = append(errs, s.mailExport(ctx, s.cfg.Mail, byID[exportID]))
	}
	return errors.Join(errs...)
}

// mailExport sends the notice of one ready export, if no other run has
// claimed it; the error says that its state could not be recorded.
func (s *Service) mailExport(ctx context.Context, cfg *MailConfig, e *export.Export) error {
	now := s.now()
	prev := e.Mail
	sending := *e
	sending.Mail = export.Mail{Status: export.MailSending, Attempts: prev.Attempts + 1, NextAt: now.Add(export.StaleAfter)}
	claimed, err := s.store.UpdateExportMail(ctx, &sending, prev)
	if err != nil || !claimed {
		return err // not claimed: another run is at it, or has sent it
	}
	done := sending
	msg, err := s.exportMessage(ctx, cfg, e)
	var messageID string
	if err == nil {
		messageID, err = cfg.Sender.Send(ctx, msg)
	}
	switch {
	case err == nil:
		done.Mail = export.Mail{Status: export.MailSent, Attempts: sending.Mail.Attempts, MessageID: messageID}
	case sending.Mail.Attempts >= export.MaxMailAttempts:
		s.cfg.Log.ErrorContext(ctx, "the notice of a scheduled export could not be sent; giving up", "export", e.ID,
			"partner", e.PartnerID, "attempts", sending.Mail.Attempts, "error", err)
		done.Mail = export.Mail{Status: export.MailFailed, Attempts: sending.Mail.Attempts}
	default:
		s.cfg.Log.WarnContext(ctx, "the notice of a scheduled export could not be sent; the next run tries again", "export", e.ID,
			"partner", e.PartnerID, "attempts", sending.Mail.Attempts, "error", err)
		done.Mail = export.Mail{Status: export.MailDue, Attempts: sending.Mail.Attempts, NextAt: now}
	}
	if _, err := s.store.UpdateExportMail(context.WithoutCancel(ctx), &done, sending.Mail); err != nil {
		return fmt.Errorf("export %s: record its notice %s: %w", e.ID, done.Mail.Status, err)
	}
	return nil
}

// exportMessage writes the notice that a scheduled export is ready.
func (s *Service) exportMessage(ctx context.Context, cfg *MailConfig, e *export.Export) (mail.Message, error) {
	partner, err := s.store.Organization(ctx, e.PartnerID)
	if err != nil {
		return mail.Message{}, err
	}
	retention := 0
	if s.cfg.Exports != nil {
		retention = int(s.cfg.Exports.Retention / (24 * time.Hour))
	}
	subject, text, html, err := cfg.Renderer.ExportReady(mail.ExportReady{Partner: partner.Name, Subscription: e.SubscriptionID,
		Date: license.DateOf(e.CreatedAt), Link: cfg.link("export", e.ID), Licenses: e.Counts.Licenses,
		Cloud: e.Counts.CloudServices, Deployments: e.Counts.ActiveDeployments, ListedDays: retention})
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Message{From: cfg.From, To: e.Recipients, Subject: subject, Text: text, HTML: html}, nil
}
