package workbook

// NewWorkbookWith is NewWorkbook with the settings the benchmarks compare:
// the deflate level of the file, whether the zip is streamed to WriteTo's
// writer (true) or built in excelize's in-memory buffer first, and the
// directory of excelize's temporary files ("" for the system's).
func NewWorkbookWith(zipLevel int, streamZip bool, tmpDir string) (*Workbook, error) {
	return newWorkbook(options{zipLevel: zipLevel, streamZip: streamZip, tmpDir: tmpDir})
}
