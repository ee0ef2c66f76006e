package httpapi

import (
	"net/http"
	"sync"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// MaxSelection is the most organizations one report may name.
const MaxSelection = 1000

// selectionRequest is the body of POST /v1/reports and POST /v1/exports.
type selectionRequest struct {
	OrganizationIDs []string `json:"organizationIds"`
	All             bool     `json:"all"`
	IncludeExpired  bool     `json:"includeExpired"`
}

// selected checks a selection against the scope and returns the selected
// organizations as a set, or nil for all. An organization the partner cannot
// see is not found, as if it did not exist.
func selected(sc *access.Scope, req selectionRequest) (map[string]bool, error) {
	switch {
	case req.All && req.OrganizationIDs != nil:
		return nil, fault.Errorf(fault.Invalid, `give either "organizationIds" or "all", not both`)
	case req.All:
		return nil, nil
	case len(req.OrganizationIDs) == 0:
		return nil, fault.Errorf(fault.Invalid, `give "organizationIds" (1 to %d ids) or "all": true`, MaxSelection)
	case len(req.OrganizationIDs) > MaxSelection:
		return nil, fault.Errorf(fault.Invalid, "a report covers at most %d organizations; use \"all\" for more", MaxSelection)
	}
	set := make(map[string]bool, len(req.OrganizationIDs))
	for _, id := range req.OrganizationIDs {
		if id == "" {
			return nil, fault.Errorf(fault.Invalid, "organization ids may not be empty")
		}
		if sc.Customer(id) == nil {
			return nil, fault.Errorf(fault.NotFound, "organization %s not found", id)
		}
		set[id] = true
	}
	return set, nil
}

// window returns the expiring window of the scope's partner.
func (a *API) window(sc *access.Scope) int { return sc.ExpiringWindow(a.cfg.ExpiringWindow) }

// rows computes the rows of the selection (nil for all) from the licenses.
func (a *API) rows(r *http.Request, sc *access.Scope, sel map[string]bool) (onPrem, cloud []report.Row, err error) {
	var (
		products   map[string]license.Product
		catalogErr error
		wg         sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		products, catalogErr = a.store.Catalog(r.Context())
	}()
	// A license shown under a selected organization is always assigned to
	// it, so only the selected organizations' licenses are read.
	licenses, err := a.store.Licenses(r.Context(), sc, sel)
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	if catalogErr != nil {
		return nil, nil, catalogErr
	}
	onPrem, cloud = report.Rows(sc, licenses, products, sel, a.cfg.Today(), a.window(sc))
	return onPrem, cloud, nil
}

type listPage struct {
	Items      []report.Row `json:"items"`
	NextCursor *string      `json:"nextCursor"`
}

func pageOf(rows []report.Row, next string) listPage {
	p := listPage{Items: rows}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

type reportResponse struct {
	*report.Snapshot
	Products      listPage `json:"products"`
	CloudServices listPage `json:"cloudServices"`
}

// createReport answers POST /v1/reports: it computes the report of a
// selection once, keeps it as a snapshot, and returns the overview with the
// first page of each list.
func (a *API) createReport(w http.ResponseWriter, r *http.Request) error {
	sc, err := a.scope(r, access.Read)
	if err != nil {
		return err
	}
	var req selectionRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	sel, err := selected(sc, req)
	if err != nil {
		return err
	}
	onPrem, cloud, err := a.rows(r, sc, sel)
	if err != nil {
		return err
	}
	now := a.cfg.Now().UTC()
	snap := &report.Snapshot{ID: id.New(), PartnerID: sc.Partner.ID, UserID: sc.User.ID, GeneratedAt: now,
		Today: a.cfg.Today(), Window: a.window(sc), IncludeExpired: req.IncludeExpired,
		Overview: report.Overviews(onPrem, cloud), ExpiresAt: now.Add(report.Lifetime)}
	snap.Organizations = make([]access.Ref, 0)
	for _, c := range sc.Customers() {
		if sel == nil || sel[c.ID] {
			snap.Organizations = append(snap.Organizations, access.Ref{ID: c.ID, Name: c.Name})
		}
	}
	if err := a.store.SaveReport(r.Context(), snap, onPrem, cloud); err != nil {
		return err
	}
	personal, err := a.personalize(r, sc, false)
	if err != nil {
		return err
	}
	first := report.Request{Limit: report.DefaultLimit, Filter: report.Filter{IncludeExpired: req.IncludeExpired}}
	prem, premNext := report.Page(onPrem, personal.view(sc), first)
	cl, clNext := report.Page(cloud, personal.view(sc), first)
	if err := a.withNotes(r, sc, personal, prem, cl); err != nil {
		return err
	}
	resp := reportResponse{Snapshot: snap, Products: pageOf(prem, premNext), CloudServices: pageOf(cl, clNext)}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

func (a *API) reportProducts(w http.ResponseWriter, r *http.Request) error {
	return a.reportPage(w, r, license.OnPrem)
}

func (a *API) reportCloudServices(w http.ResponseWriter, r *http.Request) error {
	return a.reportPage(w, r, license.CloudService)
}

// reportPage answers GET /v1/reports/{id}/products and .../cloud-services:
// a filtered page of a snapshot's list, with pins and notes as they are now.
func (a *API) reportPage(w http.ResponseWriter, r *http.Request, category license.Category) error {
	sc, err := a.scope(r, access.Read)
	if err != nil {
		return err
	}
	reportID := r.PathValue("id")
	if !id.Valid(reportID) {
		return fault.Errorf(fault.Invalid, "%q is not a report id", reportID)
	}
	snap, err := a.store.Report(r.Context(), sc.Partner.ID, reportID, a.cfg.Now())
	if err != nil {
		return err
	}
	q, err := query(r)
	if err != nil {
		return err
	}
	req, err := report.ParseRequest(q, snap.IncludeExpired)
	if err != nil {
		return fault.Errorf(fault.Invalid, "%v", err)
	}
	var (
		rows     []report.Row
		rowsErr  error
		personal personalization
		persErr  error
		wg       sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		rows, rowsErr = a.store.ReportRows(r.Context(), snap.ID, category)
	}()
	personal, persErr = a.personalize(r, sc, req.Query != "")
	wg.Wait()
	if rowsErr != nil {
		return rowsErr
	}
	if persErr != nil {
		return persErr
	}
	page, next := report.Page(rows, personal.view(sc), req)
	if err := a.withNotes(r, sc, personal, page); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf(page, next))
	return nil
}

// personalization is what rows show per user and partner at request time.
type personalization struct {
	pins  map[string]bool
	notes map[string]license.Note // nil until read
}

// personalize reads the user's pins and, when allNotes is set (a search
// that looks into notes), every note of the partner. Otherwise withNotes
// reads the notes of the rows served, and no more.
func (a *API) personalize(r *http.Request, sc *access.Scope, allNotes bool) (personalization, error) {
	var (
		p                personalization
		pinErr, notesErr error
		wg               sync.WaitGroup
	)
	if allNotes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.notes, notesErr = a.store.PartnerNotes(r.Context(), sc.Partner.ID)
		}()
	}
	p.pins, pinErr = a.store.Pins(r.Context(), sc.User.ID)
	wg.Wait()
	if pinErr != nil {
		return p, pinErr
	}
	return p, notesErr
}

// withNotes fills in the partner notes of rows served without them.
func (a *API) withNotes(r *http.Request, sc *access.Scope, p personalization, lists ...[]report.Row) error {
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
	notes, err := a.store.PartnerNotesOf(r.Context(), sc.Partner.ID, keys)
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

// view is the personalization as report.Page takes it. Rows of
// organizations the partner no longer sees are left out: a snapshot outlives
// changes of who sells to whom.
func (p personalization) view(sc *access.Scope) report.View {
	return report.View{Pins: p.pins, Notes: p.notes, Visible: func(orgID string) bool { return sc.Customer(orgID) != nil }}
}

// apply drops rows of organizations the partner no longer sees (a snapshot
// outlives changes of who sells to whom) and fills in pins and notes.
func (p personalization) apply(sc *access.Scope, rows []report.Row) []report.Row {
	visible := rows[:0:0]
	for _, row := range rows {
		if sc.Customer(row.OrganizationID) != nil {
			visible = append(visible, row)
		}
	}
	return report.Personalize(visible, p.pins, p.notes)
}
