package asm

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/spindle-vm/spindle/isa"
	"github.com/spindle-vm/spindle/object"
)

// Encoding: the second pass. Every label now has its address, so each statement's expressions
// are evaluated, each pseudo-instruction becomes the instructions it stands for, and every word
// is built by isa.Encode, the one place that knows the bit layout.

// pseudoOps are the mnemonics that are not in isa.Table. (li, mov, lk, jmp, call, push, pop and
// the ALU instructions are in the table but accept more operand forms; see emitInstr.)
var pseudoOps = map[string]bool{
	"la": true, "subi": true, "inc": true, "dec": true, "b": true, "j": true,
	"bgt": true, "ble": true, "bgtu": true, "bleu": true,
}

// immForms gives the immediate form of an ALU instruction, chosen when its last operand is a
// value rather than a register.
var immForms = map[isa.Opcode]isa.Opcode{
	isa.ADD: isa.ADDI, isa.MUL: isa.MULI, isa.AND: isa.ANDI, isa.OR: isa.ORI, isa.XOR: isa.XORI,
	isa.SHL: isa.SHLI, isa.SHR: isa.SHRI, isa.SAR: isa.SARI, isa.SLT: isa.SLTI, isa.SLTU: isa.SLTIU,
}

// regForms is the reverse of immForms, for the hint when an immediate form gets a register.
var regForms = func() map[isa.Opcode]isa.Opcode {
	m := map[isa.Opcode]isa.Opcode{}
	for r, i := range immForms {
		m[i] = r
	}
	return m
}()

// swappedBranches are the branches written with their operands the other way round:
// bgt a, b, L is blt b, a, L.
var swappedBranches = map[string]isa.Opcode{"bgt": isa.BLT, "ble": isa.BGE, "bgtu": isa.BLTU, "bleu": isa.BGEU}

// formatOperands spells each format's operands: r a register, i an immediate, m a memory
// operand, t a branch target, k a constant (through the pool).
var formatOperands = map[isa.Format]string{
	isa.FmtN: "", isa.FmtA: "r", isa.FmtAB: "rr", isa.FmtABC: "rrr", isa.FmtABI: "rri",
	isa.FmtMem: "rm", isa.FmtBranch: "rrt", isa.FmtAI: "ri", isa.FmtAK: "rk",
	isa.FmtBranchZ: "rt", isa.FmtJ: "t", isa.FmtU24: "i",
}

// immRange is the range of a format's immediate field.
func immRange(f isa.Format) (int64, int64) {
	switch f {
	case isa.FmtABI, isa.FmtMem, isa.FmtBranch:
		return isa.MinImm16, isa.MaxImm16
	case isa.FmtAI, isa.FmtBranchZ:
		return isa.MinImm20, isa.MaxImm20
	case isa.FmtAK:
		return 0, isa.MaxUimm20
	case isa.FmtJ:
		return isa.MinImm24, isa.MaxImm24
	case isa.FmtU24:
		return 0, isa.MaxUimm24
	}
	return 0, 0
}

// encode runs the second pass.
func (a *assembler) encode() {
	a.img = &object.Image{BSS: a.bssLen}
	if a.dataLen > 0 {
		a.img.Data = make([]byte, a.dataLen)
	}
	// The text's size is known: its slices are made once, and not grown by append.
	a.img.Text = make([]isa.Instr, 0, a.textLen)
	a.img.Lines = make([]object.Line, 0, a.textLen)
	var l stmt
	for line := range a.lines.statements {
		if line.failed || line.form.head < 0 {
			continue
		}
		if !line.bad {
			a.statement(&l, line)
			// The operands were checked by layout, which found them good: no error here.
			a.buildOperands(&l)
			if strings.HasPrefix(l.name, ".") {
				a.emitDirective(&l)
			} else {
				a.emitInstr(&l)
			}
		}
		// A statement that failed still takes its place, so that the others keep theirs.
		if line.sec == secText {
			for uint64(len(a.img.Text)) < uint64(line.off)+uint64(line.size) {
				a.emitWord(line, 0)
			}
		}
	}
}

// emitWord appends an instruction word and its line.
func (a *assembler) emitWord(l *srcLine, w isa.Instr) {
	file, line := a.fileOf(l.top()), uint32(l.top().num)
	if a.locSet {
		file, line = a.locFile, a.locLine
	}
	idx, ok := a.fileIdx[file]
	if !ok {
		idx = uint32(len(a.img.Files))
		a.fileIdx[file] = idx
		a.img.Files = append(a.img.Files, file)
	}
	a.img.Text = append(a.img.Text, w)
	a.img.Lines = append(a.img.Lines, object.Line{File: idx, Line: line})
}

// emit encodes and appends one instruction.
func (a *assembler) emit(l *stmt, op isa.Opcode, o isa.Operands) {
	w, err := isa.Encode(op, o)
	if err != nil {
		a.errorf(l.srcLine, int(l.headCol), "%v", err)
		return
	}
	a.emitWord(l.srcLine, w)
}

// constIndex returns the pool index of v, adding it on first use.
func (a *assembler) constIndex(v uint64) int64 {
	if i, ok := a.constIdx[v]; ok {
		return int64(i)
	}
	i := len(a.img.Consts)
	a.constIdx[v] = i
	a.img.Consts = append(a.img.Consts, v)
	return int64(i)
}

// emitInstr encodes an instruction or pseudo-instruction.
func (a *assembler) emitInstr(l *stmt) {
	args := l.args
	name := l.name
	switch name {
	case "li", "la", "mov":
		if !a.arity(l, 2, "rd, value") {
			return
		}
		rd, ok := a.wantReg(l, 0)
		if name == "mov" && args[1].kind == argReg {
			if ok {
				a.emit(l, isa.MOV, isa.Operands{A: rd, B: args[1].reg})
			}
			return
		}
		hint := ""
		if name != "mov" {
			hint = "; did you mean 'mov'?"
		}
		v, vok := a.wantImm(l, 1, hint)
		if ok && vok {
			a.emitConst(l, rd, v, false)
		}

	case "lk":
		if !a.arity(l, 2, "rd, value") {
			return
		}
		rd, ok := a.wantReg(l, 0)
		v, vok := a.wantImm(l, 1, "")
		if ok && vok {
			a.emitConst(l, rd, v, true)
		}

	case "subi":
		if !a.arity(l, 3, "rd, rs, imm") {
			return
		}
		rd, ok1 := a.wantReg(l, 0)
		rs, ok2 := a.wantReg(l, 1)
		v, ok3 := a.wantImm(l, 2, "; did you mean 'sub'?")
		if ok1 && ok2 && ok3 && a.checkRange(l, 2, v, -isa.MaxImm16, -isa.MinImm16, "immediate", "subi") {
			a.emit(l, isa.ADDI, isa.Operands{A: rd, B: rs, Imm: -v})
		}

	case "inc", "dec":
		if !a.arity(l, 1, "rd") {
			return
		}
		if rd, ok := a.wantReg(l, 0); ok {
			step := int64(1)
			if name == "dec" {
				step = -1
			}
			a.emit(l, isa.ADDI, isa.Operands{A: rd, B: rd, Imm: step})
		}

	case "b", "j", "jmp", "call":
		if !a.arity(l, 1, "target") {
			return
		}
		if args[0].kind == argReg {
			op := isa.JR
			if name == "call" {
				op = isa.CALLR
			}
			a.emit(l, op, isa.Operands{A: args[0].reg})
			return
		}
		op := isa.JMP
		if name == "call" {
			op = isa.CALL
		}
		if off, ok := a.wantTarget(l, 0, op); ok {
			a.emit(l, op, isa.Operands{Imm: off})
		}

	case "bgt", "ble", "bgtu", "bleu":
		if !a.arity(l, 3, "rA, rB, target") {
			return
		}
		op := swappedBranches[name]
		ra, ok1 := a.wantReg(l, 0)
		rb, ok2 := a.wantReg(l, 1)
		off, ok3 := a.wantTarget(l, 2, op)
		if ok1 && ok2 && ok3 {
			a.emit(l, op, isa.Operands{A: rb, B: ra, Imm: off})
		}

	case "push", "pop":
		if len(args) == 0 {
			a.errorf(l.srcLine, int(l.headCol), "'%s' needs at least one register", l.opName)
			return
		}
		op := isa.PUSH
		if name == "pop" {
			op = isa.POP
		}
		for i := range args {
			if r, ok := a.wantReg(l, i); ok {
				a.emit(l, op, isa.Operands{A: r})
			} else {
				a.emitWord(l.srcLine, 0)
			}
		}

	case "syscall":
		if !a.arity(l, 1, "service") {
			return
		}
		if v, ok := a.syscallNumber(l); ok && a.checkRange(l, 0, v, 0, isa.MaxUimm24, "service number", name) {
			a.emit(l, isa.SYSCALL, isa.Operands{Imm: v})
		}

	default:
		op, _ := isa.Lookup(name)
		in := isa.Table[op]
		if in.Format == isa.FmtABC && len(args) == 3 && args[2].kind != argReg {
			a.emitALUImm(l, op)
			return
		}
		a.emitFormat(l, op)
	}
}

// emitConst loads v into rd: with li if it fits the 20-bit immediate (unless pool is set),
// else with lk and the constant pool.
func (a *assembler) emitConst(l *stmt, rd int, v int64, pool bool) {
	if !pool && v >= isa.MinImm20 && v <= isa.MaxImm20 {
		a.emit(l, isa.LI, isa.Operands{A: rd, Imm: v})
		return
	}
	a.emit(l, isa.LK, isa.Operands{A: rd, Imm: a.constIndex(uint64(v))})
}

// emitALUImm encodes an ALU instruction whose last operand is a value, by its immediate form.
func (a *assembler) emitALUImm(l *stmt, op isa.Opcode) {
	name := l.opName
	imm, ok := immForms[op]
	negate := op == isa.SUB
	if negate {
		imm, ok = isa.ADDI, true
	}
	if !ok {
		arg := l.args[2]
		a.errorf(l.srcLine, arg.col, "'%s' has no immediate form; load the value into a register first, as in li %s, %s", name, scratch(l), arg.text)
		return
	}
	rd, ok1 := a.wantReg(l, 0)
	rs, ok2 := a.wantReg(l, 1)
	v, ok3 := a.wantImm(l, 2, "")
	if !ok1 || !ok2 || !ok3 {
		return
	}
	if negate {
		if a.checkRange(l, 2, v, -isa.MaxImm16, -isa.MinImm16, "immediate", name) {
			a.emit(l, imm, isa.Operands{A: rd, B: rs, Imm: -v})
		}
		return
	}
	if a.checkRange(l, 2, v, isa.MinImm16, isa.MaxImm16, "immediate", name) {
		a.emit(l, imm, isa.Operands{A: rd, B: rs, Imm: v})
	}
}

// emitFormat encodes an instruction with the operands its format prescribes.
func (a *assembler) emitFormat(l *stmt, op isa.Opcode) {
	in := isa.Table[op]
	want := formatOperands[in.Format]
	if !a.arity(l, len(want), in.Format.Syntax()) {
		return
	}
	var o isa.Operands
	regs := []*int{&o.A, &o.B, &o.C}
	nreg := 0
	ok := true
	lo, hi := immRange(in.Format)
	for i, k := range want {
		var good bool
		switch k {
		case 'r':
			*regs[nreg], good = a.wantReg(l, i)
			nreg++
		case 'i':
			hint := ""
			if r, isImm := regForms[op]; isImm {
				hint = fmt.Sprintf("; did you mean '%s'?", isa.Table[r].Name)
			}
			o.Imm, good = a.wantImm(l, i, hint)
			good = good && a.checkRange(l, i, o.Imm, lo, hi, "immediate", in.Name)
		case 'k':
			var v int64
			if v, good = a.wantImm(l, i, ""); good {
				o.Imm = a.constIndex(uint64(v))
			}
		case 'm':
			o.B, o.Imm, good = a.wantMem(l, i)
			good = good && a.checkRange(l, i, o.Imm, lo, hi, "offset", in.Name)
			nreg++
		case 't':
			o.Imm, good = a.wantTarget(l, i, op)
		}
		ok = ok && good
	}
	if ok {
		a.emit(l, op, o)
	}
}

// arity checks the number of operands.
func (a *assembler) arity(l *stmt, n int, syntax string) bool {
	got := l.nargs
	if got == n {
		return len(l.args) == n // a malformed operand has been reported already
	}
	name := l.opName
	col := int(l.headCol)
	if got > n {
		col = l.args[min(n, len(l.args)-1)].col
	}
	switch n {
	case 0:
		a.errorf(l.srcLine, col, "'%s' takes no operands, found %d", name, got)
	default:
		a.errorf(l.srcLine, col, "'%s' takes %d operand%s (%s), found %d", name, n, plural(n), syntax, got)
	}
	return false
}

// found describes an operand for a message.
func (o operand) found() string {
	switch o.kind {
	case argReg:
		return fmt.Sprintf("register '%s'", o.text)
	case argMem:
		return fmt.Sprintf("memory operand '%s'", o.text)
	case argStr:
		return "a string"
	}
	return fmt.Sprintf("'%s'", o.text)
}

var regNames = func() []string {
	var names []string
	for i := range isa.NumRegs {
		names = append(names, isa.Regs[i].Alias, fmt.Sprintf("r%d", i))
	}
	return names
}()

func (a *assembler) wantReg(l *stmt, i int) (int, bool) {
	o := l.args[i]
	if o.kind == argReg {
		return o.reg, true
	}
	hint := ""
	if name, ok := o.x.isSingleSym(); ok && o.kind == argImm {
		// A register of MIPS or RISC-V: a near name of ours would mislead ("ra": "r0").
		if hint = foreignRegHint(name); hint == "" {
			hint = a.didYouMean(l.srcLine, name, func() []string { return regNames })
		}
	}
	a.errorf(l.srcLine, o.col, "expected a register, found %s%s", o.found(), hint)
	return 0, false
}

// foreignRegHint says what Spindle has instead of name, if it is a register of MIPS or RISC-V
// that students reach for, or returns "".
func foreignRegHint(name string) string {
	if why, ok := foreignRegs[strings.ToLower(name)]; ok {
		return "; Spindle has no such register: " + why + " (docs/assembly.md, Coming from MIPS or RISC-V)"
	}
	if regLike(name) {
		return "; Spindle has no such register: its registers are a0 to a5, t0 to t3, s0 to s3, fp and sp"
	}
	return ""
}

// regLike reports whether name is spelled as a register of another machine, a letter and a
// number (a7, t6, s11, r16, x5), and is not one of Spindle's. (tt0 is not: a near name of
// Spindle's, t0, is the better hint.)
func regLike(name string) bool {
	n := strings.ToLower(name)
	if len(n) < 2 || n[0] < 'a' || n[0] > 'z' || isa.IsRegName(n) {
		return false
	}
	for _, c := range n[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(n) <= 3
}

// foreignRegs are the registers of MIPS and RISC-V that students reach for, with what Spindle
// has instead.
var foreignRegs = map[string]string{
	"zero": "for a zero, li t0, 0, and beqz or bnez to compare with zero",
	"x0":   "for a zero, li t0, 0, and beqz or bnez to compare with zero",
	"ra":   "call pushes the return address on the stack, and ret pops it",
	"lr":   "call pushes the return address on the stack, and ret pops it",
	"gp":   "la loads any address in one instruction",
}

func (a *assembler) wantImm(l *stmt, i int, regHint string) (int64, bool) {
	o := l.args[i]
	if o.kind == argImm {
		return a.eval(o.x, a.envAt(l.srcLine))
	}
	if o.kind != argReg {
		regHint = ""
	}
	a.errorf(l.srcLine, o.col, "expected a value, found %s%s", o.found(), regHint)
	return 0, false
}

func (a *assembler) wantMem(l *stmt, i int) (int, int64, bool) {
	o := l.args[i]
	if o.kind != argMem {
		hint := ""
		if o.kind == argImm {
			r := scratch(l)
			hint = fmt.Sprintf("; to use a label's address, load it first: la %s, %s, then 0(%s)", r, o.text, r)
		}
		a.errorf(l.srcLine, o.col, "expected a memory operand such as 8(sp), found %s%s", o.found(), hint)
		return 0, 0, false
	}
	if o.x == nil {
		return o.reg, 0, true
	}
	v, ok := a.eval(o.x, a.envAt(l.srcLine))
	return o.reg, v, ok
}

// scratch names a temporary register that l's operands do not use, for a hint that loads an
// address: la t0 before sd t0 would overwrite the value to be stored.
func scratch(l *stmt) string {
	for _, r := range []int{isa.T0, isa.T1, isa.T2, isa.T3} {
		used := false
		for _, o := range l.args {
			used = used || (o.kind == argReg || o.kind == argMem) && o.reg == r
		}
		if !used {
			return isa.RegName(r)
		}
	}
	return isa.RegName(isa.T0)
}

// wantTarget evaluates a branch target and returns its offset in instructions from the branch.
func (a *assembler) wantTarget(l *stmt, i int, op isa.Opcode) (int64, bool) {
	o := l.args[i]
	if o.kind != argImm {
		a.errorf(l.srcLine, o.col, "expected a branch target (a label or a code address), found %s", o.found())
		return 0, false
	}
	v, ok := a.eval(o.x, a.envAt(l.srcLine))
	if !ok {
		return 0, false
	}
	addr := uint64(v)
	switch {
	case addr >= isa.DataBase:
		a.errorf(l.srcLine, o.col, "branch target '%s' is a data address (%#08x), not a code address", o.text, addr)
		return 0, false
	case addr < isa.TextBase:
		a.errorf(l.srcLine, o.col, "branch target '%s' (%#x) is below the text, which starts at %#08x", o.text, addr, uint64(isa.TextBase))
		return 0, false
	case (addr-isa.TextBase)%isa.InstrSize != 0:
		a.errorf(l.srcLine, o.col, "branch target '%s' (%#08x) is not an instruction's address (a multiple of 4 from %#08x)", o.text, addr, uint64(isa.TextBase))
		return 0, false
	}
	// A branch is a statement of one instruction, so the statement's offset is the branch's.
	idx := (addr - isa.TextBase) / isa.InstrSize
	off := int64(idx) - int64(l.off)
	lo, hi := immRange(isa.Table[op].Format)
	// A branch lands on an instruction, never on the end of the text: the loader refuses one
	// that does not, and so does the object file (docs/isa.md, How a program starts and ends).
	switch {
	case off < lo || off > hi:
		a.errorf(l.srcLine, o.col, "branch target '%s' is %d instructions away, out of range for %s (%d..%d)", o.text, off, isa.Table[op].Name, lo, hi)
		return 0, false
	case idx == a.textLen:
		a.errorf(l.srcLine, o.col, "branch target '%s' (%#08x) is the end of the text, just past its last instruction; a branch must land on an instruction: put one after the label, such as halt", o.text, addr)
		return 0, false
	case idx > a.textLen:
		a.errorf(l.srcLine, o.col, "branch target '%s' (%#08x) is past the end of the text (%s)", o.text, addr, isa.TextSpan(int(a.textLen)))
		return 0, false
	}
	return off, true
}

// checkRange reports a value outside lo..hi.
func (a *assembler) checkRange(l *stmt, i int, v, lo, hi int64, what, name string) bool {
	if v < lo || v > hi {
		a.errorf(l.srcLine, l.args[i].col, "%s %d out of range for %s (%d..%d)", what, v, name, lo, hi)
		return false
	}
	return true
}

// syscallNumber reads the operand of syscall: a service name, or a value.
func (a *assembler) syscallNumber(l *stmt) (int64, bool) {
	o := l.args[0]
	if name, ok := o.x.isSingleSym(); ok && o.kind == argImm {
		if s, ok := isa.LookupSyscall(strings.ToLower(name)); ok {
			return int64(s.Num), true
		}
		if !strings.HasPrefix(name, ".") && a.syms[name] == nil {
			hint := a.didYouMean(l.srcLine, name, func() []string {
				var names []string
				for _, s := range isa.Syscalls {
					names = append(names, s.Name)
				}
				return names
			})
			a.errorf(l.srcLine, o.col, "unknown syscall '%s'%s", name, hint)
			return 0, false
		}
	}
	return a.wantImm(l, 0, "")
}

// dataRange is the range of values each data directive accepts: signed or unsigned.
var dataRange = map[string][2]int64{
	".byte": {math.MinInt8, math.MaxUint8},
	".half": {math.MinInt16, math.MaxUint16},
	".word": {math.MinInt32, math.MaxUint32},
	".quad": {math.MinInt64, math.MaxInt64},
}

// emitDirective writes what a directive emits, now that values are known.
func (a *assembler) emitDirective(l *stmt) {
	data := a.img.Data
	switch l.name {
	case ".byte", ".half", ".word", ".quad":
		width := dataWidth[l.name]
		r := dataRange[l.name]
		for i, arg := range l.args {
			var v int64
			ok := false
			if arg.kind == argImm {
				delta := uint64(i) * width
				if l.sec == secText {
					delta = uint64(i)
				}
				v, ok = a.eval(arg.x, a.envAtOffset(l.srcLine, delta))
				ok = ok && a.checkRange(l, i, v, r[0], r[1], "value", l.name)
			} else {
				a.errorf(l.srcLine, arg.col, "expected a value, found %s", arg.found())
			}
			if l.sec == secText {
				w := isa.Instr(uint32(v))
				if ok {
					// A raw word in the text must still be an instruction, and a branch's must
					// land inside the text: the object format and the loader accept nothing
					// else.
					if err := object.CheckInstr(w, len(a.img.Text), uint64(a.textLen)); err != nil {
						a.errorf(l.srcLine, arg.col, ".word %#08x in .text is not an instruction: %v", uint32(v), err)
						w = 0
					}
				}
				a.emitWord(l.srcLine, w) // 0 if the value was wrong
				continue
			}
			if ok {
				var b [8]byte
				binary.LittleEndian.PutUint64(b[:], uint64(v))
				copy(data[uint64(l.off)+uint64(i)*width:], b[:width])
			}
		}

	case ".ascii", ".asciz", ".string":
		b, _ := a.stringData(l)
		copy(data[l.off:], b)

	case ".space", ".zero":
		if len(l.args) < 2 {
			return
		}
		v, ok := a.wantImm(l, 1, "")
		if !ok || !a.checkRange(l, 1, v, math.MinInt8, math.MaxUint8, "fill value", l.name) {
			return
		}
		if l.sec == secBSS {
			if v != 0 {
				a.errorf(l.srcLine, l.args[1].col, ".bss holds only zeros; put data with a fill value in .data")
			}
			return
		}
		for i := l.off; i < l.off+l.size; i++ { // within .data, so no wrap
			data[i] = byte(v)
		}

	case ".align":
		if l.sec == secText {
			nop, _ := isa.Encode(isa.NOP, isa.Operands{})
			for range l.size {
				a.emitWord(l.srcLine, nop)
			}
		}

	case ".equ", ".set":
		name, _ := l.args[0].x.isSingleSym()
		if s := a.syms[name]; s != nil && s.line == l.srcLine {
			if _, err := a.equValue(s, l.args[0].col, false); err != nil {
				a.report(l.srcLine, err)
			}
		}

	case ".loc":
		file, err := unescape(l.args[0].lit, l.args[0].col)
		if err != nil {
			a.report(l.srcLine, err)
			return
		}
		v, ok := a.wantImm(l, 1, "")
		if !ok || !a.checkRange(l, 1, v, 0, math.MaxUint32, "line number", ".loc") {
			return
		}
		a.locSet, a.locFile, a.locLine = true, string(file), uint32(v)
	}
}
