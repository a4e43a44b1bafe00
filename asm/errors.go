package asm

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spindle-vm/spindle/internal/quote"
	"github.com/spindle-vm/spindle/internal/suggest"
)

// Pos is a position in a source file.
type Pos struct {
	File string
	Line int // 1-based; 0 when the message concerns the whole file
	Col  int // 1-based, counted in characters; 0 when unknown
}

func (p Pos) String() string {
	switch {
	case p.Line <= 0:
		return p.File
	case p.Col <= 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// An Error is one problem found in the source.
type Error struct {
	Pos    Pos
	Msg    string
	Source string // the text of the line at Pos.Line, as the assembler read it
}

// Error formats the error in three lines: the position and message, the source line, and a caret
// under the column. The source and caret lines are indented by four spaces; the source line's
// own indentation is dropped so that the two stay short and aligned. Control characters and
// bytes that are not UTF-8, in the source line and in the names the message quotes from it, are
// shown as visible characters (quote.Line), one for one, so that a line such as
// "main: \x1b[31mret" cannot recolour the terminal and the caret stays under its column.
func (e *Error) Error() string {
	head := quote.Line(e.Pos.String() + ": " + e.Msg)
	if e.Pos.Line <= 0 || strings.TrimSpace(e.Source) == "" {
		return head
	}
	src, caret := caretLines(e.Source, e.Pos.Col)
	return head + "\n    " + src + "\n    " + caret
}

// caretLines returns the source line without its indentation, made safe to print, and a line
// with a caret under column col. A tab before the column stays a tab so that the caret lines up
// in a terminal.
func caretLines(source string, col int) (string, string) {
	shown := quote.Line(strings.TrimLeft(source, " \t"))
	skip := utf8.RuneCountInString(source) - utf8.RuneCountInString(shown)
	want := col - 1 - skip // characters of shown before the caret
	var b strings.Builder
	n := 0
	for _, r := range shown {
		if n >= want {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
		n++
	}
	for ; n < want; n++ {
		b.WriteByte(' ')
	}
	b.WriteByte('^')
	return shown, b.String()
}

// ErrorList is what Assemble returns when the source has errors: every error found, in source
// order, at most maxErrors of them followed by a "too many errors" entry.
type ErrorList []*Error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// maxErrors is how many errors are reported before the rest are summed up as "too many errors".
const maxErrors = 20

// asmDiag is an error with the order of its line in the expanded source, so that errors found in
// different passes can be reported in source order.
type asmDiag struct {
	seq int
	err *Error
}

// errorf records an error at column col of line l. For a line of a macro body the message
// names the macro and the line that expanded it, since the text shown is the expanded one.
//
// An error that cannot be among those reported is only counted: a source of 4 MiB can have an
// error for every two bytes, and each costs memory until the end.
func (a *assembler) errorf(l *srcLine, col int, format string, args ...any) {
	if !a.shown(l) {
		a.errorsDropped = true
		return
	}
	msg := fmt.Sprintf(format, args...)
	if l.exp != nil {
		msg += fmt.Sprintf(" (in macro '%s' used at %s:%d)", l.exp.macro, a.fileOf(l.exp.via), l.exp.via.num)
	}
	msg = clipMessage(msg)
	a.diags = append(a.diags, asmDiag{int(l.seq), &Error{
		Pos:    Pos{File: a.fileOf(l), Line: int(l.num), Col: col},
		Msg:    msg,
		Source: l.text,
	}})
	// Keep firstErrLines the maxErrors earliest lines with errors, in order.
	i, found := slices.BinarySearch(a.firstErrLines, int(l.seq))
	if !found && i < maxErrors {
		if len(a.firstErrLines) == maxErrors {
			a.firstErrLines = a.firstErrLines[:maxErrors-1]
		}
		a.firstErrLines = slices.Insert(a.firstErrLines, i, int(l.seq))
	}
}

// shown reports whether an error on line l may be among the maxErrors that errorList reports:
// whether fewer than maxErrors earlier lines have errors. Errors come in passes, and a later pass
// can find one on an earlier line, so the count of errors so far would not do. (errorList merges
// equal errors; two on different lines are equal only when they are the same line of a macro's
// body reached through the same line of another macro, and then a suggestion may be missing.)
func (a *assembler) shown(l *srcLine) bool {
	return l == nil || len(a.firstErrLines) < maxErrors || int(l.seq) <= a.firstErrLines[maxErrors-1]
}

// errorList returns the recorded errors in source order, or nil if there are none.
func (a *assembler) errorList(file string) error {
	if len(a.diags) == 0 {
		return nil
	}
	sort.SliceStable(a.diags, func(i, j int) bool {
		di, dj := a.diags[i], a.diags[j]
		if di.seq != dj.seq {
			return di.seq < dj.seq
		}
		return di.err.Pos.Col < dj.err.Pos.Col
	})
	var list ErrorList
	more := a.errorsDropped
	for i, d := range a.diags {
		if i > 0 && *d.err == *a.diags[i-1].err {
			continue // the same mistake seen twice, as by both passes
		}
		if len(list) == maxErrors {
			more = true
			break
		}
		list = append(list, d.err)
	}
	if more {
		list = append(list, &Error{Pos: Pos{File: file}, Msg: "too many errors"})
	}
	return list
}

// Messages quote names, operands and expressions from the source, which can be as long as a
// line; a message is cut to a length that a person can read and a terminal can show.
const (
	maxQuoted  = 200  // bytes of a stretch between quotes that is shown whole
	keepQuoted = 80   // characters kept of a longer one
	maxMessage = 1024 // bytes of a message
)

// clipMessage cuts each stretch of msg between single quotes that is longer than maxQuoted
// bytes to its first keepQuoted characters and "...", and then the whole to maxMessage bytes.
// The fixed words of every message are shorter than maxQuoted between two quotes, so that only
// what comes from the source is cut, whether or not its quotes pair up.
func clipMessage(msg string) string {
	if len(msg) <= maxQuoted {
		return msg
	}
	parts := strings.Split(msg, "'")
	for i, p := range parts {
		if len(p) > maxQuoted {
			parts[i] = cutRunes(p, keepQuoted) + "..."
		}
	}
	msg = strings.Join(parts, "'")
	if len(msg) > maxMessage {
		msg = cutBytes(msg, maxMessage-len("...")) + "..."
	}
	return msg
}

// cutRunes returns the first n characters of s.
func cutRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// cutBytes returns the longest start of s of at most n bytes that does not split a character.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// didYouMean formats a suggestion for a message about line l as its tail, or returns "" when
// there is none or the message will not be shown. A source of bad lines at the limits would
// otherwise compare each with every label: lines that each define a label and use an unknown
// one took 40 s for 8,192 of them, and would take some 40 minutes for 65,536, to print 20.
// candidates is called only when the suggestion is made.
func (a *assembler) didYouMean(l *srcLine, name string, candidates func() []string) string {
	if !a.shown(l) {
		return ""
	}
	return didYouMean(name, candidates())
}

// closest is suggest.Closest, in a variable so that a test can count the suggestions made.
var closest = suggest.Closest

// didYouMean formats a suggestion as the tail of a message.
func didYouMean(name string, candidates []string) string {
	if s := closest(name, candidates); s != "" {
		return fmt.Sprintf("; did you mean '%s'?", s)
	}
	return ""
}
