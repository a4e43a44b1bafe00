// Package isa defines Spindle's instruction set: the architecture's registers and memory map,
// the instruction word and its fields, and the opcode table from which the assembler's encoder,
// the disassembler, the interpreter's decoder and docs/isa.md all come.
//
// # The machine
//
// A Spindle processor has sixteen 64-bit general registers, r0 to r15, and a program counter.
// Arithmetic is two's complement and wraps. Memory is byte-addressed and little-endian; loads and
// stores of 8, 16, 32 and 64 bits need no alignment. Code and data live in separate address
// spaces (a Harvard machine): the text section is not readable or writable as data, so a program
// cannot modify its own code, and a code address is only good for jumping to.
//
// # Instruction words
//
// Every instruction is one 32-bit word. The low byte is the opcode; the rest holds register
// numbers and immediates in one of four layouts, read and built only by the accessors in this
// package:
//
//	 31                16 15    12 11     8 7        0
//	+--------------------+--------+--------+----------+
//	|  0 ...   0  |  C   |   B    |   A    |    op    |  ABC  R[A] := R[B] op R[C]
//	+--------------------+--------+--------+----------+
//	|     sImm16 (16)    |   B    |   A    |    op    |  ABI  R[A] := R[B] op sImm16
//	+--------------------+--------+--------+----------+
//	|        sImm20 / uImm20      |   A    |    op    |  AI   R[A] := sImm20
//	+-----------------------------+--------+----------+
//	|              sImm24 / uImm24         |    op    |  J    pc += sImm24
//	+--------------------------------------+----------+
//
// Bits that a layout does not use must be zero; the loader rejects a word that sets them.
// A 64-bit constant that does not fit an immediate lives in the image's constant pool and is
// loaded with lk, which names it by its index (Lua's LOADK).
package isa

import "fmt"

// Instr is one encoded instruction word.
type Instr uint32

// Opcode is the low byte of an instruction word.
type Opcode uint8

// Op returns the instruction's opcode.
func (i Instr) Op() Opcode { return Opcode(i) }

// A returns the register number in bits 8-11.
func (i Instr) A() int { return int(i>>8) & 15 }

// B returns the register number in bits 12-15.
func (i Instr) B() int { return int(i>>12) & 15 }

// C returns the register number in bits 16-19.
func (i Instr) C() int { return int(i>>16) & 15 }

// Imm16 returns the signed 16-bit immediate in bits 16-31.
func (i Instr) Imm16() int64 { return int64(int32(i) >> 16) }

// Imm20 returns the signed 20-bit immediate in bits 12-31.
func (i Instr) Imm20() int64 { return int64(int32(i) >> 12) }

// Uimm20 returns the unsigned 20-bit immediate in bits 12-31.
func (i Instr) Uimm20() uint32 { return uint32(i) >> 12 }

// Imm24 returns the signed 24-bit immediate in bits 8-31.
func (i Instr) Imm24() int64 { return int64(int32(i) >> 8) }

// Uimm24 returns the unsigned 24-bit immediate in bits 8-31.
func (i Instr) Uimm24() uint32 { return uint32(i) >> 8 }

// Ranges of the immediate fields.
const (
	MinImm16  = -1 << 15
	MaxImm16  = 1<<15 - 1
	MinImm20  = -1 << 19
	MaxImm20  = 1<<19 - 1
	MaxUimm20 = 1<<20 - 1
	MinImm24  = -1 << 23
	MaxImm24  = 1<<23 - 1
	MaxUimm24 = 1<<24 - 1
)

// Format is the operand layout of an instruction: how its fields are encoded and how its operands
// are written in assembly.
type Format uint8

// The formats. The comment shows the assembly syntax of the operands.
const (
	FmtN       Format = iota //                      no operands
	FmtA                     // rA
	FmtAB                    // rA, rB
	FmtABC                   // rA, rB, rC
	FmtABI                   // rA, rB, imm16
	FmtMem                   // rA, imm16(rB)         ABI layout
	FmtBranch                // rA, rB, target        ABI layout; imm16 = target - pc, in instructions
	FmtAI                    // rA, imm20
	FmtAK                    // rA, constant          AI layout; uimm20 indexes the constant pool
	FmtBranchZ               // rA, target            AI layout; imm20 = target - pc, in instructions
	FmtJ                     // target                J layout; imm24 = target - pc, in instructions
	FmtU24                   // uimm24                J layout, unsigned
	numFormats
)

var formatSyntax = [numFormats]string{
	FmtN:       "",
	FmtA:       "rA",
	FmtAB:      "rA, rB",
	FmtABC:     "rA, rB, rC",
	FmtABI:     "rA, rB, imm16",
	FmtMem:     "rA, imm16(rB)",
	FmtBranch:  "rA, rB, target",
	FmtAI:      "rA, imm20",
	FmtAK:      "rA, constant",
	FmtBranchZ: "rA, target",
	FmtJ:       "target",
	FmtU24:     "uimm24",
}

// Syntax returns the operand syntax of the format, such as "rA, imm16(rB)".
func (f Format) Syntax() string {
	if f < numFormats {
		return formatSyntax[f]
	}
	return "?"
}

// IsBranch reports whether the format's immediate is a pc-relative code target.
func (f Format) IsBranch() bool { return f == FmtBranch || f == FmtBranchZ || f == FmtJ }

// Category groups instructions in the documentation.
type Category string

// The categories, in the order docs/isa.md lists them.
const (
	CatControl Category = "control"
	CatMove    Category = "move"
	CatALU     Category = "arithmetic and logic"
	CatALUImm  Category = "arithmetic and logic with an immediate"
	CatMemory  Category = "memory"
	CatStack   Category = "stack"
	CatBranch  Category = "branches, jumps and calls"
	CatSystem  Category = "system"
)

// Categories lists the categories in documentation order.
var Categories = []Category{CatControl, CatMove, CatALU, CatALUImm, CatMemory, CatStack, CatBranch, CatSystem}

// Info describes one instruction.
type Info struct {
	Op       Opcode
	Name     string // mnemonic, lower case
	Format   Format
	Category Category
	Doc      string // one-line semantics, in Lua's lopcodes.h style
}

// The opcodes. Their numbers are part of the object format: append, never renumber.
// They are contiguous from zero so that the interpreter's switch compiles to a jump table.
const (
	ILLEGAL Opcode = iota
	NOP
	HALT
	EBREAK

	MOV
	LI
	LK

	ADD
	SUB
	MUL
	DIV
	DIVU
	REM
	REMU
	AND
	OR
	XOR
	SHL
	SHR
	SAR
	SLT
	SLTU
	SEQ
	SNE
	NOT
	NEG

	ADDI
	MULI
	ANDI
	ORI
	XORI
	SHLI
	SHRI
	SARI
	SLTI
	SLTIU

	LB
	LBU
	LH
	LHU
	LW
	LWU
	LD
	SB
	SH
	SW
	SD

	PUSH
	POP
	ENTER
	LEAVE

	BEQ
	BNE
	BLT
	BGE
	BLTU
	BGEU
	BEQZ
	BNEZ
	JMP
	JR
	CALL
	CALLR
	RET

	SYSCALL

	CAS
	XADD

	LOOP

	NumOpcodes // not an opcode: the count of opcodes
)

// Table is the instruction set, indexed by opcode. It is the single source of truth: the
// assembler, the disassembler, the interpreter's tests and docs/isa.md all read it.
var Table = [NumOpcodes]Info{
	ILLEGAL: {ILLEGAL, "illegal", FmtN, CatControl, "trap: illegal instruction (the all-zero word)"},
	NOP:     {NOP, "nop", FmtN, CatControl, "do nothing"},
	HALT:    {HALT, "halt", FmtN, CatControl, "end the process with exit status 0"},
	EBREAK:  {EBREAK, "ebreak", FmtN, CatControl, "stop at a breakpoint: spindle debug stops there; spindle run traps with \"breakpoint\""},

	MOV: {MOV, "mov", FmtAB, CatMove, "R[A] := R[B]"},
	LI:  {LI, "li", FmtAI, CatMove, "R[A] := sImm20"},
	LK:  {LK, "lk", FmtAK, CatMove, "R[A] := K[uImm20] (the constant pool)"},

	ADD:  {ADD, "add", FmtABC, CatALU, "R[A] := R[B] + R[C]"},
	SUB:  {SUB, "sub", FmtABC, CatALU, "R[A] := R[B] - R[C]"},
	MUL:  {MUL, "mul", FmtABC, CatALU, "R[A] := R[B] * R[C]"},
	DIV:  {DIV, "div", FmtABC, CatALU, "R[A] := R[B] / R[C], signed, rounding toward zero; traps if R[C] = 0"},
	DIVU: {DIVU, "divu", FmtABC, CatALU, "R[A] := R[B] / R[C], unsigned; traps if R[C] = 0"},
	REM:  {REM, "rem", FmtABC, CatALU, "R[A] := R[B] % R[C], signed, sign of R[B]; traps if R[C] = 0"},
	REMU: {REMU, "remu", FmtABC, CatALU, "R[A] := R[B] % R[C], unsigned; traps if R[C] = 0"},
	AND:  {AND, "and", FmtABC, CatALU, "R[A] := R[B] & R[C]"},
	OR:   {OR, "or", FmtABC, CatALU, "R[A] := R[B] | R[C]"},
	XOR:  {XOR, "xor", FmtABC, CatALU, "R[A] := R[B] ^ R[C]"},
	SHL:  {SHL, "shl", FmtABC, CatALU, "R[A] := R[B] << (R[C] & 63)"},
	SHR:  {SHR, "shr", FmtABC, CatALU, "R[A] := R[B] >> (R[C] & 63), logical (zero fill)"},
	SAR:  {SAR, "sar", FmtABC, CatALU, "R[A] := R[B] >> (R[C] & 63), arithmetic (sign fill)"},
	SLT:  {SLT, "slt", FmtABC, CatALU, "R[A] := 1 if R[B] < R[C] signed, else 0"},
	SLTU: {SLTU, "sltu", FmtABC, CatALU, "R[A] := 1 if R[B] < R[C] unsigned, else 0"},
	SEQ:  {SEQ, "seq", FmtABC, CatALU, "R[A] := 1 if R[B] = R[C], else 0"},
	SNE:  {SNE, "sne", FmtABC, CatALU, "R[A] := 1 if R[B] != R[C], else 0"},
	NOT:  {NOT, "not", FmtAB, CatALU, "R[A] := ^R[B] (bitwise complement)"},
	NEG:  {NEG, "neg", FmtAB, CatALU, "R[A] := -R[B]"},

	ADDI:  {ADDI, "addi", FmtABI, CatALUImm, "R[A] := R[B] + sImm16"},
	MULI:  {MULI, "muli", FmtABI, CatALUImm, "R[A] := R[B] * sImm16"},
	ANDI:  {ANDI, "andi", FmtABI, CatALUImm, "R[A] := R[B] & sImm16"},
	ORI:   {ORI, "ori", FmtABI, CatALUImm, "R[A] := R[B] | sImm16"},
	XORI:  {XORI, "xori", FmtABI, CatALUImm, "R[A] := R[B] ^ sImm16"},
	SHLI:  {SHLI, "shli", FmtABI, CatALUImm, "R[A] := R[B] << (sImm16 & 63)"},
	SHRI:  {SHRI, "shri", FmtABI, CatALUImm, "R[A] := R[B] >> (sImm16 & 63), logical"},
	SARI:  {SARI, "sari", FmtABI, CatALUImm, "R[A] := R[B] >> (sImm16 & 63), arithmetic"},
	SLTI:  {SLTI, "slti", FmtABI, CatALUImm, "R[A] := 1 if R[B] < sImm16 signed, else 0"},
	SLTIU: {SLTIU, "sltiu", FmtABI, CatALUImm, "R[A] := 1 if R[B] < sImm16 unsigned (sImm16 sign-extended), else 0"},

	LB:  {LB, "lb", FmtMem, CatMemory, "R[A] := sign-extended byte at R[B] + sImm16"},
	LBU: {LBU, "lbu", FmtMem, CatMemory, "R[A] := zero-extended byte at R[B] + sImm16"},
	LH:  {LH, "lh", FmtMem, CatMemory, "R[A] := sign-extended 16 bits at R[B] + sImm16"},
	LHU: {LHU, "lhu", FmtMem, CatMemory, "R[A] := zero-extended 16 bits at R[B] + sImm16"},
	LW:  {LW, "lw", FmtMem, CatMemory, "R[A] := sign-extended 32 bits at R[B] + sImm16"},
	LWU: {LWU, "lwu", FmtMem, CatMemory, "R[A] := zero-extended 32 bits at R[B] + sImm16"},
	LD:  {LD, "ld", FmtMem, CatMemory, "R[A] := 64 bits at R[B] + sImm16"},
	SB:  {SB, "sb", FmtMem, CatMemory, "byte at R[B] + sImm16 := low 8 bits of R[A]"},
	SH:  {SH, "sh", FmtMem, CatMemory, "16 bits at R[B] + sImm16 := low 16 bits of R[A]"},
	SW:  {SW, "sw", FmtMem, CatMemory, "32 bits at R[B] + sImm16 := low 32 bits of R[A]"},
	SD:  {SD, "sd", FmtMem, CatMemory, "64 bits at R[B] + sImm16 := R[A]"},

	PUSH:  {PUSH, "push", FmtA, CatStack, "mem[sp - 8] := R[A]; sp := sp - 8 (push sp stores the old sp); traps on stack overflow"},
	POP:   {POP, "pop", FmtA, CatStack, "v := mem[sp]; sp := sp + 8; R[A] := v (pop sp sets sp to v)"},
	ENTER: {ENTER, "enter", FmtU24, CatStack, "push fp; fp := sp; sp := sp - uImm24; traps on stack overflow"},
	LEAVE: {LEAVE, "leave", FmtN, CatStack, "sp := fp; pop fp"},

	BEQ:   {BEQ, "beq", FmtBranch, CatBranch, "if R[A] = R[B] then pc := pc + 4*sImm16"},
	BNE:   {BNE, "bne", FmtBranch, CatBranch, "if R[A] != R[B] then pc := pc + 4*sImm16"},
	BLT:   {BLT, "blt", FmtBranch, CatBranch, "if R[A] < R[B] signed then pc := pc + 4*sImm16"},
	BGE:   {BGE, "bge", FmtBranch, CatBranch, "if R[A] >= R[B] signed then pc := pc + 4*sImm16"},
	BLTU:  {BLTU, "bltu", FmtBranch, CatBranch, "if R[A] < R[B] unsigned then pc := pc + 4*sImm16"},
	BGEU:  {BGEU, "bgeu", FmtBranch, CatBranch, "if R[A] >= R[B] unsigned then pc := pc + 4*sImm16"},
	BEQZ:  {BEQZ, "beqz", FmtBranchZ, CatBranch, "if R[A] = 0 then pc := pc + 4*sImm20"},
	BNEZ:  {BNEZ, "bnez", FmtBranchZ, CatBranch, "if R[A] != 0 then pc := pc + 4*sImm20"},
	JMP:   {JMP, "jmp", FmtJ, CatBranch, "pc := pc + 4*sImm24"},
	JR:    {JR, "jr", FmtA, CatBranch, "pc := R[A]; traps unless R[A] is the address of an instruction"},
	CALL:  {CALL, "call", FmtJ, CatBranch, "push pc + 4; pc := pc + 4*sImm24; traps on stack overflow"},
	CALLR: {CALLR, "callr", FmtA, CatBranch, "push pc + 4; pc := R[A]; traps unless R[A] is the address of an instruction, or on stack overflow"},
	RET:   {RET, "ret", FmtN, CatBranch, "pop pc; traps unless it is the address of an instruction"},

	SYSCALL: {SYSCALL, "syscall", FmtU24, CatSystem, "call the kernel: service uImm24, arguments a0-a5, results in a0 and a1; every other register keeps its value"},

	CAS:  {CAS, "cas", FmtABC, CatMemory, "atomically: old := 64 bits at R[B]; if old = R[A] then 64 bits at R[B] := R[C]; R[A] := old"},
	XADD: {XADD, "xadd", FmtABC, CatMemory, "atomically: old := 64 bits at R[B]; 64 bits at R[B] := old + R[C]; R[A] := old"},

	// A superinstruction, like Lua's FORLOOP and x86's loop: the increment and the test that
	// close nearly every counted loop, in one dispatch instead of two.
	LOOP: {LOOP, "loop", FmtBranch, CatBranch, "R[A] := R[A] + 1; if R[A] < R[B] signed then pc := pc + 4*sImm16"},
}

var byName = func() map[string]Opcode {
	m := make(map[string]Opcode, NumOpcodes)
	for _, in := range Table {
		m[in.Name] = in.Op
	}
	return m
}()

// Lookup returns the opcode with the given mnemonic.
func Lookup(name string) (Opcode, bool) {
	op, ok := byName[name]
	return op, ok
}

// Info returns the table entry of op; ok is false for an undefined opcode.
func (op Opcode) Info() (in Info, ok bool) {
	if op >= NumOpcodes {
		return Info{}, false
	}
	return Table[op], true
}

func (op Opcode) String() string {
	if op >= NumOpcodes {
		return fmt.Sprintf("op%d", uint8(op))
	}
	return Table[op].Name
}

// Operands are the fields of an instruction, before encoding or after decoding. Imm holds the
// immediate of any width; for a branch it is the offset in instructions from the branch itself.
type Operands struct {
	A, B, C int
	Imm     int64
}

// Encode builds an instruction word from its opcode and operands. It fails if an opcode is
// undefined, a register is out of range, or an immediate does not fit its field; it never
// truncates.
func Encode(op Opcode, o Operands) (Instr, error) {
	in, ok := op.Info()
	if !ok {
		return 0, fmt.Errorf("undefined opcode %d", op)
	}
	for _, r := range [...]int{o.A, o.B, o.C} {
		if r < 0 || r > 15 {
			return 0, fmt.Errorf("%s: register r%d out of range", in.Name, r)
		}
	}
	w := Instr(op)
	abc := func() Instr { return w | Instr(o.A)<<8 | Instr(o.B)<<12 | Instr(o.C)<<16 }
	fits := func(lo, hi int64, what string) error {
		if o.Imm < lo || o.Imm > hi {
			return fmt.Errorf("%s: %s %d out of range [%d, %d]", in.Name, what, o.Imm, lo, hi)
		}
		return nil
	}
	switch in.Format {
	case FmtN:
		return w, nil
	case FmtA:
		return w | Instr(o.A)<<8, nil
	case FmtAB:
		return w | Instr(o.A)<<8 | Instr(o.B)<<12, nil
	case FmtABC:
		return abc(), nil
	case FmtABI, FmtMem, FmtBranch:
		what := "immediate"
		if in.Format == FmtBranch {
			what = "branch offset"
		}
		if err := fits(MinImm16, MaxImm16, what); err != nil {
			return 0, err
		}
		return w | Instr(o.A)<<8 | Instr(o.B)<<12 | Instr(uint16(o.Imm))<<16, nil
	case FmtAI, FmtBranchZ:
		what := "immediate"
		if in.Format == FmtBranchZ {
			what = "branch offset"
		}
		if err := fits(MinImm20, MaxImm20, what); err != nil {
			return 0, err
		}
		return w | Instr(o.A)<<8 | Instr(uint32(o.Imm)&0xfffff)<<12, nil
	case FmtAK:
		if err := fits(0, MaxUimm20, "constant index"); err != nil {
			return 0, err
		}
		return w | Instr(o.A)<<8 | Instr(o.Imm)<<12, nil
	case FmtJ:
		if err := fits(MinImm24, MaxImm24, "jump offset"); err != nil {
			return 0, err
		}
		return w | Instr(uint32(o.Imm)&0xffffff)<<8, nil
	case FmtU24:
		if err := fits(0, MaxUimm24, "immediate"); err != nil {
			return 0, err
		}
		return w | Instr(o.Imm)<<8, nil
	}
	return 0, fmt.Errorf("%s: unknown format %d", in.Name, in.Format)
}

// Decode splits an instruction word into its opcode and operands. It fails for an undefined
// opcode or for a word that sets bits its format does not use, so that every word it accepts
// encodes back to itself.
func Decode(w Instr) (Opcode, Operands, error) {
	op := w.Op()
	in, ok := op.Info()
	if !ok {
		return op, Operands{}, fmt.Errorf("undefined opcode %d", uint8(op))
	}
	var o Operands
	var used Instr = 0xff
	switch in.Format {
	case FmtN:
	case FmtA:
		o.A, used = w.A(), 0xfff
	case FmtAB:
		o.A, o.B, used = w.A(), w.B(), 0xffff
	case FmtABC:
		o.A, o.B, o.C, used = w.A(), w.B(), w.C(), 0xfffff
	case FmtABI, FmtMem, FmtBranch:
		o.A, o.B, o.Imm, used = w.A(), w.B(), w.Imm16(), 0xffffffff
	case FmtAI, FmtBranchZ:
		o.A, o.Imm, used = w.A(), w.Imm20(), 0xffffffff
	case FmtAK:
		o.A, o.Imm, used = w.A(), int64(w.Uimm20()), 0xffffffff
	case FmtJ:
		o.Imm, used = w.Imm24(), 0xffffffff
	case FmtU24:
		o.Imm, used = int64(w.Uimm24()), 0xffffffff
	}
	if w&^used != 0 {
		return op, o, fmt.Errorf("%s: reserved bits set in %#08x", in.Name, uint32(w))
	}
	return op, o, nil
}
