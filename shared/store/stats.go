package store

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Stats counts the requests a store makes, the items and bytes they read
// and the items they write. Attach one to a context with WithStats to count
// the work of one API request.
type Stats struct {
	Requests  atomic.Int64
	ItemsRead atomic.Int64
	// BytesRead is the size of the items read as DynamoDB counts it for
	// read units: attribute names and values.
	BytesRead atomic.Int64
	Written   atomic.Int64
	// BytesWritten sums the sizes of the items put (updates and deletes
	// count none): what write capacity is charged on, 1 KB a unit.
	BytesWritten atomic.Int64
	// ReadHalfUnits and WriteUnits are the capacity units DynamoDB charges
	// for the work, as its pricing counts them: a read unit is 4 KB read
	// strongly consistent (half of one eventually consistent), an item's
	// size rounded up for GetItem and BatchGetItem and a whole response
	// page's for Query; a write unit is 1 KB of an item put, rounded up,
	// twice in a transaction. An update or delete counts one unit (its
	// item's size is not known here): a floor, not an estimate.
	ReadHalfUnits atomic.Int64
	WriteUnits    atomic.Int64

	mu    sync.Mutex
	spans [][2]time.Time
}

// Chain returns the longest run of requests of which each started after
// the one before had answered: the round trips that had to be made one
// after the other, whatever ran beside them.
func (s *Stats) Chain() int {
	s.mu.Lock()
	spans := slices.Clone(s.spans)
	s.mu.Unlock()
	// The most requests that do not overlap: take the one that answers
	// first, then the first to start after it, and so on.
	slices.SortFunc(spans, func(a, b [2]time.Time) int { return a[1].Compare(b[1]) })
	n, end := 0, time.Time{}
	for _, sp := range spans {
		if !sp[0].Before(end) {
			n++
			end = sp[1]
		}
	}
	return n
}

type statsKey struct{}

// WithStats returns a context whose store calls are counted in a Stats: the
// one ctx carries already, so that an outer caller (a benchmark) sees the
// counts of an inner one (a request), or else a new one.
func WithStats(ctx context.Context) (context.Context, *Stats) {
	if s := statsFrom(ctx); s != nil {
		return ctx, s
	}
	s := new(Stats)
	return context.WithValue(ctx, statsKey{}, s), s
}

func statsFrom(ctx context.Context) *Stats {
	s, _ := ctx.Value(statsKey{}).(*Stats)
	return s
}

// counting counts requests and items in the Stats of the request's context.
type counting struct{ DynamoDB }

// ReadUnits is the read capacity units of the work.
func (s *Stats) ReadUnits() float64 { return float64(s.ReadHalfUnits.Load()) / 2 }

// put counts the size of an item written whole, and its write units
// (factor 2 in a transaction).
func (c *counting) put(ctx context.Context, item map[string]types.AttributeValue, factor int64) {
	if s := statsFrom(ctx); s != nil {
		size := int64(ItemSize(item))
		s.BytesWritten.Add(size)
		s.WriteUnits.Add(factor * max(1, (size+1023)/1024))
	}
}

// changed counts the write units of an update or delete: one, a floor.
func (c *counting) changed(ctx context.Context, factor int64) {
	if s := statsFrom(ctx); s != nil {
		s.WriteUnits.Add(factor)
	}
}

// read counts the read units of bytes read as one unit of reading (an item,
// or a Query's page).
func (c *counting) read(ctx context.Context, bytes int, consistent *bool) {
	if s := statsFrom(ctx); s != nil {
		half := int64(1)
		if consistent != nil && *consistent {
			half = 2
		}
		s.ReadHalfUnits.Add(half * max(1, (int64(bytes)+4095)/4096))
	}
}

func (c *counting) add(ctx context.Context, start time.Time, items []map[string]types.AttributeValue, written int) {
	s := statsFrom(ctx)
	if s == nil {
		return
	}
	s.Requests.Add(1)
	s.ItemsRead.Add(int64(len(items)))
	s.Written.Add(int64(written))
	bytes := 0
	for _, it := range items {
		bytes += ItemSize(it)
	}
	s.BytesRead.Add(int64(bytes))
	s.mu.Lock()
	s.spans = append(s.spans, [2]time.Time{start, time.Now()})
	s.mu.Unlock()
}

func (c *counting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.GetItem(ctx, in, o...)
	var items []map[string]types.AttributeValue
	if err == nil && out.Item != nil {
		items = append(items, out.Item)
	}
	if err == nil {
		c.read(ctx, ItemSize(out.Item), in.ConsistentRead)
	}
	c.add(ctx, start, items, 0)
	return out, err
}

func (c *counting) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.PutItem(ctx, in, o...)
	c.add(ctx, start, nil, 1)
	c.put(ctx, in.Item, 1)
	return out, err
}

func (c *counting) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.DeleteItem(ctx, in, o...)
	c.add(ctx, start, nil, 1)
	c.changed(ctx, 1)
	return out, err
}

func (c *counting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.UpdateItem(ctx, in, o...)
	c.add(ctx, start, nil, 1)
	c.changed(ctx, 1)
	return out, err
}

func (c *counting) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.Query(ctx, in, o...)
	var items []map[string]types.AttributeValue
	if err == nil {
		items = out.Items
		// A filter reads what it drops: count what was scanned.
		if s := statsFrom(ctx); s != nil && int(out.ScannedCount) > len(items) {
			s.ItemsRead.Add(int64(int(out.ScannedCount) - len(items)))
		}
		size := 0
		for _, it := range items {
			size += ItemSize(it)
		}
		c.read(ctx, size, in.ConsistentRead)
	}
	c.add(ctx, start, items, 0)
	return out, err
}

func (c *counting) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.BatchGetItem(ctx, in, o...)
	var items []map[string]types.AttributeValue
	if err == nil {
		for _, its := range out.Responses {
			items = append(items, its...)
		}
		consistent := false
		for _, ka := range in.RequestItems {
			if ka.ConsistentRead != nil && *ka.ConsistentRead {
				consistent = true
			}
		}
		for _, it := range items {
			c.read(ctx, ItemSize(it), &consistent)
		}
	}
	c.add(ctx, start, items, 0)
	return out, err
}

func (c *counting) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	n := 0
	for _, reqs := range in.RequestItems {
		n += len(reqs)
		for _, r := range reqs {
			if r.PutRequest != nil {
				c.put(ctx, r.PutRequest.Item, 1)
			} else {
				c.changed(ctx, 1)
			}
		}
	}
	start := time.Now()
	out, err := c.DynamoDB.BatchWriteItem(ctx, in, o...)
	c.add(ctx, start, nil, n)
	return out, err
}

func (c *counting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	start := time.Now()
	out, err := c.DynamoDB.TransactWriteItems(ctx, in, o...)
	c.add(ctx, start, nil, len(in.TransactItems))
	for _, it := range in.TransactItems {
		if it.Put != nil {
			c.put(ctx, it.Put.Item, 2)
		} else {
			c.changed(ctx, 2)
		}
	}
	return out, err
}
