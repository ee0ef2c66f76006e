package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// backoff waits before retry number attempt (1, 2, ...): exponential from
// 50 ms up to 5 s, with full jitter so that retrying writers spread out.
func backoff(ctx context.Context, attempt int) error {
	ceiling := min(5*time.Second, 50*time.Millisecond<<min(attempt, 10))
	t := time.NewTimer(time.Duration(rand.Int64N(int64(ceiling)) + 1))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// maxBatchAttempts bounds the retries of unprocessed batch items; DynamoDB
// leaves items unprocessed under throttling, which passes.
const maxBatchAttempts = 12

// batchWrite writes the requests 25 at a time, retrying unprocessed items
// with backoff. written, if not nil, is called with the count after each
// request that made progress.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest, written func(int)) error {
	for start := 0; start < len(reqs); start += 25 {
		pending := reqs[start:min(start+25, len(reqs))]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == maxBatchAttempts {
				return fmt.Errorf("batch write: %d items still unprocessed after %d attempts", len(pending), attempt)
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
				if throttled(err) {
					continue
				}
				return fmt.Errorf("batch write: %w", err)
			}
			left := out.UnprocessedItems[s.table]
			if written != nil {
				written(len(pending) - len(left))
			}
			pending = left
		}
	}
	return nil
}

func put(item map[string]types.AttributeValue) types.WriteRequest {
	return types.WriteRequest{PutRequest: &types.PutRequest{Item: item}}
}

func del(k map[string]types.AttributeValue) types.WriteRequest {
	return types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
}
