package core

import (
	"math/big"
	"slices"
	"sort"
	"strings"

	"github.com/truora/minidyn/types"
)

// sortValue is a key attribute value in DynamoDB's order: numbers by value,
// strings and binary values byte by byte.
type sortValue struct {
	s string     // S and B values; N values that do not parse
	n *big.Float // N values
}

// numberPrecision holds DynamoDB's 38 significant digits exactly.
const numberPrecision = 160

func compareSort(a, b sortValue) int {
	if a.n != nil && b.n != nil {
		return a.n.Cmp(b.n)
	}

	return strings.Compare(a.s, b.s)
}

// keyValue returns an item's key attribute in key order, and false when the
// attribute is missing or not of type typ.
func keyValue(item map[string]*types.Item, attr, typ string) (sortValue, bool) {
	v, ok := item[attr]
	if !ok || v == nil {
		return sortValue{}, false
	}

	return attributeSortValue(v, typ)
}

func attributeSortValue(v *types.Item, typ string) (sortValue, bool) {
	switch typ {
	case "S":
		if v.S != nil {
			return sortValue{s: *v.S}, true
		}
	case "B":
		if v.B != nil {
			return sortValue{s: string(v.B)}, true
		}
	case "N":
		if v.N != nil {
			n, _, err := big.ParseFloat(*v.N, 10, numberPrecision, big.ToNearestEven)
			if err != nil {
				return sortValue{s: *v.N}, true
			}

			return sortValue{s: *v.N, n: n}, true
		}
	}

	return sortValue{}, false
}

// keyEntry places an item in the key order of a table or an index: by
// partition key, then sort key, then the item's key in Table.Data (which
// orders the items an index key has in common).
type keyEntry struct {
	hash string
	sort sortValue
	key  string
}

func compareEntries(a, b keyEntry) int {
	if c := strings.Compare(a.hash, b.hash); c != 0 {
		return c
	}

	if c := compareSort(a.sort, b.sort); c != 0 {
		return c
	}

	return strings.Compare(a.key, b.key)
}

// entry returns where item, stored at key, goes in the order of this key
// schema, and false when the item lacks one of its key attributes (a sparse
// index) or has one of the wrong type.
func (ks keySchema) entry(attrs map[string]string, item map[string]*types.Item, key string) (keyEntry, bool) {
	hash, ok := keyValue(item, ks.HashKey, attrs[ks.HashKey])
	if !ok {
		return keyEntry{}, false
	}

	e := keyEntry{hash: hash.s, key: key}

	if ks.RangeKey != "" {
		e.sort, ok = keyValue(item, ks.RangeKey, attrs[ks.RangeKey])
		if !ok {
			return keyEntry{}, false
		}
	}

	return e, true
}

// entryIf is entry for an item that may be nil, and nil when there is no
// entry.
func (ks keySchema) entryIf(attrs map[string]string, item map[string]*types.Item, key string) *keyEntry {
	if item == nil {
		return nil
	}

	e, ok := ks.entry(attrs, item, key)
	if !ok {
		return nil
	}

	return &e
}

// maxChunk bounds the entries one insert or delete moves.
const maxChunk = 512

// orderedKeys keeps the entries of a table or an index sorted, in chunks of
// at most maxChunk entries, so that an insert or a delete costs a binary
// search and a copy within one chunk instead of a sort of every key.
type orderedKeys struct {
	chunks [][]keyEntry
	size   int
}

// position is a place in orderedKeys: chunk c, entry i. The end is
// {len(chunks), 0}.
type position struct{ c, i int }

func (p position) before(q position) bool {
	return p.c < q.c || (p.c == q.c && p.i < q.i)
}

func (o *orderedKeys) len() int { return o.size }

func (o *orderedKeys) start() position { return position{} }

func (o *orderedKeys) end() position { return position{c: len(o.chunks)} }

func (o *orderedKeys) at(p position) keyEntry { return o.chunks[p.c][p.i] }

func (o *orderedKeys) next(p position) position {
	p.i++
	if p.i == len(o.chunks[p.c]) {
		p = position{c: p.c + 1}
	}

	return p
}

func (o *orderedKeys) prev(p position) position {
	if p.i > 0 {
		p.i--
		return p
	}

	p.c--

	return position{c: p.c, i: len(o.chunks[p.c]) - 1}
}

// search returns the first position whose entry satisfies f, or the end; f
// must be false for a prefix of the order and true after it.
func (o *orderedKeys) search(f func(keyEntry) bool) position {
	c := sort.Search(len(o.chunks), func(c int) bool {
		chunk := o.chunks[c]
		return f(chunk[len(chunk)-1])
	})
	if c == len(o.chunks) {
		return o.end()
	}

	return position{c: c, i: sort.Search(len(o.chunks[c]), func(i int) bool { return f(o.chunks[c][i]) })}
}

func (o *orderedKeys) find(e keyEntry) position {
	return o.search(func(x keyEntry) bool { return compareEntries(x, e) >= 0 })
}

// insert adds e, or replaces an equal entry.
func (o *orderedKeys) insert(e keyEntry) {
	if len(o.chunks) == 0 {
		o.chunks = [][]keyEntry{{e}}
		o.size = 1

		return
	}

	p := o.find(e)
	if p.c < len(o.chunks) && compareEntries(o.at(p), e) == 0 {
		o.chunks[p.c][p.i] = e
		return
	}

	o.size++

	if p.c == len(o.chunks) {
		last := len(o.chunks) - 1
		if len(o.chunks[last]) >= maxChunk {
			// Appending in key order fills chunks instead of halving them.
			o.chunks = append(o.chunks, []keyEntry{e})
			return
		}

		p = position{c: last, i: len(o.chunks[last])}
	}

	chunk := slices.Insert(o.chunks[p.c], p.i, e)
	if len(chunk) <= maxChunk {
		o.chunks[p.c] = chunk
		return
	}

	half := len(chunk) / 2
	right := append(make([]keyEntry, 0, maxChunk), chunk[half:]...)
	clear(chunk[half:])
	o.chunks[p.c] = chunk[:half]
	o.chunks = slices.Insert(o.chunks, p.c+1, right)
}

// remove deletes the entry equal to e, if there is one.
func (o *orderedKeys) remove(e keyEntry) {
	p := o.find(e)
	if p.c == len(o.chunks) || compareEntries(o.at(p), e) != 0 {
		return
	}

	o.size--

	chunk := slices.Delete(o.chunks[p.c], p.i, p.i+1)
	if len(chunk) == 0 {
		o.chunks = slices.Delete(o.chunks, p.c, p.c+1)
		return
	}

	o.chunks[p.c] = chunk
}

// move replaces the entry old (nil for none) with e (none when ok is false),
// in place when they are equal.
func (o *orderedKeys) move(old *keyEntry, e keyEntry, ok bool) {
	if old != nil && (!ok || compareEntries(*old, e) != 0) {
		o.remove(*old)
	}

	if ok {
		o.insert(e)
	}
}
