package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
)

// Caller loads the user with the identity provider's subject id, the user's
// organization and roles, and the customers the organization sees. A subject
// with no user is unauthenticated: the token is good, but not for this portal.
func (s *Store) Caller(ctx context.Context, userID string) (*access.Scope, error) {
	if userID == "" {
		return nil, fault.Errorf(fault.Unauthenticated, "no identity")
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pkUser+userID, skUser)})
	if err != nil {
		return nil, unavailable(err, "get user "+userID)
	}
	if out.Item == nil {
		return nil, fault.Errorf(fault.Unauthenticated, "no portal user for this identity")
	}
	u, err := unmarshal[userItem](out.Item)
	if err != nil {
		return nil, err
	}
	user := u.user()

	// The organization and roles, and the customers, depend only on the
	// user, so they are read at the same time.
	var (
		org       access.Organization
		roles     []access.Role
		customers []access.Customer
		orgErr    error
		custErr   error
		wg        sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		customers, custErr = s.Customers(ctx, user.OrganizationID)
	}()
	keys := []map[string]types.AttributeValue{orgKey(user.OrganizationID)}
	for _, id := range user.RoleIDs {
		keys = append(keys, key(pkRole+id, skRole))
	}
	orgErr = s.batchGet(ctx, keys, func(item map[string]types.AttributeValue) error {
		switch item[attrSK].(*types.AttributeValueMemberS).Value {
		case skOrg:
			o, err := unmarshal[orgItem](item)
			org = o.organization()
			return err
		default:
			r, err := unmarshal[roleItem](item)
			// A role of another organization grants nothing here.
			if r.OrgID == user.OrganizationID {
				roles = append(roles, r.role())
			}
			return err
		}
	})
	wg.Wait()
	if err := errors.Join(orgErr, custErr); err != nil {
		return nil, fmt.Errorf("load caller %s: %w", userID, err)
	}
	if org.ID == "" {
		return nil, fmt.Errorf("user %s belongs to missing organization %s", userID, user.OrganizationID)
	}
	return access.NewScope(user, org, access.LevelOf(roles, access.CustomerOrganizations), customers), nil
}

// Customers returns the customer organizations the partner organization sees.
func (s *Store) Customers(ctx context.Context, partnerID string) ([]access.Customer, error) {
	var customers []access.Customer
	err := s.query(ctx, queryPrefix(s.table, pkPartner+partnerID, skCustomer), func(item map[string]types.AttributeValue) error {
		c, err := unmarshal[customerItem](item)
		customers = append(customers, c.customer())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("customers of %s: %w", partnerID, err)
	}
	return customers, nil
}

// Organization returns an organization.
func (s *Store) Organization(ctx context.Context, id string) (access.Organization, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: orgKey(id)})
	if err != nil {
		return access.Organization{}, unavailable(err, "get organization "+id)
	}
	if out.Item == nil {
		return access.Organization{}, notFound("organization %s not found", id)
	}
	o, err := unmarshal[orgItem](out.Item)
	return o.organization(), err
}

// Catalog returns every product by id, hidden ones included: callers decide
// what to show.
func (s *Store) Catalog(ctx context.Context) (map[string]license.Product, error) {
	products := make(map[string]license.Product)
	err := s.query(ctx, queryPrefix(s.table, pkCatalog, skProduct), func(item map[string]types.AttributeValue) error {
		p, err := unmarshal[productItem](item)
		products[p.ID] = p.product()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	return products, nil
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

func queryPrefix(table, pk, skPrefix string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":sk": str(skPrefix),
		},
	}
}

// query runs a Query to its last page and hands every item to fn.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return unavailable(err, "query")
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// batchGet reads the items with the given keys, 100 a request, retrying keys
// DynamoDB leaves unprocessed, and hands each item found to fn. fn is never
// called concurrently.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, fn func(map[string]types.AttributeValue) error) error {
	// DynamoDB refuses a batch that names a key twice.
	seen := make(map[string]bool, len(keys))
	unique := keys[:0:0]
	for _, k := range keys {
		if id := itemID(attrString(k, attrPK), attrString(k, attrSK)); !seen[id] {
			seen[id] = true
			unique = append(unique, k)
		}
	}
	keys = unique
	for start := 0; start < len(keys); start += 100 {
		pending := keys[start:min(start+100, len(keys))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: pending}},
			})
			if err != nil {
				return unavailable(err, "batch get")
			}
			for _, item := range out.Responses[s.table] {
				if err := fn(item); err != nil {
					return err
				}
			}
			pending = out.UnprocessedKeys[s.table].Keys
		}
	}
	return nil
}

// parallel runs fn(0) to fn(n-1), s.Parallelism at a time, and returns the
// first error, cancelling the calls still running.
func (s *Store) parallel(ctx context.Context, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(1, s.Parallelism))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}
