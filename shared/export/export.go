// Package export holds the Excel exports of a partner organization (the
// "Active Deployment Report" of the spec's §4) as the domain sees them: who
// made one and when, its selection, its state, and its file once it is
// ready. Writing the workbook is package workbook's; the use cases that make
// exports are package portal's.
package export

import (
	"time"

	"github.com/partnerportal/licenses/shared/report"
)

// Status is the state of an export.
type Status string

// The export states. An export is made pending and becomes ready or failed
// once, never back.
const (
	Pending Status = "pending"
	Ready   Status = "ready"
	Failed  Status = "failed"
)

// Trigger says who made an export.
type Trigger string

// The triggers.
const (
	Manual    Trigger = "manual"    // a user, with POST /v1/exports
	Scheduled Trigger = "scheduled" // a report subscription's schedule
)

// Export is an Excel export of a partner organization.
type Export struct {
	ID             string // time-ordered (id.Ordered), so exports sort by creation
	PartnerID      string
	Status         Status
	Reason         string // why it failed, for the partner to read
	Trigger        Trigger
	SubscriptionID string    // set when Trigger is Scheduled
	CreatedBy      string    // the user, empty for scheduled exports
	CreatedAt      time.Time // UTC
	CompletedAt    time.Time // zero while pending
	Selection      report.Selection
	ObjectKey      string // the workbook in the export bucket, once ready
	Counts         Counts
	ExpiresAt      time.Time // when the export and its object are gone
	// Recipients are told when a scheduled export is ready, as Mail says.
	Recipients []string
	Mail       Mail
}

// MailStatus is the state of the notice that a scheduled export is ready.
type MailStatus string

// The notice's states: due once the export is ready (when it has
// recipients), sending while a run sends it, and then sent, or due again
// after a failed attempt until MaxMailAttempts have failed.
const (
	MailDue     MailStatus = "due"
	MailSending MailStatus = "sending"
	MailSent    MailStatus = "sent"
	MailFailed  MailStatus = "failed"
)

// MaxMailAttempts is how many runs of the schedule try to send a notice.
const MaxMailAttempts = 3

// Mail is the notice that a scheduled export is ready, to its recipients.
type Mail struct {
	Status MailStatus // empty: no notice
	// Attempts counts the runs that began sending it; each new attempt
	// makes it a new version, which a conditional write expects.
	Attempts int
	// NextAt is when a run may send it: at once when due, and for one being
	// sent, once that attempt is older than StaleAfter (its run stopped).
	NextAt    time.Time
	MessageID string
}

// Pending reports whether the notice is still to be sent at now.
func (m Mail) Pending(now time.Time) bool {
	return (m.Status == MailDue || m.Status == MailSending) && !now.Before(m.NextAt)
}

// Counts says how many rows each sheet of a ready export has, header rows
// not counted.
type Counts struct {
	Licenses          int `json:"licenses"`
	CloudServices     int `json:"cloudServices"`
	ActiveDeployments int `json:"activeDeployments"`
}

// StaleAfter is how long an export may stay pending before it is taken to
// have been abandoned (the function finishing it died): a later run of the
// schedule finishes it then.
const StaleAfter = 15 * time.Minute

// Stale reports whether a pending export has waited longer than StaleAfter
// at now.
func (e *Export) Stale(now time.Time) bool {
	return e.Status == Pending && now.Sub(e.CreatedAt) >= StaleAfter
}
