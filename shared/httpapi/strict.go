package httpapi

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxDepth bounds the nesting of a request body: no request of the API
// nests beyond three levels, and a deeper one only costs the server.
const maxDepth = 32

// checkStrict holds a JSON body to the rules encoding/json does not: it
// must be valid UTF-8 without lone surrogate escapes ("\ud800"), which
// encoding/json would turn into U+FFFD and store; every member name must
// be one of the type's, exactly (encoding/json matches names without
// case, taking {"ALL":true} for {"all":true}), and given once. The
// value's syntax and kinds are left to the decoding that follows; a body
// that is not JSON may be refused here or there, with a 400 either way.
func checkStrict(raw []byte, t reflect.Type) error {
	if !utf8.Valid(raw) {
		return strictError("it is not valid UTF-8")
	}
	if loneSurrogate(raw) {
		return strictError(`it holds a \u escape of half a surrogate pair, which is no character`)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	return checkValue(dec, t, 0)
}

// checkValue checks the next value of dec against t (nil: any value).
func checkValue(dec *json.Decoder, t reflect.Type, depth int) error {
	if depth > maxDepth {
		return strictError("it nests too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	t = opaque(t)
	switch tok {
	case json.Delim('{'):
		var fields map[string]reflect.Type
		if t != nil && t.Kind() == reflect.Struct {
			fields = fieldsOf(t)
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			name, _ := tok.(string)
			if seen[name] {
				return strictError("field " + quote(name) + " is given twice")
			}
			seen[name] = true
			var ft reflect.Type
			switch {
			case fields != nil:
				var ok bool
				if ft, ok = fields[name]; !ok {
					return strictError("unknown field " + quote(name))
				}
			case t != nil && t.Kind() == reflect.Map:
				ft = t.Elem()
			}
			if err := checkValue(dec, ft, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for dec.More() {
			if err := checkValue(dec, elem, depth+1); err != nil {
				return err
			}
		}
		_, err = dec.Token()
		return err
	}
	return nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// strictError is a rule of checkStrict that a body breaks.
type strictError string

func (e strictError) Error() string { return string(e) }

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// opaque returns t without its pointers, or nil when its values are any
// JSON: an interface, or a type that decodes itself.
func opaque(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Kind() == reflect.Interface || t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
			t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			return t
		}
		t = t.Elem()
	}
	return nil
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// fieldsOf returns the JSON names of a struct's fields, those of its
// embedded structs included, with their types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
	addFields(fields, t)
	fieldCache.Store(t, fields)
	return fields
}

func addFields(fields map[string]reflect.Type, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(fields, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := fields[name]; !ok { // the outer field wins, as in encoding/json
			fields[name] = f.Type
		}
	}
}

// loneSurrogate reports whether a JSON text holds a \u escape of a
// surrogate that is not half of a pair. It reads string literals only as
// far as it must to find their escapes; the decoder checks the syntax.
func loneSurrogate(raw []byte) bool {
	inString := false
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(raw) && raw[i+1] == 'u' {
				r, ok := hex4(raw[i+2:])
				switch {
				case !ok:
				case r >= 0xd800 && r < 0xdc00:
					if i+11 >= len(raw) || raw[i+6] != '\\' || raw[i+7] != 'u' {
						return true
					}
					low, ok := hex4(raw[i+8:])
					if !ok || low < 0xdc00 || low > 0xdfff {
						return true
					}
					i += 6
				case r >= 0xdc00 && r <= 0xdfff:
					return true
				}
				i += 5
			} else {
				i++
			}
		}
	}
	return false
}

// hex4 reads the four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
