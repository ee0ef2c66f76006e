package store_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// noteRunes are drawn for customer notes: ASCII, characters JSON escapes,
// two-, three- and four-byte UTF-8.
var noteRunes = []rune("abcXYZ019 .,;=+-@<>&\"\\\n\tüßéÆ€東京語한글😀🚀")

// randomNote returns n characters that gzip cannot shrink much, so that
// chunks are about as large as the store lets them be.
func randomNote(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteRune(noteRunes[rng.IntN(len(noteRunes))])
	}
	return b.String()
}

// reportRows returns on-prem and cloud rows with every field set in some row
// and left zero in another, in an order that is not sorted, with long notes
// on many on-prem rows so that they take several chunks.
func reportRows(t *testing.T) (onPrem, cloud []report.Row) {
	rng := rand.New(rand.NewPCG(7, 11))
	reseller := &access.Ref{ID: "res-a", Name: "Reseller A — Ünïcode"}
	statuses := []license.Status{license.Active, license.Expiring, license.Expired}
	types := []license.Type{license.Purchased, license.Evaluation}
	for i := range 90 {
		r := report.Row{
			LicenseKey: fmt.Sprintf("KEY-%03d", 90-i), ProductID: "core", ProductName: "MetaDefender Core", Category: license.OnPrem,
			OrganizationID: fmt.Sprintf("cust-%d", i%7), OrganizationName: fmt.Sprintf("Organisation %d — 東京", i%7),
			Status: statuses[i%3], Type: types[i%2],
			StartDate: mustDate(t, "2024-01-01").AddDays(i), ExpirationDate: mustDate(t, "2025-06-01").AddDays(3 * i),
			Deployed: i % 4, Purchased: 3 + i%5,
		}
		if i%2 == 0 {
			r.Reseller = reseller
		}
		switch i % 3 {
		case 0, 2:
			r.CustomerNote = randomNote(rng, 10000)
		case 1:
			r.CustomerNote = "=HYPERLINK(\"x\") short note"
		}
		onPrem = append(onPrem, r)
	}
	// A fully deployed license with nothing optional.
	onPrem = append(onPrem, report.Row{LicenseKey: "KEY-ZERO", ProductID: "core", ProductName: "MetaDefender Core", Category: license.OnPrem,
		OrganizationID: "cust-0", OrganizationName: "Organisation 0", Status: license.Expired, Type: license.Evaluation})

	cloud = []report.Row{
		{LicenseKey: "C-2", ProductID: "cloud", ProductName: "MetaDefender Cloud", Category: license.CloudService,
			OrganizationID: "cust-1", OrganizationName: "Organisation 1", Reseller: reseller, Status: license.Active, Type: license.Purchased,
			StartDate: mustDate(t, "2025-01-01"), ExpirationDate: mustDate(t, "2026-01-01"), ScanLimit: 1000, ScansUsed: ptrTo(250),
			CustomerNote: "@cloud"},
		{LicenseKey: "C-1", ProductID: "cloud", ProductName: "MetaDefender Cloud", Category: license.CloudService,
			OrganizationID: "cust-2", OrganizationName: "Organisation 2", Status: license.Expiring, Type: license.Evaluation,
			StartDate: mustDate(t, "2025-05-01"), ExpirationDate: mustDate(t, "2025-06-10"), ScanLimit: 500, ScansUsed: nil},
		{LicenseKey: "C-3", ProductID: "cloud", ProductName: "MetaDefender Cloud", Category: license.CloudService,
			OrganizationID: "cust-2", OrganizationName: "Organisation 2", Status: license.Expired, Type: license.Purchased,
			StartDate: mustDate(t, "2024-01-01"), ExpirationDate: mustDate(t, "2024-12-31"), ScanLimit: 0, ScansUsed: ptrTo(0)},
	}
	return onPrem, cloud
}

// snapshotOf returns a snapshot of the rows that expires a day after it was made.
func snapshotOf(t *testing.T, id, partner string, onPrem, cloud []report.Row) *report.Snapshot {
	generated := time.Date(2025, time.June, 1, 12, 34, 56, 789000000, time.UTC)
	return &report.Snapshot{
		ID: id, PartnerID: partner, UserID: "u-multi", GeneratedAt: generated, Today: license.DateOf(generated),
		Window: 45, IncludeExpired: true,
		Organizations: []access.Ref{{ID: "cust-0", Name: "Organisation 0"}, {ID: "cust-1", Name: "Organisation 1 — 東京"}},
		Overview:      report.Overviews(onPrem, cloud),
		ExpiresAt:     generated.Add(report.Lifetime).Truncate(time.Second),
	}
}

// itemSize is an item's size as DynamoDB counts it: names and values.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value)
		default:
			n += 8
		}
	}
	return n
}

func TestReportRoundTrip(t *testing.T) {
	w := newWorld(t)
	onPrem, cloud := reportRows(t)
	snap := snapshotOf(t, "rep-1", "dist-a", onPrem, cloud)
	if err := w.s.SaveReport(w.ctx, snap, onPrem, cloud); err != nil {
		t.Fatalf("SaveReport: %v", err)
	}

	t.Run("head", func(t *testing.T) {
		got, err := w.s.Report(w.ctx, "dist-a", "rep-1", snap.GeneratedAt.Add(time.Minute))
		if err != nil {
			t.Fatalf("Report: %v", err)
		}
		if !reflect.DeepEqual(got, snap) {
			t.Errorf("got %+v\nwant %+v", got, snap)
		}
	})

	t.Run("rows", func(t *testing.T) {
		for _, tt := range []struct {
			category license.Category
			want     []report.Row
		}{{license.OnPrem, onPrem}, {license.CloudService, cloud}} {
			got, err := w.s.ReportRows(w.ctx, "rep-1", tt.category)
			if err != nil {
				t.Fatalf("ReportRows(%s): %v", tt.category, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ReportRows(%s): got %d rows, want %d", tt.category, len(got), len(tt.want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tt.want[i]) {
					t.Errorf("ReportRows(%s)[%d]:\n got %s\nwant %s", tt.category, i, rowString(got[i]), rowString(tt.want[i]))
				}
			}
		}
	})

	t.Run("chunks", func(t *testing.T) {
		onPremChunks := w.queryPrefix("REPORT#rep-1", "ROWS#onprem#")
		cloudChunks := w.queryPrefix("REPORT#rep-1", "ROWS#cloud#")
		if len(onPremChunks) < 3 {
			t.Errorf("on-prem rows took %d chunks, want several (3 or more): the test's notes are too short to prove chunking", len(onPremChunks))
		}
		if len(cloudChunks) != 1 {
			t.Errorf("cloud rows took %d chunks, want 1", len(cloudChunks))
		}
		largest := 0
		for _, item := range append(onPremChunks, cloudChunks...) {
			size := itemSize(item)
			if size >= 400*1024 {
				t.Errorf("chunk %s is %d bytes, want under DynamoDB's 400 KB", attrS(item, "SK"), size)
			}
			largest = max(largest, size)
		}
		t.Logf("%d on-prem chunks, the largest chunk %d bytes", len(onPremChunks), largest)
	})
}

// rowString shows a row with its pointers followed and long notes cut.
func rowString(r report.Row) string {
	note := r.CustomerNote
	if len(note) > 40 {
		note = fmt.Sprintf("%.40s... (%d bytes)", note, len(note))
	}
	r.CustomerNote = note
	s := fmt.Sprintf("%+v", r)
	if r.Reseller != nil {
		s += fmt.Sprintf(" reseller=%+v", *r.Reseller)
	}
	if r.ScansUsed != nil {
		s += fmt.Sprintf(" scansUsed=%d", *r.ScansUsed)
	}
	return s
}

// TestReportRowsLeaveOutPinsAndNotes checks that a snapshot keeps neither
// pins nor partner notes: they belong to the user and the partner and change
// after the report is made, so pages fill them in.
func TestReportRowsLeaveOutPinsAndNotes(t *testing.T) {
	w := newWorld(t)
	onPrem, _ := reportRows(t)
	onPrem = onPrem[:2]
	saved := append([]report.Row(nil), onPrem...)
	saved[0].Pinned = true
	saved[0].PartnerNote = &license.Note{Text: "n", Version: 3, UpdatedBy: "u", UpdatedAt: importNow}
	snap := snapshotOf(t, "rep-pins", "dist-a", saved, nil)
	if err := w.s.SaveReport(w.ctx, snap, saved, nil); err != nil {
		t.Fatalf("SaveReport: %v", err)
	}
	got, err := w.s.ReportRows(w.ctx, "rep-pins", license.OnPrem)
	if err != nil {
		t.Fatalf("ReportRows: %v", err)
	}
	if len(got) != 2 || got[0].Pinned || got[0].PartnerNote != nil || !reflect.DeepEqual(got, onPrem) {
		t.Errorf("got %d rows, first pinned %v with note %v, want the rows without pin or note", len(got), got[0].Pinned, got[0].PartnerNote)
	}
}

func TestReportNotFound(t *testing.T) {
	w := newWorld(t)
	onPrem, _ := reportRows(t)
	onPrem = onPrem[:3]
	snap := snapshotOf(t, "rep-2", "dist-a", onPrem, nil)
	if err := w.s.SaveReport(w.ctx, snap, onPrem, nil); err != nil {
		t.Fatalf("SaveReport: %v", err)
	}
	tests := []struct {
		name      string
		partner   string
		id        string
		now       time.Time
		wantFound bool
	}{
		{"its partner, just made", "dist-a", "rep-2", snap.GeneratedAt, true},
		{"its partner, a second before it expires", "dist-a", "rep-2", snap.ExpiresAt.Add(-time.Second), true},
		{"its partner, when it expires", "dist-a", "rep-2", snap.ExpiresAt, false},
		{"its partner, after it expired", "dist-a", "rep-2", snap.ExpiresAt.Add(time.Hour), false},
		{"another partner", "dist-b", "rep-2", snap.GeneratedAt, false},
		{"the reseller of the same customers", "res-a", "rep-2", snap.GeneratedAt, false},
		{"unknown id", "dist-a", "rep-none", snap.GeneratedAt, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.s.Report(w.ctx, tt.partner, tt.id, tt.now)
			switch {
			case tt.wantFound && err != nil:
				t.Errorf("got %v, want the report", err)
			case tt.wantFound && got.ID != tt.id:
				t.Errorf("got report %q, want %q", got.ID, tt.id)
			case !tt.wantFound && fault.CodeOf(err) != fault.NotFound:
				t.Errorf("got %+v, %v, want code %s", got, err, fault.NotFound)
			}
		})
	}

	t.Run("rows of the other category", func(t *testing.T) {
		got, err := w.s.ReportRows(w.ctx, "rep-2", license.CloudService)
		if err != nil || len(got) != 0 {
			t.Errorf("got %d rows, %v, want none", len(got), err)
		}
		got, err = w.s.ReportRows(w.ctx, "rep-2", license.OnPrem)
		if err != nil || len(got) != 3 {
			t.Errorf("on-prem: got %d rows, %v, want 3", len(got), err)
		}
	})
	t.Run("rows of an unknown report", func(t *testing.T) {
		got, err := w.s.ReportRows(w.ctx, "rep-none", license.OnPrem)
		if err != nil || len(got) != 0 {
			t.Errorf("got %d rows, %v, want none", len(got), err)
		}
	})
}

// TestReportsApart saves two reports and checks that each reads its own rows.
func TestReportsApart(t *testing.T) {
	w := newWorld(t)
	onPrem, cloud := reportRows(t)
	first, second := onPrem[:5], onPrem[5:9]
	if err := w.s.SaveReport(w.ctx, snapshotOf(t, "rep-a", "dist-a", first, cloud), first, cloud); err != nil {
		t.Fatalf("SaveReport: %v", err)
	}
	if err := w.s.SaveReport(w.ctx, snapshotOf(t, "rep-a2", "dist-a", second, nil), second, nil); err != nil {
		t.Fatalf("SaveReport: %v", err)
	}
	for _, tt := range []struct {
		id       string
		category license.Category
		want     []report.Row
	}{
		{"rep-a", license.OnPrem, first}, {"rep-a", license.CloudService, cloud},
		{"rep-a2", license.OnPrem, second}, {"rep-a2", license.CloudService, nil},
	} {
		got, err := w.s.ReportRows(w.ctx, tt.id, tt.category)
		if err != nil {
			t.Fatalf("ReportRows(%s, %s): %v", tt.id, tt.category, err)
		}
		if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ReportRows(%s, %s): got %d rows, want %d", tt.id, tt.category, len(got), len(tt.want))
		}
	}
}
