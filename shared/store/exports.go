package store

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/report"
)

// exportItem is an export. While it is pending it is also in GSI1 under
// PENDING, by creation time, so that a run of the schedule finds the exports
// whose finishing died; finishing it writes the item anew without those keys.
// A ready scheduled export whose notice is still to be sent to its
// recipients is in GSI1 under MAILDUE, by the time a run may send it.
type exportItem struct {
	PK, SK         string
	GSI1PK         string      `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK         string      `dynamodbav:"GSI1SK,omitempty"` // <created, RFC 3339 UTC>#<partner>#<id>
	ID             string      `dynamodbav:"id"`
	PartnerID      string      `dynamodbav:"partnerId"`
	Status         string      `dynamodbav:"status"`
	Reason         string      `dynamodbav:"reason,omitempty"`
	Trigger        string      `dynamodbav:"trigger"`
	SubscriptionID string      `dynamodbav:"subscriptionId,omitempty"`
	CreatedBy      string      `dynamodbav:"createdBy,omitempty"`
	CreatedAt      string      `dynamodbav:"createdAt"`
	CompletedAt    string      `dynamodbav:"completedAt,omitempty"`
	All            bool        `dynamodbav:"all,omitempty"`
	OrgIDs         []string    `dynamodbav:"organizationIds,omitempty"`
	ObjectKey      string      `dynamodbav:"objectKey,omitempty"`
	Counts         *countsItem `dynamodbav:"counts,omitempty"`
	ExpiresAt      int64       `dynamodbav:"expiresAt"`
	Recipients     []string    `dynamodbav:"recipients,omitempty"`
	MailStatus     string      `dynamodbav:"mailStatus,omitempty"`
	MailAttempts   int         `dynamodbav:"mailAttempts"`
	MailNextAt     string      `dynamodbav:"mailNextAt,omitempty"`
	MailMessageID  string      `dynamodbav:"mailMessageId,omitempty"`
}

// countsItem is an export's export.Counts.
type countsItem struct {
	Licenses          int `dynamodbav:"licenses"`
	CloudServices     int `dynamodbav:"cloudServices"`
	ActiveDeployments int `dynamodbav:"activeDeployments"`
}

func newExportItem(e *export.Export) exportItem {
	i := exportItem{PK: pkPartner + e.PartnerID, SK: skExport + e.ID, ID: e.ID, PartnerID: e.PartnerID,
		Status: string(e.Status), Reason: e.Reason, Trigger: string(e.Trigger), SubscriptionID: e.SubscriptionID,
		CreatedBy: e.CreatedBy, CreatedAt: formatTime(e.CreatedAt), All: e.Selection.All, OrgIDs: e.Selection.OrganizationIDs,
		ObjectKey: e.ObjectKey, ExpiresAt: e.ExpiresAt.Unix(), Recipients: nilIfEmpty(e.Recipients),
		MailStatus: string(e.Mail.Status), MailAttempts: e.Mail.Attempts, MailMessageID: e.Mail.MessageID}
	if !e.Mail.NextAt.IsZero() {
		i.MailNextAt = formatTime(e.Mail.NextAt)
	}
	switch {
	case e.Status == export.Pending:
		i.GSI1PK, i.GSI1SK = gsi1Pending, dueKey(e.CreatedAt, e.PartnerID, e.ID)
	case e.Status == export.Ready && (e.Mail.Status == export.MailDue || e.Mail.Status == export.MailSending):
		i.GSI1PK, i.GSI1SK = gsi1MailDue, dueKey(e.Mail.NextAt, e.PartnerID, e.ID)
	}
	if e.Status != export.Pending {
		i.CompletedAt = formatTime(e.CompletedAt)
		i.Counts = &countsItem{e.Counts.Licenses, e.Counts.CloudServices, e.Counts.ActiveDeployments}
	}
	return i
}

func (i exportItem) export() *export.Export {
	e := &export.Export{ID: i.ID, PartnerID: i.PartnerID, Status: export.Status(i.Status), Reason: i.Reason,
		Trigger: export.Trigger(i.Trigger), SubscriptionID: i.SubscriptionID, CreatedBy: i.CreatedBy, ObjectKey: i.ObjectKey,
		Selection: report.Selection{All: i.All, OrganizationIDs: i.OrgIDs}, ExpiresAt: time.Unix(i.ExpiresAt, 0).UTC(),
		Recipients: i.Recipients, Mail: export.Mail{Status: export.MailStatus(i.MailStatus), Attempts: i.MailAttempts,
			MessageID: i.MailMessageID}}
	if i.MailNextAt != "" {
		e.Mail.NextAt, _ = time.Parse(time.RFC3339Nano, i.MailNextAt)
	}
	if i.Counts != nil {
		e.Counts = export.Counts{Licenses: i.Counts.Licenses, CloudServices: i.Counts.CloudServices,
			ActiveDeployments: i.Counts.ActiveDeployments}
	}
	e.CreatedAt, _ = time.Parse(time.RFC3339Nano, i.CreatedAt)
	if i.CompletedAt != "" {
		e.CompletedAt, _ = time.Parse(time.RFC3339Nano, i.CompletedAt)
	}
	return e
}

func exportKey(partnerID, id string) map[string]types.AttributeValue {
	return key(pkPartner+partnerID, skExport+id)
}

// CreateExport stores a new, pending export; its id must be new.
func (s *Store) CreateExport(ctx context.Context, e *export.Export) error {
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

// FinishExport records the outcome of a pending export: ready with its
// object and counts, or failed with a reason. It reports false, and changes
// nothing, when the export is no longer pending (another run finished it).
func (s *Store) FinishExport(ctx context.Context, e *export.Export) (bool, error) {
	item, err := marshal(newExportItem(e))
	if err != nil {
		return false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("#status = :pending"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pending": str(string(export.Pending))},
	})
	if failed, _ := conditionFailed(err); failed {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err, "finish export "+e.ID)
	}
	return true, nil
}

// Export returns one of the partner organization's exports. An export of
// another partner, or past its retention, is not found.
func (s *Store) Export(ctx context.Context, partnerID, id string, now time.Time) (*export.Export, error) {
	it, err := getItem[exportItem](ctx, s, exportKey(partnerID, id), true, "export "+id)
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
func (s *Store) Exports(ctx context.Context, partnerID string, now time.Time) ([]*export.Export, error) {
	in := queryPrefix(s.table, pkPartner+partnerID, skExport)
	in.ScanIndexForward = aws.Bool(false)
	var exports []*export.Export
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

// PendingExports returns the exports of every partner that were created
// before `before` and are still pending, oldest first, from GSI1.
func (s *Store) PendingExports(ctx context.Context, before time.Time) ([]*export.Export, error) {
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String("GSI1PK = :pending AND GSI1SK < :before"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pending": str(gsi1Pending), ":before": str(before.UTC().Format(dueLayout)),
		},
	}
	var exports []*export.Export
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[exportItem](item)
		if err != nil {
			return err
		}
		// The index is eventually consistent: it may still list an export
		// that was finished a moment ago.
		if e := it.export(); e.Status == export.Pending && before.Before(e.ExpiresAt) {
			exports = append(exports, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pending exports: %w", err)
	}
	return exports, nil
}

// gsi1MailDue is the GSI1 partition of the notices of ready scheduled
// exports still to be sent.
const gsi1MailDue = "MAILDUE"

// UpdateExportMail records a new state of a ready export's notice, if the
// notice is still in the state prev that the caller read: of two runs
// sending it, one does. It reports false, and changes nothing, otherwise.
func (s *Store) UpdateExportMail(ctx context.Context, e *export.Export, prev export.Mail) (bool, error) {
	item, err := marshal(newExportItem(e))
	if err != nil {
		return false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: item,
		ConditionExpression:      aws.String("#status = :ready AND mailStatus = :mail AND mailAttempts = :attempts"),
		ExpressionAttributeNames: map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":ready": str(string(export.Ready)), ":mail": str(string(prev.Status)),
			":attempts": num(prev.Attempts),
		},
	})
	if failed, _ := conditionFailed(err); failed {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err, "record the notice of export "+e.ID)
	}
	return true, nil
}

// DueExportMail returns the ready exports of every partner whose notice a
// run may send at now, from GSI1.
func (s *Store) DueExportMail(ctx context.Context, now time.Time) ([]*export.Export, error) {
	in := &dynamodb.QueryInput{
		TableName:              &s.table,
		IndexName:              aws.String(indexGSI1),
		KeyConditionExpression: aws.String("GSI1PK = :due AND GSI1SK <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":due": str(gsi1MailDue), ":now": str(now.UTC().Format(dueLayout) + "#\U0010FFFF"),
		},
	}
	var exports []*export.Export
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[exportItem](item)
		if err != nil {
			return err
		}
		// The index is eventually consistent: it may list a notice sent a
		// moment ago, which the conditional write of its sending refuses.
		if e := it.export(); e.Mail.Pending(now) && now.Before(e.ExpiresAt) {
			exports = append(exports, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("due notices of exports: %w", err)
	}
	return exports, nil
}
