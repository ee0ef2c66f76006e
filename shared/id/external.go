package id

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// MaxExternalLength is the longest identifier that comes from outside.
const MaxExternalLength = 200

// CheckExternal checks an identifier that comes from outside the service:
// the licensing system's license keys and organization, product, role, user
// and deployment ids, as the import reads them and as clients send them in
// paths and bodies. It must be 1 to 200 bytes of UTF-8 without the
// characters the table uses as separators ('#') or that change a path's
// meaning ('/', '?', '%', '\'), spaces or control characters, and may not be
// the path segments "." or "..". The error says what is wrong, without the
// value.
func CheckExternal(s string) error {
	switch {
	case s == "":
		return errors.New("is required")
	case len(s) > MaxExternalLength:
		return errors.New("is longer than 200 bytes")
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8")
	case strings.ContainsAny(s, "#/?%\\") || strings.IndexFunc(s, isSpaceOrControl) >= 0:
		return errors.New(`may not contain '#', '/', '?', '%', '\', spaces or control characters`)
	case s == "." || s == "..":
		return errors.New(`may not be "." or ".."`)
	}
	return nil
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0xa0) || r == 0x2028 || r == 0x2029
}
