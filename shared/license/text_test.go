package license_test

import (
	"strings"
	"testing"

	"github.com/partnerportal/licenses/shared/license"
)

func TestCheckNoteText(t *testing.T) {
	tests := []struct {
		text string
		ok   bool
	}{
		{"", true},
		{"line one\nline two\twith tab", true},
		{strings.Repeat("ü", 2000), true}, // characters, not bytes
		{strings.Repeat("a", 2001), false},
		{"bell\a", false},
		{"nul\x00", false},
		{"c1 control \u0085", false},
		{"carriage\rreturn", false},
		{"line\u2028separator", false},
		{string([]byte{0xff, 0xfe}), false},
	}
	for _, tt := range tests {
		err := license.CheckNoteText(tt.text)
		if (err == nil) != tt.ok {
			t.Errorf("CheckNoteText(%.20q) = %v, want ok=%v", tt.text, err, tt.ok)
		}
	}
}

func TestCheckDeploymentName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"", true},
		{"Scanner 1 (Berlin)", true},
		{strings.Repeat("é", 200), true},
		{strings.Repeat("a", 201), false},
		{"two\nlines", false},
		{"tab\there", false},
		{"\x1b[31mred", false},
		{string([]byte{0xc3}), false},
	}
	for _, tt := range tests {
		if err := license.CheckDeploymentName(tt.name); (err == nil) != tt.ok {
			t.Errorf("CheckDeploymentName(%.20q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
