// Package testenv gives tests real AWS SDK clients on emulators: DynamoDB
// through minidyn's HTTP server in process, or through the DynamoDB emulator
// named by TEST_DYNAMODB_ENDPOINT (dynalite, started by the Makefile); and a
// fresh, uniquely named table per test so that tests never see each other's
// items.
//
// dynalite has no transactions. A test that needs them lives in a file
// whose name ends in _tx_test.go, with the build constraint
// "//go:build !notransactions", and the dynalite run builds the tests with
// -tags notransactions: a test is left out by that constraint, visibly, and
// never by its name.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/truora/minidyn/server"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/dataset"
	"github.com/partnerportal/licenses/shared/store"
)

// EndpointVariable names the environment variable that points the store
// tests at an external DynamoDB emulator instead of the in-process minidyn.
const EndpointVariable = "TEST_DYNAMODB_ENDPOINT"

// DynamoDB returns a client on the test's DynamoDB emulator, with options
// applied (a test may swap the HTTP client to inject faults). The in-process
// server lives until the test ends.
func DynamoDB(tb testing.TB, opts ...func(*dynamodb.Options)) *dynamodb.Client {
	tb.Helper()
	endpoint := os.Getenv(EndpointVariable)
	if endpoint == "" {
		srv := httptest.NewServer(server.NewServer())
		tb.Cleanup(srv.Close)
		endpoint = srv.URL
	}
	client := awsconf.DynamoDB(awsconf.Local, endpoint)
	if len(opts) == 0 {
		return client
	}
	return dynamodb.New(client.Options(), opts...)
}

// Table creates a table with a unique name and returns its name.
func Table(tb testing.TB, db *dynamodb.Client) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test-" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if err := store.CreateTable(ctx, db, name); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	// dynalite refuses requests while a new table is CREATING; minidyn's
	// tables are ACTIVE at once.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		if err == nil && out.Table.TableStatus != types.TableStatusCreating {
			return name
		}
		if time.Now().After(deadline) {
			tb.Fatalf("table %s is not ready after 10 s: %v", name, err)
		}
	}
}

// S3 returns a client on an in-process S3 emulator (gofakes3, which does not
// check signatures) with the named bucket made, with options applied (a
// test may swap the HTTP client to inject faults). The emulator lives until
// the test ends.
func S3(tb testing.TB, bucket string, opts ...func(*s3.Options)) *s3.Client {
	tb.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	tb.Cleanup(srv.Close)
	client := awsconf.S3(awsconf.Local, srv.URL)
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	if len(opts) == 0 {
		return client
	}
	return s3.New(client.Options(), opts...)
}

// The variables that point tests at an S3 server that checks signatures
// (versitygw, started by the Makefile).
const (
	S3EndpointVariable  = "TEST_S3_ENDPOINT"
	S3AccessKeyVariable = "TEST_S3_ACCESS_KEY"
	S3SecretKeyVariable = "TEST_S3_SECRET_KEY"
)

// SigningS3 returns a client on the S3 server named by TEST_S3_ENDPOINT,
// which checks signatures and the expiry of presigned URLs, with a new
// bucket made. Without the variable the test is skipped: `make test` sets it.
func SigningS3(tb testing.TB) (client *s3.Client, bucket string) {
	tb.Helper()
	endpoint := os.Getenv(S3EndpointVariable)
	if endpoint == "" {
		tb.Skipf("%s is not set: run make test, which starts versitygw", S3EndpointVariable)
	}
	cfg := awsconf.Local.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(os.Getenv(S3AccessKeyVariable), os.Getenv(S3SecretKeyVariable), "")
	client = awsconf.S3(cfg, endpoint)
	var b [6]byte
	_, _ = rand.Read(b[:])
	bucket = "test-" + hex.EncodeToString(b[:])
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	return client, bucket
}

// Store returns a store on a new, empty table.
func Store(tb testing.TB) *store.Store {
	tb.Helper()
	db := DynamoDB(tb)
	return store.New(db, Table(tb, db))
}

// StoreLoaded returns a store on a new table with doc imported into it:
// the state a document should leave, to compare other ways of loading it
// with.
func StoreLoaded(tb testing.TB, doc dataset.Document) *store.Store {
	tb.Helper()
	ds, err := dataset.Check(&doc)
	if err != nil {
		tb.Fatalf("data set: %v", err)
	}
	st := Store(tb)
	if _, err := st.Import(context.Background(), ds, store.ImportOptions{}); err != nil {
		tb.Fatalf("import: %v", err)
	}
	return st
}

// MotoEndpointVariable names the environment variable that points tests at
// moto's server as a second DynamoDB emulator (moto's server, started by
// the Makefile, is the one that serves SES).
const MotoEndpointVariable = "TEST_DYNAMODB_MOTO_ENDPOINT"

// MotoDynamoDB returns a client on moto's DynamoDB that sends one request
// at a time. moto's server runs each request on a thread of its own, and
// its transactions are not atomic across threads: one that fails is rolled
// back by restoring a copy of the whole table, which undoes transactions
// that committed meanwhile, and the copying itself races (a 500). One
// request at a time makes each transaction serializable, as DynamoDB's
// are, while the reads and writes of concurrent callers still interleave
// between requests. Without the variable the test is skipped: `make test`
// sets it.
func MotoDynamoDB(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	endpoint := os.Getenv(MotoEndpointVariable)
	if endpoint == "" {
		tb.Skipf("%s is not set: run make test, which starts moto_server", MotoEndpointVariable)
	}
	return dynamodb.New(awsconf.DynamoDB(awsconf.Local, endpoint).Options(), func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: &oneAtATime{base: http.DefaultTransport}}
	})
}

// oneAtATime sends one request at a time, each read to its end.
type oneAtATime struct {
	mu   sync.Mutex
	base http.RoundTripper
}

func (o *oneAtATime) RoundTrip(r *http.Request) (*http.Response, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	res, err := o.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}

// MotoTable creates a table in moto's DynamoDB, deleted when the test
// ends: moto's server outlives the tests, and every table it holds is in
// the dump that SES's tests read their mail from (/moto-api/data.json).
func MotoTable(tb testing.TB, db *dynamodb.Client) string {
	tb.Helper()
	name := Table(tb, db)
	tb.Cleanup(func() {
		if _, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}); err != nil {
			tb.Errorf("delete table %s: %v", name, err)
		}
	})
	return name
}

// MotoStore returns a store on a new table in moto's DynamoDB.
func MotoStore(tb testing.TB) *store.Store {
	tb.Helper()
	db := MotoDynamoDB(tb)
	return store.New(db, MotoTable(tb, db))
}
