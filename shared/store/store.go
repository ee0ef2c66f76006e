// Package store keeps the portal's data in one DynamoDB table.
//
// # Keys
//
// Every item has a string partition key PK and sort key SK. The prefix of each
// names the entity, so one table holds them all without collisions, and the
// items read together share a partition:
//
//	entity              PK                      SK                             notes
//	product             CATALOG                 PRODUCT#<id>                   few; one Query reads them all
//	organization        ORG#<id>                #ORG                           GSI1: ORGS / <id>; a customer's sellers,
//	                                                                           blocks and digest; a partner's counts
//	role                ROLE#<id>               #ROLE
//	user                USER#<id>               #USER                          id is the identity provider's sub
//	pin                 USER#<id>               PIN#<key>
//	customer            PARTNER#<partner>       CUSTOMER#<org>                 what the partner's list shows of org
//	partner note        PARTNER#<partner>       NOTE#<key>                     version for optimistic locking
//	gone                PARTNER#<partner>       GONE#<time>#<tag>#<n>          what left the view at an import; TTL
//	export              PARTNER#<partner>       EXPORT#<id>                    id is time-ordered; GSI1: PENDING / <created>
//	                                                                           while pending, MAILDUE / <next try> while
//	                                                                           its notice to the recipients is to be sent
//	subscription        PARTNER#<partner>       SUBSCRIPTION#<id>              GSI1: DUE / <next due time>
//	period claim        PARTNER#<partner>       PERIOD#<subscription>#<period> at most one export per period
//	notify settings     PARTNER#<partner>       NOTIFY#SETTINGS                GSI1: NOTIFY / <partner> while enabled
//	notification lease  PARTNER#<partner>       NOTIFY#LEASE                   one run at a time makes a digest
//	digest              PARTNER#<partner>       DIGEST#<id>                    id is time-ordered; TTL expiresAt
//	digest rows         PARTNER#<partner>       DIGESTROWS#<id>#<n>            gzip'd JSON of its rows, in parts
//	notification claim  PARTNER#<partner>       NOTIFIED#<key>#<expiration>    the digest that claimed the license with
//	                                                                           that date; TTL after it expires
//	block               VIEW#<home>#<shard>     B#<reseller>#<org>#<n>         an organization's licenses (blocks.go)
//	deployment block    VIEW#<home>#<shard>     D#<reseller>#<org>#<n>         their active deployments
//	license             LICENSE#<key>           #LICENSE                       the record: terms, deployed count,
//	                                                                           organizations as their partners see them
//	deployment          LICENSE#<key>           DEPLOYMENT#<dep>               inactive ones, kept; a large license's
//	history event       LICENSE#<key>           EVENT#<time>#<id>              never deleted
//	report snapshot     REPORT#<id>             #REPORT                        owner, overview, each list's chunk
//	                                                                           index; TTL expiresAt
//	report index part   REPORT#<id>             INDEX#<list>#<n>               only for an index over 64 KB; TTL
//	report rows         REPORT#<id>#<n%16>      ROWS#<list>#<n>                chunk n of a list: up to 1,000 rows,
//	                                                                           gzip'd; TTL expiresAt
//
// <home> is the customer's distributor ("-" when the vendor sold it
// directly), <shard> a hash of the organization modulo Shards, <reseller>
// its reseller or "-".
//
// Why the keys look like this:
//
//   - A customer's licenses are stored once, where its partners read them:
//     in blocks of a compact binary form in its distributor's partition, the
//     reseller first in the sort key so that a reseller reads its customers
//     there with one range. A report over every customer is one Query per
//     shard; over some, a BatchGetItem of their blocks: never a request per
//     organization or per license. Sub-organization priority is worked out
//     at import for each of the two partners that can see a block (its
//     distributor and its reseller) and kept as two flags per license.
//   - A license's record names its organizations with their sellers and
//     priority flags, so a look-up by key checks the license's own
//     organizations and not the caller's customer list; it holds the
//     deployed count that activations condition on.
//   - The caller is its user, organization and roles: the organization
//     keeps how many customers the partner sees (the feature is visible
//     only with one) and, for a reseller, the distributors it sells through.
//     Nothing a partner can grow is read with every request.
//   - Active deployments live in the blocks (a second item per block, read
//     by exports only); inactive ones are kept beside the license for its
//     history. A license with more purchased instances than a block can
//     hold keeps its active deployments beside it too, so no block can pass
//     400 KB however many activations it sees (blocks.go has the bounds).
//   - Notes, exports and subscriptions belong to a partner organization and
//     live in its partition: the partner id is part of every key that reads
//     them, so an item of another partner cannot be addressed at all.
//   - Expiration notifications are the partner's too. A claim is keyed by
//     license and expiration date, so that a renewal starts with none, and
//     is written with a condition on the claim it replaces, so that of two
//     runs one claims a license. It names its digest, whose status (sent,
//     or failed and the claim falls back to what it replaced) is the one
//     write that decides whether the license was notified: a digest's
//     claims take no second write. Digest heads and rows have prefixes of
//     their own so that the list reads heads only.
//   - Identifiers never contain '#' (the import refuses them), so a prefix
//     such as B#<reseller># cannot match another reseller's items.
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
//     in 4 BatchWriteItem requests of 25 and the head in a PutItem, all at
//     once (nobody knows the id until they are written). Reads spread
//     the same way, under 3,000 read units a second a partition: a page reads
//     the head (11 KB here) and the chunks it serves (23 KB each), about 4.5
//     units, where reading every chunk took 210.
//
// # Access patterns
//
//	pattern                              requests (in sequence: →)                        index  items read
//	caller (every request)               GetItem USER#u → BatchGet ORG#o, ROLE#r...      table  2 + roles
//	GET /v1/customer-organizations       caller → Query PARTNER#p begins_with CUSTOMER#  table  the partner's customers
//	POST /v1/reports, all                caller → Query CATALOG, Query VIEW#p#<s>         table  products + the blocks
//	                                     begins_with B# for each shard (a reseller:              (about one per customer)
//	                                     VIEW#<d>#<s> begins_with B#<r># for each d it
//	                                     sells through) → at once BatchWrite ROWS# (25
//	                                     a request) and Put #REPORT
//	POST /v1/reports, some               caller → BatchGet CUSTOMER#o → BatchGet blocks   table  customers + their blocks
//	                                     → as above
//	GET /v1/reports/{id}/<list>          caller → at once GetItem REPORT#id/#REPORT (its  table  1 + the chunks the page
//	                                     index; BatchGet INDEX# parts if any), Query             needs + pins (+ their
//	                                     PARTNER#p GONE# of the last report.Lifetime, and        records and products) +
//	                                     Query USER#u PIN# → if the page may hold pinned rows,   gone + the page's notes
//	                                     BatchGet LICENSE#k/#LICENSE of the pins and             (all notes for a q
//	                                     Query CATALOG (where their rows sit) → BatchGet         search)
//	                                     REPORT#id#<n%16>/ROWS#<list>#<n> of the chunks
//	                                     the index leaves (the cursor's on, skipping those
//	                                     the filter excludes, and the pinned rows'), 25 a
//	                                     request in parallel, in rounds as far as the page
//	                                     needs (a q search may read every chunk) →
//	                                     BatchGet NOTE#k of the rows served (a q search:
//	                                     Query PARTNER#p NOTE# instead)
//	GET /v1/licenses/{key}               caller → Query LICENSE#k SK < EVENT#, Query      table  record + kept deployments
//	                                     CATALOG → GetItem the block's D# item, pins,            + 1 block + pins + 1 note
//	                                     GetItem NOTE#k
//	GET /v1/licenses/{key}/history       as GET license → Query LICENSE#k EVENT#, newest  table  one page of events
//	                                     first, paged
//	PUT /v1/licenses/{key}/partner-note  as GET license → TransactWrite: Put NOTE         table  writes 2
//	                                     (version condition) + Put EVENT
//	POST /v1/licenses/{key}/activations  as GET license (consistent) + BatchGet the       table  writes 3 + 2 per
//	                                     license's blocks → TransactWrite: Update                organization
//	                                     #LICENSE (deployed = the count read), Put each
//	                                     block (v = the version read), Put EVENT
//	DELETE .../activations/{dep}         the same, and Put the inactive DEPLOYMENT        table  as above
//	GET /v1/pins                         caller → Query USER#u PIN# → BatchGet            table  pins + their records
//	                                     LICENSE#k/#LICENSE, Query CATALOG
//	PUT/DELETE /v1/pins/{key}            as GET license → Put/Delete PIN#k                table  writes 1
//	POST /v1/exports                     as POST /v1/reports, reading the D# items too;  table  the blocks, twice the
//	                                     PutItem EXPORT#id                                       items of a report
//	GET /v1/exports[/{id}]               caller → Query PARTNER#p EXPORT#, newest first   table  the partner's exports
//	                                     (or GetItem)
//	finish an export                     GetItem EXPORT#id, ORG#p → as POST /v1/exports  table  as POST /v1/exports
//	                                     → Put EXPORT#id if still pending
//	GET/PUT/DELETE subscriptions         caller → Query PARTNER#p SUBSCRIPTION# / Put /   table  the partner's subscriptions
//	                                     Delete
//	due subscriptions (schedule)         Query GSI1 DUE, GSI1SK <= now → TransactWrite:  GSI1   due subscriptions only
//	                                     Put PERIOD claim (must not exist) + Put EXPORT
//	                                     + Update next due time
//	stale exports (schedule)             Query GSI1 PENDING, GSI1SK < now - 15 min;       GSI1   pending exports only
//	                                     finish each
//	export notices (schedule)            Query GSI1 MAILDUE, GSI1SK <= now → conditional GSI1   due notices only
//	                                     PutItem EXPORT#id per state
//	GET/PUT /v1/notification-settings    caller → GetItem / PutItem NOTIFY#SETTINGS       table  1
//	GET /v1/notifications                caller → Query PARTNER#p DIGEST#, newest first,  table  one page of heads
//	                                     paged
//	GET /v1/notifications/{id}           caller → GetItem DIGEST#id → Query DIGESTROWS#id# table 1 + parts + pins + the
//	                                     and the pins → BatchGet NOTE#k of the rows served       page's notes
//	notifier (daily)                     Query GSI1 NOTIFY → per partner: its scope and   both   enabled settings; per
//	                                     blocks as POST /v1/reports, all, Query NOTIFIED#        partner its blocks,
//	                                     and DIGEST# → if any license is due: Put lease,         claims and digest heads;
//	                                     Put DIGEST# (must not exist), conditional Put           writes 4 + one per due
//	                                     NOTIFIED# per due license, BatchWrite                   license + row parts
//	                                     DIGESTROWS#, Put DIGEST# (if still pending),
//	                                     Delete lease
//	import                               Query GSI1 ORGS, BatchGet ORG# of the document,  both   organizations, and for
//	                                     Query CATALOG → per changed organization:               each changed one its
//	                                     BatchGet its blocks and records → BatchWrite            blocks and records
//	                                     events, deployments → conditional Put of blocks
//	                                     → records, customers → ORG# with its digest
//
// No request path scans the table.
//
// # Throughput
//
// DynamoDB serves at most 3,000 read units and 1,000 write units a second
// per partition key. The large distributor (2,000 customers, 100,000
// licenses, 250,000 deployments) has about 2 MB of license blocks over
// Shards keys: a report reads about 130 KB per key, 16 eventually consistent
// read units each, far below a partition's second; the import writes them
// at 1 unit per KB, about 130 units per key. A report's snapshot, by the
// same rule, must not sit under one key once it passes a few hundred KB.
// Records, events and kept deployments are under the license's own key,
// spread over as many partitions as there are licenses.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/partnerportal/licenses/shared/awsconf"
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
	skGone         = "GONE#"
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
	if errors.Is(err, errUnprocessed) || collision(err) {
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"TransactionInProgressException":
			return true
		}
	}
	return false
}

// collision reports whether a transaction failed because another one held
// its items, or DynamoDB throttled one of them: the SDK does not retry
// those, so the store does.
func collision(err error) bool {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			if r.Code != nil && (*r.Code == "TransactionConflict" || *r.Code == "ThrottlingError") {
				return true
			}
		}
	}
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "TransactionConflictException"
}

// unavailable turns an overload, or a failure that the SDK's retries did not
// get past (a 5xx, a time-out, a dropped connection), into the API's 503;
// other errors pass through.
func unavailable(err error, what string) error {
	if throttled(err) || awsconf.Transient(err) {
		return fmt.Errorf("%s: %w (%w)", what, fault.Errorf(fault.Unavailable, "the service is busy; try again shortly"), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
