package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/report"
)

// ExportStatus is the state of an export.
type ExportStatus string

// The export states.
const (
	ExportPending ExportStatus = "pending"
	ExportReady   ExportStatus = "ready"
	ExportFailed  ExportStatus = "failed"
)

// Export is an Excel export of a partner organization: made by a user or by
// a subscription's schedule.
type Export struct {
	ID             string
	PartnerID      string
	Status         ExportStatus
	Reason         string // why it failed
	Trigger        string // "manual" or "scheduled"
	SubscriptionID string
	CreatedBy      string // the user, empty for scheduled exports
	CreatedAt      time.Time
	CompletedAt    time.Time
	Selection      report.Selection
	ObjectKey      string
	Counts         map[string]int
	ExpiresAt      time.Time // when the item and its object are gone
}

type exportItem struct {
	PK, SK         string
	ID             string         `dynamodbav:"id"`
	PartnerID      string         `dynamodbav:"partnerId"`
	Status         string         `dynamodbav:"status"`
	Reason         string         `dynamodbav:"reason,omitempty"`
	Trigger        string         `dynamodbav:"trigger"`
	SubscriptionID string         `dynamodbav:"subscriptionId,omitempty"`
	CreatedBy      string         `dynamodbav:"createdBy,omitempty"`
	CreatedAt      string         `dynamodbav:"createdAt"`
	CompletedAt    string         `dynamodbav:"completedAt,omitempty"`
	All            bool           `dynamodbav:"all,omitempty"`
	OrgIDs         []string       `dynamodbav:"organizationIds,omitempty"`
	ObjectKey      string         `dynamodbav:"objectKey,omitempty"`
	Counts         map[string]int `dynamodbav:"counts,omitempty"`
	ExpiresAt      int64          `dynamodbav:"expiresAt"`
}

func newExportItem(e *Export) exportItem {
	return exportItem{PK: pkPartner + e.PartnerID, SK: skExport + e.ID, ID: e.ID, PartnerID: e.PartnerID,
		Status: string(e.Status), Reason: e.Reason, Trigger: e.Trigger, SubscriptionID: e.SubscriptionID,
		CreatedBy: e.CreatedBy, CreatedAt: formatTime(e.CreatedAt), All: e.Selection.All, OrgIDs: e.Selection.OrganizationIDs,
		ObjectKey: e.ObjectKey, Counts: e.Counts, ExpiresAt: e.ExpiresAt.Unix()}
}

func (i exportItem) export() *Export {
	e := &Export{ID: i.ID, PartnerID: i.PartnerID, Status: ExportStatus(i.Status), Reason: i.Reason, Trigger: i.Trigger,
		SubscriptionID: i.SubscriptionID, CreatedBy: i.CreatedBy, ObjectKey: i.ObjectKey, Counts: i.Counts,
		Selection: report.Selection{All: i.All, OrganizationIDs: i.OrgIDs}, ExpiresAt: time.Unix(i.ExpiresAt, 0).UTC()}
	e.CreatedAt, _ = time.Parse(time.RFC3339Nano, i.CreatedAt)
	if i.CompletedAt != "" {
		e.CompletedAt, _ = time.Parse(time.RFC3339Nano, i.CompletedAt)
	}
	return e
}

func exportKey(partnerID, id string) map[string]types.AttributeValue {
	return key(pkPartner+partnerID, skExport+id)
}

// CreateExport stores a new export; its id must be new.
func (s *Store) CreateExport(ctx context.Context, e *Export) error {
	item, err := marshal(newExportItem(e))
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err != nil {
		return unavailable(err, "create export "+e.ID)
	}
	return nil
}

// FinishExport records the outcome of an export that was pending: ready with
// its object and counts, or failed with a reason. An export that is no
// longer pending is left as it is.
func (s *Store) FinishExport(ctx context.Context, e *Export) error {
	values := map[string]types.AttributeValue{
		":status": str(string(e.Status)), ":completed": str(formatTime(e.CompletedAt)),
		":pending": str(string(ExportPending)), ":reason": str(e.Reason), ":object": str(e.ObjectKey),
	}
	counts, err := marshal(struct {
		C map[string]int `dynamodbav:"c"`
	}{e.Counts})
	if err != nil {
		return err
	}
	values[":counts"] = counts["c"]
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: exportKey(e.PartnerID, e.ID),
		UpdateExpression:          aws.String("SET #status = :status, completedAt = :completed, reason = :reason, objectKey = :object, counts = :counts"),
		ConditionExpression:       aws.String("#status = :pending"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: values,
	})
	if failed, _ := conditionFailed(err); failed {
		return nil
	}
	if err != nil {
		return unavailable(err, "finish export "+e.ID)
	}
	return nil
}

// Export returns one of the partner organization's exports. An export of
// another partner, or past its retention, is not found.
func (s *Store) Export(ctx context.Context, partnerID, id string, now time.Time) (*Export, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: exportKey(partnerID, id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, unavailable(err, "get export "+id)
	}
	if out.Item == nil {
		return nil, notFound("export %s not found", id)
	}
	it, err := unmarshal[exportItem](out.Item)
	if err != nil {
		return nil, err
	}
	if e := it.export(); now.Before(e.ExpiresAt) {
		return e, nil
	}
	return nil, notFound("export %s not found", id)
}

// Exports returns the partner organization's exports, newest first: ids
// are time-ordered, so the key order is the time order.
func (s *Store) Exports(ctx context.Context, partnerID string, now time.Time) ([]*Export, error) {
	in := queryPrefix(s.table, pkPartner+partnerID, skExport)
	in.ScanIndexForward = aws.Bool(false)
	var exports []*Export
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[exportItem](item)
		if err != nil {
			return err
		}
		if e := it.export(); now.Before(e.ExpiresAt) {
			exports = append(exports, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("exports of %s: %w", partnerID, err)
	}
	return exports, nil
}

// PartnerScope returns the scope of a partner organization acting on its own,
// as a schedule does: every customer it sees, with full access.
func (s *Store) PartnerScope(ctx context.Context, partnerID string) (*access.Scope, error) {
	org, err := s.Organization(ctx, partnerID)
	if err != nil {
		return nil, err
	}
	customers, err := s.Customers(ctx, partnerID)
	if err != nil {
		return nil, err
	}
	return access.NewScope(access.User{}, org, access.Full, customers), nil
}
