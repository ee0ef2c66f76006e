package portal

import (
	"context"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
)

// MaxSelection is the most organizations one report may name.
const MaxSelection = 1000

// Selection is what a report, export or subscription covers, as a caller
// asks for it: every visible customer organization, or the listed ones.
type Selection struct {
	OrganizationIDs []string `json:"organizationIds"`
	All             bool     `json:"all"`
}

// ReportRequest asks for a report.
type ReportRequest struct {
	Selection
	IncludeExpired bool `json:"includeExpired"`
}

// Page is a page of a report's list.
type Page struct {
	Items      []report.Row `json:"items"`
	NextCursor *string      `json:"nextCursor"`
}

// Report is a report as made: the snapshot's head (id, overview, the
// organizations it covers) and the first page of each list.
type Report struct {
	*report.Snapshot
	Products      Page `json:"products"`
	CloudServices Page `json:"cloudServices"`
}

// check checks the form of a selection and returns its distinct ids, nil
// for all. Whether the partner sees them is the store's to say (an
// organization it cannot see is not found, as if it did not exist).
func (sel Selection) check() ([]string, error) {
	switch {
	case sel.All && sel.OrganizationIDs != nil:
		return nil, fault.Errorf(fault.Invalid, `give either "organizationIds" or "all", not both`)
	case sel.All:
		return nil, nil
	case len(sel.OrganizationIDs) == 0:
		return nil, fault.Errorf(fault.Invalid, `give "organizationIds" (1 to %d ids) or "all": true`, MaxSelection)
	case len(sel.OrganizationIDs) > MaxSelection:
		return nil, fault.Errorf(fault.Invalid, "a report covers at most %d organizations; use \"all\" for more", MaxSelection)
	}
	for _, orgID := range sel.OrganizationIDs {
		if err := id.CheckExternal(orgID); err != nil {
			return nil, fault.Errorf(fault.Invalid, "organization id %q %v", orgID, err)
		}
	}
	return sel.kept().OrganizationIDs, nil
}

// checkSelection checks a selection and that the partner sees every
// organization it names, and returns its distinct ids (nil for all) and the
// licenses they have.
func (s *Service) checkSelection(ctx context.Context, sc *access.Scope, sel Selection) ([]string, int, error) {
	ids, err := sel.check()
	if err != nil || ids == nil {
		return nil, sc.Partner.Licenses, err
	}
	customers, err := s.store.CustomersByID(ctx, sc.Partner.ID, ids)
	if err != nil {
		return nil, 0, err
	}
	n := 0
	for _, c := range customers {
		n += c.Licenses
	}
	return ids, n, nil
}

// kept returns what an export or subscription keeps of a checked selection:
// all, or the distinct organization ids in the order given.
func (sel Selection) kept() report.Selection {
	if sel.All {
		return report.Selection{All: true}
	}
	var ids []string
	for _, orgID := range sel.OrganizationIDs {
		if !slices.Contains(ids, orgID) {
			ids = append(ids, orgID)
		}
	}
	return report.Selection{OrganizationIDs: ids}
}

// rows computes the rows the scope's partner sees for a selection (nil for
// all), in report order without pins, and the organizations they are of.
func (s *Service) rows(ctx context.Context, sc *access.Scope, sel []string, withDeployments bool) (onPrem, cloud []report.Row, listings []report.Listing, err error) {
	var products map[string]license.Product
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		products, err = s.store.Catalog(gctx)
		return err
	})
	g.Go(func() (err error) {
		listings, err = s.store.View(gctx, sc, sel, withDeployments)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, nil, nil, err
	}
	onPrem, cloud = report.Rows(listings, products, s.cfg.Today(), s.window(sc))
	return onPrem, cloud, listings, nil
}

// CreateReport computes the report of a selection once, keeps it as a
// snapshot for report.Lifetime, and returns its overview with the first page
// of each list. It needs read access.
func (s *Service) CreateReport(ctx context.Context, subject string, req ReportRequest) (*Report, error) {
	sc, err := s.caller(ctx, subject, access.Read)
	if err != nil {
		return nil, err
	}
	sel, err := req.check()
	if err != nil {
		return nil, err
	}
	// The rows and the user's pins are read at once; then the snapshot is
	// written while the first pages' notes are read.
	var (
		onPrem, cloud []report.Row
		listings      []report.Listing
		v             personalization
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		onPrem, cloud, listings, err = s.rows(gctx, sc, sel, false)
		return err
	})
	g.Go(func() (err error) {
		v, err = s.view(gctx, sc, false)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	now := s.now()
	snap := &report.Snapshot{ID: id.New(), PartnerID: sc.Partner.ID, UserID: sc.User.ID, GeneratedAt: now,
		Today: s.cfg.Today(), Window: s.window(sc), IncludeExpired: req.IncludeExpired,
		Overview: report.Overviews(onPrem, cloud), ExpiresAt: now.Add(report.Lifetime),
		Organizations: make([]access.Ref, 0, len(listings))}
	for _, l := range listings {
		snap.Organizations = append(snap.Organizations, l.Org)
	}
	slices.SortFunc(snap.Organizations, func(a, b access.Ref) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	first := report.Request{Limit: page.DefaultLimit, Filter: report.Filter{IncludeExpired: req.IncludeExpired}}
	prem, premNext := report.Page(onPrem, v.report(), first)
	cl, clNext := report.Page(cloud, v.report(), first)
	g, gctx = errgroup.WithContext(ctx)
	g.Go(func() error { return s.store.SaveReport(gctx, snap, onPrem, cloud) })
	g.Go(func() error { return s.withNotes(gctx, sc, v, prem, cl) })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return &Report{Snapshot: snap,
		Products:      Page{Items: prem, NextCursor: page.Next(premNext)},
		CloudServices: Page{Items: cl, NextCursor: page.Next(clNext)}}, nil
}

// ReportPage returns a filtered page of one list of a report the caller's
// partner organization made, with pins and notes as they are now. Unless r
// says otherwise, the list shows expired licenses when the report was made
// with them. A report of another partner, or past its lifetime, is not
// found. It needs read access.
func (s *Service) ReportPage(ctx context.Context, subject, reportID string, category license.Category, r report.Request) (*Page, error) {
	sc, err := s.caller(ctx, subject, access.Read)
	if err != nil {
		return nil, err
	}
	if !id.Valid(reportID) {
		return nil, fault.Errorf(fault.Invalid, "%q is not a report id", reportID)
	}
	// At once: the snapshot's head (with the list's index), what left the
	// partner's view in a snapshot's lifetime, and the user's pins with
	// where the pinned rows are. Then the chunks the page needs, as far as
	// it needs them.
	var (
		snap   *report.Snapshot
		list   *store.ReportList
		gone   store.Gone
		v      personalization
		pinned []report.Position
	)
	g, gctx := errgroup.WithContext(ctx)
	now := s.cfg.Now()
	g.Go(func() (err error) {
		snap, list, err = s.store.ReportList(gctx, sc.Partner.ID, reportID, category, now)
		return err
	})
	g.Go(func() (err error) {
		// What left the view in a snapshot's lifetime; what left it
		// before this one was made is sorted out below.
		gone, err = s.store.Gone(gctx, sc.Partner.ID, now.Add(-report.Lifetime))
		return err
	})
	g.Go(func() (err error) {
		if v, err = s.view(gctx, sc, r.Query != ""); err != nil || len(v.pins) == 0 || !r.ServesPinned() {
			return err
		}
		pinned, err = s.pinnedPositions(gctx, sc, v.pins, category)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	v.gone, v.since = gone, snap.GeneratedAt
	r.UseReportDefault(snap.IncludeExpired)
	p := report.NewPager(list.Index, v.report(), r, pinned)
	if err := s.store.ServePage(ctx, list, p); err != nil {
		return nil, err
	}
	items, next := p.Page()
	if err := s.withNotes(ctx, sc, v, items); err != nil {
		return nil, err
	}
	return &Page{Items: items, NextCursor: page.Next(next)}, nil
}

// personalization is what rows show per user and partner at request time.
type personalization struct {
	pins  map[string]bool
	notes map[string]license.Note // nil until read
	gone  store.Gone              // what left the partner's view lately
	since time.Time               // when the snapshot was made
}

// view reads the user's pins and, when allNotes is set (a search that looks
// into notes), every note of the partner. Otherwise withNotes reads the
// notes of the rows served, and no more.
func (s *Service) view(ctx context.Context, sc *access.Scope, allNotes bool) (personalization, error) {
	var p personalization
	g, gctx := errgroup.WithContext(ctx)
	if allNotes {
		g.Go(func() (err error) {
			p.notes, err = s.store.PartnerNotes(gctx, sc.Partner.ID)
			return err
		})
	}
	g.Go(func() (err error) {
		p.pins, err = s.store.Pins(gctx, sc.User.ID)
		return err
	})
	return p, g.Wait()
}

// withNotes fills in the partner notes of rows served without them.
func (s *Service) withNotes(ctx context.Context, sc *access.Scope, p personalization, lists ...[]report.Row) error {
	if p.notes != nil {
		return nil
	}
	var keys []string
	for _, rows := range lists {
		for i := range rows {
			keys = append(keys, rows[i].LicenseKey)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	notes, err := s.store.PartnerNotesOf(ctx, sc.Partner.ID, keys)
	if err != nil {
		return err
	}
	for _, rows := range lists {
		for i := range rows {
			if n, ok := notes[rows[i].LicenseKey]; ok {
				rows[i].PartnerNote = &n
			}
		}
	}
	return nil
}

// report is the personalization as report.Page takes it. Rows of
// organizations or licenses that left the partner's view since the snapshot
// are left out: a snapshot outlives changes of who sells to whom.
func (p personalization) report() report.View {
	v := report.View{Pins: p.pins, Notes: p.notes}
	if !p.gone.Empty() {
		v.Visible = func(r *report.Row) bool { return !p.gone.Hides(r.OrganizationID, r.LicenseKey, p.since) }
	}
	return v
}
