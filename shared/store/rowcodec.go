package store

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// The rows of a report snapshot are kept in chunks of a compact binary
// form: a page reads the chunks it serves, and a search all of them, so a
// list of 100,000 rows must decode in a few tens of milliseconds. A chunk is
// gzip'd:
//
//	uvarint version (1)
//	uvarint n, then n strings                 the chunk's table of repeated values
//	uvarint rows, then per row:
//	  string  license key
//	  uvarint product id, product name, organization id, organization name,
//	          reseller id, reseller name     indexes into the table (0: none)
//	  byte    status, type
//	  varint  start date, expiration date     days since 1970
//	  string  customer note
//	  uvarint deployed, purchased, scan limit, scans used + 1 (0: none)
//
// where a string is a uvarint length and its bytes. Decoding turns the whole
// chunk into one Go string and slices every field from it, so a row costs no
// allocation of its own.

const rowCodecVersion = 1

var (
	statusCodes = []license.Status{license.Active, license.Expiring, license.Expired}
	typeCodes   = []license.Type{license.Evaluation, license.Purchased}
)

func codeOf[T comparable](codes []T, v T) byte {
	for i, c := range codes {
		if c == v {
			return byte(i)
		}
	}
	return 0xff
}

// chunkEncoder builds one chunk.
type chunkEncoder struct {
	table map[string]uint64
	names []string
	body  []byte
	rows  int
}

func newChunkEncoder() *chunkEncoder {
	return &chunkEncoder{table: map[string]uint64{"": 0}, names: []string{""}}
}

func (c *chunkEncoder) ref(s string) {
	i, ok := c.table[s]
	if !ok {
		i = uint64(len(c.names))
		c.table[s] = i
		c.names = append(c.names, s)
	}
	c.body = binary.AppendUvarint(c.body, i)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func (c *chunkEncoder) add(r *report.Row) {
	c.rows++
	b := appendString(c.body, r.LicenseKey)
	c.body = b
	var resID, resName string
	if r.Reseller != nil {
		resID, resName = r.Reseller.ID, r.Reseller.Name
	}
	for _, s := range []string{r.ProductID, r.ProductName, r.OrganizationID, r.OrganizationName, resID, resName} {
		c.ref(s)
	}
	c.body = append(c.body, codeOf(statusCodes, r.Status), codeOf(typeCodes, r.Type))
	c.body = binary.AppendVarint(c.body, int64(r.StartDate))
	c.body = binary.AppendVarint(c.body, int64(r.ExpirationDate))
	c.body = appendString(c.body, r.CustomerNote)
	scansUsed := uint64(0)
	if r.ScansUsed != nil {
		scansUsed = uint64(*r.ScansUsed) + 1
	}
	for _, n := range []uint64{uint64(r.Deployed), uint64(r.Purchased), uint64(r.ScanLimit), scansUsed} {
		c.body = binary.AppendUvarint(c.body, n)
	}
}

// size is the encoded size so far, before compression.
func (c *chunkEncoder) size() int { return len(c.body) + 16*len(c.names) }

func (c *chunkEncoder) finish() ([]byte, error) {
	raw := binary.AppendUvarint(nil, rowCodecVersion)
	raw = binary.AppendUvarint(raw, uint64(len(c.names)))
	for _, s := range c.names {
		raw = appendString(raw, s)
	}
	raw = binary.AppendUvarint(raw, uint64(c.rows))
	raw = append(raw, c.body...)
	return compress(raw)
}

// gzip's writers and readers are reused: a writer holds about a megabyte
// of state, and a snapshot has a hundred chunks.
var (
	gzipWriters sync.Pool
	gzipReaders sync.Pool
)

// compress gzips b at BestSpeed.
func compress(b []byte) ([]byte, error) {
	var z bytes.Buffer
	zw, _ := gzipWriters.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(&z, gzip.BestSpeed) // a valid level never fails
	} else {
		zw.Reset(&z)
	}
	defer gzipWriters.Put(zw)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return z.Bytes(), nil
}

// decompress reads back what compress wrote.
func decompress(b []byte) ([]byte, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(bytes.NewReader(b))
	} else {
		err = zr.Reset(bytes.NewReader(b))
	}
	if err != nil {
		return nil, err
	}
	defer gzipReaders.Put(zr)
	return io.ReadAll(zr)
}

// encodeRows splits rows into chunks of at most maxRows rows and at most
// maxChunkRaw bytes before compression, so that a chunk fits an item even if
// it did not compress. sizes holds the rows of each chunk.
func encodeRows(rows []report.Row, maxRows int) (chunks [][]byte, sizes []int, err error) {
	c := newChunkEncoder()
	for i := range rows {
		c.add(&rows[i])
		if c.size() >= maxChunkRaw || c.rows >= maxRows {
			chunk, err := c.finish()
			if err != nil {
				return nil, nil, err
			}
			chunks, sizes = append(chunks, chunk), append(sizes, c.rows)
			c = newChunkEncoder()
		}
	}
	if c.rows > 0 {
		chunk, err := c.finish()
		if err != nil {
			return nil, nil, err
		}
		chunks, sizes = append(chunks, chunk), append(sizes, c.rows)
	}
	return chunks, sizes, nil
}

// maxChunkRaw bounds a chunk before compression. One row is at most about
// 30 KB (a customer note of 10,000 characters), so a chunk stays under
// DynamoDB's 400 KB item limit even uncompressed.
const maxChunkRaw = 300 << 10

var errCorrupt = errors.New("corrupt row chunk")

// chunkDecoder reads a chunk held in one string.
type chunkDecoder struct {
	s   string
	pos int
	err error
}

func (d *chunkDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if d.pos >= len(d.s) {
			break
		}
		b := d.s[d.pos]
		d.pos++
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	d.err = errCorrupt
	return 0
}

func (d *chunkDecoder) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *chunkDecoder) byte() byte {
	if d.err != nil || d.pos >= len(d.s) {
		d.err = errCorrupt
		return 0
	}
	b := d.s[d.pos]
	d.pos++
	return b
}

func (d *chunkDecoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.s)-d.pos) {
		d.err = errCorrupt
		return ""
	}
	s := d.s[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

// decodeRows reads a chunk written by encodeRows.
func decodeRows(chunk []byte, category license.Category) ([]report.Row, error) {
	raw, err := decompress(chunk)
	if err != nil {
		return nil, err
	}
	d := &chunkDecoder{s: string(raw)}
	if v := d.uvarint(); v != rowCodecVersion {
		return nil, fmt.Errorf("row chunk version %d, want %d", v, rowCodecVersion)
	}
	names := make([]string, min(d.uvarint(), uint64(len(d.s))))
	for i := range names {
		names[i] = d.string()
	}
	ref := func() string {
		i := d.uvarint()
		if i >= uint64(len(names)) {
			d.err = errCorrupt
			return ""
		}
		return names[i]
	}
	n := min(d.uvarint(), uint64(len(d.s)))
	rows := make([]report.Row, 0, n)
	resellers := make(map[string]*access.Ref) // one Ref per reseller, shared by its rows
	for i := uint64(0); i < n && d.err == nil; i++ {
		r := report.Row{LicenseKey: d.string(), Category: category}
		r.ProductID, r.ProductName, r.OrganizationID, r.OrganizationName = ref(), ref(), ref(), ref()
		if resID, resName := ref(), ref(); resID != "" {
			ref := resellers[resID]
			if ref == nil {
				ref = &access.Ref{ID: resID, Name: resName}
				resellers[resID] = ref
			}
			r.Reseller = ref
		}
		status, typ := d.byte(), d.byte()
		if int(status) >= len(statusCodes) || int(typ) >= len(typeCodes) {
			return nil, errCorrupt
		}
		r.Status, r.Type = statusCodes[status], typeCodes[typ]
		r.StartDate, r.ExpirationDate = license.Date(d.varint()), license.Date(d.varint())
		r.CustomerNote = d.string()
		r.Deployed, r.Purchased, r.ScanLimit = int(d.uvarint()), int(d.uvarint()), int(d.uvarint())
		if su := d.uvarint(); su > 0 {
			v := int(su - 1)
			r.ScansUsed = &v
		}
		rows = append(rows, r)
	}
	if d.err != nil {
		return nil, d.err
	}
	return rows, nil
}
