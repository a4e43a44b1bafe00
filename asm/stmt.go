package asm

import (
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
)

// A stmt is a line's statement as a pass over the lines sees it. Layout and encoding each build
// it again from the line's text and form: lexing a line again costs less than keeping what its
// statement is made of, a few hundred bytes for each line of a source of a million.
type stmt struct {
	*srcLine
	toks   []lexer.Token // the line's tokens
	opName string        // the instruction or directive, as written
	name   string        // in lower case
	nargs  int           // the operands in the syntax
	args   []operand     // the operands built, for buildOperands
	data   []byte        // the bytes of .ascii and friends, for stringData
	nodes  exprNodes     // the operands' expressions
}

// statement makes l the statement of line, whose form has been found, for a pass over the lines.
// The tokens, operands, data and expressions of the statement before are overwritten, but for
// the expressions that it kept (exprNodes.keep).
func (a *assembler) statement(l *stmt, line *srcLine) {
	a.toks = lexLineTokens(a.toks[:0], line.text)
	l.nodes.reuse()
	*l = stmt{srcLine: line, toks: a.toks, args: l.args[:0], data: l.data[:0], nodes: l.nodes}
	if f := line.form; f.head >= 0 {
		l.opName = l.toks[f.head].Value
		l.name = strings.ToLower(l.opName)
		l.nargs = len(f.args)
	}
}
