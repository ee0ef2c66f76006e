package portal

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// ExportConfig makes the export operations available.
type ExportConfig struct {
	// Files writes the workbooks and hands out their links.
	Files Files
	// Finisher finishes large exports outside the request that made them.
	// With none, InProcess says to finish them in a goroutine of this
	// process (the local server); else every export is finished in its
	// request.
	Finisher  Finisher
	InProcess bool
	// Retention is how long an export is listed; the bucket's lifecycle
	// rule removes its object after the same time.
	Retention time.Duration
	// SyncLimit is the most licenses an export may have to be finished in
	// its request; larger ones go to the Finisher, well clear of API
	// Gateway's 29 seconds.
	SyncLimit int
}

func (c *ExportConfig) check() error {
	var errs []error
	if c.Files == nil {
		errs = append(errs, errors.New("exports need Files"))
	}
	if c.Retention <= 0 {
		errs = append(errs, fmt.Errorf("export retention %s: want more than 0", c.Retention))
	}
	if c.SyncLimit <= 0 {
		errs = append(errs, fmt.Errorf("export sync limit %d: want more than 0", c.SyncLimit))
	}
	return errors.Join(errs...)
}

// Files writes export workbooks to the export bucket and presigns links to
// them (workbook.Files).
type Files interface {
	// Write writes the workbook of the rows to a new object of the export
	// and returns its key and how many rows each sheet got.
	Write(ctx context.Context, e *export.Export, rows Rows) (objectKey string, counts export.Counts, err error)
	// URL presigns a fresh download link of an object and says when it
	// stops working.
	URL(ctx context.Context, objectKey string) (url string, expires time.Time, err error)
}

// Rows is the content of an export: every license of its selection, expired
// ones too, in the report's order as the user who made it sees it (pinned
// first), each on-prem license with its active deployments, oldest first.
type Rows interface {
	// Each calls fn with every row and its deployments (none for cloud
	// services), on-prem rows first, and stops at fn's first error.
	Each(fn func(row *report.Row, deployments []license.Deployment) error) error
}

// Finisher finishes a pending export outside the request that made it: on
// AWS an asynchronous invocation of the export function, in the local
// server a goroutine. Either ends in FinishExport.
type Finisher interface {
	Finish(ctx context.Context, partnerID, exportID string) error
}

// ExportView is an export as a caller sees it. URL and ExpiresAt are set
// for users with full access to a ready export, fresh at every call.
type ExportView struct {
	ID              string         `json:"id"`
	Status          export.Status  `json:"status"`
	URL             string         `json:"url,omitempty"`
	ExpiresAt       *time.Time     `json:"expiresAt,omitempty"`
	Counts          *export.Counts `json:"counts,omitempty"`
	Reason          string         `json:"reason,omitempty"`
	Trigger         export.Trigger `json:"trigger"`
	SubscriptionID  string         `json:"subscriptionId,omitempty"`
	CreatedBy       string         `json:"createdBy,omitempty"`
	CreatedAt       time.Time      `json:"createdAt"`
	CompletedAt     *time.Time     `json:"completedAt,omitempty"`
	All             bool           `json:"all,omitempty"`
	OrganizationIDs []string       `json:"organizationIds,omitempty"`
}

var errNoExports = errors.New("portal: this service was made without ExportConfig")

func (s *Service) exports() (*ExportConfig, error) {
	if s.cfg.Exports == nil {
		return nil, errNoExports
	}
	return s.cfg.Exports, nil
}

func (s *Service) exportView(ctx context.Context, sc *access.Scope, e *export.Export) (*ExportView, error) {
	v := &ExportView{ID: e.ID, Status: e.Status, Reason: e.Reason, Trigger: e.Trigger,
		SubscriptionID: e.SubscriptionID, CreatedBy: e.CreatedBy, CreatedAt: e.CreatedAt,
		All: e.Selection.All, OrganizationIDs: e.Selection.OrganizationIDs}
	if !e.CompletedAt.IsZero() {
		v.CompletedAt = &e.CompletedAt
	}
	if e.Status != export.Ready {
		return v, nil
	}
	counts := e.Counts
	v.Counts = &counts
	if sc.Level >= access.Full {
		url, expires, err := s.cfg.Exports.Files.URL(ctx, e.ObjectKey)
		if err != nil {
			return nil, err
		}
		v.URL, v.ExpiresAt = url, &expires
	}
	return v, nil
}

// CreateExport makes an export of a selection for the caller. A selection
// of at most SyncLimit licenses is ready when it returns; a larger one is
// handed to the Finisher and returned pending. It needs full access.
func (s *Service) CreateExport(ctx context.Context, subject string, sel Selection) (*ExportView, error) {
	cfg, err := s.exports()
	if err != nil {
		return nil, err
	}
	sc, err := s.caller(ctx, subject, access.Full)
	if err != nil {
		return nil, err
	}
	_, size, err := s.checkSelection(ctx, sc, sel)
	if err != nil {
		return nil, err
	}
	now := s.now()
	e := &export.Export{ID: id.Ordered(now), PartnerID: sc.Partner.ID, Status: export.Pending, Trigger: export.Manual,
		CreatedBy: sc.User.ID, CreatedAt: now, Selection: sel.kept(), ExpiresAt: now.Add(cfg.Retention)}
	if err := s.store.CreateExport(ctx, e); err != nil {
		return nil, err
	}
	if (cfg.Finisher != nil || cfg.InProcess) && size > cfg.SyncLimit {
		if err := s.handOver(ctx, cfg, e); err != nil {
			if ferr := s.fail(ctx, e, err); ferr != nil {
				err = errors.Join(err, ferr)
			}
			return nil, fmt.Errorf("hand export %s over: %w", e.ID, err)
		}
		return s.exportView(ctx, sc, e)
	}
	if err := s.run(ctx, sc, e); err != nil {
		return nil, err
	}
	return s.exportView(ctx, sc, e)
}

// handOver has a pending export finished outside the request.
func (s *Service) handOver(ctx context.Context, cfg *ExportConfig, e *export.Export) error {
	if cfg.Finisher != nil {
		return cfg.Finisher.Finish(ctx, e.PartnerID, e.ID)
	}
	go func() {
		ctx := context.WithoutCancel(ctx)
		if _, err := s.FinishExport(ctx, e.PartnerID, e.ID); err != nil {
			s.cfg.Log.ErrorContext(ctx, "finishing an export failed; the schedule will retry it", "export", e.ID,
				"partner", e.PartnerID, "error", err)
		}
	}()
	return nil
}

// Exports returns the caller's partner organization's exports, newest
// first. It needs read access; links are for full access only.
func (s *Service) Exports(ctx context.Context, subject string) ([]ExportView, error) {
	if _, err := s.exports(); err != nil {
		return nil, err
	}
	sc, err := s.caller(ctx, subject, access.Read)
	if err != nil {
		return nil, err
	}
	exports, err := s.store.Exports(ctx, sc.Partner.ID, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	views := make([]ExportView, 0, len(exports))
	for _, e := range exports {
		v, err := s.exportView(ctx, sc, e)
		if err != nil {
			return nil, err
		}
		views = append(views, *v)
	}
	return views, nil
}

// Export returns one of the caller's partner organization's exports. An
// export of another partner, or past its retention, is not found. It needs
// read access; the link is for full access only.
func (s *Service) Export(ctx context.Context, subject, exportID string) (*ExportView, error) {
	if _, err := s.exports(); err != nil {
		return nil, err
	}
	sc, err := s.caller(ctx, subject, access.Read)
	if err != nil {
		return nil, err
	}
	if !id.Valid(exportID) {
		return nil, fault.Errorf(fault.Invalid, "%q is not an export id", exportID)
	}
	e, err := s.store.Export(ctx, sc.Partner.ID, exportID, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	return s.exportView(ctx, sc, e)
}

// FinishExport finishes a pending export of a partner organization: the
// asynchronous half of CreateExport, and what the schedule does with
// exports whose finishing died. An export that is no longer pending is
// returned as it is, so a repeated call does no work twice. The export is
// returned ready or failed, with a nil error, once its outcome is recorded
// (a failure says why on the export); an error means no outcome could be
// recorded and the export is still pending, so the call should be retried.
func (s *Service) FinishExport(ctx context.Context, partnerID, exportID string) (*export.Export, error) {
	if _, err := s.exports(); err != nil {
		return nil, err
	}
	e, err := s.store.Export(ctx, partnerID, exportID, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	if e.Status != export.Pending {
		return e, nil
	}
	if err := s.finishPending(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

// finishPending finishes a pending export in hand as its partner. A failure
// it records on the export is logged here; the error means no outcome could
// be recorded.
func (s *Service) finishPending(ctx context.Context, e *export.Export) error {
	sc, err := s.partnerScope(ctx, e.PartnerID)
	if err != nil {
		return err
	}
	if err := s.run(ctx, sc, e); err != nil {
		if e.Status == export.Pending {
			return err
		}
		s.cfg.Log.ErrorContext(ctx, "export failed", "export", e.ID, "partner", e.PartnerID, "error", err)
	}
	return nil
}

// partnerScope returns the scope of a partner organization acting on its
// own, as the schedule and the finishing of exports do: full access.
func (s *Service) partnerScope(ctx context.Context, partnerID string) (*access.Scope, error) {
	org, err := s.store.Organization(ctx, partnerID)
	if err != nil {
		return nil, fmt.Errorf("scope of partner %s: %w", partnerID, err)
	}
	return &access.Scope{Partner: org, Level: access.Full}, nil
}

// errNothingVisible fails an export whose organizations the partner no
// longer sees.
var errNothingVisible = errors.New("none of the selected organizations is visible to the partner any more")

// run writes the workbook of a pending export and records the outcome on
// it: ready, or failed with a reason the partner can read. The error is the
// failure, for the caller to log; e.Status says whether it was recorded
// (failed) or not (still pending).
func (s *Service) run(ctx context.Context, sc *access.Scope, e *export.Export) error {
	key, counts, err := s.write(ctx, sc, e)
	if err != nil {
		if ferr := s.fail(ctx, e, err); ferr != nil {
			return errors.Join(fmt.Errorf("export %s: %w", e.ID, err), ferr)
		}
		return fmt.Errorf("export %s: %w", e.ID, err)
	}
	done := *e
	done.Status, done.CompletedAt, done.ObjectKey, done.Counts = export.Ready, s.now(), key, counts
	if len(done.Recipients) > 0 {
		// The notice is sent by the schedule (see RunSchedule).
		done.Mail = export.Mail{Status: export.MailDue, NextAt: done.CompletedAt}
	}
	if _, err := s.store.FinishExport(ctx, &done); err != nil {
		return fmt.Errorf("export %s: record it ready: %w", e.ID, err)
	}
	*e = done
	return nil
}

// fail records that an export failed because of cause. It returns an error
// only when the failure could not be recorded; e is failed when it was (or
// as it was, when another run finished it first).
func (s *Service) fail(ctx context.Context, e *export.Export, cause error) error {
	failed := *e
	failed.Status, failed.CompletedAt, failed.ObjectKey, failed.Counts = export.Failed, s.now(), "", export.Counts{}
	failed.Reason = "the export could not be written; try again later"
	if errors.Is(cause, errNothingVisible) {
		failed.Reason = errNothingVisible.Error()
	}
	recorded, err := s.store.FinishExport(context.WithoutCancel(ctx), &failed)
	if err != nil {
		return fmt.Errorf("record the failure of export %s: %w", e.ID, err)
	}
	if recorded {
		*e = failed
	}
	return nil
}

// write writes the workbook of the export's selection as the partner sees
// it now. Organizations of the selection the partner no longer sees are
// left out; when none is left, the export fails with a reason.
func (s *Service) write(ctx context.Context, sc *access.Scope, e *export.Export) (string, export.Counts, error) {
	sel := e.Selection.OrganizationIDs
	if !e.Selection.All {
		customers, err := s.visibleOf(ctx, sc.Partner.ID, sel)
		if err != nil {
			return "", export.Counts{}, err
		}
		if len(customers) == 0 {
			return "", export.Counts{}, errNothingVisible
		}
		sel = customers
	}
	rows, err := s.exportRows(ctx, sc, sel, e.CreatedBy)
	if err != nil {
		return "", export.Counts{}, err
	}
	return s.cfg.Exports.Files.Write(ctx, e, rows)
}

// visibleOf returns the ids, among ids, of the partner's customers.
func (s *Service) visibleOf(ctx context.Context, partnerID string, ids []string) ([]string, error) {
	customers, err := s.store.KnownCustomers(ctx, partnerID, ids)
	if err != nil {
		return nil, err
	}
	visible := make([]string, len(customers))
	for i, c := range customers {
		visible[i] = c.ID
	}
	return visible, nil
}

// exportRows reads what an export of the selection (nil: all) shows: the
// rows with the pins of the user who made it (none for scheduled exports)
// and the partner's notes, and the active deployments of the licenses,
// each read at the same time as the others.
func (s *Service) exportRows(ctx context.Context, sc *access.Scope, sel []string, userID string) (*selectionRows, error) {
	var (
		onPrem, cloud []report.Row
		listings      []report.Listing
		notes         map[string]license.Note
		pins          = map[string]bool{}
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		onPrem, cloud, listings, err = s.rows(gctx, sc, sel, true)
		return err
	})
	g.Go(func() (err error) {
		notes, err = s.store.PartnerNotes(gctx, sc.Partner.ID)
		return err
	})
	if userID != "" {
		g.Go(func() (err error) {
			pins, err = s.store.Pins(gctx, userID)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	byLicense := make(map[string][]license.Deployment)
	for _, l := range listings {
		for k, deps := range l.Deployments {
			byLicense[k] = deps
		}
	}
	for _, deps := range byLicense {
		slices.SortFunc(deps, func(a, b license.Deployment) int { return a.ActivatedAt.Compare(b.ActivatedAt) })
	}
	return &selectionRows{onPrem: report.Personalize(onPrem, pins, notes), cloud: report.Personalize(cloud, pins, notes),
		deployments: byLicense}, nil
}

// selectionRows is the Rows of an export.
type selectionRows struct {
	onPrem, cloud []report.Row
	deployments   map[string][]license.Deployment
}

func (r *selectionRows) Each(fn func(*report.Row, []license.Deployment) error) error {
	for i := range r.onPrem {
		if err := fn(&r.onPrem[i], r.deployments[r.onPrem[i].LicenseKey]); err != nil {
			return err
		}
	}
	for i := range r.cloud {
		if err := fn(&r.cloud[i], nil); err != nil {
			return err
		}
	}
	return nil
}

// ServesExports reports whether the service was made with exports.
func (s *Service) ServesExports() bool { return s.cfg.Exports != nil }
