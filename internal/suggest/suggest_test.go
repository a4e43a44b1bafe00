package suggest

import "testing"

func TestClosest(t *testing.T) {
	tests := []struct {
		name  string
		cands []string
		want  string
	}{
		{"ad", []string{"and", "add", "addi"}, "add"}, // a tie goes to the first in order
		{"tetx", []string{"text", "data"}, "text"},    // a transposition is one edit
		{"Loop", []string{"loop", "lop"}, "loop"},     // case is ignored
		{"xyz", []string{"add"}, ""},                  // too far to be a typo
		{"loop", []string{"loop"}, ""},                // the name itself is not a suggestion
	}
	for _, tc := range tests {
		if got := Closest(tc.name, tc.cands); got != tc.want {
			t.Errorf("Closest(%q, %q) = %q, want %q", tc.name, tc.cands, got, tc.want)
		}
	}
}
