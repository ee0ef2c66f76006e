package store

import (
	"encoding/binary"
	"fmt"

	"github.com/partnerportal/licenses/shared/report"
)

// The index of a snapshot's list (report.Index) is kept in the snapshot's
// head, in a binary form like the rows', gzip'd:
//
//	uvarint version (1)
//	uvarint n, then n strings                   the list's product ids
//	uvarint chunks, then per chunk:
//	  string  organization name, product name, license key, organization id
//	                                             of the chunk's first row
//	  uvarint rows
//	  byte    statuses, types                    bit sets
//	  string  products                           bit set over the product ids
//	  string  organizations                      Bloom filter of their ids
//
// A chunk's entry takes about 100 bytes before compression, plus its Bloom
// filter (10 bits an organization of the chunk).

const indexCodecVersion = 1

func encodeIndex(ix *report.Index) ([]byte, error) {
	raw := binary.AppendUvarint(nil, indexCodecVersion)
	raw = binary.AppendUvarint(raw, uint64(len(ix.Products)))
	for _, p := range ix.Products {
		raw = appendString(raw, p)
	}
	raw = binary.AppendUvarint(raw, uint64(len(ix.Chunks)))
	for _, c := range ix.Chunks {
		for _, s := range []string{c.First.Org, c.First.Product, c.First.License, c.First.OrgID} {
			raw = appendString(raw, s)
		}
		raw = binary.AppendUvarint(raw, uint64(c.Rows))
		raw = append(raw, c.Statuses, c.Types)
		raw = appendString(raw, string(c.Products))
		raw = appendString(raw, string(c.Organizations))
	}
	return compress(raw)
}

func decodeIndex(b []byte) (*report.Index, error) {
	raw, err := decompress(b)
	if err != nil {
		return nil, err
	}
	d := &chunkDecoder{s: string(raw)}
	if v := d.uvarint(); v != indexCodecVersion {
		return nil, fmt.Errorf("index version %d, want %d", v, indexCodecVersion)
	}
	ix := &report.Index{Products: make([]string, min(d.uvarint(), uint64(len(d.s))))}
	for i := range ix.Products {
		ix.Products[i] = d.string()
	}
	ix.Chunks = make([]report.ChunkInfo, min(d.uvarint(), uint64(len(d.s))))
	for i := range ix.Chunks {
		c := &ix.Chunks[i]
		c.First = report.Position{Org: d.string(), Product: d.string(), License: d.string(), OrgID: d.string()}
		c.Rows = int(d.uvarint())
		c.Statuses, c.Types = d.byte(), d.byte()
		c.Products = []byte(d.string())
		c.Organizations = report.Bloom(d.string())
		if d.err != nil {
			break
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("index: %w", d.err)
	}
	return ix, nil
}
