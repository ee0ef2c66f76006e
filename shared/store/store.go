// Package store keeps the portal's data in one DynamoDB table.
//
// # Keys
//
// Every item has a string partition key PK and sort key SK. The prefix of each
// names the entity, so one table holds them all without collisions, and the
// items read together share a partition:
//
//	entity                PK                   SK                              notes
//	product               CATALOG              PRODUCT#<id>                    few; one Query reads them all
//	organization          ORG#<id>             #ORG                            own and effective sellers
//	role                  ROLE#<id>            #ROLE
//	user                  USER#<id>            #USER                           id is the identity provider's sub
//	pin                   USER#<id>            PIN#<key>
//	customer              PARTNER#<partner>    CUSTOMER#<org>                  the partner sells to org
//	license copy          PARTNER#<partner>    LICENSE#<org>#<key>             one per organization of the license
//	active deployment     PARTNER#<partner>    DEPLOYMENT#<org>#<key>#<dep>    copy, only while active
//	partner note          PARTNER#<partner>    NOTE#<key>                      version for optimistic locking
//	export                PARTNER#<partner>    EXPORT#<id>                     id is time-ordered; GSI1:
//	                                                                           PENDING / <created> while pending
//	subscription          PARTNER#<partner>    SUBSCRIPTION#<id>               GSI1: DUE / <next due time>
//	period claim          PARTNER#<partner>    PERIOD#<subscription>#<period>  at most one export per period
//	license               LICENSE#<key>        #LICENSE                        the truth; holds the deployed count
//	deployment            LICENSE#<key>        DEPLOYMENT#<dep>                active or not, kept forever
//	history event         LICENSE#<key>        EVENT#<time>#<id>               never deleted
//	report snapshot       REPORT#<id>          #REPORT                         owner, overview, each list's chunk
//	                                                                           index; TTL expiresAt
//	report index part     REPORT#<id>          INDEX#<list>#<n>                only for an index over 64 KB; TTL
//	report rows           REPORT#<id>#<n%16>   ROWS#<list>#<n>                 chunk n of a list: up to 1,000 rows,
//	                                                                           gzip'd; TTL expiresAt
//
// Why the keys look like this:
//
//   - A partner's view is its partition. Which customers a partner sees is
//     decided when data is imported (a sub-organization's inherited
//     distributor and reseller are resolved then) and written as CUSTOMER#
//     items; each partner that sees an organization holds a copy of each of
//     its licenses, sorted by organization. A report over every customer is
//     one Query of the partner's LICENSE# copies, and a report over some is
//     one range Query per run of consecutive selected organizations: never a
//     request per organization or per license. Large selections are split
//     into ranges read in parallel.
//   - The copies carry the deployed count, which an activation changes in
//     the license and in every copy in one transaction.
//   - Active deployments have copies beside the license copies, so an export
//     reads a selection's deployments the same way.
//   - Notes, exports and subscriptions belong to a partner organization and
//     live in its partition: the partner id is part of every key that reads
//     them, so an item of another partner cannot be addressed at all.
//   - Identifiers never contain '#' (the import refuses them), so a prefix
//     such as LICENSE#<org># cannot match another organization's items.
//   - A report snapshot is a head and chunks (reports.go). No item grows
//     with what a partner grows: a chunk holds at most 1,000 rows and 300 KB
//     before compression; the head holds no list of organizations (nothing
//     reads it after the report is made) and an index of at most 64 KB per
//     list (beyond, hundreds of thousands of rows, the index goes to INDEX#
//     parts of 300 KB); the overview grows with the catalog only.
//   - The chunks of a snapshot spread over 16 partition keys, chunk n under
//     REPORT#<id>#<n mod 16>, because one partition takes at most 1,000 write
//     units a second (one unit per KB of an item, rounded up). The large
//     distributor's snapshot (100,000 rows) is 96 items of 2.24 MB, about
//     2,200 units: under one key that took at least 2.2 s; over 16 keys each
//     takes 6 chunks, about 140 units, 0.14 s if the keys fall on different
//     partitions. The table's own bound is then what counts: a new on-demand
//     table sustains 4,000 write units a second (0.56 s for the snapshot),
//     and it scales up with the traffic it has seen. The chunks are written
//     in 4 BatchWriteItem requests of 25 at once, then the head. Reads spread
//     the same way, under 3,000 read units a second a partition: a page reads
//     the head (11 KB here) and the chunks it serves (23 KB each), about 4.5
//     units, where reading every chunk took 210.
//
// # Access patterns
//
//	pattern                              key condition / operation                       index  items read
//	caller (every request)               GetItem USER#u; then at once BatchGet ORG#o,     table  2 + roles + customers
//	                                     ROLE#r...; Query PARTNER#p begins_with CUSTOMER#
//	GET /v1/customer-organizations       caller; Query CATALOG; Query PARTNER#p           table  products + the partner's
//	                                     begins_with LICENSE#                                    license copies
//	POST /v1/reports                     caller; Query CATALOG; Query PARTNER#p SK        table  products + the selection's
//	                                     BETWEEN LICENSE#<first># AND LICENSE#<last>#~           licenses; writes chunks
//	                                     per run of selected orgs; BatchWrite ROWS# (25              and the head
//	                                     a request, in parallel); PutItem REPORT#id/#REPORT
//	GET /v1/reports/{id}/<list>          caller; at once GetItem REPORT#id/#REPORT (its  table  1 + the chunks the page
//	                                     index; BatchGet INDEX# parts if any) and Query          needs + pins (+ their
//	                                     USER#u begins_with PIN# (then, if the page may          licenses and products) +
//	                                     hold pinned rows, BatchGet LICENSE#k/#LICENSE           the page's notes (all
//	                                     of the pins and Query CATALOG: where their rows         notes for a q search)
//	                                     sit); BatchGet REPORT#id#<n%16>/ROWS#<list>#<n>
//	                                     of the chunks the index leaves (the cursor's
//	                                     on, skipping those the filter excludes, and the
//	                                     pinned rows'), 25 a request in parallel, in rounds
//	                                     as far as the page needs (a q search may read
//	                                     every chunk); BatchGet NOTE#k of the rows served
//	                                     (a q search: Query PARTNER#p begins_with NOTE#)
//	GET /v1/licenses/{key}               caller; Query LICENSE#k SK < EVENT#; Query      table  1 + deployments + products
//	                                     CATALOG; pins and notes as above                        + pins + notes
//	GET /v1/licenses/{key}/history       caller; as GET license; Query LICENSE#k         table  one page of events
//	                                     begins_with EVENT#, newest first, paged
//	PUT /v1/licenses/{key}/partner-note  caller; as GET license; TransactWrite: Put      table  writes 2
//	                                     NOTE (version condition) + Put EVENT
//	POST /v1/licenses/{key}/activations  caller; as GET license; TransactWrite: Update    table  writes 2c+3 for c copies
//	                                     #LICENSE (deployed < purchased), Update copies,
//	                                     Put DEPLOYMENT (+copies), Put EVENT
//	DELETE .../activations/{dep}         the same, conditioned on the deployment being   table  as above
//	                                     active
//	GET /v1/pins                         caller; Query USER#u begins_with PIN#;          table  pins + their licenses
//	                                     BatchGet LICENSE#k/#LICENSE; Query CATALOG
//	PUT/DELETE /v1/pins/{key}            caller; as GET license; Put/Delete PIN#k        table  writes 1
//	POST /v1/exports                     as POST /v1/reports, plus the DEPLOYMENT#       table  the selection's licenses
//	                                     copies in the same ranges; PutItem EXPORT#id            and active deployments
//	GET /v1/exports[/{id}]               caller; Query PARTNER#p begins_with EXPORT#,    table  the partner's exports
//	                                     newest first (or GetItem)
//	finish an export                     GetItem EXPORT#id; as POST /v1/exports; Put     table  as POST /v1/exports
//	                                     EXPORT#id if still pending
//	GET/PUT/DELETE subscriptions         caller; Query PARTNER#p begins_with             table  the partner's
//	                                     SUBSCRIPTION# / PutItem / DeleteItem                    subscriptions
//	due subscriptions (schedule)         Query GSI1 GSI1PK = DUE AND GSI1SK <= now;      GSI1   due subscriptions only
//	                                     TransactWrite: Put PERIOD claim (must not
//	                                     exist) + Put EXPORT + Update next due time
//	stale exports (schedule)             Query GSI1 GSI1PK = PENDING AND GSI1SK <        GSI1   pending exports only
//	                                     now - 15 min; finish each
//	import                               BatchGet the file's items; Query each partner's  table  the file's items and
//	                                     copies; BatchWrite the changes                          their copies
//
// No request path scans the table.
package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/partnerportal/licenses/shared/fault"
)

// DynamoDB is the part of the DynamoDB API the store uses.
type DynamoDB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store reads and writes the portal's table.
type Store struct {
	db    DynamoDB
	table string
	// Parallelism bounds the concurrent requests of one call that reads
	// many organizations or writes or reads many chunks of a report.
	Parallelism int
	// ReportChunkRows bounds the rows of a chunk of a report snapshot
	// (DefaultReportChunkRows): smaller chunks make a page read fewer bytes
	// and the snapshot's index larger.
	ReportChunkRows int
}

// New returns a store on the named table.
func New(db DynamoDB, table string) *Store {
	return &Store{db: &counting{db}, table: table, Parallelism: 16, ReportChunkRows: DefaultReportChunkRows}
}

// Attribute names.
const (
	attrPK        = "PK"
	attrSK        = "SK"
	attrGSI1PK    = "GSI1PK"
	attrGSI1SK    = "GSI1SK"
	attrExpiresAt = "expiresAt"
	indexGSI1     = "GSI1"
)

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: pk},
		attrSK: &types.AttributeValueMemberS{Value: sk},
	}
}

func str(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

// Key prefixes. See the package documentation.
const (
	pkCatalog = "CATALOG"
	pkOrg     = "ORG#"
	pkRole    = "ROLE#"
	pkUser    = "USER#"
	pkPartner = "PARTNER#"
	pkLicense = "LICENSE#"
	pkReport  = "REPORT#"

	skProduct      = "PRODUCT#"
	skOrg          = "#ORG"
	skRole         = "#ROLE"
	skUser         = "#USER"
	skLicense      = "#LICENSE"
	skReport       = "#REPORT"
	skLicenseCopy  = "LICENSE#"
	skDeployment   = "DEPLOYMENT#"
	skEvent        = "EVENT#"
	skPin          = "PIN#"
	skCustomer     = "CUSTOMER#"
	skNote         = "NOTE#"
	skExport       = "EXPORT#"
	skSubscription = "SUBSCRIPTION#"
	skPeriod       = "PERIOD#"
	skRows         = "ROWS#"
	gsi1Due        = "DUE"
	gsi1Pending    = "PENDING"
)

// ErrNotFound matches, with errors.Is, the errors of reads that find nothing.
var ErrNotFound = &fault.Error{Code: fault.NotFound}

func notFound(format string, args ...any) error {
	return &fault.Error{Code: fault.NotFound, Message: fmt.Sprintf(format, args...)}
}

// conditionFailed reports whether err is a failed condition check, on its own
// or as the reason of a cancelled transaction. For a transaction it also
// reports which of the items failed.
func conditionFailed(err error) (failed bool, items []int) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true, nil
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for i, r := range tce.CancellationReasons {
			if r.Code != nil && *r.Code == "ConditionalCheckFailed" {
				items = append(items, i)
			}
		}
		return len(items) > 0, items
	}
	return false, nil
}

// throttled reports whether err means DynamoDB is overloaded or a transaction
// collided with another, which the caller may retry later.
func throttled(err error) bool {
	if errors.Is(err, errUnprocessed) {
		return true
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if r.Code != nil && (*r.Code == "TransactionConflict" || *r.Code == "ThrottlingError") {
				return true
			}
		}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"TransactionConflictException", "TransactionInProgressException":
			return true
		}
	}
	return false
}

// unavailable turns an overload into the API's 503; other errors pass through.
func unavailable(err error, what string) error {
	if throttled(err) {
		return fmt.Errorf("%s: %w (%w)", what, fault.Errorf(fault.Unavailable, "the service is busy; try again shortly"), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Stats counts the requests a store makes, the items they read and the
// bytes of those items (their size as DynamoDB counts it, see ItemSize:
// what read capacity is charged on). Attach one to a context with WithStats
// to count the work of one API request.
type Stats struct {
	Requests  atomic.Int64
	ItemsRead atomic.Int64
	BytesRead atomic.Int64
	Written   atomic.Int64
	// BytesWritten sums the sizes of the items put (updates and deletes
	// count none): what write capacity is charged on, 1 KB a unit.
	BytesWritten atomic.Int64
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

func (c *counting) add(ctx context.Context, read, bytes, written int) {
	if s := statsFrom(ctx); s != nil {
		s.Requests.Add(1)
		s.ItemsRead.Add(int64(read))
		s.BytesRead.Add(int64(bytes))
		s.Written.Add(int64(written))
	}
}

func (c *counting) put(ctx context.Context, item map[string]types.AttributeValue) {
	if s := statsFrom(ctx); s != nil {
		s.BytesWritten.Add(int64(ItemSize(item)))
	}
}

func (c *counting) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := c.DynamoDB.GetItem(ctx, in, o...)
	n, size := 0, 0
	if err == nil && out.Item != nil {
		n, size = 1, ItemSize(out.Item)
	}
	c.add(ctx, n, size, 0)
	return out, err
}

func (c *counting) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.add(ctx, 0, 0, 1)
	c.put(ctx, in.Item)
	return c.DynamoDB.PutItem(ctx, in, o...)
}

func (c *counting) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.add(ctx, 0, 0, 1)
	return c.DynamoDB.DeleteItem(ctx, in, o...)
}

func (c *counting) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.add(ctx, 0, 0, 1)
	return c.DynamoDB.UpdateItem(ctx, in, o...)
}

func (c *counting) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := c.DynamoDB.Query(ctx, in, o...)
	n, size := 0, 0
	if err == nil {
		// Without a filter every item scanned is returned; some emulators
		// leave ScannedCount at zero.
		n = max(int(out.ScannedCount), len(out.Items))
		for _, item := range out.Items {
			size += ItemSize(item)
		}
	}
	c.add(ctx, n, size, 0)
	return out, err
}

func (c *counting) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := c.DynamoDB.BatchGetItem(ctx, in, o...)
	n, size := 0, 0
	if err == nil {
		for _, items := range out.Responses {
			n += len(items)
			for _, item := range items {
				size += ItemSize(item)
			}
		}
	}
	c.add(ctx, n, size, 0)
	return out, err
}

func (c *counting) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	n := 0
	for _, reqs := range in.RequestItems {
		n += len(reqs)
		for _, r := range reqs {
			if r.PutRequest != nil {
				c.put(ctx, r.PutRequest.Item)
			}
		}
	}
	c.add(ctx, 0, 0, n)
	return c.DynamoDB.BatchWriteItem(ctx, in, o...)
}

func (c *counting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.add(ctx, 0, 0, len(in.TransactItems))
	return c.DynamoDB.TransactWriteItems(ctx, in, o...)
}
