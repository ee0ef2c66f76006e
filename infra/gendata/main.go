// Command gendata writes a generated data set in the import format, for the
// local server's -data flag, the importer, or benchmarks:
//
//	go run ./infra/gendata [-size small|large] [-licenses N] [-orgs N] [-seed N] [-today YYYY-MM-DD] [-o FILE]
//
// -size picks demo.Small or demo.Large; the other flags override the size's
// numbers. The document goes to standard output unless -o names a file.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/demo"
	"github.com/partnerportal/licenses/shared/license"
)

func main() {
	switch err := run(os.Args[1:], os.Stdout, os.Stderr); {
	case err == nil, errors.Is(err, flag.ErrHelp): // -h: the flag package printed the usage
	default:
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gendata", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.String("size", "small", "preset: small (the local server's demo) or large (the benchmark tenant)")
	licenses := fs.Int("licenses", 0, "number of licenses (default: the preset's)")
	orgs := fs.Int("orgs", 0, "number of customer organizations, sub-organizations included (default: the preset's)")
	seed := fs.Uint64("seed", 0, "random seed (default: the preset's)")
	todayFlag := fs.String("today", "", "day the dates are relative to, YYYY-MM-DD (default: today, UTC)")
	out := fs.String("o", "", "output file (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	var cfg demo.Config
	switch *size {
	case "small":
		cfg = demo.Small()
	case "large":
		cfg = demo.Large()
	default:
		return fmt.Errorf("-size %q: want small or large", *size)
	}
	// Only flags given on the command line override the preset, so that
	// -seed 0 is a seed like any other.
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "licenses":
			cfg.Licenses = *licenses
		case "orgs":
			cfg.Customers = *orgs
		case "seed":
			cfg.Seed = *seed
		}
	})
	switch {
	case cfg.Licenses < 0:
		return fmt.Errorf("-licenses %d: want 0 or more", cfg.Licenses)
	case cfg.Customers < 1:
		return fmt.Errorf("-orgs %d: want at least 1", cfg.Customers)
	}

	today := license.DateOf(time.Now())
	if *todayFlag != "" {
		d, err := license.ParseDate(*todayFlag)
		if err != nil {
			return fmt.Errorf("-today: %w", err)
		}
		today = d
	}

	doc := demo.Generate(cfg, today)
	if *out == "" {
		return write(stdout, doc)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := write(f, doc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// write encodes doc to w with one record a line. Encoding record by record
// keeps memory to the document itself: encoding it whole would hold its tens
// of megabytes of JSON as well.
func write(w io.Writer, doc dataset.Document) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := json.NewEncoder(bw)
	// Notes hold '&', '<' and '>'; escaping them would only make the file harder to read.
	enc.SetEscapeHTML(false)
	// The names are dataset.Document's; the tests hold them to it.
	sections := []struct {
		name   string
		encode func() error
	}{
		{"products", func() error { return array(bw, enc, doc.Products) }},
		{"organizations", func() error { return array(bw, enc, doc.Organizations) }},
		{"roles", func() error { return array(bw, enc, doc.Roles) }},
		{"users", func() error { return array(bw, enc, doc.Users) }},
		{"licenses", func() error { return array(bw, enc, doc.Licenses) }},
		{"deployments", func() error { return array(bw, enc, doc.Deployments) }},
		{"partnerNotes", func() error { return array(bw, enc, doc.PartnerNotes) }},
	}
	for i, s := range sections {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		fmt.Fprintf(bw, "%s%q:", sep, s.name)
		if err := s.encode(); err != nil {
			return fmt.Errorf("write the %s: %w", s.name, err)
		}
	}
	bw.WriteString("}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write the document: %w", err)
	}
	return nil
}

// array writes items as a JSON array, one item a line.
func array[T any](bw *bufio.Writer, enc *json.Encoder, items []T) error {
	bw.WriteString("[\n")
	for i, item := range items {
		if i > 0 {
			bw.WriteByte(',')
		}
		if err := enc.Encode(item); err != nil {
			return err
		}
	}
	bw.WriteByte(']')
	return nil
}
