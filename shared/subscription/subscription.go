// Package subscription holds report subscriptions, the recurring exports of
// a partner organization, and the calendar rule that says when one is due: a
// subscription is due at time T when it has no export yet for the period
// that contains T (daily: T's UTC date; weekly: T's ISO week; monthly: T's
// UTC month).
package subscription

import (
	"fmt"
	"time"

	"github.com/partnerportal/licenses/shared/report"
)

// Frequency is how often a subscription makes an export.
type Frequency string

// The frequencies.
const (
	Daily   Frequency = "daily"
	Weekly  Frequency = "weekly"
	Monthly Frequency = "monthly"
)

// Valid reports whether f is a known frequency.
func (f Frequency) Valid() bool { return f == Daily || f == Weekly || f == Monthly }

// Subscription is a recurring export of a selection of customer organizations.
type Subscription struct {
	ID        string
	PartnerID string
	Frequency Frequency
	Selection report.Selection
	// Recipients are the addresses told when an export of the
	// subscription is ready; none is fine.
	Recipients []string
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Incarnation tells a subscription from an earlier one of the same id
	// that was deleted: each has its own periods, so one created again is
	// due at once. Replacing a subscription keeps it; the store sets it
	// when it is empty.
	Incarnation string
}

// Period names the period of frequency f that contains t: "2026-11-28",
// "2026-W48" or "2026-11". At most one export is made per subscription and
// period.
func Period(f Frequency, t time.Time) string {
	t = t.UTC()
	switch f {
	case Weekly:
		y, w := t.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case Monthly:
		return t.Format("2006-01")
	default:
		return t.Format(time.DateOnly)
	}
}

// Start returns the first instant of the period of frequency f that contains
// t. Weeks start on Monday, as ISO weeks do.
func Start(f Frequency, t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch f {
	case Weekly:
		back := (int(day.Weekday()) + 6) % 7 // days since Monday
		return day.AddDate(0, 0, -back)
	case Monthly:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	default:
		return day
	}
}

// Next returns the first instant of the period after the one that contains t.
func Next(f Frequency, t time.Time) time.Time {
	start := Start(f, t)
	switch f {
	case Weekly:
		return start.AddDate(0, 0, 7)
	case Monthly:
		return start.AddDate(0, 1, 0)
	default:
		return start.AddDate(0, 0, 1)
	}
}
