// Package testenv gives tests real AWS SDK clients on emulators: DynamoDB
// through minidyn's HTTP server in process, or through the DynamoDB emulator
// named by TEST_DYNAMODB_ENDPOINT (dynalite, started by the Makefile); and a
// fresh, uniquely named table per test so that tests never see each other's
// items.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/truora/minidyn/server"

	"github.com/partnerportal/licenses/shared/awsconf"
	"github.com/partnerportal/licenses/shared/store"
)

// EndpointVariable names the environment variable that points the store
// tests at an external DynamoDB emulator instead of the in-process minidyn.
const EndpointVariable = "TEST_DYNAMODB_ENDPOINT"

// Backend returns the name of the DynamoDB emulator the tests run against.
func Backend() string {
	if os.Getenv(EndpointVariable) != "" {
		return "external"
	}
	return "minidyn"
}

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
	if err := store.CreateTable(context.Background(), db, name); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	return name
}

// Store returns a store on a new, empty table.
func Store(tb testing.TB) *store.Store {
	tb.Helper()
	db := DynamoDB(tb)
	return store.New(db, Table(tb, db))
}
