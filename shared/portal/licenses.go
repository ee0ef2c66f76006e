package portal

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
	"golang.org/x/sync/errgroup"
)

// LicenseDetail is one license as the caller sees it: its row and every
// deployment, active ones first, newest first.
type LicenseDetail struct {
	report.Row
	Deployments []license.Deployment
}

// MarshalJSON writes the row's members and then "deployments".
func (l LicenseDetail) MarshalJSON() ([]byte, error) {
	row, err := json.Marshal(l.Row)
	if err != nil {
		return nil, err
	}
	deps, err := json.Marshal(l.Deployments)
	if err != nil {
		return nil, err
	}
	out := append(row[:len(row)-1:len(row)-1], `,"deployments":`...)
	out = append(out, deps...)
	return append(out, '}'), nil
}

// visible is a license the caller may see, with its row as the caller sees
// it: under the first organization it is shown under.
type visible struct {
	rec         *store.Record
	deployments []license.Deployment
	row         report.Row
}

// listings returns what partner sees of licenses: each under the
// organizations it is shown under.
func listings(partner string, records ...*store.Record) []report.Listing {
	var out []report.Listing
	for _, r := range records {
		for _, o := range r.ShownTo(partner) {
			org, reseller := o.Ref(partner)
			out = append(out, report.Listing{Org: org, Reseller: reseller, Licenses: []license.License{r.License}})
		}
	}
	return out
}

// license loads the caller with the given level and the license with the
// given key as the caller sees it. A key of the wrong form is invalid; a
// license of a hidden product, or of no organization the partner sees, is
// not found, exactly as a missing one.
func (s *Service) license(ctx context.Context, subject, key string, need access.Level) (*access.Scope, visible, error) {
	sc, err := s.caller(ctx, subject, need)
	if err != nil {
		return nil, visible{}, err
	}
	v, err := s.visibleLicense(ctx, sc, key)
	return sc, v, err
}

// visibleLicense reads a license as the scope's partner sees it.
func (s *Service) visibleLicense(ctx context.Context, sc *access.Scope, key string) (visible, error) {
	if err := id.CheckExternal(key); err != nil {
		return visible{}, fault.Errorf(fault.Invalid, "%q is not a license key: it %v", key, err)
	}
	var (
		rec         *store.Record
		deployments []license.Deployment
		products    map[string]license.Product
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		rec, deployments, err = s.store.License(gctx, key)
		return err
	})
	g.Go(func() (err error) {
		products, err = s.store.Catalog(gctx)
		return err
	})
	if err := g.Wait(); err != nil {
		return visible{}, err
	}
	shown := listings(sc.Partner.ID, rec)
	if len(shown) > 1 {
		shown = shown[:1]
	}
	onPrem, cloud := report.Rows(shown, products, s.cfg.Today(), s.window(sc))
	rows := append(onPrem, cloud...)
	if len(rows) == 0 {
		return visible{}, fault.Errorf(fault.NotFound, "license %s not found", key)
	}
	return visible{rec: rec, deployments: deployments, row: rows[0]}, nil
}

// License returns one license with its deployments, its pin and the
// partner's note as they are now, read at the same time. It needs read
// access.
func (s *Service) License(ctx context.Context, subject, key string) (*LicenseDetail, error) {
	sc, err := s.caller(ctx, subject, access.Read)
	if err != nil {
		return nil, err
	}
	var (
		v     visible
		p     personalization
		notes map[string]license.Note
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		v, err = s.visibleLicense(gctx, sc, key)
		return err
	})
	g.Go(func() (err error) {
		p, err = s.view(gctx, sc, false)
		return err
	})
	g.Go(func() (err error) {
		notes, err = s.store.PartnerNotesOf(gctx, sc.Partner.ID, []string{key})
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	rows := report.Personalize([]report.Row{v.row}, p.pins, notes)
	deployments := slices.Clone(v.deployments)
	slices.SortFunc(deployments, func(x, y license.Deployment) int {
		if x.Active != y.Active {
			if x.Active {
				return -1
			}
			return 1
		}
		return y.ActivatedAt.Compare(x.ActivatedAt)
	})
	if deployments == nil {
		deployments = []license.Deployment{}
	}
	return &LicenseDetail{Row: rows[0], Deployments: deployments}, nil
}

// actorOf is the scope's user as history records it.
func actorOf(sc *access.Scope) license.Actor {
	return license.Actor{UserID: sc.User.ID, UserName: sc.User.Name, OrgID: sc.Partner.ID, OrgName: sc.Partner.Name}
}

// HistoryPage is a page of a license's history, newest first.
type HistoryPage struct {
	Items      []license.Event `json:"items"`
	NextCursor *string         `json:"nextCursor"`
}

// History returns a page of a license's history, newest first. Note events
// of other partners are left out: a partner's note is its own. A change by
// one of the partner's users names the user; one by another organization
// names that organization, never its user. It needs read access.
func (s *Service) History(ctx context.Context, subject, key string, req page.Request) (*HistoryPage, error) {
	sc, _, err := s.license(ctx, subject, key, access.Read)
	if err != nil {
		return nil, err
	}
	events, next, err := s.store.History(ctx, key, sc.Partner.ID, req)
	if err != nil {
		return nil, err
	}
	for i := range events {
		events[i] = events[i].ShownTo(sc.Partner.ID)
	}
	if events == nil {
		events = []license.Event{}
	}
	return &HistoryPage{Items: events, NextCursor: page.Next(next)}, nil
}

// NoteEdit is an edit of a partner note: the new text, and the version of
// the note the editor saw (0 when there was none).
type NoteEdit struct {
	Text    *string `json:"text"`
	Version *int    `json:"version"`
}

// SaveNote sets the caller's partner organization's note on a license if
// nobody changed it since the editor read it, and answers version_conflict
// with the current note otherwise. Empty text clears the note and still
// counts as a change. It needs full access.
func (s *Service) SaveNote(ctx context.Context, subject, key string, edit NoteEdit) (license.Note, error) {
	switch {
	case edit.Text == nil || edit.Version == nil:
		return license.Note{}, fault.Errorf(fault.Invalid, `send {"text": "...", "version": <the version you edited, 0 for a new note>}`)
	case *edit.Version < 0:
		return license.Note{}, fault.Errorf(fault.Invalid, "version may not be negative")
	}
	if err := license.CheckNoteText(*edit.Text); err != nil {
		return license.Note{}, fault.Errorf(fault.Invalid, "text %v", err)
	}
	sc, _, err := s.license(ctx, subject, key, access.Full)
	if err != nil {
		return license.Note{}, err
	}
	return s.store.SaveNote(ctx, sc.Partner.ID, key, *edit.Text, *edit.Version, actorOf(sc), s.now())
}

// DeploymentRequest asks to activate a deployment of a license.
type DeploymentRequest struct {
	DeploymentID string `json:"deploymentId"`
	Name         string `json:"name"`
}

// Activation is the outcome of an activation.
type Activation struct {
	DeploymentID string    `json:"deploymentId"`
	Name         string    `json:"name"`
	ActivatedAt  time.Time `json:"activatedAt"`
	Deployed     int       `json:"deployed"`
	Purchased    int       `json:"purchased"`
	// Created is false when the deployment was active already.
	Created bool `json:"-"`
}

// Activate records an active deployment of an on-prem license; activating
// a deployment that is active already changes nothing. No number of
// concurrent activations deploys more instances than were bought: those
// that find none free get instance_limit_reached. An expired license cannot
// be activated, a cloud-service license not at all. It needs read access.
func (s *Service) Activate(ctx context.Context, subject, key string, req DeploymentRequest) (*Activation, error) {
	if err := id.CheckExternal(req.DeploymentID); err != nil {
		return nil, fault.Errorf(fault.Invalid, "deploymentId %v", err)
	}
	if err := license.CheckDeploymentName(req.Name); err != nil {
		return nil, fault.Errorf(fault.Invalid, "name %v", err)
	}
	sc, v, err := s.license(ctx, subject, key, access.Read)
	if err != nil {
		return nil, err
	}
	switch {
	case v.row.Category == license.CloudService:
		return nil, fault.Errorf(fault.Invalid, "%s is a cloud-service license, which is not activated on deployments", key)
	case v.row.Status == license.Expired:
		return nil, fault.Errorf(fault.LicenseExpired, "%s expired on %s", key, v.row.ExpirationDate)
	}
	res, err := s.store.Activate(ctx, key, license.Deployment{DeploymentID: req.DeploymentID, Name: req.Name,
		ActivatedAt: s.now()}, actorOf(sc))
	if err != nil {
		return nil, err
	}
	return activationOf(res), nil
}

func activationOf(res store.Activation) *Activation {
	return &Activation{DeploymentID: res.Deployment.DeploymentID, Name: res.Deployment.Name,
		ActivatedAt: res.Deployment.ActivatedAt.UTC(), Deployed: res.Deployed,
		Purchased: res.Purchased, Created: res.Created}
}

// Deactivate frees the instance of an active deployment and keeps the
// deployment, inactive, for the license's history; deactivating an inactive
// deployment changes nothing, an unknown one is not found. It needs read
// access.
func (s *Service) Deactivate(ctx context.Context, subject, key, deploymentID string) error {
	if err := id.CheckExternal(deploymentID); err != nil {
		return fault.Errorf(fault.Invalid, "%q is not a deployment id: it %v", deploymentID, err)
	}
	sc, _, err := s.license(ctx, subject, key, access.Read)
	if err != nil {
		return err
	}
	_, err = s.store.Deactivate(ctx, key, deploymentID, actorOf(sc), s.now())
	return err
}

// Pins returns the caller's pinned licenses that it can still see, as rows
// in report order. It needs read access.
func (s *Service) Pins(ctx context.Context, subject string) ([]report.Row, error) {
	sc, err := s.caller(ctx, subject, access.Read)
	if err != nil {
		return nil, err
	}
	p, err := s.view(ctx, sc, false)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(p.pins))
	for k := range p.pins {
		keys = append(keys, k)
	}
	records, err := s.store.LicensesByKey(ctx, keys)
	if err != nil {
		return nil, err
	}
	products, err := s.store.Catalog(ctx)
	if err != nil {
		return nil, err
	}
	onPrem, cloud := report.Rows(listings(sc.Partner.ID, records...), products, s.cfg.Today(), s.window(sc))
	rows := report.Personalize(append(onPrem, cloud...), p.pins, p.notes)
	report.Sort(rows)
	if err := s.withNotes(ctx, sc, p, rows); err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []report.Row{}
	}
	return rows, nil
}

// Pin pins a license for the caller; pinning twice is pinning once. It
// needs read access.
func (s *Service) Pin(ctx context.Context, subject, key string) error {
	sc, _, err := s.license(ctx, subject, key, access.Read)
	if err != nil {
		return err
	}
	return s.store.Pin(ctx, sc.User.ID, key, s.now())
}

// Unpin removes the caller's pin of a license; unpinning twice is
// unpinning once. It needs read access.
func (s *Service) Unpin(ctx context.Context, subject, key string) error {
	sc, _, err := s.license(ctx, subject, key, access.Read)
	if err != nil {
		return err
	}
	return s.store.Unpin(ctx, sc.User.ID, key)
}
