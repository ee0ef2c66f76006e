package id_test

import (
	"testing"
	"time"

	"github.com/partnerportal/licenses/shared/id"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		s := id.New()
		if !id.Valid(s) {
			t.Fatalf("New() = %q is not Valid", s)
		}
		if seen[s] {
			t.Fatalf("New() repeated %q", s)
		}
		seen[s] = true
	}
}

func TestOrderedSortsByTime(t *testing.T) {
	base := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	prev := ""
	for i := 0; i < 200; i++ {
		s := id.Ordered(base.Add(time.Duration(i) * time.Millisecond))
		if !id.Valid(s) {
			t.Fatalf("Ordered = %q is not Valid", s)
		}
		if s <= prev {
			t.Fatalf("Ordered at +%dms = %s does not sort after %s", i, s, prev)
		}
		prev = s
	}
	// Years apart too.
	if a, b := id.Ordered(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), id.Ordered(time.Date(2031, 6, 1, 0, 0, 0, 0, time.UTC)); a >= b {
		t.Errorf("%s (2026) does not sort before %s (2031)", a, b)
	}
}

func TestValid(t *testing.T) {
	for _, bad := range []string{"", "abc", "0123456789abcdefghjkmnpqrs ", "0123456789ABCDEFGHJKMNPQRS", "0123456789abcdefghjkmnpqri", "0123456789abcdefghjkmnpqrst"} {
		if id.Valid(bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}

func TestCheckExternal(t *testing.T) {
	long := make([]byte, 201)
	for i := range long {
		long[i] = 'a'
	}
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"LIC-0001", true},
		{"org_ü-1.2", true},
		{string(long[:200]), true},
		{"", false},
		{string(long), false},
		{"a#b", false},
		{"a/b", false},
		{"a?b", false},
		{"a%2Fb", false},
		{`a\b`, false},
		{"a b", false},
		{"a\tb", false},
		{"a\x00b", false},
		{"a\u00a0b", false},
		{"a\u2028b", false},
		{"\xff", false},
		{".", false},
		{"..", false},
		{"...", true},
	} {
		if err := id.CheckExternal(tt.in); (err == nil) != tt.ok {
			t.Errorf("CheckExternal(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
