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
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
	ctx := context.Background()
	if err := store.CreateTable(ctx, db, name); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	// dynalite refuses requests while a new table is CREATING. The SDK's
	// waiter cannot be used: it waits for ACTIVE, which minidyn never says.
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

// Store returns a store on a new, empty table.
func Store(tb testing.TB) *store.Store {
	tb.Helper()
	db := DynamoDB(tb)
	return store.New(db, Table(tb, db))
}
