package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/partnerportal/licenses/infra/deploy"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/store"
)

// root is the repository, seen from this package's folder.
const root = "../.."

// loadTemplate parses the repository's template.yaml.
func loadTemplate(t testing.TB) *deploy.Template {
	t.Helper()
	tpl, err := deploy.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// readCode returns what the code declares.
func readCode(t testing.TB) deploy.Code {
	t.Helper()
	c, err := deploy.ReadCode(root)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadData imports testdata/data.json, a small world in the import format:
// distributor d1 with users d1-admin (full) and d1-viewer (read), reseller
// r1 selling under d1, customers c1 (through r1) with sub-organization c1s,
// and c2; licenses FREE-10 (10 instances), FULL-1 (1 instance, deployed),
// EXPIRED, CLOUD, HIDDEN (a product partners never see) and OTHER.
func loadData(t testing.TB, st *store.Store) {
	t.Helper()
	f, err := os.Open("testdata/data.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := dataset.Parse(f)
	if err != nil {
		t.Fatalf("testdata/data.json: %v", err)
	}
	if _, err := st.Import(context.Background(), ds, store.ImportOptions{Now: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatalf("import: %v", err)
	}
}

// testdataDocument returns testdata/data.json, the document loadData loads.
func testdataDocument(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/data.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
