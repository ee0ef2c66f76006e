package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// goneItem records organizations and licenses that left a partner's view
// at an import: an organization moved to another partner or removed, a
// license removed or moved off the partner's organizations. Report
// snapshots outlive such changes; their pages leave out what is gone since
// the snapshot was made. The items expire after goneLifetime, longer than
// any snapshot lives.
type goneItem struct {
	PK, SK    string
	Orgs      []string `dynamodbav:"orgs,omitempty"`
	Licenses  []string `dynamodbav:"licenses,omitempty"`
	ExpiresAt int64    `dynamodbav:"expiresAt"`
}

// goneLifetime is how long gone items are kept: past report.Lifetime.
const goneLifetime = 48 * time.Hour

// maxGoneIDs bounds the ids of one gone item, so that it stays far below
// 400 KB (ids are at most 200 bytes).
const maxGoneIDs = 1000

// Gone is what left a partner's view since a time.
type Gone struct {
	Orgs, Licenses map[string]bool
}

// Hides reports whether a row of the license under the organization is gone.
func (g Gone) Hides(orgID, licenseKey string) bool { return g.Orgs[orgID] || g.Licenses[licenseKey] }

// Gone returns what left the partner's view after since: one Query, which
// finds nothing on most days.
func (s *Store) Gone(ctx context.Context, partnerID string, since time.Time) (Gone, error) {
	g := Gone{Orgs: map[string]bool{}, Licenses: map[string]bool{}}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pkPartner + partnerID), ":from": str(skGone + since.UTC().Format(eventTimeLayout)), ":to": str(skGone + "~"),
		},
	}
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[goneItem](item)
		for _, o := range it.Orgs {
			g.Orgs[o] = true
		}
		for _, l := range it.Licenses {
			g.Licenses[l] = true
		}
		return err
	})
	if err != nil {
		return g, fmt.Errorf("gone from %s: %w", partnerID, err)
	}
	return g, nil
}

// goneItems returns the items that record what left a partner's view at t;
// tag tells them from other items of the same partner and time.
func goneItems(partnerID string, t time.Time, tag string, orgs, licenses []string) []goneItem {
	var items []goneItem
	for n := 0; len(orgs) > 0 || len(licenses) > 0; n++ {
		it := goneItem{PK: pkPartner + partnerID, SK: fmt.Sprintf("%s%s#%s#%04d", skGone, t.UTC().Format(eventTimeLayout), tag, n),
			ExpiresAt: t.Add(goneLifetime).Unix()}
		k := min(len(orgs), maxGoneIDs)
		it.Orgs, orgs = orgs[:k], orgs[k:]
		k = min(len(licenses), maxGoneIDs-len(it.Orgs))
		it.Licenses, licenses = licenses[:k], licenses[k:]
		items = append(items, it)
	}
	return items
}
