package notification_test

import (
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/notification"
)

func TestDueThreshold(t *testing.T) {
	tests := []struct {
		thresholds []int
		daysLeft   int
		want       int
		ok         bool
	}{
		{[]int{60, 30}, 61, 0, false},
		{[]int{60, 30}, 60, 60, true},
		{[]int{60, 30}, 31, 60, true},
		{[]int{60, 30}, 30, 30, true},
		{[]int{60, 30}, 20, 30, true}, // first seen 20 days before: once, for 30
		{[]int{60, 30}, 0, 30, true},
		{[]int{60, 30}, -1, 0, false}, // expired: never
		{[]int{0, 7}, 0, 0, true},
		{[]int{0, 7}, 3, 7, true},
	}
	for _, tt := range tests {
		got, ok := notification.DueThreshold(tt.thresholds, tt.daysLeft)
		if got != tt.want || ok != tt.ok {
			t.Errorf("DueThreshold(%v, %d) = %d, %v; want %d, %v", tt.thresholds, tt.daysLeft, got, ok, tt.want, tt.ok)
		}
	}
}

// A claim counts once its digest is sent, is busy while the digest is
// being sent, and falls back to what was notified before when it failed.
func TestClaimNotified(t *testing.T) {
	sixty := 60
	c := notification.Claim{Threshold: 30, Previous: &sixty}
	for _, tt := range []struct {
		status notification.Status
		found  bool
		want   string
		busy   bool
	}{
		{notification.Sent, true, "30", false},
		{notification.Pending, true, "none", true},
		{notification.Failed, true, "60", false},
		{notification.Failed, false, "30", false}, // a digest gone past its retention was sent long ago
	} {
		n, busy := c.Notified(tt.status, tt.found)
		got := "none"
		if n != nil {
			got = map[int]string{30: "30", 60: "60"}[*n]
		}
		if got != tt.want || busy != tt.busy {
			t.Errorf("%s (found %v): %s, busy %v; want %s, %v", tt.status, tt.found, got, busy, tt.want, tt.busy)
		}
	}
	if !notification.Due(30, &sixty) || notification.Due(60, &sixty) || !notification.Due(60, nil) {
		t.Error("Due: only a smaller threshold than the one notified counts")
	}
	now := time.Date(2026, 6, 15, 7, 0, 0, 0, time.UTC)
	d := notification.Digest{Status: notification.Pending, CreatedAt: now}
	if d.StatusAt(now.Add(notification.StaleAfter-time.Second)) != notification.Pending || d.StatusAt(now.Add(notification.StaleAfter)) != notification.Failed {
		t.Error("a pending digest is abandoned after StaleAfter, not before")
	}
}
