package asm

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"

	"github.com/spindle-vm/spindle/object"
)

// The cost of an assembly, in bytes allocated and in allocations (which stand for its time: a
// test that timed it would fail on a slow machine), must grow no faster than the tokens it
// lexed, which the source's limits bound (MaxSourceTokens, with MaxSourceLines, MaxSourceSize
// and the limit on macro expansions), plus the image it made. The bounds are four times what the
// costliest sources measured took, 3.8 KB a token (lines of unknown labels) and 50 allocations
// (lines of li), so that they do not fail by chance; the sources of the classes below took 18
// to 100 times more a token before they were fixed.
const (
	costBase            = 1 << 20
	costPerToken        = 16 << 10
	costMallocsBase     = 2000
	costMallocsPerToken = 256
)

// cost is what one assembly took, and what it was allowed.
type cost struct {
	bytes, mallocs            uint64
	maxBytes, maxMallocs      uint64
	tokens                    int
	longestMsg, longestSource int
	errs                      ErrorList
}

func (c cost) String() string {
	return fmt.Sprintf("%d tokens: %d KB allocated (at most %d KB), %d allocations (at most %d)",
		c.tokens, c.bytes>>10, c.maxBytes>>10, c.mallocs, c.maxMallocs)
}

// assembleCost assembles src as prog.s and measures what it cost.
func assembleCost(t *testing.T, src []byte, opts *Options) cost {
	t.Helper()
	c, _, _ := assembleCostImage(t, src, opts)
	return c
}

// assembleCostImage is assembleCost that returns what Assemble returns too.
func assembleCostImage(t *testing.T, src []byte, opts *Options) (cost, *object.Image, error) {
	t.Helper()
	// runtime/metrics does not stop the world, as runtime.ReadMemStats does, which doubled the
	// time of a small input; but it counts an allocation only when the span that holds it is
	// swapped, so that one assembly can be charged thousands of allocations of others. An
	// assembly that seems over its bounds is measured again, exactly.
	a := newAssembler(opts)
	before := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"}}
	after := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/allocs:objects"}}
	metrics.Read(before)
	img, err := a.run("prog.s", bytes.NewReader(src), src)
	metrics.Read(after)
	c := cost{
		bytes:   after[0].Value.Uint64() - before[0].Value.Uint64(),
		mallocs: after[1].Value.Uint64() - before[1].Value.Uint64(),
		tokens:  a.sourceTokens,
	}
	// The image: 4 bytes of code and 8 of line table an instruction, each slice grown by
	// append, and the data.
	image := 2*12*a.textLen + a.dataLen
	c.maxBytes = costBase + costPerToken*uint64(c.tokens) + 2*image
	c.maxMallocs = costMallocsBase + costMallocsPerToken*uint64(c.tokens)
	if c.bytes > c.maxBytes || c.mallocs > c.maxMallocs {
		var before, after runtime.MemStats
		again := newAssembler(opts)
		runtime.ReadMemStats(&before)
		again.run("prog.s", bytes.NewReader(src), src)
		runtime.ReadMemStats(&after)
		c.bytes, c.mallocs = after.TotalAlloc-before.TotalAlloc, after.Mallocs-before.Mallocs
	}
	if err != nil && !errors.As(err, &c.errs) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	for _, e := range c.errs {
		c.longestMsg = max(c.longestMsg, len(e.Msg))
		c.longestSource = max(c.longestSource, len(e.Source))
	}
	return c, img, err
}

// checkCost fails t if c is over its bounds, or an error is longer than a message and a line.
// A line is shown in its printable form, in which a byte that is not UTF-8 or a control becomes
// a character of 3 bytes.
func checkCost(t *testing.T, c cost) {
	t.Helper()
	if c.bytes > c.maxBytes || c.mallocs > c.maxMallocs {
		t.Errorf("assembly cost too much: %v", c)
	}
	if c.longestMsg > maxMessage || c.longestSource > 3*maxLineLen {
		t.Errorf("an error has a message of %d bytes (at most %d) or a line of %d (at most %d)", c.longestMsg, maxMessage, c.longestSource, 3*maxLineLen)
	}
}

// firstMsg is the position and message of the first error of l, without the source line, which
// can be long.
func firstMsg(l ErrorList) string {
	if len(l) == 0 {
		return ""
	}
	return l[0].Pos.String() + ": " + l[0].Msg
}

// equChainSource makes n .equ names, each defined by the next, the last by a label that comes
// after n lines of .space, one for each name. Every .space needs its name during layout, before
// the label is known. Each walked the whole chain again, and each message quoted the message of
// the name below it: 10,000 names (370 KB) took over 5 minutes, with error lines of 1.2 MB.
func equChainSource(n int) string {
	var b strings.Builder
	b.WriteString("\t.data\n")
	for i := range n - 1 {
		fmt.Fprintf(&b, "\t.equ e%d, e%d + 1\n", i, i+1)
	}
	fmt.Fprintf(&b, "\t.equ e%d, later - 4\n", n-1)
	for i := range n {
		fmt.Fprintf(&b, "\t.space e%d\n", i)
	}
	b.WriteString("later:\t.byte 0\n\t.text\nmain:\tret\n")
	return b.String()
}

// longBytesSource makes size bytes of distinct .byte lines of nearly maxLineLen bytes: two bytes
// of source for each value, and a token for each byte. 4 MiB of them took 19 s of CPU and
// 750 MB.
func longBytesSource(size int) string {
	var b strings.Builder
	b.WriteString("\t.data\n")
	for i := 0; b.Len() < size; i++ {
		line := fmt.Sprintf("\t.byte %d", i%256)
		line += strings.Repeat(",1", (maxLineLen-len(line)-8)/2)
		b.WriteString(line + "\n")
	}
	b.WriteString("\t.text\nmain:\tret\n")
	return b.String()
}

// longArgsSource makes a macro whose body uses its parameter as often as a line allows, invoked
// n times with an argument of 2000 bytes: each expansion, 2.7 MB, was built whole before it was
// found too long.
func longArgsSource(n int) string {
	var b strings.Builder
	b.WriteString(".macro m a\n\t.byte \\a" + strings.Repeat(",\\a", (maxLineLen-20)/3) + "\n.endm\n\t.data\n")
	arg := strings.Repeat("x", 2000)
	for range n {
		b.WriteString("\tm " + arg + "\n")
	}
	b.WriteString("\t.text\nmain:\tret\n")
	return b.String()
}

// TestEquChainCost checks that a chain of .equ names that layout needs too early costs its
// length once, and is reported once, in a message of bounded length. 300 names took 200 MB
// before, and the message 11 KB.
func TestEquChainCost(t *testing.T) {
	c := assembleCost(t, []byte(equChainSource(500)), nil)
	checkCost(t, c)
	want := "the value of 'e0' is not known here (through 'e1', 497 other names and 'e499'): 'later' must be defined above this line, since its value is needed to lay out the program"
	if len(c.errs) != 1 || c.errs[0].Msg != want {
		t.Errorf("got %d errors, the first %q; want one: %q", len(c.errs), firstMsg(c.errs), want)
	}
}

// TestLongArgsCost checks that a macro argument substituted into a line far over the limit costs
// no more than the line's limit. 40 expansions took 530 MB before.
func TestLongArgsCost(t *testing.T) {
	c := assembleCost(t, []byte(longArgsSource(40)), nil)
	checkCost(t, c)
	want := "line is too long after macro expansion (2719365 bytes; the limit is 4096) (in macro 'm' used at prog.s:5)"
	if len(c.errs) != maxErrors+1 || c.errs[0].Msg != want {
		t.Errorf("got %d errors, the first %q; want %d and then too many errors, the first %q", len(c.errs), firstMsg(c.errs), maxErrors, want)
	}
}

// TestTokenLimit checks that a source of more tokens than MaxSourceTokens is refused where it
// passes the limit, and costs no more than the limit allows. 4 MiB of long .byte lines, 2
// million tokens, took 13 GB of allocations before there was a limit of tokens.
func TestTokenLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("assembles a source at the limit of tokens")
	}
	src := longBytesSource(MaxSourceSize - maxLineLen)
	// The line where the tokens pass the limit.
	line, tokens := 0, 0
	for text := range strings.SplitSeq(src, "\n") {
		line++
		if tokens += len(lexLineTokens(nil, text)); tokens > MaxSourceTokens {
			break
		}
	}
	c := assembleCost(t, []byte(src), nil)
	checkCost(t, c)
	want := fmt.Sprintf("source has more than %d tokens", MaxSourceTokens)
	if len(c.errs) != 1 || !strings.HasPrefix(c.errs[0].Msg, want) || c.errs[0].Pos.Line != line {
		t.Errorf("got %d errors, the first %q; want one at line %d: %q", len(c.errs), firstMsg(c.errs), line, want)
	}
}
