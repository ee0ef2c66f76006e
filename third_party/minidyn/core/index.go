package core

import (
	"maps"
	"time"

	"github.com/truora/minidyn/types"
)

type indexType string

const (
	indexTypeGlobal indexType = "global"
	indexTypeLocal  indexType = "local"
)

type index struct {
	keySchema  keySchema
	keys       orderedKeys
	typ        indexType
	projection *types.Projection
	Table      *Table
	createdAt  time.Time
}

func newIndex(t *Table, typ indexType, ks keySchema) *index {
	ks.Secondary = true

	return &index{
		keySchema: ks,
		typ:       typ,
		Table:     t,
	}
}

func (i *index) Clear() {
	i.keys = orderedKeys{}
}

// ProjectItem returns the attributes visible through this index's projection (ALL, KEYS_ONLY, INCLUDE).
// For ALL or unknown types, it returns a full shallow copy of the item.
func (i *index) ProjectItem(item map[string]*types.Item) map[string]*types.Item {
	if i == nil || i.projection == nil {
		return copyItem(item)
	}

	pt := ""
	if i.projection.ProjectionType != nil {
		pt = *i.projection.ProjectionType
	}

	switch pt {
	case "", "ALL":
		return copyItem(item)
	case "KEYS_ONLY":
		return i.projectKeysOnly(item)
	case "INCLUDE":
		return i.projectInclude(item)
	default:
		return copyItem(item)
	}
}

func (i *index) projectKeysOnly(item map[string]*types.Item) map[string]*types.Item {
	out := make(map[string]*types.Item)
	maps.Copy(out, i.Table.KeySchema.getKeyItem(item))
	maps.Copy(out, i.keySchema.getKeyItem(item))

	return out
}

func (i *index) projectInclude(item map[string]*types.Item) map[string]*types.Item {
	out := i.projectKeysOnly(item)

	for _, namePtr := range i.projection.NonKeyAttributes {
		if namePtr == nil {
			continue
		}

		name := *namePtr
		if v, ok := item[name]; ok {
			out[name] = v
		}
	}

	return out
}

// entryOf returns where the item stored at key goes in the index, and false
// when it lacks an index key attribute (indexes are sparse). An index key
// attribute of the wrong type is an error.
func (i *index) entryOf(key string, item map[string]*types.Item) (keyEntry, bool, error) {
	if e, ok := i.keySchema.entry(i.Table.AttributesDef, item, key); ok {
		return e, true, nil
	}

	_, err := i.keySchema.GetKey(i.Table.AttributesDef, item)

	return keyEntry{}, false, err
}

func (i *index) delete(key string, item map[string]*types.Item) error {
	if e, ok := i.keySchema.entry(i.Table.AttributesDef, item, key); ok {
		i.keys.remove(e)
	}

	return nil
}

func (i *index) count() int64 {
	return int64(i.keys.len())
}
