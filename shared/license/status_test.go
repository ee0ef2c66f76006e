package license_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/license"
)

func date(t *testing.T, s string) license.Date {
	t.Helper()
	d, err := license.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestStatusOn(t *testing.T) {
	today := "2026-03-01"
	tests := []struct {
		exp    string
		window int
		want   license.Status
	}{
		{"2026-02-28", 30, license.Expired},  // yesterday
		{"2026-03-01", 30, license.Expiring}, // expires today: daysLeft 0
		{"2026-03-31", 30, license.Expiring}, // exactly the window
		{"2026-04-01", 30, license.Active},   // one past the window
		{"2026-03-02", 0, license.Active},    // no window: only today is expiring
		{"2026-03-01", 0, license.Expiring},
		{"2027-03-01", 366, license.Expiring},
		{"2025-03-01", 30, license.Expired},
	}
	for _, tt := range tests {
		got := license.StatusOn(date(t, tt.exp), date(t, today), tt.window)
		if got != tt.want {
			t.Errorf("StatusOn(%s, %s, %d) = %s, want %s", tt.exp, today, tt.window, got, tt.want)
		}
	}
}

func TestStatusAcrossLeapDay(t *testing.T) {
	// 2028 is a leap year: from Feb 1 to Mar 2 are 30 days.
	if got := license.StatusOn(date(t, "2028-03-02"), date(t, "2028-02-01"), 30); got != license.Expiring {
		t.Errorf("got %s, want expiring", got)
	}
	if got := license.StatusOn(date(t, "2028-03-03"), date(t, "2028-02-01"), 30); got != license.Active {
		t.Errorf("got %s, want active", got)
	}
}

func TestParseDate(t *testing.T) {
	for _, bad := range []string{"", "2026-2-01", "2026-02-30", "2026-13-01", "20260201", "2026-02-01T00:00:00Z", "+026-02-01", "2026-02-0x", " 2026-02-01"} {
		if _, err := license.ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) succeeded, want an error", bad)
		}
	}
	d := date(t, "2024-02-29")
	if got := d.String(); got != "2024-02-29" {
		t.Errorf("String() = %s, want 2024-02-29", got)
	}
	if got, want := d.AddDays(1).String(), "2024-03-01"; got != want {
		t.Errorf("AddDays(1) = %s, want %s", got, want)
	}
}

func TestDateOfUsesUTC(t *testing.T) {
	// 23:30 in New York on Jan 1 is already Jan 2 in UTC.
	ny := time.FixedZone("EST", -5*3600)
	got := license.DateOf(time.Date(2026, 1, 1, 23, 30, 0, 0, ny))
	if got.String() != "2026-01-02" {
		t.Errorf("DateOf = %s, want 2026-01-02", got)
	}
}

func TestDateJSON(t *testing.T) {
	var v struct {
		D license.Date `json:"d"`
	}
	if err := json.Unmarshal([]byte(`{"d":"2026-12-31"}`), &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	if got, want := string(b), `{"d":"2026-12-31"}`; got != want {
		t.Errorf("round trip = %s, want %s", got, want)
	}
	if err := json.Unmarshal([]byte(`{"d":"2026-12-32"}`), &v); err == nil {
		t.Error("a day that does not exist was accepted")
	}
}
