package store

import (
	"context"
	"fmt"
	"strings"
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

// Gone is what left a partner's view, each with the time it left (the
// latest, if more than once).
type Gone struct {
	Orgs, Licenses map[string]time.Time
}

// Hides reports whether a row of the license under the organization left
// the view at since or after.
func (g Gone) Hides(orgID, licenseKey string, since time.Time) bool {
	o, ok := g.Orgs[orgID]
	if ok && !o.Before(since) {
		return true
	}
	l, ok := g.Licenses[licenseKey]
	return ok && !l.Before(since)
}

// Empty reports whether nothing left the view.
func (g Gone) Empty() bool { return len(g.Orgs)+len(g.Licenses) == 0 }

// Gone returns what left the partner's view at since or after: one Query,
// which finds nothing on most days. Gone items last goneLifetime.
func (s *Store) Gone(ctx context.Context, partnerID string, since time.Time) (Gone, error) {
	g := Gone{Orgs: map[string]time.Time{}, Licenses: map[string]time.Time{}}
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pkPartner + partnerID), ":from": str(skGone + since.UTC().Format(eventTimeLayout)), ":to": str(skGone + "~"),
		},
	}
	later := func(m map[string]time.Time, id string, at time.Time) {
		if t, ok := m[id]; !ok || at.After(t) {
			m[id] = at
		}
	}
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[goneItem](item)
		if err != nil {
			return err
		}
		stamp, _, _ := strings.Cut(strings.TrimPrefix(it.SK, skGone), "#")
		at, err := time.Parse(eventTimeLayout, stamp)
		if err != nil {
			return fmt.Errorf("gone item %s: %w", it.SK, err)
		}
		for _, o := range it.Orgs {
			later(g.Orgs, o, at)
		}
		for _, l := range it.Licenses {
			later(g.Licenses, l, at)
		}
		return nil
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
