package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// View reads what the scope's partner sees under its customer
// organizations: every one (orgIDs nil), or the named ones, of which one the
// partner does not see is not found. withDeployments adds the licenses'
// active deployments, as an export needs them. Listings come in no
// particular order.
//
// Every customer's blocks are read at once: for all customers one Query
// per shard of the partner's partition (a reseller: of each distributor's
// partition it sells through), for named ones BatchGetItem of their blocks;
// never a request per organization or per license (but for the few large
// licenses, whose active deployments an export reads from their own
// partition).
func (s *Store) View(ctx context.Context, sc *access.Scope, orgIDs []string, withDeployments bool) ([]report.Listing, error) {
	partner := sc.Partner.ID
	var (
		mu     sync.Mutex
		blocks = make(map[string][]*block) // by organization
		pend   = make(map[string]*block)   // deployments read before their licenses, by SK
	)
	add := func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[blockItem](item)
		if err != nil {
			return err
		}
		// Licenses are decoded here, in parallel; deployments are listed in
		// the order of their block's licenses, so they wait for them.
		var decoded block
		isLicenses := strings.HasPrefix(it.SK, skBlock)
		if isLicenses {
			if err := decodeLicenses(it.Blob, &decoded); err != nil {
				return fmt.Errorf("block %s %s: %w", it.PK, it.SK, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		// The two items of a block may come in either order: they are
		// joined on the part of their sort key after the prefix.
		id := it.PK + "|" + it.SK[len(skBlock):]
		b := pend[id]
		if b == nil {
			b = &block{}
			pend[id] = b
			blocks[it.Org] = append(blocks[it.Org], b)
		}
		if isLicenses {
			b.OrgID, b.OrgName, b.ResellerID, b.ResellerNm, b.Licenses = decoded.OrgID, decoded.OrgName, decoded.ResellerID, decoded.ResellerNm, decoded.Licenses
		} else {
			b.pendingDeps = it.Blob
		}
		return nil
	}
	var err error
	if orgIDs == nil {
		err = s.readAllBlocks(ctx, sc, withDeployments, add)
	} else {
		err = s.readNamedBlocks(ctx, partner, orgIDs, withDeployments, add)
	}
	if err != nil {
		return nil, fmt.Errorf("view of %s: %w", partner, err)
	}
	listings := make([]report.Listing, 0, len(blocks))
	var large []string
	for _, bs := range blocks {
		l, err := listingOf(partner, bs, withDeployments)
		if err != nil {
			return nil, err
		}
		if withDeployments {
			for i := range l.Licenses {
				if largeLicense(&l.Licenses[i]) {
					large = append(large, l.Licenses[i].Key)
				}
			}
		}
		listings = append(listings, l)
	}
	if len(large) > 0 {
		deps, err := s.activeLargeDeployments(ctx, large)
		if err != nil {
			return nil, err
		}
		for i := range listings {
			for _, l := range listings[i].Licenses {
				if d, ok := deps[l.Key]; ok {
					listings[i].Deployments[l.Key] = d
				}
			}
		}
	}
	return listings, nil
}

// readAllBlocks reads the blocks of every customer of the scope's partner.
func (s *Store) readAllBlocks(ctx context.Context, sc *access.Scope, withDeployments bool, add func(map[string]types.AttributeValue) error) error {
	type part struct{ home, prefix string }
	var parts []part
	prefixes := []string{skBlock}
	if withDeployments {
		prefixes = append(prefixes, skDepBlock)
	}
	for _, p := range prefixes {
		switch sc.Partner.Type {
		case access.OrgDistributor:
			parts = append(parts, part{sc.Partner.ID, p})
		case access.OrgReseller:
			for _, d := range sc.Partner.Via {
				parts = append(parts, part{d, p + sc.Partner.ID + "#"})
			}
		}
	}
	return s.parallel(ctx, len(parts)*Shards, func(ctx context.Context, i int) error {
		p := parts[i/Shards]
		return s.query(ctx, queryPrefix(s.table, viewPK(p.home, i%Shards), p.prefix), add)
	})
}

// readNamedBlocks reads the blocks of the partner's named customers.
func (s *Store) readNamedBlocks(ctx context.Context, partner string, orgIDs []string, withDeployments bool, add func(map[string]types.AttributeValue) error) error {
	customers, err := s.customerItems(ctx, partner, orgIDs)
	if err != nil {
		return err
	}
	var keys []map[string]types.AttributeValue
	for _, c := range customers {
		for _, k := range c.blocks() {
			keys = append(keys, k.item(skBlock))
			if withDeployments {
				keys = append(keys, k.item(skDepBlock))
			}
		}
	}
	// batchGet hands items over one at a time; the decoding of many
	// blocks is spread over batches read in parallel.
	const perBatch = 100
	return s.parallel(ctx, (len(keys)+perBatch-1)/perBatch, func(ctx context.Context, i int) error {
		return s.batchGet(ctx, keys[i*perBatch:min((i+1)*perBatch, len(keys))], false, add)
	})
}

// listingOf joins an organization's blocks into what partner sees of it.
func listingOf(partner string, bs []*block, withDeployments bool) (report.Listing, error) {
	var l report.Listing
	for _, b := range bs {
		if b.pendingDeps != nil {
			if err := decodeDeployments(b.pendingDeps, b); err != nil {
				return l, err
			}
			b.pendingDeps = nil
		}
		if b.OrgID == "" {
			continue // deployments without their licenses: the block is being rewritten
		}
		if l.Org.ID == "" {
			l.Org = access.Ref{ID: b.OrgID, Name: b.OrgName}
			if b.ResellerID != "" && partner != b.ResellerID {
				l.Reseller = &access.Ref{ID: b.ResellerID, Name: b.ResellerNm}
			}
		}
		asReseller := partner == b.ResellerID
		for _, bl := range b.Licenses {
			if (asReseller && bl.HideFromReseller) || (!asReseller && bl.HideFromDistributor) {
				continue
			}
			l.Licenses = append(l.Licenses, bl.License)
		}
		if withDeployments {
			if l.Deployments == nil {
				l.Deployments = make(map[string][]license.Deployment)
			}
			for k, d := range b.Deployments {
				l.Deployments[k] = d
			}
		}
	}
	slices.SortFunc(l.Licenses, func(a, b license.License) int { return strings.Compare(a.Key, b.Key) })
	return l, nil
}

// activeLargeDeployments reads the active deployments of large licenses,
// which live beside each license rather than in its blocks.
func (s *Store) activeLargeDeployments(ctx context.Context, keys []string) (map[string][]license.Deployment, error) {
	var mu sync.Mutex
	out := make(map[string][]license.Deployment)
	err := s.parallel(ctx, len(keys), func(ctx context.Context, i int) error {
		in := queryPrefix(s.table, pkLicense+keys[i], skDeployment)
		in.FilterExpression = aws.String("active = :true")
		in.ExpressionAttributeValues[":true"] = &types.AttributeValueMemberBOOL{Value: true}
		return s.query(ctx, in, func(item map[string]types.AttributeValue) error {
			d, err := unmarshal[deploymentItem](item)
			mu.Lock()
			out[d.Key] = append(out[d.Key], d.deployment())
			mu.Unlock()
			return err
		})
	})
	return out, err
}

// readBlock reads one block; deployments too when withDeployments.
func (s *Store) readBlock(ctx context.Context, k blockKey, withDeployments, consistent bool) (*block, error) {
	keys := []map[string]types.AttributeValue{k.item(skBlock)}
	if withDeployments {
		keys = append(keys, k.item(skDepBlock))
	}
	b := &block{}
	found := 0
	err := s.batchGet(ctx, keys, consistent, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[blockItem](item)
		if err != nil {
			return err
		}
		found++
		if strings.HasPrefix(it.SK, skBlock) {
			b.Version = it.Version
			return decodeLicenses(it.Blob, b)
		}
		b.pendingDeps = it.Blob
		return nil
	})
	if err != nil {
		return nil, err
	}
	if found == 0 {
		return nil, notFound("block %s %s not found", k.pk(), k.sk(skBlock))
	}
	if b.pendingDeps != nil {
		if err := decodeDeployments(b.pendingDeps, b); err != nil {
			return nil, err
		}
		b.pendingDeps = nil
	}
	if b.Deployments == nil {
		b.Deployments = make(map[string][]license.Deployment)
	}
	return b, nil
}
