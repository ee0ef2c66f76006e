package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
)

// orgItem holds an organization with its own distributor and reseller and the
// effective ones it sells through after inheritance, so that the import can
// tell which CUSTOMER# items a change makes stale.
type orgItem struct {
	PK, SK        string
	ID            string `dynamodbav:"id"`
	Name          string `dynamodbav:"name"`
	Type          string `dynamodbav:"type"`
	ParentID      string `dynamodbav:"parentId,omitempty"`
	DistributorID string `dynamodbav:"distributorId,omitempty"`
	ResellerID    string `dynamodbav:"resellerId,omitempty"`
	Window        *int   `dynamodbav:"expiringWindowDays,omitempty"`
	SoldBy        string `dynamodbav:"soldBy,omitempty"`
	SoldThrough   string `dynamodbav:"soldThrough,omitempty"`
}

func orgKey(id string) map[string]types.AttributeValue { return key(pkOrg+id, skOrg) }

func (i orgItem) organization() access.Organization {
	return access.Organization{ID: i.ID, Name: i.Name, Type: access.OrgType(i.Type), ParentID: i.ParentID,
		DistributorID: i.DistributorID, ResellerID: i.ResellerID, ExpiringWindowDays: i.Window}
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
// the partner's lists show of it.
type customerItem struct {
	PK, SK       string
	ID           string `dynamodbav:"id"`
	Name         string `dynamodbav:"name"`
	ParentID     string `dynamodbav:"parentId,omitempty"`
	ResellerID   string `dynamodbav:"resellerId,omitempty"`
	ResellerName string `dynamodbav:"resellerName,omitempty"`
	Licenses     int    `dynamodbav:"licenses"`
}

func (i customerItem) customer() access.Customer {
	c := access.Customer{ID: i.ID, Name: i.Name, ParentID: i.ParentID, Licenses: i.Licenses}
	if i.ResellerID != "" {
		c.Reseller = &access.Ref{ID: i.ResellerID, Name: i.ResellerName}
	}
	return c
}

// Caller loads the user with the identity provider's subject id, the user's
// organization and roles, and the customers the organization sees. A subject
// with no user is unauthenticated: the token is good, but not for this portal.
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
	o, err := getItem[orgItem](ctx, s, orgKey(id), false, "organization "+id)
	return o.organization(), err
}
