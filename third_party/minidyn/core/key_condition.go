package core

import (
	"strings"

	"github.com/truora/minidyn/interpreter/language"
	"github.com/truora/minidyn/types"
)

// keyRange is what a KeyConditionExpression selects in key order: the items
// of one partition, all of them or those whose sort key is in a range.
type keyRange struct {
	hash   string
	op     string    // "" for the whole partition, or the sort key condition: = < <= > >= BETWEEN begins_with
	lo, hi sortValue // the operands: lo for = > >= BETWEEN begins_with, hi for < <= BETWEEN
}

// planKeyCondition reads the partition and the sort key range out of a key
// condition of the forms DynamoDB allows: "hash = :v", optionally AND one
// condition on the sort key. It returns false for anything else, and for
// operands of the wrong type; the caller then examines every item, as the
// condition is evaluated on each item either way.
func planKeyCondition(expression string, aliases map[string]string, values map[string]*types.Item, ks keySchema, attrs map[string]string) (keyRange, bool) {
	p := language.NewParser(language.NewLexer(expression))

	cond := p.ParseConditionalExpression()
	if len(p.Errors()) != 0 || cond == nil || cond.Expression == nil {
		return keyRange{}, false
	}

	parts := conjuncts(cond.Expression, nil)
	if len(parts) > 2 {
		return keyRange{}, false
	}

	var (
		r       keyRange
		hashSet bool
	)

	for _, part := range parts {
		attr, op, operands, ok := keyComparison(part, aliases, values)
		if !ok {
			return keyRange{}, false
		}

		switch {
		case attr == ks.HashKey && op == "=" && !hashSet:
			v, ok := attributeSortValue(operands[0], attrs[ks.HashKey])
			if !ok {
				return keyRange{}, false
			}

			r.hash, hashSet = v.s, true
		case attr == ks.RangeKey && ks.RangeKey != "" && r.op == "":
			if !r.setRange(op, operands, attrs[ks.RangeKey]) {
				return keyRange{}, false
			}
		default:
			return keyRange{}, false
		}
	}

	if !hashSet {
		return keyRange{}, false
	}

	return r, true
}

func (r *keyRange) setRange(op string, operands []*types.Item, typ string) bool {
	values := make([]sortValue, len(operands))

	for i, operand := range operands {
		v, ok := attributeSortValue(operand, typ)
		if !ok {
			return false
		}

		values[i] = v
	}

	switch op {
	case "=", ">", ">=":
		r.lo = values[0]
	case "<", "<=":
		r.hi = values[0]
	case "BETWEEN":
		r.lo, r.hi = values[0], values[1]
	case "begins_with":
		if typ == "N" {
			return false
		}

		r.lo = values[0]
	default:
		return false
	}

	r.op = op

	return true
}

func conjuncts(e language.Expression, out []language.Expression) []language.Expression {
	if in, ok := e.(*language.InfixExpression); ok && in.Operator == language.AND {
		return conjuncts(in.Right, conjuncts(in.Left, out))
	}

	return append(out, e)
}

// keyComparison reads "attr OP :v", ":v OP attr", "attr BETWEEN :a AND :b"
// and "begins_with(attr, :v)".
func keyComparison(e language.Expression, aliases map[string]string, values map[string]*types.Item) (string, string, []*types.Item, bool) {
	switch n := e.(type) {
	case *language.InfixExpression:
		op := n.Operator
		if _, ok := flippedComparison[op]; !ok {
			return "", "", nil, false
		}

		if attr, ok := attributeName(n.Left, aliases); ok {
			v, ok := operandValue(n.Right, values)
			return attr, op, []*types.Item{v}, ok
		}

		if attr, ok := attributeName(n.Right, aliases); ok {
			v, ok := operandValue(n.Left, values)
			return attr, flippedComparison[op], []*types.Item{v}, ok
		}
	case *language.BetweenExpression:
		attr, ok := attributeName(n.Left, aliases)
		lo, okLo := operandValue(n.Range[0], values)
		hi, okHi := operandValue(n.Range[1], values)

		return attr, "BETWEEN", []*types.Item{lo, hi}, ok && okLo && okHi
	case *language.CallExpression:
		fn, ok := n.Function.(*language.Identifier)
		if !ok || fn.Value != "begins_with" || len(n.Arguments) != 2 {
			return "", "", nil, false
		}

		attr, ok := attributeName(n.Arguments[0], aliases)
		v, okV := operandValue(n.Arguments[1], values)

		return attr, "begins_with", []*types.Item{v}, ok && okV
	}

	return "", "", nil, false
}

// flippedComparison gives the operator of "b OP a" for "a OP b".
var flippedComparison = map[string]string{"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

func attributeName(e language.Expression, aliases map[string]string) (string, bool) {
	id, ok := e.(*language.Identifier)
	if !ok || strings.HasPrefix(id.Value, ":") {
		return "", false
	}

	if strings.HasPrefix(id.Value, "#") {
		name, ok := aliases[id.Value]
		return name, ok
	}

	return id.Value, true
}

func operandValue(e language.Expression, values map[string]*types.Item) (*types.Item, bool) {
	id, ok := e.(*language.Identifier)
	if !ok || !strings.HasPrefix(id.Value, ":") {
		return nil, false
	}

	v, ok := values[id.Value]

	return v, ok && v != nil
}

func (r keyRange) hasLowerBound() bool {
	switch r.op {
	case "=", ">", ">=", "BETWEEN", "begins_with":
		return true
	default:
		return false
	}
}

// bounds returns the positions of the first item of r in o and of the first
// one after it.
func (r keyRange) bounds(o *orderedKeys) (position, position) {
	atOrAfterLo := func(e keyEntry) bool {
		c := strings.Compare(e.hash, r.hash)
		if c != 0 || !r.hasLowerBound() {
			return c >= 0
		}

		if r.op == ">" {
			return compareSort(e.sort, r.lo) > 0
		}

		return compareSort(e.sort, r.lo) >= 0
	}

	pastEnd := func(e keyEntry) bool {
		c := strings.Compare(e.hash, r.hash)
		if c != 0 {
			return c > 0
		}

		switch r.op {
		case "=":
			return compareSort(e.sort, r.lo) > 0
		case "<":
			return compareSort(e.sort, r.hi) >= 0
		case "<=", "BETWEEN":
			return compareSort(e.sort, r.hi) > 0
		case "begins_with":
			return compareSort(e.sort, r.lo) > 0 && !strings.HasPrefix(e.sort.s, r.lo.s)
		default:
			return false
		}
	}

	from, to := o.search(atOrAfterLo), o.search(pastEnd)
	if to.before(from) {
		to = from
	}

	return from, to
}
