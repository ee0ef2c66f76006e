package workbook_test

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/partnerportal/licenses/shared/access"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
	"github.com/partnerportal/licenses/shared/workbook"
)

// The large tenant of the benchmarks: 100,000 licenses (80% on-prem, 20%
// cloud services) and 250,000 active deployments.
const (
	benchLicenses    = 100_000
	benchDeployments = 250_000
	benchOrgs        = 1_000
)

// tenant generates the rows of the large tenant deterministically and on the
// fly, one reused Row at a time, so that the benchmarks measure the writer's
// memory and not the data set's: the real export streams its rows from the
// store organization by organization in the same way.
type tenant struct {
	orgs         []benchOrg
	onPrem       []string
	cloud        []string
	notes        []string
	partnerNotes []license.Note
	hosts        []string
	base         license.Date
	epoch        time.Time

	row report.Row
	dep workbook.ActiveDeployment
	key [24]byte
}

type benchOrg struct {
	name, id string
	reseller *access.Ref
}

func newTenant() *tenant {
	words := []string{"Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Litware", "Adventure",
		"Proseware", "Lucerne", "Humongous", "Margie's", "Coho", "Alpine", "Blue Yonder", "Trey", "Wide World"}
	kinds := []string{"Traders", "Insurance", "Bank", "Hospital", "Energy", "Logistics", "Airlines", "Research"}
	forms := []string{"GmbH", "Ltd.", "Inc.", "S.A.", "AG", "Kft.", "Corp.", "B.V."}
	t := &tenant{
		onPrem: []string{"MetaDefender Core", "MetaDefender Kiosk", "MetaDefender ICAP Server",
			"MetaDefender Email Security", "MetaDefender Vault", "MetaDefender Drive"},
		cloud: []string{"MetaDefender Cloud", "MetaDefender Cloud Sandbox"},
		base:  license.Date(19358), // 2023-01-01
		epoch: time.Date(2023, 1, 1, 8, 0, 0, 0, time.UTC),
	}
	resellers := make([]*access.Ref, 20)
	for i := range resellers {
		resellers[i] = &access.Ref{ID: fmt.Sprintf("org-r%04d", i), Name: fmt.Sprintf("%s Solutions Partner %d", words[i%len(words)], i)}
	}
	for i := range benchOrgs {
		o := benchOrg{
			name: fmt.Sprintf("%s %s %s %03d", words[i%len(words)], kinds[(i/len(words))%len(kinds)], forms[i%len(forms)], i),
			id:   fmt.Sprintf("org-%08x", mix(uint64(i))>>32),
		}
		if i%10 < 7 {
			o.reseller = resellers[i%len(resellers)]
		}
		t.orgs = append(t.orgs, o)
	}
	phrases := []string{
		"Renewal handled by procurement, contact before expiry.",
		"Used by the SOC team in Frankfurt; two nodes are on standby for disaster recovery and do not count.",
		"=HYPERLINK(\"http://intranet/licenses\")",
		"-- migrated from the old portal --",
		"PO 4500123456",
		"Customer asked for a 90-day extension while the new hardware is delivered. Approved by the regional sales manager; see ticket SUP-10293 for the full thread and attachments.",
	}
	t.notes = phrases
	for i, p := range phrases {
		t.partnerNotes = append(t.partnerNotes, license.Note{Text: "Partner: " + p, Version: i + 1, UpdatedAt: t.epoch, UpdatedBy: "user-1"})
	}
	for i := range 64 {
		t.hosts = append(t.hosts, fmt.Sprintf("srv-%s-prod-%04d.corp.example", []string{"fra", "ams", "iad", "sin"}[i%4], i))
	}
	return t
}

// mix is a 64-bit finaliser (splitmix64): a fixed, well-spread hash of i.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// licenseKey returns the key of license i: 24 upper-case hex-like characters.
func (t *tenant) licenseKey(i int) string {
	const digits = "0123456789ABCDEFGHJKLMNPQRSTUVWX"
	h, g := mix(uint64(i)), mix(uint64(i)+1<<40)
	for j := range 12 {
		t.key[j], t.key[12+j] = digits[h>>(5*j)&31], digits[g>>(5*j)&31]
	}
	return string(t.key[:])
}

// licenseRow fills and returns the reused row of license i.
func (t *tenant) licenseRow(i int) *report.Row {
	o := &t.orgs[i*benchOrgs/benchLicenses]
	r := &t.row
	*r = report.Row{
		LicenseKey: t.licenseKey(i), OrganizationID: o.id, OrganizationName: o.name, Reseller: o.reseller,
		Status: []license.Status{license.Active, license.Active, license.Expiring, license.Expired}[i%4],
		Type:   []license.Type{license.Purchased, license.Purchased, license.Evaluation}[i%3],
	}
	r.StartDate = t.base.AddDays(i % 700)
	r.ExpirationDate = r.StartDate.AddDays(365 * (1 + i%3))
	if i%5 == 4 {
		r.Category, r.ProductName = license.CloudService, t.cloud[i%len(t.cloud)]
		r.ScanLimit = 1000 * (1 + i%50)
		if i%4 != 0 {
			used := i % r.ScanLimit
			r.ScansUsed = &used
		}
	} else {
		r.Category, r.ProductName = license.OnPrem, t.onPrem[i%len(t.onPrem)]
		r.Purchased = 1 + i%20
		r.Deployed = i % (r.Purchased + 1)
	}
	if i%10 < 3 {
		r.CustomerNote = t.notes[i%len(t.notes)]
	}
	if i%10 == 5 {
		r.PartnerNote = &t.partnerNotes[i%len(t.partnerNotes)]
	}
	return r
}

// deployment fills and returns the reused deployment j, which belongs to
// license j*2/5 so that each license's deployments follow it.
func (t *tenant) deployment(j int) *workbook.ActiveDeployment {
	i := j * benchLicenses / benchDeployments
	o := &t.orgs[i*benchOrgs/benchLicenses]
	d := &t.dep
	*d = workbook.ActiveDeployment{
		OrganizationName: o.name, ProductName: t.onPrem[i%len(t.onPrem)], LicenseKey: t.licenseKey(i),
		DeploymentID: "dep-" + strconv.FormatUint(mix(uint64(j)), 36),
		Name:         t.hosts[j%len(t.hosts)],
		ActivatedAt:  t.epoch.Add(time.Duration(j) * time.Minute),
	}
	if j%10 != 0 {
		seen := d.ActivatedAt.Add(time.Duration(j%9000) * time.Hour)
		d.LastSeenAt = &seen
	}
	return d
}

// feed hands the tenant's rows to add and addDep interleaved, each license
// followed by its deployments, as an export of organization after
// organization does.
func (t *tenant) feed(add func(*report.Row) error, addDep func(*workbook.ActiveDeployment) error) error {
	for i := range benchLicenses {
		if err := add(t.licenseRow(i)); err != nil {
			return err
		}
		for j := i * benchDeployments / benchLicenses; j < (i+1)*benchDeployments/benchLicenses; j++ {
			if err := addDep(t.deployment(j)); err != nil {
				return err
			}
		}
	}
	return nil
}

// variant is one way of writing the tenant's workbook to w.
type variant struct {
	name  string
	write func(w io.Writer) error
	// env is added to the environment of the variant's process in
	// BenchmarkWorkbookRSS.
	env []string
}

func workbookVariant(name string, zipLevel int, streamZip bool, tmpDir string) variant {
	return variant{name: name, write: func(w io.Writer) error {
		wb, err := workbook.NewWorkbookWith(zipLevel, streamZip, tmpDir)
		if err != nil {
			return err
		}
		defer wb.Close()
		if err := newTenant().feed(wb.AddRow, wb.AddDeployment); err != nil {
			return err
		}
		if _, err := wb.WriteTo(w); err != nil {
			return err
		}
		return wb.Close()
	}}
}

// variants lists everything the benchmarks compare. "Workbook" is the
// product's setting; the other Workbook variants change one knob each.
// exportMemoryLimit is the GOMEMLIMIT that template.yaml gives the functions
// that write exports; the product variant runs with it, as deployed.
const exportMemoryLimit = config.ExportMemoryLimit

func writeWorkbook(w io.Writer) error {
	wb, err := workbook.NewWorkbook()
	if err != nil {
		return err
	}
	defer wb.Close()
	if err := newTenant().feed(wb.AddRow, wb.AddDeployment); err != nil {
		return err
	}
	_, err = wb.WriteTo(w)
	return err
}

func variants() []variant {
	return []variant{
		{name: "Workbook", write: writeWorkbook, env: []string{exportMemoryLimit}},
		{name: "Workbook-no-memory-limit", write: writeWorkbook},
		workbookVariant("Workbook-zip-default", flate.DefaultCompression, true, ""),
		workbookVariant("Workbook-zip-best", flate.BestCompression, true, ""),
		workbookVariant("Workbook-zip-huffman", flate.HuffmanOnly, true, ""),
		workbookVariant("Workbook-zip-store", flate.NoCompression, true, ""),
		workbookVariant("Workbook-buffered-zip", flate.BestSpeed, false, ""),
		workbookVariant("Workbook-tmpdir-shm", flate.BestSpeed, true, "/dev/shm"),
		{name: "Stream-serials", write: func(w io.Writer) error { return writeStream(w, cellsSerial) }},
		{name: "Stream-time.Time", write: func(w io.Writer) error { return writeStream(w, cellsTime) }},
		{name: "Stream-strings", write: func(w io.Writer) error { return writeStream(w, cellsStrings) }},
		{name: "CellByCell-SetCellValue", write: func(w io.Writer) error { return writeCellByCell(w, false, flate.DefaultCompression) }},
		{name: "CellByCell-SetSheetRow", write: func(w io.Writer) error { return writeCellByCell(w, true, flate.DefaultCompression) }},
		{name: "CellByCell-SetSheetRow-zip-fast", write: func(w io.Writer) error { return writeCellByCell(w, true, flate.BestSpeed) }},
	}
}

// BenchmarkWorkbook writes the large tenant's export with each variant and
// reports its time, allocations, peak live heap and file size.
func BenchmarkWorkbook(b *testing.B) {
	for _, v := range variants() {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int64
			var peak uint64
			for b.Loop() {
				cw := &byteCounter{}
				p := startPeakHeap()
				err := v.write(cw)
				peak = max(peak, p.stop())
				if err != nil {
					b.Fatal(err)
				}
				size = cw.n
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
			b.ReportMetric(float64(size)/(1<<20), "file-MB")
		})
	}
}

// BenchmarkWorkbookGenerate measures the data generator alone, which every
// variant above includes.
func BenchmarkWorkbookGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		t := newTenant()
		_ = t.feed(func(*report.Row) error { return nil }, func(*workbook.ActiveDeployment) error { return nil })
	}
}

// zipAt returns an excelize zip writer function deflating at level.
func zipAt(level int) func(io.Writer) excelize.ZipWriter {
	return func(w io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(w)
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, level)
		})
		return zw
	}
}

type byteCounter struct{ n int64 }

func (c *byteCounter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// peakHeap samples the bytes of heap objects, live and not yet swept, every
// millisecond until stopped. It starts after a GC so that garbage of earlier
// benchmarks does not count.
type peakHeap struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func startPeakHeap() *peakHeap {
	runtime.GC()
	p := &peakHeap{done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		p.peak = max(p.peak, sample[0].Value.Uint64())
	}
	read()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.done:
				read()
				return
			case <-tick.C:
				read()
			}
		}
	}()
	return p
}

func (p *peakHeap) stop() uint64 {
	close(p.done)
	p.wg.Wait()
	return p.peak
}

// cellMode says how writeStream hands dates and numbers to excelize.
type cellMode int

const (
	cellsSerial  cellMode = iota // Excel serial numbers with a date style, as Workbook writes them
	cellsTime                    // time.Time values with a date style; excelize converts
	cellsStrings                 // everything as text: not what the spec wants, shown for its cost
)

// writeStream writes the same sheets as Workbook straight through
// The sheets of the comparison writers, and their benchHeaders.
var (
	benchSheets  = []string{"Licenses", "Cloud Services", "Active Deployments"}
	benchHeaders = [][]string{licenseHeader, cloudHeader, deploymentHeader}
)

// newBenchFile returns a file with the three sheets, zipping at zipLevel,
// and its bold, date and timestamp styles: what both comparison writers set
// up before their rows.
func newBenchFile(zipLevel int) (f *excelize.File, bold, dateStyle, timeStyle int) {
	f = excelize.NewFile()
	f.SetZipWriter(zipAt(zipLevel))
	_ = f.SetSheetName("Sheet1", benchSheets[0])
	_, _ = f.NewSheet(benchSheets[1])
	_, _ = f.NewSheet(benchSheets[2])
	bold, _ = f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	df, tf := "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
	dateStyle, _ = f.NewStyle(&excelize.Style{CustomNumFmt: &df})
	timeStyle, _ = f.NewStyle(&excelize.Style{CustomNumFmt: &tf})
	return f, bold, dateStyle, timeStyle
}

// excelize's stream writers, without Workbook's reused buffers, to show
// what the kind of cell values costs. It zips as Workbook-buffered-zip does.
func writeStream(w io.Writer, mode cellMode) error {
	f, bold, dateStyle, timeStyle := newBenchFile(flate.BestSpeed)
	defer f.Close()
	var sws [3]*excelize.StreamWriter
	rows := [3]int{1, 1, 1}
	for i, name := range benchSheets {
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		for c := range benchHeaders[i] {
			_ = sw.SetColWidth(c+1, c+1, 20)
		}
		_ = sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
		h := make([]any, len(benchHeaders[i]))
		for c, title := range benchHeaders[i] {
			h[c] = excelize.Cell{StyleID: bold, Value: title}
		}
		if err := sw.SetRow("A1", h); err != nil {
			return err
		}
		sws[i] = sw
	}
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	num := func(n int) any {
		if mode == cellsStrings {
			return strconv.Itoa(n)
		}
		return n
	}
	day := func(d license.Date) any {
		switch mode {
		case cellsStrings:
			return d.String()
		case cellsTime:
			return excelize.Cell{StyleID: dateStyle, Value: d.Time()}
		}
		return excelize.Cell{StyleID: dateStyle, Value: int(d) + 25569}
	}
	stamp := func(t time.Time) any {
		switch mode {
		case cellsStrings:
			return t.UTC().Format("2006-01-02 15:04")
		case cellsTime:
			return excelize.Cell{StyleID: timeStyle, Value: t.UTC()}
		}
		return excelize.Cell{StyleID: timeStyle, Value: float64(t.Unix())/86400 + 25569}
	}
	put := func(i int, values []any) error {
		rows[i]++
		return sws[i].SetRow("A"+strconv.Itoa(rows[i]), values)
	}
	add := func(r *report.Row) error {
		var reseller, partner string
		if r.Reseller != nil {
			reseller = r.Reseller.Name
		}
		if r.PartnerNote != nil {
			partner = r.PartnerNote.Text
		}
		values := []any{opt(r.OrganizationName), opt(r.OrganizationID), opt(reseller), opt(r.ProductName),
			opt(r.LicenseKey), string(r.Status), string(r.Type), day(r.StartDate), day(r.ExpirationDate),
			nil, nil, opt(r.CustomerNote), opt(partner)}
		if r.Category == license.OnPrem {
			values[9], values[10] = num(r.Deployed), num(r.Purchased)
			return put(0, values)
		}
		values[9] = num(r.ScanLimit)
		if r.ScansUsed != nil {
			values[10] = num(*r.ScansUsed)
		}
		return put(1, values)
	}
	addDep := func(d *workbook.ActiveDeployment) error {
		values := []any{opt(d.OrganizationName), opt(d.ProductName), opt(d.LicenseKey), opt(d.DeploymentID),
			opt(d.Name), stamp(d.ActivatedAt), nil}
		if d.LastSeenAt != nil {
			values[6] = stamp(*d.LastSeenAt)
		}
		return put(2, values)
	}
	if err := newTenant().feed(add, addDep); err != nil {
		return err
	}
	for i, sw := range sws {
		last, _ := excelize.CoordinatesToCellName(len(benchHeaders[i]), rows[i])
		if err := f.AutoFilter(benchSheets[i], "A1:"+last, nil); err != nil {
			return err
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	return f.Write(w)
}

// writeCellByCell writes the same workbook with excelize's in-memory API, as
// an export written without the stream writer would: SetCellValue for each
// cell (or SetSheetRow for each row), then styles, panes, filters, widths,
// and Write, at the given deflate level (excelize's default is
// flate.DefaultCompression).
func writeCellByCell(w io.Writer, byRow bool, zipLevel int) error {
	f, bold, dateStyle, timeStyle := newBenchFile(zipLevel)
	defer f.Close()
	rows := [3]int{1, 1, 1}
	for i, name := range benchSheets {
		h := make([]any, len(benchHeaders[i]))
		for c, title := range benchHeaders[i] {
			h[c] = title
		}
		if err := f.SetSheetRow(name, "A1", &h); err != nil {
			return err
		}
	}
	put := func(i int, values []any) error {
		rows[i]++
		if byRow {
			return f.SetSheetRow(benchSheets[i], "A"+strconv.Itoa(rows[i]), &values)
		}
		for c, v := range values {
			if v == nil {
				continue
			}
			cell, err := excelize.CoordinatesToCellName(c+1, rows[i])
			if err != nil {
				return err
			}
			if err := f.SetCellValue(benchSheets[i], cell, v); err != nil {
				return err
			}
		}
		return nil
	}
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	add := func(r *report.Row) error {
		var reseller, partner string
		if r.Reseller != nil {
			reseller = r.Reseller.Name
		}
		if r.PartnerNote != nil {
			partner = r.PartnerNote.Text
		}
		values := []any{opt(r.OrganizationName), opt(r.OrganizationID), opt(reseller), opt(r.ProductName),
			opt(r.LicenseKey), string(r.Status), string(r.Type), int(r.StartDate) + 25569, int(r.ExpirationDate) + 25569,
			nil, nil, opt(r.CustomerNote), opt(partner)}
		if r.Category == license.OnPrem {
			values[9], values[10] = r.Deployed, r.Purchased
			return put(0, values)
		}
		values[9] = r.ScanLimit
		if r.ScansUsed != nil {
			values[10] = *r.ScansUsed
		}
		return put(1, values)
	}
	addDep := func(d *workbook.ActiveDeployment) error {
		values := []any{opt(d.OrganizationName), opt(d.ProductName), opt(d.LicenseKey), opt(d.DeploymentID),
			opt(d.Name), float64(d.ActivatedAt.Unix())/86400 + 25569, nil}
		if d.LastSeenAt != nil {
			values[6] = float64(d.LastSeenAt.Unix())/86400 + 25569
		}
		return put(2, values)
	}
	if err := newTenant().feed(add, addDep); err != nil {
		return err
	}
	for i, name := range benchSheets {
		last, _ := excelize.ColumnNumberToName(len(benchHeaders[i]))
		if err := f.SetCellStyle(name, "A1", last+"1", bold); err != nil {
			return err
		}
		dates := [][2]string{{"H", "I"}, {"H", "I"}, {"F", "G"}}[i]
		style := []int{dateStyle, dateStyle, timeStyle}[i]
		if rows[i] > 1 {
			if err := f.SetCellStyle(name, dates[0]+"2", dates[1]+strconv.Itoa(rows[i]), style); err != nil {
				return err
			}
		}
		if err := f.SetColWidth(name, "A", last, 20); err != nil {
			return err
		}
		if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		if err := f.AutoFilter(name, "A1:"+last+strconv.Itoa(rows[i]), nil); err != nil {
			return err
		}
	}
	return f.Write(w)
}

// childEnv benchSheets the variant a child process of BenchmarkWorkbookRSS runs.
const childEnv = "WORKBOOK_BENCH_CHILD"

// TestWorkbookBenchChild runs one variant when started by
// BenchmarkWorkbookRSS, which measures the peak RSS of the whole process;
// otherwise it does nothing.
func TestWorkbookBenchChild(t *testing.T) {
	name := os.Getenv(childEnv)
	if name == "" {
		t.Skip("run by BenchmarkWorkbookRSS only")
	}
	for _, v := range variants() {
		if v.name == name {
			if err := v.write(io.Discard); err != nil {
				t.Fatal(err)
			}
			// The parent reads the peak RSS from this line: the rusage of a
			// child started with vfork also counts the parent's pages.
			status, err := os.ReadFile("/proc/self/status")
			if err != nil {
				t.Skip("no /proc/self/status")
			}
			for _, line := range strings.Split(string(status), "\n") {
				if strings.HasPrefix(line, "VmHWM:") {
					fmt.Println(line)
				}
			}
			return
		}
	}
	t.Fatalf("unknown variant %q", name)
}
