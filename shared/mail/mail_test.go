package mail_test

import (
	"strings"
	"testing"

	"github.com/partnerportal/licenses/shared/mail"
)

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		address string
		ok      bool
	}{
		{"ops@partner.example", true},
		{"first.last+renewals@mail.partner.example", true},
		{"", false},
		{"ops", false},
		{"ops@localhost", false},
		{"ops@partner.example.", false},
		{"Ops <ops@partner.example>", false},
		{"<ops@partner.example>", false},
		{"ops@partner.example, x@y.example", false},
		{"ops @partner.example", false},
		{"opé@partner.example", false},
		{"ops@bücher.example", false},
		{"ops@partner.example\r\nBcc: x@y.example", false},
		{strings.Repeat("a", 250) + "@b.example", false},
	}
	for _, tt := range tests {
		if err := mail.CheckAddress(tt.address); (err == nil) != tt.ok {
			t.Errorf("CheckAddress(%q) = %v, want ok %v", tt.address, err, tt.ok)
		}
	}
}
