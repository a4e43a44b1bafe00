// Package ref is a reference interpreter of Spindle's instruction set: one thread of one
// process, written to be read beside docs/isa.md and docs/syscalls.md rather than to be fast.
// It shares nothing with the interpreter of package vm but the isa package (the table, the
// decoder and the memory map), so that running a program on both and comparing what they did
// tests the fast loop against the documents (see vm/fuzz_diff_test.go).
//
// Each instruction is decoded by isa.Decode when it runs. The arithmetic and the branch
// conditions are written once, in the tables below, and shared by the register and the
// immediate forms of an instruction, which differ only in where the second operand comes from.
// An instruction that traps changes nothing. Where the documents leave a choice open, the
// reference makes the VM's, and says so where it does.
package ref

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/spindle-vm/spindle/isa"
)

// A Machine is the state a run starts from: the process as the loader built it, and its
// only thread.
type Machine struct {
	Text   []isa.Instr // the image's text, without the three words the loader appends
	Consts []uint64    // the constant pool

	// Mem is the process's memory, from the bottom of the main stack to the break: Mem[i] is at
	// address Base+i. The initial break, Base+len(Mem), is the lowest the heap may shrink to.
	// Run works on a copy.
	Base uint64
	Mem  []byte

	Regs             [isa.NumRegs]uint64
	PC               uint64 // the code address of the first instruction to run
	StackLo, StackHi uint64 // the thread's stack: push, call, callr and enter trap below StackLo

	MaxMem   uint64   // bytes from Base that the break may reach
	MaxSteps uint64   // instructions before the run stops; 0 means no limit
	Input    []byte   // descriptor 0, available whole from the start
	Args     []uint64 // the addresses of the argument strings, for argc and argv
}

// Stop says how a run ended.
type Stop uint8

const (
	Exited    Stop = iota // exit, halt, a return from the entry, or the end of the only thread
	Trapped               // a trap: Result.Trap says which
	StepLimit             // MaxSteps instructions ran
	MemLimit              // brk or sbrk asked for more than MaxMem
)

func (s Stop) String() string {
	return [...]string{"exited", "trapped", "step limit", "memory limit"}[s]
}

// Result is the state a run ended in.
type Result struct {
	Stop     Stop
	ExitCode int64    // for Exited
	Trap     isa.Trap // for Trapped
	// PC is the code address of the instruction that trapped or asked for too much memory, or
	// for StepLimit of the next instruction to run.
	PC             uint64
	Regs           [isa.NumRegs]uint64
	Base           uint64
	Mem            []byte
	Stdout, Stderr []byte
	Steps          uint64 // instructions executed, the last one included
	PeakBreak      uint64 // the highest the break reached
}

// ErrUnsupported is returned for a service that the reference does not model: the ones that
// need other threads or processes, time, or pipes.
var ErrUnsupported = errors.New("ref: service not modelled")

// alu holds the ALU operations of two operands; the immediate forms in immForm use the same
// function with the sign-extended sImm16 as y. An operation that cannot complete returns a trap.
var alu = map[isa.Opcode]func(x, y uint64) (uint64, isa.Trap){
	isa.ADD: func(x, y uint64) (uint64, isa.Trap) { return x + y, 0 },
	isa.SUB: func(x, y uint64) (uint64, isa.Trap) { return x - y, 0 },
	isa.MUL: func(x, y uint64) (uint64, isa.Trap) { return x * y, 0 },
	isa.DIV: func(x, y uint64) (uint64, isa.Trap) {
		switch {
		case y == 0:
			return 0, isa.TrapDivZero
		case int64(x) == minInt64 && int64(y) == -1:
			return x, 0 // the one quotient that does not fit wraps
		}
		return uint64(int64(x) / int64(y)), 0
	},
	isa.DIVU: func(x, y uint64) (uint64, isa.Trap) {
		if y == 0 {
			return 0, isa.TrapDivZero
		}
		return x / y, 0
	},
	isa.REM: func(x, y uint64) (uint64, isa.Trap) {
		switch {
		case y == 0:
			return 0, isa.TrapDivZero
		case int64(y) == -1:
			return 0, 0
		}
		return uint64(int64(x) % int64(y)), 0
	},
	isa.REMU: func(x, y uint64) (uint64, isa.Trap) {
		if y == 0 {
			return 0, isa.TrapDivZero
		}
		return x % y, 0
	},
	isa.AND:  func(x, y uint64) (uint64, isa.Trap) { return x & y, 0 },
	isa.OR:   func(x, y uint64) (uint64, isa.Trap) { return x | y, 0 },
	isa.XOR:  func(x, y uint64) (uint64, isa.Trap) { return x ^ y, 0 },
	isa.SHL:  func(x, y uint64) (uint64, isa.Trap) { return x << (y & 63), 0 },
	isa.SHR:  func(x, y uint64) (uint64, isa.Trap) { return x >> (y & 63), 0 },
	isa.SAR:  func(x, y uint64) (uint64, isa.Trap) { return uint64(int64(x) >> (y & 63)), 0 },
	isa.SLT:  func(x, y uint64) (uint64, isa.Trap) { return bit(int64(x) < int64(y)), 0 },
	isa.SLTU: func(x, y uint64) (uint64, isa.Trap) { return bit(x < y), 0 },
	isa.SEQ:  func(x, y uint64) (uint64, isa.Trap) { return bit(x == y), 0 },
	isa.SNE:  func(x, y uint64) (uint64, isa.Trap) { return bit(x != y), 0 },
}

const minInt64 = -1 << 63

var immForm = map[isa.Opcode]isa.Opcode{
	isa.ADDI: isa.ADD, isa.MULI: isa.MUL, isa.ANDI: isa.AND, isa.ORI: isa.OR, isa.XORI: isa.XOR,
	isa.SHLI: isa.SHL, isa.SHRI: isa.SHR, isa.SARI: isa.SAR, isa.SLTI: isa.SLT, isa.SLTIU: isa.SLTU,
}

// loads gives each load's width in bytes and whether it sign-extends; stores their widths.
var loads = map[isa.Opcode]struct {
	size   uint64
	signed bool
}{
	isa.LB: {1, true}, isa.LBU: {1, false}, isa.LH: {2, true}, isa.LHU: {2, false},
	isa.LW: {4, true}, isa.LWU: {4, false}, isa.LD: {8, false},
}

var stores = map[isa.Opcode]uint64{isa.SB: 1, isa.SH: 2, isa.SW: 4, isa.SD: 8}

// branches compare R[A] with R[B], or with 0 for the BranchZ format.
var branches = map[isa.Opcode]func(x, y uint64) bool{
	isa.BEQ:  func(x, y uint64) bool { return x == y },
	isa.BNE:  func(x, y uint64) bool { return x != y },
	isa.BLT:  func(x, y uint64) bool { return int64(x) < int64(y) },
	isa.BGE:  func(x, y uint64) bool { return int64(x) >= int64(y) },
	isa.BLTU: func(x, y uint64) bool { return x < y },
	isa.BGEU: func(x, y uint64) bool { return x >= y },
	isa.BEQZ: func(x, y uint64) bool { return x == y },
	isa.BNEZ: func(x, y uint64) bool { return x != y },
}

func bit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// machine is a run in progress.
type machine struct {
	Machine
	code   []isa.Instr // Text, then the three appended words
	pc     int         // index of the current instruction in code
	brk    uint64
	heapLo uint64
	in     []byte
	closed [3]bool // descriptors 0-2 closed by the close service
	res    Result
}

// Run runs m until its process exits, traps or reaches a limit. The error is ErrUnsupported for
// a service the reference does not model, and nil otherwise.
func Run(m Machine) (Result, error) {
	r := &machine{Machine: m, in: m.Input}
	r.Mem = bytes.Clone(m.Mem)
	r.brk = m.Base + uint64(len(m.Mem))
	r.heapLo, r.res.PeakBreak = r.brk, r.brk
	// The loader appends an illegal word, which stops a run past the end of the text; an exit,
	// to which the entry returns; and a thread_exit, to which other threads' entries return.
	r.code = append(append([]isa.Instr(nil), m.Text...), 0,
		isa.Instr(isa.SYSCALL)|isa.Instr(isa.SysExit)<<8, isa.Instr(isa.SYSCALL)|isa.Instr(isa.SysThreadExit)<<8)
	pc, ok := isa.CodeIndex(m.PC, len(r.code))
	if !ok {
		return Result{}, fmt.Errorf("ref: the start %#x is not an instruction's address", m.PC)
	}
	r.pc = pc
	for {
		var done bool
		var err error
		if m.MaxSteps > 0 && r.res.Steps >= m.MaxSteps {
			// The run stops before the instruction that would pass the limit.
			r.res.Stop, r.res.PC = StepLimit, isa.CodeAddr(r.pc)
			done = true
		} else if done, err = r.step(); err != nil {
			return Result{}, err
		}
		if done {
			r.res.Regs, r.res.Base, r.res.Mem = r.Regs, r.Base, r.Mem
			return r.res, nil
		}
	}
}

// step executes the instruction at pc. It reports whether the run is over.
func (r *machine) step() (done bool, err error) {
	R := &r.Regs
	if r.pc < 0 || r.pc >= len(r.code) {
		return false, fmt.Errorf("ref: a branch left the text, to instruction %d", r.pc)
	}
	r.res.Steps++
	op, o, derr := isa.Decode(r.code[r.pc])
	if derr != nil {
		return r.trap(isa.TrapIllegal), nil
	}
	next := r.pc + 1
	jump := func(target uint64) bool { // for jr, callr and ret
		i, ok := isa.CodeIndex(target, len(r.code))
		next = i
		return ok
	}
	switch op {
	case isa.ILLEGAL:
		return r.trap(isa.TrapIllegal), nil
	case isa.NOP:
	case isa.HALT:
		return r.exit(0), nil
	case isa.EBREAK:
		return r.trap(isa.TrapBreakpoint), nil
	case isa.MOV:
		R[o.A] = R[o.B]
	case isa.LI:
		R[o.A] = uint64(o.Imm)
	case isa.LK:
		if o.Imm >= int64(len(r.Consts)) {
			return false, fmt.Errorf("ref: lk names constant %d of %d", o.Imm, len(r.Consts))
		}
		R[o.A] = r.Consts[o.Imm]
	case isa.NOT:
		R[o.A] = ^R[o.B]
	case isa.NEG:
		R[o.A] = -R[o.B]

	case isa.PUSH:
		// The value pushed is R[A] before sp moves, so `push sp` stores the old sp.
		if t := r.push(R[o.A]); t != 0 {
			return r.trap(t), nil
		}
	case isa.POP:
		v, ok := r.load(R[isa.SP], 8)
		if !ok {
			return r.trap(isa.TrapMemory), nil
		}
		// sp moves before R[A] is written, so `pop sp` loads sp.
		R[isa.SP] += 8
		R[o.A] = v
	case isa.ENTER:
		sp := R[isa.SP] - 8
		low := sp - uint64(o.Imm)
		if t := r.stackCheck(sp); t != 0 {
			return r.trap(t), nil
		}
		// A frame that would take sp below address 0 is an overflow too. (The VM reports it
		// as an access out of bounds; it takes a main stack of more than 240 MiB to happen.)
		if low < r.StackLo || low > sp {
			return r.trap(isa.TrapStackOverflow), nil
		}
		r.push(R[isa.FP])
		R[isa.FP], R[isa.SP] = sp, low
	case isa.LEAVE:
		v, ok := r.load(R[isa.FP], 8)
		if !ok {
			return r.trap(isa.TrapMemory), nil
		}
		R[isa.SP], R[isa.FP] = R[isa.FP]+8, v

	case isa.JMP:
		next = r.pc + int(o.Imm)
	case isa.JR:
		if !jump(R[o.A]) {
			return r.trap(isa.TrapBadJump), nil
		}
	case isa.CALL:
		if t := r.push(isa.CodeAddr(r.pc + 1)); t != 0 {
			return r.trap(t), nil
		}
		next = r.pc + int(o.Imm)
	case isa.CALLR:
		// The target is checked before the return address is pushed.
		if !jump(R[o.A]) {
			return r.trap(isa.TrapBadJump), nil
		}
		if t := r.push(isa.CodeAddr(r.pc + 1)); t != 0 {
			return r.trap(t), nil
		}
	case isa.RET:
		a, ok := r.load(R[isa.SP], 8)
		if !ok {
			return r.trap(isa.TrapMemory), nil
		}
		if !jump(a) {
			return r.trap(isa.TrapBadJump), nil
		}
		R[isa.SP] += 8

	case isa.SYSCALL:
		done, err := r.syscall(isa.Syscall(o.Imm))
		if done || err != nil {
			return true, err
		}

	case isa.LOOP:
		R[o.A]++
		if int64(R[o.A]) < int64(R[o.B]) {
			next = r.pc + int(o.Imm)
		}

	case isa.CAS, isa.XADD:
		old, ok := r.load(R[o.B], 8)
		if !ok {
			return r.trap(isa.TrapMemory), nil
		}
		if op == isa.XADD {
			r.store(R[o.B], 8, old+R[o.C])
		} else if old == R[o.A] {
			r.store(R[o.B], 8, R[o.C])
		}
		R[o.A] = old

	default:
		if base, ok := immForm[op]; ok {
			R[o.A], _ = alu[base](R[o.B], uint64(o.Imm)) // none of them can trap
		} else if f, ok := alu[op]; ok {
			v, t := f(R[o.B], R[o.C])
			if t != 0 {
				return r.trap(t), nil
			}
			R[o.A] = v
		} else if l, ok := loads[op]; ok {
			v, ok := r.load(R[o.B]+uint64(o.Imm), l.size)
			if !ok {
				return r.trap(isa.TrapMemory), nil
			}
			if l.signed {
				shift := 64 - 8*l.size
				v = uint64(int64(v<<shift) >> shift)
			}
			R[o.A] = v
		} else if size, ok := stores[op]; ok {
			if !r.store(R[o.B]+uint64(o.Imm), size, R[o.A]) {
				return r.trap(isa.TrapMemory), nil
			}
		} else if cond, ok := branches[op]; ok {
			y := uint64(0)
			if isa.Table[op].Format == isa.FmtBranch {
				y = R[o.B]
			}
			if cond(R[o.A], y) {
				next = r.pc + int(o.Imm)
			}
		} else {
			return false, fmt.Errorf("ref: no semantics for %s", isa.Table[op].Name)
		}
	}
	r.pc = next
	return false, nil
}

// trap ends the run with a trap at the current instruction, which has changed nothing.
func (r *machine) trap(t isa.Trap) bool {
	r.res.Stop, r.res.Trap, r.res.PC = Trapped, t, isa.CodeAddr(r.pc)
	return true
}

func (r *machine) exit(code int64) bool {
	r.res.Stop, r.res.ExitCode = Exited, code
	return true
}

// bytesAt returns the n bytes of memory at addr, if they all lie in memory.
func (r *machine) bytesAt(addr, n uint64) ([]byte, bool) {
	off := addr - r.Base
	if addr < r.Base || off > uint64(len(r.Mem)) || n > uint64(len(r.Mem))-off {
		return nil, false
	}
	return r.Mem[off : off+n], true
}

// load reads an n-byte little-endian value, zero-extended.
func (r *machine) load(addr, n uint64) (uint64, bool) {
	b, ok := r.bytesAt(addr, n)
	if !ok {
		return 0, false
	}
	var v uint64
	for i := range b {
		v |= uint64(b[i]) << (8 * i)
	}
	return v, true
}

func (r *machine) store(addr, n, v uint64) bool {
	b, ok := r.bytesAt(addr, n)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return ok
}

// stackCheck says how a push to sp would trap: below the stack's bottom is an overflow, and
// elsewhere outside memory an access out of bounds.
func (r *machine) stackCheck(sp uint64) isa.Trap {
	if sp < r.StackLo {
		return isa.TrapStackOverflow
	}
	if _, ok := r.bytesAt(sp, 8); !ok {
		return isa.TrapMemory
	}
	return 0
}

func (r *machine) push(v uint64) isa.Trap {
	sp := r.Regs[isa.SP] - 8
	if t := r.stackCheck(sp); t != 0 {
		return t
	}
	r.store(sp, 8, v)
	r.Regs[isa.SP] = sp
	return 0
}

// syscall carries out service n. Results go in a0 (and a1); every other register keeps its
// value, and the print services keep a0 and a1 too.
func (r *machine) syscall(n isa.Syscall) (done bool, err error) {
	R := &r.Regs
	a0, a1, a2 := R[isa.A0], R[isa.A1], R[isa.A2]
	switch n {
	case isa.SysExit:
		return r.exit(int64(a0)), nil
	case isa.SysThreadExit:
		return r.exit(0), nil // the only thread ends, and with it the process, with status 0
	case isa.SysWrite:
		b, ok := r.bytesAt(a1, a2)
		if !ok {
			return r.trap(isa.TrapSyscallArg), nil
		}
		R[isa.A0] = uint64(len(b))
		switch {
		case a0 == 1 && !r.closed[1]:
			r.res.Stdout = append(r.res.Stdout, b...)
		case a0 == 2 && !r.closed[2]:
			r.res.Stderr = append(r.res.Stderr, b...)
		default:
			R[isa.A0] = ^uint64(0)
		}
	case isa.SysRead:
		b, ok := r.bytesAt(a1, a2)
		if !ok {
			return r.trap(isa.TrapSyscallArg), nil
		}
		R[isa.A0] = ^uint64(0)
		if a0 == 0 && !r.closed[0] {
			k := copy(b, r.in)
			r.in = r.in[k:]
			R[isa.A0] = uint64(k)
		}
	case isa.SysPrintInt:
		r.print(strconv.AppendInt(nil, int64(a0), 10))
	case isa.SysPutc:
		r.print([]byte{byte(a0)})
	case isa.SysPuts:
		s, ok := r.bytesAt(a0, 1)
		if ok {
			s = r.Mem[a0-r.Base:]
			s = s[:min(len(s), maxString)]
		}
		i := bytes.IndexByte(s, 0)
		if i < 0 {
			return r.trap(isa.TrapSyscallArg), nil
		}
		r.print(s[:i])
	case isa.SysReadInt:
		R[isa.A0], R[isa.A1] = 0, 0
		if r.closed[0] {
			break
		}
		line := r.in
		if i := bytes.IndexByte(r.in, '\n'); i >= 0 {
			line = r.in[:i+1]
		}
		r.in = r.in[len(line):]
		if len(line) > maxLine {
			break // a line too long is consumed, and refused
		}
		if v, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 10, 64); err == nil {
			R[isa.A0], R[isa.A1] = uint64(v), 1
		}
	case isa.SysBrk:
		if a0 != 0 && a0 != r.brk {
			if a0 > r.brk && a0-r.Base > r.MaxMem {
				return r.memLimit(), nil
			}
			r.setBrk(a0)
		}
		R[isa.A0] = r.brk
	case isa.SysSbrk:
		old, nb := r.brk, r.brk+a0
		switch {
		case int64(a0) < 0 && nb > old || int64(a0) > 0 && nb < old:
			R[isa.A0] = ^uint64(0) // the break would wrap around the address space
		case nb > old && nb-r.Base > r.MaxMem:
			return r.memLimit(), nil
		case !r.setBrk(nb):
			R[isa.A0] = ^uint64(0)
		default:
			R[isa.A0] = old
		}
	case isa.SysArgc:
		R[isa.A0] = uint64(len(r.Args))
	case isa.SysArgv:
		R[isa.A0] = 0
		if a0 < uint64(len(r.Args)) {
			R[isa.A0] = r.Args[a0]
		}
	case isa.SysGettid, isa.SysGetpid:
		R[isa.A0] = 1
	case isa.SysYield:
		// The only thread goes on.
	case isa.SysThreadJoin:
		// There is no other thread, and a thread cannot join itself.
		return r.trap(isa.TrapSyscallArg), nil
	case isa.SysClose:
		R[isa.A0] = ^uint64(0)
		if a0 < 3 && !r.closed[a0] {
			r.closed[a0] = true
			R[isa.A0] = 0
		}
	default:
		if _, ok := n.Info(); ok {
			return true, fmt.Errorf("%w: %d", ErrUnsupported, n)
		}
		return r.trap(isa.TrapBadSyscall), nil
	}
	return false, nil
}

// The longest string puts takes, and the longest line read_int takes, newline included.
const (
	maxString = 4096
	maxLine   = 4096
)

func (r *machine) print(b []byte) {
	if !r.closed[1] {
		r.res.Stdout = append(r.res.Stdout, b...)
	}
}

func (r *machine) memLimit() bool {
	r.res.Stop, r.res.PC = MemLimit, isa.CodeAddr(r.pc)
	return true
}

// setBrk moves the break to nb, unless nb is below the heap's start or past MaxMem. Memory
// given back reads as zeros if it is taken again.
func (r *machine) setBrk(nb uint64) bool {
	if nb < r.heapLo || nb-r.Base > r.MaxMem {
		return false
	}
	size := nb - r.Base
	if size < uint64(len(r.Mem)) {
		r.Mem = r.Mem[:size:size]
	} else {
		r.Mem = append(r.Mem, make([]byte, size-uint64(len(r.Mem)))...)
	}
	r.brk = nb
	r.res.PeakBreak = max(r.res.PeakBreak, nb)
	return true
}
