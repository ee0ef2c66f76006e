package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/partnerportal/licenses/shared/fault"
)

// This file holds the table's plumbing: requests with their retries and
// fan-outs, and the conversion of items. The items themselves are declared
// in the file of their entity. They are separate from the domain and API
// types so that the stored form can change (shorter names, denormalized
// copies) without touching either. Lists and maps that may be empty are
// omitempty: an empty one would be stored for nothing, and minidyn reads it
// back wrong.

func itemID(pk, sk string) string { return pk + "|" + sk }

func attrString(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// newID returns a random identifier of 16 hex digits.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// nilIfEmpty returns nil for an empty slice: omitempty leaves out nil
// slices only.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func marshal(v any) (map[string]types.AttributeValue, error) {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, fmt.Errorf("marshal %T: %w", v, err)
	}
	return m, nil
}

func unmarshal[T any](m map[string]types.AttributeValue) (T, error) {
	var v T
	if err := attributevalue.UnmarshalMap(m, &v); err != nil {
		return v, fmt.Errorf("unmarshal %T: %w", v, err)
	}
	return v, nil
}

func queryPrefix(table, pk, skPrefix string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:              aws.String(table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(pk), ":sk": str(skPrefix),
		},
	}
}

// backoff waits before retry number attempt (1, 2, ...): exponential from
// 50 ms up to 5 s, with full jitter so that retrying writers spread out.
func backoff(ctx context.Context, attempt int) error {
	ceiling := min(5*time.Second, 50*time.Millisecond<<min(attempt, 10))
	t := time.NewTimer(time.Duration(mathrand.Int64N(int64(ceiling)) + 1))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// errUnprocessed is the cause of a batch whose items DynamoDB kept leaving
// unprocessed: it is throttling, and the caller may retry later.
var errUnprocessed = errors.New("DynamoDB left items unprocessed")

// maxBatchAttempts bounds the retries of unprocessed batch items; DynamoDB
// leaves items unprocessed under throttling, which passes.
const maxBatchAttempts = 12

func put(item map[string]types.AttributeValue) types.WriteRequest {
	return types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
}

func del(k map[string]types.AttributeValue) types.WriteRequest {
	return types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
}

// transact sends one transaction. The client request token makes the SDK's
// own retries of the same call idempotent on DynamoDB.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:      items,
		ClientRequestToken: aws.String(newID() + newID()),
	})
	return err
}

// query runs a Query to its last page and hands every item to fn.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.db, in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return unavailable(err, "query")
		}
		for _, item := range out.Items {
			if err := fn(item); err != nil {
				return err
			}
		}
	}
	return nil
}

// batchGet reads the items with the given keys, 100 a request and the
// requests at once, retrying keys DynamoDB leaves unprocessed, and hands
// each item found to fn. fn is never called concurrently.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool, fn func(map[string]types.AttributeValue) error) error {
	// DynamoDB refuses a batch that names a key twice.
	seen := make(map[string]bool, len(keys))
	unique := keys[:0:0]
	for _, k := range keys {
		if id := itemID(attrString(k, attrPK), attrString(k, attrSK)); !seen[id] {
			seen[id] = true
			unique = append(unique, k)
		}
	}
	keys = unique
	// Batches of 100 at once; fn takes their items one at a time.
	var mu sync.Mutex
	batches := (len(keys) + 99) / 100
	return s.parallel(ctx, batches, func(ctx context.Context, b int) error {
		pending := keys[b*100 : min((b+1)*100, len(keys))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == maxBatchAttempts {
				return unavailable(fmt.Errorf("batch get: %d keys still unprocessed after %d attempts: %w", len(pending), attempt, errUnprocessed), "batch get")
			}
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: pending, ConsistentRead: aws.Bool(consistent)}},
			})
			if err != nil {
				return unavailable(err, "batch get")
			}
			mu.Lock()
			for _, item := range out.Responses[s.table] {
				if err := fn(item); err != nil {
					mu.Unlock()
					return err
				}
			}
			mu.Unlock()
			pending = out.UnprocessedKeys[s.table].Keys
		}
		return nil
	})
}

// parallel runs fn(0) to fn(n-1), s.Parallelism at a time, and returns the
// first error, cancelling the calls still running.
func (s *Store) parallel(ctx context.Context, n int, fn func(context.Context, int) error) error {
	return s.parallelN(ctx, s.Parallelism, n, fn)
}

// parallelN is parallel with its own bound.
func (s *Store) parallelN(ctx context.Context, workers, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, max(1, workers))
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(ctx, i); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	return context.Cause(ctx)
}

// batchWrite writes the requests 25 at a time, retrying unprocessed items
// with backoff. written, if not nil, is called with the count after each
// request that made progress.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest, written func(int)) error {
	// The batches of one call go out a few at a time: they are independent,
	// and a caller that needs an order makes calls in that order.
	const perCall = 4
	var mu sync.Mutex
	count := func(n int) {
		if written != nil {
			mu.Lock()
			written(n)
			mu.Unlock()
		}
	}
	return s.parallelN(ctx, perCall, (len(reqs)+24)/25, func(ctx context.Context, i int) error {
		return s.writeBatch(ctx, reqs[i*25:min((i+1)*25, len(reqs))], count)
	})
}

// writeBatch writes at most 25 requests, retrying unprocessed items with
// backoff.
func (s *Store) writeBatch(ctx context.Context, pending []types.WriteRequest, written func(int)) error {
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == maxBatchAttempts {
			return unavailable(fmt.Errorf("batch write: %d items still unprocessed after %d attempts: %w", len(pending), attempt, errUnprocessed), "batch write")
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{s.table: pending},
		})
		if err != nil {
			// The SDK retried throttling and the service's failures
			// already; retrying its retries would hold the caller for
			// minutes before the 503. Unprocessed items are retried here.
			return unavailable(err, "batch write")
		}
		left := out.UnprocessedItems[s.table]
		written(len(pending) - len(left))
		pending = left
	}
	return nil
}

// getItem reads the item with key k as a T. An item that is not there is a
// not_found error naming what (as "license LIC-1"); consistent is for a read
// that must see every write acknowledged before it.
func getItem[T any](ctx context.Context, s *Store, k map[string]types.AttributeValue, consistent bool, what string) (T, error) {
	var zero T
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k, ConsistentRead: aws.Bool(consistent)})
	if err != nil {
		return zero, unavailable(err, "get "+what)
	}
	if out.Item == nil {
		return zero, notFound("%s not found", what)
	}
	return unmarshal[T](out.Item)
}

func isNotFound(err error) bool { return fault.Is(err, fault.NotFound) }
