package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/license"
)

// A customer organization's licenses live in blocks in the partition of
// the distributor that sells it (its home; "-" for a customer sold directly
// by the vendor), spread over the partition's shards by organization:
//
//	PK VIEW#<home>#<shard>    SK B#<reseller or ->#<org>#<nnn>   the licenses, as the lists show them
//	                          SK D#<reseller or ->#<org>#<nnn>   their active deployments, for exports
//
// Block nnn of an organization holds the licenses whose key hashes to nnn
// modulo the organization's block count, so an activation finds the block
// of a license from the license alone. A license assigned to several
// organizations is in a block of each. The reseller comes first in the sort
// key so that a reseller reads its customers in a distributor's partition
// with one range per shard.
//
// A block is a compact binary form compressed with flate: a report of
// 100,000 licenses reads about 2,000 items and a few megabytes instead of
// an item per license. Each block has a version that every write of it
// conditions on, so that activations and imports never overwrite each
// other's changes.

// Shards is the number of partition keys over which a distributor's blocks
// are spread. DynamoDB serves at most 3,000 read units and 1,000 write units
// a second per partition key: 16 keys let the large tenant's report read its
// 2 MB of blocks (about 260 read units, eventually consistent) in a fraction
// of a second and the import write them, even if each key were a partition
// of its own, under a second.
const Shards = 16

// Bounds of a block, before compression. A block's licenses stay under
// maxBlockRows bytes; its deployments could grow, through activations, to
// at most every purchased instance of its licenses, which the block count is
// chosen to keep under maxDeploymentBytes. A license with more than
// maxBlockInstances purchased instances keeps its active deployments as
// items of its own instead (largeLicense), so that no item can grow past
// DynamoDB's 400 KB.
const (
	maxBlockRows       = 96 << 10
	maxDeploymentBytes = 240 << 10
	maxBlockInstances  = 256
	deploymentBytes    = 2 + 200 + 2*9 + 200 // the most an active deployment takes
	maxBlocks          = 4096
)

const (
	skBlock     = "B#"
	skDepBlock  = "D#"
	pkView      = "VIEW#"
	directHome  = "-"
	noReseller  = "-"
	blockFormat = 1
)

// largeLicense reports whether a license keeps its active deployments as
// items of its own rather than in its blocks.
func largeLicense(l *license.License) bool { return l.Purchased() > maxBlockInstances }

// blockKey addresses block n of an organization.
type blockKey struct {
	Home, Reseller, Org string
	N                   int
}

func shardOf(org string) int {
	h := fnv.New32a()
	h.Write([]byte(org))
	return int(h.Sum32() % Shards)
}

func blockOf(licenseKey string, blocks int) int {
	h := fnv.New32a()
	h.Write([]byte(licenseKey))
	return int(h.Sum32() % uint32(max(1, blocks)))
}

func viewPK(home string, shard int) string {
	return fmt.Sprintf("%s%s#%02d", pkView, orDash(home), shard)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (k blockKey) pk() string { return viewPK(k.Home, shardOf(k.Org)) }

func (k blockKey) sk(prefix string) string {
	return fmt.Sprintf("%s%s#%s#%03d", prefix, orDash(k.Reseller), k.Org, k.N)
}

func (k blockKey) item(prefix string) map[string]types.AttributeValue {
	return key(k.pk(), k.sk(prefix))
}

// blockCount returns how many blocks an organization's licenses need.
func blockCount(licenses []license.License) int {
	rows, deps := 0, 0
	for i := range licenses {
		l := &licenses[i]
		rows += 64 + len(l.Key) + len(l.ProductID) + len(l.CustomerNote)
		if !largeLicense(l) {
			deps += l.Purchased() * deploymentBytes
		}
	}
	n := 1
	for n < maxBlocks && (rows > n*maxBlockRows || deps > n*maxDeploymentBytes) {
		n *= 2
	}
	return n
}

// blockLicense is a license as a block holds it: the license, and whether
// its organization's distributor and reseller are shown it there (the
// sub-organization priority the import worked out for each).
type blockLicense struct {
	license.License
	HideFromDistributor bool
	HideFromReseller    bool
}

// block is the decoded content of one block: the organization as its
// viewers see it, its licenses and their active deployments.
type block struct {
	OrgID, OrgName         string
	ResellerID, ResellerNm string
	Licenses               []blockLicense
	// Deployments are the active deployments by license key; a large
	// license has none here.
	Deployments map[string][]license.Deployment
	// Version is what the block's writes condition on.
	Version int
	// pendingDeps is the encoded deployments while the licenses, which
	// give their order, are not decoded yet.
	pendingDeps []byte
}

// blockItem is one of the two items of a block.
type blockItem struct {
	PK, SK  string
	Org     string `dynamodbav:"org"`
	Blob    []byte `dynamodbav:"b"`
	Version int    `dynamodbav:"v"`
}

// Licenses flags in the encoded form.
const (
	flagHideDistributor = 1 << iota
	flagHideReseller
	flagPurchased
	flagScanLimit
	flagScansUsed
)

func encodeLicenses(b *block) ([]byte, error) {
	raw := binary.AppendUvarint(nil, blockFormat)
	for _, s := range []string{b.OrgID, b.OrgName, b.ResellerID, b.ResellerNm} {
		raw = appendString(raw, s)
	}
	raw = binary.AppendUvarint(raw, uint64(len(b.Licenses)))
	products := map[string]uint64{}
	for i := range b.Licenses {
		l := &b.Licenses[i]
		raw = appendString(raw, l.Key)
		// Products repeat: the first time a product is written in full,
		// then by its index.
		if p, ok := products[l.ProductID]; ok {
			raw = binary.AppendUvarint(raw, p+1)
		} else {
			products[l.ProductID] = uint64(len(products))
			raw = binary.AppendUvarint(raw, 0)
			raw = appendString(raw, l.ProductID)
		}
		flags := byte(0)
		if l.HideFromDistributor {
			flags |= flagHideDistributor
		}
		if l.HideFromReseller {
			flags |= flagHideReseller
		}
		if l.PurchasedInstances != nil {
			flags |= flagPurchased
		}
		if l.ScanLimit != nil {
			flags |= flagScanLimit
		}
		if l.ScansUsed != nil {
			flags |= flagScansUsed
		}
		raw = append(raw, flags, codeOf(typeCodes, l.Type))
		raw = binary.AppendVarint(raw, int64(l.StartDate))
		raw = binary.AppendVarint(raw, int64(l.ExpirationDate))
		for _, p := range []*int{l.PurchasedInstances, l.ScanLimit, l.ScansUsed} {
			if p != nil {
				raw = binary.AppendUvarint(raw, uint64(*p))
			}
		}
		raw = binary.AppendUvarint(raw, uint64(l.Deployed))
		raw = appendString(raw, l.CustomerNote)
	}
	return deflate(raw)
}

func encodeDeployments(b *block) ([]byte, error) {
	raw := binary.AppendUvarint(nil, blockFormat)
	raw = binary.AppendUvarint(raw, uint64(len(b.Licenses)))
	for i := range b.Licenses {
		deps := b.Deployments[b.Licenses[i].Key]
		raw = binary.AppendUvarint(raw, uint64(len(deps)))
		for _, d := range deps {
			raw = appendString(raw, d.DeploymentID)
			raw = appendString(raw, d.Name)
			raw = binary.AppendVarint(raw, d.ActivatedAt.UnixNano())
			seen := int64(0)
			if d.LastSeenAt != nil {
				seen = d.LastSeenAt.UnixNano()
			}
			raw = binary.AppendVarint(raw, seen)
			src := byte(0)
			if d.Imported {
				src = 1
			}
			raw = append(raw, src)
		}
	}
	return deflate(raw)
}

var flaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

func deflate(raw []byte) ([]byte, error) {
	var z bytes.Buffer
	zw := flaters.Get().(*flate.Writer)
	defer flaters.Put(zw)
	zw.Reset(&z)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return z.Bytes(), nil
}

func openBlock(blob []byte) (*chunkDecoder, error) {
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(blob)))
	if err != nil {
		return nil, fmt.Errorf("block: %w", err)
	}
	d := &chunkDecoder{s: string(raw)}
	if v := d.uvarint(); v != blockFormat {
		return nil, fmt.Errorf("block format %d, want %d", v, blockFormat)
	}
	return d, nil
}

func decodeLicenses(blob []byte, b *block) error {
	d, err := openBlock(blob)
	if err != nil {
		return err
	}
	b.OrgID, b.OrgName, b.ResellerID, b.ResellerNm = d.string(), d.string(), d.string(), d.string()
	n := min(d.uvarint(), uint64(len(d.s)))
	b.Licenses = make([]blockLicense, 0, n)
	var products []string
	for i := uint64(0); i < n && d.err == nil; i++ {
		l := blockLicense{License: license.License{Key: d.string(), OrganizationIDs: []string{b.OrgID}}}
		switch p := d.uvarint(); {
		case p == 0:
			l.ProductID = d.string()
			products = append(products, l.ProductID)
		case p <= uint64(len(products)):
			l.ProductID = products[p-1]
		default:
			d.err = errCorrupt
		}
		flags, typ := d.byte(), d.byte()
		if int(typ) >= len(typeCodes) {
			return errCorrupt
		}
		l.Type = typeCodes[typ]
		l.HideFromDistributor, l.HideFromReseller = flags&flagHideDistributor != 0, flags&flagHideReseller != 0
		l.StartDate, l.ExpirationDate = license.Date(d.varint()), license.Date(d.varint())
		for _, f := range []struct {
			flag byte
			p    **int
		}{{flagPurchased, &l.PurchasedInstances}, {flagScanLimit, &l.ScanLimit}, {flagScansUsed, &l.ScansUsed}} {
			if flags&f.flag != 0 {
				v := int(d.uvarint())
				*f.p = &v
			}
		}
		l.Deployed = int(d.uvarint())
		l.CustomerNote = d.string()
		b.Licenses = append(b.Licenses, l)
	}
	return d.err
}

func decodeDeployments(blob []byte, b *block) error {
	d, err := openBlock(blob)
	if err != nil {
		return err
	}
	if n := d.uvarint(); n != uint64(len(b.Licenses)) {
		return fmt.Errorf("deployments of %d licenses in a block of %d: %w", n, len(b.Licenses), errCorrupt)
	}
	b.Deployments = make(map[string][]license.Deployment)
	for i := range b.Licenses {
		key := b.Licenses[i].Key
		n := min(d.uvarint(), uint64(len(d.s)))
		for j := uint64(0); j < n && d.err == nil; j++ {
			dep := license.Deployment{DeploymentID: d.string(), LicenseKey: key, Name: d.string(), Active: true}
			dep.ActivatedAt = time.Unix(0, d.varint()).UTC()
			if seen := d.varint(); seen != 0 {
				t := time.Unix(0, seen).UTC()
				dep.LastSeenAt = &t
			}
			dep.Imported = d.byte() == 1
			b.Deployments[key] = append(b.Deployments[key], dep)
		}
	}
	return d.err
}

// encode returns the two items of a block, at version v.
func (b *block) items(k blockKey, v int) (rows, deps map[string]types.AttributeValue, err error) {
	lb, err := encodeLicenses(b)
	if err != nil {
		return nil, nil, err
	}
	db, err := encodeDeployments(b)
	if err != nil {
		return nil, nil, err
	}
	if rows, err = marshal(blockItem{PK: k.pk(), SK: k.sk(skBlock), Org: k.Org, Blob: lb, Version: v}); err != nil {
		return nil, nil, err
	}
	deps, err = marshal(blockItem{PK: k.pk(), SK: k.sk(skDepBlock), Org: k.Org, Blob: db, Version: v})
	return rows, deps, err
}
