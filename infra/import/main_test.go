package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/truora/minidyn/server"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/license"
)

// items counts the table's items.
func items(t *testing.T, endpoint, table string) int32 {
	t.Helper()
	out, err := awsconf.DynamoDB(awsconf.Local, endpoint).Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table),
		Select: "COUNT"})
	if err != nil {
		t.Fatal(err)
	}
	return out.Count
}

var written = regexp.MustCompile(`import: (\d+) items (written|would be written)`)

// -dry-run says what a full document and then a gzip'd delta would write,
// and writes nothing; the import then writes what it said.
func TestDryRun(t *testing.T) {
	srv := httptest.NewServer(server.NewServer())
	t.Cleanup(srv.Close)
	today, _ := license.ParseDate("2026-06-15")
	cfg := demo.Small()
	cfg.Customers, cfg.Licenses = 5, 40
	doc := demo.Generate(cfg, today)
	dir := t.TempDir()
	full := filepath.Join(dir, "full.json")
	b, _ := json.Marshal(doc)
	if err := os.WriteFile(full, b, 0o644); err != nil {
		t.Fatal(err)
	}
	importCmd := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		args = append([]string{"-table", "t", "-endpoint", srv.URL, "-create-table"}, args...)
		if err := run(context.Background(), args, &out); err != nil {
			t.Fatalf("import %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	count := func(out, verb string) string {
		t.Helper()
		m := written.FindStringSubmatch(out)
		if m == nil || m[2] != verb {
			t.Fatalf("no %q line in:\n%s", verb, out)
		}
		return m[1]
	}

	planned := count(importCmd("-data", full, "-dry-run"), "would be written")
	if n := items(t, srv.URL, "t"); n != 0 || planned == "0" {
		t.Fatalf("the dry run planned %s items and the table has %d", planned, n)
	}
	if got := count(importCmd("-data", full), "written"); got != planned {
		t.Fatalf("the import wrote %s items, the dry run said %s", got, planned)
	}
	before := items(t, srv.URL, "t")

	// A delta, gzip'd: one license removed.
	delta := map[string]any{"mode": "delta", "removed": map[string]any{"licenses": []string{doc.Licenses[0].Key}}}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_ = json.NewEncoder(zw).Encode(delta)
	_ = zw.Close()
	path := filepath.Join(dir, "delta.json.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := importCmd("-data", path, "-dry-run")
	if !regexp.MustCompile(`removed: 1 licenses`).MatchString(out) {
		t.Errorf("the delta's dry run does not count the removed license:\n%s", out)
	}
	if n := items(t, srv.URL, "t"); n != before {
		t.Fatalf("the dry run changed the table: %d items, had %d", n, before)
	}
	count(importCmd("-data", path), "written")
	if again := count(importCmd("-data", full, "-dry-run"), "would be written"); again == "0" {
		t.Error("after the delta, the full document plans to write nothing: it should bring the license back")
	}
}
