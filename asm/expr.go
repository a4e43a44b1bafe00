package asm

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"
)

// Constant expressions are 64-bit and wrap, like the machine's arithmetic. They are built from
// the parsed operator chain with C's precedence and evaluated when their symbols are known.

type exprKind uint8

const (
	exprNum    exprKind = iota // val
	exprSym                    // name: a label, an .equ name, or a register (an error)
	exprDot                    // the current address
	exprUnary                  // op x
	exprBinary                 // x op y
)

type exprNode struct {
	kind exprKind
	op   string
	val  int64
	name string
	x, y *exprNode
	col  int // of the number, symbol or operator
}

// exprNodes hands out the nodes of a statement's expressions from a block that the statements
// after it use again, so that an expression costs no allocation of its own.
type exprNodes struct {
	block []exprNode
}

// new returns a node that holds n.
func (p *exprNodes) new(n exprNode) *exprNode {
	if len(p.block) == cap(p.block) {
		p.block = make([]exprNode, 0, min(max(2*cap(p.block), 8), 256))
	}
	p.block = append(p.block, n)
	return &p.block[len(p.block)-1]
}

// reuse makes the nodes handed out since the last keep free to be handed out again: nothing
// refers to them any more.
func (p *exprNodes) reuse() { p.block = p.block[:0] }

// keep makes the nodes handed out so far the caller's for good: they are not reused.
func (p *exprNodes) keep() { p.block = p.block[len(p.block):] }

// binaryPrec gives C's precedence of the binary operators; higher binds tighter.
var binaryPrec = map[string]int{
	"*": 6, "/": 6, "%": 6,
	"+": 5, "-": 5,
	"<<": 4, ">>": 4,
	"&": 3,
	"^": 2,
	"|": 1,
}

// colError is a problem at a column of the line being worked on, or of line when it is set (an
// .equ's own line, for a mistake in its expression). An empty msg means the problem has been
// reported already.
type colError struct {
	col  int
	msg  string
	line *srcLine
	// The .equ names that a value layout needs depends on, when msg is about what they
	// depend on.
	chain *equChain
}

// message is the error's message.
func (e *colError) message() string {
	if e.chain != nil {
		return e.chain.message(e.msg)
	}
	return e.msg
}

// buildExpr turns a parsed chain "u0 op1 u1 op2 u2 ..." into a tree by operator precedence,
// with two stacks instead of a recursive descent, so that a chain of any length costs no
// recursion. Operators of equal precedence associate to the left. toks are the tokens of the
// line that e is the form of.
func buildExpr(e *formExpr, toks []lexer.Token, nodes *exprNodes) (*exprNode, *colError) {
	first, err := buildUnary(&e.first, toks, nodes)
	if err != nil {
		return nil, err
	}
	if len(e.rest) == 0 {
		return first, nil
	}
	vals := []*exprNode{first}
	var ops []*lexer.Token
	reduce := func() {
		op := ops[len(ops)-1]
		ops = ops[:len(ops)-1]
		x, y := vals[len(vals)-2], vals[len(vals)-1]
		vals = vals[:len(vals)-2]
		vals = append(vals, nodes.new(exprNode{kind: exprBinary, op: op.Value, x: x, y: y, col: op.Pos.Column}))
	}
	for i := range e.rest {
		b := &e.rest[i]
		op := &toks[b.op]
		if _, ok := binaryPrec[op.Value]; !ok {
			return nil, &colError{col: op.Pos.Column, msg: fmt.Sprintf("unexpected '%s'", op.Value)}
		}
		for len(ops) > 0 && binaryPrec[ops[len(ops)-1].Value] >= binaryPrec[op.Value] {
			reduce()
		}
		y, err := buildUnary(&b.x, toks, nodes)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
		vals = append(vals, y)
	}
	for len(ops) > 0 {
		reduce()
	}
	return vals[0], nil
}

func buildUnary(u *formUnary, toks []lexer.Token, nodes *exprNodes) (*exprNode, *colError) {
	n, err := buildPrimary(&u.x, toks, nodes)
	if err != nil {
		return nil, err
	}
	col := toks[u.from].Pos.Column
	ops := toks[u.from : u.from+u.ops]
	for i, op := range ops {
		if op.Value != "-" && op.Value != "~" && op.Value != "+" {
			return nil, &colError{col: col + i, msg: fmt.Sprintf("unexpected '%s'", op.Value)}
		}
	}
	for i := len(ops) - 1; i >= 0; i-- {
		if ops[i].Value == "+" {
			continue
		}
		n = nodes.new(exprNode{kind: exprUnary, op: ops[i].Value, x: n, col: col + i})
	}
	return n, nil
}

func buildPrimary(p *formPrimary, toks []lexer.Token, nodes *exprNodes) (*exprNode, *colError) {
	t := &toks[p.tok]
	col := t.Pos.Column
	switch p.kind {
	case primNum:
		v, msg := parseNumber(t.Value)
		if msg != "" {
			return nil, &colError{col: col, msg: msg}
		}
		return nodes.new(exprNode{kind: exprNum, val: v, col: col}), nil
	case primChar:
		v, err := parseChar(t.Value, col)
		if err != nil {
			return nil, err
		}
		return nodes.new(exprNode{kind: exprNum, val: v, col: col}), nil
	case primSym:
		return nodes.new(exprNode{kind: exprSym, name: t.Value, col: col}), nil
	case primDot:
		return nodes.new(exprNode{kind: exprDot, col: col}), nil
	}
	return buildExpr(p.paren, toks, nodes)
}

// parseNumber reads a decimal, 0x hexadecimal, 0b binary or 0o octal number, with optional _
// separators. Numbers up to 2^64-1 are accepted and wrap to the signed 64-bit value with the
// same bits, so that 0xffffffffffffffff is -1.
func parseNumber(s string) (int64, string) {
	digits, base := s, 10
	if len(s) > 1 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			digits, base = s[2:], 16
		case 'b', 'B':
			digits, base = s[2:], 2
		case 'o', 'O':
			digits, base = s[2:], 8
		}
	}
	clean := strings.ReplaceAll(digits, "_", "")
	if clean == "" || strings.HasPrefix(digits, "_") && base == 10 {
		return 0, fmt.Sprintf("invalid number '%s'", s)
	}
	u, err := strconv.ParseUint(clean, base, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, fmt.Sprintf("number '%s' does not fit in 64 bits", s)
		}
		what := map[int]string{2: "binary", 8: "octal", 10: "decimal", 16: "hexadecimal"}[base]
		return 0, fmt.Sprintf("invalid %s number '%s'", what, s)
	}
	return int64(u), ""
}

// unescape decodes a string or character literal, quotes included, that starts at column col.
// An error points at the offending escape.
func unescape(lit string, col int) ([]byte, *colError) {
	body := lit[1 : len(lit)-1]
	out := make([]byte, 0, len(body))
	c := col + 1
	for i := 0; i < len(body); {
		r, size := utf8.DecodeRuneInString(body[i:])
		if r != '\\' {
			out = append(out, body[i:i+size]...)
			i += size
			c++
			continue
		}
		if i+1 >= len(body) {
			return nil, &colError{col: c, msg: "unfinished escape sequence"}
		}
		e := body[i+1]
		switch e {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case '0':
			out = append(out, 0)
		case '\\', '"', '\'':
			out = append(out, e)
		case 'x':
			if i+4 > len(body) || !isHex(body[i+2]) || !isHex(body[i+3]) {
				return nil, &colError{col: c, msg: `\x needs two hexadecimal digits, as in \x1b`}
			}
			v, _ := strconv.ParseUint(body[i+2:i+4], 16, 8)
			out = append(out, byte(v))
			i += 4
			c += 4
			continue
		default:
			er, _ := utf8.DecodeRuneInString(body[i+1:])
			return nil, &colError{col: c, msg: fmt.Sprintf(`unknown escape sequence '\%c' (known: \n \t \r \0 \\ \" \' \xHH)`, er)}
		}
		i += 2
		c += 2
	}
	return out, nil
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

// parseChar reads a character literal: one character or one escape. Its value is the
// character's code point, or the byte an escape stands for.
func parseChar(lit string, col int) (int64, *colError) {
	body := lit[1 : len(lit)-1]
	if body == "" {
		return 0, &colError{col: col, msg: "empty character literal"}
	}
	if body[0] == '\\' {
		b, err := unescape(lit, col)
		if err != nil {
			return 0, err
		}
		if len(b) != 1 {
			return 0, &colError{col: col, msg: fmt.Sprintf("character literal %s holds more than one character; use a string", lit)}
		}
		return int64(b[0]), nil
	}
	r, size := utf8.DecodeRuneInString(body)
	if size != len(body) {
		return 0, &colError{col: col, msg: fmt.Sprintf("character literal %s holds more than one character; use a string", lit)}
	}
	return int64(r), nil
}

// evalEnv is what an expression's symbols and "." mean where it is evaluated.
type evalEnv struct {
	line  *srcLine
	scope string // the global label that local names belong to
	dot   func() (int64, *colError)
	// early is set during layout, when sizes are computed: only what is defined above the line
	// is known then, and the addresses in .bss are not known at all.
	early bool
}

// eval computes the value of n. Errors are reported and make ok false.
func (a *assembler) eval(n *exprNode, env *evalEnv) (int64, bool) {
	v, err := a.evalNode(n, env)
	if err != nil {
		a.report(env.line, err)
		return 0, false
	}
	return v, true
}

// report records err, found while working on line l.
func (a *assembler) report(l *srcLine, err *colError) {
	if err.msg == "" {
		return
	}
	if err.line != nil {
		l = err.line
	}
	a.errorf(l, err.col, "%s", err.message())
}

func (a *assembler) evalNode(n *exprNode, env *evalEnv) (int64, *colError) {
	switch n.kind {
	case exprNum:
		return n.val, nil
	case exprDot:
		v, err := env.dot()
		if err != nil {
			err.col = n.col
		}
		return v, err
	case exprSym:
		return a.symbolValue(n.name, n.col, env)
	case exprUnary:
		x, err := a.evalNode(n.x, env)
		if err != nil {
			return 0, err
		}
		if n.op == "-" {
			return -x, nil
		}
		return ^x, nil
	}
	x, err := a.evalNode(n.x, env)
	if err != nil {
		return 0, err
	}
	y, err := a.evalNode(n.y, env)
	if err != nil {
		return 0, err
	}
	switch n.op {
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	case "/", "%":
		if y == 0 {
			return 0, &colError{col: n.col, msg: "division by zero in expression"}
		}
		if n.op == "/" {
			return x / y, nil // Go defines MinInt64 / -1 as MinInt64: it wraps, no panic
		}
		return x % y, nil
	case "<<", ">>":
		if uint64(y) > 63 {
			return 0, &colError{col: n.col, msg: fmt.Sprintf("shift count %d out of range (0..63)", y)}
		}
		if n.op == "<<" {
			return x << y, nil
		}
		return x >> y, nil
	case "&":
		return x & y, nil
	case "^":
		return x ^ y, nil
	case "|":
		return x | y, nil
	}
	return 0, &colError{col: n.col, msg: fmt.Sprintf("unknown operator '%s'", n.op)}
}

// isSingleSym reports whether the expression is one symbol, and returns it.
func (n *exprNode) isSingleSym() (string, bool) {
	if n != nil && n.kind == exprSym {
		return n.name, true
	}
	return "", false
}
