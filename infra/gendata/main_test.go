package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/license"
)

func TestRun(t *testing.T) {
	today, err := license.ParseDate("2025-06-01")
	if err != nil {
		t.Fatal(err)
	}
	large := demo.Large()
	large.Licenses, large.Customers, large.Seed = 300, 40, 0
	for _, tc := range []struct {
		name string
		args []string
		want demo.Config
	}{
		{"small", []string{"-today", "2025-06-01"}, demo.Small()},
		{"large overridden", []string{"-size", "large", "-licenses", "300", "-orgs", "40", "-seed", "0", "-today", "2025-06-01"}, large},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := run(tc.args, &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			if _, err := dataset.Parse(bytes.NewReader(out.Bytes())); err != nil {
				t.Fatalf("the importer refuses the output: %v", err)
			}
			// Comparing the re-encoded documents catches a section that the
			// record-by-record writer left out or misnamed.
			var got dataset.Document
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got, want := encode(t, got), encode(t, demo.Generate(tc.want, today)); !bytes.Equal(got, want) {
				t.Errorf("the output is not the generated document:\ngot  %.300s\nwant %.300s", got, want)
			}
		})
	}
}

func TestRunWritesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.json")
	var stdout bytes.Buffer
	if err := run([]string{"-licenses", "50", "-o", path}, &stdout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if stdout.Len() != 0 {
		t.Errorf("wrote %d bytes to standard output, want none with -o", stdout.Len())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := dataset.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(ds.Licenses), 50; got != want {
		t.Errorf("got %d licenses, want %d", got, want)
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-size", "medium"},
		{"-orgs", "0"},
		{"-licenses", "-1"},
		{"-today", "2025-02-30"},
		{"-seed", "x"},
		{"-o", filepath.Join(t.TempDir(), "missing", "data.json")},
	} {
		var out bytes.Buffer
		if err := run(args, &out, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded, want an error", args)
		}
	}
}

func encode(t *testing.T, doc dataset.Document) []byte {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
