package workbook

import (
	"archive/zip"
	"compress/flate"
	"errors"
	"io"
	"math"
)

// zipWriter is the excelize.ZipWriter of a Workbook: an archive/zip writer
// with a chosen deflate level, which refuses entries too large for a file
// Excel will open.
//
// Excel wants the local header of an entry over 4 GiB to carry ZIP64's
// version number, which archive/zip does not write; excelize patches it in
// its in-memory copy of the file afterwards, which a streamed file cannot
// have. Such a sheet would take a million rows of multi-kilobyte notes, so
// the workbook fails instead of patching.
type zipWriter struct {
	*zip.Writer
	tooLarge bool
}

func newZipWriter(w io.Writer, level int) *zipWriter {
	zw := &zipWriter{Writer: zip.NewWriter(w)}
	// Registered on this writer only: the package-level registry of
	// archive/zip is shared by the whole program.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, level)
	})
	return zw
}

// Create starts an entry and counts what is written to it.
func (zw *zipWriter) Create(name string) (io.Writer, error) {
	w, err := zw.Writer.Create(name)
	if err != nil {
		return nil, err
	}
	return &entryWriter{w: w, zw: zw}, nil
}

// err reports whether an entry grew past what Excel reads back.
func (zw *zipWriter) err() error {
	if zw.tooLarge {
		return errors.New("a sheet is larger than 4 GiB")
	}
	return nil
}

type entryWriter struct {
	w  io.Writer
	n  int64
	zw *zipWriter
}

func (e *entryWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	e.n += int64(n)
	if e.n > math.MaxUint32 {
		e.zw.tooLarge = true
	}
	return n, err
}

// countingWriter counts the bytes written through it, for WriteTo's result.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
