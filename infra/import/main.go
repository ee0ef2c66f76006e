// Command import loads a data set in the import format into a DynamoDB table:
//
//	go run ./infra/import -table NAME -data FILE [-endpoint URL] [-create-table] [-dry-run]
//
// FILE is a full or a delta document, gzip'd or not.
// The document is checked whole first: if it breaks any rule, every problem
// is listed by path and nothing is written. Loading is an idempotent upsert
// with BatchWriteItem (25 items a request, unprocessed items retried with
// backoff), with progress on stderr. -dry-run reads the table and prints
// what the import would change (items put and deleted, history events,
// what it removes) without writing. Credentials and region come from the
// environment, as for the AWS CLI; with -endpoint (an emulator) dummy ones
// are used.
package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "import:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	table := fs.String("table", "", "the DynamoDB table (required)")
	file := fs.String("data", "", "the data set, in the import format (required)")
	endpoint := fs.String("endpoint", "", "a DynamoDB endpoint other than AWS's, such as an emulator")
	create := fs.Bool("create-table", false, "create the table first if it does not exist (emulators; on AWS the SAM stack owns it)")
	writers := fs.Int("writers", 0, "organizations loaded at once (0: the store's default, 16)")
	dryRun := fs.Bool("dry-run", false, "print what the import would change, and write nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *table == "" || *file == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("-table and -data are required")
	}

	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	var r io.Reader = bufio.NewReader(f)
	if magic, _ := r.(*bufio.Reader).Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
		defer zr.Close()
		r = zr
	}
	ds, err := dataset.Parse(r)
	var problems dataset.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(stderr, p)
		}
		return fmt.Errorf("%s has %d problem(s); nothing was written", *file, len(problems))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "import: %s (%s) checked: %d products, %d organizations, %d users, %d licenses, %d deployments, %d notes\n",
		*file, ds.Mode, len(ds.Products), len(ds.Organizations), len(ds.Users), len(ds.Licenses), len(ds.Deployments), len(ds.Notes))

	cfg := awsconf.Local
	if *endpoint == "" {
		if cfg, err = awsconf.Load(ctx); err != nil {
			return err
		}
	}
	db := awsconf.DynamoDB(cfg, *endpoint)
	if *create {
		var inUse *types.ResourceInUseException
		if err := store.CreateTable(ctx, db, *table); err != nil && !errors.As(err, &inUse) {
			return err
		}
	}
	res, err := store.New(db, *table).Import(ctx, ds, store.ImportOptions{Progress: stderr, Writers: *writers, DryRun: *dryRun})
	if err != nil {
		return err
	}
	verb := "written"
	if *dryRun {
		verb = "would be written (dry run: nothing was)"
	}
	fmt.Fprintf(stderr, "import: %d items %s, %d deleted, %d customer organizations rewritten, %d unchanged, %d history events; "+
		"removed: %d licenses, %d deployments, %d organizations; in %s\n",
		res.Written, verb, res.Deleted, res.Organizations, res.Unchanged, res.Events,
		res.Removed.Licenses, res.Removed.Deployments, res.Removed.Organizations, time.Since(start).Round(time.Millisecond))
	return nil
}
