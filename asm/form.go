package asm

import (
	"github.com/alecthomas/participle/v2/lexer"
)

// Forms. Participle parses a line by reflection: it tries each alternative of the grammar in
// turn, allocating a branch of its state, a struct and a deferred assignment at each step, and
// keeps what succeeds. A line of a few tokens took some 13 KB of allocations, and parsing half
// of the assembler's time, the collection of that garbage most of the rest. But how a line
// parses depends only on the kinds of its tokens and on the punctuation and operators among
// them: "lw a0, 8(sp)" and "sw t1, -16(fp)" parse alike. So the assembler parses the first line
// of each such shape, and keeps the result as a form: the syntax tree with each name, number,
// operator and position replaced by the index of the token it came from. Every other line of
// that shape takes the form, and its own tokens fill it in. The 100,000 lines of
// BenchmarkAssembleLines have 20 shapes.
//
// A form is participle's parse, not a second parser: the tree is what participle built for a
// line of that shape, and TestFormsOfShape and FuzzAssemble check that every line of a shape
// parses to the same form.

// A form is the syntax of a statement, its tokens left out: each int is the index of a token.
type form struct {
	labels []int // the name of each label
	head   int   // the instruction, directive or macro name; -1 if there is none
	args   []formArg
}

// formArg is an operand: expr [ "(" expr ")" ] or a string.
type formArg struct {
	comma    bool // a comma came before it
	from, to int  // its tokens are from up to, not including, to
	str      int  // the string, or -1
	val      *formExpr
	base     *formExpr // the base of a memory operand, as in 8(sp)
}

// formExpr is an expression: a chain of unary expressions joined by binary operators, whose
// precedence is applied when it is built (buildExpr).
type formExpr struct {
	from, to int
	first    formUnary
	rest     []formBinary
}

type formBinary struct {
	op int // the operator
	x  formUnary
}

// formUnary is a primary after ops prefix operators, the tokens from from on.
type formUnary struct {
	from int
	ops  int
	x    formPrimary
}

type primaryKind uint8

const (
	primSym primaryKind = iota
	primNum
	primChar
	primDot
	primParen
)

// formPrimary is a name, a number, a character, "." or an expression in parentheses.
type formPrimary struct {
	kind  primaryKind
	tok   int // the token; for primParen, the "("
	paren *formExpr
}

// formCache holds the forms of the shapes seen so far in an assembly. It needs no limit of its
// own: every form in it was charged to MaxShapeTokens.
type formCache struct {
	byShape map[string]*form
	key     []byte
	labels  []*form // the forms of lines of n labels and nothing else
}

// shapeKey writes into k what a line's parse depends on: a byte for each token, its kind or,
// for punctuation and operators, its text ("<<" and ">>" as '<' and '>').
func shapeKey(k []byte, toks []lexer.Token) []byte {
	k = k[:0]
	for _, t := range toks {
		switch t.Type {
		case tokIdent:
			k = append(k, 'a')
		case tokNumber:
			k = append(k, '0')
		case tokString:
			k = append(k, '"')
		case tokChar:
			k = append(k, '\'')
		case tokPunct, tokOp:
			k = append(k, t.Value[0])
		case lexer.EOF:
			k = append(k, '$')
		default:
			// Only the tokens above reach the parser: checkTokens refuses the others.
			k = append(k, '?')
		}
	}
	return k
}

// formOf returns the form of line l, whose tokens are toks, ending with EOF. On a syntax error
// it returns a nil form, the column and a message. A line that participle parses is charged to
// the budget of MaxShapeTokens; when the budget runs out, formOf reports the line, stops the
// reading and returns false.
func (a *assembler) formOf(l *srcLine, toks []lexer.Token) (f *form, col int, msg string, ok bool) {
	c := &a.forms
	c.key = shapeKey(c.key, toks)
	if f := c.byShape[string(c.key)]; f != nil {
		return f, 0, "", true
	}
	a.shapeTokens += len(toks)
	if a.shapeTokens > a.limits.shapeTokens {
		a.cut(l, "source has more than %d tokens in lines unlike every line before them (in more than their names, numbers and strings) or with syntax errors, the limit with the files it includes and the macros it expands; the rest is not read", a.limits.shapeTokens)
		return nil, 0, "", false
	}
	st, col, msg := parseTokens(toks)
	if msg != "" {
		return nil, col, msg, true
	}
	f = newForm(st)
	if c.byShape == nil {
		c.byShape = map[string]*form{}
	}
	c.byShape[string(c.key)] = f
	return f, 0, "", true
}

// labelsForm returns the form of a line of n labels and no statement: a line whose statement is
// handled before parsing (a macro invocation, an .include) or did not parse.
func (a *assembler) labelsForm(n int) *form {
	c := &a.forms
	for len(c.labels) <= n {
		f := &form{head: -1}
		for i := range len(c.labels) {
			f.labels = append(f.labels, 2*i)
		}
		c.labels = append(c.labels, f)
	}
	return c.labels[n]
}

// newForm makes the form of a statement that participle parsed from toks. It walks the tree in
// the order the grammar consumed the tokens, counting them.
func newForm(st *stmtAST) *form {
	var w formWalk
	f := &form{head: -1}
	for range st.Labels {
		f.labels = append(f.labels, w.next)
		w.next += 2 // the name and ':'
	}
	if st.Op == nil {
		return f
	}
	f.head = w.take()
	for _, o := range st.Op.Args {
		fa := formArg{comma: o.Comma, str: -1}
		if o.Comma {
			w.take()
		}
		fa.from = w.next
		switch {
		case o.Str:
			fa.str = w.take()
		default:
			fa.val = w.expr(o.Val)
			if o.Base != nil {
				w.take() // (
				fa.base = w.expr(o.Base)
				w.take() // )
			}
		}
		fa.to = w.next
		f.args = append(f.args, fa)
	}
	return f
}

// formWalk counts the tokens of a statement as newForm walks its tree.
type formWalk struct {
	next int // the token after those counted
}

// take counts a token, and returns its index.
func (w *formWalk) take() int {
	w.next++
	return w.next - 1
}

func (w *formWalk) expr(e *exprAST) *formExpr {
	fe := &formExpr{from: w.next}
	fe.first = w.unary(e.First)
	for _, u := range e.Rest {
		fe.rest = append(fe.rest, formBinary{op: w.take(), x: w.unary(u)})
	}
	fe.to = w.next
	return fe
}

func (w *formWalk) unary(u *unaryAST) formUnary {
	fu := formUnary{from: w.next, ops: len(u.Ops)}
	w.next += len(u.Ops)
	fu.x.tok = w.take()
	switch {
	case u.Sym:
		fu.x.kind = primSym
	case u.Num:
		fu.x.kind = primNum
	case u.Char:
		fu.x.kind = primChar
	case u.Dot:
		fu.x.kind = primDot
	default:
		fu.x.kind, fu.x.paren = primParen, w.expr(u.Paren)
		w.take() // )
	}
	return fu
}

// bareSym returns the token of the identifier an expression consists of, if it is just one.
func (e *formExpr) bareSym() (int, bool) {
	if e == nil || len(e.rest) != 0 || e.first.ops != 0 || e.first.x.kind != primSym {
		return 0, false
	}
	return e.first.x.tok, true
}

// parenSym returns the token of the identifier of an expression that is one identifier in
// parentheses, as the base register of "(sp)".
func (e *formExpr) parenSym() (int, bool) {
	if e == nil || len(e.rest) != 0 || e.first.ops != 0 || e.first.x.kind != primParen {
		return 0, false
	}
	return e.first.x.paren.bareSym()
}

// span returns the text of tokens from up to, not including, to, as written on line.
func span(line string, toks []lexer.Token, from, to int) string {
	if to <= from {
		return ""
	}
	// From the first token to the end of the last: not to where the next token starts, which
	// for the last operand of a line is its end, a comment included.
	last := toks[to-1]
	lo, hi := toks[from].Pos.Offset, last.Pos.Offset+len(last.Value)
	if lo < 0 || hi > len(line) || lo > hi {
		return ""
	}
	return line[lo:hi]
}
