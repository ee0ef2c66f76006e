package store_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/fault"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/store"
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
// and left zero in another, in report order, with long notes on many
// on-prem rows so that they take several chunks.
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
	report.Sort(onPrem)
	report.Sort(cloud)
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

// rawItem reads an item as stored, nil if there is none.
func (w *world) rawItem(pk, sk string) map[string]types.AttributeValue {
	w.t.Helper()
	out, err := w.db.GetItem(w.ctx, &dynamodb.GetItemInput{TableName: aws.String(w.table), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil {
		w.t.Fatalf("GetItem %s %s: %v", pk, sk, err)
	}
	return out.Item
}

// snapshotItems returns every item of a snapshot, read directly: the head's
// partition and each of the chunks' partitions.
func (w *world) snapshotItems(id string) (head map[string]types.AttributeValue, parts, chunks []map[string]types.AttributeValue, partitions int) {
	w.t.Helper()
	head = w.rawItem("REPORT#"+id, "#REPORT")
	parts = w.queryPrefix("REPORT#"+id, "INDEX#")
	for n := range store.ReportShards + 1 { // one more: nothing may be there
		items := w.queryPrefix(fmt.Sprintf("REPORT#%s#%d", id, n), "ROWS#")
		if len(items) > 0 {
			partitions++
		}
		chunks = append(chunks, items...)
	}
	return head, parts, chunks, partitions
}

// checkItemSizes fails the test for any item of the snapshot that is not
// under DynamoDB's 400 KB, and returns the largest.
func (w *world) checkItemSizes(id string) (largest int) {
	w.t.Helper()
	head, parts, chunks, _ := w.snapshotItems(id)
	if head == nil {
		w.t.Fatalf("report %s has no head", id)
	}
	for _, item := range append(append(parts, chunks...), head) {
		size := store.ItemSize(item)
		if size >= 400*1024 {
			w.t.Errorf("item %s %s is %d bytes, want under DynamoDB's 400 KB", attrS(item, "PK"), attrS(item, "SK"), size)
		}
		largest = max(largest, size)
	}
	return largest
}

// allRows reads every row of a list through its index.
func (w *world) allRows(id string, category license.Category) []report.Row {
	w.t.Helper()
	_, list, err := w.s.ReportList(w.ctx, "dist-a", id, category, reportTime)
	if err != nil {
		w.t.Fatalf("ReportList(%s, %s): %v", id, category, err)
	}
	all := make([]int, len(list.Index.Chunks))
	for n := range all {
		all[n] = n
	}
	chunks, err := w.s.ReportChunks(w.ctx, list, all)
	if err != nil {
		w.t.Fatalf("ReportChunks(%s, %s): %v", id, category, err)
	}
	var rows []report.Row
	for _, c := range chunks {
		rows = append(rows, c...)
	}
	return rows
}

// servePage serves a page of a stored list as a page request does, with
// the positions of the view's pinned rows taken from rows (the list as
// made).
func (w *world) servePage(id string, category license.Category, rows []report.Row, v report.View, req report.Request) ([]report.Row, []byte, *store.Stats) {
	w.t.Helper()
	ctx, stats := store.WithStats(w.ctx)
	snap, list, err := w.s.ReportList(ctx, "dist-a", id, category, reportTime)
	if err != nil {
		w.t.Fatalf("ReportList: %v", err)
	}
	req.UseReportDefault(snap.IncludeExpired)
	var pinned []report.Position
	for i := range rows {
		if v.Pins[rows[i].LicenseKey] {
			pinned = append(pinned, report.PositionOf(&rows[i]))
		}
	}
	p := report.NewPager(list.Index, v, req, pinned)
	if err := w.s.ServePage(ctx, list, p); err != nil {
		w.t.Fatalf("ServePage: %v", err)
	}
	out, next := p.Page()
	return out, next, stats
}

// reportTime is a time at which the test snapshots are alive.
var reportTime = time.Date(2025, time.June, 1, 13, 0, 0, 0, time.UTC)

func TestReportRoundTrip(t *testing.T) {
	w := newWorld(t)
	w.s.ReportChunkRows = 5 // more chunks than partitions, and several of the cloud rows
	onPrem, cloud := reportRows(t)
	for range 3 { // more cloud rows, so that they take chunks too
		cloud = append(cloud, cloud...)
	}
	for i := range cloud {
		cloud[i].LicenseKey = fmt.Sprintf("C-%03d", i)
	}
	report.Sort(cloud)
	snap := snapshotOf(t, "rep-1", "dist-a", onPrem, cloud)
	if err := w.s.SaveReport(w.ctx, snap, onPrem, cloud); err != nil {
		t.Fatalf("SaveReport: %v", err)
	}

	t.Run("head", func(t *testing.T) {
		got, err := w.s.Report(w.ctx, "dist-a", "rep-1", snap.GeneratedAt.Add(time.Minute))
		if err != nil {
			t.Fatalf("Report: %v", err)
		}
		want := *snap
		want.Organizations = nil // answered when the report is made, not stored
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("got %+v\nwant %+v", got, &want)
		}
	})

	t.Run("rows", func(t *testing.T) {
		for _, tt := range []struct {
			category license.Category
			want     []report.Row
		}{{license.OnPrem, onPrem}, {license.CloudService, cloud}} {
			got := w.allRows("rep-1", tt.category)
			if len(got) != len(tt.want) {
				t.Fatalf("%s: got %d rows, want %d", tt.category, len(got), len(tt.want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tt.want[i]) {
					t.Errorf("%s row %d:\n got %s\nwant %s", tt.category, i, rowString(got[i]), rowString(tt.want[i]))
				}
			}
		}
	})

	t.Run("chunks", func(t *testing.T) {
		_, parts, chunks, partitions := w.snapshotItems("rep-1")
		var onPremChunks, cloudChunks int
		for _, item := range chunks {
			if strings.HasPrefix(attrS(item, "SK"), "ROWS#onprem#") {
				onPremChunks++
			} else {
				cloudChunks++
			}
		}
		if onPremChunks != 19 || cloudChunks != 5 {
			t.Errorf("%d on-prem and %d cloud chunks, want 19 and 5 (5 rows a chunk)", onPremChunks, cloudChunks)
		}
		if partitions != store.ReportShards {
			t.Errorf("chunks in %d partitions, want %d", partitions, store.ReportShards)
		}
		if len(parts) != 0 {
			t.Errorf("%d index parts, want the index in the head", len(parts))
		}
		t.Logf("%d on-prem chunks, the largest item %d bytes", onPremChunks, w.checkItemSizes("rep-1"))
	})
}

// TestReportChunksBoundedByBytes stores rows with long notes, which gzip
// cannot shrink much: the chunks are cut by their size, not by their rows,
// and stay under DynamoDB's 400 KB.
func TestReportChunksBoundedByBytes(t *testing.T) {
	w := newWorld(t)
	onPrem, _ := reportRows(t)
	if err := w.s.SaveReport(w.ctx, snapshotOf(t, "rep-notes", "dist-a", onPrem, nil), onPrem, nil); err != nil {
		t.Fatalf("SaveReport: %v", err)
	}
	_, _, chunks, _ := w.snapshotItems("rep-notes")
	if len(chunks) < 3 {
		t.Errorf("%d rows took %d chunks, want several (3 or more): the test's notes are too short to prove chunking", len(onPrem), len(chunks))
	}
	t.Logf("%d chunks, the largest item %d bytes", len(chunks), w.checkItemSizes("rep-notes"))
	if got := w.allRows("rep-notes", license.OnPrem); !reflect.DeepEqual(got, onPrem) {
		t.Errorf("got %d rows back, not the %d stored", len(got), len(onPrem))
	}
}

// TestReportRefusesRowsOutOfOrder checks that a snapshot of rows out of
// report order is refused, and nothing of it is stored: its pages could
// not find their rows.
func TestReportRefusesRowsOutOfOrder(t *testing.T) {
	w := newWorld(t)
	onPrem, _ := reportRows(t)
	onPrem[3], onPrem[40] = onPrem[40], onPrem[3]
	if err := w.s.SaveReport(w.ctx, snapshotOf(t, "rep-bad", "dist-a", onPrem, nil), onPrem, nil); err == nil {
		t.Fatal("SaveReport accepted rows out of order")
	}
	head, parts, chunks, _ := w.snapshotItems("rep-bad")
	if head != nil || len(parts)+len(chunks) > 0 {
		t.Errorf("a refused snapshot left %d items", len(parts)+len(chunks)+1)
	}
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
	got := w.allRows("rep-pins", license.OnPrem)
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
		if got := w.allRows("rep-2", license.CloudService); len(got) != 0 {
			t.Errorf("got %d rows, want none", len(got))
		}
		if got := w.allRows("rep-2", license.OnPrem); len(got) != 3 {
			t.Errorf("on-prem: got %d rows, want 3", len(got))
		}
	})
	t.Run("list of an unknown report", func(t *testing.T) {
		_, _, err := w.s.ReportList(w.ctx, "dist-a", "rep-none", license.OnPrem, reportTime)
		if fault.CodeOf(err) != fault.NotFound {
			t.Errorf("got %v, want code %s", err, fault.NotFound)
		}
		_, _, err = w.s.ReportList(w.ctx, "dist-b", "rep-2", license.OnPrem, reportTime)
		if fault.CodeOf(err) != fault.NotFound {
			t.Errorf("another partner: got %v, want code %s", err, fault.NotFound)
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
		got := w.allRows(tt.id, tt.category)
		if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ReportRows(%s, %s): got %d rows, want %d", tt.id, tt.category, len(got), len(tt.want))
		}
	}
}
