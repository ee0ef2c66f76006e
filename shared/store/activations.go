package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
)

// Activation is the outcome of an activation.
type Activation struct {
	Deployment license.Deployment
	Deployed   int  // active deployments of the license once it committed
	Purchased  int  // purchased instances
	Created    bool // false when the deployment was already active
}

// maxTransactionAttempts bounds the retries of a write that collided with a
// concurrent one on the same license: each round of colliding writers lets
// one through, so a crowd of them needs about as many rounds as it has
// members.
const maxTransactionAttempts = 64

// retryPause waits before retry number attempt of a collided write: short,
// since a collision means another write just committed, and jittered so
// that the colliding writers spread out.
func retryPause(ctx context.Context, attempt int) error {
	ceiling := min(500*time.Millisecond, 5*time.Millisecond<<min(attempt, 7))
	t := time.NewTimer(time.Duration(rand.Int64N(int64(ceiling))) + time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// licenseState is a license read for a write: its record, the deployments
// kept beside it, and its blocks, each at the version the write conditions on.
type licenseState struct {
	rec         *Record
	deployments []license.Deployment // beside the license: inactive, or a large license's
	blocks      []*block             // one per organization, in rec.Orgs' order
}

func (s *Store) readLicenseState(ctx context.Context, licenseKey string) (*licenseState, error) {
	rec, deps, err := s.readLicense(ctx, licenseKey, true)
	if err != nil {
		return nil, err
	}
	if rec.Removed {
		return nil, notFound("license %s not found", licenseKey)
	}
	st := &licenseState{rec: rec, deployments: deps, blocks: make([]*block, len(rec.Orgs))}
	err = s.parallel(ctx, len(rec.Orgs), func(ctx context.Context, i int) error {
		b, err := s.readBlock(ctx, rec.Orgs[i].block(licenseKey), true, true)
		st.blocks[i] = b
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("blocks of license %s: %w", licenseKey, err)
	}
	return st, nil
}

// active returns the license's active deployment with the given id.
func (st *licenseState) active(id string) (license.Deployment, bool) {
	var list []license.Deployment
	if largeLicense(&st.rec.License) {
		list = st.deployments
	} else if len(st.blocks) > 0 {
		list = st.blocks[0].Deployments[st.rec.Key]
	}
	for _, d := range list {
		if d.DeploymentID == id && d.Active {
			return d, true
		}
	}
	return license.Deployment{}, false
}

// kept returns the deployment with the given id kept beside the license.
func (st *licenseState) kept(id string) (license.Deployment, bool) {
	for _, d := range st.deployments {
		if d.DeploymentID == id {
			return d, true
		}
	}
	return license.Deployment{}, false
}

// countUpdate sets the license's deployed count from n to n+delta, on the
// condition that it is still n and the license still there: a write that
// commits carries the count it committed.
func (s *Store) countUpdate(key string, n, delta int) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: licenseKey(key),
		UpdateExpression:    aws.String("SET deployed = :next"),
		ConditionExpression: aws.String("deployed = :n AND (attribute_not_exists(removed) OR removed = :false)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":n": num(n), ":next": num(n + delta), ":false": &types.AttributeValueMemberBOOL{Value: false},
		},
	}}
}

func num(n int) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.Itoa(n)}
}

// blockWrites rewrites the license's blocks with change applied to each, on
// the condition that each is still at the version read.
func (s *Store) blockWrites(st *licenseState, change func(b *block)) ([]types.TransactWriteItem, error) {
	var items []types.TransactWriteItem
	for i, b := range st.blocks {
		change(b)
		k := st.rec.Orgs[i].block(st.rec.Key)
		rows, deps, err := b.items(k, b.Version+1)
		if err != nil {
			return nil, err
		}
		cond := map[string]types.AttributeValue{":v": num(b.Version)}
		items = append(items,
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: rows, ConditionExpression: aws.String("v = :v"), ExpressionAttributeValues: cond}},
			types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: deps, ConditionExpression: aws.String("v = :v"), ExpressionAttributeValues: cond}})
	}
	return items, nil
}

// setDeployed sets the deployed count of a license in a block.
func (b *block) setDeployed(licenseKey string, n int) {
	for i := range b.Licenses {
		if b.Licenses[i].Key == licenseKey {
			b.Licenses[i].Deployed = n
		}
	}
}

// Activate records an active deployment of an on-prem license. Activating a
// deployment that is already active changes nothing. The deployed count of
// the license, its blocks with the deployment, and the activated event are
// written in one transaction conditioned on the count read, so no number of
// concurrent requests can deploy more instances than were bought (those
// that lose get instance_limit_reached), and the count the answer and the
// event carry is the one committed.
func (s *Store) Activate(ctx context.Context, licenseKey string, d license.Deployment, actor license.Actor) (Activation, error) {
	d.LicenseKey, d.Active, d.Imported = licenseKey, true, false
	for attempt := 0; ; attempt++ {
		st, err := s.readLicenseState(ctx, licenseKey)
		if err != nil {
			return Activation{}, err
		}
		n, purchased := st.rec.Deployed, st.rec.Purchased()
		res := Activation{Purchased: purchased, Deployed: n}
		if existing, ok := st.active(d.DeploymentID); ok {
			res.Deployment = existing
			return res, nil
		}
		if n >= purchased {
			return res, fault.Errorf(fault.InstanceLimit, "all %d purchased instances of %s are deployed", purchased, licenseKey)
		}
		items, err := s.activationItems(st, d, actor)
		if err != nil {
			return res, err
		}
		err = s.transact(ctx, items)
		if err == nil {
			res.Deployment, res.Deployed, res.Created = d, n+1, true
			return res, nil
		}
		if err := s.collided(ctx, err, attempt, "activate "+d.DeploymentID+" on "+licenseKey); err != nil {
			return res, err
		}
	}
}

// collided returns nil, after a pause, when a transaction failed because
// another write changed the license since it was read, or held it (read
// again and decide anew), and the error otherwise. Throttling and the
// service's failures are not retried here: the SDK retried them already,
// and another round of its retries per attempt would hold the caller for
// minutes before the 503.
func (s *Store) collided(ctx context.Context, err error, attempt int, what string) error {
	if failed, _ := conditionFailed(err); !failed && !collision(err) {
		return unavailable(err, what)
	}
	if attempt+1 == maxTransactionAttempts {
		return unavailable(err, what)
	}
	return retryPause(ctx, attempt+1)
}

func (s *Store) activationItems(st *licenseState, d license.Deployment, actor license.Actor) ([]types.TransactWriteItem, error) {
	key, n := st.rec.Key, st.rec.Deployed
	items := []types.TransactWriteItem{s.countUpdate(key, n, 1)}
	if largeLicense(&st.rec.License) {
		dep, err := marshal(newDeploymentItem(d))
		if err != nil {
			return nil, err
		}
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: dep,
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR active = :false"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}}}})
	} else if _, ok := st.kept(d.DeploymentID); ok {
		// Active again: the deployment moves back into the blocks.
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: deploymentKey(key, d.DeploymentID),
			ConditionExpression:       aws.String("active = :false"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":false": &types.AttributeValueMemberBOOL{Value: false}}}})
	}
	blocks, err := s.blockWrites(st, func(b *block) {
		b.setDeployed(key, n+1)
		if !largeLicense(&st.rec.License) {
			b.Deployments[key] = append(b.Deployments[key], d)
		}
	})
	if err != nil {
		return nil, err
	}
	items = append(items, blocks...)
	event, err := marshal(newEventItem(key, license.Event{At: d.ActivatedAt, Type: license.Activated, By: &actor,
		Data: map[string]any{"deploymentId": d.DeploymentID, "name": d.Name, "deployed": n + 1}}, "", newID()))
	if err != nil {
		return nil, err
	}
	return append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: event}}), nil
}

// Deactivate marks an active deployment inactive and frees its instance:
// the count, the deployment (kept, inactive), the blocks and the
// deactivated event change in one transaction conditioned on what was
// read. Deactivating an inactive deployment changes nothing; an unknown one
// is not found. It returns the deployed count it committed.
func (s *Store) Deactivate(ctx context.Context, licenseKey, deploymentID string, actor license.Actor, now time.Time) (int, error) {
	for attempt := 0; ; attempt++ {
		st, err := s.readLicenseState(ctx, licenseKey)
		if err != nil {
			return 0, err
		}
		n := st.rec.Deployed
		current, ok := st.active(deploymentID)
		if !ok {
			if _, kept := st.kept(deploymentID); kept {
				return n, nil
			}
			return n, notFound("deployment %s of license %s not found", deploymentID, licenseKey)
		}
		items, err := s.deactivationItems(st, current, actor, now)
		if err != nil {
			return n, err
		}
		err = s.transact(ctx, items)
		if err == nil {
			return n - 1, nil
		}
		if err := s.collided(ctx, err, attempt, "deactivate "+deploymentID+" on "+licenseKey); err != nil {
			return n, err
		}
	}
}

func (s *Store) deactivationItems(st *licenseState, d license.Deployment, actor license.Actor, now time.Time) ([]types.TransactWriteItem, error) {
	key, n := st.rec.Key, st.rec.Deployed
	d.Active = false
	dep, err := marshal(newDeploymentItem(d))
	if err != nil {
		return nil, err
	}
	put := &types.Put{TableName: &s.table, Item: dep}
	if largeLicense(&st.rec.License) {
		put.ConditionExpression = aws.String("active = :true")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":true": &types.AttributeValueMemberBOOL{Value: true}}
	}
	items := []types.TransactWriteItem{s.countUpdate(key, n, -1), {Put: put}}
	blocks, err := s.blockWrites(st, func(b *block) {
		b.setDeployed(key, n-1)
		b.Deployments[key] = slices.DeleteFunc(b.Deployments[key], func(x license.Deployment) bool { return x.DeploymentID == d.DeploymentID })
	})
	if err != nil {
		return nil, err
	}
	items = append(items, blocks...)
	event, err := marshal(newEventItem(key, license.Event{At: now, Type: license.Deactivated, By: &actor,
		Data: map[string]any{"deploymentId": d.DeploymentID, "deployed": n - 1}}, "", newID()))
	if err != nil {
		return nil, err
	}
	return append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: event}}), nil
}
