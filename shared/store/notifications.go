package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/notification"
	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/report"
)

// Key parts of the expiration notifications (see the package documentation).
const (
	skNotifySettings = "NOTIFY#SETTINGS"
	skNotifyLease    = "NOTIFY#LEASE"
	skDigest         = "DIGEST#"
	skDigestRows     = "DIGESTROWS#"
	skNotified       = "NOTIFIED#"
	gsi1Notify       = "NOTIFY"
)

// notifySettingsItem is a partner's notification settings. While they are
// enabled the item is also in GSI1 under NOTIFY, so that the daily run reads
// the enabled partners and no others.
type notifySettingsItem struct {
	PK, SK     string
	GSI1PK     string   `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK     string   `dynamodbav:"GSI1SK,omitempty"` // the partner id
	PartnerID  string   `dynamodbav:"partnerId"`
	Enabled    bool     `dynamodbav:"enabled"`
	Recipients []string `dynamodbav:"recipients,omitempty"`
	Thresholds []int    `dynamodbav:"thresholdDays"`
	UpdatedAt  string   `dynamodbav:"updatedAt"`
	UpdatedBy  string   `dynamodbav:"updatedBy"`
}

func (i notifySettingsItem) settings() notification.Settings {
	s := notification.Settings{PartnerID: i.PartnerID, Enabled: i.Enabled, Recipients: i.Recipients,
		ThresholdDays: i.Thresholds, UpdatedBy: i.UpdatedBy}
	if s.Recipients == nil {
		s.Recipients = []string{}
	}
	s.UpdatedAt, _ = time.Parse(time.RFC3339Nano, i.UpdatedAt)
	return s
}

// NotificationSettings returns a partner organization's notification
// settings; settings never set are not found.
func (s *Store) NotificationSettings(ctx context.Context, partnerID string) (notification.Settings, error) {
	it, err := getItem[notifySettingsItem](ctx, s, key(pkPartner+partnerID, skNotifySettings), false, "notification settings of "+partnerID)
	if err != nil {
		return notification.Settings{}, err
	}
	return it.settings(), nil
}

// PutNotificationSettings sets a partner organization's notification
// settings.
func (s *Store) PutNotificationSettings(ctx context.Context, set notification.Settings) error {
	it := notifySettingsItem{PK: pkPartner + set.PartnerID, SK: skNotifySettings, PartnerID: set.PartnerID, Enabled: set.Enabled,
		Recipients: nilIfEmpty(set.Recipients), Thresholds: set.ThresholdDays, UpdatedAt: formatTime(set.UpdatedAt), UpdatedBy: set.UpdatedBy}
	if set.Enabled {
		it.GSI1PK, it.GSI1SK = gsi1Notify, set.PartnerID
	}
	item, err := marshal(it)
	if err != nil {
		return err
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return unavailable(err, "put notification settings of "+set.PartnerID)
	}
	return nil
}

// EnabledNotifications returns the settings of every partner organization
// whose notifications are enabled, from GSI1. The index is eventually
// consistent: settings enabled a moment ago may be missing.
func (s *Store) EnabledNotifications(ctx context.Context) ([]notification.Settings, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :notify"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":notify": str(gsi1Notify)},
	}
	var out []notification.Settings
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[notifySettingsItem](item)
		if err == nil && it.Enabled {
			out = append(out, it.settings())
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("enabled notifications: %w", err)
	}
	return out, nil
}

// leaseItem says that a run of the notifier is making a partner's digest.
type leaseItem struct {
	PK, SK    string
	DigestID  string `dynamodbav:"digestId"`
	Until     int64  `dynamodbav:"until"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// LeaseNotifications lets the run making digest digestID alone make a digest
// of the partner organization until until. It reports false when another
// run holds the lease and it has not run out.
func (s *Store) LeaseNotifications(ctx context.Context, partnerID, digestID string, now, until time.Time) (bool, error) {
	item, err := marshal(leaseItem{PK: pkPartner + partnerID, SK: skNotifyLease, DigestID: digestID, Until: until.Unix(),
		ExpiresAt: until.Add(24 * time.Hour).Unix()})
	if err != nil {
		return false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR #until < :now"),
		ExpressionAttributeNames:  map[string]string{"#until": "until"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)}},
	})
	if failed, _ := conditionFailed(err); failed {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err, "lease the notifications of "+partnerID)
	}
	return true, nil
}

// ReleaseNotifications ends the lease of the run making digestID; a lease
// that another run holds by now is left alone.
func (s *Store) ReleaseNotifications(ctx context.Context, partnerID, digestID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(pkPartner+partnerID, skNotifyLease),
		ConditionExpression:       aws.String("digestId = :d"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(digestID)},
	})
	if failed, _ := conditionFailed(err); failed {
		return nil
	}
	if err != nil {
		return unavailable(err, "release the notifications of "+partnerID)
	}
	return nil
}

// digestItem is a digest's head; its rows are in DIGESTROWS# items beside
// it, so that the list of digests reads heads only.
type digestItem struct {
	PK, SK      string
	ID          string         `dynamodbav:"id"`
	PartnerID   string         `dynamodbav:"partnerId"`
	Status      string         `dynamodbav:"status"`
	Reason      string         `dynamodbav:"reason,omitempty"`
	Date        string         `dynamodbav:"date"`
	CreatedAt   string         `dynamodbav:"createdAt"`
	SentAt      string         `dynamodbav:"sentAt,omitempty"`
	Recipients  []string       `dynamodbav:"recipients,omitempty"`
	Licenses    int            `dynamodbav:"licenses"`
	ByThreshold map[string]int `dynamodbav:"byThreshold,omitempty"`
	MessageID   string         `dynamodbav:"messageId,omitempty"`
	ExpiresAt   int64          `dynamodbav:"expiresAt"`
}

func newDigestItem(d *notification.Digest) digestItem {
	i := digestItem{PK: pkPartner + d.PartnerID, SK: skDigest + d.ID, ID: d.ID, PartnerID: d.PartnerID, Status: string(d.Status),
		Reason: d.Reason, Date: d.Date.String(), CreatedAt: formatTime(d.CreatedAt), Recipients: nilIfEmpty(d.Recipients),
		Licenses: d.Licenses, MessageID: d.MessageID, ExpiresAt: d.ExpiresAt.Unix()}
	if !d.SentAt.IsZero() {
		i.SentAt = formatTime(d.SentAt)
	}
	if len(d.ByThreshold) > 0 {
		i.ByThreshold = make(map[string]int, len(d.ByThreshold))
		for t, n := range d.ByThreshold {
			i.ByThreshold[strconv.Itoa(t)] = n
		}
	}
	return i
}

func (i digestItem) digest() *notification.Digest {
	d := &notification.Digest{ID: i.ID, PartnerID: i.PartnerID, Status: notification.Status(i.Status), Reason: i.Reason,
		Recipients: i.Recipients, Licenses: i.Licenses, MessageID: i.MessageID, ByThreshold: make(map[int]int),
		ExpiresAt: time.Unix(i.ExpiresAt, 0).UTC()}
	if d.Recipients == nil {
		d.Recipients = []string{}
	}
	d.Date, _ = license.ParseDate(i.Date)
	d.CreatedAt, _ = time.Parse(time.RFC3339Nano, i.CreatedAt)
	if i.SentAt != "" {
		d.SentAt, _ = time.Parse(time.RFC3339Nano, i.SentAt)
	}
	for t, n := range i.ByThreshold {
		if days, err := strconv.Atoi(t); err == nil {
			d.ByThreshold[days] = n
		}
	}
	return d
}

// CreateDigest stores a new, pending digest; its id must be new. It must be
// stored before any claim names it.
func (s *Store) CreateDigest(ctx context.Context, d *notification.Digest) error {
	item, err := marshal(newDigestItem(d))
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	if err != nil {
		return unavailable(err, "create digest "+d.ID)
	}
	return nil
}

// FinishDigest records the outcome of a pending digest, sent or failed,
// with its counts. It reports false, and changes nothing, when the digest is
// no longer pending (a later run took it for abandoned).
func (s *Store) FinishDigest(ctx context.Context, d *notification.Digest) (bool, error) {
	item, err := marshal(newDigestItem(d))
	if err != nil {
		return false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("#status = :pending"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pending": str(string(notification.Pending))},
	})
	if failed, _ := conditionFailed(err); failed {
		return false, nil
	}
	if err != nil {
		return false, unavailable(err, "finish digest "+d.ID)
	}
	return true, nil
}

// DeleteDigest removes a pending digest that claimed no license.
func (s *Store) DeleteDigest(ctx context.Context, partnerID, digestID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(pkPartner+partnerID, skDigest+digestID),
		ConditionExpression:       aws.String("#status = :pending"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pending": str(string(notification.Pending))},
	})
	if failed, _ := conditionFailed(err); failed {
		return nil
	}
	if err != nil {
		return unavailable(err, "delete digest "+digestID)
	}
	return nil
}

// Digest returns one of the partner organization's digests. A digest of
// another partner, or past its retention, is not found.
func (s *Store) Digest(ctx context.Context, partnerID, digestID string, now time.Time) (*notification.Digest, error) {
	it, err := getItem[digestItem](ctx, s, key(pkPartner+partnerID, skDigest+digestID), true, "notification "+digestID)
	if err != nil {
		return nil, err
	}
	if d := it.digest(); now.Before(d.ExpiresAt) {
		return d, nil
	}
	return nil, notFound("notification %s not found", digestID)
}

// Digests returns every digest of the partner organization within its
// retention, newest first: ids are time-ordered, so the key order is the
// time order. The notifier reads them to know which claims count.
func (s *Store) Digests(ctx context.Context, partnerID string, now time.Time) ([]*notification.Digest, error) {
	digests, _, err := s.DigestPage(ctx, partnerID, page.Request{}, now, nil)
	return digests, err
}

// DigestPage returns a page of the partner organization's digests within
// their retention, newest first, that keep accepts (nil: all): at most
// req.Limit (0: no limit) after req.Cursor, and the position of the next
// page (nil on the last).
func (s *Store) DigestPage(ctx context.Context, partnerID string, req page.Request, now time.Time, keep func(*notification.Digest) bool) ([]*notification.Digest, []byte, error) {
	in := queryPrefix(s.table, pkPartner+partnerID, skDigest)
	in.ScanIndexForward = aws.Bool(false)
	if req.Limit > 0 {
		in.Limit = aws.Int32(int32(min(req.Limit+1, page.MaxLimit)))
	}
	if req.Cursor != nil {
		cursor := string(req.Cursor)
		rest, ok := strings.CutPrefix(cursor, skDigest)
		if !ok || !utf8.ValidString(cursor) || !id.Valid(rest) {
			return nil, nil, fault.Errorf(fault.Invalid, "cursor is not valid: pass the nextCursor of the previous page as it is")
		}
		in.ExclusiveStartKey = key(pkPartner+partnerID, cursor)
	}
	var (
		digests []*notification.Digest
		sks     []string
	)
	errFull := errors.New("page full")
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[digestItem](item)
		if err != nil {
			return err
		}
		d := it.digest()
		if !now.Before(d.ExpiresAt) || (keep != nil && !keep(d)) {
			return nil
		}
		digests = append(digests, d)
		sks = append(sks, it.SK)
		if req.Limit > 0 && len(digests) > req.Limit {
			return errFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFull) {
		return nil, nil, fmt.Errorf("digests of %s: %w", partnerID, err)
	}
	if req.Limit > 0 && len(digests) > req.Limit {
		return digests[:req.Limit], []byte(sks[req.Limit-1]), nil
	}
	return digests, nil, nil
}

// digestRowsItem is a part of a digest's rows: the rows are one gzip'd JSON
// array, cut into parts that fit in items.
type digestRowsItem struct {
	PK, SK    string
	Rows      []byte `dynamodbav:"rows"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// maxRowsPart is the size of a part of a digest's rows, well below
// DynamoDB's 400 KB an item.
const maxRowsPart = 350_000

// digestRow is a digest's row as stored: every field of the report's row
// but the per-user and per-request ones, with the threshold and days left.
type digestRow struct {
	Key          string           `json:"k"`
	ProductID    string           `json:"p"`
	ProductName  string           `json:"pn"`
	Category     license.Category `json:"c"`
	OrgID        string           `json:"o"`
	OrgName      string           `json:"on"`
	Reseller     *access.Ref      `json:"r,omitempty"`
	Status       license.Status   `json:"s"`
	Type         license.Type     `json:"t"`
	Start        license.Date     `json:"sd"`
	Expiration   license.Date     `json:"ed"`
	CustomerNote string           `json:"cn,omitempty"`
	Deployed     int              `json:"d,omitempty"`
	Purchased    int              `json:"pu,omitempty"`
	ScanLimit    int              `json:"sl,omitempty"`
	ScansUsed    *int             `json:"su,omitempty"`
	Threshold    int              `json:"th"`
	DaysLeft     int              `json:"dl"`
}

// SaveDigestRows stores the rows of a digest, which must be stored before
// the digest is finished.
func (s *Store) SaveDigestRows(ctx context.Context, d *notification.Digest, rows []notification.Row) error {
	stored := make([]digestRow, len(rows))
	for i, r := range rows {
		stored[i] = digestRow{Key: r.LicenseKey, ProductID: r.ProductID, ProductName: r.ProductName, Category: r.Category,
			OrgID: r.OrganizationID, OrgName: r.OrganizationName, Reseller: r.Reseller, Status: r.Status, Type: r.Type,
			Start: r.StartDate, Expiration: r.ExpirationDate, CustomerNote: r.CustomerNote, Deployed: r.Deployed,
			Purchased: r.Purchased, ScanLimit: r.ScanLimit, ScansUsed: r.ScansUsed, Threshold: r.Threshold, DaysLeft: r.DaysLeft}
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(stored); err != nil {
		return fmt.Errorf("encode the rows of digest %s: %w", d.ID, err)
	}
	if err := zw.Close(); err != nil {
		return err
	}
	var reqs []types.WriteRequest
	for n, b := 0, buf.Bytes(); len(b) > 0; n++ {
		part := b[:min(len(b), maxRowsPart)]
		b = b[len(part):]
		item, err := marshal(digestRowsItem{PK: pkPartner + d.PartnerID, SK: fmt.Sprintf("%s%s#%04d", skDigestRows, d.ID, n),
			Rows: part, ExpiresAt: d.ExpiresAt.Unix()})
		if err != nil {
			return err
		}
		reqs = append(reqs, put(item))
	}
	if err := s.batchWrite(ctx, reqs, nil); err != nil {
		return fmt.Errorf("save the rows of digest %s: %w", d.ID, err)
	}
	return nil
}

// DigestRows returns the rows of one of the partner organization's digests,
// in the order they were saved.
func (s *Store) DigestRows(ctx context.Context, partnerID, digestID string) ([]notification.Row, error) {
	var buf bytes.Buffer
	err := s.query(ctx, queryPrefix(s.table, pkPartner+partnerID, skDigestRows+digestID+"#"), func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[digestRowsItem](item)
		buf.Write(it.Rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rows of digest %s: %w", digestID, err)
	}
	if buf.Len() == 0 {
		return []notification.Row{}, nil
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		return nil, fmt.Errorf("rows of digest %s: %w", digestID, err)
	}
	var stored []digestRow
	if err := json.NewDecoder(zr).Decode(&stored); err != nil {
		return nil, fmt.Errorf("rows of digest %s: %w", digestID, err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("rows of digest %s: %w", digestID, err)
	}
	rows := make([]notification.Row, len(stored))
	for i, r := range stored {
		rows[i] = notification.Row{Row: report.Row{LicenseKey: r.Key, ProductID: r.ProductID, ProductName: r.ProductName,
			Category: r.Category, OrganizationID: r.OrgID, OrganizationName: r.OrgName, Reseller: r.Reseller, Status: r.Status,
			Type: r.Type, StartDate: r.Start, ExpirationDate: r.Expiration, CustomerNote: r.CustomerNote, Deployed: r.Deployed,
			Purchased: r.Purchased, ScanLimit: r.ScanLimit, ScansUsed: r.ScansUsed}, Threshold: r.Threshold, DaysLeft: r.DaysLeft}
	}
	return rows, nil
}

// claimItem is a notification.Claim: the license, with one expiration date,
// was claimed by a digest of the partner for a threshold.
type claimItem struct {
	PK, SK     string
	Key        string `dynamodbav:"licenseKey"`
	Expiration string `dynamodbav:"expirationDate"`
	Threshold  int    `dynamodbav:"threshold"`
	DigestID   string `dynamodbav:"digestId"`
	Previous   *int   `dynamodbav:"previous,omitempty"`
	ClaimedAt  string `dynamodbav:"claimedAt"`
	ExpiresAt  int64  `dynamodbav:"expiresAt"`
}

// claimSK keys a claim by license and expiration date: a renewal, which
// changes the date, starts with no claim.
func claimSK(licenseKey string, exp license.Date) string {
	return skNotified + licenseKey + "#" + exp.String()
}

// claimLife is how long a claim is kept after its license expires: it is of
// no use then, since an expired license is never due.
const claimLife = 2 * 24 * time.Hour

// Claims returns the partner organization's claims.
func (s *Store) Claims(ctx context.Context, partnerID string) ([]notification.Claim, error) {
	var claims []notification.Claim
	err := s.query(ctx, queryPrefix(s.table, pkPartner+partnerID, skNotified), func(item map[string]types.AttributeValue) error {
		it, err := unmarshal[claimItem](item)
		if err != nil {
			return err
		}
		c := notification.Claim{LicenseKey: it.Key, Threshold: it.Threshold, DigestID: it.DigestID, Previous: it.Previous}
		c.ExpirationDate, err = license.ParseDate(it.Expiration)
		if err != nil {
			return fmt.Errorf("claim %s: %w", it.SK, err)
		}
		c.ClaimedAt, _ = time.Parse(time.RFC3339Nano, it.ClaimedAt)
		claims = append(claims, c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claims of %s: %w", partnerID, err)
	}
	return claims, nil
}

// Claim is a claim to make, and what it replaces.
type Claim struct {
	notification.Claim
	// Replaces is the digest of the claim read before (empty: there was
	// none): the claim is made only if that is still the claim there.
	Replaces string
}

// ClaimLicenses makes the claims of a partner organization's digest, each
// with a conditional write that succeeds only if the claim there is still
// the one it replaces, so that of two runs claiming a license one does. It
// reports which claims were made.
func (s *Store) ClaimLicenses(ctx context.Context, partnerID string, claims []Claim) ([]bool, error) {
	made := make([]bool, len(claims))
	err := s.parallel(ctx, len(claims), func(ctx context.Context, i int) error {
		c := claims[i]
		item, err := marshal(claimItem{PK: pkPartner + partnerID, SK: claimSK(c.LicenseKey, c.ExpirationDate), Key: c.LicenseKey,
			Expiration: c.ExpirationDate.String(), Threshold: c.Threshold, DigestID: c.DigestID, Previous: c.Previous,
			ClaimedAt: formatTime(c.ClaimedAt), ExpiresAt: c.ExpirationDate.Time().Add(claimLife).Unix()})
		if err != nil {
			return err
		}
		in := &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")}
		if c.Replaces != "" {
			in.ConditionExpression = aws.String("digestId = :replaces")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":replaces": str(c.Replaces)}
		}
		_, err = s.db.PutItem(ctx, in)
		if failed, _ := conditionFailed(err); failed {
			return nil
		}
		if err != nil {
			return unavailable(err, "claim "+c.LicenseKey+" for digest "+c.DigestID)
		}
		made[i] = true // each call has an index of its own
		return nil
	})
	return made, err
}
