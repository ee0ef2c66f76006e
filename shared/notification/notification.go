// Package notification holds the expiration notifications of a partner
// organization as the domain sees them (the spec's §8): its settings (who
// gets the daily digest, and how many days before expiry), the digests sent,
// and the rule that says which licenses a digest lists.
//
// A license is due for threshold t on a day when 0 ≤ daysLeft ≤ t and t is
// the smallest such threshold of the settings, and it has not been notified
// to the partner for t, or for a smaller threshold, with its current
// expiration date. What was notified is kept as a claim per license and
// expiration date (so a renewal starts over) that names the digest which
// claimed it: the claim counts once that digest is sent, and falls back to
// what was notified before it if the digest failed, or was abandoned by a
// run that stopped before it could say.
package notification

import (
	"slices"
	"time"

	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// Limits of the settings.
const (
	MaxRecipients = 50 // one SES message takes at most 50 recipients
	MaxThresholds = 5
	MaxThreshold  = 365
)

// DefaultThresholds are the days before expiry of settings never set: those
// of the vendor's own portal.
var DefaultThresholds = []int{60, 30}

// Settings are a partner organization's expiration notification settings.
type Settings struct {
	PartnerID  string
	Enabled    bool
	Recipients []string
	// ThresholdDays are distinct, from 0 to MaxThreshold, largest first.
	ThresholdDays []int
	// UpdatedAt is zero, and UpdatedBy empty, for settings never set.
	UpdatedAt time.Time
	UpdatedBy string
}

// Defaults returns the settings of a partner that never set any: disabled,
// nobody to mail, DefaultThresholds.
func Defaults(partnerID string) Settings {
	return Settings{PartnerID: partnerID, Recipients: []string{}, ThresholdDays: slices.Clone(DefaultThresholds)}
}

// Status is the state of a digest.
type Status string

// The digest states. A digest is made pending, claims its licenses, and
// becomes sent or failed once.
const (
	Pending Status = "pending"
	Sent    Status = "sent"
	Failed  Status = "failed"
)

// StaleAfter is how long a digest may stay pending before it is taken to
// have been abandoned by a run that stopped (longer than the notifier
// function may run): it then counts as failed, and its licenses are due
// again.
const StaleAfter = 15 * time.Minute

// Retention is how long digests are kept. It is longer than any claim is
// read (a claim is made at most MaxThreshold days before its license
// expires, and is of no use after), so every claim's digest is there.
const Retention = 400 * 24 * time.Hour

// Digest is one e-mail of a run of the notifier to a partner organization.
type Digest struct {
	ID         string // time-ordered (id.Ordered), so digests sort by creation
	PartnerID  string
	Status     Status
	Reason     string       // why it failed, for the partner to read
	Date       license.Date // the day of the run, that days left are counted from
	CreatedAt  time.Time    // UTC
	SentAt     time.Time    // when it was sent, or the send failed; zero while pending
	Recipients []string
	// Licenses counts the digest's rows, ByThreshold the rows of each
	// threshold.
	Licenses    int
	ByThreshold map[int]int
	MessageID   string // the mail service's id of the message sent
	ExpiresAt   time.Time
}

// StatusAt returns the digest's status at now: a pending digest older than
// StaleAfter was abandoned and counts as failed.
func (d *Digest) StatusAt(now time.Time) Status {
	if d.Status == Pending && now.Sub(d.CreatedAt) >= StaleAfter {
		return Failed
	}
	return d.Status
}

// Row is a license as a digest lists it: its report row, with the status of
// the digest's day, the threshold it is due for and the days left then.
type Row struct {
	report.Row
	Threshold int
	DaysLeft  int
}

// Claim records that a digest claimed a license, with one expiration date,
// for a threshold.
type Claim struct {
	LicenseKey     string
	ExpirationDate license.Date
	Threshold      int
	DigestID       string
	// Previous is the smallest threshold the license was notified for
	// before this claim (nil: none), which counts again if the digest fails.
	Previous  *int
	ClaimedAt time.Time
}

// Notified returns the smallest threshold the license was notified for
// with this claim, given the status of the claim's digest (found false when
// the digest is gone, which Retention rules out but for digests that never
// claimed anything): nil for none. busy reports that the digest is still
// being sent, by a run that is at it.
func (c *Claim) Notified(digest Status, found bool) (notified *int, busy bool) {
	switch {
	case !found, digest == Sent:
		t := c.Threshold
		return &t, false
	case digest == Pending:
		return nil, true
	}
	return c.Previous, false
}

// DueThreshold returns the smallest threshold t with 0 ≤ daysLeft ≤ t, and
// false when there is none (the license expired, or it is further off than
// every threshold).
func DueThreshold(thresholds []int, daysLeft int) (int, bool) {
	best, found := 0, false
	for _, t := range thresholds {
		if daysLeft >= 0 && daysLeft <= t && (!found || t < best) {
			best, found = t, true
		}
	}
	return best, found
}

// Due reports whether a license is due for threshold t when it was
// notified for the threshold notified (nil: none) with its current
// expiration date: only a smaller threshold than one already notified
// counts.
func Due(t int, notified *int) bool { return notified == nil || t < *notified }
