package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
)

// transact sends one transaction. The client request token makes the SDK's
// own retries of the same call idempotent on DynamoDB.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:      items,
		ClientRequestToken: aws.String(newID() + newID()),
	})
	return err
}

// SaveNote sets the partner organization's note on a license, if the note is
// still at version seen (0: there is none), and records a
// partner_note_updated event, in one transaction. A stale version is a
// version_conflict error whose "current" member holds the note as it is.
func (s *Store) SaveNote(ctx context.Context, partnerID, licenseKey, text string, seen int, userID string, now time.Time) (license.Note, error) {
	note := license.Note{Text: text, Version: seen + 1, UpdatedAt: now.UTC(), UpdatedBy: userID}
	item, err := marshal(noteItem{PK: pkPartner + partnerID, SK: skNote + licenseKey, Key: licenseKey, Text: text,
		Version: note.Version, UpdatedAt: formatTime(note.UpdatedAt), UpdatedBy: userID})
	if err != nil {
		return note, err
	}
	put := &types.Put{TableName: &s.table, Item: item}
	if seen == 0 {
		put.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		put.ConditionExpression = aws.String("version = :seen")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":seen": &types.AttributeValueMemberN{Value: fmt.Sprint(seen)}}
	}
	event, err := marshal(newEventItem(licenseKey, license.Event{At: now, Type: license.PartnerNoteUpdated, Actor: userID,
		Data: map[string]any{"version": note.Version, "text": text}}, partnerID, newID()))
	if err != nil {
		return note, err
	}
	err = s.transact(ctx, []types.TransactWriteItem{{Put: put}, {Put: &types.Put{TableName: &s.table, Item: event}}})
	if failed, _ := conditionFailed(err); failed {
		return note, s.noteConflict(ctx, partnerID, licenseKey)
	}
	if err != nil {
		return note, unavailable(err, "save note on "+licenseKey)
	}
	return note, nil
}

// noteConflict reads the note that a failed save ran into.
func (s *Store) noteConflict(ctx context.Context, partnerID, licenseKey string) error {
	conflict := fault.Errorf(fault.VersionConflict, "the note was changed since you read it")
	current, err := s.PartnerNote(ctx, partnerID, licenseKey)
	switch {
	case err == nil:
		return conflict.With("current", current)
	case fault.Is(err, fault.NotFound):
		return conflict.With("current", nil)
	}
	return err
}

// Pin pins a license for the user; pinning twice is pinning once.
func (s *Store) Pin(ctx context.Context, userID, licenseKey string, now time.Time) error {
	item := key(pkUser+userID, skPin+licenseKey)
	item["pinnedAt"] = str(formatTime(now))
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return unavailable(err, "pin "+licenseKey)
	}
	return nil
}

// Unpin removes the user's pin, if there is one.
func (s *Store) Unpin(ctx context.Context, userID, licenseKey string) error {
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(pkUser+userID, skPin+licenseKey)}); err != nil {
		return unavailable(err, "unpin "+licenseKey)
	}
	return nil
}

// Activation is the outcome of an activation.
type Activation struct {
	Deployment license.Deployment
	Deployed   int  // active deployments of the license afterwards
	Purchased  int  // purchased instances
	Created    bool // false when the deployment was already active
}

// maxTransactionAttempts bounds the retries of a transaction that collided
// with a concurrent one on the same license.
const maxTransactionAttempts = 8

// Activate records an active deployment of an on-prem license. Activating a
// deployment that is already active changes nothing. The deployed count of
// the license and of all its copies, the deployment and its copies, and the
// activated event are written in one transaction conditioned on the count
// being below the purchased instances, so no number of concurrent requests
// can deploy more instances than were bought: those that lose get
// instance_limit_reached.
func (s *Store) Activate(ctx context.Context, licenseKey string, d license.Deployment, actor string) (Activation, error) {
	for attempt := 0; ; attempt++ {
		lic, deployments, copies, err := s.readLicense(ctx, licenseKey, true)
		if err != nil {
			return Activation{}, err
		}
		res := Activation{Purchased: lic.Purchased(), Deployed: lic.Deployed}
		for _, existing := range deployments {
			if existing.DeploymentID == d.DeploymentID && existing.Active {
				res.Deployment = existing
				return res, nil
			}
		}
		if lic.Deployed >= lic.Purchased() {
			return res, fault.Errorf(fault.InstanceLimit, "all %d purchased instances of %s are deployed", lic.Purchased(), licenseKey)
		}
		d.LicenseKey, d.Active = licenseKey, true
		items, err := s.activationItems(lic, d, copies, actor)
		if err != nil {
			return res, err
		}
		err = s.transact(ctx, items)
		if err == nil {
			res.Deployment, res.Deployed, res.Created = d, lic.Deployed+1, true
			return res, nil
		}
		// A condition failed or the transaction collided: another request
		// changed the license since it was read. Read again and decide anew.
		if failed, _ := conditionFailed(err); !failed && !throttled(err) {
			return res, fmt.Errorf("activate %s on %s: %w", d.DeploymentID, licenseKey, err)
		}
		if attempt+1 == maxTransactionAttempts {
			return res, unavailable(err, "activate "+licenseKey)
		}
		if err := backoff(ctx, attempt+1); err != nil {
			return res, err
		}
	}
}

func (s *Store) activationItems(lic license.License, d license.Deployment, copies []string, actor string) ([]types.TransactWriteItem, error) {
	one := map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: &s.table, Key: licenseKey(lic.Key),
		UpdateExpression:          aws.String("SET deployed = deployed + :one"),
		ConditionExpression:       aws.String("deployed < purchasedInstances"),
		ExpressionAttributeValues: one,
	}}}
	dep, err := marshal(newDeploymentItem(pkLicense+lic.Key, skDeployment+d.DeploymentID, d))
	if err != nil {
		return nil, err
	}
	items = append(items, types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: dep,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR active = :false"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}},
	}})
	for _, c := range copies {
		partner, org, _ := strings.Cut(c, "#")
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName: &s.table, Key: key(pkPartner+partner, licenseCopySK(org, lic.Key)),
			UpdateExpression:          aws.String("SET deployed = deployed + :one"),
			ConditionExpression:       aws.String("attribute_exists(PK)"),
			ExpressionAttributeValues: one,
		}})
		cp, err := marshal(newDeploymentItem(pkPartner+partner, deploymentCopySK(org, lic.Key, d.DeploymentID), d))
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: cp}})
	}
	event, err := marshal(newEventItem(lic.Key, license.Event{At: d.ActivatedAt, Type: license.Activated, Actor: actor,
		Data: map[string]any{"deploymentId": d.DeploymentID, "name": d.Name, "deployed": lic.Deployed + 1}}, "", newID()))
	if err != nil {
		return nil, err
	}
	return append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: event}}), nil
}

// Deactivate marks an active deployment inactive and frees its instance: the
// counts, the deployment (kept, inactive), its copies (removed) and the
// deactivated event change in one transaction. Deactivating an inactive
// deployment changes nothing; an unknown one is not found.
func (s *Store) Deactivate(ctx context.Context, licenseKey, deploymentID, actor string, now time.Time) error {
	for attempt := 0; ; attempt++ {
		lic, deployments, copies, err := s.readLicense(ctx, licenseKey, true)
		if err != nil {
			return err
		}
		var current *license.Deployment
		for i := range deployments {
			if deployments[i].DeploymentID == deploymentID {
				current = &deployments[i]
			}
		}
		if current == nil {
			return notFound("deployment %s of license %s not found", deploymentID, licenseKey)
		}
		if !current.Active {
			return nil
		}
		err = s.transact(ctx, s.deactivationItems(lic, deploymentID, copies, actor, now))
		if err == nil {
			return nil
		}
		if failed, _ := conditionFailed(err); !failed && !throttled(err) {
			return fmt.Errorf("deactivate %s on %s: %w", deploymentID, licenseKey, err)
		}
		if attempt+1 == maxTransactionAttempts {
			return unavailable(err, "deactivate "+licenseKey)
		}
		if err := backoff(ctx, attempt+1); err != nil {
			return err
		}
	}
}

func (s *Store) deactivationItems(lic license.License, deploymentID string, copies []string, actor string, now time.Time) []types.TransactWriteItem {
	one := map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}, ":zero": &types.AttributeValueMemberN{Value: "0"}}
	items := []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: licenseKey(lic.Key),
			UpdateExpression:          aws.String("SET deployed = deployed - :one"),
			ConditionExpression:       aws.String("deployed > :zero"),
			ExpressionAttributeValues: one,
		}},
		{Update: &types.Update{
			TableName: &s.table, Key: deploymentKey(lic.Key, deploymentID),
			UpdateExpression:    aws.String("SET active = :false"),
			ConditionExpression: aws.String("active = :true"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":false": &types.AttributeValueMemberBOOL{Value: false}, ":true": &types.AttributeValueMemberBOOL{Value: true},
			},
		}},
	}
	for _, c := range copies {
		partner, org, _ := strings.Cut(c, "#")
		items = append(items,
			types.TransactWriteItem{Update: &types.Update{
				TableName: &s.table, Key: key(pkPartner+partner, licenseCopySK(org, lic.Key)),
				UpdateExpression:          aws.String("SET deployed = deployed - :one"),
				ConditionExpression:       aws.String("attribute_exists(PK) AND deployed > :zero"),
				ExpressionAttributeValues: one,
			}},
			types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: key(pkPartner+partner, deploymentCopySK(org, lic.Key, deploymentID))}},
		)
	}
	event, _ := marshal(newEventItem(lic.Key, license.Event{At: now, Type: license.Deactivated, Actor: actor,
		Data: map[string]any{"deploymentId": deploymentID, "deployed": lic.Deployed - 1}}, "", newID()))
	return append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: event}})
}

// History returns a page of a license's history, newest first: at most limit
// events after the cursor ("" for the first page), and the cursor of the next
// page ("" on the last). Note events of other partners are left out, since
// a partner's note is its own.
func (s *Store) History(ctx context.Context, licenseKey, partnerID, cursor string, limit int) ([]license.Event, string, error) {
	in := queryPrefix(s.table, pkLicense+licenseKey, skEvent)
	in.ScanIndexForward = aws.Bool(false)
	in.Limit = aws.Int32(int32(min(limit+1, 1000)))
	if cursor != "" {
		if !strings.HasPrefix(cursor, skEvent) {
			return nil, "", fault.Errorf(fault.Invalid, "cursor is not valid")
		}
		in.ExclusiveStartKey = key(pkLicense+licenseKey, cursor)
	}
	var (
		events []license.Event
		sks    []string
	)
	errFull := errors.New("page full")
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[eventItem](item)
		if err != nil {
			return err
		}
		if it.Partner != "" && it.Partner != partnerID {
			return nil
		}
		events = append(events, it.event())
		sks = append(sks, it.SK)
		if len(events) > limit {
			return errFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, "", fmt.Errorf("history of %s: %w", licenseKey, err)
	}
	if len(events) > limit {
		return events[:limit], sks[limit-1], nil
	}
	return events, "", nil
}

func licensePartitionQuery(table, licenseKey string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("PK = :pk AND SK < :events"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pkLicense + licenseKey), ":events": str(skEvent),
		},
	}
}
