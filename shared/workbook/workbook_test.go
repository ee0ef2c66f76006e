package workbook_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/workbook"
)

var (
	licenseHeader = []string{"Organization", "Organization ID", "Reseller", "Product", "License Key",
		"Status", "Type", "Start Date", "Expiration Date", "Deployed", "Purchased", "Customer Note", "Partner Note"}
	cloudHeader = []string{"Organization", "Organization ID", "Reseller", "Product", "License Key",
		"Status", "Type", "Start Date", "Expiration Date", "Scan Limit", "Scans Used", "Customer Note", "Partner Note"}
	deploymentHeader = []string{"Organization", "Product", "License Key", "Deployment ID",
		"Deployment Name", "Activated At", "Last Seen At"}
	sheetNames = []string{"Licenses", "Cloud Services", "Active Deployments"}
)

func date(t *testing.T, s string) license.Date {
	t.Helper()
	d, err := license.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// sample returns the rows and deployments of the fixture workbook, in the
// order they are added; the tests below name their cells.
func sample(t *testing.T) ([]*report.Row, []*workbook.ActiveDeployment) {
	reseller := &access.Ref{ID: "org-r1", Name: "Reseller Ltd"}
	rows := []*report.Row{
		{ // Licenses row 2
			LicenseKey: "KEY-ONPREM-1", ProductName: "MetaDefender Core", Category: license.OnPrem,
			OrganizationID: "org-1", OrganizationName: "Acme Corp", Reseller: reseller,
			Status: license.Active, Type: license.Purchased,
			StartDate: date(t, "2024-01-15"), ExpirationDate: date(t, "2026-12-31"),
			CustomerNote: `=HYPERLINK("http://x")`, Deployed: 3, Purchased: 10,
			PartnerNote: &license.Note{Text: "+1", Version: 2}, Pinned: true,
		},
		{ // Cloud Services row 2
			LicenseKey: "KEY-CLOUD-1", ProductName: "MetaDefender Cloud", Category: license.CloudService,
			OrganizationID: "org-2", OrganizationName: "Ünïcødé 株式会社 🚀",
			Status: license.Expiring, Type: license.Evaluation,
			StartDate: date(t, "2024-01-01"), ExpirationDate: date(t, "2024-02-29"),
			CustomerNote: "-2", ScanLimit: 5000, ScansUsed: nil,
			PartnerNote: &license.Note{Text: "@SUM(A1)", Version: 1},
		},
		{ // Licenses row 3
			LicenseKey: "KEY-ONPREM-2", ProductName: "MetaDefender Kiosk", Category: license.OnPrem,
			OrganizationID: "org-2", OrganizationName: "Ünïcødé 株式会社 🚀",
			Status: license.Expired, Type: license.Evaluation,
			StartDate: date(t, "2023-06-01"), ExpirationDate: date(t, "2023-12-01"),
			CustomerNote: "@SUM(A1)", Deployed: 0, Purchased: 0,
		},
		{ // Cloud Services row 3
			LicenseKey: "KEY-CLOUD-2", ProductName: "MetaDefender Cloud", Category: license.CloudService,
			OrganizationID: "org-1", OrganizationName: "Acme Corp", Reseller: reseller,
			Status: license.Active, Type: license.Purchased,
			StartDate: date(t, "2024-01-01"), ExpirationDate: date(t, "2027-01-01"),
			CustomerNote: "multi\nline\tnote", ScanLimit: 100000, ScansUsed: ptr(0),
		},
		{ // Cloud Services row 4
			LicenseKey: "KEY-CLOUD-3", ProductName: "MetaDefender Cloud", Category: license.CloudService,
			OrganizationID: "org-3", OrganizationName: "Beta GmbH",
			Status: license.Active, Type: license.Purchased,
			StartDate: date(t, "2024-01-01"), ExpirationDate: date(t, "2027-01-01"),
			ScanLimit: 250, ScansUsed: ptr(249),
			// Excel reads _xHHHH_ in text as an escaped character; excelize
			// escapes it so that the text comes back as written.
			PartnerNote: &license.Note{Text: "_x0041_ literal"},
		},
	}
	plus2 := time.FixedZone("UTC+2", 2*3600)
	deps := []*workbook.ActiveDeployment{
		{ // row 2
			OrganizationName: "Acme Corp", ProductName: "MetaDefender Core", LicenseKey: "KEY-ONPREM-1",
			DeploymentID: "dep-1", Name: "=cmd|' /C calc'!A0",
			ActivatedAt: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
			LastSeenAt:  ptr(time.Date(2025, 3, 5, 23, 59, 0, 0, time.UTC)),
		},
		{ // row 3: times given in another zone are written in UTC
			OrganizationName: "Acme Corp", ProductName: "MetaDefender Core", LicenseKey: "KEY-ONPREM-1",
			DeploymentID: "-dep-2", Name: "",
			ActivatedAt: time.Date(2025, 3, 4, 7, 6, 0, 0, plus2),
			LastSeenAt:  nil,
		},
		{ // row 4: a control character cannot be in XML and becomes U+FFFD
			OrganizationName: "Beta GmbH", ProductName: "MetaDefender Core", LicenseKey: "KEY-ONPREM-3",
			DeploymentID: "  spaced  ", Name: "ctrl\x01char",
			ActivatedAt: time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC),
			LastSeenAt:  ptr(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		},
	}
	return rows, deps
}

// build writes a workbook of rows and deps, alternating between the two so
// that all three sheets are being written at once, and returns the file.
func build(t *testing.T, rows []*report.Row, deps []*workbook.ActiveDeployment) ([]byte, export.Counts) {
	t.Helper()
	wb, err := workbook.NewWorkbook()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := wb.Close(); err != nil {
			t.Error(err)
		}
	}()
	for i := 0; i < max(len(rows), len(deps)); i++ {
		if i < len(rows) {
			if err := wb.AddRow(rows[i]); err != nil {
				t.Fatal(err)
			}
		}
		if i < len(deps) {
			if err := wb.AddDeployment(deps[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	n, err := wb.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, int64(buf.Len()); got != want {
		t.Errorf("WriteTo returned %d, wrote %d bytes", got, want)
	}
	return buf.Bytes(), wb.Counts()
}

func open(t *testing.T, b []byte) *excelize.File {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// sheetXML returns the XML of the named worksheet of the file b, found
// through the workbook's relationships as a reader would.
func sheetXML(t *testing.T, b []byte, name string) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[zf.Name] = string(data)
	}
	// workbook.xml: <sheet name="..." sheetId=".." r:id="rIdN">; the rels
	// file maps rIdN to worksheets/sheetK.xml.
	sheetRe := regexp.MustCompile(`<sheet name="` + regexp.QuoteMeta(name) + `"[^>]* r:id="(rId\d+)"`)
	m := sheetRe.FindStringSubmatch(files["xl/workbook.xml"])
	if m == nil {
		t.Fatalf("sheet %q not in workbook.xml", name)
	}
	relRe := regexp.MustCompile(`<Relationship Id="` + m[1] + `" Target="([^"]+)"`)
	r := relRe.FindStringSubmatch(files["xl/_rels/workbook.xml.rels"])
	if r == nil {
		t.Fatalf("relationship %s of sheet %q not found", m[1], name)
	}
	x, ok := files["xl/"+r[1]]
	if !ok {
		t.Fatalf("part xl/%s of sheet %q missing", r[1], name)
	}
	return x
}

func TestWorkbookLayout(t *testing.T) {
	rows, deps := sample(t)
	b, counts := build(t, rows, deps)
	f := open(t, b)

	if got, want := f.GetSheetList(), sheetNames; !slices.Equal(got, want) {
		t.Fatalf("sheets: got %q, want %q", got, want)
	}
	if got, want := counts, (export.Counts{Licenses: 2, CloudServices: 3, ActiveDeployments: 3}); got != want {
		t.Errorf("Counts: got %+v, want %+v", got, want)
	}

	tests := []struct {
		sheet    string
		header   []string
		rows     int
		lastCell string // bottom-right cell of the auto-filter
	}{
		{"Licenses", licenseHeader, counts.Licenses, "M3"},
		{"Cloud Services", cloudHeader, counts.CloudServices, "M4"},
		{"Active Deployments", deploymentHeader, counts.ActiveDeployments, "G4"},
	}
	for _, tt := range tests {
		t.Run(tt.sheet, func(t *testing.T) {
			got, err := f.GetRows(tt.sheet)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || !slices.Equal(got[0], tt.header) {
				t.Fatalf("header: got %q, want %q", got[:min(len(got), 1)], tt.header)
			}
			if got, want := len(got)-1, tt.rows; got != want {
				t.Errorf("data rows: got %d, want %d", got, want)
			}

			// The header is bold.
			for i := range tt.header {
				cell, _ := excelize.CoordinatesToCellName(i+1, 1)
				id, err := f.GetCellStyle(tt.sheet, cell)
				if err != nil {
					t.Fatal(err)
				}
				st, err := f.GetStyle(id)
				if err != nil {
					t.Fatal(err)
				}
				if st.Font == nil || !st.Font.Bold {
					t.Errorf("%s: header cell not bold (style %d)", cell, id)
				}
			}

			// The header row is frozen.
			panes, err := f.GetPanes(tt.sheet)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := [3]any{panes.Freeze, panes.YSplit, panes.TopLeftCell}, [3]any{true, 1, "A2"}; got != want {
				t.Errorf("panes (freeze, ySplit, topLeft): got %v, want %v", got, want)
			}

			// The auto-filter covers the header and the data, in the sheet and
			// as the hidden defined name Excel keeps next to it.
			x := sheetXML(t, b, tt.sheet)
			wantRef := "$A$1:$" + strings.TrimRight(tt.lastCell, "0123456789") + "$" + strings.TrimLeft(tt.lastCell, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
			if got, want := regexp.MustCompile(`<autoFilter ref="([^"]*)"`).FindStringSubmatch(x), wantRef; got == nil || got[1] != want {
				t.Errorf("autoFilter: got %q, want ref %q", got, want)
			}
			var filterName string
			for _, dn := range f.GetDefinedName() {
				if dn.Name == "_xlnm._FilterDatabase" && dn.Scope == tt.sheet {
					filterName = dn.RefersTo
				}
			}
			if got, want := filterName, "'"+tt.sheet+"'!"+wantRef; got != want {
				t.Errorf("_FilterDatabase: got %q, want %q", got, want)
			}

			// No formula anywhere in the sheet.
			if strings.Contains(x, "<f>") || strings.Contains(x, "<f ") {
				t.Errorf("sheet XML holds a formula element")
			}

			// Every column has a set width that fits its header and the
			// filter button.
			for i, title := range tt.header {
				col, _ := excelize.ColumnNumberToName(i + 1)
				w, err := f.GetColWidth(tt.sheet, col)
				if err != nil {
					t.Fatal(err)
				}
				if min := float64(len(title) + 3); w < min || w > 60 {
					t.Errorf("width of column %s (%s): got %v, want between %v and 60", col, title, w, min)
				}
			}
		})
	}
}

// kind is what a cell must hold.
type kind int

const (
	textCell      kind = iota // an inline or shared string, never a formula
	numberCell                // a number in General format
	dateCell                  // a date serial formatted yyyy-mm-dd
	timestampCell             // a date-time serial formatted yyyy-mm-dd hh:mm
	emptyCell
)

func TestWorkbookCells(t *testing.T) {
	rows, deps := sample(t)
	b, _ := build(t, rows, deps)
	f := open(t, b)

	tests := []struct {
		sheet, cell string
		kind        kind
		want        string // the value as displayed (formatted)
		raw         string // for dates, the serial number; "" to skip
	}{
		{"Licenses", "A2", textCell, "Acme Corp", ""},
		{"Licenses", "B2", textCell, "org-1", ""},
		{"Licenses", "C2", textCell, "Reseller Ltd", ""},
		{"Licenses", "D2", textCell, "MetaDefender Core", ""},
		{"Licenses", "E2", textCell, "KEY-ONPREM-1", ""},
		{"Licenses", "F2", textCell, "active", ""},
		{"Licenses", "G2", textCell, "purchased", ""},
		{"Licenses", "H2", dateCell, "2024-01-15", "45306"},
		{"Licenses", "I2", dateCell, "2026-12-31", "46387"},
		{"Licenses", "J2", numberCell, "3", ""},
		{"Licenses", "K2", numberCell, "10", ""},
		{"Licenses", "L2", textCell, `=HYPERLINK("http://x")`, ""},
		{"Licenses", "M2", textCell, "+1", ""},
		{"Licenses", "A3", textCell, "Ünïcødé 株式会社 🚀", ""},
		{"Licenses", "C3", emptyCell, "", ""},
		{"Licenses", "F3", textCell, "expired", ""},
		{"Licenses", "G3", textCell, "evaluation", ""},
		{"Licenses", "J3", numberCell, "0", ""},
		{"Licenses", "K3", numberCell, "0", ""},
		{"Licenses", "L3", textCell, "@SUM(A1)", ""},
		{"Licenses", "M3", emptyCell, "", ""},

		{"Cloud Services", "A2", textCell, "Ünïcødé 株式会社 🚀", ""},
		{"Cloud Services", "C2", emptyCell, "", ""},
		{"Cloud Services", "D2", textCell, "MetaDefender Cloud", ""},
		{"Cloud Services", "F2", textCell, "expiring", ""},
		{"Cloud Services", "H2", dateCell, "2024-01-01", "45292"},
		{"Cloud Services", "I2", dateCell, "2024-02-29", "45351"},
		{"Cloud Services", "J2", numberCell, "5000", ""},
		{"Cloud Services", "K2", emptyCell, "", ""}, // scansUsed nil
		{"Cloud Services", "L2", textCell, "-2", ""},
		{"Cloud Services", "M2", textCell, "@SUM(A1)", ""},
		{"Cloud Services", "C3", textCell, "Reseller Ltd", ""},
		{"Cloud Services", "J3", numberCell, "100000", ""},
		{"Cloud Services", "K3", numberCell, "0", ""}, // scansUsed 0 is a number, not empty
		{"Cloud Services", "L3", textCell, "multi\nline\tnote", ""},
		{"Cloud Services", "K4", numberCell, "249", ""},
		{"Cloud Services", "L4", emptyCell, "", ""},
		{"Cloud Services", "M4", textCell, "_x0041_ literal", ""},

		{"Active Deployments", "A2", textCell, "Acme Corp", ""},
		{"Active Deployments", "B2", textCell, "MetaDefender Core", ""},
		{"Active Deployments", "C2", textCell, "KEY-ONPREM-1", ""},
		{"Active Deployments", "D2", textCell, "dep-1", ""},
		{"Active Deployments", "E2", textCell, "=cmd|' /C calc'!A0", ""},
		{"Active Deployments", "F2", timestampCell, "2025-03-04 05:06", ""},
		{"Active Deployments", "G2", timestampCell, "2025-03-05 23:59", ""},
		{"Active Deployments", "D3", textCell, "-dep-2", ""},
		{"Active Deployments", "E3", emptyCell, "", ""},
		{"Active Deployments", "F3", timestampCell, "2025-03-04 05:06", ""},
		{"Active Deployments", "G3", emptyCell, "", ""},
		{"Active Deployments", "D4", textCell, "  spaced  ", ""},
		{"Active Deployments", "E4", textCell, "ctrl\uFFFDchar", ""},
		{"Active Deployments", "F4", timestampCell, "2024-12-31 23:59", ""},
		{"Active Deployments", "G4", timestampCell, "2025-01-01 00:00", "45658"},
	}
	for _, tt := range tests {
		t.Run(tt.sheet+"!"+tt.cell, func(t *testing.T) {
			got, err := f.GetCellValue(tt.sheet, tt.cell)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("value: got %q, want %q", got, tt.want)
			}
			formula, err := f.GetCellFormula(tt.sheet, tt.cell)
			if err != nil {
				t.Fatal(err)
			}
			if formula != "" {
				t.Errorf("formula: got %q, want none", formula)
			}
			typ, err := f.GetCellType(tt.sheet, tt.cell)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := f.GetCellValue(tt.sheet, tt.cell, excelize.Options{RawCellValue: true})
			if err != nil {
				t.Fatal(err)
			}
			numFmt := cellNumFmt(t, f, tt.sheet, tt.cell)

			switch tt.kind {
			case textCell:
				if typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
					t.Errorf("type: got %v, want a string", typ)
				}
			case emptyCell:
				if typ != excelize.CellTypeUnset || raw != "" {
					t.Errorf("got type %v, raw %q; want an empty cell", typ, raw)
				}
			case numberCell, dateCell, timestampCell:
				// A numeric cell has no t attribute (or t="n").
				if typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
					t.Errorf("type: got %v, want a number", typ)
				}
				if _, err := strconv.ParseFloat(raw, 64); err != nil {
					t.Errorf("raw value: got %q, want a number", raw)
				}
				wantFmt := map[kind]string{numberCell: "", dateCell: "yyyy-mm-dd", timestampCell: "yyyy-mm-dd hh:mm"}[tt.kind]
				if numFmt != wantFmt {
					t.Errorf("number format: got %q, want %q", numFmt, wantFmt)
				}
			}
			if tt.raw != "" && raw != tt.raw {
				t.Errorf("raw value: got %q, want %q", raw, tt.raw)
			}
		})
	}
}

// cellNumFmt returns the custom number format of a cell, "" for none.
func cellNumFmt(t *testing.T, f *excelize.File, sheet, cell string) string {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	if st.CustomNumFmt != nil {
		return *st.CustomNumFmt
	}
	if st.NumFmt != 0 {
		return "builtin:" + strconv.Itoa(st.NumFmt)
	}
	return ""
}

func TestWorkbookEmpty(t *testing.T) {
	b, counts := build(t, nil, nil)
	f := open(t, b)
	if got, want := counts, (export.Counts{}); got != want {
		t.Errorf("Counts: got %+v, want %+v", got, want)
	}
	if got, want := f.GetSheetList(), sheetNames; !slices.Equal(got, want) {
		t.Fatalf("sheets: got %q, want %q", got, want)
	}
	for i, header := range [][]string{licenseHeader, cloudHeader, deploymentHeader} {
		rows, err := f.GetRows(sheetNames[i])
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || !slices.Equal(rows[0], header) {
			t.Errorf("%s: got rows %q, want only the header %q", sheetNames[i], rows, header)
		}
		last, _ := excelize.ColumnNumberToName(len(header))
		x := sheetXML(t, b, sheetNames[i])
		if got, want := regexp.MustCompile(`<autoFilter ref="([^"]*)"`).FindStringSubmatch(x), "$A$1:$"+last+"$1"; got == nil || got[1] != want {
			t.Errorf("%s autoFilter: got %q, want ref %q", sheetNames[i], got, want)
		}
	}
}

// TestWorkbookRowOrder checks that interleaved rows keep their order within
// each sheet, with enough rows to go past excelize's in-memory chunk of a
// stream writer.
func TestWorkbookRowOrder(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 60 MB of sheets")
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where excelize puts its stream temp files

	const n = 30000
	note := strings.Repeat("lorem ipsum ", 50)
	wb, err := workbook.NewWorkbook()
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	for i := range n {
		cat := license.OnPrem
		if i%3 == 0 {
			cat = license.CloudService
		}
		key := "K" + strconv.Itoa(i)
		if err := wb.AddRow(&report.Row{LicenseKey: key, Category: cat, CustomerNote: note}); err != nil {
			t.Fatal(err)
		}
		if err := wb.AddDeployment(&workbook.ActiveDeployment{LicenseKey: key, DeploymentID: "D" + strconv.Itoa(i),
			Name: note, ActivatedAt: time.Unix(int64(i)*60, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := os.Create(tmp + "/out.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := wb.WriteTo(out); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) < 2 {
		t.Errorf("temp dir holds %d entries before Close, want the output and excelize's spill files", len(entries))
	}
	if err := wb.Close(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(tmp)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := names, []string{"out.xlsx"}; !slices.Equal(got, want) {
		t.Errorf("temp dir after Close: got %q, want %q", got, want)
	}

	if _, err := out.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(out)
	if err != nil {
		t.Fatal(err)
	}
	f := open(t, b)
	for _, tt := range []struct {
		sheet string
		col   int
		keys  func(yield func(string) bool)
	}{
		{"Licenses", 5, keysWhere(n, func(i int) bool { return i%3 != 0 }, "K")},
		{"Cloud Services", 5, keysWhere(n, func(i int) bool { return i%3 == 0 }, "K")},
		{"Active Deployments", 4, keysWhere(n, func(int) bool { return true }, "D")},
	} {
		rows, err := f.Rows(tt.sheet)
		if err != nil {
			t.Fatal(err)
		}
		rows.Next() // header
		next := 0
		for want := range tt.keys {
			if !rows.Next() {
				t.Errorf("%s: %d rows, want more", tt.sheet, next)
				break
			}
			cols, err := rows.Columns(excelize.Options{RawCellValue: true}) // formatting dates is slow
			if err != nil {
				t.Fatal(err)
			}
			if got := cols[tt.col-1]; got != want {
				t.Errorf("%s row %d: got %q, want %q", tt.sheet, next+2, got, want)
				break
			}
			next++
		}
		if rows.Next() {
			t.Errorf("%s: more rows than the %d added", tt.sheet, next)
		}
		_ = rows.Close()
	}
}

func keysWhere(n int, keep func(int) bool, prefix string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for i := range n {
			if keep(i) && !yield(prefix+strconv.Itoa(i)) {
				return
			}
		}
	}
}

func TestWorkbookLifecycle(t *testing.T) {
	row := &report.Row{LicenseKey: "K", Category: license.OnPrem}
	dep := &workbook.ActiveDeployment{DeploymentID: "D", ActivatedAt: time.Now()}
	tests := []struct {
		name string
		run  func(wb *workbook.Workbook) error
		ok   bool
	}{
		{"unknown category", func(wb *workbook.Workbook) error { return wb.AddRow(&report.Row{Category: "hardware"}) }, false},
		{"nil row", func(wb *workbook.Workbook) error { return wb.AddRow(nil) }, false},
		{"nil deployment", func(wb *workbook.Workbook) error { return wb.AddDeployment(nil) }, false},
		{"row after WriteTo", func(wb *workbook.Workbook) error {
			if _, err := wb.WriteTo(io.Discard); err != nil {
				return err
			}
			return wb.AddRow(row)
		}, false},
		{"deployment after WriteTo", func(wb *workbook.Workbook) error {
			if _, err := wb.WriteTo(io.Discard); err != nil {
				return err
			}
			return wb.AddDeployment(dep)
		}, false},
		{"second WriteTo", func(wb *workbook.Workbook) error {
			if _, err := wb.WriteTo(io.Discard); err != nil {
				return err
			}
			_, err := wb.WriteTo(io.Discard)
			return err
		}, false},
		{"WriteTo after Close", func(wb *workbook.Workbook) error {
			if err := wb.Close(); err != nil {
				return err
			}
			_, err := wb.WriteTo(io.Discard)
			return err
		}, false},
		{"Close twice", func(wb *workbook.Workbook) error {
			if _, err := wb.WriteTo(io.Discard); err != nil {
				return err
			}
			if err := wb.Close(); err != nil {
				return err
			}
			return wb.Close()
		}, true},
		{"Close without WriteTo", func(wb *workbook.Workbook) error {
			if err := wb.AddRow(row); err != nil {
				return err
			}
			return wb.Close()
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wb, err := workbook.NewWorkbook()
			if err != nil {
				t.Fatal(err)
			}
			defer wb.Close()
			err = tt.run(wb)
			if got, want := err == nil, tt.ok; got != want {
				t.Errorf("got error %v, want success %v", err, want)
			}
		})
	}
}

func TestWorkbookWriteError(t *testing.T) {
	wb, err := workbook.NewWorkbook()
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if err := wb.AddRow(&report.Row{LicenseKey: "K", Category: license.OnPrem}); err != nil {
		t.Fatal(err)
	}
	want := errors.New("disk full")
	if _, err := wb.WriteTo(failingWriter{want}); !errors.Is(err, want) {
		t.Errorf("got %v, want %v", err, want)
	}
}

func TestWorkbookSheetFull(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a million rows")
	}
	wb, err := workbook.NewWorkbook()
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	// Empty deployments make rows with no cells: the cheapest way to fill a sheet.
	empty := &workbook.ActiveDeployment{}
	for i := range excelize.TotalRows - 1 {
		if err := wb.AddDeployment(empty); err != nil {
			t.Fatalf("row %d: %v", i+2, err)
		}
	}
	if err := wb.AddDeployment(empty); !errors.Is(err, workbook.ErrSheetFull) {
		t.Errorf("row %d: got %v, want %v", excelize.TotalRows+1, err, workbook.ErrSheetFull)
	}
	if got, want := wb.Counts().ActiveDeployments, excelize.TotalRows-1; got != want {
		t.Errorf("ActiveDeployments: got %d, want %d", got, want)
	}
	// The other sheets still take rows.
	if err := wb.AddRow(&report.Row{LicenseKey: "K", Category: license.OnPrem}); err != nil {
		t.Error(err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestWorkbookCountsJSON(t *testing.T) {
	b, err := json.Marshal(export.Counts{Licenses: 1, CloudServices: 2, ActiveDeployments: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"licenses":1,"cloudServices":2,"activeDeployments":3}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
