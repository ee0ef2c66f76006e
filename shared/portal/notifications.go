package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/id"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/mail"
	"github.com/partnerportal/licenses/shared/notification"
	"github.com/partnerportal/licenses/shared/page"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
)

// MailConfig makes the operations that send e-mail available: the daily
// expiration notifier, and the notices of ready scheduled reports.
type MailConfig struct {
	// Sender sends the messages (Amazon SES; the local server's outbox).
	Sender mail.Sender
	// Renderer writes them (render.Templates).
	Renderer mail.Renderer
	// From is the sender's address, one the mail service lets us send from.
	From string
	// PortalURL is the portal page the messages link to, such as
	// https://portal.example.com; links add ?notification=<id> or
	// ?export=<id>, never a presigned URL, which would not outlive the
	// credentials of the function that signed it.
	PortalURL string
}

func (c *MailConfig) check() error {
	var errs []error
	if c.Sender == nil || c.Renderer == nil {
		errs = append(errs, errors.New("mail needs a Sender and a Renderer"))
	}
	if err := mail.CheckAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("mail sender %q %w", c.From, err))
	}
	if u, err := url.Parse(c.PortalURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("portal URL %q: want an http(s) URL with no query or fragment", c.PortalURL))
	}
	return errors.Join(errs...)
}

// link returns the portal page with one parameter.
func (c *MailConfig) link(param, value string) string {
	return strings.TrimSuffix(c.PortalURL, "/") + "/?" + param + "=" + url.QueryEscape(value)
}

var errNoMail = errors.New("portal: this service was made without MailConfig")

func (s *Service) mailer() (*MailConfig, error) {
	if s.cfg.Mail == nil {
		return nil, errNoMail
	}
	return s.cfg.Mail, nil
}

// NotificationSettings is a partner organization's notification settings
// as the API shows them.
type NotificationSettings struct {
	Enabled       bool       `json:"enabled"`
	Recipients    []string   `json:"recipients"`
	ThresholdDays []int      `json:"thresholdDays"`
	UpdatedAt     *time.Time `json:"updatedAt"`
	UpdatedBy     *string    `json:"updatedBy"`
}

func settingsView(set notification.Settings) *NotificationSettings {
	v := &NotificationSettings{Enabled: set.Enabled, Recipients: set.Recipients, ThresholdDays: set.ThresholdDays}
	if !set.UpdatedAt.IsZero() {
		at, by := set.UpdatedAt, set.UpdatedBy
		v.UpdatedAt, v.UpdatedBy = &at, &by
	}
	return v
}

// NotificationSettingsRequest sets the notification settings. Every member
// is required.
type NotificationSettingsRequest struct {
	Enabled       *bool     `json:"enabled"`
	Recipients    *[]string `json:"recipients"`
	ThresholdDays *[]int    `json:"thresholdDays"`
}

// settings returns the partner's settings, or the defaults when they were
// never set.
func (s *Service) settings(ctx context.Context, partnerID string) (notification.Settings, error) {
	set, err := s.store.NotificationSettings(ctx, partnerID)
	if fault.Is(err, fault.NotFound) {
		return notification.Defaults(partnerID), nil
	}
	return set, err
}

// NotificationSettings returns the caller's partner organization's
// expiration notification settings, the defaults when never set. It needs
// read access.
func (s *Service) NotificationSettings(ctx context.Context, subject string) (*NotificationSettings, error) {
	sc, err := s.caller(ctx, subject, access.Read)
	if err != nil {
		return nil, err
	}
	set, err := s.settings(ctx, sc.Partner.ID)
	if err != nil {
		return nil, err
	}
	return settingsView(set), nil
}

// SaveNotificationSettings sets the caller's partner organization's
// expiration notification settings. It needs full access.
func (s *Service) SaveNotificationSettings(ctx context.Context, subject string, req NotificationSettingsRequest) (*NotificationSettings, error) {
	sc, err := s.caller(ctx, subject, access.Full)
	if err != nil {
		return nil, err
	}
	if req.Enabled == nil || req.Recipients == nil || req.ThresholdDays == nil {
		return nil, fault.Errorf(fault.Invalid, `give "enabled", "recipients" and "thresholdDays"`)
	}
	recipients, err := checkRecipients(*req.Recipients, *req.Enabled)
	if err != nil {
		return nil, err
	}
	thresholds, err := checkThresholds(*req.ThresholdDays)
	if err != nil {
		return nil, err
	}
	set := notification.Settings{PartnerID: sc.Partner.ID, Enabled: *req.Enabled, Recipients: recipients,
		ThresholdDays: thresholds, UpdatedAt: s.now(), UpdatedBy: sc.User.ID}
	if err := s.store.PutNotificationSettings(ctx, set); err != nil {
		return nil, err
	}
	return settingsView(set), nil
}

// checkRecipients checks a list of recipients: up to
// notification.MaxRecipients distinct addresses, at least one when required.
func checkRecipients(list []string, required bool) ([]string, error) {
	switch {
	case required && len(list) == 0:
		return nil, fault.Errorf(fault.Invalid, "recipients: give 1 to %d e-mail addresses", notification.MaxRecipients)
	case len(list) > notification.MaxRecipients:
		return nil, fault.Errorf(fault.Invalid, "recipients: %d addresses, at most %d are allowed", len(list), notification.MaxRecipients)
	}
	seen := make(map[string]bool, len(list))
	for i, a := range list {
		if err := mail.CheckAddress(a); err != nil {
			return nil, fault.Errorf(fault.Invalid, "recipients[%d]: %q %v", i, a, err)
		}
		if lower := strings.ToLower(a); seen[lower] {
			return nil, fault.Errorf(fault.Invalid, "recipients[%d]: %q is listed twice", i, a)
		} else {
			seen[lower] = true
		}
	}
	return slices.Clone(list), nil
}

// checkThresholds checks the days before expiry and returns them largest
// first.
func checkThresholds(days []int) ([]int, error) {
	if len(days) == 0 || len(days) > notification.MaxThresholds {
		return nil, fault.Errorf(fault.Invalid, "thresholdDays: give 1 to %d numbers of days", notification.MaxThresholds)
	}
	for i, d := range days {
		if d < 0 || d > notification.MaxThreshold {
			return nil, fault.Errorf(fault.Invalid, "thresholdDays[%d]: %d is not from 0 to %d", i, d, notification.MaxThreshold)
		}
		if slices.Contains(days[:i], d) {
			return nil, fault.Errorf(fault.Invalid, "thresholdDays[%d]: %d is listed twice", i, d)
		}
	}
	out := slices.Clone(days)
	slices.SortFunc(out, func(a, b int) int { return b - a })
	return out, nil
}

// NotificationView is a digest as the API lists it.
type NotificationView struct {
	ID           string              `json:"id"`
	SentAt       time.Time           `json:"sentAt"`
	Status       notification.Status `json:"status"`
	Reason       string              `json:"reason,omitempty"`
	Recipients   []string            `json:"recipients"`
	LicenseCount int                 `json:"licenseCount"`
	ByThreshold  map[string]int      `json:"byThreshold"`
}

// abandoned is the reason shown for a digest whose run stopped before it
// could record the outcome.
const abandoned = "the run that was sending it stopped before it could record the outcome; its licenses were due again at the next run"

func (s *Service) notificationView(d *notification.Digest) NotificationView {
	v := NotificationView{ID: d.ID, SentAt: d.SentAt, Status: d.StatusAt(s.now()), Reason: d.Reason, Recipients: d.Recipients,
		LicenseCount: d.Licenses, ByThreshold: make(map[string]int, len(d.ByThreshold))}
	if v.SentAt.IsZero() {
		v.SentAt = d.CreatedAt
	}
	if d.Status == notification.Pending && v.Status == notification.Failed {
		v.Reason = abandoned
	}
	for t, n := range d.ByThreshold {
		v.ByThreshold[strconv.Itoa(t)] = n
	}
	return v
}

// NotificationPage is a page of the partner organization's digests.
type NotificationPage struct {
	Items      []NotificationView `json:"items"`
	NextCursor *string            `json:"nextCursor"`
}

// Notifications returns a page of the caller's partner organization's
// digests, newest first; one being sent at the moment is not listed yet. It
// needs read access.
func (s *Service) Notifications(ctx context.Context, subject string, req page.Request) (*NotificationPage, error) {
	sc, err := s.caller(ctx, subject, access.Read)
	if err != nil {
		return nil, err
	}
	now := s.now()
	digests, next, err := s.store.DigestPage(ctx, sc.Partner.ID, req, now, func(d *notification.Digest) bool {
		return d.StatusAt(now) != notification.Pending
	})
	if err != nil {
		return nil, err
	}
	p := &NotificationPage{Items: make([]NotificationView, 0, len(digests)), NextCursor: page.Next(next)}
	for _, d := range digests {
		p.Items = append(p.Items, s.notificationView(d))
	}
	return p, nil
}

// NotificationRow is a license of a digest: the report's row as of the
// digest's day (pin and partner note as of the request), the threshold it
// was due for and the days it had left.
type NotificationRow struct {
	report.Row
	Threshold int
	DaysLeft  int
}

// MarshalJSON writes the row's members and then "threshold" and
// "daysLeft".
func (r NotificationRow) MarshalJSON() ([]byte, error) {
	row, err := json.Marshal(r.Row)
	if err != nil {
		return nil, err
	}
	out := append(row[:len(row)-1:len(row)-1], `,"threshold":`...)
	out = strconv.AppendInt(out, int64(r.Threshold), 10)
	out = append(out, `,"daysLeft":`...)
	out = strconv.AppendInt(out, int64(r.DaysLeft), 10)
	return append(out, '}'), nil
}

// NotificationDetail is one digest with a page of its rows, most urgent
// threshold first, in report order within it.
type NotificationDetail struct {
	NotificationView
	Rows       []NotificationRow `json:"rows"`
	NextCursor *string           `json:"nextCursor"`
}

// Notification returns one of the caller's partner organization's digests
// with a page of its rows (req: limit and cursor). A digest of another
// partner, past its retention or being sent at the moment is not found. It
// needs read access.
func (s *Service) Notification(ctx context.Context, subject, digestID string, req page.Request) (*NotificationDetail, error) {
	sc, err := s.caller(ctx, subject, access.Read)
	if err != nil {
		return nil, err
	}
	if !id.Valid(digestID) {
		return nil, fault.Errorf(fault.Invalid, "%q is not a notification id", digestID)
	}
	start := 0
	if req.Cursor != nil {
		n, err := strconv.Atoi(string(req.Cursor))
		if err != nil || n <= 0 {
			return nil, fault.Errorf(fault.Invalid, "cursor is not valid: pass the nextCursor of the previous page as it is")
		}
		start = n
	}
	now := s.now()
	d, err := s.store.Digest(ctx, sc.Partner.ID, digestID, now)
	if err != nil {
		return nil, err
	}
	if d.StatusAt(now) == notification.Pending {
		return nil, fault.Errorf(fault.NotFound, "notification %s not found: it is being sent", digestID)
	}
	var (
		rows []notification.Row
		v    personalization
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		rows, err = s.store.DigestRows(gctx, sc.Partner.ID, digestID)
		return err
	})
	g.Go(func() (err error) {
		v, err = s.view(gctx, sc, false)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	detail := &NotificationDetail{NotificationView: s.notificationView(d), Rows: []NotificationRow{}}
	served := rows[min(start, len(rows)):min(start+req.Limit, len(rows))]
	plain := make([]report.Row, len(served))
	for i := range served {
		plain[i] = served[i].Row
		plain[i].Pinned = v.pins[plain[i].LicenseKey]
	}
	if err := s.withNotes(ctx, sc, v, plain); err != nil {
		return nil, err
	}
	for i := range served {
		detail.Rows = append(detail.Rows, NotificationRow{Row: plain[i], Threshold: served[i].Threshold, DaysLeft: served[i].DaysLeft})
	}
	if end := start + len(served); end < len(rows) {
		detail.NextCursor = page.Next([]byte(strconv.Itoa(end)))
	}
	return detail, nil
}

// Notify runs the daily expiration notifier at t, as its EventBridge
// schedule invokes it, and returns the ids of the digests it sent. Each
// partner organization whose notifications are enabled gets at most one
// digest, of the licenses due on t's UTC date (see package notification).
//
// A retried, duplicated or concurrent run notifies no license twice for a
// threshold: one run at a time makes a partner's digest (a lease, which
// runs out after notification.StaleAfter), and each license is claimed for
// the digest with a conditional write. A send that fails is recorded on the
// digest as failed, and its licenses are due again at the next run; it does
// not fail the run, which would only make EventBridge run it again at once.
// An error means some partner's digest could not be made or recorded, and a
// retry would do the rest.
func (s *Service) Notify(ctx context.Context, t time.Time) ([]string, error) {
	cfg, err := s.mailer()
	if err != nil {
		return nil, err
	}
	enabled, err := s.store.EnabledNotifications(ctx)
	if err != nil {
		return nil, err
	}
	sent := []string{}
	var errs []error
	for _, set := range enabled {
		digestID, err := s.notifyPartner(ctx, cfg, set, license.DateOf(t))
		switch {
		case fault.Is(err, fault.NotFound):
			// The organization is gone from the data: there is nobody to tell.
			s.cfg.Log.WarnContext(ctx, "notifications of a partner that is gone", "partner", set.PartnerID, "error", err)
		case err != nil:
			errs = append(errs, fmt.Errorf("notifications of %s: %w", set.PartnerID, err))
		}
		if digestID != "" {
			sent = append(sent, digestID)
		}
	}
	return sent, errors.Join(errs...)
}

// due is a license due for a digest: its claim and its rows.
type due struct {
	claim store.Claim
	rows  []notification.Row
}

// notifyPartner makes and sends the digest of one partner for the day, and
// returns its id when it was sent.
func (s *Service) notifyPartner(ctx context.Context, cfg *MailConfig, set notification.Settings, day license.Date) (string, error) {
	var (
		sc            *access.Scope
		onPrem, cloud []report.Row
		claims        []notification.Claim
		digests       []*notification.Digest
	)
	now := s.now()
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if sc, err = s.partnerScope(gctx, set.PartnerID); err != nil {
			return err
		}
		onPrem, cloud, _, err = s.rows(gctx, sc, nil, false)
		return err
	})
	g.Go(func() (err error) {
		claims, err = s.store.Claims(gctx, set.PartnerID)
		return err
	})
	g.Go(func() (err error) {
		digests, err = s.store.Digests(gctx, set.PartnerID, now)
		return err
	})
	if err := g.Wait(); err != nil {
		return "", err
	}
	status := make(map[string]notification.Status, len(digests))
	for _, d := range digests {
		status[d.ID] = d.StatusAt(now)
		if d.Status == notification.Pending && status[d.ID] == notification.Failed {
			s.abandon(ctx, d, now)
		}
	}
	digestID := id.Ordered(now)
	list := s.dueLicenses(sc, set, day, digestID, now, slices.Concat(onPrem, cloud), claims, status)
	if len(list) == 0 {
		return "", nil
	}

	leased, err := s.store.LeaseNotifications(ctx, set.PartnerID, digestID, now, now.Add(notification.StaleAfter))
	if err != nil || !leased {
		return "", err // not leased: another run is making the partner's digest
	}
	defer func() {
		if err := s.store.ReleaseNotifications(context.WithoutCancel(ctx), set.PartnerID, digestID); err != nil {
			s.cfg.Log.WarnContext(ctx, "releasing the notification lease failed; it runs out by itself", "partner", set.PartnerID, "error", err)
		}
	}()
	d := &notification.Digest{ID: digestID, PartnerID: set.PartnerID, Status: notification.Pending, Date: day, CreatedAt: now,
		Recipients: set.Recipients, ByThreshold: map[int]int{}, ExpiresAt: now.Add(notification.Retention)}
	if err := s.store.CreateDigest(ctx, d); err != nil {
		return "", err
	}
	rows, err := s.claimLicenses(ctx, d, list)
	switch {
	case err != nil:
		return "", s.failDigest(ctx, d, err, "its licenses could not be claimed; they are due again at the next run")
	case len(rows) == 0:
		// Another run claimed every license meanwhile: there is nothing to send.
		return "", s.store.DeleteDigest(context.WithoutCancel(ctx), d.PartnerID, d.ID)
	}
	for _, r := range rows {
		d.ByThreshold[r.Threshold]++
	}
	d.Licenses = len(rows)
	if err := s.store.SaveDigestRows(ctx, d, rows); err != nil {
		return "", s.failDigest(ctx, d, err, "its licenses could not be recorded; they are due again at the next run")
	}
	msg, err := s.digestMessage(cfg, sc, d, rows)
	if err != nil {
		return "", s.failDigest(ctx, d, err, "the e-mail could not be written; its licenses are due again at the next run")
	}
	messageID, err := cfg.Sender.Send(ctx, msg)
	if err != nil {
		s.cfg.Log.ErrorContext(ctx, "sending a digest failed", "partner", d.PartnerID, "digest", d.ID, "error", err)
		return "", s.failDigest(ctx, d, nil, "the e-mail could not be sent; its licenses are due again at the next run")
	}
	d.Status, d.SentAt, d.MessageID = notification.Sent, s.now(), messageID
	if err := s.finishDigest(ctx, d); err != nil {
		return "", fmt.Errorf("digest %s was sent, but recording it failed: %w", d.ID, err)
	}
	return d.ID, nil
}

// dueLicenses returns the licenses due for the digest digestID on day, each
// with its claim and its rows (a license shown under two organizations has
// two), in report order.
func (s *Service) dueLicenses(sc *access.Scope, set notification.Settings, day license.Date, digestID string, now time.Time,
	rows []report.Row, claims []notification.Claim, status map[string]notification.Status) []*due {
	claimOf := make(map[string]*notification.Claim, len(claims))
	for i := range claims {
		claimOf[claims[i].LicenseKey+"#"+claims[i].ExpirationDate.String()] = &claims[i]
	}
	window := s.window(sc)
	byLicense := make(map[string]*due)
	var list []*due
	skip := make(map[string]bool)
	for _, r := range rows {
		daysLeft := r.ExpirationDate.Sub(day)
		t, ok := notification.DueThreshold(set.ThresholdDays, daysLeft)
		k := r.LicenseKey + "#" + r.ExpirationDate.String()
		if !ok || skip[k] {
			continue
		}
		r.Status = license.StatusOn(r.ExpirationDate, day, window)
		row := notification.Row{Row: r, Threshold: t, DaysLeft: daysLeft}
		if d, ok := byLicense[k]; ok {
			d.rows = append(d.rows, row)
			continue
		}
		c := store.Claim{Claim: notification.Claim{LicenseKey: r.LicenseKey, ExpirationDate: r.ExpirationDate, Threshold: t,
			DigestID: digestID, ClaimedAt: now}}
		if old, ok := claimOf[k]; ok {
			st, found := status[old.DigestID]
			notified, busy := old.Notified(st, found)
			if busy || !notification.Due(t, notified) {
				skip[k] = true
				continue
			}
			c.Previous, c.Replaces = notified, old.DigestID
		}
		d := &due{claim: c, rows: []notification.Row{row}}
		byLicense[k] = d
		list = append(list, d)
	}
	return list
}

// claimLicenses claims the due licenses for the digest and returns the rows of
// those it claimed, most urgent threshold first, in report order within it.
func (s *Service) claimLicenses(ctx context.Context, d *notification.Digest, list []*due) ([]notification.Row, error) {
	claims := make([]store.Claim, len(list))
	for i, l := range list {
		claims[i] = l.claim
	}
	made, err := s.store.ClaimLicenses(ctx, d.PartnerID, claims)
	if err != nil {
		return nil, err
	}
	var rows []notification.Row
	for i, l := range list {
		if made[i] {
			rows = append(rows, l.rows...)
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		a, b := &rows[i], &rows[j]
		if a.Threshold != b.Threshold {
			return a.Threshold < b.Threshold
		}
		if a.OrganizationName != b.OrganizationName {
			return a.OrganizationName < b.OrganizationName
		}
		if a.ProductName != b.ProductName {
			return a.ProductName < b.ProductName
		}
		if a.LicenseKey != b.LicenseKey {
			return a.LicenseKey < b.LicenseKey
		}
		return a.OrganizationID < b.OrganizationID
	})
	return rows, nil
}

// digestMessage writes the e-mail of a digest.
func (s *Service) digestMessage(cfg *MailConfig, sc *access.Scope, d *notification.Digest, rows []notification.Row) (mail.Message, error) {
	md := mail.Digest{Partner: sc.Partner.Name, Date: d.Date, Link: cfg.link("notification", d.ID)}
	for _, r := range rows {
		if n := len(md.Groups); n == 0 || md.Groups[n-1].Threshold != r.Threshold {
			md.Groups = append(md.Groups, mail.Group{Threshold: r.Threshold})
		}
		g := &md.Groups[len(md.Groups)-1]
		g.Rows = append(g.Rows, mail.Row{Organization: r.OrganizationName, Product: r.ProductName, LicenseKey: r.LicenseKey,
			ExpirationDate: r.ExpirationDate, DaysLeft: r.DaysLeft, Cloud: r.Category == license.CloudService,
			Deployed: r.Deployed, Purchased: r.Purchased, ScanLimit: r.ScanLimit})
	}
	subject, text, html, err := cfg.Renderer.Digest(md)
	if err != nil {
		return mail.Message{}, err
	}
	return mail.Message{From: cfg.From, To: d.Recipients, Subject: subject, Text: text, HTML: html}, nil
}

// failDigest records that a digest failed, for the reason the partner
// reads; its claims then count no more. It returns cause, or the error of
// recording the failure.
func (s *Service) failDigest(ctx context.Context, d *notification.Digest, cause error, reason string) error {
	d.Status, d.SentAt, d.Reason = notification.Failed, s.now(), reason
	if err := s.finishDigest(ctx, d); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// finishDigest records a digest's outcome, retrying a throttled write: a
// sent digest that is not recorded as sent would be sent again.
func (s *Service) finishDigest(ctx context.Context, d *notification.Digest) error {
	ctx = context.WithoutCancel(ctx)
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 200 * time.Millisecond)
		}
		var recorded bool
		if recorded, err = s.store.FinishDigest(ctx, d); err == nil {
			if !recorded {
				s.cfg.Log.ErrorContext(ctx, "a digest outlived its lease: a later run took it for abandoned", "partner", d.PartnerID,
					"digest", d.ID, "status", d.Status)
			}
			return nil
		}
	}
	return err
}

// abandon records as failed a digest whose run stopped before it could say
// how it went. Its claims count no more already; this is for the partner's
// list.
func (s *Service) abandon(ctx context.Context, d *notification.Digest, now time.Time) {
	failed := *d
	failed.Status, failed.SentAt, failed.Reason = notification.Failed, now, abandoned
	if _, err := s.store.FinishDigest(ctx, &failed); err != nil {
		s.cfg.Log.WarnContext(ctx, "recording an abandoned digest failed", "partner", d.PartnerID, "digest", d.ID, "error", err)
	}
}
