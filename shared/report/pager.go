package report

import (
	"slices"

	"github.com/partnerportal/licenses/shared/license"
)

// Pager serves a page of a list kept in chunks (see Index), reading only the
// chunks the page needs: exactly the page Page would serve from all the
// rows. The caller asks Next which chunks to read, reads them, hands them to
// Add, and repeats until Next returns nil; Page then returns the page.
//
//	p := report.NewPager(ix, view, req, pinned)
//	for want := p.Next(); want != nil; want = p.Next() {
//		for _, n := range want {
//			p.Add(n, rowsOfChunk(n))
//		}
//	}
//	items, next := p.Page()
//
// The pinned pass reads the chunks that hold the positions of the pinned
// rows, the other pass starts at the chunk of the cursor and reads, in
// order, the chunks whose summary admits a row that passes the filter, as
// many at a time as the rows still needed are expected to take (from the
// share of rows that passed so far). A search (Query) matches text no
// summary holds, so it reads every chunk the other filters leave.
type Pager struct {
	ix     *Index
	page   pageState
	loaded map[int][]Row
	read   int

	pinnedPass bool  // the pinned pass is not over
	pinned     []int // chunks of the pinned pass not scanned yet, in order
	// unverified are the positions of pinned rows looked for in the chunk
	// that holds the position, with that chunk: once it is read, a row not
	// found there is looked for in every chunk of its organization.
	unverified []pinnedAt
	start      int  // the first chunk that can hold a row after the cursor
	others     bool // the pass of the other rows runs
	at         int  // the next chunk of the other pass

	// The filter as chunk summaries see it.
	statuses, types uint8
	products        []byte // nil: any product
	orgs            []string

	considered, passed int // rows of the other pass past the cursor, and served
}

type pinnedAt struct {
	Position
	chunk int
}

// maxChunksPerRead bounds the chunks one Next asks for.
const maxChunksPerRead = 100

// NewPager returns a pager over the list that ix describes. pinned holds
// the positions the rows of the view's pinned licenses have in this list,
// as far as the caller knows them (from the licenses as they are now): the
// pinned pass reads the chunks that hold these positions, and no other.
// When the chunk of a position does not hold its organization (renamed
// since the list was made), or does not hold the row (its product renamed,
// or the license new since), the chunks that hold the organization are read
// too. A pinned row found in none of them (its license moved to another
// organization since) is not served.
func NewPager(ix *Index, v View, req Request, pinned []Position) *Pager {
	p := &Pager{ix: ix, loaded: make(map[int][]Row),
		page: pageState{v: v, req: req, out: make([]Row, 0, min(req.Limit, ix.Rows()))}}
	p.statuses, p.types = 0xff, 0xff
	switch {
	case len(req.Statuses) > 0:
		p.statuses = maskOf(indexStatuses, req.Statuses)
	case !req.IncludeExpired:
		p.statuses = ^bitOf(indexStatuses, license.Expired)
	}
	if len(req.Types) > 0 {
		p.types = maskOf(indexTypes, req.Types)
	}
	if len(req.ProductIDs) > 0 {
		p.products = make([]byte, (len(ix.Products)+7)/8)
		for i, id := range ix.Products {
			if slices.Contains(req.ProductIDs, id) {
				p.products[i/8] |= 1 << (i % 8)
			}
		}
	}
	p.orgs = req.OrganizationIDs

	// After a cursor, the rows to serve are in the cursor's chunk and the
	// ones after it. A cursor on a pinned row leaves every other row to
	// serve; a cursor on another row, no pinned one.
	start := 0
	if req.cursor != nil {
		start = max(0, ix.chunkOf(*req.cursor))
	}
	p.start = start
	if len(v.Pins) > 0 && (req.cursor == nil || req.cursor.Pinned) {
		p.pinnedPass = true
		for _, pos := range pinned {
			c := ix.chunkOf(pos.key())
			if c >= 0 && ix.Chunks[c].Organizations.Has(pos.OrgID) && p.wanted(c) {
				p.pinned = append(p.pinned, c)
				p.unverified = append(p.unverified, pinnedAt{pos, c})
				continue
			}
			// Not in the chunk of its position, or in one the filter or the
			// cursor leaves out: in the organization's other chunks, if
			// anywhere.
			p.pinned = append(p.pinned, p.chunksOf(pos.OrgID)...)
		}
		p.sortPinned()
	}
	p.others = !req.Pinned
	if req.cursor == nil || !req.cursor.Pinned {
		p.at = start
	}
	return p
}

// wanted reports whether the pinned pass needs chunk c: it may hold a row
// after the cursor that passes the filter.
func (p *Pager) wanted(c int) bool { return c >= p.start && p.admits(c) }

// chunksOf returns the chunks the pinned pass needs that hold the
// organization.
func (p *Pager) chunksOf(orgID string) []int {
	var out []int
	for c := range p.ix.Chunks {
		if p.ix.Chunks[c].Organizations.Has(orgID) && p.wanted(c) {
			out = append(out, c)
		}
	}
	return out
}

func (p *Pager) sortPinned() {
	slices.Sort(p.pinned)
	p.pinned = slices.Compact(p.pinned)
}

// verifyPinned looks, once the chunks of the pinned pass are read, for
// each pinned row in the chunk of its position, and adds the chunks of its
// organization when it is not there. It reports whether it added any.
func (p *Pager) verifyPinned() bool {
	added := false
	for _, u := range p.unverified {
		rows := p.loaded[u.chunk]
		if slices.ContainsFunc(rows, func(r Row) bool { return r.LicenseKey == u.License && r.OrganizationID == u.OrgID }) {
			continue
		}
		for _, c := range p.chunksOf(u.OrgID) {
			if !slices.Contains(p.pinned, c) {
				p.pinned, added = append(p.pinned, c), true
			}
		}
	}
	p.unverified = nil
	p.sortPinned()
	return added
}

// admits reports whether chunk c may hold a row that passes the filter.
func (p *Pager) admits(c int) bool {
	ci := &p.ix.Chunks[c]
	if ci.Statuses&p.statuses == 0 || ci.Types&p.types == 0 {
		return false
	}
	if p.products != nil {
		hit := false
		for i := range min(len(p.products), len(ci.Products)) {
			if p.products[i]&ci.Products[i] != 0 {
				hit = true
				break
			}
		}
		if !hit {
			return false
		}
	}
	if len(p.orgs) > 0 && !slices.ContainsFunc(p.orgs, ci.Organizations.Has) {
		return false
	}
	return true
}

// advance scans the chunks read, in the order of the passes, as far as
// they go, and reports whether the page is complete.
func (p *Pager) advance() bool {
	for !p.page.full {
		if p.pinnedPass && p.unverified != nil {
			for _, c := range p.pinned {
				if _, ok := p.loaded[c]; !ok {
					return false
				}
			}
			if p.verifyPinned() {
				continue
			}
		}
		if p.pinnedPass {
			if len(p.pinned) == 0 {
				p.pinnedPass = false
				continue
			}
			rows, ok := p.loaded[p.pinned[0]]
			if !ok {
				return false
			}
			p.page.scan(rows, true)
			p.pinned = p.pinned[1:]
			continue
		}
		if !p.others || p.at >= len(p.ix.Chunks) {
			return true
		}
		if !p.admits(p.at) {
			p.at++
			continue
		}
		rows, ok := p.loaded[p.at]
		if !ok {
			return false
		}
		before, considered := len(p.page.out), p.page.considered
		p.page.scan(rows, false)
		p.considered += p.page.considered - considered
		p.passed += len(p.page.out) - before
		p.at++
	}
	return true
}

// Next returns the chunks to read next, in order, or nil when the page is
// complete.
func (p *Pager) Next() []int {
	if p.advance() {
		return nil
	}
	var want []int
	if p.pinnedPass {
		for _, c := range p.pinned {
			if _, ok := p.loaded[c]; !ok {
				want = append(want, c)
			}
		}
		// With no more pins than the page holds, the other pass will run:
		// its first chunks come in the same read.
		if len(p.page.v.Pins) > p.page.req.Limit {
			return want
		}
	}
	if !p.others {
		return want
	}
	// Rows still needed: the rest of the page and one more, which tells
	// whether there is a next page. Each chunk is expected to give its share
	// of passing rows as seen so far among the rows past the cursor (all of
	// them before any is seen).
	need := float64(p.page.req.Limit + 1 - len(p.page.out))
	rate := float64(p.passed+1) / float64(p.considered+1)
	expected := 0.0
	for c := p.at; c < len(p.ix.Chunks) && expected < need && len(want) < maxChunksPerRead; c++ {
		if !p.admits(c) {
			continue
		}
		if _, ok := p.loaded[c]; !ok && !slices.Contains(want, c) {
			want = append(want, c)
		}
		expected += float64(p.ix.Chunks[c].Rows) * rate
	}
	slices.Sort(want)
	return want
}

// Add hands the pager the rows of chunk n, which Next asked for.
func (p *Pager) Add(n int, rows []Row) {
	if _, ok := p.loaded[n]; !ok {
		p.read++
	}
	p.loaded[n] = rows
}

// Page returns the page, once Next has returned nil: the rows in display
// order with the view's pins and notes, and the position of the next page,
// nil on the last.
func (p *Pager) Page() (out []Row, next []byte) { return p.page.out, p.page.next }

// ChunksRead is the number of chunks handed to Add.
func (p *Pager) ChunksRead() int { return p.read }
