package store

import (
	"fmt"
	"testing"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// snapshotRows makes n on-prem rows with realistic text, 50 an
// organization, grouped by organization as a list in report order is.
func snapshotRows(n int) []report.Row {
	rows := make([]report.Row, n)
	res := &access.Ref{ID: "org-res-1", Name: "BlueHarbor Networks"}
	for i := range rows {
		rows[i] = report.Row{LicenseKey: fmt.Sprintf("MDC-%04X-%04X-XQ2L", i, i*7), ProductID: "metadefender-core",
			ProductName: "MetaDefender Core", Category: license.OnPrem, OrganizationID: fmt.Sprintf("org-cust-%04d", i/50),
			OrganizationName: fmt.Sprintf("Customer Organization %04d GmbH", i/50), Reseller: res, Status: license.Active,
			Type: license.Purchased, StartDate: 20000, ExpirationDate: 20400, Deployed: i % 5, Purchased: 10}
		if i%10 == 0 {
			rows[i].CustomerNote = "Budget for the renewal approved by the CISO."
		}
	}
	return rows
}

// BenchmarkSnapshotRows writes and reads back the rows of a 100,000-license
// report as snapshot chunks, without DynamoDB: the cost of keeping a report
// and of every page request that reads it.
func BenchmarkSnapshotRows(b *testing.B) {
	rows := snapshotRows(100_000)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		var chunks [][]byte
		for i := 0; i < b.N; i++ {
			var err error
			if chunks, _, err = encodeRows(rows, DefaultReportChunkRows); err != nil {
				b.Fatal(err)
			}
		}
		size := 0
		for _, c := range chunks {
			size += len(c)
		}
		b.ReportMetric(float64(len(chunks)), "items")
		b.ReportMetric(float64(size)/1e6, "stored-MB")
	})
	b.Run("decode", func(b *testing.B) {
		chunks, _, err := encodeRows(rows, DefaultReportChunkRows)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			n := 0
			for _, c := range chunks {
				got, err := decodeRows(c, license.OnPrem)
				if err != nil {
					b.Fatal(err)
				}
				n += len(got)
			}
			if n != len(rows) {
				b.Fatalf("decoded %d rows, want %d", n, len(rows))
			}
		}
	})
}

// FuzzDecodeRows holds decodeRows to never panic or loop on a damaged chunk,
// and to read back what encodeRows wrote.
func FuzzDecodeRows(f *testing.F) {
	chunks, _, err := encodeRows(snapshotRows(3), DefaultReportChunkRows)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(chunks[0])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, chunk []byte) {
		rows, err := decodeRows(chunk, license.OnPrem)
		if err != nil {
			return
		}
		again, _, err := encodeRows(rows, len(rows))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > 0 {
			back, err := decodeRows(again[0], license.OnPrem)
			if err != nil || len(back) != len(rows) || back[0].LicenseKey != rows[0].LicenseKey {
				t.Fatalf("round trip of %d rows failed: %v", len(rows), err)
			}
		}
	})
}
