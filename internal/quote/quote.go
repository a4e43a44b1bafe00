// Package quote makes text from a user's file safe to print on a terminal: the assembler's
// error messages and the VM's reports quote source lines, and a source line may hold escape
// sequences, written to recolour a terminal or to hide what follows, or bytes that are not UTF-8.
package quote

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Line returns s with each character that a terminal would act on, rather than show, replaced
// by one visible character, so that a column counted in characters is the same in s and in the
// result and a caret under it stays right:
//
//   - a C0 control character or DEL by its Unicode control picture: NUL as ␀, ESC as ␛;
//   - a C1 control character (U+0080 to U+009F, which a terminal may read as ESC and a letter),
//     a bidirectional control (which reorders the text around it) and a line or paragraph
//     separator by U+FFFD;
//   - each byte that is not part of valid UTF-8 by U+FFFD.
//
// A tab is kept, so that a line indented with tabs keeps its shape. Line returns s itself when
// there is nothing to replace.
func Line(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' || c == 0x7f {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || hidden(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\t':
			b.WriteByte('\t')
		case r < 0x20:
			b.WriteRune(0x2400 + r) // the Control Pictures block is in the order of C0
		case r == 0x7f:
			b.WriteRune('\u2421') // ␡
		case r == utf8.RuneError && size == 1, hidden(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// hidden reports whether r, not ASCII, is one that a terminal acts on or that changes how the
// text around it reads: a C1 control, a bidirectional control, a line or paragraph separator.
func hidden(r rune) bool {
	return 0x80 <= r && r <= 0x9f || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
}
