package vm

import (
	"encoding/binary"
	"math/bits"
	"unsafe"

	"github.com/spindle-vm/spindle/isa"
)

//go:generate go run ./internal/genloop

// trace prints every instruction as it runs. It is a constant so that the compiler deletes the
// tracing code from the loop when it is false.
const trace = false

var le = binary.LittleEndian

// exec runs thread t until its process exits, traps or is stopped. It returns nil when the
// process exited.
//
// This is the hot loop; everything in it is there for speed. pc, the code slice and the budget
// live in locals; r points at the thread's registers, so a context switch only changes where it
// points. Each case ends with pc++ and continue, or with a jump; the cases that are check points
// goto check, where the budget is tested. A fault returns through one call out of line (fault,
// memFault, ...), which stores pc and retires the steps, so that no error variable lives across
// the loop.
//
// Each case has a continue of its own. When they all fell out of the switch to one continue
// below it, the compiler merged them in a block between the cases and the loop's head, which
// moved pc from one register to another and jumped once more on every instruction: without it,
// fib 35 runs 6 to 9% faster (two binaries, 11 and 13 interleaved runs) and loop 3e7 2%, and
// callgrind counts 4% fewer host instructions on fib 25 and on loop 1e6. Labels and a goto at
// the end of each case did as well, within the noise; with a single goto after the switch, 2.5%
// fewer host instructions ran 3 to 9% slower. Testing the budget in place at each check point,
// with a jump to check only when it has run out, saved a taken jump on every taken branch, call
// and return, and measured the same (fib, loop and sieve within 1%).
//
// Memory is reached through p.mem rather than a local copy. A local would have to be reloaded
// after each syscall, since sbrk may move it; that made it a loop-carried value, and with it
// the register allocator spilled the instruction word and the slice's length on every
// dispatch. Without it the loop ran 10% fewer host instructions on programs/bench/loop.s and
// 7% fewer on fib (counted with callgrind), memory operations included.
func (c *cpu) exec(t *Thread) error {
	p := t.Proc
	code := p.code
	r := &t.R
	pc := t.PC
	if uint(pc) >= uint(len(code)) {
		return c.badPC(t)
	}

	// stepping is true in execStep, the copy of this loop that tests the budget before every
	// instruction; marking is true in execStep and execMark, the copies that note the pages
	// stores write, for the next snapshot (see Process.wrote), and which alone run a machine
	// that has been snapshotted. See vm/internal/genloop.
	const stepping = false
	const marking = false

	// The slice goes on where it stopped. A thread that blocks, or a process that comes onto
	// the processor, does not begin a new one: if it did, a program that blocks once a slice
	// would never reach a check point, and no stop, kill or preemption would ever reach it.
	budget := c.carried()
	if !stepping && c.exact {
		return c.toStepping(t)
	}
	// edge is the budget at which execStep stops before the next instruction: the step
	// limit's, a stop that Resume asked for, or the random policy's end of a quantum (see
	// setEdge). exec has none: it never runs where one is near.
	edge := c.edge

	for {
		ins := fetch(code, pc)
		if stepping && budget <= edge {
			goto stop
		}
		if preempt {
			budget--
		}
		if trace {
			c.traceInstr(t, pc, ins)
		}
		switch ins.Op() {
		case isa.ILLEGAL:
			return c.fault(t, pc, budget, isa.TrapIllegal, "")
		case isa.NOP:
			pc++
			continue
		case isa.HALT:
			p.exit(0)
			return c.leave(t, pc, budget, nil)
		case isa.EBREAK:
			return c.fault(t, pc, budget, isa.TrapBreakpoint, "")

		case isa.MOV:
			r[ins.A()] = r[ins.B()]
			pc++
			continue
		case isa.LI:
			r[ins.A()] = uint64(ins.Imm20())
			pc++
			continue
		case isa.LK:
			r[ins.A()] = p.consts[ins.Uimm20()]
			pc++
			continue

		case isa.ADD:
			r[ins.A()] = r[ins.B()] + r[ins.C()]
			pc++
			continue
		case isa.SUB:
			r[ins.A()] = r[ins.B()] - r[ins.C()]
			pc++
			continue
		case isa.MUL:
			r[ins.A()] = r[ins.B()] * r[ins.C()]
			pc++
			continue
		case isa.DIV:
			d := int64(r[ins.C()])
			if d == 0 {
				return c.fault(t, pc, budget, isa.TrapDivZero, "")
			}
			// Go defines MinInt64 / -1 as MinInt64, which is the wrapping result we want.
			r[ins.A()] = uint64(int64(r[ins.B()]) / d)
			pc++
			continue
		case isa.DIVU:
			d := r[ins.C()]
			if d == 0 {
				return c.fault(t, pc, budget, isa.TrapDivZero, "")
			}
			r[ins.A()] = r[ins.B()] / d
			pc++
			continue
		case isa.REM:
			d := int64(r[ins.C()])
			if d == 0 {
				return c.fault(t, pc, budget, isa.TrapDivZero, "")
			}
			r[ins.A()] = uint64(int64(r[ins.B()]) % d)
			pc++
			continue
		case isa.REMU:
			d := r[ins.C()]
			if d == 0 {
				return c.fault(t, pc, budget, isa.TrapDivZero, "")
			}
			r[ins.A()] = r[ins.B()] % d
			pc++
			continue
		case isa.AND:
			r[ins.A()] = r[ins.B()] & r[ins.C()]
			pc++
			continue
		case isa.OR:
			r[ins.A()] = r[ins.B()] | r[ins.C()]
			pc++
			continue
		case isa.XOR:
			r[ins.A()] = r[ins.B()] ^ r[ins.C()]
			pc++
			continue
		case isa.SHL:
			r[ins.A()] = r[ins.B()] << (r[ins.C()] & 63)
			pc++
			continue
		case isa.SHR:
			r[ins.A()] = r[ins.B()] >> (r[ins.C()] & 63)
			pc++
			continue
		case isa.SAR:
			r[ins.A()] = uint64(int64(r[ins.B()]) >> (r[ins.C()] & 63))
			pc++
			continue
		case isa.SLT:
			r[ins.A()] = flag(int64(r[ins.B()]) < int64(r[ins.C()]))
			pc++
			continue
		case isa.SLTU:
			r[ins.A()] = flag(r[ins.B()] < r[ins.C()])
			pc++
			continue
		case isa.SEQ:
			r[ins.A()] = flag(r[ins.B()] == r[ins.C()])
			pc++
			continue
		case isa.SNE:
			r[ins.A()] = flag(r[ins.B()] != r[ins.C()])
			pc++
			continue
		case isa.NOT:
			r[ins.A()] = ^r[ins.B()]
			pc++
			continue
		case isa.NEG:
			r[ins.A()] = -r[ins.B()]
			pc++
			continue

		case isa.ADDI:
			r[ins.A()] = r[ins.B()] + uint64(ins.Imm16())
			pc++
			continue
		case isa.MULI:
			r[ins.A()] = r[ins.B()] * uint64(ins.Imm16())
			pc++
			continue
		case isa.ANDI:
			r[ins.A()] = r[ins.B()] & uint64(ins.Imm16())
			pc++
			continue
		case isa.ORI:
			r[ins.A()] = r[ins.B()] | uint64(ins.Imm16())
			pc++
			continue
		case isa.XORI:
			r[ins.A()] = r[ins.B()] ^ uint64(ins.Imm16())
			pc++
			continue
		case isa.SHLI:
			r[ins.A()] = r[ins.B()] << (ins.Imm16() & 63)
			pc++
			continue
		case isa.SHRI:
			r[ins.A()] = r[ins.B()] >> (ins.Imm16() & 63)
			pc++
			continue
		case isa.SARI:
			r[ins.A()] = uint64(int64(r[ins.B()]) >> (ins.Imm16() & 63))
			pc++
			continue
		case isa.SLTI:
			r[ins.A()] = flag(int64(r[ins.B()]) < ins.Imm16())
			pc++
			continue
		case isa.SLTIU:
			r[ins.A()] = flag(r[ins.B()] < uint64(ins.Imm16()))
			pc++
			continue

		// Loads and stores: off wraps to a huge number for an address below memBase, so one
		// unsigned comparison checks both ends. len(mem) is at least the main thread's stack
		// (MinStackSize), so len(mem)-8 cannot wrap around.
		case isa.LB:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off >= uint64(len(p.mem)) {
				return c.memFault(t, pc, budget, off+p.memBase, 1)
			}
			r[ins.A()] = uint64(int8(p.mem[off]))
			pc++
			continue
		case isa.LBU:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off >= uint64(len(p.mem)) {
				return c.memFault(t, pc, budget, off+p.memBase, 1)
			}
			r[ins.A()] = uint64(p.mem[off])
			pc++
			continue
		case isa.LH:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off > uint64(len(p.mem))-2 {
				return c.memFault(t, pc, budget, off+p.memBase, 2)
			}
			r[ins.A()] = uint64(int16(le.Uint16(at2(p.mem, off)[:])))
			pc++
			continue
		case isa.LHU:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off > uint64(len(p.mem))-2 {
				return c.memFault(t, pc, budget, off+p.memBase, 2)
			}
			r[ins.A()] = uint64(le.Uint16(at2(p.mem, off)[:]))
			pc++
			continue
		case isa.LW:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off > uint64(len(p.mem))-4 {
				return c.memFault(t, pc, budget, off+p.memBase, 4)
			}
			r[ins.A()] = uint64(int32(le.Uint32(at4(p.mem, off)[:])))
			pc++
			continue
		case isa.LWU:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off > uint64(len(p.mem))-4 {
				return c.memFault(t, pc, budget, off+p.memBase, 4)
			}
			r[ins.A()] = uint64(le.Uint32(at4(p.mem, off)[:]))
			pc++
			continue
		case isa.LD:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off > uint64(len(p.mem))-8 {
				return c.memFault(t, pc, budget, off+p.memBase, 8)
			}
			r[ins.A()] = le.Uint64(at8(p.mem, off)[:])
			pc++
			continue
		case isa.SB:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off >= uint64(len(p.mem)) {
				return c.memFault(t, pc, budget, off+p.memBase, 1)
			}
			p.mem[off] = byte(r[ins.A()])
			if marking {
				p.wrote(off, 1)
			}
			pc++
			continue
		case isa.SH:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off > uint64(len(p.mem))-2 {
				return c.memFault(t, pc, budget, off+p.memBase, 2)
			}
			le.PutUint16(at2(p.mem, off)[:], uint16(r[ins.A()]))
			if marking {
				p.wrote(off, 2)
			}
			pc++
			continue
		case isa.SW:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off > uint64(len(p.mem))-4 {
				return c.memFault(t, pc, budget, off+p.memBase, 4)
			}
			le.PutUint32(at4(p.mem, off)[:], uint32(r[ins.A()]))
			if marking {
				p.wrote(off, 4)
			}
			pc++
			continue
		case isa.SD:
			off := r[ins.B()] + uint64(ins.Imm16()) - p.memBase
			if off > uint64(len(p.mem))-8 {
				return c.memFault(t, pc, budget, off+p.memBase, 8)
			}
			le.PutUint64(at8(p.mem, off)[:], r[ins.A()])
			if marking {
				p.wrote(off, 8)
			}
			pc++
			continue

		// The stack: sp below stackLo is an overflow; the same comparison on off as for loads
		// catches an sp that points outside memory altogether.
		case isa.PUSH:
			sp := r[isa.SP] - 8
			off := sp - p.memBase
			if sp < t.StackLo || off > uint64(len(p.mem))-8 {
				return c.stackFault(t, pc, budget, sp)
			}
			le.PutUint64(at8(p.mem, off)[:], r[ins.A()])
			if marking {
				p.wrote(off, 8)
			}
			r[isa.SP] = sp
			pc++
			continue
		case isa.POP:
			sp := r[isa.SP]
			off := sp - p.memBase
			if off > uint64(len(p.mem))-8 {
				return c.memFault(t, pc, budget, sp, 8)
			}
			r[isa.SP] = sp + 8
			r[ins.A()] = le.Uint64(at8(p.mem, off)[:])
			pc++
			continue
		case isa.ENTER:
			sp := r[isa.SP] - 8
			off := sp - p.memBase
			if sp < t.StackLo || off > uint64(len(p.mem))-8 {
				return c.stackFault(t, pc, budget, sp)
			}
			// Both checks come before any write: a trap leaves the thread as it found it.
			nsp := sp - uint64(ins.Uimm24())
			if nsp < t.StackLo || nsp > sp {
				return c.stackFault(t, pc, budget, nsp)
			}
			le.PutUint64(at8(p.mem, off)[:], r[isa.FP])
			if marking {
				p.wrote(off, 8)
			}
			r[isa.FP] = sp
			r[isa.SP] = nsp
			pc++
			continue
		case isa.LEAVE:
			fp := r[isa.FP]
			off := fp - p.memBase
			if off > uint64(len(p.mem))-8 {
				return c.memFault(t, pc, budget, fp, 8)
			}
			r[isa.FP] = le.Uint64(at8(p.mem, off)[:])
			r[isa.SP] = fp + 8
			pc++
			continue

		case isa.BEQ:
			if r[ins.A()] == r[ins.B()] {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
			continue
		case isa.BNE:
			if r[ins.A()] != r[ins.B()] {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
			continue
		case isa.BLT:
			if int64(r[ins.A()]) < int64(r[ins.B()]) {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
			continue
		case isa.BGE:
			if int64(r[ins.A()]) >= int64(r[ins.B()]) {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
			continue
		case isa.BLTU:
			if r[ins.A()] < r[ins.B()] {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
			continue
		case isa.BGEU:
			if r[ins.A()] >= r[ins.B()] {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
			continue
		case isa.BEQZ:
			if r[ins.A()] == 0 {
				pc += int(ins.Imm20())
				goto check
			}
			pc++
			continue
		case isa.BNEZ:
			if r[ins.A()] != 0 {
				pc += int(ins.Imm20())
				goto check
			}
			pc++
			continue
		case isa.LOOP:
			a := ins.A()
			r[a]++
			if int64(r[a]) < int64(r[ins.B()]) {
				pc += int(ins.Imm16())
				goto check
			}
			pc++
			continue
		case isa.JMP:
			pc += int(ins.Imm24())
			goto check
		case isa.JR:
			d := codeIndex(r[ins.A()])
			if d >= uint64(len(code)) {
				return c.jumpFault(t, pc, budget, r[ins.A()])
			}
			pc = int(d)
			goto check
		case isa.CALL:
			sp := r[isa.SP] - 8
			off := sp - p.memBase
			if sp < t.StackLo || off > uint64(len(p.mem))-8 {
				return c.stackFault(t, pc, budget, sp)
			}
			le.PutUint64(at8(p.mem, off)[:], isa.TextBase+isa.InstrSize*uint64(pc+1))
			if marking {
				p.wrote(off, 8)
			}
			r[isa.SP] = sp
			pc += int(ins.Imm24())
			goto check
		case isa.CALLR:
			d := codeIndex(r[ins.A()])
			if d >= uint64(len(code)) {
				return c.jumpFault(t, pc, budget, r[ins.A()])
			}
			sp := r[isa.SP] - 8
			off := sp - p.memBase
			if sp < t.StackLo || off > uint64(len(p.mem))-8 {
				return c.stackFault(t, pc, budget, sp)
			}
			le.PutUint64(at8(p.mem, off)[:], isa.TextBase+isa.InstrSize*uint64(pc+1))
			if marking {
				p.wrote(off, 8)
			}
			r[isa.SP] = sp
			pc = int(d)
			goto check
		case isa.RET:
			sp := r[isa.SP]
			off := sp - p.memBase
			if off > uint64(len(p.mem))-8 {
				return c.memFault(t, pc, budget, sp, 8)
			}
			a := le.Uint64(at8(p.mem, off)[:])
			d := codeIndex(a)
			if d >= uint64(len(code)) {
				return c.jumpFault(t, pc, budget, a)
			}
			r[isa.SP] = sp + 8
			pc = int(d)
			if stepping && t == c.returnOf && sp >= c.returnSP {
				edge = c.returned()
			}
			goto check

		case isa.SYSCALL:
			if stepping && c.syscalls != nil && c.syscalls[ins.Uimm24()&127] {
				if c.skipSyscall != t {
					return c.stopBefore(t, pc, budget, StopSyscall)
				}
				c.skipSyscall = nil
			}
			// A syscall may block the thread, or end it, and return another one to run. The
			// thread's saved pc is the instruction after the syscall, where it resumes.
			t.PC = pc + 1
			c.retire(t, budget)
			next, err := c.syscall(t, isa.Syscall(ins.Uimm24()))
			if err != nil || next == nil {
				return syscallEnd(t, pc, err)
			}
			if next != t {
				t = next
				r = &t.R
			}
			pc = t.PC
			if uint(pc) >= uint(len(code)) {
				return c.badPC(t)
			}
			if stepping {
				edge = c.edge // a switch that Resume stops at moves it
			}
			goto check

		// The threads of a process share one virtual processor and switch only between
		// instructions, so a read-modify-write instruction is atomic as it stands.
		case isa.CAS:
			a := r[ins.B()]
			off := a - p.memBase
			if off > uint64(len(p.mem))-8 {
				return c.memFault(t, pc, budget, a, 8)
			}
			old := le.Uint64(at8(p.mem, off)[:])
			if old == r[ins.A()] {
				le.PutUint64(at8(p.mem, off)[:], r[ins.C()])
				if marking {
					p.wrote(off, 8)
				}
			}
			r[ins.A()] = old
			pc++
			continue
		case isa.XADD:
			a := r[ins.B()]
			off := a - p.memBase
			if off > uint64(len(p.mem))-8 {
				return c.memFault(t, pc, budget, a, 8)
			}
			old := le.Uint64(at8(p.mem, off)[:])
			le.PutUint64(at8(p.mem, off)[:], old+r[ins.C()])
			if marking {
				p.wrote(off, 8)
			}
			r[ins.A()] = old
			pc++
			continue

		default:
			if ins == breakWord {
				return c.stopBefore(t, pc, budget, StopBreakpoint)
			}
			return c.fault(t, pc, budget, isa.TrapIllegal, "")
		}

	check:
		if !preempt || budget > 0 {
			continue
		}
		t.PC = pc
		{
			next, err := c.checkpoint(t, budget)
			if err != nil {
				return err
			}
			if next != t {
				t = next
				r = &t.R
			}
		}
		pc = t.PC
		if uint(pc) >= uint(len(code)) {
			return c.badPC(t)
		}
		budget = c.slice()
		edge = c.edge
		if !stepping && c.exact {
			return c.toStepping(t)
		}
		continue

	stop:
		// Only in execStep: the budget reached the edge.
		t.PC = pc
		{
			next, err := c.edgeReached(t, budget)
			if err != nil {
				return err
			}
			if next != t {
				t = next
				r = &t.R
			}
		}
		pc = t.PC
		if uint(pc) >= uint(len(code)) {
			return c.badPC(t)
		}
		budget = c.carried()
		edge = c.edge
	}
}

// fetch returns the instruction at index pc of code, which must be inside it, without Go's
// bounds check. The loop keeps pc inside the code: the loader checks that every branch and
// call lands inside the text, a jump or a return checks its target where it jumps, the text
// ends with sentinels that no run goes past (see sentinelEnd), and a pc taken from a Thread,
// which an embedder may have written, is checked where the loop takes it. Dropping the check
// cut fib 25's host instructions by 3.1% (callgrind: 42.80 million to 41.48, start-up
// excluded).
func fetch(code []isa.Instr, pc int) isa.Instr {
	return *(*isa.Instr)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(code)), uintptr(pc)*4))
}

// at2, at4 and at8 return the 2, 4 or 8 bytes of mem at offset off, which the caller has
// checked: off+n <= len(mem).
//
// They do with a pointer what mem[off:off+n] does with a slice expression, minus the bounds
// checks, which would otherwise be made twice: once by the loop, which must check anyway to trap
// with the right report, and once more by Go. The loop's checks are the one place that keeps a
// program inside its memory, and FuzzDifferential compares them with the reference
// interpreter's. Dropping Go's second check cut the host instructions of programs/bench/fib.s by
// 11% (callgrind, fib 25: 64.8 million to 57.9 million, start-up excluded).
//
// They convert to a pointer to an array, not to a slice with unsafe.Slice, which checks that
// the slice does not wrap around the address space: five host instructions more on every load
// and store, and 16% more on fib 25 in all (callgrind: 57.1 million against 49.3 million,
// start-up excluded).
func at2(mem []byte, off uint64) *[2]byte {
	return (*[2]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(mem)), off))
}

func at4(mem []byte, off uint64) *[4]byte {
	return (*[4]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(mem)), off))
}

func at8(mem []byte, off uint64) *[8]byte {
	return (*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(mem)), off))
}

// codeIndex returns the index of the instruction at code address a, if a is a multiple of 4
// at or above the text; anything else comes out as a number that no code's length reaches.
// a-TextBase rotated right by two bits is the index when its two low bits are zero, and
// otherwise has one of them at the top: one comparison with the code's length checks both,
// where a test of the low bits and a shift took three host instructions more on every ret.
func codeIndex(a uint64) uint64 {
	return bits.RotateLeft64(a-isa.TextBase, -2)
}

// flag turns a comparison into 1 or 0; the compiler makes it a SETcc.
func flag(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// syscallEnd is how the loop returns after a syscall that ended the thread's slice. A trap leaves
// the thread as it was before the syscall, its pc included, as any trapping instruction does.
func syscallEnd(t *Thread, pc int, err error) error {
	if _, ok := err.(*TrapError); ok {
		t.PC = pc
	}
	return err
}

// leave is how the loop returns: it stores pc and retires the slice's steps.
func (c *cpu) leave(t *Thread, pc int, budget int64, err error) error {
	t.PC = pc
	c.retire(t, budget)
	return err
}
