package asm

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/spindle-vm/spindle/isa"
)

// Layout: the first pass over the statements. It checks each statement's name and operands,
// gives it its place in its section, and defines the labels and .equ names. Every statement's
// size follows from its text, so the layout never waits for a value that comes later; only
// .space and .align need a value, and it must be known where they stand.

type section uint8

const (
	secText section = iota
	secData
	secBSS
	numSections
)

var sectionNames = [numSections]string{".text", ".data", ".bss"}

func (s section) String() string { return sectionNames[s] }

// Size limits, so that a mistaken .space or an expansion run wild cannot exhaust the host's
// memory. They are far beyond what a program written by hand needs. The .bss costs the
// assembler nothing, so its limit only keeps addresses sane; the VM has its own memory limit.
const (
	maxTextLen  = 1 << 22  // instructions: 16 MiB of code
	maxDataSize = 64 << 20 // bytes of .data
	maxBSSSize  = 1 << 30  // bytes of .bss
	maxAlign    = 1 << 16
)

// asmSymbol is a label or an .equ name.
type asmSymbol struct {
	name  string // full name: a local label is "scope.name"
	label bool
	sec   section // a label's section, or where an .equ stands (for ".")
	off   uint64
	line  *srcLine
	col   int

	// An .equ's value is computed when it is first needed, so that it may refer to labels
	// defined after it. Its expression is built again from the line then (equExpr).
	scope string
	state uint8 // equNew, equBusy, equDone, equFailed
	val   int64
}

const (
	equNew uint8 = iota
	equBusy
	equDone
	equFailed
)

// operandKind is what an operand is, as far as the syntax tells.
type operandKind uint8

const (
	argReg operandKind = iota // a0
	argImm                    // an expression
	argMem                    // expr(reg) or (reg)
	argStr                    // "text"
)

type operand struct {
	kind operandKind
	reg  int
	x    *exprNode // the expression, or the offset of a memory operand (nil for "(reg)")
	lit  string    // a string literal, quotes included
	col  int
	text string // as written
}

// The directives, for validation and for suggestions.
var directiveNames = []string{
	".align", ".ascii", ".asciz", ".bss", ".byte", ".data", ".endm", ".entry", ".equ",
	".global", ".globl", ".half", ".include", ".loc", ".macro", ".quad", ".set", ".space",
	".string", ".text", ".word", ".zero",
}

func isDirective(name string) bool {
	i := sort.SearchStrings(directiveNames, strings.ToLower(name))
	return i < len(directiveNames) && directiveNames[i] == strings.ToLower(name)
}

// layout runs the first pass.
func (a *assembler) layout() {
	var l stmt
	for line := range a.lines.statements {
		a.statement(&l, line)
		for _, i := range line.form.labels {
			a.defineLabel(line, l.toks[i])
		}
		line.scope = a.scopeIdx
		line.sec, line.off = a.sec, uint32(a.here())
		if line.failed || line.form.head < 0 {
			continue
		}
		if !a.buildOperands(&l) {
			line.bad = true
		}
		if strings.HasPrefix(l.name, ".") {
			a.layoutDirective(&l)
		} else {
			a.layoutInstr(&l)
		}
	}
	// .bss follows .data directly. If .bss asks for an alignment, .data is padded so that the
	// alignment holds for the addresses and not only for offsets within .bss.
	if a.bssAlign > 1 {
		a.dataLen = alignUp(a.dataLen, a.bssAlign)
	}
	a.laidOut = true
}

func alignUp(n, align uint64) uint64 { return (n + align - 1) &^ (align - 1) }

// here is the offset of the next byte or instruction in the current section.
func (a *assembler) here() uint64 {
	switch a.sec {
	case secText:
		return a.textLen
	case secData:
		return a.dataLen
	}
	return a.bssLen
}

// addrOf returns the address of offset off in section sec. Addresses in .bss are known only
// once .data is complete.
func (a *assembler) addrOf(sec section, off uint64) (int64, bool) {
	switch sec {
	case secText:
		return int64(isa.CodeAddr(int(off))), true
	case secData:
		return int64(isa.DataBase + off), true
	}
	if !a.laidOut {
		return 0, false
	}
	return int64(isa.DataBase + a.dataLen + off), true
}

// defineLabel defines a label at the current place. A plain name is global and opens a scope;
// ".name" is local to the current scope; "scope.name" names a local label of any scope.
func (a *assembler) defineLabel(l *srcLine, lb lexer.Token) {
	name, col := lb.Value, lb.Pos.Column
	full := name
	switch dots := strings.Count(name, "."); {
	case strings.HasPrefix(name, ".") && dots == 1:
		if isDirective(name) {
			a.errorf(l, col, "'%s' is a directive; a label cannot have its name", name)
			return
		}
		if a.scope == "" {
			a.errorf(l, col, "local label '%s' has no global label before it to belong to", name)
			return
		}
		full = a.scope + name
	case dots == 1 && !strings.HasPrefix(name, "."):
		// A qualified local label: it names a local label explicitly and leaves the scope alone.
		// Its scope is a global label's name, and so cannot be a register's either.
		if scope, _, _ := strings.Cut(name, "."); isa.IsRegName(scope) {
			a.errorf(l, col, "'%s' is a register; a label cannot have its name, nor a local label name it as its scope", scope)
			return
		}
	case dots > 1:
		a.errorf(l, col, "invalid label name '%s' (a local label is .name, or scope.name)", name)
		return
	default:
		if isa.IsRegName(name) {
			a.errorf(l, col, "'%s' is a register; a label cannot have its name", name)
			return
		}
		a.scope = name
		a.scopes = append(a.scopes, name)
		a.scopeIdx = uint32(len(a.scopes) - 1)
	}
	if old := a.syms[full]; old != nil {
		a.errorf(l, col, "duplicate label '%s'; first defined at %s:%d", full, a.fileOf(old.line), old.line.num)
		return
	}
	a.syms[full] = &asmSymbol{name: full, label: true, sec: a.sec, off: a.here(), line: l, col: col}
}

// buildOperands checks the commas between a statement's operands and turns each into an
// operand.
func (a *assembler) buildOperands(l *stmt) bool {
	ok := true
	for i := range l.form.args {
		arg := &l.form.args[i]
		col := l.toks[arg.from].Pos.Column
		switch {
		case i == 0 && arg.comma:
			a.errorf(l.srcLine, col-1, "unexpected ','")
			ok = false
		case i > 0 && !arg.comma && !(l.name == ".loc" && i == 1):
			a.errorf(l.srcLine, col, "missing ',' before '%s'", span(l.text, l.toks, arg.from, arg.to))
			ok = false
		}
		op, err := buildOperand(arg, l.toks, l.text, &l.nodes)
		if err != nil {
			a.errorf(l.srcLine, err.col, "%s", err.msg)
			ok = false
			continue
		}
		l.args = append(l.args, op)
	}
	return ok
}

// buildOperand makes the operand that o's tokens, toks of line, spell.
func buildOperand(o *formArg, toks []lexer.Token, line string, nodes *exprNodes) (operand, *colError) {
	op := operand{col: toks[o.from].Pos.Column, text: span(line, toks, o.from, o.to)}
	switch {
	case o.str >= 0:
		op.kind, op.lit = argStr, toks[o.str].Value
		if o.base != nil {
			return op, &colError{col: toks[o.base.from].Pos.Column, msg: "unexpected '(' after a string"}
		}
		return op, nil
	case o.base != nil:
		r, ok := o.base.bareSym()
		if ok {
			op.reg, ok = isa.ParseReg(toks[r].Value)
		}
		if !ok {
			return op, &colError{col: toks[o.base.from].Pos.Column, msg: fmt.Sprintf("expected a base register in parentheses, as in 8(sp); found '%s'", span(line, toks, o.base.from, o.base.to))}
		}
		op.kind = argMem
		x, err := buildExpr(o.val, toks, nodes)
		op.x = x
		return op, err
	}
	if i, ok := o.val.bareSym(); ok {
		if r, ok := isa.ParseReg(toks[i].Value); ok {
			op.kind, op.reg = argReg, r
			return op, nil
		}
	}
	if i, ok := o.val.parenSym(); ok {
		if r, ok := isa.ParseReg(toks[i].Value); ok {
			op.kind, op.reg = argMem, r
			return op, nil
		}
	}
	x, err := buildExpr(o.val, toks, nodes)
	op.kind, op.x = argImm, x
	return op, err
}

// layoutInstr places an instruction in .text.
func (a *assembler) layoutInstr(l *stmt) {
	if a.sec != secText {
		a.errorf(l.srcLine, int(l.headCol), "instruction '%s' in %s; instructions belong in .text", l.opName, a.sec)
		l.bad = true
		return
	}
	size := uint64(1)
	if l.name == "push" || l.name == "pop" {
		size = uint64(l.nargs)
	}
	if _, ok := isa.Lookup(l.name); !ok && !pseudoOps[l.name] {
		name := l.opName
		hint := a.didYouMean(l.srcLine, name, func() []string { return append(mnemonics(), a.macroNames()...) })
		a.errorf(l.srcLine, int(l.headCol), "%s", unknownInstrMessage(name, l.nargs, hint))
		l.bad = true
	}
	// Even a wrong instruction takes its place, so that it does not move the labels after it
	// and cause more errors, such as a label at the end of the text that should not be there.
	a.place(l, size)
}

// unknownInstrMessage is the message for an unknown instruction, with hint, a suggestion from
// didYouMean, or "".
func unknownInstrMessage(name string, nargs int, hint string) string {
	msg := fmt.Sprintf("unknown instruction '%s'", name)
	if hint != "" {
		return msg + hint
	}
	if nargs == 0 && !strings.HasPrefix(name, ".") {
		return msg + fmt.Sprintf(" (a label needs a colon: '%s:')", name)
	}
	return msg
}

// mnemonics lists the instructions and pseudo-instructions, for suggestions.
func mnemonics() []string {
	var names []string
	for _, in := range isa.Table {
		if in.Op != isa.ILLEGAL {
			names = append(names, in.Name)
		}
	}
	for p := range pseudoOps {
		if _, ok := isa.Lookup(p); !ok {
			names = append(names, p)
		}
	}
	return names
}

func (a *assembler) macroNames() []string {
	var names []string
	for _, m := range a.macros {
		names = append(names, m.name)
	}
	return names
}

// place gives a statement of size units its offset in the current section. The limits of the
// sections are below 2^32, so that a line's offset and size take 32 bits.
func (a *assembler) place(l *stmt, size uint64) {
	off := a.here()
	l.sec, l.off, l.size = a.sec, uint32(off), 0
	limit := [numSections]uint64{maxTextLen, maxDataSize, maxBSSSize}[a.sec]
	if off+size > limit || off+size < off {
		if !a.tooLarge[a.sec] {
			unit := "bytes"
			if a.sec == secText {
				unit = "instructions"
			}
			a.errorf(l.srcLine, int(l.headCol), "%s grows past its limit of %d %s", a.sec, limit, unit)
			a.tooLarge[a.sec] = true
		}
		l.bad = true
		return
	}
	l.size = uint32(size)
	switch a.sec {
	case secText:
		a.textLen += size
	case secData:
		a.dataLen += size
	default:
		a.bssLen += size
	}
}

// dataWidth gives the size in bytes of the values of .byte, .half, .word and .quad.
var dataWidth = map[string]uint64{".byte": 1, ".half": 2, ".word": 4, ".quad": 8}

// layoutDirective checks a directive and places what it emits.
func (a *assembler) layoutDirective(l *stmt) {
	name, col := l.name, int(l.headCol)
	args := l.args
	nargs := l.nargs
	bad := func(format string, v ...any) {
		a.errorf(l.srcLine, col, format, v...)
		l.bad = true
	}
	switch name {
	case ".text", ".data", ".bss":
		if nargs != 0 {
			bad("%s takes no operands", name)
		}
		a.sec = map[string]section{".text": secText, ".data": secData, ".bss": secBSS}[name]

	case ".byte", ".half", ".word", ".quad":
		if nargs == 0 {
			bad("%s needs at least one value", name)
			return
		}
		switch {
		case a.sec == secText && name == ".word":
			a.place(l, uint64(nargs))
		case a.sec == secText:
			bad("'%s' is not allowed in .text, which holds instructions; put data in .data", name)
		case a.sec == secBSS:
			bad("'%s' is not allowed in .bss, which holds only zeros; use .space, or put initialized data in .data", name)
		default:
			a.place(l, uint64(nargs)*dataWidth[name])
		}

	case ".ascii", ".asciz", ".string":
		if a.sec != secData {
			bad("'%s' is not allowed in %s; put strings in .data", name, a.sec)
			return
		}
		if nargs == 0 {
			bad("%s needs a string in double quotes", name)
			return
		}
		if l.bad {
			return
		}
		data, ok := a.stringData(l)
		if !ok {
			l.bad = true
			return
		}
		a.place(l, uint64(len(data)))

	case ".space", ".zero":
		if a.sec == secText {
			bad("'%s' is not allowed in .text; reserve space in .data or .bss", name)
			return
		}
		if nargs < 1 || nargs > 2 {
			bad("%s takes a size and an optional fill byte, as in %s 16 or %s 16, 0xff", name, name, name)
			return
		}
		if l.bad {
			return
		}
		n, ok := a.earlyValue(l, args[0], "size")
		if !ok {
			l.bad = true
			return
		}
		if n < 0 {
			a.errorf(l.srcLine, args[0].col, "%s size %d is negative", name, n)
			l.bad = true
			return
		}
		a.place(l, uint64(n))

	case ".align":
		if nargs != 1 {
			bad(".align takes one operand, a power of two, as in .align 8")
			return
		}
		if l.bad {
			return
		}
		n, ok := a.earlyValue(l, args[0], "alignment")
		if !ok {
			l.bad = true
			return
		}
		if n < 1 || n > maxAlign || bits.OnesCount64(uint64(n)) != 1 {
			a.errorf(l.srcLine, args[0].col, ".align needs a power of two from 1 to %d; found %d", maxAlign, n)
			l.bad = true
			return
		}
		align := uint64(n)
		switch a.sec {
		case secText:
			addr := isa.InstrSize * a.textLen
			a.place(l, (alignUp(addr, align)-addr)/isa.InstrSize)
		case secData:
			a.place(l, alignUp(a.dataLen, align)-a.dataLen)
		case secBSS:
			a.bssAlign = max(a.bssAlign, align)
			a.place(l, alignUp(a.bssLen, align)-a.bssLen)
		}

	case ".equ", ".set":
		if nargs != 2 {
			bad("%s takes a name and a value, as in %s SIZE, 64", name, name)
			return
		}
		if l.bad {
			return
		}
		sym, ok := args[0].x.isSingleSym()
		switch {
		case args[0].kind == argReg:
			a.errorf(l.srcLine, args[0].col, "'%s' is a register; a constant cannot have its name", args[0].text)
		case !ok || strings.Contains(sym, "."):
			a.errorf(l.srcLine, args[0].col, "%s needs a plain name first, as in %s SIZE, 64; found '%s'", name, name, args[0].text)
		case args[1].kind != argImm:
			a.errorf(l.srcLine, args[1].col, "%s needs a constant expression; found '%s'", name, args[1].text)
		default:
			if old := a.syms[sym]; old != nil {
				a.errorf(l.srcLine, args[0].col, "'%s' is already defined at %s:%d", sym, a.fileOf(old.line), old.line.num)
				break
			}
			a.syms[sym] = &asmSymbol{name: sym, sec: a.sec, off: a.here(), line: l.srcLine, col: args[0].col, scope: a.scopes[l.scope]}
			return
		}
		l.bad = true

	case ".entry":
		if nargs != 1 {
			bad(".entry takes one operand, the label where the program starts")
			return
		}
		if l.bad {
			return
		}
		if a.entry != nil {
			bad("duplicate .entry; the first is at %s:%d", a.fileOf(a.entry), a.entry.num)
			return
		}
		if args[0].kind != argImm {
			a.errorf(l.srcLine, args[0].col, ".entry needs a label or a code address; found '%s'", args[0].text)
			l.bad = true
			return
		}
		a.entry, a.entryArg = l.srcLine, args[0]
		l.nodes.keep()

	case ".loc":
		if nargs != 2 || l.bad || args[0].kind != argStr || args[1].kind != argImm {
			if !l.bad {
				bad(".loc takes a file name in double quotes and a line number, as in .loc \"prog.s\" 12")
			}
			return
		}

	case ".global", ".globl":
		if nargs == 0 {
			bad("%s needs a name", name)
			return
		}
		for _, arg := range args {
			if _, ok := arg.x.isSingleSym(); !ok || arg.kind != argImm {
				a.errorf(l.srcLine, arg.col, "%s needs a label name; found '%s'", name, arg.text)
				l.bad = true
			}
		}

	default:
		bad("unknown directive '%s'%s", l.opName, a.didYouMean(l.srcLine, l.opName, func() []string { return directiveNames }))
	}
}

// stringData returns the bytes that the strings of an .ascii, .asciz or .string make, or
// reports what is wrong with them.
func (a *assembler) stringData(l *stmt) ([]byte, bool) {
	l.data = l.data[:0]
	for _, arg := range l.args {
		if arg.kind != argStr {
			a.errorf(l.srcLine, arg.col, "%s needs a string in double quotes; found '%s'", l.name, arg.text)
			return nil, false
		}
		b, err := unescape(arg.lit, arg.col)
		if err != nil {
			a.errorf(l.srcLine, err.col, "%s", err.msg)
			return nil, false
		}
		l.data = append(l.data, b...)
		if l.name != ".ascii" {
			l.data = append(l.data, 0)
		}
	}
	return l.data, true
}

// earlyValue evaluates a value that the layout needs, such as the size of a .space.
func (a *assembler) earlyValue(l *stmt, arg operand, what string) (int64, bool) {
	if arg.kind != argImm {
		a.errorf(l.srcLine, arg.col, "expected a number for the %s; found '%s'", what, arg.text)
		return 0, false
	}
	env := a.envAt(l.srcLine)
	env.early = true
	return a.eval(arg.x, env)
}

// envAt is the environment of expressions on line l: its scope, and "." at its start.
func (a *assembler) envAt(l *srcLine) *evalEnv { return a.envAtOffset(l, 0) }

// envAtOffset is envAt with "." moved delta bytes (in .text, instructions) past the start of
// the line, for the later values of a .byte or .word list.
func (a *assembler) envAtOffset(l *srcLine, delta uint64) *evalEnv {
	sec, off := l.sec, uint64(l.off)+delta
	return &evalEnv{line: l, scope: a.scopes[l.scope], dot: func() (int64, *colError) {
		v, ok := a.addrOf(sec, off)
		if !ok {
			return 0, &colError{msg: "'.' in .bss is not known here: .bss addresses follow the end of .data"}
		}
		return v, nil
	}}
}

// symbolValue is the value of a symbol in an expression.
func (a *assembler) symbolValue(name string, col int, env *evalEnv) (int64, *colError) {
	if isa.IsRegName(name) {
		return 0, &colError{col: col, msg: fmt.Sprintf("register '%s' cannot be used in an expression", name)}
	}
	full := name
	if strings.HasPrefix(name, ".") {
		if env.scope == "" {
			return 0, &colError{col: col, msg: fmt.Sprintf("local label '%s' used before any global label", name)}
		}
		full = env.scope + name
	}
	s := a.syms[full]
	if s == nil {
		if env.early {
			return 0, &colError{col: col, msg: fmt.Sprintf("'%s' must be defined above this line, since its value is needed to lay out the program", name)}
		}
		hint := foreignRegHint(name)
		if hint == "" {
			hint = a.didYouMean(env.line, name, func() []string { return a.symbolCandidates(name, env.scope) })
		}
		return 0, &colError{col: col, msg: fmt.Sprintf("unknown label '%s'%s", name, hint)}
	}
	if s.label {
		v, ok := a.addrOf(s.sec, s.off)
		if !ok {
			return 0, &colError{col: col, msg: fmt.Sprintf("the address of '%s' is not known here: .bss addresses follow the end of .data", name)}
		}
		return v, nil
	}
	return a.equValue(s, col, env.early)
}

// symbolCandidates lists the names a mistyped reference may have meant, written as the
// reference would write them.
func (a *assembler) symbolCandidates(name, scope string) []string {
	names := make([]string, 0, len(a.syms))
	for full := range a.syms {
		switch {
		case strings.HasPrefix(name, "."):
			if local, ok := strings.CutPrefix(full, scope+"."); ok && scope != "" {
				names = append(names, "."+local)
			}
		default:
			names = append(names, full)
		}
	}
	return names
}

// equValue computes an .equ name's value, with the scope and "." of its own line.
func (a *assembler) equValue(s *asmSymbol, col int, early bool) (int64, *colError) {
	switch s.state {
	case equDone:
		return s.val, nil
	case equFailed:
		return 0, &colError{col: col} // already reported
	case equBusy:
		return 0, &colError{col: col, msg: fmt.Sprintf("'%s' is defined in terms of itself", s.name)}
	}
	s.state = equBusy
	sec, off := s.sec, s.off
	env := &evalEnv{line: s.line, scope: s.scope, early: early, dot: func() (int64, *colError) {
		v, ok := a.addrOf(sec, off)
		if !ok {
			return 0, &colError{msg: "'.' in .bss is not known here: .bss addresses follow the end of .data"}
		}
		return v, nil
	}}
	v, err := a.evalNode(a.equExpr(s.line), env)
	if err != nil {
		if early {
			// The name is not tried again, during layout or after: its first use in layout
			// has the error, and each later use would either repeat it or succeed in a
			// program that fails anyway. Trying again once made every .space that used a name
			// walk the chain of names below it: n uses of a chain of n names took n² steps.
			s.state = equFailed
			if err.line == nil && err.msg != "" {
				err = &colError{col: col, msg: err.msg, chain: err.chain.through(s.name)}
			}
			return 0, err
		}
		s.state = equFailed
		if err.line == nil && err.msg != "" {
			err.line = s.line
		}
		return 0, err
	}
	s.state, s.val = equDone, v
	return v, nil
}

// equExpr builds again the expression of the .equ on line l, which layout found good. An .equ
// keeps no expression from its line to its first use, nor after: a source of many long ones costs
// no more than their lines. (Kept, the expressions of 8 million tokens of .equ took 1.2 GB.)
// The expression's tokens and nodes are its own: an .equ is evaluated in the middle of the
// statement that uses it, whose tokens and nodes are in use.
func (a *assembler) equExpr(l *srcLine) *exprNode {
	toks := lexLineTokens(nil, l.text)
	arg := &l.form.args[1]
	// An expression has a node for each of its tokens at most: parentheses have none.
	nodes := exprNodes{block: make([]exprNode, 0, arg.to-arg.from)}
	op, _ := buildOperand(arg, toks, l.text, &nodes)
	return op.x
}

// equChain is the chain of .equ names through which a value that layout needs depends on what is
// not known yet. The names in the middle are only counted, so that the message stays short for
// a chain of any length: one that quoted the message of each name below it was 1.2 MB for a
// chain of 10,000.
type equChain struct {
	top   string // the name whose value was asked for
	next  string // the name it depends on, if any
	last  string // the name at the end of the chain, if further than next
	names int    // how many names the chain has below top
}

// through returns the chain of name, which depends on the names of c; c is nil when name's own
// expression holds what is not known.
func (c *equChain) through(name string) *equChain {
	switch {
	case c == nil:
		return &equChain{top: name}
	case c.names == 0:
		return &equChain{top: name, next: c.top, names: 1}
	}
	last := c.last
	if last == "" {
		last = c.next
	}
	return &equChain{top: name, next: c.top, last: last, names: c.names + 1}
}

// message says that the top of the chain is not known, and why.
func (c *equChain) message(why string) string {
	var via string
	switch c.names {
	case 0:
	case 1:
		via = fmt.Sprintf(" (through '%s')", c.next)
	case 2:
		via = fmt.Sprintf(" (through '%s' and '%s')", c.next, c.last)
	case 3:
		via = fmt.Sprintf(" (through '%s', 1 other name and '%s')", c.next, c.last)
	default:
		via = fmt.Sprintf(" (through '%s', %d other names and '%s')", c.next, c.names-2, c.last)
	}
	return fmt.Sprintf("the value of '%s' is not known here%s: %s", c.top, via, why)
}
