package license

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxDeploymentName is the longest deployment name, counted in characters.
const MaxDeploymentName = 200

// CheckNoteText checks the text of a partner or customer note: valid UTF-8,
// at most MaxNoteLength characters, and no control characters but newline
// and tab. The error says what is wrong, without the text.
func CheckNoteText(text string) error {
	return checkText(text, MaxNoteLength, "\n\t")
}

// CheckDeploymentName checks the name of a deployment: one line of at most
// MaxDeploymentName characters.
func CheckDeploymentName(name string) error {
	return checkText(name, MaxDeploymentName, "")
}

func checkText(s string, max int, allowed string) error {
	switch {
	case !utf8.ValidString(s):
		return errors.New("is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("is longer than %d characters", max)
	case hasControl(s, allowed):
		if allowed == "" {
			return errors.New("must be one line without control characters")
		}
		return errors.New("may not contain control characters other than newline and tab")
	}
	return nil
}

// hasControl reports whether s holds a control character (C0, DEL, C1, or a
// line or paragraph separator) that allowed does not name.
func hasControl(s, allowed string) bool {
	for _, r := range s {
		if (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029) && !strings.ContainsRune(allowed, r) {
			return true
		}
	}
	return false
}
