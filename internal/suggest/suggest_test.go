package suggest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

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

// fullDistance is the table of within filled whole, without the band or the early stop.
func fullDistance(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// TestWithin checks the banded distance against the whole table, on words from a small
// alphabet so that many pairs are close, with one distance buffer for all of them as Closest
// uses it.
func TestWithin(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() []rune {
		w := make([]rune, rng.IntN(12))
		for i := range w {
			w[i] = rune('a' + rng.IntN(3))
		}
		return w
	}
	var osa distance
	for range 20000 {
		a, b, k := word(), word(), rng.IntN(6)
		want := min(fullDistance(a, b), k+1)
		if got := osa.within(a, b, k); got != want {
			t.Fatalf("within(%q, %q, %d) = %d, want %d", string(a), string(b), k, got, want)
		}
	}
}

// TestClosestLong checks that long names and candidates cost little: without the bound on the
// name and the skip of candidates by length, these took seconds.
func TestClosestLong(t *testing.T) {
	long := strings.Repeat("x", 4000)
	cands := make([]string, 1000)
	for i := range cands {
		cands[i] = fmt.Sprintf("%s%d", long, i)
	}
	start := time.Now()
	if got := Closest(long+"y", cands); got != "" {
		t.Errorf("a name of 4,001 letters has the suggestion %.10q...; want none past MaxName", got)
	}
	if got := Closest("x1", cands); got != "" {
		t.Errorf("Closest(x1) = %.10q..., want none", got)
	}
	name := strings.Repeat("y", MaxName-1) + "z"
	if got := Closest(name, []string{strings.Repeat("y", MaxName)}); got == "" {
		t.Errorf("a name of MaxName letters has no suggestion")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}
