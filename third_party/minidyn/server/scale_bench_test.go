package server_test

// Benchmarks of a table at scale, through the AWS SDK and the HTTP server as
// an application uses them. They use nothing but NewServer, so the same file
// also runs against other versions of this package to compare them.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"
)

const (
	scaleItems         = 100_000
	scalePartitionSize = 8 // items per partition key, and per GSI partition key
	scaleTable         = "scale"
	scaleBatch         = 25
)

func scaleClient(tb testing.TB, url string) *dynamodb.Client {
	tb.Helper()

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 64

	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  &http.Client{Transport: transport},
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}

	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(url)
		o.DisableValidateResponseChecksum = true
	})
}

// scaleServer starts a server with an empty table: a string partition and
// sort key, and one global secondary index (GSI1, projection ALL) on two
// other string attributes.
func scaleServer(tb testing.TB) (*dynamodb.Client, func()) {
	tb.Helper()

	ts := httptest.NewServer(server.NewServer())
	cli := scaleClient(tb, ts.URL)

	s := func(name string) ddbtypes.AttributeDefinition {
		return ddbtypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: ddbtypes.ScalarAttributeTypeS}
	}
	key := func(hash, rng string) []ddbtypes.KeySchemaElement {
		return []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: ddbtypes.KeyTypeRange},
		}
	}

	_, err := cli.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(scaleTable),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{s("pk"), s("sk"), s("gsi1pk"), s("gsi1sk")},
		KeySchema:            key("pk", "sk"),
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName:  aws.String("GSI1"),
			KeySchema:  key("gsi1pk", "gsi1sk"),
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		}},
	})
	if err != nil {
		ts.Close()
		tb.Fatalf("create table: %v", err)
	}

	return cli, ts.Close
}

// scaleItem is item n of the data set: partitions of scalePartitionSize
// items, and a GSI partition that groups items of different partitions.
func scaleItem(n int) map[string]ddbtypes.AttributeValue {
	str := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	partitions := scaleItems / scalePartitionSize
	p, i := n/scalePartitionSize, n%scalePartitionSize

	return map[string]ddbtypes.AttributeValue{
		"pk":     str(fmt.Sprintf("P#%06d", p)),
		"sk":     str(fmt.Sprintf("S#%04d", i)),
		"gsi1pk": str(fmt.Sprintf("G#%06d", (p*7919)%partitions)),
		"gsi1sk": str(fmt.Sprintf("S#%04d#%06d", i, p)),
		"name":   str("item " + strconv.Itoa(n)),
		"count":  &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(n % 97)},
	}
}

// scaleLoad writes items [0, n) with BatchWriteItem, in key order shuffled by
// a stride so that inserts do not all land at the end of the table.
func scaleLoad(tb testing.TB, cli *dynamodb.Client, n int) {
	tb.Helper()

	const stride = 7919 // prime, coprime with n

	reqs := make([]ddbtypes.WriteRequest, 0, scaleBatch)
	flush := func() {
		if len(reqs) == 0 {
			return
		}

		out, err := cli.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]ddbtypes.WriteRequest{scaleTable: reqs},
		})
		if err != nil {
			tb.Fatalf("batch write: %v", err)
		}

		if len(out.UnprocessedItems) > 0 {
			tb.Fatalf("batch write: %d tables with unprocessed items", len(out.UnprocessedItems))
		}

		reqs = reqs[:0]
	}

	for k := range n {
		reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: scaleItem((k * stride) % n)}})
		if len(reqs) == scaleBatch {
			flush()
		}
	}

	flush()
}

var (
	scaleOnce    sync.Once
	scaleShared  *dynamodb.Client
	scaleLoadDur time.Duration
)

// scaleLoaded returns a client on a server whose table holds scaleItems
// items, loaded once for all the benchmarks that only read or add a few.
func scaleLoaded(b *testing.B) *dynamodb.Client {
	b.Helper()

	scaleOnce.Do(func() {
		cli, _ := scaleServer(b) // kept for the whole run
		start := time.Now()
		scaleLoad(b, cli, scaleItems)
		scaleLoadDur = time.Since(start)
		scaleShared = cli
	})

	if scaleShared == nil {
		b.Fatal("the shared table did not load")
	}

	return scaleShared
}

// BenchmarkScaleBatchWriteItem loads 100,000 items into an empty table with
// a GSI, 25 to a request.
func BenchmarkScaleBatchWriteItem(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		cli, stop := scaleServer(b)
		b.StartTimer()

		scaleLoad(b, cli, scaleItems)

		b.StopTimer()
		stop()
		b.StartTimer()
	}

	b.ReportMetric(float64(scaleItems)*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkScaleQuery reads one partition of 8 items in a table of 100,000,
// by its key, by a range of its sort key, and through the GSI.
func BenchmarkScaleQuery(b *testing.B) {
	cli := scaleLoaded(b)
	b.Logf("loading %d items took %v", scaleItems, scaleLoadDur)

	partitions := scaleItems / scalePartitionSize
	str := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }

	cases := []struct {
		name  string
		want  int
		input func(n int) *dynamodb.QueryInput
	}{
		{"partition", scalePartitionSize, func(n int) *dynamodb.QueryInput {
			return &dynamodb.QueryInput{
				TableName:                 aws.String(scaleTable),
				KeyConditionExpression:    aws.String("pk = :pk"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": str(fmt.Sprintf("P#%06d", n%partitions))},
			}
		}},
		{"sort-key-range", 4, func(n int) *dynamodb.QueryInput {
			return &dynamodb.QueryInput{
				TableName:              aws.String(scaleTable),
				KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
					":pk": str(fmt.Sprintf("P#%06d", n%partitions)), ":lo": str("S#0002"), ":hi": str("S#0005"),
				},
			}
		}},
		{"gsi", scalePartitionSize, func(n int) *dynamodb.QueryInput {
			return &dynamodb.QueryInput{
				TableName:                 aws.String(scaleTable),
				IndexName:                 aws.String("GSI1"),
				KeyConditionExpression:    aws.String("gsi1pk = :pk"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": str(fmt.Sprintf("G#%06d", n%partitions))},
			}
		}},
	}

	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				out, err := cli.Query(context.Background(), c.input(n))
				if err != nil {
					b.Fatalf("query: %v", err)
				}

				if len(out.Items) != c.want {
					b.Fatalf("query %d: %d items, want %d", n, len(out.Items), c.want)
				}

				n += 7919
			}
		})
	}
}

// BenchmarkScaleTransactWriteItems runs a transaction of a conditional put
// and an update in a table of 100,000 items.
func BenchmarkScaleTransactWriteItems(b *testing.B) {
	cli := scaleLoaded(b)
	str := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }

	n := 0
	for b.Loop() {
		_, err := cli.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
			TransactItems: []ddbtypes.TransactWriteItem{
				{Put: &ddbtypes.Put{
					TableName:           aws.String(scaleTable),
					Item:                map[string]ddbtypes.AttributeValue{"pk": str("TX"), "sk": str(fmt.Sprintf("T#%09d", n))},
					ConditionExpression: aws.String("attribute_not_exists(pk)"),
				}},
				{Update: &ddbtypes.Update{
					TableName:                 aws.String(scaleTable),
					Key:                       map[string]ddbtypes.AttributeValue{"pk": str("P#000001"), "sk": str("S#0001")},
					UpdateExpression:          aws.String("SET #c = #c + :one"),
					ExpressionAttributeNames:  map[string]string{"#c": "count"},
					ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":one": &ddbtypes.AttributeValueMemberN{Value: "1"}},
				}},
			},
		})
		if err != nil {
			b.Fatalf("transaction: %v", err)
		}

		n++
	}
}
