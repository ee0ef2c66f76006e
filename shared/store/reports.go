package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/partnerportal/licenses/shared/license"
	"github.com/partnerportal/licenses/shared/report"
)

// A report snapshot is a head and, per list, chunks of rows (rowcodec.go):
//
//   - The head (REPORT#<id>, #REPORT) holds the owner, the dates, the
//     overview and, per list, its index (reportindex.go): the first sort
//     key of every chunk and what occurs in it, so that a page finds its
//     chunks without reading the others. It holds nothing that grows with
//     the customers or the selection: the organizations a report covers are
//     answered when it is made and never read again. An index takes about
//     90 bytes a chunk gzip'd at the large distributor (20 organizations a
//     chunk) and 450 at 20,000 organizations of 3 licenses (333 a chunk, in
//     its Bloom filter); one larger than maxInlineIndex (hundreds of
//     thousands of rows) is kept in parts of its own beside the head
//     (INDEX#<list>#<n>), read after it.
//   - Chunk n of a list is REPORT#<id>#<n mod shards>, ROWS#<list>#<n>: the
//     chunks spread over reportShards partition keys, and are written in
//     parallel (see the package documentation for the arithmetic).
//
// Every item is under DynamoDB's 400 KB: a chunk holds at most
// ReportChunkRows rows and maxChunkRaw bytes before compression, an index
// part indexPartBytes, and the head an index of at most maxInlineIndex per
// list and the overview (a few hundred bytes per product of the catalog).

// reportShards is the number of partition keys a snapshot's chunks spread
// over.
const reportShards = 16

// maxInlineIndex bounds the index of one list kept in the head; a larger one
// is split into parts of indexPartBytes. Variables, so that tests can make
// the parts appear without hundreds of thousands of rows.
var (
	maxInlineIndex = 64 << 10
	indexPartBytes = 300 << 10
)

// DefaultReportChunkRows is the default of Store.ReportChunkRows: a page of
// 100 rows reads one chunk of about 16 KB, and the index of the large
// distributor's 100,000 rows takes 100 entries.
const DefaultReportChunkRows = 1000

// reportItem is a snapshot's head.
type reportItem struct {
	PK, SK         string
	ID             string `dynamodbav:"id"`
	PartnerID      string `dynamodbav:"partnerId"`
	UserID         string `dynamodbav:"userId"`
	GeneratedAt    string `dynamodbav:"generatedAt"`
	Today          string `dynamodbav:"today"`
	Window         int    `dynamodbav:"window"`
	IncludeExpired bool   `dynamodbav:"includeExpired"`
	Overview       []byte `dynamodbav:"overview"` // JSON
	Shards         int    `dynamodbav:"shards"`
	// Per list: its index, or the number of parts it is kept in.
	OnPremIndex      []byte `dynamodbav:"onPremIndex,omitempty"`
	OnPremIndexParts int    `dynamodbav:"onPremIndexParts,omitempty"`
	CloudIndex       []byte `dynamodbav:"cloudIndex,omitempty"`
	CloudIndexParts  int    `dynamodbav:"cloudIndexParts,omitempty"`
	ExpiresAt        int64  `dynamodbav:"expiresAt"`
}

// rowsItem is a chunk of a snapshot's rows (see rowcodec.go).
type rowsItem struct {
	PK, SK    string
	Rows      []byte `dynamodbav:"rows"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

// indexPartItem is a part of a list's index too large for the head.
type indexPartItem struct {
	PK, SK    string
	Part      []byte `dynamodbav:"part"`
	ExpiresAt int64  `dynamodbav:"expiresAt"`
}

const skIndex = "INDEX#"

func categoryCode(c license.Category) string {
	if c == license.CloudService {
		return "cloud"
	}
	return "onprem"
}

func chunkKey(id string, category license.Category, n, shards int) map[string]types.AttributeValue {
	return key(pkReport+id+"#"+strconv.Itoa(n%shards), skRows+categoryCode(category)+"#"+strconv.Itoa(n))
}

func indexPartKey(id string, category license.Category, n int) map[string]types.AttributeValue {
	return key(pkReport+id, skIndex+categoryCode(category)+"#"+strconv.Itoa(n))
}

// SaveReport stores a snapshot and its rows, which must be in report order
// (as report.Rows returns them; an error otherwise). The chunks and index
// parts are written first, in parallel, and the head last, so a snapshot is
// never seen without all its rows. The organizations of the snapshot are
// not stored: Report returns the head without them.
func (s *Store) SaveReport(ctx context.Context, snap *report.Snapshot, onPrem, cloud []report.Row) error {
	ttl := snap.ExpiresAt.Unix()
	head := reportItem{PK: pkReport + snap.ID, SK: skReport, ID: snap.ID, PartnerID: snap.PartnerID,
		UserID: snap.UserID, GeneratedAt: formatTime(snap.GeneratedAt), Today: snap.Today.String(), Window: snap.Window,
		IncludeExpired: snap.IncludeExpired, Shards: reportShards, ExpiresAt: ttl}
	head.Overview, _ = json.Marshal(snap.Overview) // counts and strings always encode
	var reqs []types.WriteRequest
	for _, list := range []struct {
		category license.Category
		rows     []report.Row
		index    *[]byte
		parts    *int
	}{
		{license.OnPrem, onPrem, &head.OnPremIndex, &head.OnPremIndexParts},
		{license.CloudService, cloud, &head.CloudIndex, &head.CloudIndexParts},
	} {
		if len(list.rows) == 0 {
			continue
		}
		chunks, sizes, err := encodeRows(list.rows, max(1, s.ReportChunkRows))
		if err != nil {
			return fmt.Errorf("save report %s: %w", snap.ID, err)
		}
		ix := &report.Index{}
		start := 0
		for n, chunk := range chunks {
			if err := ix.Add(list.rows[start : start+sizes[n]]); err != nil {
				return fmt.Errorf("save report %s %s rows: %w", snap.ID, categoryCode(list.category), err)
			}
			start += sizes[n]
			k := chunkKey(snap.ID, list.category, n, reportShards)
			item, err := marshal(rowsItem{PK: attrString(k, attrPK), SK: attrString(k, attrSK), Rows: chunk, ExpiresAt: ttl})
			if err != nil {
				return err
			}
			reqs = append(reqs, put(item))
		}
		encoded, err := encodeIndex(ix)
		if err != nil {
			return fmt.Errorf("save report %s index: %w", snap.ID, err)
		}
		if len(encoded) <= maxInlineIndex {
			*list.index = encoded
			continue
		}
		for n := 0; len(encoded) > 0; n++ {
			part := encoded[:min(len(encoded), indexPartBytes)]
			encoded = encoded[len(part):]
			k := indexPartKey(snap.ID, list.category, n)
			item, err := marshal(indexPartItem{PK: attrString(k, attrPK), SK: attrString(k, attrSK), Part: part, ExpiresAt: ttl})
			if err != nil {
				return err
			}
			reqs = append(reqs, put(item))
			*list.parts = n + 1
		}
	}
	// Batches of 25 requests, in parallel: consecutive chunks are in
	// different partitions, so each batch spreads over them. The head goes
	// at the same time: nobody knows the report's id before SaveReport
	// returns, so nobody can read a head whose chunks are still being
	// written, and a snapshot that fails half-way is never named (its
	// items expire with the TTL).
	item, err := marshal(head)
	if err != nil {
		return err
	}
	batches := (len(reqs) + 24) / 25
	err = s.parallel(ctx, batches+1, func(ctx context.Context, b int) error {
		if b == batches {
			if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
				return unavailable(err, "save report "+snap.ID)
			}
			return nil
		}
		return s.batchWrite(ctx, reqs[b*25:min(len(reqs), (b+1)*25)], nil)
	})
	if err != nil {
		return fmt.Errorf("save report %s: %w", snap.ID, err)
	}
	return nil
}

// Report returns the head of a snapshot made by the partner organization,
// without its organizations (which are not stored). A snapshot of another
// partner, or one past its lifetime, is not found.
func (s *Store) Report(ctx context.Context, partnerID, id string, now time.Time) (*report.Snapshot, error) {
	snap, _, err := s.reportHead(ctx, partnerID, id, now)
	return snap, err
}

func (s *Store) reportHead(ctx context.Context, partnerID, id string, now time.Time) (*report.Snapshot, *reportItem, error) {
	it, err := getItem[reportItem](ctx, s, key(pkReport+id, skReport), false, "report "+id)
	if err != nil {
		return nil, nil, err
	}
	if it.PartnerID != partnerID || now.Unix() >= it.ExpiresAt {
		return nil, nil, notFound("report %s not found", id)
	}
	snap := &report.Snapshot{ID: it.ID, PartnerID: it.PartnerID, UserID: it.UserID, Window: it.Window,
		IncludeExpired: it.IncludeExpired, ExpiresAt: time.Unix(it.ExpiresAt, 0).UTC()}
	snap.GeneratedAt, _ = time.Parse(time.RFC3339Nano, it.GeneratedAt)
	snap.Today, _ = license.ParseDate(it.Today)
	if err := json.Unmarshal(it.Overview, &snap.Overview); err != nil {
		return nil, nil, fmt.Errorf("report %s overview: %w", id, err)
	}
	return snap, &it, nil
}

// ReportList is one list of a stored snapshot: its index, with which a
// report.Pager plans a page, and where its chunks are.
type ReportList struct {
	Index    *report.Index
	id       string
	category license.Category
	shards   int
}

// ReportList returns the head of a snapshot made by the partner
// organization (as Report) and the index of one of its lists: one GetItem,
// and a BatchGetItem of the index's parts when it has any.
func (s *Store) ReportList(ctx context.Context, partnerID, id string, category license.Category, now time.Time) (*report.Snapshot, *ReportList, error) {
	snap, it, err := s.reportHead(ctx, partnerID, id, now)
	if err != nil {
		return nil, nil, err
	}
	encoded, parts := it.OnPremIndex, it.OnPremIndexParts
	if category == license.CloudService {
		encoded, parts = it.CloudIndex, it.CloudIndexParts
	}
	if parts > 0 {
		keys := make([]map[string]types.AttributeValue, parts)
		for n := range keys {
			keys[n] = indexPartKey(id, category, n)
		}
		got := make([][]byte, parts)
		err := s.batchGet(ctx, keys, false, func(item map[string]types.AttributeValue) error {
			p, err := unmarshal[indexPartItem](item)
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(p.SK[strings.LastIndexByte(p.SK, '#')+1:])
			if err != nil || n < 0 || n >= parts {
				return fmt.Errorf("report %s: unexpected index part %s", id, p.SK)
			}
			got[n] = p.Part
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("index of report %s: %w", id, err)
		}
		encoded = nil
		for n, p := range got {
			if p == nil {
				return nil, nil, fmt.Errorf("report %s: index part %d is missing", id, n)
			}
			encoded = append(encoded, p...)
		}
	}
	l := &ReportList{Index: &report.Index{}, id: id, category: category, shards: it.Shards}
	if len(encoded) > 0 {
		if l.Index, err = decodeIndex(encoded); err != nil {
			return nil, nil, fmt.Errorf("report %s %s: %w", id, categoryCode(category), err)
		}
	}
	return snap, l, nil
}

// reportChunkBatch is the number of chunks a BatchGetItem of ReportChunks
// asks for: 25 chunks are at most 10 MB, under the 16 MB DynamoDB answers
// at most, so no key comes back unprocessed for size.
const reportChunkBatch = 25

// ReportChunks returns the rows of the list's chunks numbered in chunks, in
// that order: BatchGetItem, 25 chunks a request, the requests in parallel.
func (s *Store) ReportChunks(ctx context.Context, l *ReportList, chunks []int) ([][]report.Row, error) {
	out := make([][]report.Row, len(chunks))
	at := make(map[string]int, len(chunks)) // chunk sort key → index in out
	for i, n := range chunks {
		if n < 0 || n >= len(l.Index.Chunks) {
			return nil, fmt.Errorf("report %s has no chunk %d", l.id, n)
		}
		at[attrString(chunkKey(l.id, l.category, n, l.shards), attrSK)] = i
	}
	batches := (len(chunks) + reportChunkBatch - 1) / reportChunkBatch
	err := s.parallel(ctx, batches, func(ctx context.Context, b int) error {
		part := chunks[b*reportChunkBatch : min(len(chunks), (b+1)*reportChunkBatch)]
		keys := make([]map[string]types.AttributeValue, len(part))
		for i, n := range part {
			keys[i] = chunkKey(l.id, l.category, n, l.shards)
		}
		return s.batchGet(ctx, keys, false, func(item map[string]types.AttributeValue) error {
			it, err := unmarshal[rowsItem](item)
			if err != nil {
				return err
			}
			i, ok := at[it.SK]
			if !ok {
				return fmt.Errorf("report %s: unexpected chunk %s", l.id, it.SK)
			}
			rows, err := decodeRows(it.Rows, l.category)
			if err != nil {
				return fmt.Errorf("report %s chunk %s: %w", l.id, it.SK, err)
			}
			if want := l.Index.Chunks[chunks[i]].Rows; len(rows) != want {
				return fmt.Errorf("report %s chunk %s: %d rows, the index says %d", l.id, it.SK, len(rows), want)
			}
			out[i] = rows
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("rows of report %s: %w", l.id, err)
	}
	for i, rows := range out {
		if rows == nil {
			return nil, fmt.Errorf("report %s: chunk %d is missing", l.id, chunks[i])
		}
	}
	return out, nil
}

// ServePage runs a pager over the list to its end, reading the chunks it
// asks for (see report.Pager); p.Page then returns the page.
func (s *Store) ServePage(ctx context.Context, l *ReportList, p *report.Pager) error {
	for want := p.Next(); want != nil; want = p.Next() {
		chunks, err := s.ReportChunks(ctx, l, want)
		if err != nil {
			return err
		}
		for i, n := range want {
			p.Add(n, chunks[i])
		}
	}
	return nil
}
