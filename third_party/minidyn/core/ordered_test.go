package core

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/truora/minidyn/types"
)

func entries(o *orderedKeys) []string {
	out := []string{}
	for p := o.start(); p.before(o.end()); p = o.next(p) {
		out = append(out, o.at(p).key)
	}

	return out
}

func TestOrderedKeysAgainstSortedSlice(t *testing.T) {
	c := require.New(t)

	var o orderedKeys

	want := []string{}
	rng := rand.New(rand.NewPCG(1, 2))

	// Enough entries to split chunks many times, in random order, with
	// overwrites and deletes in between.
	for n := range 20 * maxChunk {
		k := fmt.Sprintf("h%03d.%06d", rng.IntN(7), rng.IntN(4*maxChunk))
		e := keyEntry{hash: k[:4], sort: sortValue{s: k[5:]}, key: k}

		if n%5 == 4 {
			o.remove(e)

			if i, found := slices.BinarySearch(want, k); found {
				want = slices.Delete(want, i, i+1)
			}

			continue
		}

		o.insert(e)

		if i, found := slices.BinarySearch(want, k); !found {
			want = slices.Insert(want, i, k)
		}
	}

	c.Equal(len(want), o.len())
	c.Equal(want, entries(&o))

	for _, chunk := range o.chunks {
		c.NotEmpty(chunk)
		c.LessOrEqual(len(chunk), maxChunk)
	}

	// Backwards from the end, the same entries.
	back := []string{}
	for p := o.end(); o.start().before(p); {
		p = o.prev(p)
		back = append(back, o.at(p).key)
	}

	slices.Reverse(back)
	c.Equal(want, back)

	for _, k := range want {
		o.remove(keyEntry{hash: k[:4], sort: sortValue{s: k[5:]}, key: k})
	}

	c.Zero(o.len())
	c.Empty(o.chunks)
}

func TestOrderedKeysAppendInOrderFillsChunks(t *testing.T) {
	c := require.New(t)

	var o orderedKeys

	for n := range 4 * maxChunk {
		k := fmt.Sprintf("%08d", n)
		o.insert(keyEntry{hash: k, key: k})
	}

	c.Len(o.chunks, 4)
}

func TestKeyValueOrdersNumbersByValue(t *testing.T) {
	c := require.New(t)

	numbers := []string{"10", "-5", "2", "1e2", "0.5", "-0.25", "99.999"}
	values := make([]sortValue, len(numbers))

	for i, n := range numbers {
		v, ok := attributeSortValue(&types.Item{N: &n}, "N")
		c.True(ok)

		values[i] = v
	}

	slices.SortFunc(values, compareSort)

	got := make([]string, len(values))
	for i, v := range values {
		got[i] = v.s
	}

	c.Equal([]string{"-5", "-0.25", "0.5", "2", "10", "99.999", "1e2"}, got)
}

func TestPlanKeyCondition(t *testing.T) {
	ks := keySchema{HashKey: "pk", RangeKey: "sk"}
	attrs := map[string]string{"pk": "S", "sk": "S", "n": "N"}
	str := func(s string) *types.Item { return &types.Item{S: &s} }
	values := map[string]*types.Item{":p": str("P1"), ":a": str("a"), ":b": str("b"), ":n": {N: new("1")}}
	aliases := map[string]string{"#p": "pk", "#s": "sk"}

	tests := []struct {
		expression string
		want       keyRange
		ok         bool
	}{
		{"pk = :p", keyRange{hash: "P1"}, true},
		{"#p = :p", keyRange{hash: "P1"}, true},
		{":p = pk", keyRange{hash: "P1"}, true},
		{"(pk = :p)", keyRange{hash: "P1"}, true},
		{"pk = :p AND sk = :a", keyRange{hash: "P1", op: "=", lo: sortValue{s: "a"}}, true},
		{"pk = :p AND #s < :a", keyRange{hash: "P1", op: "<", hi: sortValue{s: "a"}}, true},
		{"pk = :p AND :a > sk", keyRange{hash: "P1", op: "<", hi: sortValue{s: "a"}}, true},
		{"pk = :p AND sk <= :a", keyRange{hash: "P1", op: "<=", hi: sortValue{s: "a"}}, true},
		{"pk = :p AND sk > :a", keyRange{hash: "P1", op: ">", lo: sortValue{s: "a"}}, true},
		{"sk >= :a AND pk = :p", keyRange{hash: "P1", op: ">=", lo: sortValue{s: "a"}}, true},
		{"pk = :p AND sk BETWEEN :a AND :b", keyRange{hash: "P1", op: "BETWEEN", lo: sortValue{s: "a"}, hi: sortValue{s: "b"}}, true},
		{"pk = :p AND begins_with(sk, :a)", keyRange{hash: "P1", op: "begins_with", lo: sortValue{s: "a"}}, true},
		// Not of DynamoDB's forms, or not typed as the key: every item is examined.
		{"sk = :a", keyRange{}, false},
		{"pk = :p OR pk = :a", keyRange{}, false},
		{"pk = :p AND sk = :a AND sk = :b", keyRange{}, false},
		{"pk = :p AND pk = :a", keyRange{}, false},
		{"pk < :p", keyRange{}, false},
		{"pk = :n", keyRange{}, false},
		{"pk = :missing", keyRange{}, false},
		{"#missing = :p", keyRange{}, false},
		{"pk = :p AND other = :a", keyRange{}, false},
		{"pk = :p AND", keyRange{}, false},
	}

	for _, tt := range tests {
		t.Run(tt.expression, func(t *testing.T) {
			got, ok := planKeyCondition(tt.expression, aliases, values, ks, attrs)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestSnapshotItemsRestoresIndexes(t *testing.T) {
	c := require.New(t)

	table, err := createPokemonTable()
	c.NoError(err)

	put := func(id, name, typ string) {
		_, err := table.Put(&types.PutItemInput{TableName: new(tableName), Item: createPokemon(pokemon{ID: id, Name: name, Type: typ})})
		c.NoError(err)
	}

	put("001", "Bulbasaur", "grass")
	put("004", "Charmander", "fire")

	snap := table.SnapshotItems("001.Bulbasaur", "004.Charmander", "007.Squirtle")

	put("001", "Bulbasaur", "poison")
	put("007", "Squirtle", "water")

	_, err = table.Delete(&types.DeleteItemInput{TableName: new(tableName), Key: map[string]*types.Item{"id": {S: new("004")}, "name": {S: new("Charmander")}}})
	c.NoError(err)

	table.Restore(snap)

	c.Equal([]string{"001.Bulbasaur", "004.Charmander"}, entries(&table.keys))
	c.Equal([]string{"001.Bulbasaur", "004.Charmander"}, entries(&table.Indexes["invert"].keys))
	c.Equal("grass", *table.Data["001.Bulbasaur"]["type"].S)
}
