package deploy

import (
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/awslabs/goformation/v7/cloudformation/s3"

	"github.com/partnerportal/licenses/shared/importfn"
)

// The ingest bucket as the template names it, and its ARNs: the import
// function's S3 event makes the bucket depend on the function, so the
// function names the bucket rather than refer to it.
const (
	ingestBucketName = "!Sub ${AWS::StackName}-ingest-${AWS::AccountId}"
	ingestBucketARN  = "!Sub arn:${AWS::Partition}:s3:::${AWS::StackName}-ingest-${AWS::AccountId}"
)

// ingestBucket returns the logical id of the bucket whose S3 events invoke
// the import function.
func (t *Template) ingestBucket(p *problems) string {
	var ids []string
	fns := t.Functions()
	for _, id := range sortedKeys(fns) {
		for _, e := range fns[id].Events {
			if e.Type == "S3" && e.Properties != nil && e.Properties.S3Event != nil {
				if b, ok := cutRef(Show(e.Properties.S3Event.Bucket)); ok && !slices.Contains(ids, b) {
					ids = append(ids, b)
				}
			}
		}
	}
	if len(ids) != 1 {
		p.addf("want one ingest bucket, the Bucket of the import function's S3 event, have %d %v", len(ids), ids)
		if len(ids) == 0 {
			return "<none>"
		}
	}
	return ids[0]
}

func cutRef(s string) (string, bool) {
	if len(s) > 5 && s[:5] == "!Ref " {
		return s[5:], true
	}
	return "", false
}

// checkIngest holds the import to PRODUCT.md §9 and the README: the
// importers are invoked by S3 when an object is created under imports/ of
// the ingest bucket, one at a time (reserved concurrency 1, so that
// documents go in the order they came), with the time of a large import;
// the bucket is private, named as the functions name it, and its
// documents and results expire.
func checkIngest(p *problems, t *Template, c Code) {
	bucket := t.ingestBucket(p)
	for _, f := range t.functions(c) {
		if !slices.Contains(c.Importers, f.folder) {
			continue
		}
		events := 0
		for _, name := range sortedKeys(f.Events) {
			e := f.Events[name]
			if e.Type != "S3" {
				p.addf("%s: event %s of type %s: an importer is invoked by S3 only", f.id, name, e.Type)
				continue
			}
			events++
			ev := e.Properties.S3Event
			if got := Show(ev.Bucket); got != "!Ref "+bucket {
				p.addf("%s: event %s is of bucket %q, want !Ref %s", f.id, name, got, bucket)
			}
			var got []string
			switch {
			case ev.Events == nil:
			case ev.Events.String != nil:
				got = []string{*ev.Events.String}
			case ev.Events.StringArray != nil:
				got = *ev.Events.StringArray
			}
			if !slices.Equal(got, []string{"s3:ObjectCreated:*"}) {
				p.addf("%s: event %s is of %v, want [s3:ObjectCreated:*]", f.id, name, got)
			}
			var prefixes []string
			if ev.Filter != nil && ev.Filter.S3Key != nil {
				for _, r := range ev.Filter.S3Key.Rules {
					prefixes = append(prefixes, r.Name+"="+r.Value)
				}
			}
			if want := []string{"prefix=" + importfn.ImportsPrefix}; !slices.Equal(prefixes, want) {
				p.addf("%s: event %s filters keys by %v, want %v: results/ is written by the function itself", f.id, name, prefixes, want)
			}
		}
		if events != 1 {
			p.addf("%s: %d S3 events, want 1", f.id, events)
		}
		if f.ReservedConcurrentExecutions == nil || *f.ReservedConcurrentExecutions != 1 {
			p.addf("%s: ReservedConcurrentExecutions must be 1: documents are imported one at a time, in the order they came", f.id)
		}
		if f.Timeout != nil && *f.Timeout < minImportTimeout {
			p.addf("%s: Timeout is %d s; the large tenant's import needs %d (README, Performance)", f.id, *f.Timeout, minImportTimeout)
		}
	}
	b, ok := t.Resources[bucket].(*s3.Bucket)
	if !ok {
		return
	}
	if got := Show(b.BucketName); got != ingestBucketName {
		p.addf("%s: BucketName is %q, want %s, as the import function names it", bucket, got, ingestBucketName)
	}
	checkPrivate(p, t, bucket, b)
	for _, prefix := range []string{importfn.ImportsPrefix, importfn.ResultsPrefix} {
		expires := false
		if lc := b.LifecycleConfiguration; lc != nil {
			for _, r := range lc.Rules {
				if r.Status == "Enabled" && r.ExpirationInDays != nil && slices.Contains([]string{"", prefix}, aws.ToString(r.Prefix)) {
					expires = true
				}
			}
		}
		if !expires {
			p.addf("%s: no enabled lifecycle rule expires %s", bucket, prefix)
		}
	}
}

// minImportTimeout is the least Timeout of an importer, in seconds: the
// large tenant's import takes about a minute on AWS and four minutes at
// three times its size (README, Performance); Lambda's longest is 900.
const minImportTimeout = 900

// bucketARNs returns the ARN of the bucket a function's variable names and
// the prefix of its objects' ARNs, as the template spells them.
func bucketARNs(expr string) (bucket, objects string, err error) {
	if id, ok := cutRef(expr); ok {
		return "!GetAtt " + id + ".Arn", "!Sub ${" + id + ".Arn}/", nil
	}
	if expr == ingestBucketName {
		return ingestBucketARN, ingestBucketARN + "/", nil
	}
	return "", "", fmt.Errorf("a bucket named %q, neither !Ref <bucket> nor %s", expr, ingestBucketName)
}
