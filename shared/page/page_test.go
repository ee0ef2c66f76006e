package page_test

import (
	"testing"

	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/page"
)

func TestParse(t *testing.T) {
	takesQ := func(name string, values []string) (bool, error) { return name == "q", nil }
	cursor := *page.Next([]byte("EVENT#2026"))
	tests := []struct {
		query      string
		other      page.Params
		wantLimit  int
		wantCursor string
		ok         bool
	}{
		{"", nil, page.DefaultLimit, "", true},
		{"limit=1", nil, 1, "", true},
		{"limit=1000", nil, 1000, "", true},
		{"limit=0", nil, 0, "", false},
		{"limit=1001", nil, 0, "", false},
		{"limit=ten", nil, 0, "", false},
		{"limit=5&limit=6", nil, 0, "", false},
		{"cursor=" + cursor, nil, page.DefaultLimit, "EVENT#2026", true},
		{"cursor=", nil, 0, "", false},
		{"cursor=%%%", nil, 0, "", false},
		{"cursor=not*base64", nil, 0, "", false},
		{"x=1", nil, 0, "", false},
		{"q=abc", nil, 0, "", false},
		{"q=abc", takesQ, page.DefaultLimit, "", true},
		{"q=a;b", takesQ, 0, "", false},
	}
	for _, tt := range tests {
		got, err := page.Parse(tt.query, tt.other)
		if (err == nil) != tt.ok {
			t.Errorf("Parse(%q) error = %v, want ok=%v", tt.query, err, tt.ok)
			continue
		}
		if err != nil {
			if !fault.Is(err, fault.Invalid) {
				t.Errorf("Parse(%q) error = %v, want invalid_request", tt.query, err)
			}
			continue
		}
		if got.Limit != tt.wantLimit || string(got.Cursor) != tt.wantCursor {
			t.Errorf("Parse(%q) = %d, %q; want %d, %q", tt.query, got.Limit, got.Cursor, tt.wantLimit, tt.wantCursor)
		}
	}
}

func TestNext(t *testing.T) {
	if page.Next(nil) != nil {
		t.Error("Next(nil) is not nil: the last page must say null")
	}
	next := page.Next([]byte("k"))
	got, err := page.Parse("cursor="+*next, nil)
	if err != nil || string(got.Cursor) != "k" {
		t.Errorf("a cursor does not survive the round trip: %q, %v", got.Cursor, err)
	}
}

func TestNone(t *testing.T) {
	for _, tt := range []struct {
		query string
		ok    bool
	}{
		{"", true},
		{"x=1", false},
		{"limit=0", false},
		{"cursor=abc", false},
		{"a;b", false},
		{"%zz", false},
	} {
		if err := page.None(tt.query); (err == nil) != tt.ok {
			t.Errorf("None(%q) = %v, want ok=%v", tt.query, err, tt.ok)
		}
	}
}
