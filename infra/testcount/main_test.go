package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCount(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"chatter\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"why it failed\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB"}`,
		`{"Action":"skip","Package":"p","Test":"TestSmoke"}`,
		`{"Action":"skip","Package":"q","Test":"TestLinks"}`,
		`build output`,
	}, "\n")
	var out strings.Builder
	c, err := count(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if c.pass != 1 || c.fail != 1 || c.skip != 2 {
		t.Errorf("counts = %+v", c)
	}
	if got := out.String(); !strings.Contains(got, "why it failed") || strings.Contains(got, "chatter") || !strings.Contains(got, "build output") {
		t.Errorf("output = %q", got)
	}
	for _, tt := range []struct {
		allow string
		want  []string
	}{
		{"", []string{"p TestSmoke", "q TestLinks"}},
		{"TestSmoke", []string{"q TestLinks"}},
		{"TestSmoke|TestLinks", nil},
		{"TestSmo", []string{"p TestSmoke", "q TestLinks"}}, // whole names only
	} {
		var allowed *regexp.Regexp
		if tt.allow != "" {
			allowed = regexp.MustCompile("^(?:" + tt.allow + ")$")
		}
		if got := c.unexpectedSkips(allowed); !slices.Equal(got, tt.want) {
			t.Errorf("allow %q: unexpected skips %v, want %v", tt.allow, got, tt.want)
		}
	}
}
