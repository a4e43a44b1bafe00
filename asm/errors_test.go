package asm

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// assembleErrors assembles src, which must fail, and returns the error list.
func assembleErrors(t *testing.T, src string, files map[string][]byte) ErrorList {
	t.Helper()
	return assembleErrorsWithin(t, src, files, maxSource)
}

// assembleErrorsWithin is assembleErrors for an assembly that holds its source to limits, which
// a test can make smaller than the real ones to reach them with a small source.
func assembleErrorsWithin(t *testing.T, src string, files map[string][]byte, limits sourceLimits) ErrorList {
	t.Helper()
	a := newAssembler(&Options{ReadFile: mapReader(files)})
	a.limits = limits
	img, err := a.run("prog.s", strings.NewReader(src), []byte(src))
	if err == nil {
		t.Fatalf("assembly succeeded (%d instructions), want errors", len(img.Text))
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error is %T, want ErrorList: %v", err, err)
	}
	return list
}

// TestErrorMessages checks the exact text of one error of each kind: position, message,
// source line and caret.
func TestErrorMessages(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unknown instruction", "main:\n    ad a0, a1, a2\n", `
prog.s:2:5: unknown instruction 'ad'; did you mean 'add'?
    ad a0, a1, a2
    ^`},
		{"unknown instruction, a label without colon", "\tagain\n", `
prog.s:1:2: unknown instruction 'again' (a label needs a colon: 'again:')
    again
    ^`},
		{"unknown label", "main:\n\tbeq a0, a1, lop\nloop:\thalt\n", `
prog.s:2:14: unknown label 'lop'; did you mean 'loop'?
    beq a0, a1, lop
                ^`},
		{"unknown local label", "main:\n.loop:\tjmp .lopo\n", `
prog.s:2:12: unknown label '.lopo'; did you mean '.loop'?
    .loop:	jmp .lopo
          	    ^`},
		{"duplicate label", "main:\tnop\nmain:\thalt\n", `
prog.s:2:1: duplicate label 'main'; first defined at prog.s:1
    main:	halt
    ^`},
		{"duplicate local label", "f:\n.x:\tnop\n.x:\tnop\n", `
prog.s:3:1: duplicate label 'f.x'; first defined at prog.s:2
    .x:	nop
    ^`},
		{"immediate out of range", "\taddi a0, a1, 40000\n", `
prog.s:1:15: immediate 40000 out of range for addi (-32768..32767)
    addi a0, a1, 40000
                 ^`},
		{"offset out of range", "\tlw a0, -40000(sp)\n", `
prog.s:1:9: offset -40000 out of range for lw (-32768..32767)
    lw a0, -40000(sp)
           ^`},
		{"branch out of range", "top:\tbeq a0, a1, top + 4*40000\n.space 0\n", `
prog.s:1:18: branch target 'top + 4*40000' is 40000 instructions away, out of range for beq (-32768..32767)
    top:	beq a0, a1, top + 4*40000
        	            ^
prog.s:2:1: '.space' is not allowed in .text; reserve space in .data or .bss
    .space 0
    ^`},
		{"data value out of range", ".data\n\t.byte 1, 256\n", `
prog.s:2:11: value 256 out of range for .byte (-128..255)
    .byte 1, 256
             ^`},
		{"register where a value belongs", "\taddi a0, a1, a2\n", `
prog.s:1:15: expected a value, found register 'a2'; did you mean 'add'?
    addi a0, a1, a2
                 ^`},
		{"value where a register belongs", "\tadd a0, 42, a1\n", `
prog.s:1:10: expected a register, found '42'
    add a0, 42, a1
            ^`},
		{"misspelt register", "\tmov a0, sq\n", `
prog.s:1:10: unknown label 'sq'
    mov a0, sq
            ^`},
		{"misspelt register in a register slot", "\tneg a0, spp\n", `
prog.s:1:10: expected a register, found 'spp'; did you mean 'sp'?
    neg a0, spp
            ^`},
		{"label where memory belongs", "\tlw a0, buf\n", `
prog.s:1:9: expected a memory operand such as 8(sp), found 'buf'; to use a label's address, load it first: la t0, buf, then 0(t0)
    lw a0, buf
           ^`},
		{"label where a store's memory belongs, after a comment", "\tsd t0, buf   # keep it\n", `
prog.s:1:9: expected a memory operand such as 8(sp), found 'buf'; to use a label's address, load it first: la t1, buf, then 0(t1)
    sd t0, buf   # keep it
           ^`},
		{"no immediate form, after a comment", "\tdiv t0, t0, 10 ; tenths\n", `
prog.s:1:14: 'div' has no immediate form; load the value into a register first, as in li t1, 10
    div t0, t0, 10 ; tenths
                ^`},
		{"another machine's register", "\tmov a0, a7\n", `
prog.s:1:10: unknown label 'a7'; Spindle has no such register: its registers are a0 to a5, t0 to t3, s0 to s3, fp and sp
    mov a0, a7
            ^`},
		{"no immediate form", "\tdiv a0, a1, 10\n", `
prog.s:1:14: 'div' has no immediate form; load the value into a register first, as in li t0, 10
    div a0, a1, 10
                ^`},
		{"operand count", "\tadd a0, a1\n", `
prog.s:1:2: 'add' takes 3 operands (rA, rB, rC), found 2
    add a0, a1
    ^`},
		{"missing comma", "\tadd a0 a1, a2\n", `
prog.s:1:9: missing ',' before 'a1'
    add a0 a1, a2
           ^`},
		{"syntax error", "\tli a0, (1 + 2\n", `
prog.s:1:15: unexpected end of line; expected ')'
    li a0, (1 + 2
                 ^`},
		{"data branch target", "\tjmp msg\n.data\nmsg: .byte 0\n", `
prog.s:1:6: branch target 'msg' is a data address (0x10000000), not a code address
    jmp msg
        ^`},
		{"branch to the end of the text", "main:\tbge a0, a0, .done\n.done:\n", `
prog.s:1:19: branch target '.done' (0x00400004) is the end of the text, just past its last instruction; a branch must land on an instruction: put one after the label, such as halt
    main:	bge a0, a0, .done
         	            ^`},
		{"branch past the text", "\tjmp 0x00400100\n\thalt\n", `
prog.s:1:6: branch target '0x00400100' (0x00400100) is past the end of the text (the text holds 2, at 0x00400000 to 0x00400004)
    jmp 0x00400100
        ^`},
		{"main misspelt", "helper:\tret\nmian:\tcall helper\n\thalt\n", `
prog.s:2:1: no label 'main': the program would start at its first instruction, not at 'mian'; name it main, or say .entry mian
    mian:	call helper
    ^`},
		{"a register of RISC-V", "\tjr ra\n", `
prog.s:1:5: expected a register, found 'ra'; Spindle has no such register: call pushes the return address on the stack, and ret pops it (docs/assembly.md, Coming from MIPS or RISC-V)
    jr ra
       ^`},
		{"the zero register", "\tadd a0, a0, zero\n", `
prog.s:1:14: unknown label 'zero'; Spindle has no such register: for a zero, li t0, 0, and beqz or bnez to compare with zero (docs/assembly.md, Coming from MIPS or RISC-V)
    add a0, a0, zero
                ^`},
		{"unknown directive", "\t.tetx\n", `
prog.s:1:2: unknown directive '.tetx'; did you mean '.text'?
    .tetx
    ^`},
		{"directive in the wrong section", "\t.byte 1\n", `
prog.s:1:2: '.byte' is not allowed in .text, which holds instructions; put data in .data
    .byte 1
    ^`},
		{"instruction in data", ".data\n\tadd a0, a1, a2\n", `
prog.s:2:2: instruction 'add' in .data; instructions belong in .text
    add a0, a1, a2
    ^`},
		{"bad alignment", ".data\n.align 3\n", `
prog.s:2:8: .align needs a power of two from 1 to 65536; found 3
    .align 3
           ^`},
		{"size known too late", ".data\n.space N\n.equ N, 4\n", `
prog.s:2:8: 'N' must be defined above this line, since its value is needed to lay out the program
    .space N
           ^`},
		{"division by zero", "\tli a0, 1 / (2 - 2)\n", `
prog.s:1:11: division by zero in expression
    li a0, 1 / (2 - 2)
             ^`},
		{"cyclic .equ", ".equ A, B + 1\n.equ B, A\n\tli a0, A\n", `
prog.s:2:9: 'A' is defined in terms of itself
    .equ B, A
            ^`},
		{"unknown syscall", "\tsyscall wirte\n", `
prog.s:1:10: unknown syscall 'wirte'; did you mean 'write'?
    syscall wirte
            ^`},
		{"bad escape", ".data\n.ascii \"a\\qb\"\n", `
prog.s:2:10: unknown escape sequence '\q' (known: \n \t \r \0 \\ \" \' \xHH)
    .ascii "a\qb"
             ^`},
		{"unterminated string", ".data\n.ascii \"abc\n", `
prog.s:2:8: unterminated string (missing closing ")
    .ascii "abc
           ^`},
		{"stray character", "\tli a0, $5\n", `
prog.s:1:9: unexpected character '$'
    li a0, $5
           ^`},
		{"not UTF-8", "main:\n\tli a0, 'é' # caf\xe9\n", `
prog.s:2:18: invalid UTF-8 encoding (source must be UTF-8 text)
    li a0, 'é' # caf�
                    ^`},
		{"NUL byte", "\tnop\x00\n", `
prog.s:1:5: NUL byte in source (is this a binary file?)
    nop␀
       ^`},
		{"long line", "\tnop # " + strings.Repeat("ab", 2100) + "\n", `
prog.s:1:1: line is too long (4207 bytes; the limit is 4096)
    nop # ababababababababababababababababababababababababababa ...
    ^`},
		{"deep nesting", "\tli a0, " + strings.Repeat("(", 101) + "1" + strings.Repeat(")", 101) + "\n", `
prog.s:1:109: parentheses nested deeper than 100 levels
    li a0, ` + strings.Repeat("(", 101) + "1" + strings.Repeat(")", 101) + `
    ` + strings.Repeat(" ", 107) + `^`},
		{"recursive macro", ".macro again\n\tnop\n\tagain\n.endm\nmain:\tagain\n", `
prog.s:5:7: macros nested deeper than 64 levels (again -> again -> ...)
    main:	again
         	^`},
		{"macro parameter", ".macro m x\n\tli \\x, \\y\n.endm\n\tm a0\n", `
prog.s:2:9: unknown macro parameter '\y'; did you mean '\x'? (in macro 'm' used at prog.s:4)
    li \x, \y
           ^`},
		{"error inside an expansion", ".macro set r, v\n\taddi \\r, \\r, \\v\n.endm\n\tset a0, 1\n\tset a1, 99999\n", `
prog.s:2:15: immediate 99999 out of range for addi (-32768..32767) (in macro 'set' used at prog.s:5)
    addi a1, a1, 99999
                 ^`},
		{"macro arguments", ".macro m x, y\n.endm\n\tm 1\n", `
prog.s:3:2: macro 'm' takes 2 arguments (x, y), found 1
    m 1
    ^`},
		{"unclosed macro", ".macro m\n\tnop\n", `
prog.s:1:1: '.macro m' has no matching .endm
    .macro m
    ^`},
		{"include not found", "\t.include \"lib.s\"\n", `
prog.s:1:11: cannot include 'lib.s': file not found
    .include "lib.s"
             ^`},
		{"entry not code", ".entry msg\n.data\nmsg: .byte 0\n", `
prog.s:1:8: entry point 'msg' (0x10000000) is not the address of an instruction
    .entry msg
           ^`},
		{"escape sequence", "main: \x1b[31mret\n", `
prog.s:1:7: unexpected character U+001B
    main: ␛[31mret
          ^`},
		{"escape sequence in a name", "\t.include \"x\\x1b[2J.s\"\n\tsyscall \x1b\n", `
prog.s:1:11: cannot include 'x␛[2J.s': file not found
    .include "x\x1b[2J.s"
             ^
prog.s:2:10: unexpected character U+001B
    syscall ␛
            ^`},
		{"register as a label", "sp:\tnop\n", `
prog.s:1:1: 'sp' is a register; a label cannot have its name
    sp:	nop
    ^`},
		{"register as a local label's scope", "A1.x:\tnop\n", `
prog.s:1:1: 'A1' is a register; a label cannot have its name, nor a local label name it as its scope
    A1.x:	nop
    ^`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := assembleErrors(t, tc.src, nil).Error()
			if d := cmp.Diff(strings.Split(strings.TrimPrefix(tc.want, "\n"), "\n"), strings.Split(got, "\n")); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestEquChainMessages checks how a message names the chain of .equ names through which a value
// that layout needs is not known yet: its ends and a count, whatever its length.
func TestEquChainMessages(t *testing.T) {
	reason := "'later' must be defined above this line, since its value is needed to lay out the program"
	for n, via := range []string{
		"",
		" (through 'e1')",
		" (through 'e1' and 'e2')",
		" (through 'e1', 1 other name and 'e3')",
		" (through 'e1', 2 other names and 'e4')",
	} {
		src := "\t.data\n"
		for i := range n {
			src += fmt.Sprintf("\t.equ e%d, e%d\n", i, i+1)
		}
		src += fmt.Sprintf("\t.equ e%d, later\n\t.space e0\n\t.space e%d\nlater:\n", n, n)
		list := assembleErrors(t, src, nil)
		want := []string{fmt.Sprintf("%d:9: the value of 'e0' is not known here%s: %s", n+3, via, reason)}
		if d := cmp.Diff(want, shortErrors(list)); d != "" {
			t.Errorf("chain of %d (-want +got):\n%s", n+1, d)
		}
	}
}

// TestLongQuotes checks that a message quotes at most keepQuoted characters of a name or an
// expression from the source, and that the fixed words of the longest message are not cut.
func TestLongQuotes(t *testing.T) {
	list := assembleErrors(t, "main:\tjmp "+strings.Repeat("x", 4000)+"\n", nil)
	if want := fmt.Sprintf("unknown label '%s...'", strings.Repeat("x", keepQuoted)); list[0].Msg != want {
		t.Errorf("got %q, want %q", list[0].Msg, want)
	}
	// An operand of character literals has a quote every few bytes: no stretch between two is
	// long, and the message is cut as a whole, between characters.
	list = assembleErrors(t, "main:\tli a0 "+strings.Repeat("'\u00e9'+", 600)+"1\n", nil)
	if msg := list[0].Msg; len(msg) > maxMessage || !utf8.ValidString(msg) || !strings.HasPrefix(msg, "missing ',' before ''\u00e9'+'\u00e9'+") || !strings.HasSuffix(msg, "...") {
		t.Errorf("got a message of %d bytes: %q", len(msg), msg)
	}
	list = assembleErrors(t, "main:\tbge a0, a0, .done\n.done:\n", nil)
	if want := "branch target '.done' (0x00400004) is the end of the text, just past its last instruction; a branch must land on an instruction: put one after the label, such as halt"; list[0].Msg != want {
		t.Errorf("got %q, want %q", list[0].Msg, want)
	}
}

func TestErrorFields(t *testing.T) {
	list := assembleErrors(t, "main:\n\tadd a0, a1, 1\n\tadd a0, a1, x\n", nil)
	want := ErrorList{{
		Pos:    Pos{File: "prog.s", Line: 3, Col: 14},
		Msg:    "unknown label 'x'",
		Source: "\tadd a0, a1, x",
	}}
	if d := cmp.Diff(want, list); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{Pos{"a.s", 2, 5}, "bad", "    ad a0"}, "a.s:2:5: bad\n    ad a0\n    ^"},
		// A tab before the column stays a tab, so the caret lines up under the tab stop.
		{Error{Pos{"a.s", 2, 5}, "bad", "\tlw\tx, 1"}, "a.s:2:5: bad\n    lw\tx, 1\n      \t^"},
		// Columns count characters, not bytes.
		{Error{Pos{"a.s", 1, 5}, "bad", "'é' x"}, "a.s:1:5: bad\n    'é' x\n        ^"},
		// At the end of the line, as for "unexpected end of line".
		{Error{Pos{"a.s", 1, 4}, "bad", "nop"}, "a.s:1:4: bad\n    nop\n       ^"},
		// A column inside the indentation points at the first character shown.
		{Error{Pos{"a.s", 1, 1}, "bad", "\t\tnop"}, "a.s:1:1: bad\n    nop\n    ^"},
		{Error{Pos{"a.s", 0, 0}, "too many errors", ""}, "a.s: too many errors"},
		// Control characters and bytes that are not UTF-8 are shown, one character for one, so
		// that they do not reach the terminal and the caret stays under its column: in the
		// source line, and in the message, which may quote a name from it.
		{Error{Pos{"a.s", 1, 12}, "bad '\x1b[2J'", "main: \x1b[31mret\x9b x\xff"}, "a.s:1:12: bad '␛[2J'\n    main: ␛[31mret\ufffd x\ufffd\n               ^"},
		{Error{Pos{"a.s", 1, 7}, "bad", "\t\x1b\x07\t\x7fret"}, "a.s:1:7: bad\n    ␛␇\t␡ret\n      \t  ^"},
		{Error{Pos{"a.s", 3, 0}, "bad", ""}, "a.s:3: bad"},
	}
	for _, tc := range tests {
		if d := cmp.Diff(tc.want, tc.err.Error()); d != "" {
			t.Errorf("%+v (-want +got):\n%s", tc.err, d)
		}
	}
}

// shortErrors gives each error as "line:col: message".
func shortErrors(list ErrorList) []string {
	var s []string
	for _, e := range list {
		s = append(s, fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg))
	}
	return s
}

func TestAllErrorsReported(t *testing.T) {
	src := `main:
	ad a0, a1, a2
	li a0, 1 +
	addi a0, a1, 70000
	jmp nowhere
	.bytes 1
	li a0, "x"
	nop
`
	got := shortErrors(assembleErrors(t, src, nil))
	want := []string{
		"2:2: unknown instruction 'ad'; did you mean 'add'?",
		"3:12: unexpected end of line; expected a value",
		"4:15: immediate 70000 out of range for addi (-32768..32767)",
		"5:6: unknown label 'nowhere'",
		"6:2: unknown directive '.bytes'; did you mean '.byte'?",
		"7:9: expected a value, found a string",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestSuggestionsForShownErrorsOnly checks that a suggestion is looked for only for an error
// that may be reported: with each line compared with every label, a source of bad lines at the
// limits would take some 40 minutes. Errors come in passes, so the first error shown here, on
// line 1, is found after those on the lines below it, and must have its suggestion still.
func TestSuggestionsForShownErrorsOnly(t *testing.T) {
	calls := 0
	defer func(f func(string, []string) string) { closest = f }(closest)
	count := closest
	closest = func(name string, candidates []string) string {
		calls++
		return count(name, candidates)
	}
	src := "main:\tadd a0, tt0, a1\n" + strings.Repeat("\tad a0, a1, a2\n\tj mian\n", 1000)
	list := assembleErrors(t, src, nil)
	got := shortErrors(list[:4])
	want := []string{
		"1:15: expected a register, found 'tt0'; did you mean 't0'?",
		"2:2: unknown instruction 'ad'; did you mean 'add'?",
		"3:4: unknown label 'mian'; did you mean 'main'?",
		"4:2: unknown instruction 'ad'; did you mean 'add'?",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if len(list) != maxErrors+1 {
		t.Errorf("%d errors, want %d", len(list), maxErrors+1)
	}
	if calls > 2*maxErrors {
		t.Errorf("%d suggestions looked for, for %d errors shown of 2001", calls, maxErrors)
	}
}

func TestTooManyErrors(t *testing.T) {
	src := strings.Repeat("\tfoo\n", 25)
	list := assembleErrors(t, src, nil)
	if len(list) != maxErrors+1 {
		t.Fatalf("%d errors, want %d and a last one that says there are more", len(list), maxErrors+1)
	}
	for i, e := range list[:maxErrors] {
		if e.Pos.Line != i+1 {
			t.Errorf("error %d is on line %d, want %d", i, e.Pos.Line, i+1)
		}
	}
	if d := cmp.Diff(&Error{Pos: Pos{File: "prog.s"}, Msg: "too many errors"}, list[maxErrors]); d != "" {
		t.Errorf("last error (-want +got):\n%s", d)
	}
	// Exactly the limit: no summary.
	if list := assembleErrors(t, strings.Repeat("\tfoo\n", maxErrors), nil); len(list) != maxErrors {
		t.Errorf("%d errors, want %d", len(list), maxErrors)
	}
}

// TestTooManyErrorsNotForDuplicates checks that an error found twice, as by both passes, does
// not count as one too many.
func TestTooManyErrorsNotForDuplicates(t *testing.T) {
	a := newAssembler(nil)
	l := a.newLine(a.fileIndex("prog.s"), 1, "\tfoo")
	a.errorf(l, 2, "unknown instruction 'foo'")
	a.errorf(l, 2, "unknown instruction 'foo'")
	var list ErrorList
	if !errors.As(a.errorList("prog.s"), &list) || len(list) != 1 {
		t.Errorf("got %v, want one error", list)
	}
}

func TestRecursiveInclude(t *testing.T) {
	files := map[string][]byte{
		"prog.s":     []byte("main:\n\t.include \"lib/a.s\"\n"),
		"lib/a.s":    []byte("\tnop\n\t.include \"b.s\"\n"),
		"lib/b.s":    []byte("\t.include \"../lib/./a.s\"\n"),
		"self.s":     []byte("\t.include \"self.s\"\n\tnop\n"),
		"use_self.s": []byte("\t.include \"self.s\"\n"),
	}
	list := assembleErrors(t, string(files["prog.s"]), files)
	want := `lib/b.s:1:11: recursive .include of 'lib/a.s' (lib/a.s -> lib/b.s -> lib/a.s)
    .include "../lib/./a.s"
             ^`
	if d := cmp.Diff(want, list.Error()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	list = assembleErrors(t, string(files["use_self.s"]), files)
	want = `self.s:1:11: recursive .include of 'self.s' (self.s -> self.s)
    .include "self.s"
             ^`
	if d := cmp.Diff(want, list.Error()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// The main file included by itself.
	list = assembleErrors(t, "\t.include \"prog.s\"\n", nil)
	if d := cmp.Diff("recursive .include of 'prog.s' (prog.s -> prog.s)", list[0].Msg); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// TestRunawayMacros checks that macros that expand without end stop quickly with an error,
// whether they recurse deeply or multiply.
func TestRunawayMacros(t *testing.T) {
	// The lines that expansions make count against the limit of tokens: with fewer tokens, it
	// is passed before the limit of text is.
	fewTokens := maxSource
	fewTokens.tokens = 3 << 17
	tests := []struct {
		name, src, want string
		limits          sourceLimits
	}{
		{"two calls to itself", ".macro m\n\tm\n\tm\n.endm\n\tm\n",
			"macros nested deeper than 64 levels (m -> m -> ...)", maxSource},
		{"mutual", ".macro ping\n\tpong\n.endm\n.macro pong\n\tping\n.endm\n\tping\n",
			"macros nested deeper than 64 levels (ping -> pong -> ping -> ...)", maxSource},
		{"through another", ".macro outer\n\tinner\n.endm\n.macro inner\n\tinner\n.endm\n\touter\n",
			"macros nested deeper than 64 levels (outer -> inner -> inner -> ...)", maxSource},
		{"exponential", ".macro m0\n\tnop\n.endm\n" + exponentialMacros(20) + "\tm20\n",
			"macro expansions produce more than 1048576 bytes of text", maxSource},
		{"exponential, few tokens", ".macro m0\n\tnop\n.endm\n" + exponentialMacros(20) + "\tm20\n",
			"source has more than 393216 tokens (names, numbers, operators, commas and line ends), the limit with the files it includes and the macros it expands; the rest is not read", fewTokens},
		{"exponential, long lines", ".macro m0\n\tnop # " + strings.Repeat("-", 60) + "\n.endm\n" + exponentialMacros(20) + "\tm20\n",
			"macro expansions produce more than 1048576 bytes of text", fewTokens},
	}
	for _, tc := range tests {
		start := time.Now()
		list := assembleErrorsWithin(t, tc.src, nil, tc.limits)
		if d := cmp.Diff(tc.want, list[0].Msg); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, d)
		}
		if len(list) != 1 {
			t.Errorf("%s: %d errors, want 1:\n%v", tc.name, len(list), list)
		}
		// Generous, for slow machines and the race detector: a real runaway takes hours.
		if d := time.Since(start); d > 2*time.Minute {
			t.Errorf("%s took %v", tc.name, d)
		}
	}
}

// exponentialMacros defines m1..mN, each invoking the one before twice.
func exponentialMacros(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, ".macro m%d\n\tm%d\n\tm%d\n.endm\n", i, i-1, i-1)
	}
	return b.String()
}

func TestNestingLimit(t *testing.T) {
	ok := "\tli a0, " + strings.Repeat("(", maxParenDepth) + "7" + strings.Repeat(")", maxParenDepth) + "\n"
	if d := cmp.Diff([]string{"li a0, 7"}, textOf(assemble(t, ok))); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Nesting is counted per line, across operands.
	list := assembleErrors(t, "\tli a0, (((1)))\n\tli a0, "+strings.Repeat("(", 5000)+"\n", nil)
	if d := cmp.Diff("line is too long (5008 bytes; the limit is 4096)", list[0].Msg); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

// FuzzAssemble checks that no input makes the assembler panic or hang, that every error it
// reports has a position inside the source and a message of bounded length, and that what an
// input costs, in bytes allocated and in allocations, is within the bounds of checkCost: linear
// in the tokens it lexed, which the source's limits bound. It also checks that the generated
// lexer splits each line of the input as the rules' regular expressions do, and that the lines
// of one shape parse to the same form.
func FuzzAssemble(f *testing.F) {
	seeds := []string{
		"main:\n\tli a0, 1\n\tsyscall exit\n",
		".data\nmsg: .asciz \"hi\\n\"\n.text\nmain: la a1, msg\n",
		".macro m a\n\tadd \\a, \\a, 1\n.endm\n\tm a0\n",
		"\tli a0, ((1 + 2) * 3) << 4 | 'a'\n",
		"x: .equ N, 3\n.bss\n.align 8\nb: .space N\n",
		"\tbeq a0, a1, .\n.loc \"f\" 3\n\t.word 0xffffffff\n",
		"\t.byte 1" + strings.Repeat(",\xff", 2000) + "\n", // shown with a character of 3 bytes for each \xff
		equChainSource(20),
		longArgsSource(2),
		".macro m a\n\t.byte \\a,\\a,\\a,\\a\n.endm\n.data\n\tm " + strings.Repeat("(1)+", 500) + "1\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		sameTokensEveryLine(t, src)
		shapes := formsOfShape{byShape: map[string]formOutcome{}}
		for line := range strings.SplitSeq(string(src), "\n") {
			shapes.check(t, line)
		}
		files := map[string][]byte{"inc.s": []byte("\tnop\n")}
		c, img, err := assembleCostImage(t, src, &Options{ReadFile: mapReader(files)})
		checkCost(t, c)
		if err == nil {
			if len(img.Lines) != len(img.Text) {
				t.Fatalf("%d lines for %d instructions", len(img.Lines), len(img.Text))
			}
			return
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error %T is not a non-empty ErrorList: %v", err, err)
		}
		lines := strings.Count(string(src), "\n") + 1
		for _, e := range list {
			if e.Msg == "too many errors" {
				continue
			}
			if e.Pos.File == "prog.s" && (e.Pos.Line < 1 || e.Pos.Line > lines || e.Pos.Col < 1) {
				t.Fatalf("error outside the source: %v", e)
			}
		}
	})
}
