package server_test

// Tests of the key order behind Query, Scan and the indexes, of transactions
// and of concurrent requests, through the AWS SDK.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/require"
	"github.com/truora/minidyn/server"
)

type av = ddbtypes.AttributeValue

func s(v string) av { return &ddbtypes.AttributeValueMemberS{Value: v} }
func n(v string) av { return &ddbtypes.AttributeValueMemberN{Value: v} }

// newOrderClient starts a server with table "t": partition key pk (S), sort
// key sk of type sortType, and GSI1 on gsi1pk and gsi1sk (S), projection ALL.
func newOrderClient(t *testing.T, sortType ddbtypes.ScalarAttributeType) *dynamodb.Client {
	t.Helper()

	ts := httptest.NewServer(server.NewServer())
	t.Cleanup(ts.Close)

	cli := scaleClient(t, ts.URL)
	def := func(name string, typ ddbtypes.ScalarAttributeType) ddbtypes.AttributeDefinition {
		return ddbtypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: typ}
	}
	key := func(hash, rng string) []ddbtypes.KeySchemaElement {
		return []ddbtypes.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: ddbtypes.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: ddbtypes.KeyTypeRange},
		}
	}

	_, err := cli.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:   aws.String("t"),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{
			def("pk", ddbtypes.ScalarAttributeTypeS), def("sk", sortType),
			def("gsi1pk", ddbtypes.ScalarAttributeTypeS), def("gsi1sk", ddbtypes.ScalarAttributeTypeS),
		},
		KeySchema: key("pk", "sk"),
		GlobalSecondaryIndexes: []ddbtypes.GlobalSecondaryIndex{{
			IndexName:  aws.String("GSI1"),
			KeySchema:  key("gsi1pk", "gsi1sk"),
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionTypeAll},
		}},
	})
	require.NoError(t, err)

	return cli
}

func put(t *testing.T, cli *dynamodb.Client, item map[string]av) {
	t.Helper()

	_, err := cli.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("t"), Item: item})
	require.NoError(t, err)
}

func attr(item map[string]av, name string) string {
	switch v := item[name].(type) {
	case *ddbtypes.AttributeValueMemberS:
		return v.Value
	case *ddbtypes.AttributeValueMemberN:
		return v.Value
	default:
		return ""
	}
}

func attrs(items []map[string]av, name string) []string {
	out := make([]string, len(items))
	for i, item := range items {
		out[i] = attr(item, name)
	}

	return out
}

// queryAll pages through a Query (or a Scan when q is nil) with limit and
// returns the items and the number of pages; each page must hold at most
// limit items.
func queryAll(t *testing.T, cli *dynamodb.Client, q *dynamodb.QueryInput, scan *dynamodb.ScanInput, limit int32) ([]map[string]av, int) {
	t.Helper()

	var (
		items []map[string]av
		start map[string]av
		pages int
	)

	for {
		var (
			page []map[string]av
			last map[string]av
		)

		if q != nil {
			in := *q
			in.ExclusiveStartKey, in.Limit = start, aws.Int32(limit)
			out, err := cli.Query(context.Background(), &in)
			require.NoError(t, err)

			page, last = out.Items, out.LastEvaluatedKey
		} else {
			in := *scan
			in.ExclusiveStartKey, in.Limit = start, aws.Int32(limit)
			out, err := cli.Scan(context.Background(), &in)
			require.NoError(t, err)

			page, last = out.Items, out.LastEvaluatedKey
		}

		require.LessOrEqual(t, len(page), int(limit))

		items = append(items, page...)
		pages++

		if len(last) == 0 {
			return items, pages
		}

		require.Less(t, pages, 1000, "paging does not end")

		start = last
	}
}

func TestQuerySortKeyOrderAndRanges(t *testing.T) {
	cli := newOrderClient(t, ddbtypes.ScalarAttributeTypeS)

	sortKeys := []string{"a", "ab", "abc", "abd", "b", "ba", "c", "d#1", "d#10", "d#2", "e", "z", "é"}
	require.True(t, slices.IsSorted(sortKeys), "byte order")

	rng := rand.New(rand.NewPCG(3, 4))

	// The partition and its neighbours in key order, written in random order.
	var writes []map[string]av
	for _, pk := range []string{"P", "P1", "P1#", "P10", "P0"} {
		for _, sk := range sortKeys {
			writes = append(writes, map[string]av{"pk": s(pk), "sk": s(sk), "who": s(pk + "/" + sk)})
		}
	}

	rng.Shuffle(len(writes), func(i, j int) { writes[i], writes[j] = writes[j], writes[i] })

	for _, item := range writes {
		put(t, cli, item)
	}

	tests := []struct {
		condition string
		values    map[string]av
		want      func(sk string) bool
	}{
		{"pk = :p", nil, func(string) bool { return true }},
		{"pk = :p AND sk = :a", map[string]av{":a": s("abc")}, func(sk string) bool { return sk == "abc" }},
		{"pk = :p AND sk = :a", map[string]av{":a": s("abz")}, func(string) bool { return false }},
		{"pk = :p AND sk < :a", map[string]av{":a": s("b")}, func(sk string) bool { return sk < "b" }},
		{"pk = :p AND sk <= :a", map[string]av{":a": s("b")}, func(sk string) bool { return sk <= "b" }},
		{"pk = :p AND sk > :a", map[string]av{":a": s("d#1")}, func(sk string) bool { return sk > "d#1" }},
		{"pk = :p AND sk >= :a", map[string]av{":a": s("d#1")}, func(sk string) bool { return sk >= "d#1" }},
		{"pk = :p AND sk BETWEEN :a AND :b", map[string]av{":a": s("ab"), ":b": s("c")}, func(sk string) bool { return sk >= "ab" && sk <= "c" }},
		{"pk = :p AND sk BETWEEN :a AND :b", map[string]av{":a": s("aa"), ":b": s("bz")}, func(sk string) bool { return sk >= "aa" && sk <= "bz" }},
		{"pk = :p AND begins_with(sk, :a)", map[string]av{":a": s("ab")}, func(sk string) bool { return strings.HasPrefix(sk, "ab") }},
		{"pk = :p AND begins_with(sk, :a)", map[string]av{":a": s("d#")}, func(sk string) bool { return strings.HasPrefix(sk, "d#") }},
		{"pk = :p AND begins_with(sk, :a)", map[string]av{":a": s("x")}, func(string) bool { return false }},
		{"#k = :p AND #s > :a", map[string]av{":a": s("c")}, func(sk string) bool { return sk > "c" }},
	}

	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.condition, attrs([]map[string]av{tt.values}, ":a")), func(t *testing.T) {
			values := map[string]av{":p": s("P1")}
			for k, v := range tt.values {
				values[k] = v
			}

			var names map[string]string
			if strings.Contains(tt.condition, "#") {
				names = map[string]string{"#k": "pk", "#s": "sk"}
			}

			want := []string{}
			for _, sk := range sortKeys { // sortKeys is in byte order
				if tt.want(sk) {
					want = append(want, sk)
				}
			}

			for _, forward := range []bool{true, false} {
				out, err := cli.Query(context.Background(), &dynamodb.QueryInput{
					TableName:                 aws.String("t"),
					KeyConditionExpression:    aws.String(tt.condition),
					ExpressionAttributeNames:  names,
					ExpressionAttributeValues: values,
					ScanIndexForward:          aws.Bool(forward),
				})
				require.NoError(t, err)

				got := attrs(out.Items, "sk")
				if !forward {
					slices.Reverse(got)
				}

				require.Equal(t, want, got, "forward %v", forward)

				for _, item := range out.Items {
					require.Equal(t, "P1/"+attr(item, "sk"), attr(item, "who"))
				}

				require.Empty(t, out.LastEvaluatedKey)
			}
		})
	}
}

func TestQueryNumberSortKeyInNumericOrder(t *testing.T) {
	cli := newOrderClient(t, ddbtypes.ScalarAttributeTypeN)

	numbers := []string{"100", "-10", "2", "1e3", "25", "-2.5", "0", "10", "1"}
	for _, v := range numbers {
		put(t, cli, map[string]av{"pk": s("P"), "sk": n(v)})
		put(t, cli, map[string]av{"pk": s("Q"), "sk": n(v)})
	}

	value := func(v string) float64 {
		f, err := strconv.ParseFloat(v, 64)
		require.NoError(t, err)

		return f
	}

	sorted := slices.Clone(numbers)
	slices.SortFunc(sorted, func(a, b string) int {
		switch fa, fb := value(a), value(b); {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		default:
			return 0
		}
	})
	require.Equal(t, []string{"-10", "-2.5", "0", "1", "2", "10", "25", "100", "1e3"}, sorted)

	query := func(condition string, values map[string]av) []string {
		values[":p"] = s("P")
		out, err := cli.Query(context.Background(), &dynamodb.QueryInput{
			TableName:                 aws.String("t"),
			KeyConditionExpression:    aws.String(condition),
			ExpressionAttributeValues: values,
		})
		require.NoError(t, err)

		return attrs(out.Items, "sk")
	}

	require.Equal(t, sorted, query("pk = :p", map[string]av{}))
	require.Equal(t, []string{"-10", "-2.5", "0", "1", "2"}, query("pk = :p AND sk < :v", map[string]av{":v": n("10")}))
	require.Equal(t, []string{"2", "10", "25"}, query("pk = :p AND sk BETWEEN :a AND :b", map[string]av{":a": n("1.5"), ":b": n("25")}))
	require.Equal(t, []string{"100", "1e3"}, query("pk = :p AND sk >= :v", map[string]av{":v": n("100")}))
}

func TestQueryPagesWithLimitAndExclusiveStartKey(t *testing.T) {
	cli := newOrderClient(t, ddbtypes.ScalarAttributeTypeS)

	var all []string
	for i := range 50 {
		sk := fmt.Sprintf("S#%03d", i)
		all = append(all, sk)
		put(t, cli, map[string]av{"pk": s("P"), "sk": s(sk), "odd": n(strconv.Itoa(i % 2))})
		put(t, cli, map[string]av{"pk": s("Q"), "sk": s(sk), "odd": n(strconv.Itoa(i % 2))})
	}

	q := &dynamodb.QueryInput{
		TableName:                 aws.String("t"),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]av{":p": s("P")},
	}

	items, pages := queryAll(t, cli, q, nil, 7)
	require.Equal(t, all, attrs(items, "sk"))
	require.Equal(t, 8, pages) // 7 full pages, and the last one of 1

	back := *q
	back.ScanIndexForward = aws.Bool(false)
	items, _ = queryAll(t, cli, &back, nil, 7)

	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	require.Equal(t, reversed, attrs(items, "sk"))

	// Limit counts the items read before the filter, as DynamoDB's does: 50
	// items read 10 at a time are 5 pages (and an empty sixth, as the fifth
	// ends at the limit), whatever the filter leaves of each.
	filtered := *q
	filtered.FilterExpression = aws.String("odd = :one")
	filtered.ExpressionAttributeValues = map[string]av{":p": s("P"), ":one": n("1")}
	items, pages = queryAll(t, cli, &filtered, nil, 10)

	var odd []string
	for i, sk := range all {
		if i%2 == 1 {
			odd = append(odd, sk)
		}
	}

	require.Equal(t, odd, attrs(items, "sk"))
	require.Equal(t, 6, pages)

	// A page starts after its ExclusiveStartKey even when that item is gone.
	first, err := cli.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String("t"),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]av{":p": s("P")},
		Limit:                     aws.Int32(5),
	})
	require.NoError(t, err)
	require.Equal(t, "S#004", attr(first.LastEvaluatedKey, "sk"))

	_, err = cli.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: first.LastEvaluatedKey})
	require.NoError(t, err)

	next, err := cli.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String("t"),
		KeyConditionExpression:    aws.String("pk = :p"),
		ExpressionAttributeValues: map[string]av{":p": s("P")},
		Limit:                     aws.Int32(2),
		ExclusiveStartKey:         first.LastEvaluatedKey,
	})
	require.NoError(t, err)
	require.Equal(t, []string{"S#005", "S#006"}, attrs(next.Items, "sk"))

	// A Scan pages through every partition once.
	scanned, _ := queryAll(t, cli, nil, &dynamodb.ScanInput{TableName: aws.String("t")}, 9)
	require.Len(t, scanned, 99)

	seen := map[string]bool{}
	for _, item := range scanned {
		id := attr(item, "pk") + "/" + attr(item, "sk")
		require.False(t, seen[id], "scanned twice: %s", id)
		seen[id] = true
	}
}

func TestQueryGlobalSecondaryIndex(t *testing.T) {
	cli := newOrderClient(t, ddbtypes.ScalarAttributeTypeS)

	// 30 items in 3 partitions; items 0..19 in GSI partition G, their GSI sort
	// keys repeat (ties are ordered by the table key); the rest are not in
	// the index.
	type row struct{ pk, sk, gsk string }

	var inG []row

	for i := range 30 {
		item := map[string]av{"pk": s(fmt.Sprintf("P%d", i%3)), "sk": s(fmt.Sprintf("S#%02d", i))}
		if i < 20 {
			gsk := fmt.Sprintf("G#%d", i%4)
			item["gsi1pk"], item["gsi1sk"] = s("G"), s(gsk)
			inG = append(inG, row{attr(item, "pk"), attr(item, "sk"), gsk})
		}

		put(t, cli, item)
	}

	slices.SortFunc(inG, func(a, b row) int {
		return strings.Compare(a.gsk+"|"+a.pk+"|"+a.sk, b.gsk+"|"+b.pk+"|"+b.sk)
	})

	gsi := func(g string) *dynamodb.QueryInput {
		return &dynamodb.QueryInput{
			TableName:                 aws.String("t"),
			IndexName:                 aws.String("GSI1"),
			KeyConditionExpression:    aws.String("gsi1pk = :g"),
			ExpressionAttributeValues: map[string]av{":g": s(g)},
		}
	}

	wantSK := func(rows []row) []string {
		out := []string{}
		for _, r := range rows {
			out = append(out, r.sk)
		}

		return out
	}

	// Page boundaries fall between items with the same index key.
	for _, limit := range []int32{1, 3, 4, 100} {
		items, _ := queryAll(t, cli, gsi("G"), nil, limit)
		require.Equal(t, wantSK(inG), attrs(items, "sk"), "limit %d", limit)
	}

	back := gsi("G")
	back.ScanIndexForward = aws.Bool(false)
	items, _ := queryAll(t, cli, back, nil, 3)
	reversed := wantSK(inG)
	slices.Reverse(reversed)
	require.Equal(t, reversed, attrs(items, "sk"))

	ranged := gsi("G")
	ranged.KeyConditionExpression = aws.String("gsi1pk = :g AND gsi1sk BETWEEN :a AND :b")
	ranged.ExpressionAttributeValues[":a"], ranged.ExpressionAttributeValues[":b"] = s("G#1"), s("G#2")
	out, err := cli.Query(context.Background(), ranged)
	require.NoError(t, err)
	require.Len(t, out.Items, 10)

	for _, item := range out.Items {
		require.Contains(t, []string{"G#1", "G#2"}, attr(item, "gsi1sk"))
		require.NotEmpty(t, attr(item, "pk"), "projection ALL")
	}

	// An update moves an item to another index partition, REMOVE takes it
	// out of the index, a delete too.
	_, err = cli.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:                 aws.String("t"),
		Key:                       map[string]av{"pk": s("P0"), "sk": s("S#00")},
		UpdateExpression:          aws.String("SET gsi1pk = :h"),
		ExpressionAttributeValues: map[string]av{":h": s("H")},
	})
	require.NoError(t, err)

	_, err = cli.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName:                aws.String("t"),
		Key:                      map[string]av{"pk": s("P1"), "sk": s("S#01")},
		UpdateExpression:         aws.String("REMOVE #g"),
		ExpressionAttributeNames: map[string]string{"#g": "gsi1pk"},
	})
	require.NoError(t, err)

	_, err = cli.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{
		TableName: aws.String("t"),
		Key:       map[string]av{"pk": s("P2"), "sk": s("S#02")},
	})
	require.NoError(t, err)

	items, _ = queryAll(t, cli, gsi("G"), nil, 100)
	require.Len(t, items, 17)
	require.NotContains(t, attrs(items, "sk"), "S#00")
	require.NotContains(t, attrs(items, "sk"), "S#01")
	require.NotContains(t, attrs(items, "sk"), "S#02")

	items, _ = queryAll(t, cli, gsi("H"), nil, 100)
	require.Equal(t, []string{"S#00"}, attrs(items, "sk"))

	_, err = cli.Query(context.Background(), &dynamodb.QueryInput{
		TableName:                 aws.String("t"),
		IndexName:                 aws.String("GSI9"),
		KeyConditionExpression:    aws.String("gsi1pk = :g"),
		ExpressionAttributeValues: map[string]av{":g": s("G")},
	})

	var apiErr interface{ ErrorCode() string }
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "ValidationException", apiErr.ErrorCode())
}

func TestTransactWriteItemsRollsBackEveryItem(t *testing.T) {
	cli := newOrderClient(t, ddbtypes.ScalarAttributeTypeS)
	ctx := context.Background()

	put(t, cli, map[string]av{"pk": s("P"), "sk": s("A"), "count": n("1"), "name": s("a"), "gsi1pk": s("G"), "gsi1sk": s("A")})
	put(t, cli, map[string]av{"pk": s("P"), "sk": s("B"), "gsi1pk": s("G"), "gsi1sk": s("B")})
	put(t, cli, map[string]av{"pk": s("R"), "sk": s("A")})

	state := func() (table, gsiG, gsiH []string, count string) {
		q := func(in *dynamodb.QueryInput) []string {
			out, err := cli.Query(ctx, in)
			require.NoError(t, err)

			return attrs(out.Items, "sk")
		}
		table = q(&dynamodb.QueryInput{TableName: aws.String("t"), KeyConditionExpression: aws.String("pk = :p"), ExpressionAttributeValues: map[string]av{":p": s("P")}})
		gsiG = q(&dynamodb.QueryInput{TableName: aws.String("t"), IndexName: aws.String("GSI1"), KeyConditionExpression: aws.String("gsi1pk = :g"), ExpressionAttributeValues: map[string]av{":g": s("G")}})
		gsiH = q(&dynamodb.QueryInput{TableName: aws.String("t"), IndexName: aws.String("GSI1"), KeyConditionExpression: aws.String("gsi1pk = :g"), ExpressionAttributeValues: map[string]av{":g": s("H")}})

		out, err := cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]av{"pk": s("P"), "sk": s("A")}})
		require.NoError(t, err)

		return table, gsiG, gsiH, attr(out.Item, "count")
	}

	items := func(last ddbtypes.TransactWriteItem) []ddbtypes.TransactWriteItem {
		return []ddbtypes.TransactWriteItem{
			{Put: &ddbtypes.Put{TableName: aws.String("t"), Item: map[string]av{"pk": s("P"), "sk": s("C"), "gsi1pk": s("G"), "gsi1sk": s("C")}}},
			{Update: &ddbtypes.Update{
				TableName: aws.String("t"), Key: map[string]av{"pk": s("P"), "sk": s("A")},
				UpdateExpression:          aws.String("SET #c = #c + :one, gsi1pk = :h"),
				ExpressionAttributeNames:  map[string]string{"#c": "count"},
				ExpressionAttributeValues: map[string]av{":one": n("1"), ":h": s("H")},
			}},
			{Delete: &ddbtypes.Delete{TableName: aws.String("t"), Key: map[string]av{"pk": s("P"), "sk": s("B")}}},
			last,
		}
	}

	before := []any{[]string{"A", "B"}, []string{"A", "B"}, []string{}, "1"}
	now := func() []any {
		table, g, h, count := state()
		return []any{table, g, h, count}
	}
	require.Equal(t, before, now())

	// A condition that fails after three writes cancels all four, with the
	// reason at its place.
	_, err := cli.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items(ddbtypes.TransactWriteItem{
		ConditionCheck: &ddbtypes.ConditionCheck{
			TableName: aws.String("t"), Key: map[string]av{"pk": s("P"), "sk": s("D")},
			ConditionExpression: aws.String("attribute_exists(pk)"),
		},
	})})

	var canceled *ddbtypes.TransactionCanceledException
	require.ErrorAs(t, err, &canceled)
	require.Len(t, canceled.CancellationReasons, 4)

	codes := []string{}
	for _, r := range canceled.CancellationReasons {
		codes = append(codes, aws.ToString(r.Code))
	}

	require.Equal(t, []string{"None", "None", "None", "ConditionalCheckFailed"}, codes)
	require.Equal(t, before, now())

	// An update that fails when it is applied, after the other writes, too.
	_, err = cli.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items(ddbtypes.TransactWriteItem{
		Update: &ddbtypes.Update{
			TableName: aws.String("t"), Key: map[string]av{"pk": s("P"), "sk": s("E")},
			UpdateExpression:          aws.String("SET #n = #n + :one"),
			ExpressionAttributeNames:  map[string]string{"#n": "name"},
			ExpressionAttributeValues: map[string]av{":one": n("1")},
		},
	})})
	require.Error(t, err)
	require.Equal(t, before, now())

	// And when all succeed, all apply.
	_, err = cli.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items(ddbtypes.TransactWriteItem{
		ConditionCheck: &ddbtypes.ConditionCheck{
			TableName: aws.String("t"), Key: map[string]av{"pk": s("R"), "sk": s("A")},
			ConditionExpression: aws.String("attribute_exists(pk)"),
		},
	})})
	require.NoError(t, err)
	require.Equal(t, []any{[]string{"A", "C"}, []string{"C"}, []string{"A"}, "2"}, now())
}

func TestUpdateItemRemovesAttributes(t *testing.T) {
	cli := newOrderClient(t, ddbtypes.ScalarAttributeTypeS)
	ctx := context.Background()
	key := map[string]av{"pk": s("P"), "sk": s("A")}

	put(t, cli, map[string]av{"pk": s("P"), "sk": s("A"), "a": s("1"), "b": s("2"), "c": s("3")})

	_, err := cli.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String("t"),
		Key:                       key,
		UpdateExpression:          aws.String("SET d = :d REMOVE a, #b"),
		ExpressionAttributeNames:  map[string]string{"#b": "b"},
		ExpressionAttributeValues: map[string]av{":d": s("4")},
	})
	require.NoError(t, err)

	out, err := cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key})
	require.NoError(t, err)

	names := []string{}
	for name := range out.Item {
		names = append(names, name)
	}

	slices.Sort(names)
	require.Equal(t, []string{"c", "d", "pk", "sk"}, names)
}

func TestDescribeTableIsActive(t *testing.T) {
	cli := newOrderClient(t, ddbtypes.ScalarAttributeTypeS)

	out, err := cli.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("t")})
	require.NoError(t, err)
	require.Equal(t, ddbtypes.TableStatusActive, out.Table.TableStatus)
	require.Equal(t, ddbtypes.IndexStatusActive, out.Table.GlobalSecondaryIndexes[0].IndexStatus)
}

// TestConcurrentRequests runs writers, transactions and readers at once (the
// race detector watches); every write must be there in order at the end.
func TestConcurrentRequests(t *testing.T) {
	cli := newOrderClient(t, ddbtypes.ScalarAttributeTypeS)
	ctx := context.Background()

	const (
		writers    = 8
		perWriter  = 100
		increments = 50
	)

	put(t, cli, map[string]av{"pk": s("counter"), "sk": s("0"), "n": n("0")})

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)

	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}

	done := make(chan struct{})

	for w := range writers {
		wg.Go(func() {
			pk := fmt.Sprintf("W%d", w)

			var batch []ddbtypes.WriteRequest
			for i := range perWriter {
				item := map[string]av{"pk": s(pk), "sk": s(fmt.Sprintf("%04d", (i*37)%perWriter)), "gsi1pk": s("G"), "gsi1sk": s(pk)}
				if i%2 == 0 {
					if _, err := cli.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: item}); err != nil {
						fail(err)
					}

					continue
				}

				batch = append(batch, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: item}})
				if len(batch) == 25 {
					if _, err := cli.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"t": batch}}); err != nil {
						fail(err)
					}

					batch = nil
				}
			}

			if len(batch) > 0 {
				if _, err := cli.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{"t": batch}}); err != nil {
					fail(err)
				}
			}
		})
	}

	for range 2 {
		wg.Go(func() {
			for range increments {
				_, err := cli.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{{
					Update: &ddbtypes.Update{
						TableName: aws.String("t"), Key: map[string]av{"pk": s("counter"), "sk": s("0")},
						UpdateExpression:          aws.String("SET n = n + :one"),
						ExpressionAttributeValues: map[string]av{":one": n("1")},
					},
				}}})
				if err != nil {
					fail(err)
				}
			}
		})
	}

	var readers sync.WaitGroup

	for r := range 4 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}

				var err error
				if r%2 == 0 {
					_, err = cli.Query(ctx, &dynamodb.QueryInput{
						TableName:                 aws.String("t"),
						KeyConditionExpression:    aws.String("pk = :p AND sk >= :s"),
						ExpressionAttributeValues: map[string]av{":p": s(fmt.Sprintf("W%d", i%writers)), ":s": s("0050")},
					})
				} else {
					_, err = cli.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("t"), Limit: aws.Int32(50)})
				}

				if err != nil {
					fail(err)
				}
			}
		})
	}

	wg.Wait()
	close(done)
	readers.Wait()
	require.NoError(t, errors.Join(errs...))

	for w := range writers {
		out, err := cli.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String("t"),
			KeyConditionExpression:    aws.String("pk = :p"),
			ExpressionAttributeValues: map[string]av{":p": s(fmt.Sprintf("W%d", w))},
		})
		require.NoError(t, err)

		got := attrs(out.Items, "sk")
		require.Len(t, got, perWriter)
		require.True(t, slices.IsSorted(got))
	}

	items, _ := queryAll(t, cli, &dynamodb.QueryInput{
		TableName:                 aws.String("t"),
		IndexName:                 aws.String("GSI1"),
		KeyConditionExpression:    aws.String("gsi1pk = :g"),
		ExpressionAttributeValues: map[string]av{":g": s("G")},
	}, nil, 300)
	require.Len(t, items, writers*perWriter)

	out, err := cli.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]av{"pk": s("counter"), "sk": s("0")}})
	require.NoError(t, err)
	require.Equal(t, strconv.Itoa(2*increments), attr(out.Item, "n"))
}
