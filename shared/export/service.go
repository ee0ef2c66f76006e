// Package export makes the Excel "Active Deployment Report": the workbook
// (written with excelize's StreamWriter), its upload to the export bucket,
// the presigned download links, and the exports of report subscriptions
// that the schedule runs.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
)

// S3 is the part of the S3 API the service uses.
type S3 interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Presigner makes presigned GET requests (s3.PresignClient).
type Presigner interface {
	PresignGetObject(context.Context, *s3.GetObjectInput, ...func(*s3.PresignOptions)) (*v4.PresignedHTTPRequest, error)
}

// Finisher finishes a pending export outside the request that started it:
// on AWS an asynchronous invocation of the export function, in the local
// server a goroutine.
type Finisher interface {
	Finish(ctx context.Context, partnerID, exportID string) error
}

// Config is what the service needs besides its clients.
type Config struct {
	Bucket string
	// URLLifetime is how long a download link works.
	URLLifetime time.Duration
	// Retention is how long an export is listed; the bucket's lifecycle
	// rule removes the object after the same time.
	Retention time.Duration
	// ExpiringWindow is the deployment's expiring window in days.
	ExpiringWindow int
	// SyncLimit is the most licenses an export may have to be finished in
	// the request; larger ones answer 202 and finish asynchronously, well
	// clear of API Gateway's 29 seconds.
	SyncLimit int
	Now       func() time.Time
	Today     func() license.Date
	Log       *slog.Logger
}

// Defaults of Config.
const (
	DefaultURLLifetime = 15 * time.Minute
	DefaultRetention   = 7 * 24 * time.Hour
	DefaultSyncLimit   = 10_000
)

// Service makes exports.
type Service struct {
	store    *store.Store
	s3       S3
	presign  Presigner
	cfg      Config
	finisher Finisher
}

// New returns an export service. Zero fields of cfg get the defaults.
func New(st *store.Store, client S3, presign Presigner, cfg Config) *Service {
	if cfg.URLLifetime <= 0 {
		cfg.URLLifetime = DefaultURLLifetime
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.ExpiringWindow <= 0 {
		cfg.ExpiringWindow = license.DefaultExpiringWindow
	}
	if cfg.SyncLimit <= 0 {
		cfg.SyncLimit = DefaultSyncLimit
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Today == nil {
		cfg.Today = license.TodayOf(cfg.Now)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{store: st, s3: client, presign: presign, cfg: cfg}
}

// SetFinisher sets what finishes large exports. Without one, every export
// finishes in the request.
func (s *Service) SetFinisher(f Finisher) { s.finisher = f }

// Store returns the service's store.
func (s *Service) Store() *store.Store { return s.store }

// Start creates an export of the scope's selection for the scope's user. A
// selection of at most SyncLimit licenses is finished before Start returns;
// a larger one is handed to the finisher and returned pending.
func (s *Service) Start(ctx context.Context, sc *access.Scope, sel report.Selection) (*store.Export, error) {
	now := s.cfg.Now().UTC()
	e := &store.Export{ID: id.Ordered(now), PartnerID: sc.Partner.ID, Status: store.ExportPending, Trigger: "manual",
		CreatedBy: sc.User.ID, CreatedAt: now, Selection: sel, ExpiresAt: now.Add(s.cfg.Retention)}
	if err := s.store.CreateExport(ctx, e); err != nil {
		return nil, err
	}
	if s.finisher != nil && estimate(sc, sel) > s.cfg.SyncLimit {
		if err := s.finisher.Finish(ctx, e.PartnerID, e.ID); err != nil {
			s.fail(ctx, e, err)
			return nil, fmt.Errorf("hand export %s over: %w", e.ID, err)
		}
		return e, nil
	}
	return s.run(ctx, sc, e)
}

// estimate returns the number of licenses assigned to the selected
// organizations, as of the last import.
func estimate(sc *access.Scope, sel report.Selection) int {
	n := 0
	for _, c := range sc.Customers() {
		if sel.All || slices.Contains(sel.OrganizationIDs, c.ID) {
			n += c.Licenses
		}
	}
	return n
}

// Finish finishes a pending export of a partner organization: the
// asynchronous half of Start. An export that is no longer pending is
// returned as it is, so a repeated invocation does no work twice.
func (s *Service) Finish(ctx context.Context, partnerID, exportID string) (*store.Export, error) {
	e, err := s.store.Export(ctx, partnerID, exportID, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	if e.Status != store.ExportPending {
		return e, nil
	}
	sc, err := s.store.PartnerScope(ctx, partnerID)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, sc, e)
}

// errNothingVisible fails an export whose organizations the partner no
// longer sees.
var errNothingVisible = errors.New("none of the selected organizations is visible to the partner any more")

// run writes the workbook of a pending export, uploads it and records the
// outcome. A failure is recorded on the export with a reason the partner can
// read, the detail goes to the log, and the error is returned.
func (s *Service) run(ctx context.Context, sc *access.Scope, e *store.Export) (*store.Export, error) {
	if err := s.write(ctx, sc, e); err != nil {
		s.fail(ctx, e, err)
		return e, fmt.Errorf("export %s: %w", e.ID, err)
	}
	e.Status, e.CompletedAt = store.ExportReady, s.cfg.Now().UTC()
	if err := s.store.FinishExport(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

func (s *Service) fail(ctx context.Context, e *store.Export, cause error) {
	s.cfg.Log.ErrorContext(ctx, "export failed", "export", e.ID, "partner", e.PartnerID, "error", cause)
	e.Status, e.CompletedAt, e.ObjectKey, e.Counts = store.ExportFailed, s.cfg.Now().UTC(), "", nil
	e.Reason = "the export could not be written; try again later"
	if errors.Is(cause, errNothingVisible) {
		e.Reason = errNothingVisible.Error()
	}
	if err := s.store.FinishExport(context.WithoutCancel(ctx), e); err != nil {
		s.cfg.Log.ErrorContext(ctx, "recording the failure of an export failed", "export", e.ID, "error", err)
	}
}

// write builds the workbook into a temporary file (Lambda's /tmp) and
// uploads it, so the file is never held in memory whole.
func (s *Service) write(ctx context.Context, sc *access.Scope, e *store.Export) error {
	var sel map[string]bool
	if !e.Selection.All {
		sel = make(map[string]bool)
		for _, orgID := range e.Selection.OrganizationIDs {
			if sc.Customer(orgID) != nil {
				sel[orgID] = true
			}
		}
		if len(sel) == 0 {
			return errNothingVisible
		}
	}
	wb, err := NewWorkbook()
	if err != nil {
		return err
	}
	defer wb.Close()
	if err := s.fill(ctx, wb, sc, sel, e.CreatedBy); err != nil {
		return err
	}

	f, err := os.CreateTemp("", "export-*.xlsx")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	size, err := wb.WriteTo(f)
	if err != nil {
		return fmt.Errorf("write workbook: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	e.ObjectKey = fmt.Sprintf("exports/%s/%s-%s.xlsx", e.PartnerID, e.ID, id.New())
	name := fmt.Sprintf("Active Deployment Report %s.xlsx", e.CreatedAt.Format(time.DateOnly))
	_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.cfg.Bucket, Key: &e.ObjectKey, Body: f, ContentLength: &size,
		ContentType:        ptr("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
		ContentDisposition: ptr(`attachment; filename="` + name + `"`),
	})
	if err != nil {
		return fmt.Errorf("upload %s: %w", e.ObjectKey, err)
	}
	c := wb.Counts()
	e.Counts = map[string]int{"licenses": c.Licenses, "cloudServices": c.CloudServices, "activeDeployments": c.ActiveDeployments}
	return nil
}

// fill adds every license of the selection (sel nil: all) to the workbook,
// expired ones too, in the report's order as the user sees it (pinned
// first), each on-prem license followed in the third sheet by its active
// deployments, oldest first.
func (s *Service) fill(ctx context.Context, wb *Workbook, sc *access.Scope, sel map[string]bool, userID string) error {
	licenses, err := s.store.Licenses(ctx, sc, sel)
	if err != nil {
		return err
	}
	products, err := s.store.Catalog(ctx)
	if err != nil {
		return err
	}
	deployments, err := s.store.ActiveDeployments(ctx, sc, sel)
	if err != nil {
		return err
	}
	notes, err := s.store.PartnerNotes(ctx, sc.Partner.ID)
	if err != nil {
		return err
	}
	pins := map[string]bool{}
	if userID != "" {
		if pins, err = s.store.Pins(ctx, userID); err != nil {
			return err
		}
	}
	byLicense := make(map[string][]license.Deployment)
	for _, d := range deployments {
		byLicense[d.LicenseKey] = append(byLicense[d.LicenseKey], d)
	}
	onPrem, cloud := report.Rows(sc, licenses, products, sel, s.cfg.Today(), sc.ExpiringWindow(s.cfg.ExpiringWindow))
	licenses = nil // the rows hold what is needed from here on
	for _, rows := range [][]report.Row{report.Personalize(onPrem, pins, notes), report.Personalize(cloud, pins, notes)} {
		for i := range rows {
			r := &rows[i]
			if err := wb.AddRow(r); err != nil {
				return err
			}
			deps := byLicense[r.LicenseKey]
			slices.SortFunc(deps, func(a, b license.Deployment) int { return a.ActivatedAt.Compare(b.ActivatedAt) })
			for _, d := range deps {
				if err := wb.AddDeployment(&ActiveDeployment{OrganizationName: r.OrganizationName, ProductName: r.ProductName,
					LicenseKey: r.LicenseKey, DeploymentID: d.DeploymentID, Name: d.Name, ActivatedAt: d.ActivatedAt,
					LastSeenAt: d.LastSeenAt}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// URL returns a fresh presigned download link of a ready export and when it
// stops working.
func (s *Service) URL(ctx context.Context, e *store.Export) (string, time.Time, error) {
	if e.Status != store.ExportReady {
		return "", time.Time{}, fault.Errorf(fault.Invalid, "export %s is %s", e.ID, e.Status)
	}
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.cfg.Bucket, Key: &e.ObjectKey},
		s3.WithPresignExpires(s.cfg.URLLifetime))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("presign %s: %w", e.ObjectKey, err)
	}
	return req.URL, s.cfg.Now().UTC().Add(s.cfg.URLLifetime).Truncate(time.Second), nil
}

func ptr[T any](v T) *T { return &v }
