package workbook_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/xuri/excelize/v2"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/portal"
	"github.com/partnerportal/licenses/shared/store"
	"github.com/partnerportal/licenses/shared/testenv"
	"github.com/partnerportal/licenses/shared/workbook"
)

// get fetches a URL as a browser would and returns the status and body.
func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

// Presigned links checked by an S3 server that verifies signatures and
// expiry (versitygw): a fresh link downloads the workbook, a tampered or an
// expired one is refused.
func TestPresignedLinks(t *testing.T) {
	client, bucket := testenv.SigningS3(t)
	st := testenv.Store(t)
	cfg := demo.Small()
	cfg.Customers, cfg.Licenses = 10, 60
	doc := demo.Generate(cfg, license.DateOf(time.Now()))
	ds, err := dataset.Check(&doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), ds, store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	files, err := workbook.NewFiles(client, s3.NewPresignClient(client), bucket, 2*time.Second, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := portal.New(st, portal.Config{ExpiringWindow: 30, Now: time.Now, Today: license.TodayOf(time.Now),
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Exports: &portal.ExportConfig{Files: files, Retention: time.Hour, SyncLimit: 10_000}})
	if err != nil {
		t.Fatal(err)
	}
	e, err := svc.CreateExport(context.Background(), "dist-1-admin", portal.Selection{All: true})
	if err != nil {
		t.Fatal(err)
	}
	link := e.URL
	if d := time.Until(*e.ExpiresAt); d > 2*time.Second || d < 0 {
		t.Errorf("expiresAt is %s away, want within the 2 s lifetime", d)
	}

	status, body := get(t, link)
	if status != 200 {
		t.Fatalf("fresh link: status %d: %s", status, body)
	}
	f, err := excelize.OpenReader(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("the download is not a workbook: %v", err)
	}
	rows, _ := f.GetRows("Licenses")
	if len(rows)-1 != e.Counts.Licenses || len(rows) < 2 {
		t.Errorf("Licenses sheet has %d rows, counts say %d", len(rows)-1, e.Counts.Licenses)
	}
	f.Close()

	u, _ := url.Parse(link)
	q := u.Query()
	sig := q.Get("X-Amz-Signature")
	tampered := []struct{ name, url string }{
		{"signature changed", replaceQuery(u, "X-Amz-Signature", flip(sig))},
		{"another object", strings.Replace(link, ".xlsx?", "x.xlsx?", 1)},
		{"longer lifetime", replaceQuery(u, "X-Amz-Expires", "604800")},
	}
	for _, tt := range tampered {
		if status, body := get(t, tt.url); status != 403 {
			t.Errorf("%s: status %d, want 403: %s", tt.name, status, body)
		}
	}

	time.Sleep(3 * time.Second)
	if status, body := get(t, link); status != 403 || !strings.Contains(string(body), "xpired") {
		t.Errorf("expired link: status %d, want 403 for expiry: %s", status, body)
	}
	// A new link for the same export works again.
	fresh, err := svc.Export(context.Background(), "dist-1-admin", e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, fresh.URL); status != 200 {
		t.Errorf("a new link after expiry: status %d", status)
	}
}

func replaceQuery(u *url.URL, key, value string) string {
	c := *u
	q := c.Query()
	q.Set(key, value)
	c.RawQuery = q.Encode()
	return c.String()
}

// flip changes the last hex digit of a signature.
func flip(sig string) string {
	if sig == "" {
		return "0"
	}
	last := sig[len(sig)-1]
	if last == '0' {
		last = '1'
	} else {
		last = '0'
	}
	return sig[:len(sig)-1] + string(last)
}
