package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/mail"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/partnerportal/licenses/shared/awsconf"
)

// SESEndpointVariable names the environment variable that points tests at
// an SES v2 emulator (moto's server, started by the Makefile).
const SESEndpointVariable = "TEST_SES_ENDPOINT"

// SES is an SES v2 client on moto, with a sender address of its own that
// moto lets it send from, so that tests that share the emulator tell their
// mail apart.
type SES struct {
	Client   *sesv2.Client
	From     string
	Endpoint string
}

// NewSES returns a client on the SES emulator named by TEST_SES_ENDPOINT,
// with options applied (a test may swap the HTTP client to inject faults),
// and a new sender identity made. Without the variable the test is
// skipped: `make test` sets it.
func NewSES(tb testing.TB, opts ...func(*sesv2.Options)) *SES {
	tb.Helper()
	endpoint := os.Getenv(SESEndpointVariable)
	if endpoint == "" {
		tb.Skipf("%s is not set: run make test, which starts moto_server", SESEndpointVariable)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	s := &SES{From: "notify-" + hex.EncodeToString(b[:]) + "@portal-test.example", Endpoint: endpoint}
	admin := sesv2.NewFromConfig(awsconf.Local, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(endpoint) })
	if _, err := admin.CreateEmailIdentity(context.Background(), &sesv2.CreateEmailIdentityInput{EmailIdentity: &s.From}); err != nil {
		tb.Fatalf("create the sender identity: %v", err)
	}
	s.Client = sesv2.NewFromConfig(awsconf.Local, append([]func(*sesv2.Options){func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}}, opts...)...)
	return s
}

// SentMail is a message that moto accepted. moto keeps the HTML part of a
// message with both parts, not the text part.
type SentMail struct {
	ID      string
	Source  string
	To      []string
	Subject string
	Body    string
}

// Sent returns the messages moto accepted from this client's sender, in the
// order it accepted them, read from moto's own API (/moto-api/data.json).
func (s *SES) Sent(tb testing.TB) []SentMail {
	tb.Helper()
	res, err := http.Get(s.Endpoint + "/moto-api/data.json")
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	var data struct {
		SES struct {
			Message []struct {
				ID           string              `json:"id"`
				Source       string              `json:"source"`
				Subject      string              `json:"subject"`
				Body         string              `json:"body"`
				Destinations map[string][]string `json:"destinations"`
			} `json:"Message"`
		} `json:"ses"`
	}
	if err := json.NewDecoder(res.Body).Decode(&data); err != nil {
		tb.Fatalf("moto's data: %v", err)
	}
	var out []SentMail
	for _, m := range data.SES.Message {
		if a, err := mail.ParseAddress(m.Source); err == nil && a.Address == s.From {
			out = append(out, SentMail{ID: m.ID, Source: m.Source, To: slices.Clone(m.Destinations["ToAddresses"]),
				Subject: m.Subject, Body: m.Body})
		}
	}
	return out
}
