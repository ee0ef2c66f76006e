// Package mail holds the e-mails the portal sends: the message and the
// small interface of what sends it (package mail/ses sends through Amazon
// SES v2; the local server keeps an outbox), the one rule for an e-mail
// address, and what the expiration digest and the scheduled-report notice
// show, with the interface of what writes them in text and HTML (package
// mail/render).
package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"

	"github.com/partnerportal/licenses/shared/license"
)

// Message is an e-mail with a text and an HTML part.
type Message struct {
	From    string // a bare address: IAM holds SES to one (ses:FromAddress)
	To      []string
	Subject string
	Text    string
	HTML    string
}

// Sender sends e-mails.
type Sender interface {
	// Send sends m and returns the id the mail service gave it. An error
	// means the message may not have been sent.
	Send(ctx context.Context, m Message) (id string, err error)
}

// maxAddress is the longest address SMTP carries (RFC 5321: a path of 256
// octets, less the angle brackets).
const maxAddress = 254

// CheckAddress returns why s is not an e-mail address the portal can send
// to, or nil: a bare address (no display name, no angle brackets) of
// printable ASCII, whose domain has a dot. Amazon SES takes no other
// (international domains must be given in punycode).
func CheckAddress(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if len(s) > maxAddress {
		return fmt.Errorf("is longer than %d characters", maxAddress)
	}
	for _, r := range s {
		if r <= ' ' || r > '~' {
			return errors.New("holds a space, a control character or a character that is not ASCII")
		}
	}
	a, err := netmail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return errors.New("is not an e-mail address")
	}
	_, domain, _ := strings.Cut(s, "@")
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return errors.New("has no domain such as example.com after the @")
	}
	return nil
}

// Renderer writes the portal's e-mails: the subject, text and HTML of each.
type Renderer interface {
	Digest(Digest) (subject, text, html string, err error)
	ExportReady(ExportReady) (subject, text, html string, err error)
}

// MaxDigestRows is the most licenses a digest e-mail lists; the portal page
// it links to lists them all. It keeps the message well inside what mail
// services carry (Amazon SES: 40 MB) and readers open: a partner's first
// digest can hold tens of thousands of licenses.
const MaxDigestRows = 5000

// Digest is the daily expiration digest of a partner organization.
type Digest struct {
	Partner string       // the partner organization's name
	Date    license.Date // the day of the run, that days left are counted from
	Link    string       // the portal page of the digest's licenses
	// Groups are the licenses by the threshold they are due for, smallest
	// (most urgent) first.
	Groups []Group
}

// Group is the licenses of a digest due for one threshold.
type Group struct {
	Threshold int
	Rows      []Row
}

// Row is a license as a digest lists it.
type Row struct {
	Organization   string
	Product        string
	LicenseKey     string
	ExpirationDate license.Date
	DaysLeft       int
	// Cloud says the license is of a cloud service, with ScanLimit;
	// otherwise it is on-prem, with Deployed of Purchased instances.
	Cloud     bool
	Deployed  int
	Purchased int
	ScanLimit int
}

// ExportReady is the notice that a scheduled report is ready.
type ExportReady struct {
	Partner      string       // the partner organization's name
	Subscription string       // the subscription's id
	Date         license.Date // the day it was made
	Link         string       // the export in the portal
	Licenses     int
	Cloud        int
	Deployments  int
	ListedDays   int // how long the portal lists the export
}

// Header returns s fit for a header: control characters become spaces.
func Header(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
