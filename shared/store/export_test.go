package store

// SetIndexLimits sets the largest index kept in a snapshot's head and the
// size of the parts a larger one is split into, until restore is called.
func SetIndexLimits(inline, part int) (restore func()) {
	oldInline, oldPart := maxInlineIndex, indexPartBytes
	maxInlineIndex, indexPartBytes = inline, part
	return func() { maxInlineIndex, indexPartBytes = oldInline, oldPart }
}

// ReportShards is the number of partition keys a snapshot's chunks spread over.
const ReportShards = reportShards
