// Package importfn is the import function's code: S3 tells it of a document the
// licensing system dropped under imports/ of the ingest bucket, and it
// checks the document, loads it with the store's import (the code of
// infra/import and of the local server's -data) and writes the outcome to
// results/<name>.json beside it (PRODUCT.md §9).
//
// The results object is the import's record. A delivery of an object whose
// results name the same object version (its ETag) changes nothing: S3 and
// Lambda deliver at least once. A document that fails its checks writes
// nothing to the table and a "failed" result with its problems by path. Any
// other failure (the table or the bucket unavailable, the function ending
// half-way) writes no result and fails the invocation, so that Lambda tries
// it again; the import is idempotent, and a retry brings the table to the
// document's state.
package importfn

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/config"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/lambdafn"
	"github.com/partnerportal/licenses/shared/store"
)

// The bucket's layout.
const (
	ImportsPrefix = "imports/"
	ResultsPrefix = "results/"
)

// MaxProblems is the most problems a result lists; Result.ProblemCount
// counts them all.
const MaxProblems = 100

// Status is the outcome of an import.
type Status string

const (
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
)

// Result is what results/<name>.json holds.
type Result struct {
	Status Status `json:"status"`
	// Mode is the document's ("full" or "delta"); empty when it could not
	// be read.
	Mode       dataset.Mode        `json:"mode,omitempty"`
	StartedAt  time.Time           `json:"startedAt"`
	FinishedAt time.Time           `json:"finishedAt"`
	Counts     *store.ImportResult `json:"counts,omitempty"`
	// Problems are the first MaxProblems of the document's, by path.
	Problems     []dataset.Problem `json:"problems"`
	ProblemCount int               `json:"problemCount"`
	// Source is the object the result is of.
	Source Source `json:"source"`

	before bool // read from the bucket: imported before
}

// Source names an object version.
type Source struct {
	Key  string `json:"key"`
	ETag string `json:"etag"`
	Size int64  `json:"size"`
}

// Importer imports the documents of one bucket.
type Importer struct {
	Store  *store.Store
	S3     *s3.Client
	Bucket string
	Log    *slog.Logger
	Now    func() time.Time
	// Writers is the store's ImportOptions.Writers; 0 is its default.
	Writers int
}

// Serve is the main of the import function.
func Serve(getenv func(string) string) {
	d := lambdafn.Must(lambdafn.Setup(context.Background(), getenv))
	lambda.Start(lambdafn.Must(New(d)).Handle)
}

// New returns the importer of the function's ingest bucket.
func New(d *lambdafn.Deps) (*Importer, error) {
	if d.Config.IngestBucket == "" {
		return nil, fmt.Errorf("configuration: %s is required by this function", config.IngestBucket)
	}
	return &Importer{Store: d.Store, S3: awsconf.S3(d.AWS, d.Config.S3Endpoint), Bucket: d.Config.IngestBucket,
		Log: d.Log, Now: time.Now}, nil
}

// Handle imports the documents of imports/ when S3 tells of one. Documents
// are imported one at a time in the order they arrived, whatever order
// their events come in: every event imports each document that has no
// result of its version yet, oldest first (Pending), so that a delta never
// lands before the document it follows, even when an earlier invocation
// failed and Lambda tries it again later. An event of another bucket or of
// an object outside imports/ is refused (logged, not retried); the first
// failure that a retry may mend fails the event, and the documents after
// it wait for that retry.
func (im *Importer) Handle(ctx context.Context, ev events.S3Event) (Outcome, error) {
	out := Outcome{Imported: []Imported{}}
	due := false
	for _, r := range ev.Records {
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			im.Log.ErrorContext(ctx, "import: an object key that is not URL-encoded", "key", r.S3.Object.Key)
			continue
		}
		if r.S3.Bucket.Name != im.Bucket || !isDocument(key) {
			im.Log.ErrorContext(ctx, "import: not a document of the ingest bucket's imports/", "bucket", r.S3.Bucket.Name, "key", key)
			continue
		}
		due = true
	}
	if !due {
		return out, nil
	}
	pending, err := im.Pending(ctx)
	if err != nil {
		return out, err
	}
	for _, doc := range pending {
		res, err := im.Import(ctx, doc.Key, doc.ETag)
		if err != nil {
			return out, err
		}
		if res != nil && !res.before {
			out.Imported = append(out.Imported, Imported{Key: doc.Key, Status: res.Status})
		}
	}
	return out, nil
}

// Outcome is what an invocation answers: the documents it imported, in
// order, and how each went (their results hold the rest).
type Outcome struct {
	Imported []Imported `json:"imported"`
}

// Imported is one document an invocation imported.
type Imported struct {
	Key    string `json:"key"`
	Status Status `json:"status"`
}

func isDocument(key string) bool {
	return strings.HasPrefix(key, ImportsPrefix) && !strings.HasSuffix(key, "/")
}

// Pending returns the documents of imports/ that may have no result of
// their version, in the order they arrived: by the time S3 stored them,
// then by key (S3 keeps that time to the second, so a sender that drops
// several documents in one second names them in the order they go). A
// document whose result was stored after it is done; any other is
// pending, and Import tells exactly by the version its result names.
func (im *Importer) Pending(ctx context.Context) ([]Source, error) {
	results := make(map[string]time.Time)
	if err := im.list(ctx, ResultsPrefix, func(o s3types.Object) {
		results[aws.ToString(o.Key)] = aws.ToTime(o.LastModified)
	}); err != nil {
		return nil, err
	}
	type doc struct {
		Source
		at time.Time
	}
	var docs []doc
	if err := im.list(ctx, ImportsPrefix, func(o s3types.Object) {
		key, at := aws.ToString(o.Key), aws.ToTime(o.LastModified)
		if !isDocument(key) {
			return
		}
		if done, ok := results[ResultKey(key)]; ok && done.After(at) {
			return
		}
		docs = append(docs, doc{Source{Key: key, ETag: strings.Trim(aws.ToString(o.ETag), `"`), Size: aws.ToInt64(o.Size)}, at})
	}); err != nil {
		return nil, err
	}
	slices.SortFunc(docs, func(a, b doc) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	out := make([]Source, len(docs))
	for i, d := range docs {
		out[i] = d.Source
	}
	return out, nil
}

func (im *Importer) list(ctx context.Context, prefix string, each func(s3types.Object)) error {
	pages := s3.NewListObjectsV2Paginator(im.S3, &s3.ListObjectsV2Input{Bucket: &im.Bucket, Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("import: listing %s: %w", prefix, err)
		}
		for _, o := range page.Contents {
			each(o)
		}
	}
	return nil
}

// ResultKey is where the outcome of the document at key is written.
func ResultKey(key string) string {
	return ResultsPrefix + strings.TrimPrefix(key, ImportsPrefix) + ".json"
}

// Import imports the document at key, in the version etag (the current one
// when empty), and returns its result; a document imported before, in the
// same version, returns that import's result and changes nothing.
func (im *Importer) Import(ctx context.Context, key, etag string) (*Result, error) {
	log := im.Log.With("key", key)
	etag = strings.Trim(etag, `"`)
	if prev, err := im.result(ctx, key); err != nil {
		return nil, err
	} else if prev != nil && (etag == "" || prev.Source.ETag == etag) {
		log.InfoContext(ctx, "import: done before", "status", prev.Status, "etag", prev.Source.ETag)
		prev.before = true
		return prev, nil
	}
	in := &s3.GetObjectInput{Bucket: &im.Bucket, Key: &key}
	if etag != "" {
		in.IfMatch = aws.String(`"` + etag + `"`)
	}
	obj, err := im.S3.GetObject(ctx, in)
	var apiErr smithy.APIError
	switch {
	case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "PreconditionFailed" || apiErr.ErrorCode() == "NoSuchKey"):
		// Replaced or deleted since the event: the event of the version
		// that replaced it imports that one.
		log.WarnContext(ctx, "import: the object is no longer the version the event names", "etag", etag, "error", apiErr.ErrorCode())
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("import %s: %w", key, err)
	}
	defer obj.Body.Close()
	res := &Result{StartedAt: im.Now().UTC(), Problems: []dataset.Problem{},
		Source: Source{Key: key, ETag: strings.Trim(aws.ToString(obj.ETag), `"`), Size: aws.ToInt64(obj.ContentLength)}}
	// Events that carry no time of their own get the object's, so that a
	// retry records the same ones.
	when := res.StartedAt
	if obj.LastModified != nil {
		when = obj.LastModified.UTC()
	}
	ds, err := parse(obj.Body)
	var problems dataset.Problems
	if err == nil {
		res.Mode = ds.Mode
		var counts store.ImportResult
		counts, err = im.Store.Import(ctx, ds, store.ImportOptions{Now: when, Writers: im.Writers, Progress: progress{ctx, log}})
		res.Counts = &counts
	}
	switch {
	case errors.As(err, &problems):
		res.Status, res.Counts = Failed, nil
		res.ProblemCount = len(problems)
		res.Problems = problems[:min(len(problems), MaxProblems)]
	case err != nil:
		// Not the document's fault: no result, and Lambda tries again.
		log.ErrorContext(ctx, "import: failed; the invocation fails so that it is tried again", "error", err)
		return nil, fmt.Errorf("import %s: %w", key, err)
	default:
		res.Status = Succeeded
	}
	res.FinishedAt = im.Now().UTC()
	if err := im.writeResult(ctx, key, res); err != nil {
		return nil, err
	}
	attrs := []any{"status", res.Status, "mode", res.Mode, "etag", res.Source.ETag, "bytes", res.Source.Size,
		"duration", res.FinishedAt.Sub(res.StartedAt), "problems", res.ProblemCount}
	if res.Counts != nil {
		attrs = append(attrs, "organizations", res.Counts.Organizations, "unchanged", res.Counts.Unchanged,
			"written", res.Counts.Written, "deleted", res.Counts.Deleted, "events", res.Counts.Events)
	}
	log.InfoContext(ctx, "import", attrs...)
	return res, nil
}

// parse reads a document, gzip'd or not (by its first bytes, whatever the
// object's name or metadata say). A failure to read the object is an error
// of its own, not a problem of the document.
func parse(body io.Reader) (*dataset.Dataset, error) {
	src := &reader{r: body}
	br := bufio.NewReaderSize(src, 64<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if src.err != nil {
				return nil, src.err
			}
			return nil, dataset.Problems{{Path: "$", Message: "not a gzip stream: " + err.Error()}}
		}
		defer zr.Close()
		r = zr
	}
	ds, err := dataset.Parse(r)
	if src.err != nil {
		return nil, fmt.Errorf("reading the document: %w", src.err)
	}
	return ds, err
}

// reader remembers the first error reading the object other than its end.
type reader struct {
	r   io.Reader
	err error
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// result returns the result written for key, nil when there is none.
func (im *Importer) result(ctx context.Context, key string) (*Result, error) {
	out, err := im.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &im.Bucket, Key: aws.String(ResultKey(key))})
	var missing *s3types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("import %s: reading its result: %w", key, err)
	}
	defer out.Body.Close()
	var r Result
	if err := json.NewDecoder(out.Body).Decode(&r); err != nil {
		// Not a result this function wrote: import again, and write one.
		return nil, nil
	}
	return &r, nil
}

func (im *Importer) writeResult(ctx context.Context, key string, res *Result) error {
	body, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	_, err = im.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &im.Bucket, Key: aws.String(ResultKey(key)),
		Body: bytes.NewReader(body), ContentType: aws.String("application/json")})
	if err != nil {
		return fmt.Errorf("import %s: writing its result: %w", key, err)
	}
	return nil
}

// progress logs the import's progress lines.
type progress struct {
	ctx context.Context
	log *slog.Logger
}

func (p progress) Write(b []byte) (int, error) {
	if line := strings.TrimSpace(string(b)); line != "" {
		p.log.InfoContext(p.ctx, "import: progress", "progress", line)
	}
	return len(b), nil
}
