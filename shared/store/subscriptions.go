package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/subscription"
)

// subscriptionItem is a subscription. GSI1 lists every subscription by the
// time its next export is due, so the schedule reads only those that are.
type subscriptionItem struct {
	PK, SK    string
	GSI1PK    string   `dynamodbav:"GSI1PK"`
	GSI1SK    string   `dynamodbav:"GSI1SK"` // <next due, RFC 3339 UTC>#<partner>#<id>
	ID        string   `dynamodbav:"id"`
	PartnerID string   `dynamodbav:"partnerId"`
	Frequency string   `dynamodbav:"frequency"`
	All       bool     `dynamodbav:"all,omitempty"`
	OrgIDs    []string `dynamodbav:"organizationIds,omitempty"`
	// Recipients are told when an export of the subscription is ready.
	Recipients []string `dynamodbav:"recipients,omitempty"`
	CreatedBy  string   `dynamodbav:"createdBy"`
	CreatedAt  string   `dynamodbav:"createdAt"`
	UpdatedAt  string   `dynamodbav:"updatedAt"`
	// Incarnation keys the subscription's period claims; empty on items
	// written before it existed, whose claims are keyed by id alone.
	Incarnation string `dynamodbav:"incarnation,omitempty"`
}

// dueLayout formats due times with a fixed width, so that they sort as
// strings.
const dueLayout = "2006-01-02T15:04:05Z"

func dueKey(due time.Time, partnerID, id string) string {
	return due.UTC().Format(dueLayout) + "#" + partnerID + "#" + id
}

func (i subscriptionItem) subscription() subscription.Subscription {
	s := subscription.Subscription{ID: i.ID, PartnerID: i.PartnerID, Frequency: subscription.Frequency(i.Frequency),
		Selection: report.Selection{All: i.All, OrganizationIDs: i.OrgIDs}, Recipients: i.Recipients, CreatedBy: i.CreatedBy,
		Incarnation: i.Incarnation}
	s.CreatedAt, _ = time.Parse(time.RFC3339Nano, i.CreatedAt)
	s.UpdatedAt, _ = time.Parse(time.RFC3339Nano, i.UpdatedAt)
	return s
}

// PutSubscription creates or replaces a subscription. It is due at once: the
// current period has no export from it yet, unless one was made before (the
// period claim prevents a second). A subscription without an incarnation is
// a new one: it gets a new incarnation, and so periods of its own, even if
// an earlier subscription of the same id had claimed them.
func (s *Store) PutSubscription(ctx context.Context, sub subscription.Subscription, now time.Time) error {
	if sub.Incarnation == "" {
		sub.Incarnation = id.New()
	}
	item, err := marshal(subscriptionItem{PK: pkPartner + sub.PartnerID, SK: skSubscription + sub.ID, GSI1PK: gsi1Due,
		GSI1SK: dueKey(subscription.Start(sub.Frequency, now), sub.PartnerID, sub.ID), ID: sub.ID, PartnerID: sub.PartnerID,
		Frequency: string(sub.Frequency), All: sub.Selection.All, OrgIDs: sub.Selection.OrganizationIDs,
		Recipients: nilIfEmpty(sub.Recipients), CreatedBy: sub.CreatedBy, CreatedAt: formatTime(sub.CreatedAt), UpdatedAt: formatTime(sub.UpdatedAt),
		Incarnation: sub.Incarnation})
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return unavailable(err, "put subscription "+sub.ID)
	}
	return nil
}

// Subscription returns one of the partner organization's subscriptions.
func (s *Store) Subscription(ctx context.Context, partnerID, id string) (subscription.Subscription, error) {
	it, err := getItem[subscriptionItem](ctx, s, key(pkPartner+partnerID, skSubscription+id), false, "subscription "+id)
	return it.subscription(), err
}

// Subscriptions returns the partner organization's subscriptions by id.
func (s *Store) Subscriptions(ctx context.Context, partnerID string) ([]subscription.Subscription, error) {
	var subs []subscription.Subscription
	err := s.query(ctx, queryPrefix(s.table, pkPartner+partnerID, skSubscription), func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[subscriptionItem](item)
		subs = append(subs, it.subscription())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %s: %w", partnerID, err)
	}
	return subs, nil
}

// DeleteSubscription removes a subscription; removing one that is gone is
// not an error. Its exports stay.
func (s *Store) DeleteSubscription(ctx context.Context, partnerID, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(pkPartner+partnerID, skSubscription+id)})
	if err != nil {
		return unavailable(err, "delete subscription "+id)
	}
	return nil
}

// DueSubscriptions returns the subscriptions whose next export is due at t,
// reading only those from GSI1.
func (s *Store) DueSubscriptions(ctx context.Context, t time.Time) ([]subscription.Subscription, error) {
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String("GSI1PK = :due AND GSI1SK <= :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":due": str(gsi1Due), ":t": str(t.UTC().Format(dueLayout) + "#\U0010FFFF"),
		},
	}
	var subs []subscription.Subscription
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[subscriptionItem](item)
		subs = append(subs, it.subscription())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("due subscriptions: %w", err)
	}
	return subs, nil
}

// periodItem claims a subscription's period for one export.
type periodItem struct {
	PK, SK    string
	ExportID  string `dynamodbav:"exportId"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// ClaimPeriod creates the export of a subscription for the period that
// contains e.CreatedAt, and moves the subscription's next due time to the
// next period, in one transaction that fails if the period already has an
// export. It returns the export of the period: e when it was created (true),
// or the one made before (false), or nil when the subscription was deleted
// or changed since it was read. Duplicated, retried and concurrent runs of
// the schedule therefore make one export per period.
func (s *Store) ClaimPeriod(ctx context.Context, sub subscription.Subscription, e *export.Export) (*export.Export, bool, error) {
	period := subscription.Period(sub.Frequency, e.CreatedAt)
	claim, err := marshal(periodItem{PK: pkPartner + sub.PartnerID, SK: periodSK(sub, period),
		ExportID: e.ID, ExpiresAt: e.ExpiresAt.Unix()})
	if err != nil {
		return nil, false, err
	}
	exp, err := marshal(newExportItem(e))
	if err != nil {
		return nil, false, err
	}
	moveOn := s.moveDue(sub, subscription.Next(sub.Frequency, e.CreatedAt))
	err = s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: claim, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: &s.table, Item: exp, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Update: moveOn},
	})
	if err == nil {
		return e, true, nil
	}
	failed, which := conditionFailed(err)
	switch {
	case !failed:
		return nil, false, unavailable(err, "claim period "+period+" of "+sub.ID)
	case len(which) == 1 && which[0] == 2:
		return nil, false, nil // the subscription was deleted or changed
	}
	return s.claimedPeriod(ctx, sub, period, moveOn, e.CreatedAt)
}

// claimedPeriod returns the export of a period that an earlier run claimed,
// and moves the subscription's due time on, which that run may not have done
// (it moves in the same transaction as the claim, but the subscription may
// have been replaced since).
func (s *Store) claimedPeriod(ctx context.Context, sub subscription.Subscription, period string, moveOn *types.Update, now time.Time) (*export.Export, bool, error) {
	c, err := getItem[periodItem](ctx, s, key(pkPartner+sub.PartnerID, periodSK(sub, period)), true, "period claim "+period+" of "+sub.ID)
	if err != nil {
		return nil, false, err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: moveOn.TableName, Key: moveOn.Key,
		UpdateExpression: moveOn.UpdateExpression, ConditionExpression: moveOn.ConditionExpression,
		ExpressionAttributeValues: moveOn.ExpressionAttributeValues})
	if failed, _ := conditionFailed(err); failed {
		return nil, false, nil // the subscription was deleted or changed
	}
	if err != nil {
		return nil, false, unavailable(err, "move the due time of "+sub.ID)
	}
	prev, err := s.Export(ctx, sub.PartnerID, c.ExportID, now)
	if err != nil {
		return nil, false, err
	}
	return prev, false, nil
}

// periodSK is the key of a subscription's period claim: by id and
// incarnation, so that a subscription deleted and created again claims its
// periods anew.
func periodSK(sub subscription.Subscription, period string) string {
	if sub.Incarnation == "" {
		return skPeriod + sub.ID + "#" + period
	}
	return skPeriod + sub.ID + "#" + sub.Incarnation + "#" + period
}

// moveDue is the update that sets a subscription's next due time, if it is
// still the subscription that was read (same frequency, same incarnation).
func (s *Store) moveDue(sub subscription.Subscription, next time.Time) *types.Update {
	values := map[string]types.AttributeValue{
		":next": str(dueKey(next, sub.PartnerID, sub.ID)), ":f": str(string(sub.Frequency)),
	}
	same := "attribute_not_exists(incarnation)"
	if sub.Incarnation != "" {
		same, values[":inc"] = "incarnation = :inc", str(sub.Incarnation)
	}
	return &types.Update{TableName: &s.table, Key: key(pkPartner+sub.PartnerID, skSubscription+sub.ID),
		UpdateExpression:          aws.String("SET GSI1SK = :next"),
		ConditionExpression:       aws.String("attribute_exists(PK) AND frequency = :f AND " + same),
		ExpressionAttributeValues: values}
}
