// Package suggest finds the likely intended word behind a typo: the assembler uses it for
// mnemonics, directives, registers and labels, and the spindle command for its subcommands.
package suggest

import (
	"strings"
	"unicode/utf8"
)

// Closest returns the candidate closest to name, or "" if none is close enough to be a likely
// typo. Case is ignored, so that "Loop" suggests "loop" and "ADDI" suggests "addi". Ties go to
// the candidate that sorts first, which keeps messages stable.
func Closest(name string, candidates []string) string {
	limit := max(1, (utf8.RuneCountInString(name)+1)/3)
	best, bestDist := "", limit+1
	lname := strings.ToLower(name)
	for _, c := range candidates {
		if c == name {
			continue
		}
		d := editDistance(lname, strings.ToLower(c))
		if d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions, deletions, substitutions
// and transpositions of neighbours each cost one, so that "tetx" is one step from "text".
func editDistance(s, t string) int {
	a, b := []rune(s), []rune(t)
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
