package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// mergeJSON encodes v, which must encode as an object, with extra members
// added at the end.
func mergeJSON(v any, extra map[string]any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("mergeJSON: %T does not encode as an object", v)
	}
	var buf bytes.Buffer
	buf.Write(b[:len(b)-1])
	for k, x := range extra {
		xb, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(xb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
