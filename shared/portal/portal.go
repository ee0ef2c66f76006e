// Package portal holds the operations of the partner license portal in the
// domain's terms: who the caller is, the customer list, reports and their
// pages, one license with its history, partner notes, pins, activations,
// Excel exports, report subscriptions and their schedule, and the
// expiration notifications.
//
// Every consumer calls these methods: the HTTP handlers (which only decode a
// request, call one method and encode its result), the export and schedule
// functions, and the local server. A method loads the caller from the
// identity provider's subject, checks the access the operation needs,
// decides what the partner may see (visibility, sub-organization priority,
// hidden products), reads and writes through package store, computes with
// packages report and license, and fills in what is per user and per
// partner at the time of the call (pins, notes). Nothing below calls back up.
//
// Errors are *fault.Error values with the spec's codes for what the caller
// can act on; any other error is internal.
package portal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/store"
)

// MaxExpiringWindow is the longest expiring window, in days, a deployment
// may configure.
const MaxExpiringWindow = 366

// Config is what the operations need besides the store. Every field is
// required and taken as given: defaults belong to the configuration
// (package config) and to the local server's flags.
type Config struct {
	// ExpiringWindow is the deployment's expiring window in days, 0 to
	// MaxExpiringWindow (0: a license is expiring only on its last day); a
	// partner organization may override it.
	ExpiringWindow int
	// Now returns the current time; Today the date statuses are computed
	// on, normally the UTC date of Now (license.TodayOf).
	Now   func() time.Time
	Today func() license.Date
	// Log receives what an operation does not return: failures of work it
	// finishes in the background.
	Log *slog.Logger
	// Exports, when set, makes the export operations available; functions
	// that serve none leave it nil and do not link the Excel writer.
	Exports *ExportConfig
	// Mail, when set, makes the operations that send e-mail available (the
	// expiration notifier, and the notices of ready scheduled reports);
	// functions that send none leave it nil.
	Mail *MailConfig
}

// Service runs the portal's operations.
type Service struct {
	store *store.Store
	cfg   Config
}

// New returns the operations over a store, or an error naming every field
// of cfg that is missing or out of range.
func New(st *store.Store, cfg Config) (*Service, error) {
	var errs []error
	if st == nil {
		errs = append(errs, errors.New("a store is required"))
	}
	if cfg.ExpiringWindow < 0 || cfg.ExpiringWindow > MaxExpiringWindow {
		errs = append(errs, fmt.Errorf("expiring window %d: want 0 to %d days", cfg.ExpiringWindow, MaxExpiringWindow))
	}
	if cfg.Now == nil || cfg.Today == nil {
		errs = append(errs, errors.New("a clock (Now and Today) is required"))
	}
	if cfg.Log == nil {
		errs = append(errs, errors.New("a logger is required"))
	}
	if cfg.Exports != nil {
		errs = append(errs, cfg.Exports.check())
	}
	if cfg.Mail != nil {
		errs = append(errs, cfg.Mail.check())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	return &Service{store: st, cfg: cfg}, nil
}

// caller loads the user with the identity provider's subject and requires
// the Customer Organizations feature to be visible to it with at least the
// given level. A subject with no user is unauthenticated.
func (s *Service) caller(ctx context.Context, subject string, need access.Level) (*access.Scope, error) {
	sc, err := s.store.Caller(ctx, subject)
	if err != nil {
		return nil, err
	}
	if !sc.Visible() {
		return nil, fault.Errorf(fault.Forbidden, "customer organizations are not available to this user")
	}
	if sc.Level < need {
		return nil, fault.Errorf(fault.Forbidden, "this needs %s access to customer organizations", need)
	}
	return sc, nil
}

// window returns the expiring window of the scope's partner.
func (s *Service) window(sc *access.Scope) int { return sc.ExpiringWindow(s.cfg.ExpiringWindow) }

// now returns the current time in UTC.
func (s *Service) now() time.Time { return s.cfg.Now().UTC() }
