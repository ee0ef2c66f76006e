package subscription_test

import (
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/subscription"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPeriods(t *testing.T) {
	tests := []struct {
		f           subscription.Frequency
		t           string
		period      string
		start, next string
	}{
		{subscription.Daily, "2026-11-28T23:59:59Z", "2026-11-28", "2026-11-28T00:00:00Z", "2026-11-29T00:00:00Z"},
		{subscription.Daily, "2026-11-28T23:30:00-05:00", "2026-11-29", "2026-11-29T00:00:00Z", "2026-11-30T00:00:00Z"}, // UTC date
		{subscription.Weekly, "2026-11-28T12:00:00Z", "2026-W48", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"},       // a Saturday
		{subscription.Weekly, "2026-11-30T00:00:00Z", "2026-W49", "2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z"},       // Monday
		{subscription.Weekly, "2027-01-01T08:00:00Z", "2026-W53", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z"},       // ISO year differs
		{subscription.Weekly, "2026-11-29T23:59:59Z", "2026-W48", "2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z"},       // Sunday ends the week
		{subscription.Monthly, "2026-12-31T23:59:59Z", "2026-12", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{subscription.Monthly, "2028-02-29T10:00:00Z", "2028-02", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"},
	}
	for _, tt := range tests {
		tm := at(tt.t)
		if got := subscription.Period(tt.f, tm); got != tt.period {
			t.Errorf("Period(%s, %s) = %s, want %s", tt.f, tt.t, got, tt.period)
		}
		if got := subscription.Start(tt.f, tm); !got.Equal(at(tt.start)) {
			t.Errorf("Start(%s, %s) = %s, want %s", tt.f, tt.t, got, tt.start)
		}
		if got := subscription.Next(tt.f, tm); !got.Equal(at(tt.next)) {
			t.Errorf("Next(%s, %s) = %s, want %s", tt.f, tt.t, got, tt.next)
		}
		// The next period's name differs, and its start is in it.
		if next := subscription.Next(tt.f, tm); subscription.Period(tt.f, next) == tt.period {
			t.Errorf("Next(%s, %s) is still in period %s", tt.f, tt.t, tt.period)
		}
	}
}
