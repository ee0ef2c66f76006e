package license

import (
	"fmt"
	"strconv"
	"time"
)

// Status is the state of a license on a given day.
type Status string

// The license statuses.
const (
	Active   Status = "active"
	Expiring Status = "expiring"
	Expired  Status = "expired"
)

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool { return s == Active || s == Expiring || s == Expired }

// DefaultExpiringWindow is the expiring window, in days, when the deployment
// configures none.
const DefaultExpiringWindow = 30

// StatusOn returns the status of a license that expires on exp, seen on today,
// with an expiring window of window days: expired when exp is before today,
// expiring when it is at most window days ahead, otherwise active.
func StatusOn(exp, today Date, window int) Status {
	daysLeft := exp.Sub(today)
	switch {
	case daysLeft < 0:
		return Expired
	case daysLeft <= window:
		return Expiring
	default:
		return Active
	}
}

// Date is a calendar date, counted in days since 1970-01-01. Licenses start
// and expire on dates, not instants, so arithmetic on them is exact.
type Date int32

// DateOf returns the UTC calendar date of t.
func DateOf(t time.Time) Date {
	t = t.UTC()
	return Date(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// TodayOf returns a function that gives the UTC date of now(): the date
// statuses are computed on, when nothing fixes it.
func TodayOf(now func() time.Time) func() Date {
	return func() Date { return DateOf(now()) }
}

// ParseDate parses a YYYY-MM-DD date and refuses anything else, such as a
// timestamp or a day that does not exist.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, fmt.Errorf("%q is not a YYYY-MM-DD date", s)
	}
	y, err1 := strconv.Atoi(s[:4])
	m, err2 := strconv.Atoi(s[5:7])
	d, err3 := strconv.Atoi(s[8:])
	if err1 != nil || err2 != nil || err3 != nil || s[0] == '+' || s[0] == '-' {
		return 0, fmt.Errorf("%q is not a YYYY-MM-DD date", s)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return 0, fmt.Errorf("%q is not a calendar date", s)
	}
	return DateOf(t), nil
}

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return d.Time().Format(time.DateOnly) }

// Sub returns the number of days from u to d.
func (d Date) Sub(u Date) int { return int(d) - int(u) }

// AddDays returns the date n days after d.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// MarshalText formats d as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a YYYY-MM-DD date.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
