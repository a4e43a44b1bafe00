package debugger

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/vm"
)

// Expressions, as print, display, set, x and break ... if take them: 64-bit integers, with
//
//   - numbers in decimal, hex (0x), binary (0b) or octal (0o), and characters ('a', '\n');
//   - registers by name or alias, with or without $ (a0, $sp, pc): pc, sp and fp are the
//     selected frame's (see frames.go), the others the thread's;
//   - labels, which stand for their addresses (main, buf, .loop in the current function);
//   - *EXPR, the 8 bytes of memory at EXPR; and the operators of C:
//     unary - ~ !, then * / %, + -, << >>, < <= > >=, == !=, &, ^, |, &&, ||.
//
// Comparisons are signed; / and % are signed, and refuse a zero divisor.

type exprParser struct {
	s   *Session
	t   *vm.Thread
	src string
	pos int
}

// eval evaluates src for thread t.
func (s *Session) eval(src string, t *vm.Thread) (uint64, error) {
	p := &exprParser{s: s, t: t, src: src}
	v, err := p.binary(0)
	if err != nil {
		return 0, err
	}
	p.space()
	if p.pos < len(p.src) {
		return 0, p.errorf("unexpected %q", p.src[p.pos:])
	}
	return v, nil
}

func (p *exprParser) errorf(format string, a ...any) error {
	return fmt.Errorf("in %q: %s", p.src, fmt.Sprintf(format, a...))
}

func (p *exprParser) space() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// binops are the binary operators by precedence, lowest first; longer spellings come first
// within a level so that "<<" is not read as "<".
var binops = [][]string{
	{"||"}, {"&&"}, {"|"}, {"^"}, {"&"}, {"==", "!="}, {"<=", ">=", "<", ">"}, {"<<", ">>"},
	{"+", "-"}, {"*", "/", "%"},
}

func (p *exprParser) binary(level int) (uint64, error) {
	if level == len(binops) {
		return p.unary()
	}
	x, err := p.binary(level + 1)
	if err != nil {
		return 0, err
	}
	for {
		p.space()
		op := ""
		for _, o := range binops[level] {
			if strings.HasPrefix(p.src[p.pos:], o) && !p.longer(o) {
				op = o
				break
			}
		}
		if op == "" {
			return x, nil
		}
		p.pos += len(op)
		y, err := p.binary(level + 1)
		if err != nil {
			return 0, err
		}
		if x, err = p.apply(op, x, y); err != nil {
			return 0, err
		}
	}
}

// longer reports whether the operator o at pos is the start of a longer one of a level
// below: "|" of "||", "&" of "&&", "<" of "<<".
func (p *exprParser) longer(o string) bool {
	rest := p.src[p.pos+len(o):]
	switch o {
	case "|", "&":
		return strings.HasPrefix(rest, o)
	case "<", ">":
		return strings.HasPrefix(rest, o) || strings.HasPrefix(rest, "=")
	}
	return false
}

func flag(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (p *exprParser) apply(op string, x, y uint64) (uint64, error) {
	sx, sy := int64(x), int64(y)
	switch op {
	case "||":
		return flag(x != 0 || y != 0), nil
	case "&&":
		return flag(x != 0 && y != 0), nil
	case "|":
		return x | y, nil
	case "^":
		return x ^ y, nil
	case "&":
		return x & y, nil
	case "==":
		return flag(x == y), nil
	case "!=":
		return flag(x != y), nil
	case "<":
		return flag(sx < sy), nil
	case "<=":
		return flag(sx <= sy), nil
	case ">":
		return flag(sx > sy), nil
	case ">=":
		return flag(sx >= sy), nil
	case "<<":
		return x << (y & 63), nil
	case ">>":
		return uint64(sx >> (y & 63)), nil
	case "+":
		return x + y, nil
	case "-":
		return x - y, nil
	case "*":
		return x * y, nil
	}
	if y == 0 {
		return 0, p.errorf("division by zero")
	}
	if op == "/" {
		if sx == -1<<63 && sy == -1 {
			return x, nil
		}
		return uint64(sx / sy), nil
	}
	if sx == -1<<63 && sy == -1 {
		return 0, nil
	}
	return uint64(sx % sy), nil
}

func (p *exprParser) unary() (uint64, error) {
	p.space()
	if p.pos >= len(p.src) {
		return 0, p.errorf("an operand is missing at the end")
	}
	switch c := p.src[p.pos]; c {
	case '-', '~', '!', '*':
		p.pos++
		v, err := p.unary()
		if err != nil {
			return 0, err
		}
		switch c {
		case '-':
			return -v, nil
		case '~':
			return ^v, nil
		case '!':
			return flag(v == 0), nil
		}
		return p.load(v)
	case '(':
		p.pos++
		v, err := p.binary(0)
		if err != nil {
			return 0, err
		}
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != ')' {
			return 0, p.errorf("a ) is missing")
		}
		p.pos++
		return v, nil
	case '\'':
		return p.char()
	}
	return p.primary()
}

// load reads the 8 bytes at addr in the thread's process.
func (p *exprParser) load(addr uint64) (uint64, error) {
	var b [8]byte
	if err := p.t.Proc.ReadMemory(addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b[:]), nil
}

func (p *exprParser) char() (uint64, error) {
	end := strings.IndexByte(p.src[p.pos+1:], '\'')
	if end < 0 {
		return 0, p.errorf("a character is not closed with '")
	}
	lit := p.src[p.pos : p.pos+end+2]
	p.pos += end + 2
	if lit == `'\'` && strings.HasPrefix(p.src[p.pos:], "'") { // '\''
		lit, p.pos = `'\''`, p.pos+1
	}
	r, _, tail, err := strconv.UnquoteChar(lit[1:len(lit)-1], '\'')
	if err != nil || tail != "" {
		return 0, p.errorf("%s is not a character", lit)
	}
	return uint64(r), nil
}

func isWord(c byte) bool {
	return c == '_' || c == '.' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func (p *exprParser) primary() (uint64, error) {
	start := p.pos
	for p.pos < len(p.src) && isWord(p.src[p.pos]) {
		p.pos++
	}
	word := p.src[start:p.pos]
	if word == "" {
		return 0, p.errorf("unexpected %q", p.src[p.pos:p.pos+1])
	}
	if c := word[0]; '0' <= c && c <= '9' {
		v, err := strconv.ParseUint(strings.ReplaceAll(word, "_", ""), 0, 64)
		if err != nil {
			return 0, p.errorf("%s is not a number", word)
		}
		return v, nil
	}
	if v, ok := p.s.register(p.t, strings.TrimPrefix(word, "$")); ok {
		return v, nil
	}
	if a, ok := p.s.label(word, p.t); ok {
		return a, nil
	}
	return 0, p.errorf("no register or label is named %s", word)
}

// register returns the value of the register named name (a number, a name or an alias, or
// pc) in thread t, or in its selected frame.
func (s *Session) register(t *vm.Thread, name string) (uint64, bool) {
	if v, ok := s.frameReg(t, name); ok {
		return v, true
	}
	if name == "pc" {
		return t.PCAddr(), true
	}
	if r, ok := isa.ParseReg(name); ok {
		return t.R[r], true
	}
	return 0, false
}

// label returns the address of a label: its full name, or a local one (.loop) of the function
// t is in, in its selected frame.
func (s *Session) label(name string, t *vm.Thread) (uint64, bool) {
	p := s.m.Process()
	if t != nil {
		p = t.Proc
	}
	if strings.HasPrefix(name, ".") && t != nil {
		if f := s.frameOf(t); f.Func != "" {
			if a, ok := p.Lookup(f.Func + name); ok {
				return a, true
			}
		}
	}
	return p.Lookup(name)
}
