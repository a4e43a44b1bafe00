// Package suggest finds the likely intended word behind a typo: the assembler uses it for
// mnemonics, directives, registers and labels, and the spindle command for its subcommands.
package suggest

import (
	"unicode"
	"unicode/utf8"
)

// MaxName is the longest name, in characters, that Closest finds a suggestion for: longer than
// any mnemonic, directive, register or command, and than most labels. A comparison costs the
// name's length times the distance allowed, a third of it; without a bound, a source of 4 MiB
// whose lines each define a label of 2,000 letters and use an unknown one took more than two
// minutes for the 20 suggestions it prints.
const MaxName = 64

// Closest returns the candidate closest to name, or "" if none is close enough to be a likely
// typo, or if name is longer than MaxName. Case is ignored, so that "Loop" suggests "loop" and
// "ADDI" suggests "addi". Ties go to the candidate that sorts first, which keeps messages stable.
func Closest(name string, candidates []string) string {
	if len(name) > utf8.UTFMax*MaxName || utf8.RuneCountInString(name) > MaxName {
		return ""
	}
	a := lower(nil, name)
	n := len(a)
	limit := max(1, (n+1)/3)
	best, bestDist := "", limit+1
	var b []rune
	var osa distance
	for _, c := range candidates {
		if c == name {
			continue
		}
		// The distance is at least the difference of the lengths, so a candidate whose length
		// is too far off is skipped before it is read: a label of 4,000 letters costs nothing.
		// A character is 1 to 4 bytes, which bounds its length in characters by its bytes.
		k := min(bestDist, limit) // the largest distance that can still win
		if len(c) < n-k || len(c) > utf8.UTFMax*(n+k) {
			continue
		}
		b = lower(b[:0], c)
		if len(b) < n-k || len(b) > n+k {
			continue
		}
		d := osa.within(a, b, k)
		if d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	return best
}

// lower appends the characters of s, in lower case, to buf.
func lower(buf []rune, s string) []rune {
	for _, r := range s {
		buf = append(buf, unicode.ToLower(r))
	}
	return buf
}

// distance holds the rows of the table that within fills, kept from one call to the next.
type distance struct{ prev2, prev, cur []int }

// within returns the optimal string alignment distance between a and b if it is at most k, and
// k+1 otherwise: insertions, deletions, substitutions and transpositions of neighbours each cost
// one, so that "tetx" is one step from "text". Only the cells within k of the diagonal are
// computed, since the others are more than k, and it stops once two rows hold nothing within k.
func (d *distance) within(a, b []rune, k int) int {
	over := k + 1
	m := len(b)
	if len(a)-m > k || m-len(a) > k {
		return over
	}
	if cap(d.cur) < m+1 {
		d.prev2, d.prev, d.cur = make([]int, m+1), make([]int, m+1), make([]int, m+1)
	}
	prev2, prev, cur := d.prev2[:m+1], d.prev[:m+1], d.cur[:m+1]
	for j := range prev {
		prev[j] = min(j, over)
	}
	prevMin := 0
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-k), min(m, i+k)
		cur[lo-1] = min(i, over) // column 0, or the cell just left of the band
		rowMin := cur[lo-1]
		for j := lo; j <= hi; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost, over)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if hi < m {
			cur[hi+1] = over // the cell just right of the band, which the next row reads
		}
		// A cell is at least the smallest of the row above it and, for a transposition, one
		// more than the row above that: past two rows over k, every cell is over k.
		if rowMin > k && prevMin > k {
			return over
		}
		prevMin = rowMin
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[m]
}
