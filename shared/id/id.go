// Package id makes the identifiers the service hands out (reports, exports,
// digests and the unguessable part of export object keys) and holds the one
// rule for identifiers that come from outside (CheckExternal). An id is 26
// characters of lower-case base32 (digits and letters in ASCII order): 130
// bits, of which New fills 128 from crypto/rand and leaves the last 2 zero;
// time-ordered ids begin with 48 bits of the time, so they sort by creation.
package id

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"regexp"
	"time"
)

// The alphabet is in ASCII order, so that ids compare as their bits do.
var encoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// Length is the length of every id.
const Length = 26

// New returns a random id: 128 bits from crypto/rand.
func New() string {
	var b [17]byte
	_, _ = rand.Read(b[:16]) // crypto/rand.Read never fails
	return encoding.EncodeToString(b[:])[:Length]
}

// Ordered returns an id that sorts after every id made at an earlier
// millisecond: 48 bits of Unix milliseconds, then 80 random bits.
func Ordered(t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails
	var padded [17]byte
	copy(padded[:], b[:])
	return encoding.EncodeToString(padded[:])[:Length]
}

var pattern = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{26}$`)

// Valid reports whether s has the form of an id. Ids of another form cannot
// exist, so callers refuse them without a read.
func Valid(s string) bool { return pattern.MatchString(s) }
