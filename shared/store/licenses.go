package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
)

// Record is a license as the table keeps it (PK LICENSE#key): its terms and
// deployed count, and the organizations it is assigned to as their
// partners see them, so that a look-up checks the license's own
// organizations and nothing of the caller's.
type Record struct {
	license.License
	Orgs []PlacedOrg
	// Removed says that the source removed the license: it is shown to no
	// one, and its history is kept.
	Removed bool
}

// PlacedOrg is an organization of a license: who sells it, and whether each
// of them is shown the license under it (sub-organization priority).
type PlacedOrg struct {
	ID, Name             string
	Distributor          string
	Reseller, ResellerNm string
	HideFromDistributor  bool
	HideFromReseller     bool
	// Blocks is the organization's block count: the license is in block
	// blockOf(key, Blocks) of it.
	Blocks int
}

// ShownTo returns the organizations under which partner is shown the
// license, in the license's order; none for a removed license.
func (r *Record) ShownTo(partner string) []PlacedOrg {
	if r.Removed || partner == "" {
		return nil
	}
	var shown []PlacedOrg
	for _, o := range r.Orgs {
		if (o.Distributor == partner && !o.HideFromDistributor) || (o.Reseller == partner && !o.HideFromReseller) {
			shown = append(shown, o)
		}
	}
	return shown
}

// Ref is the organization as a partner's lists show it: the reseller only
// for its distributor.
func (o PlacedOrg) Ref(partner string) (org access.Ref, reseller *access.Ref) {
	if o.Reseller != "" && partner == o.Distributor {
		reseller = &access.Ref{ID: o.Reseller, Name: o.ResellerNm}
	}
	return access.Ref{ID: o.ID, Name: o.Name}, reseller
}

func (o PlacedOrg) block(licenseKey string) blockKey {
	return blockKey{Home: o.Distributor, Reseller: o.Reseller, Org: o.ID, N: blockOf(licenseKey, o.Blocks)}
}

// licenseItem is a license's Record.
type licenseItem struct {
	PK, SK       string
	Key          string       `dynamodbav:"key"`
	ProductID    string       `dynamodbav:"productId"`
	Type         string       `dynamodbav:"type"`
	Start        string       `dynamodbav:"startDate"`
	Expiration   string       `dynamodbav:"expirationDate"`
	Purchased    *int         `dynamodbav:"purchasedInstances,omitempty"`
	ScanLimit    *int         `dynamodbav:"scanLimit,omitempty"`
	ScansUsed    *int         `dynamodbav:"scansUsed,omitempty"`
	CustomerNote string       `dynamodbav:"customerNote,omitempty"`
	Deployed     int          `dynamodbav:"deployed"`
	Orgs         []placedItem `dynamodbav:"orgs"`
	Removed      bool         `dynamodbav:"removed,omitempty"`
}

// placedItem is a PlacedOrg, with short names: every license carries one
// per organization.
type placedItem struct {
	ID       string `dynamodbav:"i"`
	Name     string `dynamodbav:"n"`
	Dist     string `dynamodbav:"d,omitempty"`
	Res      string `dynamodbav:"r,omitempty"`
	ResName  string `dynamodbav:"rn,omitempty"`
	HideDist bool   `dynamodbav:"hd,omitempty"`
	HideRes  bool   `dynamodbav:"hr,omitempty"`
	Blocks   int    `dynamodbav:"b"`
}

func licenseKey(k string) map[string]types.AttributeValue { return key(pkLicense+k, skLicense) }

func newLicenseItem(r *Record) licenseItem {
	l := r.License
	it := licenseItem{PK: pkLicense + l.Key, SK: skLicense, Key: l.Key, ProductID: l.ProductID, Type: string(l.Type),
		Start: l.StartDate.String(), Expiration: l.ExpirationDate.String(), Purchased: l.PurchasedInstances,
		ScanLimit: l.ScanLimit, ScansUsed: l.ScansUsed, CustomerNote: l.CustomerNote, Deployed: l.Deployed, Removed: r.Removed}
	for _, o := range r.Orgs {
		it.Orgs = append(it.Orgs, placedItem{ID: o.ID, Name: o.Name, Dist: o.Distributor, Res: o.Reseller, ResName: o.ResellerNm,
			HideDist: o.HideFromDistributor, HideRes: o.HideFromReseller, Blocks: o.Blocks})
	}
	return it
}

func (i licenseItem) record() (*Record, error) {
	start, err1 := license.ParseDate(i.Start)
	exp, err2 := license.ParseDate(i.Expiration)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("license %s has bad dates %q, %q", i.Key, i.Start, i.Expiration)
	}
	r := &Record{License: license.License{Key: i.Key, ProductID: i.ProductID, Type: license.Type(i.Type),
		StartDate: start, ExpirationDate: exp, PurchasedInstances: i.Purchased, ScanLimit: i.ScanLimit,
		ScansUsed: i.ScansUsed, CustomerNote: i.CustomerNote, Deployed: i.Deployed}, Removed: i.Removed}
	for _, o := range i.Orgs {
		r.OrganizationIDs = append(r.OrganizationIDs, o.ID)
		r.Orgs = append(r.Orgs, PlacedOrg{ID: o.ID, Name: o.Name, Distributor: o.Dist, Reseller: o.Res, ResellerNm: o.ResName,
			HideFromDistributor: o.HideDist, HideFromReseller: o.HideRes, Blocks: o.Blocks})
	}
	return r, nil
}

// deploymentItem is a deployment of a license (PK LICENSE#key) that is not
// in its blocks: one that is no longer active (kept for the history), or an
// active one of a large license. GSI1 finds a deployment by its id alone,
// for a delta that removes it by id.
type deploymentItem struct {
	PK, SK      string
	GSI1PK      string `dynamodbav:"GSI1PK"`
	GSI1SK      string `dynamodbav:"GSI1SK"`
	Key         string `dynamodbav:"licenseKey"`
	ID          string `dynamodbav:"deploymentId"`
	Name        string `dynamodbav:"name,omitempty"`
	ActivatedAt string `dynamodbav:"activatedAt"`
	LastSeenAt  string `dynamodbav:"lastSeenAt,omitempty"`
	Active      bool   `dynamodbav:"active"`
	Imported    bool   `dynamodbav:"imported,omitempty"`
}

const gsi1Deployment = "DEPLOYMENT#"

func deploymentKey(licenseKey, id string) map[string]types.AttributeValue {
	return key(pkLicense+licenseKey, skDeployment+id)
}

func newDeploymentItem(d license.Deployment) deploymentItem {
	i := deploymentItem{PK: pkLicense + d.LicenseKey, SK: skDeployment + d.DeploymentID, GSI1PK: gsi1Deployment + d.DeploymentID,
		GSI1SK: d.LicenseKey, Key: d.LicenseKey, ID: d.DeploymentID, Name: d.Name, ActivatedAt: formatTime(d.ActivatedAt),
		Active: d.Active, Imported: d.Imported}
	if d.LastSeenAt != nil {
		i.LastSeenAt = formatTime(*d.LastSeenAt)
	}
	return i
}

func (i deploymentItem) deployment() license.Deployment {
	d := license.Deployment{DeploymentID: i.ID, LicenseKey: i.Key, Name: i.Name, Active: i.Active, Imported: i.Imported}
	d.ActivatedAt, _ = time.Parse(time.RFC3339Nano, i.ActivatedAt)
	if t, err := time.Parse(time.RFC3339Nano, i.LastSeenAt); err == nil {
		d.LastSeenAt = &t
	}
	return d
}

// License returns a license that the source has not removed, with all its
// deployments, active or not.
func (s *Store) License(ctx context.Context, licenseKey string) (*Record, []license.Deployment, error) {
	rec, deployments, err := s.readLicense(ctx, licenseKey, false)
	if err != nil {
		return nil, nil, err
	}
	if rec.Removed {
		return nil, nil, notFound("license %s not found", licenseKey)
	}
	if len(rec.Orgs) > 0 && !largeLicense(&rec.License) {
		b, err := s.readBlock(ctx, rec.Orgs[0].block(licenseKey), true, false)
		if err != nil && !isNotFound(err) {
			return nil, nil, err
		}
		if b != nil {
			deployments = append(deployments, b.Deployments[licenseKey]...)
		}
	}
	return rec, deployments, nil
}

// readLicense reads a license's record and the deployments kept beside it
// (inactive ones, and the active ones of a large license) with one Query;
// consistent is for a write about to change them.
func (s *Store) readLicense(ctx context.Context, licenseKey string, consistent bool) (*Record, []license.Deployment, error) {
	var (
		rec         *Record
		deployments []license.Deployment
	)
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND SK < :events"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pkLicense + licenseKey), ":events": str(skEvent),
		},
		ConsistentRead: aws.Bool(consistent),
	}
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		switch sk := attrString(item, attrSK); {
		case sk == skLicense:
			it, err := unmarshal[licenseItem](item)
			if err != nil {
				return err
			}
			rec, err = it.record()
			return err
		case strings.HasPrefix(sk, skDeployment):
			d, err := unmarshal[deploymentItem](item)
			deployments = append(deployments, d.deployment())
			return err
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read license %s: %w", licenseKey, err)
	}
	if rec == nil {
		return nil, nil, notFound("license %s not found", licenseKey)
	}
	return rec, deployments, nil
}

// LicensesByKey returns the records of the licenses with the given keys
// that exist and were not removed, in no particular order, with
// BatchGetItem (100 keys a request).
func (s *Store) LicensesByKey(ctx context.Context, keys []string) ([]*Record, error) {
	var out []*Record
	ks := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		ks = append(ks, licenseKey(k))
	}
	err := s.batchGet(ctx, ks, false, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[licenseItem](item)
		if err != nil {
			return err
		}
		r, err := it.record()
		if err == nil && !r.Removed {
			out = append(out, r)
		}
		return err
	})
	slices.SortFunc(out, func(a, b *Record) int { return strings.Compare(a.Key, b.Key) })
	return out, err
}
