package store

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
)

// The items of the table. They are separate from the domain and API types so
// that the stored form can change (shorter names, denormalized copies)
// without touching either. Lists and maps that may be empty are omitempty:
// an empty one would be stored for nothing, and minidyn reads it back wrong.

type productItem struct {
	PK, SK   string
	ID       string `dynamodbav:"id"`
	Name     string `dynamodbav:"name"`
	Category string `dynamodbav:"category"`
	Visible  bool   `dynamodbav:"visible"`
}

func newProductItem(p license.Product) productItem {
	return productItem{PK: pkCatalog, SK: skProduct + p.ID, ID: p.ID, Name: p.Name, Category: string(p.Category), Visible: p.VisibleToPartners}
}

func (i productItem) product() license.Product {
	return license.Product{ID: i.ID, Name: i.Name, Category: license.Category(i.Category), VisibleToPartners: i.Visible}
}

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

type noteItem struct {
	PK, SK    string
	Key       string `dynamodbav:"licenseKey"`
	Text      string `dynamodbav:"text"`
	Version   int    `dynamodbav:"version"`
	UpdatedAt string `dynamodbav:"updatedAt"`
	UpdatedBy string `dynamodbav:"updatedBy"`
}

func noteKey(partner, licenseKey string) map[string]types.AttributeValue {
	return key(pkPartner+partner, skNote+licenseKey)
}

func (i noteItem) note() license.Note {
	n := license.Note{Text: i.Text, Version: i.Version, UpdatedBy: i.UpdatedBy}
	n.UpdatedAt, _ = time.Parse(time.RFC3339Nano, i.UpdatedAt)
	return n
}

type eventItem struct {
	PK, SK  string
	At      string         `dynamodbav:"at"`
	Type    string         `dynamodbav:"type"`
	Actor   string         `dynamodbav:"actor"`
	Partner string         `dynamodbav:"partnerId,omitempty"` // set on note events: only that partner sees them
	Data    map[string]any `dynamodbav:"data"`
}

// eventTimeLayout has a fixed width so that events sort by time as strings.
const eventTimeLayout = "2006-01-02T15:04:05.000000000Z"

func newEventItem(licenseKey string, e license.Event, partner, id string) eventItem {
	at := e.At.UTC()
	return eventItem{PK: pkLicense + licenseKey, SK: skEvent + at.Format(eventTimeLayout) + "#" + id,
		At: formatTime(at), Type: string(e.Type), Actor: e.Actor, Partner: partner, Data: e.Data}
}

func (i eventItem) event() license.Event {
	e := license.Event{Type: license.EventType(i.Type), Actor: i.Actor, Data: i.Data}
	e.At, _ = time.Parse(time.RFC3339Nano, i.At)
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	return e
}

// nilIfEmpty returns nil for an empty slice: omitempty leaves out nil
// slices only.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func marshal(v any) (map[string]types.AttributeValue, error) {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, fmt.Errorf("marshal %T: %w", v, err)
	}
	return m, nil
}

func unmarshal[T any](m map[string]types.AttributeValue) (T, error) {
	var v T
	if err := attributevalue.UnmarshalMap(m, &v); err != nil {
		return v, fmt.Errorf("unmarshal %T: %w", v, err)
	}
	return v, nil
}
