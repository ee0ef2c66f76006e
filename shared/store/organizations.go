package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
)

// orgItem is an organization. GSI1 lists every organization (ORGS), for a
// full import to find those the document no longer names.
//
// A customer also keeps where its licenses are (the effective distributor
// and reseller after inheritance, and its block count), and the digest of
// what the last import made of it, so that an unchanged organization costs
// the next import nothing. A partner keeps how many customers it sees and
// how many licenses they have, so that the caller costs one item, and a
// reseller the distributors it sells through, whose partitions hold its
// customers' blocks.
type orgItem struct {
	PK, SK        string
	GSI1PK        string         `dynamodbav:"GSI1PK"`
	GSI1SK        string         `dynamodbav:"GSI1SK"`
	ID            string         `dynamodbav:"id"`
	Name          string         `dynamodbav:"name"`
	Type          string         `dynamodbav:"type"`
	ParentID      string         `dynamodbav:"parentId,omitempty"`
	DistributorID string         `dynamodbav:"distributorId,omitempty"`
	ResellerID    string         `dynamodbav:"resellerId,omitempty"`
	Window        *int           `dynamodbav:"expiringWindowDays,omitempty"`
	SoldBy        string         `dynamodbav:"soldBy,omitempty"`
	SoldThrough   string         `dynamodbav:"soldThrough,omitempty"`
	Blocks        int            `dynamodbav:"blocks,omitempty"`
	Digest        string         `dynamodbav:"digest,omitempty"`
	Customers     int            `dynamodbav:"customers,omitempty"`
	Licenses      int            `dynamodbav:"licenses,omitempty"`
	Via           map[string]int `dynamodbav:"via,omitempty"` // distributor → customers through it
}

const gsi1Orgs = "ORGS"

func orgKey(id string) map[string]types.AttributeValue { return key(pkOrg+id, skOrg) }

func newOrgItem(o access.Organization) orgItem {
	return orgItem{PK: pkOrg + o.ID, SK: skOrg, GSI1PK: gsi1Orgs, GSI1SK: o.ID, ID: o.ID, Name: o.Name, Type: string(o.Type),
		ParentID: o.ParentID, DistributorID: o.DistributorID, ResellerID: o.ResellerID, Window: o.ExpiringWindowDays}
}

func (i orgItem) organization() access.Organization {
	o := access.Organization{ID: i.ID, Name: i.Name, Type: access.OrgType(i.Type), ParentID: i.ParentID,
		DistributorID: i.DistributorID, ResellerID: i.ResellerID, ExpiringWindowDays: i.Window,
		Customers: i.Customers, Licenses: i.Licenses}
	for d := range i.Via {
		o.Via = append(o.Via, d)
	}
	slices.Sort(o.Via)
	return o
}

type roleItem struct {
	PK, SK      string
	ID          string            `dynamodbav:"id"`
	OrgID       string            `dynamodbav:"organizationId"`
	Name        string            `dynamodbav:"name"`
	Permissions map[string]string `dynamodbav:"permissions,omitempty"`
}

func newRoleItem(r access.Role) roleItem {
	perms := make(map[string]string, len(r.Permissions))
	for object, level := range r.Permissions {
		perms[object] = level.String()
	}
	if len(perms) == 0 {
		perms = nil // omitempty leaves out nil maps only
	}
	return roleItem{PK: pkRole + r.ID, SK: skRole, ID: r.ID, OrgID: r.OrganizationID, Name: r.Name, Permissions: perms}
}

func (i roleItem) role() access.Role {
	perms := make(map[string]access.Level, len(i.Permissions))
	for object, name := range i.Permissions {
		perms[object], _ = access.ParseLevel(name) // written by newRoleItem; an unknown name grants nothing
	}
	return access.Role{ID: i.ID, OrganizationID: i.OrgID, Name: i.Name, Permissions: perms}
}

type userItem struct {
	PK, SK  string
	ID      string   `dynamodbav:"id"`
	Email   string   `dynamodbav:"email"`
	Name    string   `dynamodbav:"name"`
	OrgID   string   `dynamodbav:"organizationId"`
	RoleIDs []string `dynamodbav:"roleIds,omitempty"`
}

func newUserItem(u access.User) userItem {
	return userItem{PK: pkUser + u.ID, SK: skUser, ID: u.ID, Email: u.Email, Name: u.Name, OrgID: u.OrganizationID,
		RoleIDs: nilIfEmpty(u.RoleIDs)}
}

func (i userItem) user() access.User {
	return access.User{ID: i.ID, Email: i.Email, Name: i.Name, OrganizationID: i.OrgID, RoleIDs: i.RoleIDs}
}

// customerItem says that a partner sees a customer organization, with what
// the partner's customer list shows of it and where its blocks are.
type customerItem struct {
	PK, SK       string
	ID           string `dynamodbav:"id"`
	Name         string `dynamodbav:"name"`
	ParentID     string `dynamodbav:"parentId,omitempty"` // only a parent the partner sees
	ResellerID   string `dynamodbav:"resellerId,omitempty"`
	ResellerName string `dynamodbav:"resellerName,omitempty"`
	LicenseCount int    `dynamodbav:"licenseCount"`
	Licenses     int    `dynamodbav:"licenses"`
	Home         string `dynamodbav:"home"`
	Blocks       int    `dynamodbav:"blocks"`
}

func customerKey(partner, org string) map[string]types.AttributeValue {
	return key(pkPartner+partner, skCustomer+org)
}

func (i customerItem) customer(partner string) access.Customer {
	c := access.Customer{ID: i.ID, Name: i.Name, ParentID: i.ParentID, LicenseCount: i.LicenseCount, Licenses: i.Licenses}
	if i.ResellerID != "" && partner == i.Home {
		c.Reseller = &access.Ref{ID: i.ResellerID, Name: i.ResellerName}
	}
	return c
}

func (i customerItem) blocks() []blockKey {
	keys := make([]blockKey, i.Blocks)
	for n := range keys {
		keys[n] = blockKey{Home: i.Home, Reseller: i.ResellerID, Org: i.ID, N: n}
	}
	return keys
}

// Caller loads the user with the identity provider's subject id, the user's
// organization and its roles: two requests, whatever the number of the
// partner's customers. A subject with no user is unauthenticated: the token
// is good, but not for this portal.
func (s *Store) Caller(ctx context.Context, userID string) (*access.Scope, error) {
	if userID == "" {
		return nil, fault.Errorf(fault.Unauthenticated, "no identity")
	}
	u, err := getItem[userItem](ctx, s, key(pkUser+userID, skUser), false, "user "+userID)
	if fault.Is(err, fault.NotFound) {
		return nil, fault.Errorf(fault.Unauthenticated, "no portal user for this identity")
	}
	if err != nil {
		return nil, err
	}
	user := u.user()
	var (
		org   access.Organization
		roles []access.Role
	)
	keys := []map[string]types.AttributeValue{orgKey(user.OrganizationID)}
	for _, id := range user.RoleIDs {
		keys = append(keys, key(pkRole+id, skRole))
	}
	err = s.batchGet(ctx, keys, false, func(item map[string]types.AttributeValue) error {
		if attrString(item, attrSK) == skOrg {
			o, err := unmarshal[orgItem](item)
			org = o.organization()
			return err
		}
		r, err := unmarshal[roleItem](item)
		// A role of another organization grants nothing here.
		if r.OrgID == user.OrganizationID {
			roles = append(roles, r.role())
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("load caller %s: %w", userID, err)
	}
	if org.ID == "" {
		return nil, fmt.Errorf("user %s belongs to missing organization %s", userID, user.OrganizationID)
	}
	return &access.Scope{User: user, Partner: org, Level: access.LevelOf(roles, access.CustomerOrganizations)}, nil
}

// Customers returns the customer organizations the partner organization
// sees, ordered by name.
func (s *Store) Customers(ctx context.Context, partnerID string) ([]access.Customer, error) {
	var customers []access.Customer
	err := s.query(ctx, queryPrefix(s.table, pkPartner+partnerID, skCustomer), func(item map[string]types.AttributeValue) error {
		c, err := unmarshal[customerItem](item)
		customers = append(customers, c.customer(partnerID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("customers of %s: %w", partnerID, err)
	}
	sortCustomers(customers)
	return customers, nil
}

func sortCustomers(cs []access.Customer) {
	slices.SortFunc(cs, func(a, b access.Customer) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// CustomersByID returns the partner's customer organizations with the given
// ids, in the order given, with BatchGetItem. One the partner does not see
// is not found, as if it did not exist.
func (s *Store) CustomersByID(ctx context.Context, partnerID string, ids []string) ([]access.Customer, error) {
	items, err := s.customerItems(ctx, partnerID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]access.Customer, len(items))
	for i, it := range items {
		out[i] = it.customer(partnerID)
	}
	return out, nil
}

// KnownCustomers returns those of the named organizations the partner
// sees, in the order given.
func (s *Store) KnownCustomers(ctx context.Context, partnerID string, ids []string) ([]access.Customer, error) {
	found, err := s.customersFound(ctx, partnerID, ids)
	if err != nil {
		return nil, err
	}
	var out []access.Customer
	for _, id := range ids {
		if c, ok := found[id]; ok {
			out = append(out, c.customer(partnerID))
		}
	}
	return out, nil
}

func (s *Store) customerItems(ctx context.Context, partnerID string, ids []string) ([]customerItem, error) {
	found, err := s.customersFound(ctx, partnerID, ids)
	if err != nil {
		return nil, err
	}
	out := make([]customerItem, 0, len(ids))
	for _, id := range ids {
		c, ok := found[id]
		if !ok {
			return nil, fault.Errorf(fault.NotFound, "organization %s not found", id)
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Store) customersFound(ctx context.Context, partnerID string, ids []string) (map[string]customerItem, error) {
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, customerKey(partnerID, id))
	}
	found := make(map[string]customerItem, len(ids))
	err := s.batchGet(ctx, keys, false, func(item map[string]types.AttributeValue) error {
		c, err := unmarshal[customerItem](item)
		found[c.ID] = c
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("customers of %s: %w", partnerID, err)
	}
	return found, nil
}

// Organization returns an organization.
func (s *Store) Organization(ctx context.Context, id string) (access.Organization, error) {
	o, err := getItem[orgItem](ctx, s, orgKey(id), false, "organization "+id)
	return o.organization(), err
}

// organizations returns every organization the table holds, from GSI1.
func (s *Store) organizations(ctx context.Context) (map[string]orgItem, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :orgs"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":orgs": str(gsi1Orgs)},
	}
	orgs := make(map[string]orgItem)
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		o, err := unmarshal[orgItem](item)
		orgs[o.ID] = o
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("organizations: %w", err)
	}
	return orgs, nil
}
