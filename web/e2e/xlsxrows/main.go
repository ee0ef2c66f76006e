// Command xlsxrows prints the rows of every sheet of a workbook as JSON,
// {"<sheet>": [[cell, ...], ...]}, for the page's end-to-end tests to hold a
// downloaded Active Deployment Report to the list the page showed. It reads
// with excelize, the library that writes the reports, rather than a second
// workbook reader from npm.
//
//	go run ./web/e2e/xlsxrows report.xlsx
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/xuri/excelize/v2"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: xlsxrows FILE.xlsx")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "xlsxrows:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	f, err := excelize.OpenFile(path)
	if err != nil {
		return err
	}
	defer f.Close()
	out := make(map[string][][]string)
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet)
		if err != nil {
			return fmt.Errorf("sheet %s: %w", sheet, err)
		}
		out[sheet] = rows
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}
