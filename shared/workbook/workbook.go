package workbook

// This file writes the workbook of the spec's §4, the Excel "Active
// Deployment Report": the sheets Licenses, Cloud Services and Active
// Deployments.

import (
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/partnerportal/licenses/shared/export"
	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// ActiveDeployment is one row of the Active Deployments sheet.
type ActiveDeployment struct {
	OrganizationName, ProductName, LicenseKey string
	DeploymentID, Name                        string
	ActivatedAt                               time.Time
	LastSeenAt                                *time.Time
}

// ErrSheetFull is returned by AddRow and AddDeployment when a sheet already
// holds as many rows as Excel can show (1,048,576 with the header).
var ErrSheetFull = errors.New("workbook: sheet has reached Excel's row limit")

var (
	errWritten = errors.New("workbook: workbook already written")
	errClosed  = errors.New("workbook: workbook closed")
)

// The sheet names, in the order the workbook shows them.
const (
	LicensesSheet          = "Licenses"
	CloudServicesSheet     = "Cloud Services"
	ActiveDeploymentsSheet = "Active Deployments"
)

// column is one column of a sheet: its header and its width in Excel's
// character units. Widths are fixed rather than fitted to the data: fitting
// would mean measuring every value before the first row is written, and the
// stream writer takes widths only before rows. They leave room for the
// header text plus the auto-filter drop-down button.
type column struct {
	title string
	width float64
}

var (
	licenseColumns = []column{
		{"Organization", 32}, {"Organization ID", 20}, {"Reseller", 28}, {"Product", 26},
		{"License Key", 26}, {"Status", 11}, {"Type", 13}, {"Start Date", 14},
		{"Expiration Date", 18}, {"Deployed", 12}, {"Purchased", 13},
		{"Customer Note", 48}, {"Partner Note", 48},
	}
	cloudColumns = []column{
		{"Organization", 32}, {"Organization ID", 20}, {"Reseller", 28}, {"Product", 26},
		{"License Key", 26}, {"Status", 11}, {"Type", 13}, {"Start Date", 14},
		{"Expiration Date", 18}, {"Scan Limit", 13}, {"Scans Used", 14},
		{"Customer Note", 48}, {"Partner Note", 48},
	}
	deploymentColumns = []column{
		{"Organization", 32}, {"Product", 26}, {"License Key", 26}, {"Deployment ID", 26},
		{"Deployment Name", 30}, {"Activated At", 18}, {"Last Seen At", 18},
	}

	// sheetDefs lists the sheets in workbook order; Workbook.sheets follows it.
	sheetDefs = [3]struct {
		name    string
		columns []column
	}{
		{LicensesSheet, licenseColumns},
		{CloudServicesSheet, cloudColumns},
		{ActiveDeploymentsSheet, deploymentColumns},
	}
)

// Number formats of the date and timestamp cells. They are explicit formats
// rather than Excel's locale-dependent built-in ones so that every reader
// sees the spec's forms; timestamps are written in UTC.
const (
	dateFormat      = "yyyy-mm-dd"
	timestampFormat = "yyyy-mm-dd hh:mm"
)

// excelEpochOffset is the Excel serial number of 1970-01-01 in the 1900 date
// system (which counts the non-existent 1900-02-29, so it is right for every
// date from 1900-03-01 on). Dates and timestamps are written as serial
// numbers computed here: exact for license.Date, and cheaper than handing
// excelize a time.Time for each cell.
const excelEpochOffset = 25569

// maxDataRows is the number of rows a sheet holds below its header.
const maxDataRows = excelize.TotalRows - 1

var _ io.WriterTo = (*Workbook)(nil)

// Workbook is an Active Deployment Report being written.
//
// Each sheet has its own excelize stream writer, all three open from
// NewWorkbook to WriteTo, so rows of the three sheets can be added in any
// interleaving. A stream writer keeps its sheet in memory until it passes
// 16 MiB and from then on moves it to a temporary file each time it does
// again: memory stays bounded whatever the number of rows (the buffers reach
// 32 MiB a sheet, about 100 MiB for a large tenant), and the temporary files
// hold the uncompressed sheets until Close (about 170 MB for 100,000
// licenses and 250,000 deployments).
//
// Add rows with AddRow and AddDeployment, then call WriteTo once, then Close.
// A Workbook is not safe for concurrent use; it writes its three sheets in
// goroutines of its own.
type Workbook struct {
	file   *excelize.File
	sheets [3]*sheet // Licenses, Cloud Services, Active Deployments

	dateStyle, timeStyle int

	// zipLevel is the deflate level of the .xlsx; streamZip writes the zip
	// straight to WriteTo's writer instead of through excelize's in-memory
	// buffer. Both are fields only so that the benchmarks can compare them.
	zipLevel  int
	streamZip bool

	written, closed bool
}

// sheet is one sheet's stream writer and the rows on their way to it.
//
// Each sheet has a goroutine that turns rows into XML with SetRow: the
// caller fills a batch of rows, hands it over, and goes on with the next
// batch while the three sheets are written in parallel. The stream writers
// of different sheets share nothing in excelize but the file, which SetRow
// does not touch, so this is race-free (the tests run under -race).
type sheet struct {
	name    string
	columns []column
	sw      *excelize.StreamWriter
	rows    int // data rows added, header not counted

	batch *batch      // the batch being filled
	full  chan *batch // to the writer goroutine
	free  chan *batch // back from it, for reuse
	done  chan error  // the writer's first error, once it has stopped
	err   error       // that error, once received
}

// batch holds rows of one sheet: their cell values, and the styled cells
// (dates, timestamps) that the values point to, so that a row costs no
// allocation.
type batch struct {
	first  int // row number of the first row, one-based
	n      int // rows filled
	values []any
	cells  []excelize.Cell
}

// Batching: rows per batch, and batches per sheet in flight.
const (
	batchRows = 512
	batches   = 4
)

// options tunes a Workbook; the zero value is not valid, use defaultOptions.
type options struct {
	zipLevel  int
	streamZip bool
	tmpDir    string
}

// defaultOptions are the settings the benchmarks chose. flate.BestSpeed
// compresses about four times faster than the default level (a large
// tenant's export takes 2.4 s instead of 4.1 s) for a file a quarter larger;
// streaming the zip saves holding the whole file in memory (70 MB less peak
// RSS for that tenant).
func defaultOptions() options {
	return options{zipLevel: flate.BestSpeed, streamZip: true}
}

// NewWorkbook returns an empty workbook with its three sheets and their
// header rows. The caller must Close it.
func NewWorkbook() (*Workbook, error) {
	return newWorkbook(defaultOptions())
}

func newWorkbook(o options) (wb *Workbook, err error) {
	// Options replace excelize's defaults wholesale (its unzip limits among
	// them), so pass them only when there is something to set.
	var opts []excelize.Options
	if o.tmpDir != "" {
		opts = append(opts, excelize.Options{TmpDir: o.tmpDir})
	}
	f := excelize.NewFile(opts...)
	wb = &Workbook{file: f, zipLevel: o.zipLevel, streamZip: o.streamZip}
	defer func() {
		if err != nil {
			_ = wb.Close() // stops the writers of the sheets made so far
			wb = nil
		}
	}()

	// The new file's only sheet becomes the first one, so no "Sheet1" is left.
	if err := f.SetSheetName("Sheet1", LicensesSheet); err != nil {
		return nil, fmt.Errorf("rename first sheet: %w", err)
	}
	for _, name := range []string{CloudServicesSheet, ActiveDeploymentsSheet} {
		if _, err := f.NewSheet(name); err != nil {
			return nil, fmt.Errorf("add sheet %q: %w", name, err)
		}
	}

	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, fmt.Errorf("header style: %w", err)
	}
	dateFmt, timeFmt := dateFormat, timestampFormat
	if wb.dateStyle, err = f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt}); err != nil {
		return nil, fmt.Errorf("date style: %w", err)
	}
	if wb.timeStyle, err = f.NewStyle(&excelize.Style{CustomNumFmt: &timeFmt}); err != nil {
		return nil, fmt.Errorf("timestamp style: %w", err)
	}

	for i, d := range sheetDefs {
		if wb.sheets[i], err = newSheet(f, d.name, d.columns, header); err != nil {
			return nil, err
		}
	}
	return wb, nil
}

// newSheet opens the stream writer of a sheet, sets what must precede the
// rows (column widths, the frozen header) and writes the bold header row.
func newSheet(f *excelize.File, name string, columns []column, headerStyle int) (*sheet, error) {
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return nil, fmt.Errorf("stream sheet %q: %w", name, err)
	}
	for i, c := range columns {
		if err := sw.SetColWidth(i+1, i+1, c.width); err != nil {
			return nil, fmt.Errorf("width of %q column %d: %w", name, i+1, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{
		Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
	}); err != nil {
		return nil, fmt.Errorf("freeze header of %q: %w", name, err)
	}
	header := make([]any, len(columns))
	for i, c := range columns {
		header[i] = excelize.Cell{StyleID: headerStyle, Value: c.title}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return nil, fmt.Errorf("header of %q: %w", name, err)
	}
	s := &sheet{name: name, columns: columns, sw: sw,
		full: make(chan *batch, batches), free: make(chan *batch, batches), done: make(chan error, 1)}
	for range batches {
		s.free <- &batch{
			values: make([]any, batchRows*len(columns)),
			cells:  make([]excelize.Cell, batchRows*2), // each sheet has two date or timestamp columns
		}
	}
	go s.write(s.full)
	return s, nil
}

// write is the sheet's writer goroutine: it writes each batch it receives
// and returns it for reuse. After an error it only drains, so that the
// caller never blocks, and reports the error when the batches end.
func (s *sheet) write(full <-chan *batch) {
	var err error
	width := len(s.columns)
	for b := range full {
		for i := 0; i < b.n && err == nil; i++ {
			row := b.first + i
			if e := s.sw.SetRow("A"+strconv.Itoa(row), b.values[i*width:(i+1)*width]); e != nil {
				err = fmt.Errorf("write row %d of %q: %w", row, s.name, e)
			}
		}
		clear(b.values) // drop the references to the rows' strings
		b.n = 0
		s.free <- b
	}
	s.done <- err
}

// next returns the cell values and the two styled cells of the sheet's next
// row, handing the current batch over when it is full.
func (s *sheet) next() ([]any, []excelize.Cell, error) {
	if s.rows >= maxDataRows {
		return nil, nil, fmt.Errorf("%w: %s", ErrSheetFull, s.name)
	}
	if s.batch != nil && s.batch.n == batchRows {
		s.full <- s.batch
		s.batch = nil
	}
	if s.batch == nil {
		s.batch = <-s.free
		s.batch.first = s.rows + 2 // one-based, below the header
	}
	b, i, width := s.batch, s.batch.n, len(s.columns)
	b.n++
	s.rows++
	return b.values[i*width : (i+1)*width], b.cells[i*2 : i*2+2], nil
}

// stop hands over the last batch, waits for the writer to finish and
// returns its first error.
func (s *sheet) stop() error {
	if s.full == nil {
		return s.err
	}
	if s.batch != nil && s.batch.n > 0 {
		s.full <- s.batch
	}
	s.batch = nil
	close(s.full)
	s.full = nil
	s.err = <-s.done
	return s.err
}

// AddRow appends a license row to the Licenses sheet when its category is
// on_prem and to the Cloud Services sheet when it is cloud_service.
func (wb *Workbook) AddRow(r *report.Row) error {
	if err := wb.usable(); err != nil {
		return err
	}
	if r == nil {
		return errors.New("workbook: nil row")
	}
	var s *sheet
	switch r.Category {
	case license.OnPrem:
		s = wb.sheets[0]
	case license.CloudService:
		s = wb.sheets[1]
	default:
		return fmt.Errorf("workbook: license %s has unknown category %q", r.LicenseKey, r.Category)
	}

	v, cells, err := s.next()
	if err != nil {
		return err
	}
	v[0] = text(r.OrganizationName)
	v[1] = text(r.OrganizationID)
	v[2] = nil
	if r.Reseller != nil {
		v[2] = text(r.Reseller.Name)
	}
	v[3] = text(r.ProductName)
	v[4] = text(r.LicenseKey)
	v[5] = text(string(r.Status))
	v[6] = text(string(r.Type))
	v[7] = wb.date(&cells[0], r.StartDate)
	v[8] = wb.date(&cells[1], r.ExpirationDate)
	if r.Category == license.OnPrem {
		v[9], v[10] = r.Deployed, r.Purchased
	} else {
		v[9], v[10] = r.ScanLimit, nil
		if r.ScansUsed != nil {
			v[10] = *r.ScansUsed
		}
	}
	v[11] = text(r.CustomerNote)
	v[12] = nil
	if r.PartnerNote != nil {
		v[12] = text(r.PartnerNote.Text)
	}
	return nil
}

// AddDeployment appends a row to the Active Deployments sheet.
func (wb *Workbook) AddDeployment(d *ActiveDeployment) error {
	if err := wb.usable(); err != nil {
		return err
	}
	if d == nil {
		return errors.New("workbook: nil deployment")
	}
	v, cells, err := wb.sheets[2].next()
	if err != nil {
		return err
	}
	v[0] = text(d.OrganizationName)
	v[1] = text(d.ProductName)
	v[2] = text(d.LicenseKey)
	v[3] = text(d.DeploymentID)
	v[4] = text(d.Name)
	v[5] = wb.timestamp(&cells[0], d.ActivatedAt)
	v[6] = nil
	if d.LastSeenAt != nil {
		v[6] = wb.timestamp(&cells[1], *d.LastSeenAt)
	}
	return nil
}

// text returns the cell value of a text field: nil, an empty cell, for "".
// A Go string always becomes an inline string cell in excelize's stream
// writer, never a formula (that takes an excelize.Cell with Formula set), so
// text beginning with "=", "+", "-" or "@" needs no escaping to stay text.
func text(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// date points c at d as an Excel date serial with the date format.
func (wb *Workbook) date(c *excelize.Cell, d license.Date) *excelize.Cell {
	*c = excelize.Cell{StyleID: wb.dateStyle, Value: int(d) + excelEpochOffset}
	return c
}

// timestamp points c at t as an Excel date-time serial, in UTC and to the
// second, with the timestamp format; the zero time gives an empty cell.
func (wb *Workbook) timestamp(c *excelize.Cell, t time.Time) any {
	if t.IsZero() {
		return nil
	}
	*c = excelize.Cell{StyleID: wb.timeStyle, Value: float64(t.Unix())/86400 + excelEpochOffset}
	return c
}

// Counts returns how many rows each sheet has received so far.
func (wb *Workbook) Counts() export.Counts {
	return export.Counts{
		Licenses:          wb.sheets[0].rows,
		CloudServices:     wb.sheets[1].rows,
		ActiveDeployments: wb.sheets[2].rows,
	}
}

func (wb *Workbook) usable() error {
	switch {
	case wb.closed:
		return errClosed
	case wb.written:
		return errWritten
	}
	return nil
}

// WriteTo finishes the sheets and writes the .xlsx file to w. It returns the
// number of bytes written. It can be called once; rows cannot be added after.
func (wb *Workbook) WriteTo(w io.Writer) (int64, error) {
	if err := wb.usable(); err != nil {
		return 0, err
	}
	wb.written = true
	for _, s := range wb.sheets {
		if err := s.stop(); err != nil {
			return 0, err
		}
	}
	for _, s := range wb.sheets {
		if err := s.finish(wb.file); err != nil {
			return 0, err
		}
	}
	if !wb.streamZip {
		wb.file.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return newZipWriter(w, wb.zipLevel) })
		return wb.file.WriteTo(w)
	}

	// excelize's WriteTo builds the whole zip in a bytes.Buffer and only then
	// copies it to w: for a large tenant that is tens of megabytes held twice
	// over while the buffer grows. Its ZipWriter hook receives that buffer;
	// ignoring it and writing the zip straight to w streams the file instead.
	cw := &countingWriter{w: w}
	zw := newZipWriter(cw, wb.zipLevel)
	wb.file.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	buffered, err := wb.file.WriteTo(io.Discard)
	if err != nil {
		return cw.n, fmt.Errorf("write workbook: %w", err)
	}
	if buffered != 0 {
		// excelize wrote part of the file past our zip writer; the output
		// would be corrupt, so say so rather than hand it out.
		return cw.n, fmt.Errorf("write workbook: %d bytes bypassed the zip writer", buffered)
	}
	if err := zw.err(); err != nil {
		return cw.n, fmt.Errorf("write workbook: %w", err)
	}
	return cw.n, nil
}

// finish puts the auto-filter over the header and the data rows and ends the
// sheet's stream. The filter's range is known only now; excelize writes the
// autoFilter element (which follows sheetData) at Flush from the same
// worksheet the stream writer holds, so it must be set before Flush. With no
// data rows the filter covers the header alone, which Excel accepts.
func (s *sheet) finish(f *excelize.File) error {
	last, err := excelize.CoordinatesToCellName(len(s.columns), s.rows+1)
	if err != nil {
		return fmt.Errorf("filter range of %q: %w", s.name, err)
	}
	if err := f.AutoFilter(s.name, "A1:"+last, nil); err != nil {
		return fmt.Errorf("auto-filter of %q: %w", s.name, err)
	}
	if err := s.sw.Flush(); err != nil {
		return fmt.Errorf("finish sheet %q: %w", s.name, err)
	}
	return nil
}

// Close removes the temporary files of the workbook. It is safe to call after
// WriteTo, without it, and more than once.
func (wb *Workbook) Close() error {
	if wb.closed {
		return nil
	}
	wb.closed = true
	for _, s := range wb.sheets {
		if s != nil {
			_ = s.stop() // the writers must be done with the files Close removes
		}
	}
	if err := wb.file.Close(); err != nil {
		return fmt.Errorf("close workbook: %w", err)
	}
	return nil
}
