package quote

import (
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"main:\tret # café", "main:\tret # café"},     // tabs and letters stay
		{"main: \x1b[31mret", "main: ␛[31mret"},        // an escape sequence is shown, not obeyed
		{"a\x00b\rc\x7f", "a␀b␍c␡"},                    // C0 controls and DEL
		{"caf\xe9 \xff\xfe", "caf\ufffd \ufffd\ufffd"}, // each byte that is not UTF-8
		{"x\u009b31my", "x\ufffd31my"},                 // a C1 control: CSI
		{"\u202egnp.exe", "\ufffdgnp.exe"},             // a bidirectional override
		{"one\u2028two", "one\ufffdtwo"},               // a line separator
		{"", ""},
	}
	for _, tc := range tests {
		got := Line(tc.in)
		if got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// One character for one: a column in the input is the same column in the output.
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(tc.in) {
			t.Errorf("Line(%q) = %q: %d characters for %d", tc.in, got, utf8.RuneCountInString(got), utf8.RuneCountInString(tc.in))
		}
		if Line(got) != got {
			t.Errorf("Line(%q) = %q, which Line changes again", tc.in, got)
		}
	}
}

func TestLineKeepsPlainText(t *testing.T) {
	s := "\tli a0, 'é' # 42"
	if n := testing.AllocsPerRun(10, func() { _ = Line(s) }); n != 0 {
		t.Errorf("Line allocates %v times for text it returns as it is", n)
	}
}
