package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
)

func licensePartitionQuery(table, licenseKey string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("PK = :pk AND SK < :events"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pkLicense + licenseKey), ":events": str(skEvent),
		},
	}
}

// licenseItem is the license (PK LICENSE#key) and each of its copies in a
// partner's partition; all hold the same attributes.
type licenseItem struct {
	PK, SK       string
	Key          string   `dynamodbav:"key"`
	ProductID    string   `dynamodbav:"productId"`
	OrgIDs       []string `dynamodbav:"organizationIds"`
	Type         string   `dynamodbav:"type"`
	Start        string   `dynamodbav:"startDate"`
	Expiration   string   `dynamodbav:"expirationDate"`
	Purchased    *int     `dynamodbav:"purchasedInstances,omitempty"`
	ScanLimit    *int     `dynamodbav:"scanLimit,omitempty"`
	ScansUsed    *int     `dynamodbav:"scansUsed,omitempty"`
	CustomerNote string   `dynamodbav:"customerNote,omitempty"`
	Deployed     int      `dynamodbav:"deployed"`
	// Copies names the copies of the license, as <partner>#<org>, on the
	// license itself only: an activation updates them all.
	Copies []string `dynamodbav:"copies,omitempty"`
}

func licenseKey(k string) map[string]types.AttributeValue { return key(pkLicense+k, skLicense) }

func newLicenseItem(pk, sk string, l license.License) licenseItem {
	return licenseItem{PK: pk, SK: sk, Key: l.Key, ProductID: l.ProductID, OrgIDs: l.OrganizationIDs, Type: string(l.Type),
		Start: l.StartDate.String(), Expiration: l.ExpirationDate.String(), Purchased: l.PurchasedInstances,
		ScanLimit: l.ScanLimit, ScansUsed: l.ScansUsed, CustomerNote: l.CustomerNote, Deployed: l.Deployed}
}

func (i licenseItem) license() (license.License, error) {
	start, err1 := license.ParseDate(i.Start)
	exp, err2 := license.ParseDate(i.Expiration)
	if err1 != nil || err2 != nil {
		return license.License{}, fmt.Errorf("license %s has bad dates %q, %q", i.Key, i.Start, i.Expiration)
	}
	return license.License{Key: i.Key, ProductID: i.ProductID, OrganizationIDs: i.OrgIDs, Type: license.Type(i.Type),
		StartDate: start, ExpirationDate: exp, PurchasedInstances: i.Purchased, ScanLimit: i.ScanLimit,
		ScansUsed: i.ScansUsed, CustomerNote: i.CustomerNote, Deployed: i.Deployed}, nil
}

// deploymentItem is a deployment (PK LICENSE#key) and, while it is active,
// its copies beside the license's copies.
type deploymentItem struct {
	PK, SK      string
	Key         string `dynamodbav:"licenseKey"`
	ID          string `dynamodbav:"deploymentId"`
	Name        string `dynamodbav:"name,omitempty"`
	ActivatedAt string `dynamodbav:"activatedAt"`
	LastSeenAt  string `dynamodbav:"lastSeenAt,omitempty"`
	Active      bool   `dynamodbav:"active"`
}

func deploymentKey(licenseKey, id string) map[string]types.AttributeValue {
	return key(pkLicense+licenseKey, skDeployment+id)
}

// licenseCopySK and deploymentCopySK are the sort keys of the copies a
// partner holds of a license and of its active deployments, under one of the
// license's organizations.
func licenseCopySK(org, licenseKey string) string { return skLicenseCopy + org + "#" + licenseKey }

func deploymentCopySK(org, licenseKey, id string) string {
	return skDeployment + org + "#" + licenseKey + "#" + id
}

func newDeploymentItem(pk, sk string, d license.Deployment) deploymentItem {
	i := deploymentItem{PK: pk, SK: sk, Key: d.LicenseKey, ID: d.DeploymentID, Name: d.Name,
		ActivatedAt: formatTime(d.ActivatedAt), Active: d.Active}
	if d.LastSeenAt != nil {
		i.LastSeenAt = formatTime(*d.LastSeenAt)
	}
	return i
}

func (i deploymentItem) deployment() license.Deployment {
	d := license.Deployment{DeploymentID: i.ID, LicenseKey: i.Key, Name: i.Name, Active: i.Active}
	d.ActivatedAt, _ = time.Parse(time.RFC3339Nano, i.ActivatedAt)
	if t, err := time.Parse(time.RFC3339Nano, i.LastSeenAt); err == nil {
		d.LastSeenAt = &t
	}
	return d
}

// Licenses returns the licenses assigned to the selected customer
// organizations of the scope's partner (nil selects all), each once, in no
// particular order. Hidden products and sub-organization priority are the
// caller's to apply.
//
// The partner's copies are sorted by organization, so the selection is read
// with one range Query per run of consecutive selected organizations, split
// into up to s.Parallelism concurrent ranges when it is large: a report over
// every customer of a partner is one Query (and its pages), never one per
// organization or per license.
func (s *Store) Licenses(ctx context.Context, sc *access.Scope, selected map[string]bool) ([]license.License, error) {
	var (
		mu       sync.Mutex
		seen     = make(map[string]bool)
		licenses []license.License
	)
	err := s.eachRange(ctx, sc, selected, skLicenseCopy, func(item map[string]types.AttributeValue) error {
		l, err := decodeLicense(item)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if !seen[l.Key] {
			seen[l.Key] = true
			licenses = append(licenses, l)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("licenses of %s: %w", sc.Partner.ID, err)
	}
	return licenses, nil
}

// ActiveDeployments returns the active deployments of the licenses assigned
// to the selected customer organizations (nil selects all), each once, read
// as Licenses reads licenses.
func (s *Store) ActiveDeployments(ctx context.Context, sc *access.Scope, selected map[string]bool) ([]license.Deployment, error) {
	var (
		mu   sync.Mutex
		seen = make(map[[2]string]bool)
		deps []license.Deployment
	)
	err := s.eachRange(ctx, sc, selected, skDeployment, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[deploymentItem](item)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if k := [2]string{it.Key, it.ID}; !seen[k] {
			seen[k] = true
			deps = append(deps, it.deployment())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deployments of %s: %w", sc.Partner.ID, err)
	}
	return deps, nil
}

// minOrgsPerRange keeps small selections in one Query: splitting pays only
// when each part still reads many organizations.
const minOrgsPerRange = 100

// orgRanges returns the first and last organization of each run of
// consecutive selected organizations, in the order of the partner's copy
// keys, splitting long runs so that up to parallelism ranges can be read at
// once.
func orgRanges(sc *access.Scope, selected map[string]bool, parallelism int) [][2]string {
	ids := make([]string, 0, len(sc.Customers()))
	for _, c := range sc.Customers() {
		ids = append(ids, c.ID)
	}
	// Copies are keyed <prefix><org>#<license>: sort by org+"#" so that the
	// order is DynamoDB's.
	slices.SortFunc(ids, func(a, b string) int { return strings.Compare(a+"#", b+"#") })
	var runs [][]string
	for i := 0; i < len(ids); {
		if selected != nil && !selected[ids[i]] {
			i++
			continue
		}
		j := i
		for j < len(ids) && (selected == nil || selected[ids[j]]) {
			j++
		}
		runs = append(runs, ids[i:j])
		i = j
	}
	total := 0
	for _, r := range runs {
		total += len(r)
	}
	size := max(minOrgsPerRange, (total+parallelism-1)/max(1, parallelism))
	var ranges [][2]string
	for _, r := range runs {
		for start := 0; start < len(r); start += size {
			end := min(start+size, len(r)) - 1
			ranges = append(ranges, [2]string{r[start], r[end]})
		}
	}
	return ranges
}

// eachRange runs the range Queries of a selection over the copies with the
// given prefix in the partner's partition, s.Parallelism at a time, and hands
// every item to fn, which may be called concurrently.
func (s *Store) eachRange(ctx context.Context, sc *access.Scope, selected map[string]bool, prefix string, fn func(map[string]types.AttributeValue) error) error {
	ranges := orgRanges(sc, selected, s.Parallelism)
	return s.parallel(ctx, len(ranges), func(ctx context.Context, i int) error {
		in := &dynamodb.QueryInput{
			TableName:              &s.table,
			KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk":   str(pkPartner + sc.Partner.ID),
				":from": str(prefix + ranges[i][0] + "#"),
				":to":   str(prefix + ranges[i][1] + "#\U0010FFFF"),
			},
		}
		return s.query(ctx, in, fn)
	})
}

// License returns a license and all its deployments, active or not.
func (s *Store) License(ctx context.Context, licenseKey string) (license.License, []license.Deployment, error) {
	lic, deployments, _, err := s.readLicense(ctx, licenseKey, false)
	return lic, deployments, err
}

// readLicense reads a license, its deployments and the list of its copies
// with one Query; consistent is for a transaction about to change them.
func (s *Store) readLicense(ctx context.Context, licenseKey string, consistent bool) (license.License, []license.Deployment, []string, error) {
	var (
		lic         license.License
		copies      []string
		found       bool
		deployments []license.Deployment
	)
	in := licensePartitionQuery(s.table, licenseKey)
	in.ConsistentRead = aws.Bool(consistent)
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		switch sk := attrString(item, attrSK); {
		case sk == skLicense:
			it, err := unmarshal[licenseItem](item)
			if err != nil {
				return err
			}
			lic, err = it.license()
			copies, found = it.Copies, true
			return err
		case strings.HasPrefix(sk, skDeployment):
			d, err := unmarshal[deploymentItem](item)
			deployments = append(deployments, d.deployment())
			return err
		}
		return nil
	})
	if err != nil {
		return lic, nil, nil, fmt.Errorf("read license %s: %w", licenseKey, err)
	}
	if !found {
		return lic, nil, nil, notFound("license %s not found", licenseKey)
	}
	return lic, deployments, copies, nil
}

// LicensesByKey returns the licenses with the given keys that exist, in no
// particular order, with BatchGetItem (100 keys a request).
func (s *Store) LicensesByKey(ctx context.Context, keys []string) ([]license.License, error) {
	var out []license.License
	ks := make([]map[string]types.AttributeValue, 0, len(keys))
	for _, k := range keys {
		ks = append(ks, licenseKey(k))
	}
	err := s.batchGet(ctx, ks, func(item map[string]types.AttributeValue) error {
		l, err := decodeLicense(item)
		out = append(out, l)
		return err
	})
	return out, err
}

func decodeLicense(item map[string]types.AttributeValue) (license.License, error) {
	i, err := unmarshal[licenseItem](item)
	if err != nil {
		return license.License{}, err
	}
	return i.license()
}
