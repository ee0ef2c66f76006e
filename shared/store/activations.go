package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
)

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
		items, err := s.deactivationItems(lic, deploymentID, copies, actor, now)
		if err != nil {
			return err
		}
		err = s.transact(ctx, items)
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

func (s *Store) deactivationItems(lic license.License, deploymentID string, copies []string, actor string, now time.Time) ([]types.TransactWriteItem, error) {
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
	event, err := marshal(newEventItem(lic.Key, license.Event{At: now, Type: license.Deactivated, Actor: actor,
		Data: map[string]any{"deploymentId": deploymentID, "deployed": lic.Deployed - 1}}, "", newID()))
	if err != nil {
		return nil, err
	}
	return append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: event}}), nil
}
