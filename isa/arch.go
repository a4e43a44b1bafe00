package isa

import (
	"fmt"
	"strings"
)

// The registers. Each has a number, r0 to r15, and an alias that tells its role in the calling
// convention.
const (
	A0 = iota // argument 1, return value 1
	A1        // argument 2, return value 2
	A2
	A3
	A4
	A5 // argument 6
	T0 // temporaries, not preserved across calls
	T1
	T2
	T3
	S0 // saved: a callee that uses them restores them
	S1
	S2
	S3
	FP // frame pointer, saved
	SP // stack pointer, saved

	NumRegs = 16
)

// RegInfo describes a register's role in the calling convention.
type RegInfo struct {
	Num   int
	Alias string
	Saver string // "caller" or "callee"
	Role  string
}

// Regs lists the registers in number order.
var Regs = [NumRegs]RegInfo{
	{A0, "a0", "caller", "argument 1; return value"},
	{A1, "a1", "caller", "argument 2; second return value"},
	{A2, "a2", "caller", "argument 3"},
	{A3, "a3", "caller", "argument 4"},
	{A4, "a4", "caller", "argument 5"},
	{A5, "a5", "caller", "argument 6"},
	{T0, "t0", "caller", "temporary"},
	{T1, "t1", "caller", "temporary"},
	{T2, "t2", "caller", "temporary"},
	{T3, "t3", "caller", "temporary"},
	{S0, "s0", "callee", "saved"},
	{S1, "s1", "callee", "saved"},
	{S2, "s2", "callee", "saved"},
	{S3, "s3", "callee", "saved"},
	{FP, "fp", "callee", "frame pointer: the frame's saved fp is at 0(fp), its return address at 8(fp)"},
	{SP, "sp", "callee", "stack pointer: the last pushed word; the stack grows down"},
}

// RegName returns the alias of register n, such as "a0" or "sp".
func RegName(n int) string {
	if n < 0 || n >= NumRegs {
		return fmt.Sprintf("r%d", n)
	}
	return Regs[n].Alias
}

// IsRegName reports whether name is a register's, in any case. No label may have such a name:
// an operand would be read as the register. The assembler refuses such labels, and the object
// format such symbols, so that a listing of any image assembles again.
func IsRegName(name string) bool {
	_, ok := ParseReg(name)
	return ok
}

// ParseReg reads a register name: r0 to r15, or an alias. Case does not matter.
func ParseReg(s string) (int, bool) {
	s = strings.ToLower(s)
	for _, r := range Regs {
		if r.Alias == s {
			return r.Num, true
		}
	}
	// Plain decimal digits only, without a leading zero: strconv.Atoi would also take "r+1"
	// and "r-0", which are not register names.
	if len(s) < 2 || len(s) > 3 || s[0] != 'r' || (len(s) == 3 && s[1] == '0') {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s[1:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n >= NumRegs {
		return 0, false
	}
	return n, true
}

// The memory map. Code and data are separate address spaces, but their addresses do not overlap,
// so that a code address is never mistaken for a data address. The layout follows MARS and SPIM,
// which many courses use.
const (
	// TextBase is the address of the first instruction; instruction i is at TextBase + 4*i.
	TextBase = 0x0040_0000
	// DataBase is where the .data section starts, then .bss, then the heap that brk and sbrk
	// grow. The main thread's stack lies just below DataBase and grows down, so that a
	// process's memory is one range, from the bottom of that stack to the break. Addresses
	// below the stack, the null pointer among them, are out of bounds.
	DataBase = 0x1000_0000
	// InstrSize is the size of an instruction word in bytes.
	InstrSize = 4
)

// MaxText is the most instructions a program's text may have: 16 Mi words, 64 MiB of code. The
// object format and the loader both hold a text to it, so that what one accepts the other runs.
const MaxText = 1 << 24

// CodeAddr returns the address of instruction index i.
func CodeAddr(i int) uint64 { return TextBase + InstrSize*uint64(i) }

// TextSpan describes a text of n instructions for messages about addresses that are not in it:
// "the text holds 4, at 0x00400000 to 0x0040000c".
func TextSpan(n int) string {
	if n == 0 {
		return "the text is empty"
	}
	return fmt.Sprintf("the text holds %d, at %#08x to %#08x", n, CodeAddr(0), CodeAddr(n-1))
}

// CodeIndex returns the instruction index of code address a, and whether a is an instruction's
// address in a text of n instructions.
func CodeIndex(a uint64, n int) (int, bool) {
	off := a - TextBase
	if n <= 0 || a < TextBase || off%InstrSize != 0 || off/InstrSize >= uint64(n) {
		return 0, false
	}
	return int(off / InstrSize), true
}

// Trap is the kind of fault that stops a program.
type Trap uint8

// The traps. Their numbers are stable.
const (
	TrapNone Trap = iota
	TrapIllegal
	TrapDivZero
	TrapMemory
	TrapStackOverflow
	TrapBadJump
	TrapBadSyscall
	TrapSyscallArg
	TrapBreakpoint
	NumTraps
)

// TrapInfo names and explains a trap.
type TrapInfo struct {
	Trap Trap
	Name string
	Doc  string
}

// Traps lists the traps in number order.
var Traps = [NumTraps]TrapInfo{
	{TrapNone, "none", "no trap"},
	{TrapIllegal, "illegal instruction", "the instruction at pc is illegal (the all-zero word), or pc reached the word just past the end of the text, by running on or by jr, callr or ret; a word that is no instruction at all never loads"},
	{TrapDivZero, "division by zero", "div, divu, rem or remu with a zero divisor"},
	{TrapMemory, "memory access out of bounds", "an instruction (a load or store, one that uses the stack, cas or xadd) touches an address outside the process's memory: below the bottom of the main thread's stack (DataBase minus the stack size), or at or past the break; an address below 4096 is reported as a null pointer"},
	{TrapStackOverflow, "stack overflow", "push, call, callr or enter would move sp below the bottom of the thread's stack"},
	{TrapBadJump, "bad jump target", "jr, callr or ret to an address that is neither an instruction's nor one of the three words the loader appends after the text"},
	{TrapBadSyscall, "bad syscall", "syscall with a service number that does not exist"},
	{TrapSyscallArg, "bad syscall argument", "a syscall argument is invalid, such as a buffer outside memory"},
	{TrapBreakpoint, "breakpoint", "ebreak, under spindle run (spindle debug stops there, and goes on after it)"},
}

func (t Trap) String() string {
	if t < NumTraps {
		return Traps[t].Name
	}
	return fmt.Sprintf("trap %d", uint8(t))
}
