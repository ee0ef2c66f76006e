package report

import (
	"fmt"
	"hash/fnv"

	"github.com/partnerportal/licenses/shared/license"
)

// A stored list is kept in chunks of rows in report order, and an Index
// describes them: where each chunk starts, and what occurs in it. A page
// plans its reads with the index (see Pager): it finds the chunk of its
// cursor by binary search, and skips every chunk in which no row can pass
// its filter, without reading it.

// Position is where a row sits in a list's report order: organization name,
// product name, license key, and the organization id to break the last tie.
type Position struct {
	Org, Product, License, OrgID string
}

// PositionOf returns the position of a row.
func PositionOf(r *Row) Position {
	return Position{Org: r.OrganizationName, Product: r.ProductName, License: r.LicenseKey, OrgID: r.OrganizationID}
}

func (p Position) key() sortKey {
	return sortKey{Org: p.Org, Product: p.Product, License: p.License, OrgID: p.OrgID}
}

// Index describes the chunks of one stored list.
type Index struct {
	// Products are the product ids that occur in the list, in the order
	// they first occur; a chunk's Products is a set of indexes into them.
	Products []string
	Chunks   []ChunkInfo

	products map[string]int // Products by id, while the index is built
	last     *sortKey       // the last row added
}

// ChunkInfo summarizes one chunk.
type ChunkInfo struct {
	// First is the position of the chunk's first row. A chunk holds the
	// rows from First up to the next chunk's First.
	First Position
	Rows  int
	// Statuses and Types have bit i set when indexStatuses[i]
	// (indexTypes[i]) occurs in the chunk.
	Statuses, Types uint8
	// Products has bit i set when Index.Products[i] occurs in the chunk.
	Products []byte
	// Organizations holds the chunk's organization ids.
	Organizations Bloom
}

// The bits of statuses and types in ChunkInfo's sets.
var (
	indexStatuses = []license.Status{license.Active, license.Expiring, license.Expired}
	indexTypes    = []license.Type{license.Evaluation, license.Purchased}
)

func bitOf[T comparable](codes []T, v T) uint8 {
	for i, c := range codes {
		if c == v {
			return 1 << i
		}
	}
	return 0
}

func maskOf[T comparable](codes []T, vs []T) uint8 {
	var m uint8
	for _, v := range vs {
		m |= bitOf(codes, v)
	}
	return m
}

// Add appends the summary of the next chunk of the list. The rows must
// continue the list in report order (without pins): a chunk out of order is
// an error, since pages could not find its rows.
func (ix *Index) Add(rows []Row) error {
	if len(rows) == 0 {
		return fmt.Errorf("an empty chunk")
	}
	if ix.products == nil {
		ix.products = make(map[string]int, len(ix.Products))
		for i, id := range ix.Products {
			ix.products[id] = i
		}
	}
	c := ChunkInfo{First: PositionOf(&rows[0]), Rows: len(rows)}
	orgs := make(map[string]bool)
	var products []int
	for i := range rows {
		r := &rows[i]
		k := keyOf(r)
		k.Pinned = false
		if ix.last != nil && compareKeys(*ix.last, k) > 0 {
			return fmt.Errorf("row %s of %s is out of report order", r.LicenseKey, r.OrganizationID)
		}
		ix.last = &k
		c.Statuses |= bitOf(indexStatuses, r.Status)
		c.Types |= bitOf(indexTypes, r.Type)
		p, ok := ix.products[r.ProductID]
		if !ok {
			p = len(ix.Products)
			ix.products[r.ProductID] = p
			ix.Products = append(ix.Products, r.ProductID)
		}
		products = append(products, p)
		orgs[r.OrganizationID] = true
	}
	c.Products = make([]byte, (len(ix.Products)+7)/8)
	for _, p := range products {
		c.Products[p/8] |= 1 << (p % 8)
	}
	c.Organizations = NewBloom(len(orgs))
	for id := range orgs {
		c.Organizations.Add(id)
	}
	ix.Chunks = append(ix.Chunks, c)
	return nil
}

// Rows is the number of rows of the list.
func (ix *Index) Rows() int {
	n := 0
	for _, c := range ix.Chunks {
		n += c.Rows
	}
	return n
}

// chunkOf returns the chunk that holds position k (ignoring pins): the last
// chunk whose first row is not after it, or -1 when k comes before every
// chunk. Rows after k are in that chunk and the ones after it.
func (ix *Index) chunkOf(k sortKey) int {
	k.Pinned = false
	lo, hi := 0, len(ix.Chunks) // the answer is lo-1 at the end
	for lo < hi {
		mid := (lo + hi) / 2
		if compareKeys(ix.Chunks[mid].First.key(), k) <= 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo - 1
}

// Bloom is a Bloom filter of strings: Has is true for every string added,
// and for about 1% of the others (10 bits and 7 hashes a string).
type Bloom []byte

const bloomHashes = 7

// NewBloom returns an empty filter sized for n strings.
func NewBloom(n int) Bloom { return make(Bloom, max(8, (10*n+7)/8)) }

// bloomHash returns the two hashes whose combinations pick a string's bits:
// FNV-1a, whose low bits mix poorly, through MurmurHash3's finalizer.
func bloomHash(s string) (uint32, uint32) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	v := h.Sum64()
	v ^= v >> 33
	v *= 0xff51afd7ed558ccd
	v ^= v >> 33
	v *= 0xc4ceb9fe1a85ec53
	v ^= v >> 33
	return uint32(v), uint32(v>>32) | 1
}

// Add adds s.
func (b Bloom) Add(s string) {
	h1, h2 := bloomHash(s)
	m := uint32(len(b) * 8)
	for i := uint32(0); i < bloomHashes; i++ {
		bit := (h1 + i*h2) % m
		b[bit/8] |= 1 << (bit % 8)
	}
}

// Has reports whether s may have been added. An empty filter has nothing.
func (b Bloom) Has(s string) bool {
	if len(b) == 0 {
		return false
	}
	h1, h2 := bloomHash(s)
	m := uint32(len(b) * 8)
	for i := uint32(0); i < bloomHashes; i++ {
		bit := (h1 + i*h2) % m
		if b[bit/8]&(1<<(bit%8)) == 0 {
			return false
		}
	}
	return true
}
